//! Prefetch hints on wide models: when an event is scheduled, ask for the
//! cache lines its handler will read.
//!
//! At thousands of services a service's records (its model, replica,
//! figures, random stream, the call spec and pattern state of its next
//! call) are rarely in cache when its next request comes, and the handler
//! used to take their misses one after another. An event is scheduled a
//! hop or a work step ahead, which is tens of events ahead in the run: a
//! hint given then is fetched while those run. Only lines the handler
//! reads for sure (or nearly) are asked for; a hint changes no result.
//!
//! Off (`World::prefetching` false) below `PREFETCH_FROM` services, where
//! everything stays in cache and a hint would only cost instructions.
//! Owns which lines to ask for; must not change state.

use ::prefetch::{line, lines};

use super::World;
use super::ids::{AttemptId, JobId};
use crate::model::Step;

/// Services from which a model's records outgrow the cache (about 2 KiB
/// each across model, replica and figures: 256 of them fill half a
/// 1 MiB L2).
pub(super) const PREFETCH_FROM: usize = 256;

/// Parallel calls hinted at most (a wide fan-out would ask for more lines
/// than the cache keeps until they are read).
const PARALLEL_HINTS: u32 = 4;

impl World<'_> {
    /// An arrival of job `j`, a hop from now: its service's model line, the
    /// replica's first two lines, its figures' request lines, its work
    /// stream and its first step.
    #[inline(never)]
    pub(super) fn prefetch_arrival(&self, j: JobId) {
        let job = &self.jobs[j];
        let s = job.service.index();
        lines(&self.m.services[s], 2);
        lines(self.replicas[s].as_ptr(), 2);
        for p in self.rec.services[s].request_lines() {
            lines(p, 1);
        }
        line(&self.work_rng[s]);
        line(&self.m.steps[job.step as usize]);
    }

    /// Job `j`'s work step ends a step's time from now; if the step after
    /// it is a call (or calls in parallel, up to `PARALLEL_HINTS` of them),
    /// what starting each reads: the call spec, its pattern state, the
    /// edge's figures and stream.
    #[inline(never)]
    pub(super) fn prefetch_after_work(&self, j: JobId) {
        let job = &self.jobs[j];
        let specs = match self.m.steps.get(job.step as usize + 1) {
            Some(&Step::Call(spec)) => spec..spec + 1,
            Some(&Step::Parallel { first, count }) => first..first + count.min(PARALLEL_HINTS),
            _ => return,
        };
        for spec in specs {
            let c = &self.m.calls[spec as usize];
            lines(c, 2);
            let slot = self.pattern_base[spec as usize] + job.replica;
            if let Some(p) = self.patterns.get(slot as usize) {
                line(p);
            }
            if let Some(e) = c.edge {
                line(&self.rec.edges[e]);
                line(&self.edge_rng[e.index()]);
                line(&self.in_flight[e.index()]);
            }
        }
    }

    /// The answer to `attempt` lands a hop from now: the call's pattern
    /// state and its caller's figures (where the answer ends the caller's
    /// job, its sojourn is recorded).
    #[inline(never)]
    pub(super) fn prefetch_reply(&self, attempt: AttemptId) {
        let call = &self.calls[self.attempts[attempt].call];
        if let Some(p) = self.patterns.get(call.slot as usize) {
            line(p);
        }
        if let super::records::Caller::Job { job, .. } = call.caller {
            let s = self.jobs[job].service.index();
            for p in self.rec.services[s].request_lines() {
                lines(p, 1);
            }
            lines(self.replicas[s].as_ptr(), 2);
        }
    }
}
