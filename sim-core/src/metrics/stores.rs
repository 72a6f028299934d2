//! Versioned stores' figures: per store, reads, committed writes,
//! conditional writes and their conflicts (series of scope `store`:
//! reads, writes and conflicts per second); per service that writes
//! conditionally, its conflicts (series of scope `writer`).
//!
//! Owns the counting; must not change a store (the engine's `store.rs`
//! does and tells it what happened).

use super::series::SeriesWriter;
use crate::model::{Model, Step};
use crate::output::StoreSummary;

const STORE_METRICS: &[&str] = &["reads_rps", "writes_rps", "conflicts_rps"];
const CONFLICT_METRICS: &[&str] = &["conflicts_rps"];

#[derive(Clone, Copy, Debug, Default)]
struct Counters {
    reads: u64,
    writes: u64,
    conditional: u64,
    conflicts: u64,
    /// Reads and writes a store outage failed.
    failed: u64,
}

impl Counters {
    fn minus(&self, o: &Counters) -> Counters {
        Counters {
            reads: self.reads - o.reads,
            writes: self.writes - o.writes,
            conditional: self.conditional - o.conditional,
            conflicts: self.conflicts - o.conflicts,
            failed: self.failed - o.failed,
        }
    }
}

/// One store's counters.
struct PerStore {
    c: Counters,
    at_warmup: Counters,
    at_window: Counters,
    keys_written: u64,
    slots: u32,
}

/// One service's conflicts (only services that write conditionally).
struct PerService {
    conflicts: u64,
    at_warmup: u64,
    at_window: u64,
    slots: u32,
}

/// Every store's figures and the conflicts of each writing service.
#[derive(Default)]
pub struct StoreStats {
    stores: Vec<PerStore>,
    /// Per service: `Some` when its steps write a store conditionally.
    services: Vec<Option<PerService>>,
}

impl StoreStats {
    #[inline]
    pub fn read(&mut self, store: usize) {
        self.stores[store].c.reads += 1;
    }

    /// A write committed; `first` when the key had never been written.
    #[inline]
    pub fn write(&mut self, store: usize, conditional: bool, first: bool) {
        let s = &mut self.stores[store];
        s.c.writes += 1;
        s.c.conditional += u64::from(conditional);
        s.keys_written += u64::from(first);
    }

    /// A read or write found its store down (an outage).
    pub fn failed(&mut self, store: usize) {
        self.stores[store].c.failed += 1;
    }

    /// A conditional write of `service`'s found the version moved.
    #[inline]
    pub fn conflict(&mut self, store: usize, service: usize) {
        let s = &mut self.stores[store];
        s.c.conditional += 1;
        s.c.conflicts += 1;
        if let Some(Some(p)) = self.services.get_mut(service) {
            p.conflicts += 1;
        }
    }

    pub fn start_measuring(&mut self) {
        for s in &mut self.stores {
            s.at_warmup = s.c;
        }
        for p in self.services.iter_mut().flatten() {
            p.at_warmup = p.conflicts;
        }
    }

    pub fn close_window(&mut self, series: &mut SeriesWriter, per_s: f64) {
        for s in &mut self.stores {
            let d = s.c.minus(&s.at_window);
            s.at_window = s.c;
            series.put_at(
                s.slots,
                &[
                    d.reads as f64 * per_s,
                    d.writes as f64 * per_s,
                    d.conflicts as f64 * per_s,
                ],
            );
        }
        for p in self.services.iter_mut().flatten() {
            let d = p.conflicts - p.at_window;
            p.at_window = p.conflicts;
            series.put_at(p.slots, &[d as f64 * per_s]);
        }
    }

    /// Store `i`'s figures over the measured period.
    pub fn summary(&self, m: &Model, i: usize) -> StoreSummary {
        let s = &self.stores[i];
        let d = s.c.minus(&s.at_warmup);
        StoreSummary {
            keys: m.stores[i].keys,
            reads: d.reads,
            writes: d.writes,
            conditional_writes: d.conditional,
            conflicts: d.conflicts,
            conflict_ratio: if d.conditional == 0 {
                0.0
            } else {
                d.conflicts as f64 / d.conditional as f64
            },
            keys_written: s.keys_written,
            failed: d.failed,
        }
    }

    /// Service `i`'s conflicts over the measured period, if it writes a
    /// store conditionally.
    pub fn service_conflicts(&self, i: usize) -> Option<u64> {
        self.services
            .get(i)
            .and_then(Option::as_ref)
            .map(|p| p.conflicts - p.at_warmup)
    }
}

/// Whether service `s`'s steps write a store conditionally.
fn writes_conditionally(m: &Model, s: usize) -> bool {
    m.services[s].ops.iter().any(|&o| {
        let op = &m.ops[o as usize];
        (op.first_step..op.first_step + op.step_count).any(|i| {
            matches!(m.steps[i as usize], Step::Write(w)
                if m.store_steps[w as usize].conditional)
        })
    })
}

/// The figures of `m`'s stores (nothing without stores), with their
/// series after every other.
pub fn for_model(m: &Model, series: &mut SeriesWriter) -> StoreStats {
    if m.stores.is_empty() {
        return StoreStats::default();
    }
    let stores = m
        .stores
        .iter()
        .map(|s| PerStore {
            c: Counters::default(),
            at_warmup: Counters::default(),
            at_window: Counters::default(),
            keys_written: 0,
            slots: series.add_series("store", &s.name, STORE_METRICS),
        })
        .collect();
    let services = (0..m.services.len())
        .map(|s| {
            writes_conditionally(m, s).then(|| PerService {
                conflicts: 0,
                at_warmup: 0,
                at_window: 0,
                slots: series.add_series("writer", &m.services[s].name, CONFLICT_METRICS),
            })
        })
        .collect();
    StoreStats { stores, services }
}
