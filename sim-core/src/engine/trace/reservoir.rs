//! `--trace-max`'s cap as a uniform sample over the whole run: reservoir
//! sampling (Vitter's Algorithm R) over the root requests the rate admits.
//! The k-th admitted request, once `cap` are kept, replaces a kept one
//! chosen uniformly with probability cap ⁄ k, from a stream of its own
//! (`trace-reservoir`, drawn only when the reservoir is full), so every
//! admitted request ends up kept with the same probability and the run's
//! other results do not move.
//!
//! A replaced request's spans are dead: nothing opens under them, and they
//! are compacted away once they outnumber the live ones (the side tables
//! remapped), so memory holds about twice `cap` request trees at most.
//! At the end the kept requests are numbered 0, 1, … in the order they
//! entered.
//!
//! Owns the reservoir's bookkeeping only; must not draw from any other
//! stream nor touch simulated state.

use std::collections::BTreeMap;

use crate::rng::Stream;

use super::{NONE, Tracer};
use crate::rng::stream;
use crate::streams;
use crate::trace::{SpanId, TraceId};

/// Dead spans are compacted away once there are more of them than this
/// and than live ones.
#[cfg(not(test))]
const COMPACT_AFTER: usize = 4096;
/// Small under test, so the engine's trace tests (every tree hangs
/// together, past the cap) compact often.
#[cfg(test)]
const COMPACT_AFTER: usize = 16;

pub(in crate::engine) struct Reservoir {
    rng: Stream,
    cap: u32,
    /// Root requests the rate admitted so far.
    admitted: u64,
    /// Kept requests: serial → (slot, spans opened).
    pub(super) live: BTreeMap<u32, (u32, u32)>,
    /// Per slot, the serial kept in it.
    slots: Vec<u32>,
    pub(super) dead_spans: usize,
}

/// What becomes of an admitted request.
enum Admit {
    Keep(u32),
    Replace(u32),
    Skip,
}

impl Reservoir {
    pub(super) fn new(seed: u64, cap: u32) -> Reservoir {
        Reservoir {
            rng: stream(seed, &streams::trace_reservoir()),
            cap,
            admitted: 0,
            live: BTreeMap::new(),
            slots: Vec::new(),
            dead_spans: 0,
        }
    }

    fn admit(&mut self) -> Admit {
        // Serials are u32 (a TraceId): past 2^32 admitted requests the
        // rest are skipped.
        let Ok(serial) = u32::try_from(self.admitted) else {
            return Admit::Skip;
        };
        self.admitted += 1;
        if (self.slots.len() as u32) < self.cap {
            let slot = self.slots.len() as u32;
            self.slots.push(serial);
            self.live.insert(serial, (slot, 0));
            return Admit::Keep(serial);
        }
        if self.cap == 0 {
            return Admit::Skip;
        }
        let j = rand::RngExt::random_range(&mut self.rng, 0..self.admitted);
        if j >= u64::from(self.cap) {
            return Admit::Skip;
        }
        let slot = j as u32;
        let evicted = std::mem::replace(&mut self.slots[slot as usize], serial);
        let (_, spans) = self.live.remove(&evicted).unwrap_or((slot, 0));
        self.dead_spans += spans as usize;
        self.live.insert(serial, (slot, 0));
        Admit::Replace(serial)
    }

    pub(super) fn is_live(&self, trace: TraceId) -> bool {
        self.live.contains_key(&trace.0)
    }

    /// A span was opened in `trace` (a live one).
    pub(super) fn count_span(&mut self, trace: TraceId) {
        if let Some(e) = self.live.get_mut(&trace.0) {
            e.1 += 1;
        }
    }
}

impl Tracer {
    /// A new root request the rate admitted: its trace, or None when the
    /// reservoir keeps it out (counted in `skipped`, as is a request it
    /// replaces).
    pub(super) fn admit(&mut self) -> Option<TraceId> {
        let serial = match self.reservoir.admit() {
            Admit::Keep(s) => s,
            Admit::Replace(serial) => {
                self.log.skipped += 1;
                self.compact_if_worth_it();
                serial
            }
            Admit::Skip => {
                self.log.skipped += 1;
                return None;
            }
        };
        Some(TraceId(serial))
    }

    fn compact_if_worth_it(&mut self) {
        let dead = self.reservoir.dead_spans;
        if dead > COMPACT_AFTER && dead * 2 > self.log.spans.len() {
            self.compact();
        }
    }

    /// Drops dead requests' spans, renumbering the rest and every table
    /// that points at them (a pointer to a dead span becomes NONE).
    pub(super) fn compact(&mut self) {
        let mut remap = vec![NONE; self.log.spans.len()];
        let mut kept = 0u32;
        let old = std::mem::take(&mut self.log.spans);
        let mut spans = Vec::with_capacity(old.len() - self.reservoir.dead_spans.min(old.len()));
        for (i, mut s) in old.into_iter().enumerate() {
            if !self.reservoir.is_live(s.trace) {
                continue;
            }
            // A live span's parent is in its own (live) trace, opened
            // before it.
            s.parent = s
                .parent
                .map(|p| SpanId(remap[p.0 as usize]))
                .filter(|p| p.0 != NONE);
            remap[i] = kept;
            kept += 1;
            spans.push(s);
        }
        self.log.spans = spans;
        self.reservoir.dead_spans = 0;
        let at = |v: u32| {
            if v == NONE { NONE } else { remap[v as usize] }
        };
        for e in &mut self.jobs {
            e.0 = at(e.0);
        }
        for table in [
            &mut self.calls,
            &mut self.attempts,
            &mut self.steps,
            &mut self.msgs,
        ] {
            for v in table.iter_mut() {
                *v = at(*v);
            }
        }
        self.publishing = at(self.publishing);
    }

    /// At the run's end: only kept requests' spans, their traces numbered
    /// 0, 1, … in the order they entered.
    pub(super) fn settle_reservoir(&mut self) {
        self.compact();
        let rank: BTreeMap<u32, u32> = self
            .reservoir
            .live
            .keys()
            .enumerate()
            .map(|(i, &serial)| (serial, i as u32))
            .collect();
        for s in &mut self.log.spans {
            s.trace = TraceId(rank[&s.trace.0]);
        }
        self.log.traces = rank.len() as u32;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_admitted_request_is_kept_with_the_same_probability() {
        // 50 admitted, 5 kept: each serial kept with probability 0.1;
        // over 4,000 seeds each count is within 4σ (σ = √(0.1 × 0.9 ⁄
        // 4000) ≈ 0.0047) of it.
        let (cap, n, seeds) = (5u32, 50u32, 4000u64);
        let mut kept = vec![0u32; n as usize];
        for seed in 0..seeds {
            let mut r = Reservoir::new(seed, cap);
            for _ in 0..n {
                let _ = r.admit();
            }
            assert_eq!(r.live.len(), cap as usize);
            for &serial in r.live.keys() {
                kept[serial as usize] += 1;
            }
        }
        let sigma = (0.1f64 * 0.9 / seeds as f64).sqrt();
        for (serial, &k) in kept.iter().enumerate() {
            let p = f64::from(k) / seeds as f64;
            assert!((p - 0.1).abs() < 4.0 * sigma, "serial {serial}: {p}");
        }
    }
}
