//! Compiling accepted-and-poll: a `{ respond = "accepted" }` step and a
//! source's `poll = { status, every, max, timeout }`, whose polls become a
//! client call spec of their own (edge `CLIENT`, the status operation).
//!
//! Owns these keys' checks; must not decide how the engine answers early
//! or polls (the engine's `accepted.rs`).

use super::super::dto::{PollFile, RespondFile};
use super::{Builder, R, connect};
use crate::model::{CallSpec, OpId, Poll, Step};
use crate::scenario::KeyError;
use crate::scenario::values::positive_duration;
use crate::time::Nanos;

/// Polls before a client gives up when `max` is not given.
const DEFAULT_MAX_POLLS: u32 = 60;

impl Builder<'_> {
    /// The step `{ respond = ... }` written at `key`.
    pub(super) fn respond_step(&mut self, key: &str, respond: RespondFile) -> R<Step> {
        if self.in_miss {
            return Err(KeyError::new(
                format!("{key}.respond"),
                "a cache miss cannot answer early: put `respond` among the operation's own steps",
            ));
        }
        match respond {
            RespondFile::Accepted => Ok(Step::Accept),
        }
    }

    /// The polling of source `key` (targeting `op`), if it polls; its
    /// call spec is added to the model.
    pub(super) fn poll(
        &mut self,
        key: &str,
        op: OpId,
        poll: &Option<PollFile>,
        source_timeout: Option<Nanos>,
    ) -> R<Option<Poll>> {
        let Some(p) = poll else {
            return Ok(None);
        };
        let k = format!("{key}.poll");
        if !self
            .m
            .op_steps(op)
            .iter()
            .any(|s| matches!(s, Step::Accept))
        {
            return Err(KeyError::new(
                &k,
                "the target never answers `accepted`: give its operation a `{ respond = \"accepted\" }` step, or drop `poll`",
            ));
        }
        let status = self.resolve_target(&format!("{k}.status"), &p.status)?;
        let every = positive_duration(&format!("{k}.every"), &p.every)?;
        let max = p.max.unwrap_or(DEFAULT_MAX_POLLS);
        if max == 0 {
            return Err(KeyError::new(format!("{k}.max"), "must be at least 1"));
        }
        let timeout = match &p.timeout {
            Some(t) => Some(positive_duration(&format!("{k}.timeout"), t)?),
            None => source_timeout,
        };
        self.m.calls.push(CallSpec::new(None, status, timeout));
        self.m.call_sites.push(k.clone());
        self.m.connects.push(connect(&k, None, &None, None)?);
        Ok(Some(Poll {
            call: (self.m.calls.len() - 1) as u32,
            every,
            max,
        }))
    }
}
