//! Faults of a versioned store (a child module of `store.rs`): an
//! `outage` (every read and write fails its job with `Outcome::Error` —
//! the store answered an error, as a database that is down does; not a
//! `conflict`, which a policy retrying conflicts would retry as one) and a
//! `slowdown` (reads and writes take the factor times longer). An
//! operation during an outage still takes its latency: the caller waits
//! for the error. Its key is drawn all the same, so a fault moves no key
//! draw of later operations.
//!
//! Owns which store faults are in force and what an operation does during
//! an outage; must not change a version (an outage loses no committed
//! write: when it ends the versions are as they were).

use super::super::World;
use super::super::event::Ev;
use super::super::ids::JobId;
use super::super::records::Job;
use crate::model::FaultKind;
use crate::outcome::Outcome;

/// The faults of one store in force now.
#[derive(Clone, Copy, Debug)]
pub(super) struct InForce {
    /// Outages in force (they may overlap).
    pub(super) down: u32,
    /// The product of the slowdowns in force.
    pub(super) slow: f64,
}

impl Default for InForce {
    fn default() -> InForce {
        InForce { down: 0, slow: 1.0 }
    }
}

impl World<'_> {
    /// Recomputes store `s`'s faults in force now (a fault window just
    /// started or ended).
    pub(in super::super) fn store_fault(&mut self, s: usize) {
        let (now, m) = (self.now, self.m);
        let mut f = InForce::default();
        for fault in m.faults.iter().filter(|f| f.start <= now && now < f.end) {
            match fault.kind {
                FaultKind::StoreOutage { store } if store as usize == s => f.down += 1,
                FaultKind::StoreSlowdown { store, factor } if store as usize == s => {
                    f.slow *= factor;
                }
                _ => {}
            }
        }
        self.stores.faults[s] = f;
    }

    /// A read or write of `store` while it is down: job `j` fails with an
    /// error after the operation's latency. Returns `false` (the job does
    /// not go on).
    #[cold]
    pub(super) fn store_unavailable(&mut self, j: JobId, job: Job, store: usize, d: u32) -> bool {
        self.rec.stores.failed(store);
        let t = self.store_latency(store, d);
        if t == 0 {
            self.complete_job(j, Outcome::Error);
        } else {
            let generation = job.generation;
            self.schedule(self.at(t), Ev::StoreFailed { job: j, generation });
            self.yield_loop(j, job);
        }
        false
    }

    /// A failed operation's answer is back: the job fails.
    pub(in super::super) fn on_store_failed(&mut self, j: JobId) {
        if self.jobs[j].state == super::super::records::JobState::Running {
            self.complete_job(j, Outcome::Error);
        }
    }
}
