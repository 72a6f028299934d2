//! Compiling a publish step's producer batching, `linger` and `batch`
//! (Kafka's `linger.ms` and `batch.size`, the latter counted in records):
//! producer settings, so they are written on the `publish` step, not on
//! the log.
//!
//! Owns these keys' checks; must not decide how a batch is sent (the
//! engine's `log_batch.rs`).

use super::super::dto::StepFile;
use super::{Builder, R};
use crate::model::{ProducerBatching, Publish};
use crate::scenario::KeyError;
use crate::scenario::values::positive_duration;

/// Records per producer batch when `batch` is not written.
const DEFAULT_BATCH: u32 = 100;
/// Records a producer batch may hold at most.
const MAX_BATCH: u32 = 1_000_000;

/// `linger` and `batch` are refused on a step that publishes nothing.
pub(super) fn belongs_to_publish(key: &str, st: &StepFile) -> R<()> {
    let field = if st.linger.is_some() {
        "linger"
    } else if st.batch.is_some() {
        "batch"
    } else {
        return Ok(());
    };
    if st.publish.is_none() {
        return Err(KeyError::new(
            format!("{key}.{field}"),
            format!("`{field}` belongs to a `publish` step to a log (producer batching)"),
        ));
    }
    Ok(())
}

impl Builder<'_> {
    /// The producer batching of the publish step written at `key`, if it
    /// has one.
    pub(super) fn linger(
        &self,
        key: &str,
        p: &Publish,
        linger: Option<&str>,
        batch: Option<u32>,
    ) -> R<Option<ProducerBatching>> {
        let Some(text) = linger else {
            if batch.is_some() {
                return Err(KeyError::new(
                    format!("{key}.batch"),
                    "`batch` needs `linger` (how long a batch waits to fill), e.g. linger = \"5ms\"",
                ));
            }
            return Ok(None);
        };
        if p.log.is_none() {
            return Err(KeyError::new(
                format!("{key}.linger"),
                format!(
                    "`{}` is a queue or topic: producer batching (`linger`, `batch`) is for publishes to a log",
                    p.target
                ),
            ));
        }
        if p.outbox.is_some() {
            return Err(KeyError::new(
                format!("{key}.linger"),
                "an outbox publish is batched by its relay (`outbox.batch`): leave out `linger`",
            ));
        }
        let linger = positive_duration(&format!("{key}.linger"), text)?;
        let batch = batch.unwrap_or(DEFAULT_BATCH);
        if batch == 0 || batch > MAX_BATCH {
            return Err(KeyError::new(
                format!("{key}.batch"),
                format!("must be 1..={MAX_BATCH} records, got {batch}"),
            ));
        }
        Ok(Some(ProducerBatching { linger, batch }))
    }
}
