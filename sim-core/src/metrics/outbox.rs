//! Outbox figures, per producing service: records written, sent, marked,
//! sent again after a lost mark (duplicates), the depth (time-weighted
//! mean, maximum, at the end) and the relay delay (written → first sent);
//! the series of scope `outbox` (depth, written, sent and duplicates per
//! second).
//!
//! Owns the counting; must not run a relay (the engine's `outbox.rs` does
//! and tells it what happened).

use super::series::SeriesWriter;
use super::{Histogram, TimeWeighted, latency_of};
use crate::model::Model;
use crate::output::OutboxSummary;
use crate::time::{Nanos, secs};

const OUTBOX_METRICS: &[&str] = &["depth", "written_rps", "sent_rps", "duplicates_rps"];

#[derive(Clone, Copy, Debug, Default)]
struct Counters {
    written: u64,
    sent: u64,
    marked: u64,
    duplicates: u64,
    marks_lost: u64,
}

impl Counters {
    fn minus(&self, o: &Counters) -> Counters {
        Counters {
            written: self.written - o.written,
            sent: self.sent - o.sent,
            marked: self.marked - o.marked,
            duplicates: self.duplicates - o.duplicates,
            marks_lost: self.marks_lost - o.marks_lost,
        }
    }
}

pub struct OutboxStats {
    c: Counters,
    at_warmup: Counters,
    at_window: Counters,
    depth: TimeWeighted,
    depth_at_start: u64,
    measured_from: Nanos,
    measuring: bool,
    delay: Histogram,
    delay_sum: u128,
    slots: u32,
}

impl OutboxStats {
    pub fn written(&mut self, now: Nanos) {
        self.c.written += 1;
        self.depth.add(now, 1);
    }

    /// A record waited `delay` since it was written; `again`: it had been
    /// sent before a crash lost its mark.
    pub fn sent(&mut self, delay: Nanos, again: bool) {
        self.c.sent += 1;
        if again {
            self.c.duplicates += 1;
        } else if self.measuring {
            self.delay.record(delay);
            self.delay_sum += u128::from(delay);
        }
    }

    pub fn marked(&mut self, now: Nanos, n: u32) {
        self.c.marked += u64::from(n);
        self.depth.add(now, -i64::from(n));
    }

    pub fn marks_lost(&mut self, n: u32) {
        self.c.marks_lost += u64::from(n);
    }

    pub fn start_measuring(&mut self, now: Nanos) {
        self.at_warmup = self.c;
        self.depth.restart(now);
        self.depth_at_start = self.depth.value;
        self.measured_from = now;
        self.measuring = true;
    }

    pub fn close_window(&mut self, series: &mut SeriesWriter, end: Nanos, len: Nanos, per_s: f64) {
        let d = self.c.minus(&self.at_window);
        self.at_window = self.c;
        let (mean, _) = self.depth.close_window(end, len);
        series.put_at(
            self.slots,
            &[
                mean,
                d.written as f64 * per_s,
                d.sent as f64 * per_s,
                d.duplicates as f64 * per_s,
            ],
        );
    }

    pub fn summary(&mut self, m: &Model, o: usize, end: Nanos) -> OutboxSummary {
        let d = self.c.minus(&self.at_warmup);
        self.depth.flush(end);
        let span = end.saturating_sub(self.measured_from);
        let ob = &m.outboxes[o];
        OutboxSummary {
            every_ms: secs(ob.every) * 1e3,
            batch: ob.batch,
            depth_at_start: self.depth_at_start,
            written: d.written,
            sent: d.sent,
            marked: d.marked,
            duplicates: d.duplicates,
            marks_lost: d.marks_lost,
            depth_mean: if span == 0 {
                0.0
            } else {
                self.depth.area as f64 / span as f64
            },
            depth_max: self.depth.max,
            depth_at_end: self.depth.value,
            relay_delay_ms: latency_of(&self.delay, self.delay_sum),
        }
    }
}

/// One `OutboxStats` per outbox of `m`, with its series after every other.
pub fn for_model(m: &Model, series: &mut SeriesWriter) -> Vec<OutboxStats> {
    m.outboxes
        .iter()
        .map(|o| OutboxStats {
            c: Counters::default(),
            at_warmup: Counters::default(),
            at_window: Counters::default(),
            depth: TimeWeighted::default(),
            depth_at_start: 0,
            measured_from: 0,
            measuring: m.warmup == 0,
            delay: Histogram::new(),
            delay_sum: 0,
            slots: series.add_series("outbox", &m.services[o.service].name, OUTBOX_METRICS),
        })
        .collect()
}
