//! Caches: an exact LRU with a TTL per key, looked up by `cache` steps.
//!
//! A `cache` step draws a key from its own stream (by where the step is
//! written), looks it up — the answer is as of the lookup's start; the
//! job then waits the lookup latency (an I/O wait: no core, an event loop
//! moves on) — and goes on past its `Fill` on a hit, or into its miss
//! steps on a miss. `Fill` puts the key at the front, evicting the least
//! recently used key when full. An expired key found by a lookup is
//! removed and is a miss — unless the cache has `stale_while_revalidate`
//! and the key expired less than that long ago: then it is a stale hit,
//! kept where it is and refilled in the background (`cache_stale.rs`). A
//! remote cache is one LRU; a local one is one per replica of its
//! service, emptied when the replica crashes.
//!
//! Owns the caches' contents and the key draws; must not run steps other
//! than moving a job to its hit or miss path.

use std::collections::BTreeMap;

use crate::rng::Stream;
use rand_distr::Distribution;

use super::World;
use super::event::Ev;
use super::ids::JobId;
use super::records::Job;
use crate::model::{Cache, Model, ServiceId};
use crate::rng::stream;
use crate::time::Nanos;

const NIL: u32 = u32::MAX;

/// An LRU over at most `capacity` keys of `0..keys`, each with its expiry.
/// Memory: 4 bytes per key of the space plus 20 per slot.
pub(super) struct Lru {
    capacity: u32,
    /// Per key: its slot + 1, or 0 when absent.
    slot_of: Vec<u32>,
    key: Vec<u32>,
    expires: Vec<Nanos>,
    prev: Vec<u32>,
    next: Vec<u32>,
    /// Most recently used.
    head: u32,
    /// Least recently used: the next eviction.
    tail: u32,
    len: u32,
    free: Vec<u32>,
}

/// What a lookup found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Found {
    Hit,
    Miss,
    /// Present but past its TTL: removed, and a miss.
    Expired,
    /// Past its TTL by less than the stale window: kept, and a hit (the
    /// most recently used, its expiry unchanged).
    Stale,
}

impl Lru {
    fn new(capacity: u32, keys: u32) -> Lru {
        let slots = capacity.min(keys) as usize;
        Lru {
            capacity: capacity.min(keys),
            slot_of: vec![0; keys as usize],
            key: Vec::with_capacity(slots.min(1 << 16)),
            expires: Vec::with_capacity(slots.min(1 << 16)),
            prev: Vec::with_capacity(slots.min(1 << 16)),
            next: Vec::with_capacity(slots.min(1 << 16)),
            head: NIL,
            tail: NIL,
            len: 0,
            free: Vec::new(),
        }
    }

    pub(super) fn len(&self) -> u32 {
        self.len
    }

    fn unlink(&mut self, s: u32) {
        let (p, n) = (self.prev[s as usize], self.next[s as usize]);
        if p == NIL {
            self.head = n;
        } else {
            self.next[p as usize] = n;
        }
        if n == NIL {
            self.tail = p;
        } else {
            self.prev[n as usize] = p;
        }
    }

    fn push_front(&mut self, s: u32) {
        self.prev[s as usize] = NIL;
        self.next[s as usize] = self.head;
        if self.head != NIL {
            self.prev[self.head as usize] = s;
        }
        self.head = s;
        if self.tail == NIL {
            self.tail = s;
        }
    }

    fn remove(&mut self, s: u32) {
        self.unlink(s);
        self.slot_of[self.key[s as usize] as usize] = 0;
        self.free.push(s);
        self.len -= 1;
    }

    /// Looks `key` up at `now`; a hit becomes the most recently used. A
    /// key expired less than `stale` ago is a stale hit (0: never).
    pub(super) fn get(&mut self, key: u32, now: Nanos, stale: Nanos) -> Found {
        let s = self.slot_of[key as usize];
        if s == 0 {
            return Found::Miss;
        }
        let s = s - 1;
        let expires = self.expires[s as usize];
        let found = if expires > now {
            Found::Hit
        } else if now < expires.saturating_add(stale) {
            Found::Stale
        } else {
            self.remove(s);
            return Found::Expired;
        };
        self.unlink(s);
        self.push_front(s);
        found
    }

    /// Puts `key` at the front until `expires`; returns whether a key was
    /// evicted to make room.
    pub(super) fn put(&mut self, key: u32, expires: Nanos) -> bool {
        let s = self.slot_of[key as usize];
        if s != 0 {
            let s = s - 1;
            self.expires[s as usize] = expires;
            self.unlink(s);
            self.push_front(s);
            return false;
        }
        let mut evicted = false;
        if self.len == self.capacity {
            self.remove(self.tail);
            evicted = true;
        }
        let s = match self.free.pop() {
            Some(s) => {
                self.key[s as usize] = key;
                self.expires[s as usize] = expires;
                s
            }
            None => {
                self.key.push(key);
                self.expires.push(expires);
                self.prev.push(NIL);
                self.next.push(NIL);
                (self.key.len() - 1) as u32
            }
        };
        self.slot_of[key as usize] = s + 1;
        self.push_front(s);
        self.len += 1;
        evicted
    }

    /// Every key gone; returns how many there were.
    pub(super) fn clear(&mut self) -> u32 {
        let n = self.len;
        let mut s = self.head;
        while s != NIL {
            let next = self.next[s as usize];
            self.slot_of[self.key[s as usize] as usize] = 0;
            self.free.push(s);
            s = next;
        }
        self.head = NIL;
        self.tail = NIL;
        self.len = 0;
        n
    }
}

/// How a cache step (or a store's step, `store.rs`) draws its keys.
pub(super) enum Keys {
    Uniform(u32),
    /// Key k (0-based) with probability ∝ 1 / (k + 1)^s.
    Zipf(rand_distr::Zipf<f64>),
}

impl Keys {
    /// `count` keys, uniform or by Zipf's law with exponent `zipf`
    /// (checked by the scenario: finite, in (0, 10]).
    pub(super) fn new(count: u32, zipf: Option<f64>) -> Keys {
        match zipf {
            Some(s) => {
                Keys::Zipf(rand_distr::Zipf::new(f64::from(count), s).expect("checked by build"))
            }
            None => Keys::Uniform(count),
        }
    }

    /// One key, 0-based.
    pub(super) fn draw(&self, rng: &mut Stream) -> u32 {
        match self {
            Keys::Uniform(n) => rand::RngExt::random_range(rng, 0..*n),
            Keys::Zipf(z) => (z.sample(rng) as u32).saturating_sub(1),
        }
    }
}

/// A cache's live state: its LRUs (one, or one per replica of its
/// service) and the stream of its lookup latencies.
pub(super) struct CacheState {
    pub lrus: Vec<Lru>,
    /// Per LRU, with `coalesce`: the keys whose fill is under way, with
    /// the filling job and the jobs waiting for it.
    pending: Vec<BTreeMap<u32, Pending>>,
    /// Per LRU, with `stale_while_revalidate`: the keys whose background
    /// refill was started, with its job (and generation: a refill that
    /// ended without filling is no longer its job's).
    pub refilling: Vec<BTreeMap<u32, (JobId, u32)>>,
    pub lookup_rng: Stream,
    keys: Keys,
    /// Cache faults in force (`cache_fault.rs`): outages, whether one of
    /// them fails its lookups, the lookup latency's factor.
    pub down: u32,
    pub fail: bool,
    pub slow: f64,
}

/// A fill under way on a coalescing cache: (job, generation) of the
/// miss that fills, and of the misses waiting for it.
struct Pending {
    filler: (JobId, u32),
    waiters: Vec<(JobId, u32)>,
}

/// The caches of `m`, empty, and each cache step's key stream.
pub(super) fn states(m: &Model, seed: u64) -> (Vec<CacheState>, Vec<Stream>) {
    let caches = m
        .caches
        .iter()
        .map(|c: &Cache| {
            let n = match c.local {
                Some(s) if s.index() < m.services.len() => m.services[s].replicas,
                _ => 1,
            };
            CacheState {
                lrus: (0..n).map(|_| Lru::new(c.capacity, c.keys)).collect(),
                pending: (0..n).map(|_| BTreeMap::new()).collect(),
                refilling: (0..n).map(|_| BTreeMap::new()).collect(),
                lookup_rng: stream(seed, &crate::streams::cache_lookup(&c.name)),
                keys: Keys::new(c.keys, c.zipf),
                down: 0,
                fail: false,
                slow: 1.0,
            }
        })
        .collect();
    let rngs = m
        .cache_steps
        .iter()
        .map(|cs| stream(seed, &crate::streams::cache_keys(&cs.site)))
        .collect();
    (caches, rngs)
}

impl World<'_> {
    /// Job `j`'s key, kept beside the job (only models with caches pay).
    pub(super) fn cache_key(&mut self, j: JobId) -> &mut u32 {
        let i = j.0 as usize;
        if self.cache_keys.len() <= i {
            self.cache_keys.resize(self.jobs.len().max(i + 1), 0);
        }
        &mut self.cache_keys[i]
    }

    /// Which LRU of cache `c` job `job` uses.
    pub(super) fn lru_index(&self, c: usize, job: &Job) -> usize {
        if self.caches[c].lrus.len() > 1 {
            job.replica as usize
        } else {
            0
        }
    }

    /// A `cache` step: draw the key, look it up, and go on along the hit
    /// or miss path after the lookup latency. Returns `true` when the job
    /// goes straight on (no latency), `false` when it waits.
    pub(super) fn cache_lookup(&mut self, j: JobId, job: Job, step: u32) -> bool {
        let cs = &self.m.cache_steps[step as usize];
        let (c, fill) = (cs.cache as usize, cs.fill);
        let key = self.caches[c]
            .keys
            .draw(&mut self.cache_key_rng[step as usize]);
        *self.cache_key(j) = key;
        if self.caches[c].down > 0 {
            return self.lookup_in_outage(j, job, c);
        }
        let now = self.now;
        let idx = self.lru_index(c, &job);
        let stale = self.m.caches[c].stale;
        let found = self.caches[c].lrus[idx].get(key, now, stale);
        let hit = matches!(found, Found::Hit | Found::Stale);
        let stats = &mut self.rec.caches[c];
        stats.lookup(hit, found == Found::Expired);
        if found == Found::Expired {
            stats.resident -= 1;
        }
        if found == Found::Stale {
            stats.stale_hit();
            self.revalidate(&job, c, idx, key, fill);
        }
        if !hit && self.m.caches[c].coalesce && self.coalesce(j, job, c, idx, key) {
            return false;
        }
        // A hit goes on past the `Fill`; a miss into its miss steps.
        let next = if hit { fill + 1 } else { job.step + 1 };
        let t = self.lookup_latency(c);
        if t == 0 {
            self.jobs[j].step = next;
            return true;
        }
        // `WorkDone` moves the job one step on.
        self.jobs[j].step = next - 1;
        let generation = job.generation;
        self.schedule(self.at(t), Ev::WorkDone { job: j, generation });
        self.yield_loop(j, job);
        false
    }

    /// A miss's steps are done: the key goes in.
    pub(super) fn cache_fill(&mut self, j: JobId, job: Job, step: u32) {
        let c = self.m.cache_steps[step as usize].cache as usize;
        let key = *self.cache_key(j);
        let idx = self.lru_index(c, &job);
        // A cache that is down keeps nothing (waiters of a fill begun
        // before the outage still get the filler's answer).
        if self.caches[c].down == 0 {
            let expires = self.m.caches[c].ttl.map_or(Nanos::MAX, |t| self.at(t));
            let lru = &mut self.caches[c].lrus[idx];
            let before = lru.len();
            let evicted = lru.put(key, expires);
            let after = lru.len();
            let stats = &mut self.rec.caches[c];
            stats.fill(evicted);
            stats.resident += i64::from(after) - i64::from(before);
        }
        if self.m.caches[c].stale > 0 {
            self.refilled(c, idx, key, (j, job.generation));
        }
        if self.jobs[j].filling {
            self.jobs[j].filling = false;
            let fill = self.m.cache_steps[step as usize].fill;
            for (w, generation) in self.take_waiters(c, idx, key, (j, job.generation)) {
                // The waiter goes on past the fill, as on a hit (by an
                // event at this instant: no recursion through waiters).
                self.jobs[w].step = fill + 1;
                self.schedule(self.now, Ev::Delivered { job: w, generation });
            }
        }
    }

    /// A miss on a coalescing cache: if a fill of `key` is under way, job
    /// `j` waits for it (returns `true`); else `j` becomes its filler.
    fn coalesce(&mut self, j: JobId, job: Job, c: usize, idx: usize, key: u32) -> bool {
        let pending = &mut self.caches[c].pending[idx];
        if let Some(p) = pending.get_mut(&key) {
            p.waiters.push((j, job.generation));
            self.rec.caches[c].coalesced();
            self.yield_loop(j, job);
            return true;
        }
        pending.insert(
            key,
            Pending {
                filler: (j, job.generation),
                waiters: Vec::new(),
            },
        );
        self.jobs[j].filling = true;
        false
    }

    /// The waiters of `key`'s fill by `filler`, which is no longer under
    /// way.
    fn take_waiters(
        &mut self,
        c: usize,
        idx: usize,
        key: u32,
        filler: (JobId, u32),
    ) -> Vec<(JobId, u32)> {
        let pending = &mut self.caches[c].pending[idx];
        match pending.get(&key) {
            Some(p) if p.filler == filler => pending.remove(&key).expect("present").waiters,
            _ => Vec::new(),
        }
    }

    /// Job `j` ends (fails, or is cut off) before filling the key others
    /// wait for: they fail with it (single-flight shares the outcome).
    #[cold]
    pub(super) fn abandon_fill(&mut self, j: JobId, job: Job) {
        self.jobs[j].filling = false;
        let key = *self.cache_key(j);
        for c in 0..self.m.caches.len() {
            if !self.m.caches[c].coalesce {
                continue;
            }
            let idx = self.lru_index(c, &job);
            for (w, generation) in self.take_waiters(c, idx, key, (j, job.generation)) {
                self.schedule(self.now, Ev::FillFailed { job: w, generation });
            }
        }
    }

    /// A coalesced miss's filler failed: so does the waiter.
    pub(super) fn on_fill_failed(&mut self, w: JobId) {
        if self.jobs[w].state == super::records::JobState::Running {
            self.complete_job(w, crate::outcome::Outcome::Error);
        }
    }

    /// Empties cache `c` (one replica's, for a local cache, or all).
    pub(super) fn flush_cache(&mut self, c: usize, replica: Option<u32>) {
        let gone = self.empty_lrus(c, replica);
        self.rec.caches[c].flushed(gone);
    }

    /// A crash empties the local caches of the replicas hit.
    pub(super) fn crash_local_caches(&mut self, s: usize, only: Option<u32>) {
        for c in 0..self.m.caches.len() {
            if self.m.caches[c].local == Some(ServiceId::at(s)) {
                self.empty_lrus(c, only);
            }
        }
    }

    /// Clears cache `c`'s LRUs (only replica `only`'s, if given) and
    /// returns how many keys went.
    fn empty_lrus(&mut self, c: usize, only: Option<u32>) -> u32 {
        let mut gone = 0;
        for (r, lru) in self.caches[c].lrus.iter_mut().enumerate() {
            if only.is_none_or(|x| x as usize == r) {
                gone += lru.clear();
            }
        }
        self.rec.caches[c].resident -= i64::from(gone);
        gone
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_least_recently_used_key_goes_first() {
        let mut l = Lru::new(2, 10);
        assert!(!l.put(1, Nanos::MAX));
        assert!(!l.put(2, Nanos::MAX));
        assert_eq!(l.get(1, 0, 0), Found::Hit, "1 is now the most recent");
        assert!(l.put(3, Nanos::MAX), "full: 2 is evicted");
        assert_eq!(l.get(2, 0, 0), Found::Miss);
        assert_eq!(l.get(1, 0, 0), Found::Hit);
        assert_eq!(l.get(3, 0, 0), Found::Hit);
        assert_eq!(l.len(), 2);
    }

    #[test]
    fn an_expired_key_is_a_miss_and_leaves() {
        let mut l = Lru::new(4, 10);
        l.put(5, 100);
        assert_eq!(l.get(5, 99, 0), Found::Hit);
        assert_eq!(l.get(5, 100, 0), Found::Expired);
        assert_eq!(l.get(5, 100, 0), Found::Miss);
        assert_eq!(l.len(), 0);
        // A refill renews the expiry.
        l.put(5, 200);
        l.put(5, 300);
        assert_eq!(l.get(5, 250, 0), Found::Hit);
        assert_eq!(l.len(), 1);
    }

    #[test]
    fn a_key_within_its_stale_window_is_a_stale_hit_and_stays() {
        let mut l = Lru::new(2, 10);
        l.put(5, 100);
        l.put(6, Nanos::MAX);
        assert_eq!(l.get(5, 99, 50), Found::Hit);
        assert_eq!(l.get(5, 100, 50), Found::Stale);
        assert_eq!(l.get(5, 149, 50), Found::Stale, "still stale");
        // A stale hit is the most recently used: 6 goes first.
        assert!(l.put(7, Nanos::MAX));
        assert_eq!(l.get(6, 0, 0), Found::Miss);
        assert_eq!(l.get(5, 150, 50), Found::Expired, "past the window");
        assert_eq!(l.len(), 1);
        // A refill while stale renews it.
        l.put(8, 100);
        l.put(8, 300);
        assert_eq!(l.get(8, 120, 50), Found::Hit);
    }

    #[test]
    fn a_clear_empties_it_and_slots_are_reused() {
        let mut l = Lru::new(3, 10);
        for k in 0..3 {
            l.put(k, Nanos::MAX);
        }
        assert_eq!(l.clear(), 3);
        for k in 0..3 {
            assert_eq!(l.get(k, 0, 0), Found::Miss);
        }
        for k in 3..6 {
            assert!(!l.put(k, Nanos::MAX));
        }
        assert_eq!(l.key.len(), 3, "no new slots after a clear");
        assert!(l.put(7, Nanos::MAX));
    }

    #[test]
    fn capacity_above_the_key_space_never_evicts() {
        let mut l = Lru::new(100, 3);
        for k in 0..3 {
            assert!(!l.put(k, Nanos::MAX));
        }
        assert_eq!(l.len(), 3);
    }
}
