//! What an autoscaled service ran: its replicas over time (existing, and
//! of those ready), the autoscaler's decisions, replicas created and
//! removed, replica-seconds (what the scale cost).
//!
//! Kept only for autoscaled services. Owns these figures, their windows
//! and their summary; must not change simulated state.

use super::TimeWeighted;
use super::series::SeriesWriter;
use crate::model::Service;
use crate::output::AutoscaleSummary;
use crate::time::Nanos;

/// The series of an autoscaled service.
pub const AUTOSCALE_METRICS: &[&str] = &["replicas", "replicas_ready", "replicas_desired"];

pub struct ScaleStats {
    threads: u32,
    /// Replicas that exist (starting, serving or draining).
    up: TimeWeighted,
    /// Replicas serving.
    ready: TimeWeighted,
    /// Replicas with threads that may be busy: serving or draining (the
    /// capacity utilisation is over).
    working: TimeWeighted,
    /// The autoscaler's last decision.
    desired: u32,
    created: u64,
    removed: u64,
    decisions_up: u64,
    decisions_down: u64,
    measuring: bool,
    slots: u32,
}

impl ScaleStats {
    pub fn new(s: &Service, warmup: Nanos, series: &mut SeriesWriter) -> Option<Box<ScaleStats>> {
        let a = s.autoscale?;
        let mut up = TimeWeighted::default();
        up.add(0, i64::from(a.initial));
        let mut ready = TimeWeighted::default();
        ready.add(0, i64::from(a.initial));
        let working = ready.clone();
        Some(Box::new(ScaleStats {
            threads: s.threads,
            up,
            ready,
            working,
            desired: a.initial,
            created: 0,
            removed: 0,
            decisions_up: 0,
            decisions_down: 0,
            measuring: warmup == 0,
            slots: series.add_series("service", &s.name, AUTOSCALE_METRICS),
        }))
    }

    /// The autoscaler asked for `desired` replicas.
    pub fn decided(&mut self, desired: u32) {
        if self.measuring {
            if desired > self.desired {
                self.decisions_up += 1;
            } else if desired < self.desired {
                self.decisions_down += 1;
            }
        }
        self.desired = desired;
    }

    pub fn created(&mut self, now: Nanos) {
        self.up.add(now, 1);
        if self.measuring {
            self.created += 1;
        }
    }

    pub fn ready(&mut self, now: Nanos) {
        self.ready.add(now, 1);
        self.working.add(now, 1);
    }

    /// A starting replica was removed before it was ready.
    pub fn removed_starting(&mut self, now: Nanos) {
        self.up.add(now, -1);
        if self.measuring {
            self.removed += 1;
        }
    }

    /// A serving replica was removed: it drains.
    pub fn draining(&mut self, now: Nanos) {
        self.ready.add(now, -1);
        if self.measuring {
            self.removed += 1;
        }
    }

    /// A draining replica finished what it held.
    pub fn drained(&mut self, now: Nanos) {
        self.up.add(now, -1);
        self.working.add(now, -1);
    }

    pub fn start_measuring(&mut self, now: Nanos) {
        self.up.restart(now);
        self.ready.restart(now);
        self.working.restart(now);
        self.measuring = true;
    }

    /// Closes the window ending at `now`; returns the thread capacity over
    /// it (threads × replicas serving or draining, on average: a starting
    /// replica's threads cannot be busy yet).
    pub fn close_window(&mut self, series: &mut SeriesWriter, now: Nanos, len: Nanos) -> f64 {
        let (up, _) = self.up.close_window(now, len);
        let (ready, _) = self.ready.close_window(now, len);
        let (working, _) = self.working.close_window(now, len);
        series.put_at(self.slots, &[up, ready, f64::from(self.desired)]);
        working * f64::from(self.threads)
    }

    /// The thread capacity over the measured span of `span` ns.
    pub fn capacity(&mut self, end: Nanos, span: Nanos) -> f64 {
        self.working.flush(end);
        self.working.area as f64 / span.max(1) as f64 * f64::from(self.threads)
    }

    pub fn summary(&mut self, s: &Service, end: Nanos, span: Nanos) -> AutoscaleSummary {
        let a = s.autoscale.expect("autoscaled");
        self.up.flush(end);
        self.ready.flush(end);
        AutoscaleSummary {
            min: a.min,
            max: a.max,
            target: a.target,
            replicas_at_end: self.up.value as u32,
            ready_at_end: self.ready.value as u32,
            replicas_max: self.up.max as u32,
            replicas_mean: self.up.area as f64 / span.max(1) as f64,
            ready_mean: self.ready.area as f64 / span.max(1) as f64,
            replica_seconds: self.up.area as f64 / 1e9,
            created: self.created,
            removed: self.removed,
            scale_ups: self.decisions_up,
            scale_downs: self.decisions_down,
        }
    }
}

pub fn for_model(
    m: &crate::model::Model,
    series: &mut SeriesWriter,
) -> Vec<Option<Box<ScaleStats>>> {
    m.services
        .iter()
        .map(|s| ScaleStats::new(s, m.warmup, series))
        .collect()
}
