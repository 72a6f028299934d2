//! Saga figures, per saga: started, completed, compensated, stuck
//! (orchestrators lost to a crash among them), running; time to
//! completion and time inconsistent; failures per step; and the series of
//! scope `saga` (started, completed, compensated and stuck per second,
//! running at each window's end).
//!
//! Owns the counting; must not run a saga (the engine's `saga.rs` does and
//! tells it what happened). The books: `started + running_at_start =
//! completed + compensated + stuck + running_at_end`.

use super::series::SeriesWriter;
use super::{Histogram, latency_of};
use crate::model::Model;
use crate::output::{SagaStepSummary, SagaSummary};
use crate::time::Nanos;

const SAGA_METRICS: &[&str] = &[
    "started_rps",
    "completed_rps",
    "compensated_rps",
    "stuck_rps",
    "running",
];

#[derive(Clone, Copy, Debug, Default)]
struct Counters {
    started: u64,
    completed: u64,
    compensated: u64,
    stuck: u64,
    lost: u64,
}

impl Counters {
    fn minus(&self, o: &Counters) -> Counters {
        Counters {
            started: self.started - o.started,
            completed: self.completed - o.completed,
            compensated: self.compensated - o.compensated,
            stuck: self.stuck - o.stuck,
            lost: self.lost - o.lost,
        }
    }
}

pub struct SagaStats {
    c: Counters,
    at_warmup: Counters,
    at_window: Counters,
    running: u64,
    running_at_start: u64,
    /// Per step: its `do` failed (past its retries), its `undo` failed.
    failures: Vec<u64>,
    undo_failures: Vec<u64>,
    failures_at_warmup: Vec<u64>,
    undo_failures_at_warmup: Vec<u64>,
    measuring: bool,
    completion: Histogram,
    completion_sum: u128,
    inconsistent: Histogram,
    inconsistent_sum: u128,
    slots: u32,
}

impl SagaStats {
    pub fn started(&mut self) {
        self.c.started += 1;
        self.running += 1;
    }

    /// Every `do` succeeded: `started` → now.
    pub fn completed(&mut self, started: Nanos, first_effect: Nanos, now: Nanos) {
        self.c.completed += 1;
        self.running -= 1;
        if self.measuring {
            let t = now - started;
            self.completion.record(t);
            self.completion_sum += u128::from(t);
        }
        self.record_inconsistent(first_effect, now);
    }

    /// A `do` failed and every undo due ran (none, if nothing was done).
    pub fn compensated(&mut self, first_effect: Nanos, now: Nanos) {
        self.c.compensated += 1;
        self.running -= 1;
        self.record_inconsistent(first_effect, now);
    }

    /// An undo failed past its retries, or the orchestrator was lost.
    pub fn stuck(&mut self, lost: bool) {
        self.c.stuck += 1;
        self.c.lost += u64::from(lost);
        self.running -= 1;
    }

    pub fn step_failed(&mut self, step: usize) {
        self.failures[step] += 1;
    }

    pub fn undo_failed(&mut self, step: usize) {
        self.undo_failures[step] += 1;
    }

    fn record_inconsistent(&mut self, first_effect: Nanos, now: Nanos) {
        if self.measuring && first_effect <= now {
            let t = now - first_effect;
            self.inconsistent.record(t);
            self.inconsistent_sum += u128::from(t);
        }
    }

    pub fn start_measuring(&mut self) {
        self.at_warmup = self.c;
        self.running_at_start = self.running;
        self.failures_at_warmup.clone_from(&self.failures);
        self.undo_failures_at_warmup.clone_from(&self.undo_failures);
        self.measuring = true;
    }

    pub fn close_window(&mut self, series: &mut SeriesWriter, per_s: f64) {
        let d = self.c.minus(&self.at_window);
        self.at_window = self.c;
        series.put_at(
            self.slots,
            &[
                d.started as f64 * per_s,
                d.completed as f64 * per_s,
                d.compensated as f64 * per_s,
                d.stuck as f64 * per_s,
                self.running as f64,
            ],
        );
    }

    pub fn summary(&self, m: &Model, saga: usize) -> SagaSummary {
        let d = self.c.minus(&self.at_warmup);
        SagaSummary {
            orchestrators: orchestrators(m, saga as u32),
            running_at_start: self.running_at_start,
            started: d.started,
            completed: d.completed,
            compensated: d.compensated,
            stuck: d.stuck,
            orchestrators_lost: d.lost,
            running_at_end: self.running,
            time_to_completion_ms: latency_of(&self.completion, self.completion_sum),
            time_inconsistent_ms: latency_of(&self.inconsistent, self.inconsistent_sum),
            steps: m.sagas[saga]
                .steps
                .iter()
                .enumerate()
                .map(|(i, name)| SagaStepSummary {
                    name: name.clone(),
                    failures: self.failures[i] - self.failures_at_warmup[i],
                    undo_failures: self.undo_failures[i] - self.undo_failures_at_warmup[i],
                    via: m.sagas[saga]
                        .choreography
                        .get(i)
                        .map(|c| m.queues[c.queue as usize].name.clone()),
                })
                .collect(),
            choreographed: !m.sagas[saga].choreography.is_empty(),
        }
    }
}

/// The services that run saga `saga` (have a step naming it).
fn orchestrators(m: &Model, saga: u32) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for s in &m.services {
        let runs = s.ops.iter().any(|&o| {
            m.op_steps(o).iter().any(|st| {
                matches!(st, crate::model::Step::Saga(k) if m.saga_sites[*k as usize].saga == saga)
            })
        });
        if runs {
            out.push(s.name.clone());
        }
    }
    out
}

/// One `SagaStats` per saga of `m`, with its series after every other.
pub fn for_model(m: &Model, series: &mut SeriesWriter) -> Vec<SagaStats> {
    m.sagas
        .iter()
        .map(|s| {
            let n = s.steps.len();
            SagaStats {
                c: Counters::default(),
                at_warmup: Counters::default(),
                at_window: Counters::default(),
                running: 0,
                running_at_start: 0,
                failures: vec![0; n],
                undo_failures: vec![0; n],
                failures_at_warmup: vec![0; n],
                undo_failures_at_warmup: vec![0; n],
                measuring: m.warmup == 0,
                completion: Histogram::new(),
                completion_sum: 0,
                inconsistent: Histogram::new(),
                inconsistent_sum: 0,
                slots: series.add_series("saga", &s.name, SAGA_METRICS),
            }
        })
        .collect()
}
