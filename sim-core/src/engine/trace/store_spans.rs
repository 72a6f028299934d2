//! `--trace` spans of versioned stores' reads and writes (a child module
//! of `trace.rs`): a step span under the job, opened by `store.rs` once
//! it knows the version the operation saw or wrote, whether a conditional
//! write conflicted, and whether the store was down. The span closes like
//! any timed step's: when the latency's `WorkDone` moves the job on, when
//! the job fails (a conflict's or an outage's answer), or at once for an
//! operation without latency.
//!
//! Owns those spans' opening; must not change simulated state (a traced
//! run's other results are byte-identical to an untraced one's).

use super::super::World;
use super::super::ids::JobId;
use crate::trace::StepKind;

impl World<'_> {
    /// Job `j`'s store operation of `kind` starts now.
    #[inline]
    pub(in super::super) fn trace_store(&mut self, j: JobId, kind: StepKind) {
        if self.tracer.is_some() {
            self.trace_store_slow(j, kind);
        }
    }

    #[cold]
    fn trace_store_slow(&mut self, j: JobId, kind: StepKind) {
        self.open_step_span(j, kind);
    }
}
