//! Versioned stores: optimistic concurrency control.
//!
//! A `read` step draws a key from its own stream (by where the step is
//! written, as a cache step does) and keeps the key and its version in the
//! job; a `write` step writes that key (or draws its own, with no read
//! before it), bumping its version. A conditional write whose key's
//! version moved since the job's read fails the job with
//! `Outcome::Conflict` — the caller's retry policy may retry it
//! (`retry_on = ["conflict"]`), and the retried call runs the callee's
//! steps again, reading afresh. Both steps take effect at their start and
//! then wait their store's latency (an I/O wait: no core; an event loop
//! moves on); a conflict's answer comes back after the write's latency.
//!
//! A store's faults (`store_fault.rs`, a child module): during an outage a
//! read or write fails its job with `Outcome::Error` after its latency; a
//! slowdown stretches both latencies.
//!
//! Owns the versions and the jobs' reads; must not run steps other than
//! its own (the job goes on through `WorkDone`, or fails here).

use crate::rng::Stream;

use super::World;
use super::cache::Keys;
use super::event::Ev;
use super::ids::JobId;
use super::records::{Job, JobState};
use crate::model::Model;
use crate::outcome::Outcome;
use crate::rng::stream;
use crate::time::Nanos;
use crate::trace::StepKind;

#[path = "store_fault.rs"]
mod fault;

/// A read as a job keeps it: the key and the version it saw.
#[derive(Clone, Copy, Debug, Default)]
struct Read {
    key: u32,
    version: u32,
}

/// Every store's versions and the jobs' reads (empty without stores).
#[derive(Default)]
pub(super) struct Stores {
    /// Per store, per key: the version, bumped by each committed write
    /// (wrapping: a read and its write compare for equality).
    versions: Vec<Vec<u32>>,
    keys: Vec<Keys>,
    /// Per store: its read and write latencies' stream.
    latency_rng: Vec<Stream>,
    /// Per store step: its key stream.
    key_rng: Vec<Stream>,
    /// Per job slot × store: the job's latest read of that store.
    reads: Vec<Read>,
    /// Per store: the faults in force (`store_fault.rs`).
    faults: Vec<fault::InForce>,
}

impl Stores {
    pub(super) fn new(m: &Model, seed: u64) -> Stores {
        if m.stores.is_empty() {
            return Stores::default();
        }
        Stores {
            versions: m.stores.iter().map(|s| vec![0; s.keys as usize]).collect(),
            keys: m.stores.iter().map(|s| Keys::new(s.keys, s.zipf)).collect(),
            latency_rng: m
                .stores
                .iter()
                .map(|s| stream(seed, &crate::streams::store_latency(&s.name)))
                .collect(),
            key_rng: m
                .store_steps
                .iter()
                .map(|s| stream(seed, &crate::streams::store_keys(&s.site)))
                .collect(),
            reads: Vec::new(),
            faults: vec![fault::InForce::default(); m.stores.len()],
        }
    }

    /// Job slot `j`'s read of store `store`.
    fn read_of(&mut self, j: JobId, store: usize) -> &mut Read {
        let n = self.versions.len();
        let i = j.0 as usize * n + store;
        if self.reads.len() <= i {
            self.reads
                .resize((i + 1).max(self.reads.len() * 2), Read::default());
        }
        &mut self.reads[i]
    }
}

impl World<'_> {
    /// A `read` step: the key's version now goes with the job. Returns
    /// `true` when the job goes straight on (no latency).
    pub(super) fn store_read(&mut self, j: JobId, job: Job, step: u32) -> bool {
        let store = self.m.store_steps[step as usize].store as usize;
        let st = &mut self.stores;
        let key = st.keys[store].draw(&mut st.key_rng[step as usize]);
        let latency = self.m.stores[store].read;
        let store_id = store as u32;
        if st.faults[store].down > 0 {
            self.trace_store(
                j,
                StepKind::StoreRead {
                    store: store_id,
                    version: 0,
                    unavailable: true,
                },
            );
            return self.store_unavailable(j, job, store, latency);
        }
        let version = st.versions[store][key as usize];
        *st.read_of(j, store) = Read { key, version };
        self.trace_store(
            j,
            StepKind::StoreRead {
                store: store_id,
                version,
                unavailable: false,
            },
        );
        self.rec.stores.read(store);
        self.store_wait(j, job, store, latency)
    }

    /// A `write` step: commit (bump the version), or, conditional on a
    /// version that moved, fail the job with a conflict. Returns `true`
    /// when the job goes straight on.
    pub(super) fn store_write(&mut self, j: JobId, job: Job, step: u32) -> bool {
        let m = self.m;
        let s = &m.store_steps[step as usize];
        let (store, conditional) = (s.store as usize, s.conditional);
        let st = &mut self.stores;
        let key = if s.after_read {
            st.read_of(j, store).key
        } else {
            st.keys[store].draw(&mut st.key_rng[step as usize])
        };
        let latency = m.stores[store].write;
        let write = |version: u32, conflict: bool, unavailable: bool| StepKind::StoreWrite {
            store: store as u32,
            version,
            conditional,
            conflict,
            unavailable,
        };
        if st.faults[store].down > 0 {
            self.trace_store(j, write(0, false, true));
            return self.store_unavailable(j, job, store, latency);
        }
        let now = st.versions[store][key as usize];
        if conditional && st.read_of(j, store).version != now {
            self.trace_store(j, write(now, true, false));
            self.rec.stores.conflict(store, job.service.index());
            let t = self.store_latency(store, latency);
            if t == 0 {
                self.complete_job(j, Outcome::Conflict);
            } else {
                let generation = job.generation;
                self.schedule(self.at(t), Ev::WriteConflict { job: j, generation });
                self.yield_loop(j, job);
            }
            return false;
        }
        let next = now.wrapping_add(1);
        st.versions[store][key as usize] = next;
        // The writer knows the version it wrote (an ETag): a later
        // conditional write of its own compares with it.
        if s.after_read {
            st.read_of(j, store).version = next;
        }
        self.rec.stores.write(store, conditional, now == 0);
        self.trace_store(j, write(next, false, false));
        self.store_wait(j, job, store, latency)
    }

    /// A conflict's answer is back: the job fails.
    pub(super) fn on_write_conflict(&mut self, j: JobId) {
        if self.jobs[j].state == JobState::Running {
            self.complete_job(j, Outcome::Conflict);
        }
    }

    /// One draw of latency `d` of `store` (its reads and writes share
    /// one stream), stretched by a slowdown in force.
    fn store_latency(&mut self, store: usize, d: u32) -> Nanos {
        let t = self.m.dists[d as usize].sample(&mut self.stores.latency_rng[store]);
        let slow = self.stores.faults[store].slow;
        if slow == 1.0 {
            t
        } else {
            (t as f64 * slow).round() as Nanos
        }
    }

    /// After a read or a committed write: on at once, or after the
    /// latency (`WorkDone` moves the job one step on).
    fn store_wait(&mut self, j: JobId, job: Job, store: usize, latency: u32) -> bool {
        let t = self.store_latency(store, latency);
        if t == 0 {
            self.trace_step_end(j);
            self.jobs[j].step += 1;
            return true;
        }
        let generation = job.generation;
        self.schedule(self.at(t), Ev::WorkDone { job: j, generation });
        self.yield_loop(j, job);
        false
    }
}
