//! Tracing sampled requests (`cascade run --trace`): a root request is
//! sampled when its source opens it, and every call, attempt, job and
//! timed step of its tree is recorded as a span (`crate::trace`).
//!
//! Owns the `Tracer`: the sample draws (one stream per source,
//! `trace-sample/<source>`, that nothing else reads), the log, and per
//! arena slot the span of the record in it (`NONE`: not traced). Records
//! carry no trace bit: the side tables are the tracer's, so a run without
//! `--trace` copies no extra byte per job and pays one predictable branch
//! per hook (`tracer` is `None`). Must not change simulated state nor draw
//! from any other stream: a traced run's other results are byte-identical
//! to an untraced one's.
//!
//! (Past 600 lines only with its unit tests beside it; the code is 450.)

mod reservoir;
mod store_spans;

use crate::rng::Stream;

use super::World;
use super::ids::{AttemptId, CallId, JobId, MsgId};
use super::records::{Caller, Job, JobState, NEVER, Parent};
use crate::model::{Model, Step};
use crate::outcome::Outcome;
use crate::rng::stream;
use crate::streams;
use crate::time::Nanos;
use crate::trace::{
    MAX_SPANS, OpName, Place, Span, SpanId, StepKind, TraceId, TraceLog, TraceOptions, What,
};

/// No span: the record is not traced.
const NONE: u32 = u32::MAX;

pub(super) struct Tracer {
    sample_rng: Vec<Stream>,
    log: TraceLog,
    /// Per job slot: its span and the slot's generation when it was set.
    jobs: Vec<(u32, u32)>,
    calls: Vec<u32>,
    attempts: Vec<u32>,
    /// Per job slot: its timed step's span while one runs.
    steps: Vec<u32>,
    /// Per message slot: the publish step's span that sent it.
    msgs: Vec<u32>,
    /// The publish step whose messages are being enqueued (NONE between
    /// publishes, so a dead letter's move is never taken for one).
    publishing: u32,
    /// Which sampled requests are kept (`--trace-max` as a uniform sample).
    reservoir: reservoir::Reservoir,
}

/// `table[i] = v`, growing the table as the arena grows.
fn put<T: Copy>(table: &mut Vec<T>, i: usize, v: T, empty: T) {
    if table.len() <= i {
        table.resize(i + 1, empty);
    }
    table[i] = v;
}

fn get(table: &[u32], i: usize) -> u32 {
    table.get(i).copied().unwrap_or(NONE)
}

impl Tracer {
    pub(super) fn new(m: &Model, seed: u64, options: TraceOptions) -> Tracer {
        Tracer {
            sample_rng: m
                .sources
                .iter()
                .map(|s| stream(seed, &streams::trace_sample(s)))
                .collect(),
            log: TraceLog {
                options,
                seed,
                services: m.services.iter().map(|s| s.name.clone()).collect(),
                ops: m
                    .ops
                    .iter()
                    .map(|o| OpName {
                        service: o.service,
                        name: o.name.clone(),
                    })
                    .collect(),
                sources: m.sources.iter().map(|s| s.name.clone()).collect(),
                publishes: m.publishes.iter().map(|p| p.target.clone()).collect(),
                replicas: m.services.iter().map(|s| s.replicas).collect(),
                spans: Vec::new(),
                traces: 0,
                skipped: 0,
                spans_dropped: 0,
                end: 0,
                stores: m.stores.iter().map(|s| s.name.clone()).collect(),
            },
            jobs: Vec::new(),
            calls: Vec::new(),
            attempts: Vec::new(),
            steps: Vec::new(),
            msgs: Vec::new(),
            publishing: NONE,
            reservoir: reservoir::Reservoir::new(seed, options.max_traces),
        }
    }

    /// A new span under `parent` (or a new trace's root), unless the log is
    /// full.
    fn open(&mut self, parent: u32, trace: Option<TraceId>, span: Span) -> u32 {
        let trace = match trace {
            Some(t) => t,
            None => self.log.spans[parent as usize].trace,
        };
        // A request the reservoir has let go: nothing more of it.
        if !self.reservoir.is_live(trace) {
            return NONE;
        }
        if self.log.spans.len() - self.reservoir.dead_spans >= MAX_SPANS {
            self.log.spans_dropped += 1;
            return NONE;
        }
        self.reservoir.count_span(trace);
        let id = self.log.spans.len() as u32;
        self.log.spans.push(Span {
            trace,
            parent: (parent != NONE).then_some(SpanId(parent)),
            ..span
        });
        id
    }

    fn close(&mut self, span: u32, now: Nanos, outcome: Option<Outcome>) {
        let s = &mut self.log.spans[span as usize];
        if s.end.is_none() {
            s.end = Some(now);
            s.outcome = outcome;
        }
    }

    /// Whether source `src`'s new request is traced: a draw from its own
    /// stream, every request, so the draws never depend on the cap; then
    /// the reservoir's say (`reservoir.rs`) once the cap is reached.
    fn sample(&mut self, src: usize) -> Option<TraceId> {
        let u: f64 = rand::RngExt::random(&mut self.sample_rng[src]);
        if u >= self.log.options.sample {
            return None;
        }
        self.admit()
    }
}

fn span(place: Place, what: What, start: Nanos) -> Span {
    Span {
        trace: TraceId(0),
        parent: None,
        place,
        what,
        start,
        end: None,
        outcome: None,
    }
}

impl World<'_> {
    /// Runs with `options`' tracing from the start.
    pub(super) fn start_tracing(&mut self, seed: u64, options: TraceOptions) {
        self.tracer = Some(Box::new(Tracer::new(self.m, seed, options)));
    }

    /// A new call: a source's request is sampled; a traced job's call is
    /// traced.
    #[inline]
    pub(super) fn trace_call(&mut self, call: CallId) {
        if self.tracer.is_some() {
            self.trace_call_slow(call);
        }
    }

    #[cold]
    fn trace_call_slow(&mut self, call: CallId) {
        let c = self.calls[call];
        let op = self.m.calls[c.spec as usize].op;
        let (parent, place) = match c.caller {
            Caller::Source(src) => (NONE, Place::Source(src)),
            // Polls are not traced yet.
            Caller::Poll { .. } => (NONE, Place::Source(0)),
            Caller::Job { job, .. } => {
                let j = self.jobs[job];
                let place = Place::Replica {
                    service: j.service,
                    replica: j.replica,
                };
                let t = self.tracer.as_deref().expect("tracing");
                (t.jobs.get(job.0 as usize).map_or(NONE, |e| e.0), place)
            }
        };
        let now = self.now;
        let t = self.tracer.as_deref_mut().expect("tracing");
        let id = match (c.caller, parent) {
            (Caller::Source(src), _) => match t.sample(src as usize) {
                Some(trace) => t.open(NONE, Some(trace), span(place, What::Call { op }, now)),
                None => NONE,
            },
            (_, NONE) => NONE,
            (_, p) => t.open(p, None, span(place, What::Call { op }, now)),
        };
        put(&mut t.calls, call.0 as usize, id, NONE);
    }

    /// A new attempt of a call (before its count is raised).
    #[inline]
    pub(super) fn trace_attempt(&mut self, att: AttemptId) {
        if self.tracer.is_some() {
            self.trace_attempt_slow(att);
        }
    }

    #[cold]
    fn trace_attempt_slow(&mut self, att: AttemptId) {
        let a = self.attempts[att];
        let c = self.calls[a.call];
        let now = self.now;
        let t = self.tracer.as_deref_mut().expect("tracing");
        let parent = get(&t.calls, a.call.0 as usize);
        let id = if parent == NONE {
            NONE
        } else {
            let place = t.log.spans[parent as usize].place;
            let what = What::Attempt {
                op: self.m.calls[c.spec as usize].op,
                number: c.attempts + 1,
                hedged: a.hedged,
                sent: false,
            };
            t.open(parent, None, span(place, what, now))
        };
        put(&mut t.attempts, att.0 as usize, id, NONE);
    }

    /// A new job of operation `op`: traced when the attempt that sent it
    /// is.
    #[inline]
    pub(super) fn trace_job(&mut self, j: JobId, op: u32) {
        if self.tracer.is_some() {
            self.trace_job_slow(j, op);
        }
    }

    #[cold]
    fn trace_job_slow(&mut self, j: JobId, op: u32) {
        let job = self.jobs[j];
        let now = self.now;
        let t = self.tracer.as_deref_mut().expect("tracing");
        let parent = match job.parent {
            Parent::Client { attempt, .. } | Parent::Call { attempt, .. } => {
                get(&t.attempts, attempt.0 as usize)
            }
            Parent::Message { msg, .. } => get(&t.msgs, msg.0 as usize),
            // Records of partitioned logs are not traced yet.
            Parent::Record { .. } => NONE,
            Parent::Detached { .. } => NONE,
            // Not while tracing: a traced source opens a call.
            Parent::Source { .. } => NONE,
        };
        let id = if parent == NONE {
            NONE
        } else {
            if let What::Attempt { sent, .. } = &mut t.log.spans[parent as usize].what {
                *sent = true;
            }
            let place = Place::Replica {
                service: job.service,
                replica: 0,
            };
            let what = What::Job {
                op,
                arrived: None,
                started: None,
                cut_off: false,
            };
            t.open(parent, None, span(place, what, now))
        };
        put(&mut t.jobs, j.0 as usize, (id, job.generation), (NONE, 0));
        put(&mut t.steps, j.0 as usize, NONE, NONE);
    }

    /// Job `j` answers (or is refused, or cut off by a crash), before its
    /// slot is freed.
    #[inline]
    pub(super) fn trace_job_end(&mut self, j: JobId, outcome: Outcome) {
        if self.tracer.is_some() {
            self.trace_job_end_slow(j, Some(outcome));
        }
    }

    #[cold]
    fn trace_job_end_slow(&mut self, j: JobId, outcome: Option<Outcome>) {
        let job = self.jobs[j];
        let now = self.now;
        let t = self.tracer.as_deref_mut().expect("tracing");
        end_job(t, j, &job, now, outcome);
    }

    /// Job `j` runs its step now (any step: only the timed ones open a
    /// span).
    #[inline]
    pub(super) fn trace_step(&mut self, j: JobId) {
        if self.tracer.is_some() {
            self.trace_step_slow(j);
        }
    }

    #[cold]
    fn trace_step_slow(&mut self, j: JobId) {
        let job = self.jobs[j];
        let kind = match self.m.steps[job.step as usize] {
            Step::Work(_) | Step::Blocking(_) => StepKind::Work,
            Step::Wait(_) => StepKind::Wait,
            Step::Publish(p) => StepKind::Publish { publish: p },
            _ => return,
        };
        self.open_step_span(j, kind);
    }

    /// Opens a step span of `kind` under job `j`'s span, if the job is
    /// traced (a timed step, or a store's read or write).
    fn open_step_span(&mut self, j: JobId, kind: StepKind) {
        let job = self.jobs[j];
        let now = self.now;
        let t = self.tracer.as_deref_mut().expect("tracing");
        let (id, generation) = t.jobs.get(j.0 as usize).copied().unwrap_or((NONE, 0));
        if id == NONE || generation != job.generation {
            return;
        }
        let place = Place::Replica {
            service: job.service,
            replica: job.replica,
        };
        let step = t.open(id, None, span(place, What::Step { kind }, now));
        put(&mut t.steps, j.0 as usize, step, NONE);
    }

    /// Job `j`'s timed step ended.
    #[inline]
    pub(super) fn trace_step_end(&mut self, j: JobId) {
        if let Some(t) = self.tracer.as_deref_mut() {
            let step = get(&t.steps, j.0 as usize);
            if step != NONE {
                t.close(step, self.now, None);
                t.steps[j.0 as usize] = NONE;
            }
        }
    }

    /// Job `j` is about to enqueue its publish step's messages (`None`:
    /// it is done).
    #[inline]
    pub(super) fn trace_publishing(&mut self, j: Option<JobId>) {
        if let Some(t) = self.tracer.as_deref_mut() {
            t.publishing = j.map_or(NONE, |j| get(&t.steps, j.0 as usize));
        }
    }

    /// A message was enqueued: it belongs to the publish step in progress,
    /// if that is traced.
    #[inline]
    pub(super) fn trace_message(&mut self, msg: MsgId) {
        if let Some(t) = self.tracer.as_deref_mut() {
            let span = t.publishing;
            put(&mut t.msgs, msg.0 as usize, span, NONE);
        }
    }

    /// An attempt ended with `outcome`.
    #[inline]
    pub(super) fn trace_attempt_end(&mut self, att: AttemptId, outcome: Outcome) {
        if let Some(t) = self.tracer.as_deref_mut() {
            let id = get(&t.attempts, att.0 as usize);
            if id != NONE {
                t.close(id, self.now, Some(outcome));
                t.attempts[att.0 as usize] = NONE;
            }
        }
    }

    /// A call ended: its caller is told `outcome`.
    #[inline]
    pub(super) fn trace_call_end(&mut self, call: CallId, outcome: Outcome) {
        if let Some(t) = self.tracer.as_deref_mut() {
            let id = get(&t.calls, call.0 as usize);
            if id != NONE {
                t.close(id, self.now, Some(outcome));
                t.calls[call.0 as usize] = NONE;
            }
        }
    }

    /// The log at the run's end: jobs still queued or running learn where
    /// they are; every span still open stays open (`end: None`).
    pub(super) fn finish_trace(&mut self) -> Option<TraceLog> {
        let mut t = self.tracer.take()?;
        for i in 0..t.jobs.len().min(self.jobs.len()) {
            let j = JobId(i as u32);
            let job = self.jobs[j];
            if job.state != JobState::Free {
                end_job(&mut t, j, &job, self.now, None);
            }
        }
        t.settle_reservoir();
        t.log.end = self.now;
        Some(t.log)
    }
}

/// Job `j` (`job`, its record) ends with `outcome`, or is still in the
/// system at the run's end (`None`): its span learns where it ran, when it
/// arrived and started, and closes (its open step too).
fn end_job(t: &mut Tracer, j: JobId, job: &Job, now: Nanos, outcome: Option<Outcome>) {
    let (id, generation) = t.jobs.get(j.0 as usize).copied().unwrap_or((NONE, 0));
    if id == NONE || generation != job.generation || t.log.spans[id as usize].end.is_some() {
        return;
    }
    let step = get(&t.steps, j.0 as usize);
    if step != NONE && outcome.is_some() {
        t.close(step, now, None);
        t.steps[j.0 as usize] = NONE;
    }
    let s = &mut t.log.spans[id as usize];
    s.place = Place::Replica {
        service: job.service,
        replica: job.replica,
    };
    if let What::Job {
        arrived,
        started,
        cut_off,
        ..
    } = &mut s.what
    {
        let holds_a_place = matches!(job.state, JobState::Queued | JobState::Running);
        // Refused at the door: it arrived (`admit` stamped it) but never
        // held a place. Still on the wire at the end: it never arrived.
        if holds_a_place || outcome.is_some() {
            *arrived = Some(job.t_arrive);
        }
        // A job killed as it took its thread (its arrival pushed memory
        // past the limit) never started: its `t_start` is still `NEVER`.
        if job.state == JobState::Running && job.t_start != NEVER {
            *started = Some(job.t_start);
        }
        // Refused or reset while it held a place: a crash or a kill cut
        // it off.
        *cut_off = matches!(outcome, Some(Outcome::Refused | Outcome::Reset)) && holds_a_place;
    }
    if outcome.is_some() {
        t.close(id, now, outcome);
    }
}

#[cfg(test)]
mod tests {
    use crate::options::Watch;
    use crate::trace::{StepKind, TraceLog, TraceOptions, What};

    /// Timeouts, retries and a full queue: attempts that time out, retry,
    /// are rejected, and orphaned jobs that run on.
    const RETRYING: &str = r#"
        name = "t"
        duration = "20s"
        [workload.w]
        target = "a"
        rate = 200
        [services.a]
        threads = 50
        steps = [{ work = "1ms" }, { call = "b", timeout = "6ms",
                   retry = { max_attempts = 3, retry_on = ["timeout", "rejected"] } }]
        [services.b]
        threads = 1
        queue = 2
        steps = [{ work = { dist = "exponential", mean = "4ms" } }]
    "#;

    fn traced(text: &str, seed: u64, options: TraceOptions) -> TraceLog {
        let s = crate::scenario::load("t.toml", text, &[]).expect("valid");
        assert!(!s.model.sources.is_empty());
        let plain = crate::run_scenario(&s, Some(seed), &[]);
        let (result, log) =
            crate::run_scenario_traced(&s, Some(seed), &[], Watch::default(), options);
        assert_eq!(plain, result, "tracing changed the run's results");
        log
    }

    #[test]
    fn tracing_changes_nothing_and_every_tree_hangs_together() {
        let log = traced(
            RETRYING,
            3,
            TraceOptions {
                sample: 0.5,
                max_traces: 300,
            },
        );
        assert_eq!(log.traces, 300);
        assert!(log.skipped > 1000, "{}", log.skipped);
        let (mut retries, mut timeouts, mut rejected) = (0, 0, 0);
        for (i, s) in log.spans.iter().enumerate() {
            let parent = s.parent.map(|p| &log.spans[p.0 as usize]);
            if let Some(p) = s.parent {
                assert!((p.0 as usize) < i, "a child before its parent");
                assert_eq!(parent.unwrap().trace, s.trace);
            }
            let parent_what = parent.map(|p| p.what);
            match s.what {
                What::Call { .. } => assert!(
                    matches!(parent_what, None | Some(What::Job { .. })),
                    "{s:?}"
                ),
                What::Attempt { number, .. } => {
                    assert!(matches!(parent_what, Some(What::Call { .. })), "{s:?}");
                    retries += usize::from(number > 1);
                }
                What::Job { .. } => assert!(matches!(
                    parent_what,
                    Some(What::Attempt { sent: true, .. })
                        | Some(What::Step {
                            kind: StepKind::Publish { .. }
                        })
                )),
                What::Step { .. } => {
                    assert!(matches!(
                        parent_what,
                        Some(What::Job {
                            started: Some(_),
                            ..
                        })
                    ))
                }
            }
            assert!(log.end_of(s) >= s.start, "{s:?}");
            timeouts += usize::from(s.outcome == Some(crate::Outcome::Timeout));
            rejected += usize::from(s.outcome == Some(crate::Outcome::Rejected));
        }
        assert!(retries > 0 && timeouts > 0 && rejected > 0);
        // Roots: one per trace, in order.
        let roots: Vec<u32> = log
            .spans
            .iter()
            .filter(|s| s.parent.is_none())
            .map(|s| s.trace.0)
            .collect();
        assert_eq!(roots, (0..300).collect::<Vec<_>>());
    }

    #[test]
    fn a_published_message_is_handled_under_its_publish_step() {
        let text = r#"
            name = "t"
            duration = "5s"
            [workload.w]
            target = "a"
            rate = 100
            [services.a]
            threads = 8
            steps = [{ work = "1ms" }, { publish = "orders" }]
            [queues.orders]
            consumer = "c"
            [services.c]
            threads = 4
            steps = [{ work = "2ms" }]
        "#;
        let log = traced(
            text,
            1,
            TraceOptions {
                sample: 1.0,
                max_traces: 50,
            },
        );
        let consumers = log
            .spans
            .iter()
            .filter(|s| {
                matches!(s.what, What::Job { .. })
                    && s.parent.is_some_and(|p| {
                        matches!(
                            log.spans[p.0 as usize].what,
                            What::Step {
                                kind: StepKind::Publish { .. }
                            }
                        )
                    })
            })
            .count();
        assert_eq!(consumers, 50, "one consumer handling per traced publish");
        assert_eq!(log.publishes, ["orders"]);
    }

    #[test]
    fn the_sample_takes_its_share_of_root_requests() {
        // Poisson arrivals at 200/s for 20 s, 10 % of them sampled: a
        // Poisson count of mean 400; 4σ.
        let log = traced(
            RETRYING,
            5,
            TraceOptions {
                sample: 0.1,
                max_traces: u32::MAX,
            },
        );
        let sigma = 400.0_f64.sqrt();
        let got = f64::from(log.traces);
        assert!((got - 400.0).abs() < 4.0 * sigma, "{got} traces");
        assert_eq!(log.skipped, 0);
    }
}
