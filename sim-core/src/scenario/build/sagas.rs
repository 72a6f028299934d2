//! Compiling a `{ saga = "NAME" }` step: each saga step's `do` and `undo`
//! become call specs of the orchestrator (the service whose operation has
//! the step), with the usual per-call timeout and patterns.
//!
//! Owns the saga step's checks; the `[sagas]` table itself is checked in
//! `scenario/workflows.rs`. Must not decide how a saga runs (the engine's
//! `saga.rs`).

use super::super::dto::SagaCallFile;
use super::{Builder, R, connect};
use crate::model::{Model, SagaCalls, SagaSite, ServiceId, Step};
use crate::patterns::CallPolicyFile;
use crate::scenario::KeyError;

impl Builder<'_> {
    /// The step `{ saga = name }` written at `key` in service `sid`.
    pub(super) fn saga_step(&mut self, key: &str, sid: ServiceId, name: &str) -> R<Step> {
        let Some((index, _, saga)) = self.file.sagas.get_full(name) else {
            let known: Vec<&str> = self.file.sagas.keys().map(String::as_str).collect();
            return Err(KeyError::new(
                format!("{key}.saga"),
                if known.is_empty() {
                    format!("unknown saga `{name}` (declare it under [sagas.{name}])")
                } else {
                    format!("unknown saga `{name}` (sagas: {})", known.join(", "))
                },
            ));
        };
        if crate::scenario::workflows::is_choreographed(saga) {
            let first = saga.steps[0]
                .via
                .as_deref()
                .unwrap_or("its first step's queue");
            return Err(KeyError::new(
                format!("{key}.saga"),
                format!(
                    "saga `{name}` is choreographed: it starts with a message on `{first}`, not from a step (publish to `{first}` instead)"
                ),
            ));
        }
        let mut calls = Vec::with_capacity(saga.steps.len());
        for (i, st) in saga.steps.iter().enumerate() {
            let written = format!("sagas.{name}.steps.{i}");
            // Each reference compiles its own calls: the site names the
            // reference, so two orchestrators of one saga draw apart.
            let site = format!("{key}.saga.{i}");
            let act = self.saga_call(
                &format!("{written}.do"),
                &format!("{site}.do"),
                sid,
                &st.action,
            )?;
            let undo = match &st.undo {
                Some(u) => Some(self.saga_call(
                    &format!("{written}.undo"),
                    &format!("{site}.undo"),
                    sid,
                    u,
                )?),
                None => None,
            };
            calls.push(SagaCalls { act, undo });
        }
        self.m.saga_sites.push(SagaSite {
            saga: index as u32,
            calls,
        });
        Ok(Step::Saga((self.m.saga_sites.len() - 1) as u32))
    }

    /// One `do` or `undo` written at `key`: a call spec of `sid`, its
    /// identity (random streams) `site`.
    fn saga_call(&mut self, key: &str, site: &str, sid: ServiceId, c: &SagaCallFile) -> R<u32> {
        let (spec, read, connect_retries, connect_backoff) = match c {
            SagaCallFile::Target(t) => {
                // A wrong target is reported at the key as written.
                self.resolve_target(key, t)?;
                let (spec, read) = self.call(key, sid, t, &None, &CallPolicyFile::default())?;
                (spec, read, None, None)
            }
            SagaCallFile::Call(b) => {
                let policy = policy_of!(b);
                let (spec, read) = self.call(key, sid, &b.call, &b.timeout, &policy)?;
                (spec, read, b.connect_retries, b.connect_backoff.clone())
            }
        };
        self.m.calls.push(spec);
        self.m.call_sites.push(site.to_string());
        self.m
            .connects
            .push(connect(key, connect_retries, &connect_backoff, read)?);
        Ok((self.m.calls.len() - 1) as u32)
    }
}

/// The `do` call specs of saga step `site` (what a successful run calls).
pub(super) fn calls(m: &Model, site: u32) -> impl Iterator<Item = u32> + '_ {
    m.saga_sites[site as usize].calls.iter().map(|c| c.act)
}
