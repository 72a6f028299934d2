//! Accepted-and-poll figures, per polling source: requests answered
//! `accepted`, polls sent and failed, clients that gave up, asynchronous
//! work that failed, the time to the accepted answer and the work's time
//! after it. The entry's own outcomes and latency (time to result) are
//! recorded as for any request, when the result is known.
//!
//! Owns the counting; must not poll (the engine's `accepted.rs` does and
//! tells it what happened). Only requests that arrived after the warm-up
//! count, as for the entries.

use super::{Histogram, latency_of};
use crate::model::Model;
use crate::output::PollSummary;
use crate::time::{Nanos, millis};

#[derive(Clone, Debug, Default)]
pub struct PollStats {
    accepted: u64,
    polls: u64,
    polls_failed: u64,
    gave_up: u64,
    async_failed: u64,
    accepted_latency: Histogram,
    accepted_sum: u128,
    work: Histogram,
    work_sum: u128,
}

/// One per source when some source polls, none otherwise.
pub fn for_model(m: &Model) -> Vec<PollStats> {
    if m.sources.iter().any(|s| s.poll.is_some()) {
        vec![PollStats::default(); m.sources.len()]
    } else {
        Vec::new()
    }
}

impl PollStats {
    /// The request sent at `sent` was answered `accepted` after `latency`.
    pub fn accepted(&mut self, latency: Nanos) {
        self.accepted += 1;
        self.accepted_latency.record(latency);
        self.accepted_sum += u128::from(latency);
    }

    pub fn poll_sent(&mut self) {
        self.polls += 1;
    }

    pub fn poll_failed(&mut self) {
        self.polls_failed += 1;
    }

    pub fn gave_up(&mut self) {
        self.gave_up += 1;
    }

    /// A poll saw the work done, `work` after the accepted answer.
    pub fn result_seen(&mut self, work: Nanos, failed: bool) {
        self.work.record(work);
        self.work_sum += u128::from(work);
        if failed {
            self.async_failed += 1;
        }
    }

    pub fn summary(&self, m: &Model, source: usize, measured_s: f64) -> Option<PollSummary> {
        let poll = m.sources[source].poll?;
        let op = &m.ops[m.calls[poll.call as usize].op as usize];
        let svc = &m.services[op.service];
        let status = if svc.ops.len() == 1 {
            svc.name.clone()
        } else {
            format!("{}.{}", svc.name, op.name)
        };
        Some(PollSummary {
            status,
            every_ms: millis(poll.every),
            accepted: self.accepted,
            polls: self.polls,
            polls_per_request: if self.accepted == 0 {
                0.0
            } else {
                self.polls as f64 / self.accepted as f64
            },
            poll_rps: if measured_s > 0.0 {
                self.polls as f64 / measured_s
            } else {
                0.0
            },
            polls_failed: self.polls_failed,
            gave_up: self.gave_up,
            async_failed: self.async_failed,
            accepted_ms: latency_of(&self.accepted_latency, self.accepted_sum),
            work_ms: latency_of(&self.work, self.work_sum),
        })
    }
}
