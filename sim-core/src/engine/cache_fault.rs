//! Cache faults: an `outage` (every lookup fails: with `on_error = "miss"`
//! it is a miss that runs the miss steps, whose fill keeps nothing; with
//! `on_error = "fail"` the request fails) and a `slowdown` (lookups take
//! the factor times longer). A lookup during an outage still takes its
//! latency: the caller waits for the error.
//!
//! Owns which cache faults are in force and what a lookup does during an
//! outage; must not change a cache's contents (an outage keeps them: when
//! it ends the keys held before are found again).

use super::World;
use super::event::Ev;
use super::ids::JobId;
use super::records::Job;
use crate::model::FaultKind;
use crate::time::Nanos;

impl World<'_> {
    /// Recomputes cache `c`'s faults in force now (a fault window just
    /// started or ended).
    pub(super) fn cache_fault(&mut self, c: usize) {
        let (now, m) = (self.now, self.m);
        let st = &mut self.caches[c];
        (st.down, st.fail, st.slow) = (0, false, 1.0);
        for f in m
            .faults
            .iter()
            .filter(|f| f.cache == Some(c as u32) && f.start <= now && now < f.end)
        {
            match f.kind {
                FaultKind::CacheOutage { fail } => {
                    st.down += 1;
                    st.fail |= fail;
                }
                FaultKind::CacheSlowdown(x) => st.slow *= x,
                _ => {}
            }
        }
    }

    /// One lookup's latency, stretched by a slowdown in force.
    pub(super) fn lookup_latency(&mut self, c: usize) -> Nanos {
        let d = self.m.caches[c].lookup;
        let t = self.m.dists[d as usize].sample(&mut self.caches[c].lookup_rng);
        let slow = self.caches[c].slow;
        if slow == 1.0 {
            t
        } else {
            (t as f64 * slow).round() as Nanos
        }
    }

    /// A lookup while cache `c` is down: after its latency, job `j` goes
    /// into the miss steps (no single-flight: nothing to wait on) or
    /// fails. Returns `true` when it goes straight on.
    #[cold]
    pub(super) fn lookup_in_outage(&mut self, j: JobId, job: Job, c: usize) -> bool {
        let fail = self.caches[c].fail;
        self.rec.caches[c].lookup_in_outage();
        let t = self.lookup_latency(c);
        let generation = job.generation;
        if fail {
            self.schedule(self.at(t), Ev::FillFailed { job: j, generation });
        } else if t == 0 {
            self.jobs[j].step = job.step + 1;
            return true;
        } else {
            // `WorkDone` moves the job one step on, into the miss steps.
            self.jobs[j].step = job.step;
            self.schedule(self.at(t), Ev::WorkDone { job: j, generation });
        }
        self.yield_loop(j, job);
        false
    }
}
