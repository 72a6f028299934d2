//! Stale-while-revalidate: a key found past its TTL by less than the
//! cache's `stale_while_revalidate` is answered at once (a stale hit, the
//! caller goes on past the `Fill` as on any hit) and refilled in the
//! background by one refill job per key at a time.
//!
//! The refill is a request the replica sends itself, at the instant of
//! the stale hit (`Ev::RefillStart`, no hop): a job of the same service,
//! replica and criticality that runs the cache step's `miss` steps and its
//! `Fill`, then ends (answering nobody). It pays like any request of
//! that replica: it is counted as an arrival, takes a thread of the
//! replica's pool (or waits in its accept queue, or is refused when that
//! is full — then no refill runs, and the next stale hit tries again), its
//! calls load the services behind, and its time counts in the service's
//! figures. A refill that fails or is cut off fills nothing; the key stays
//! stale until its window ends, then misses as usual.
//!
//! Owns starting refills and knowing which are under way; must not run
//! steps (the refill job runs them as any job does) nor change the LRU
//! (that is `cache.rs`).

use super::World;
use super::event::Ev;
use super::ids::{JobId, TicketId};
use super::records::{Job, NEVER, Parent};

impl World<'_> {
    /// A stale hit on `key` of cache `c` (LRU `idx`) by `job`, whose
    /// cache step's `Fill` is step `fill`: a background refill, unless
    /// one of the key is under way.
    pub(super) fn revalidate(&mut self, job: &Job, c: usize, idx: usize, key: u32, fill: u32) {
        if let Some(&(r, generation)) = self.caches[c].refilling[idx].get(&key)
            && self.jobs[r].generation == generation
        {
            return; // coalesced: one refill per key in flight
        }
        let Some(op) = self
            .m
            .ops
            .iter()
            .position(|o| o.first_step <= fill && fill < o.first_step + o.step_count)
        else {
            return;
        };
        let parent = Parent::Detached {
            ticket: TicketId(u32::MAX),
            generation: 0,
        };
        let r = self.alloc_job(job.service, op as u32, parent, NEVER, job.class);
        let refill = &mut self.jobs[r];
        refill.replica = job.replica;
        // The miss steps (right after the cache step), through the fill.
        refill.step = job.step + 1;
        refill.end_step = fill + 1;
        let generation = refill.generation;
        *self.cache_key(r) = key;
        self.caches[c].refilling[idx].insert(key, (r, generation));
        self.rec.caches[c].refill();
        self.rec.count_arrival(job.service.index());
        self.schedule(self.now, Ev::RefillStart { job: r, generation });
    }

    /// Job `j` (of `generation`) filled `key` of cache `c`, LRU `idx`:
    /// if it was the key's refill, none is under way any more.
    pub(super) fn refilled(&mut self, c: usize, idx: usize, key: u32, job: (JobId, u32)) {
        let refilling = &mut self.caches[c].refilling[idx];
        if refilling.get(&key) == Some(&job) {
            refilling.remove(&key);
        }
    }
}
