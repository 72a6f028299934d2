//! Cache figures: lookups, hits, misses (expired keys among them), fills,
//! evictions, flushes and the keys resident, per cache (a local cache's
//! replicas summed); the hit ratio, lookups per second and keys resident
//! as series of scope `cache`.
//!
//! Owns the counting; must not change a cache (the engine does and tells
//! it what happened).

use super::series::SeriesWriter;
use crate::model::Model;
use crate::output::CacheSummary;

const CACHE_METRICS: &[&str] = &["hit_ratio", "lookups_rps", "keys"];

#[derive(Clone, Copy, Debug, Default)]
struct Counters {
    lookups: u64,
    hits: u64,
    expired: u64,
    fills: u64,
    evictions: u64,
    flushes: u64,
    flushed_keys: u64,
    coalesced: u64,
    outage_lookups: u64,
    stale_hits: u64,
    refills: u64,
}

impl Counters {
    fn minus(&self, o: &Counters) -> Counters {
        Counters {
            lookups: self.lookups - o.lookups,
            hits: self.hits - o.hits,
            expired: self.expired - o.expired,
            fills: self.fills - o.fills,
            evictions: self.evictions - o.evictions,
            flushes: self.flushes - o.flushes,
            flushed_keys: self.flushed_keys - o.flushed_keys,
            coalesced: self.coalesced - o.coalesced,
            outage_lookups: self.outage_lookups - o.outage_lookups,
            stale_hits: self.stale_hits - o.stale_hits,
            refills: self.refills - o.refills,
        }
    }
}

pub struct CacheStats {
    c: Counters,
    at_warmup: Counters,
    at_window: Counters,
    /// Keys held now (every replica's, for a local cache).
    pub resident: i64,
    slots: u32,
}

impl CacheStats {
    #[inline]
    pub fn lookup(&mut self, hit: bool, expired: bool) {
        self.c.lookups += 1;
        self.c.hits += u64::from(hit);
        self.c.expired += u64::from(expired);
    }

    #[inline]
    pub fn fill(&mut self, evicted: bool) {
        self.c.fills += 1;
        self.c.evictions += u64::from(evicted);
    }

    /// A lookup while the cache was down: a lookup, not a hit.
    pub fn lookup_in_outage(&mut self) {
        self.c.lookups += 1;
        self.c.outage_lookups += 1;
    }

    /// A hit on a key past its TTL, within `stale_while_revalidate`
    /// (counted as a hit by `lookup` too).
    pub fn stale_hit(&mut self) {
        self.c.stale_hits += 1;
    }

    /// A background refill started by a stale hit.
    pub fn refill(&mut self) {
        self.c.refills += 1;
    }

    pub fn coalesced(&mut self) {
        self.c.coalesced += 1;
    }

    pub fn flushed(&mut self, keys: u32) {
        self.c.flushes += 1;
        self.c.flushed_keys += u64::from(keys);
    }

    pub fn start_measuring(&mut self) {
        self.at_warmup = self.c;
    }

    /// The window's row: hit ratio (0 without lookups), lookups per
    /// second, keys resident at its end.
    pub fn close_window(&mut self, series: &mut SeriesWriter, per_s: f64) {
        let d = self.c.minus(&self.at_window);
        self.at_window = self.c;
        let ratio = if d.lookups == 0 {
            0.0
        } else {
            d.hits as f64 / d.lookups as f64
        };
        series.put_at(
            self.slots,
            &[ratio, d.lookups as f64 * per_s, self.resident as f64],
        );
    }

    pub fn summary(&self, capacity: u32, keys: u32, services: Vec<String>) -> CacheSummary {
        let d = self.c.minus(&self.at_warmup);
        CacheSummary {
            services,
            capacity,
            keys,
            lookups: d.lookups,
            hits: d.hits,
            misses: d.lookups - d.hits,
            expired: d.expired,
            hit_ratio: if d.lookups == 0 {
                0.0
            } else {
                d.hits as f64 / d.lookups as f64
            },
            fills: d.fills,
            evictions: d.evictions,
            flushes: d.flushes,
            flushed_keys: d.flushed_keys,
            keys_resident_at_end: self.resident.max(0) as u64,
            coalesced: d.coalesced,
            outage_lookups: d.outage_lookups,
            stale_hits: d.stale_hits,
            refills: d.refills,
        }
    }
}

/// The services whose steps look cache `c` up, in service order.
pub fn lookers(m: &Model, c: u32) -> Vec<String> {
    m.services
        .iter()
        .filter(|s| {
            s.ops.iter().any(|&o| {
                let op = &m.ops[o as usize];
                (op.first_step..op.first_step + op.step_count).any(|i| {
                    matches!(m.steps[i as usize], crate::model::Step::Cache(k)
                        if m.cache_steps[k as usize].cache == c)
                })
            })
        })
        .map(|s| s.name.clone())
        .collect()
}

/// One `CacheStats` per cache of `m`, with its series after every other.
pub fn for_model(m: &Model, series: &mut SeriesWriter) -> Vec<CacheStats> {
    m.caches
        .iter()
        .map(|c| CacheStats {
            c: Counters::default(),
            at_warmup: Counters::default(),
            at_window: Counters::default(),
            resident: 0,
            slots: series.add_series("cache", &c.name, CACHE_METRICS),
        })
        .collect()
}
