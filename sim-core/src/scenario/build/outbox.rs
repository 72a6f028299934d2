//! Compiling a publish step's `outbox = { every, batch }`: one outbox per
//! producing service (a table in its database), so every outbox publish
//! of a service names the same relay settings.
//!
//! Owns these keys' checks; must not decide how the relay runs (the
//! engine's `outbox.rs`).

use super::super::dto::OutboxFile;
use super::super::values::positive_duration;
use super::{Builder, R};
use crate::model::{Outbox, ServiceId};
use crate::scenario::KeyError;

/// Records per relay poll when `batch` is not written.
const DEFAULT_BATCH: u32 = 100;

impl Builder<'_> {
    /// The outbox of the publish step written at `key` in service `sid`,
    /// if it has one.
    pub(super) fn outbox(
        &mut self,
        key: &str,
        sid: ServiceId,
        file: Option<&OutboxFile>,
    ) -> R<Option<u32>> {
        let Some(f) = file else {
            return Ok(None);
        };
        let every = positive_duration(&format!("{key}.outbox.every"), &f.every)?;
        let batch = f.batch.unwrap_or(DEFAULT_BATCH);
        if batch == 0 {
            return Err(KeyError::new(
                format!("{key}.outbox.batch"),
                "a relay sends at least one record per poll",
            ));
        }
        if let Some(i) = self.m.outboxes.iter().position(|o| o.service == sid) {
            let o = &self.m.outboxes[i];
            if o.every != every || o.batch != batch {
                return Err(KeyError::new(
                    format!("{key}.outbox"),
                    "a service has one outbox and one relay: give every outbox publish of this service the same `every` and `batch`",
                ));
            }
            return Ok(Some(i as u32));
        }
        self.m.outboxes.push(Outbox {
            service: sid,
            every,
            batch,
        });
        Ok(Some((self.m.outboxes.len() - 1) as u32))
    }
}
