//! Orchestrated sagas: a job at a `saga` step calls each saga step's `do`
//! in order (each a call of its own spec: timeout, retries, breaker...);
//! when one fails, the `undo`s of the steps already done run in reverse
//! order, and an undo failing past its retries leaves the saga stuck.
//!
//! The orchestrator's job holds its worker for the whole saga (the
//! held-thread rule) and goes on when the saga ends: past the step if it
//! completed (or was compensated, with `when_compensated = "succeed"`),
//! failing otherwise. Undos carry no deadline: a compensation
//! is owed whatever the request's deadline. A crash of the orchestrator
//! mid-saga leaves it stuck (its state was in memory).
//!
//! Owns each running saga's position (per job slot) and the order of its
//! calls; must not decide how a call runs (`call.rs`) or how a job
//! continues (`service.rs`, `event_loop.rs`).

use super::World;
use super::ids::JobId;
use super::records::{Caller, JobState, NEVER};
use crate::model::Step;
use crate::outcome::Outcome;
use crate::time::Nanos;

/// The saga a job slot runs, if any.
#[derive(Clone, Copy, Debug)]
pub(super) struct SagaRun {
    /// The job generation running it; another means the slot is reused.
    job_generation: u32,
    live: bool,
    site: u32,
    /// The step whose `do` (forward) or `undo` (compensating) is in flight.
    pos: u32,
    compensating: bool,
    started: Nanos,
    /// When the first `do` answered (`NEVER` before).
    first_effect: Nanos,
}

const IDLE: SagaRun = SagaRun {
    job_generation: 0,
    live: false,
    site: 0,
    pos: 0,
    compensating: false,
    started: 0,
    first_effect: NEVER,
};

#[derive(Default)]
pub(super) struct Sagas {
    /// Indexed by job slot; grows only in models with sagas.
    runs: Vec<SagaRun>,
    /// The model has sagas: checked before any saga work.
    pub on: bool,
    /// Every `do` and `undo` sent, in order: (saga step, is undo).
    #[cfg(test)]
    pub trace: Vec<(u32, bool)>,
}

impl Sagas {
    pub fn new(m: &crate::model::Model) -> Sagas {
        Sagas {
            on: !m.saga_sites.is_empty(),
            ..Sagas::default()
        }
    }
}

impl World<'_> {
    fn saga_run(&mut self, j: JobId) -> &mut SagaRun {
        let i = j.0 as usize;
        if self.sagas.runs.len() <= i {
            self.sagas.runs.resize(self.jobs.len().max(i + 1), IDLE);
        }
        &mut self.sagas.runs[i]
    }

    /// Job `j` reaches `{ saga = ... }` (compiled as `saga_sites[site]`).
    pub(super) fn saga_start(&mut self, j: JobId, site: u32) {
        let (now, job_generation) = (self.now, self.jobs[j].generation);
        *self.saga_run(j) = SagaRun {
            job_generation,
            live: true,
            site,
            pos: 0,
            compensating: false,
            started: now,
            first_effect: NEVER,
        };
        let saga = self.m.saga_sites[site as usize].saga as usize;
        self.rec.sagas[saga].started();
        self.saga_do(j, site, 0);
    }

    /// The `do` of step `pos` of the saga job `j` runs (compiled at `site`).
    fn saga_do(&mut self, j: JobId, site: u32, pos: u32) {
        let spec = self.m.saga_sites[site as usize].calls[pos as usize].act;
        self.saga_call(j, pos, spec, false);
    }

    fn saga_call(&mut self, j: JobId, step: u32, spec: u32, undo: bool) {
        #[cfg(test)]
        self.sagas.trace.push((step, undo));
        #[cfg(not(test))]
        let _ = step;
        self.jobs[j].pending = 1;
        let job = self.jobs[j];
        let caller = Caller::Job {
            job: j,
            generation: job.generation,
        };
        let deadline = if undo { NEVER } else { job.deadline };
        let call = self.alloc_call(caller, spec, job.replica, deadline, job.class);
        self.start_call(call);
    }

    /// Whether a call of job `j` that ended belongs to a saga (the job
    /// stands at a saga step): `saga_call_ended` takes it.
    #[inline]
    pub(super) fn at_saga(&self, j: JobId) -> bool {
        self.sagas.on && matches!(self.m.steps[self.jobs[j].step as usize], Step::Saga(_))
    }

    /// A `do` or `undo` of job `j`'s saga ended with `outcome`.
    pub(super) fn saga_call_ended(&mut self, j: JobId, generation: u32, outcome: Outcome) {
        let job = self.jobs[j];
        if job.generation != generation || job.state != JobState::Running {
            return; // the orchestrator was cut off meanwhile
        }
        self.jobs[j].pending = 0;
        let now = self.now;
        let run = *self.saga_run(j);
        let site = &self.m.saga_sites[run.site as usize];
        let saga = site.saga as usize;
        if !run.compensating {
            if outcome.is_success() {
                let r = self.saga_run(j);
                r.first_effect = r.first_effect.min(now);
                r.pos += 1;
                let (pos, first_effect) = (r.pos, r.first_effect);
                if pos as usize == site.calls.len() {
                    self.saga_run(j).live = false;
                    self.rec.sagas[saga].completed(run.started, first_effect, now);
                    return self.saga_answer(j, true);
                }
                return self.saga_do(j, run.site, pos);
            }
            self.rec.sagas[saga].step_failed(run.pos as usize);
            self.saga_run(j).compensating = true;
            return self.saga_next_undo(j);
        }
        if outcome.is_success() {
            return self.saga_next_undo(j);
        }
        self.rec.sagas[saga].undo_failed(run.pos as usize);
        self.rec.sagas[saga].stuck(false);
        self.saga_run(j).live = false;
        self.saga_answer(j, false);
    }

    /// Compensating: the undo of the nearest done step below the current
    /// position, or the end of the compensation.
    fn saga_next_undo(&mut self, j: JobId) {
        let run = *self.saga_run(j);
        let site = &self.m.saga_sites[run.site as usize];
        let next = (0..run.pos)
            .rev()
            .find_map(|k| site.calls[k as usize].undo.map(|u| (k, u)));
        match next {
            Some((k, spec)) => {
                self.saga_run(j).pos = k;
                self.saga_call(j, k, spec, true);
            }
            None => {
                let saga = site.saga as usize;
                self.saga_run(j).live = false;
                self.rec.sagas[saga].compensated(run.first_effect, self.now);
                self.saga_answer(j, self.m.sagas[saga].compensated_succeeds);
            }
        }
    }

    /// The saga ended: the orchestrator's job goes on past the step, or
    /// fails.
    fn saga_answer(&mut self, j: JobId, ok: bool) {
        let job = &mut self.jobs[j];
        if ok {
            job.step += 1;
            self.proceed(j);
        } else if job.mode & (super::records::ON_LOOP | super::records::OFF_LOOP) != 0 {
            // The failure answer needs a loop (or has it).
            job.failed = true;
            self.proceed_runtime(j);
        } else {
            self.complete_job(j, Outcome::Error);
        }
    }

    /// Job `j` is cut off (its replica crashed): a saga it was running is
    /// stuck, with nobody left to finish or compensate it.
    pub(super) fn saga_cut_off(&mut self, j: JobId) {
        if !self.at_saga(j) {
            return;
        }
        let generation = self.jobs[j].generation;
        let m = self.m;
        let run = self.saga_run(j);
        if run.live && run.job_generation == generation {
            run.live = false;
            let saga = m.saga_sites[run.site as usize].saga as usize;
            self.rec.sagas[saga].stuck(true);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::World;
    use crate::options::RunOptions;

    /// One order whose fourth step (payment) always fails: the three steps
    /// done before it are compensated in reverse, skipping the one with
    /// no undo.
    const ONE_ORDER: &str = r#"
name = "saga-order"
duration = "1s"

[workload.w]
target = "orders"
rate = 10
arrivals = "deterministic"
requests = 1

[services.orders]
threads = 4
steps = [{ saga = "order" }]

[services.inventory]
threads = 16
[services.inventory.operations.reserve]
steps = [{ work = "1ms" }]
[services.inventory.operations.release]
steps = [{ work = "1ms" }]
[services.shipping]
threads = 16
[services.shipping.operations.quote]
steps = [{ work = "1ms" }]
[services.loyalty]
threads = 16
[services.loyalty.operations.hold]
steps = [{ work = "1ms" }]
[services.loyalty.operations.free]
steps = [{ work = "1ms" }]
[services.payment]
threads = 16
[services.payment.operations.charge]
steps = [{ work = "1ms" }]
[services.payment.operations.refund]
steps = [{ work = "1ms" }]

[sagas.order]
steps = [
  { do = "inventory.reserve", undo = "inventory.release" },
  { do = "shipping.quote" },
  { do = "loyalty.hold", undo = "loyalty.free" },
  { do = "payment.charge", undo = "payment.refund" },
]

[[fault]]
target = "payment.charge"
errors = 1.0
at = "0s"
for = "10s"
"#;

    #[test]
    fn compensations_run_in_reverse_order_after_a_failed_step() {
        let s = crate::load("t.toml", ONE_ORDER, &[]).expect("loads");
        let opts = RunOptions::default();
        let mut w = World::new(&s.model, &opts);
        w.run_loop(&opts.watch);
        assert_eq!(
            w.sagas.trace,
            [
                (0, false),
                (1, false),
                (2, false),
                (3, false),
                (2, true),
                (0, true)
            ],
            "do 0..3, payment fails, undo 2 then 0 (1 has nothing to undo)"
        );
        let r = w.finish(&opts);
        let g = &r.summary.sagas["order"];
        assert_eq!(
            (g.started, g.compensated, g.completed, g.stuck),
            (1, 1, 0, 0)
        );
        assert_eq!(g.steps[3].failures, 1);
        assert_eq!(r.summary.entries["w"].failed.error, 1);
    }
}
