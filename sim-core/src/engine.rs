//! The event loop and the synchronous world: sources, services with thread
//! pools and accept queues, calls over the network with their resilience
//! patterns, timeouts, faults. The asynchronous world (brokers, queues,
//! consumers) is the `broker` submodule, on the same loop and arenas.
//!
//! Owns the simulated state (arenas of jobs, calls and attempts indexed by
//! `u32`) and the order of events: a binary heap keyed by (time, sequence
//! number), so events at the same nanosecond run in the order they were
//! scheduled. Timers are never removed: a timer whose job, call or attempt
//! has moved on carries an old generation number and is skipped when popped.
//!
//! Semantics (see DESIGN.md):
//! - a worker is held for the whole handling of a request, including every
//!   wait on a synchronous call (the held-thread rule);
//! - when a caller's timeout fires, the callee keeps working on what it
//!   accepted and still serves what is queued (orphaned work, measured);
//! - a failed call fails the calling operation: it skips its remaining
//!   steps and answers with an error;
//! - a *call* is the caller's wait; an *attempt* is one request sent for
//!   it. The call's layers (`CallSpec::layers`, outermost first) apply once
//!   per call up to the first retry or hedge layer, and to every attempt
//!   inside it: a breaker inside a retry counts every attempt, outside it
//!   one per call.
//!
//! Must not do I/O, read a clock or allocate per event once arenas have
//! grown to the number of requests in flight.

mod broker;

use std::cmp::Ordering;
use std::collections::{BinaryHeap, VecDeque};

use rand_chacha::ChaCha8Rng;

use crate::dist::Dist;
use crate::metrics::Recorder;
use crate::model::*;
use crate::output::RunResult;
use crate::patterns::{
    Breaker, Bulkhead, BulkheadEntry, ConcurrencyLimiter, FailureKind, Hedge, Layer, Permit,
    RateLimiter, RetryBudget,
};
use crate::rng::stream;
use crate::time::Nanos;

/// How a call, an attempt or a job ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Outcome {
    Ok = 0,
    /// An error answer.
    Error = 1,
    /// Turned away: an accept queue, bulkhead or limit was full, or the
    /// request was shed.
    Rejected = 2,
    /// A timeout or deadline fired.
    Timeout = 3,
    /// The callee was crashed.
    Refused = 4,
    /// A circuit breaker failed the call without sending it.
    CircuitOpen = 5,
    /// A failure turned into a success by a fallback.
    Degraded = 6,
}

impl Outcome {
    fn from_u8(v: u8) -> Outcome {
        match v {
            0 => Outcome::Ok,
            1 => Outcome::Error,
            2 => Outcome::Rejected,
            3 => Outcome::Timeout,
            4 => Outcome::Refused,
            5 => Outcome::CircuitOpen,
            _ => Outcome::Degraded,
        }
    }

    pub fn is_success(self) -> bool {
        matches!(self, Outcome::Ok | Outcome::Degraded)
    }

    /// The pattern vocabulary's name for a failure (`None` for a success).
    pub fn failure_kind(self) -> Option<FailureKind> {
        match self {
            Outcome::Ok | Outcome::Degraded => None,
            Outcome::Error => Some(FailureKind::Error),
            Outcome::Rejected => Some(FailureKind::Rejected),
            Outcome::Timeout => Some(FailureKind::Timeout),
            Outcome::Refused => Some(FailureKind::Refused),
            Outcome::CircuitOpen => Some(FailureKind::CircuitOpen),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
enum Kind {
    /// Next arrival of source `a`.
    SourceArrival,
    /// Job `a` (generation `b`) reaches its service.
    Arrive,
    /// Job `a` (generation `b`) finished its current work step.
    WorkDone,
    /// The answer to attempt `a` (generation `b`, edge `d`) reaches the
    /// caller; `c` is the outcome.
    Reply,
    /// The per-attempt timeout of attempt `a` (generation `b`).
    AttemptTimeout,
    /// A call-level timer of call `a` (generation `b`): its overall
    /// deadline, or a timeout layer outside the retry.
    CallTimeout,
    /// Call `a` (generation `b`) sends its next attempt after a backoff.
    Retry,
    /// Call `a` (generation `b`) sends a hedged attempt if still waiting.
    Hedge,
    /// A bulkhead wait of waiter `a` (generation `b`) ends.
    BulkheadTimeout,
    /// Call `a` (generation `b`) answers with its fallback.
    Fallback,
    /// The next processor-sharing completion of service `a`, replica `d`
    /// (generation `b` of that replica's CPU schedule).
    CpuDone,
    FaultStart,
    FaultEnd,
    /// The warm-up ends: totals start from here.
    WarmupEnd,
    /// Consumer job `a` (generation `b`) receives its message.
    Delivered,
    /// The visibility timeout of message `a`'s delivery (generation `b`).
    Visibility,
    /// Message `a` (generation `b`) is visible again after its backoff.
    Redeliver,
    /// Job `a` (generation `b`), blocked at publish step `d`, gives up.
    PublishTimeout,
}

#[derive(Clone, Copy, Debug)]
struct Event {
    t: Nanos,
    seq: u64,
    a: u32,
    b: u32,
    /// Reply: the attempt's edge, kept here because the attempt's slot may
    /// have been reused by the time a late reply lands.
    d: u32,
    kind: Kind,
    c: u8,
}

impl PartialEq for Event {
    fn eq(&self, o: &Self) -> bool {
        self.t == o.t && self.seq == o.seq
    }
}
impl Eq for Event {}
impl PartialOrd for Event {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Event {
    /// Reversed, so the max-heap pops the earliest (time, seq).
    fn cmp(&self, o: &Self) -> Ordering {
        (o.t, o.seq).cmp(&(self.t, self.seq))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum JobState {
    Free,
    /// On the network towards its service.
    InFlight,
    Queued,
    /// Holding a thread (working, or waiting on calls).
    Running,
}

/// No deadline.
const NEVER: Nanos = Nanos::MAX;

/// One request's visit to one service replica.
#[derive(Clone, Copy, Debug)]
struct Job {
    generation: u32,
    state: JobState,
    failed: bool,
    /// A call of this job was answered by a fallback.
    degraded: bool,
    service: ServiceId,
    replica: u32,
    /// Absolute index into `model.steps` of the current step.
    step: u32,
    end_step: u32,
    /// Calls still awaited by the current step.
    pending: u32,
    parent_attempt: u32,
    parent_gen: u32,
    /// Edge the request came along (`CLIENT` for a source's request): the
    /// answer goes back along it even if the attempt's slot was reused.
    parent_edge: EdgeId,
    t_arrive: Nanos,
    t_start: Nanos,
    /// Propagated deadline (`NEVER` when the request carries none).
    deadline: Nanos,
    /// When the caller's attempt timed out while this job was alive.
    abandoned_at: Nanos,
    /// Waiting at a `publish` step for queue space or for the broker.
    blocked: bool,
}

const NO_JOB: u32 = u32::MAX;

/// A caller waiting on an answer: a job's call step, or a client request.
#[derive(Clone, Copy, Debug)]
struct Call {
    generation: u32,
    pending: bool,
    /// The waiting job, or `NO_JOB` for a workload source.
    caller: u32,
    /// The job's generation, or the source index.
    caller_gen: u32,
    /// `model.calls[spec]`.
    spec: u32,
    /// Index of this call's pattern state (per call spec and caller replica).
    slot: u32,
    t_sent: Nanos,
    /// Deadline the caller's request carries (`NEVER` if none).
    deadline: Nanos,
    attempts: u16,
    in_flight: u16,
    retries: u16,
    /// Where the call-level layers stopped (a bulkhead wait).
    stage: u8,
    holds_bulkhead: bool,
    breaker_permit: Option<Permit>,
    last_backoff: Nanos,
}

/// One request sent for a call.
#[derive(Clone, Copy, Debug)]
struct Attempt {
    generation: u32,
    live: bool,
    call: u32,
    call_gen: u32,
    t_start: Nanos,
    /// Where the attempt-level layers stopped (a bulkhead wait).
    stage: u8,
    holds_bulkhead: bool,
    breaker_permit: Option<Permit>,
    hedged: bool,
    /// The request left: a job exists at the callee.
    sent: bool,
    /// The attempt's own timeout, if armed (the callee's deadline).
    expires: Nanos,
    /// The callee's job, once sent.
    job: u32,
    job_gen: u32,
}

/// Bulkhead waiter ids: attempts as they are, calls with this bit set.
const CALL_WAITER: u32 = 1 << 31;

/// The live state of one call spec's patterns for one caller replica.
struct PatternState {
    breaker: Option<Breaker>,
    budget: Option<RetryBudget>,
    bulkhead: Option<Bulkhead>,
    rate: Option<RateLimiter>,
    hedge: Option<Hedge>,
}

/// Egalitarian processor sharing on a replica's cores: each job's finish is
/// fixed in virtual time, and virtual time runs at `min(1, cores / active)`.
struct Cpu {
    cores: u32,
    /// Virtual nanoseconds of work done per job so far.
    vclock: f64,
    last: Nanos,
    /// (virtual finish, job, job generation), unordered: replicas hold few.
    active: Vec<(f64, u32, u32)>,
    generation: u32,
}

impl Cpu {
    fn rate(&self) -> f64 {
        let n = self.active.len() as f64;
        if n <= f64::from(self.cores) {
            1.0
        } else {
            f64::from(self.cores) / n
        }
    }

    fn advance(&mut self, now: Nanos) {
        self.vclock += (now - self.last) as f64 * self.rate();
        self.last = now;
    }

    /// When the next job finishes, in real time.
    fn next_done(&self, now: Nanos) -> Option<Nanos> {
        let min = self
            .active
            .iter()
            .map(|a| a.0)
            .fold(f64::INFINITY, f64::min);
        min.is_finite()
            .then(|| now + ((min - self.vclock).max(0.0) / self.rate()).ceil() as Nanos)
    }
}

struct Replica {
    cpu: Option<Cpu>,
    busy: u32,
    queue: VecDeque<u32>,
    crashed: u32,
    hung: u32,
    /// Threads lost to a `lost_threads` fault.
    lost: u32,
    /// End of the stop-the-world pause in force (0 when none).
    paused_until: Nanos,
    slowdown: f64,
    rate: Option<RateLimiter>,
    limiter: Option<ConcurrencyLimiter>,
}

struct SourceState {
    rng: ChaCha8Rng,
    interarrival: Dist,
    sent: u64,
    /// Time of the last arrival.
    last: Nanos,
    /// Rate × this factor (traffic surges).
    factor: f64,
    /// Deterministic arrivals are spaced from this (time, count) anchor,
    /// reset whenever the factor changes, so gaps never drift.
    anchor: (Nanos, u64),
    /// Closed loop: users whose next request would come after `duration`.
    stopped_users: u32,
}

/// Per-run options that are not part of the scenario.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Overrides the scenario's seed.
    pub seed: Option<u64>,
    /// Overrides the scenario's duration.
    pub duration: Option<Nanos>,
    /// Scenario hash and overrides, copied into the summary.
    pub scenario_hash: u64,
    pub overrides: Vec<String>,
}

pub struct World<'m> {
    m: &'m Model,
    now: Nanos,
    seq: u64,
    heap: BinaryHeap<Event>,
    jobs: Vec<Job>,
    free_jobs: Vec<u32>,
    calls: Vec<Call>,
    free_calls: Vec<u32>,
    attempts: Vec<Attempt>,
    free_attempts: Vec<u32>,
    live_jobs: u32,
    live_calls: u32,
    replicas: Vec<Vec<Replica>>,
    rr: Vec<u32>,
    work_rng: Vec<ChaCha8Rng>,
    /// Draws of random and power-of-two balancers, per service.
    lb_rng: Vec<ChaCha8Rng>,
    edge_rng: Vec<ChaCha8Rng>,
    fault_rng: Vec<ChaCha8Rng>,
    /// Jitter draws of each call spec with a retry.
    retry_rng: Vec<ChaCha8Rng>,
    /// `pattern_base[spec] + caller replica` indexes `patterns`.
    pattern_base: Vec<u32>,
    patterns: Vec<PatternState>,
    /// Active fault indices per service (errors and crash), and per edge
    /// (latency). Usually empty: checked before any work.
    svc_faults: Vec<Vec<u32>>,
    edge_faults: Vec<Vec<u32>>,
    sources: Vec<SourceState>,
    duration: Nanos,
    rec: Recorder,
    events: u64,
    /// Sources still sending, and when the last one stopped.
    active_sources: usize,
    sources_end: Nanos,
    /// Attempts sent and not yet answered or timed out, per edge.
    in_flight: Vec<u32>,
    /// Partitions in force per edge.
    partitioned: Vec<u32>,
    /// For a source's call spec, the source's index.
    client_of: Vec<u32>,
    /// Brokers, queues and messages.
    msg: broker::Messaging,
}

/// Runs `model` to the end and returns its results.
pub fn run(model: &Model, opts: &RunOptions) -> RunResult {
    let mut w = World::new(model, opts);
    w.run_loop();
    w.finish(opts)
}

impl<'m> World<'m> {
    fn new(m: &'m Model, opts: &RunOptions) -> World<'m> {
        let seed = opts.seed.unwrap_or(m.seed);
        let duration = opts.duration.unwrap_or(m.duration);
        let replicas = m
            .services
            .iter()
            .map(|s| {
                (0..s.replicas)
                    .map(|_| Replica {
                        cpu: s.cores.map(|cores| Cpu {
                            cores,
                            vclock: 0.0,
                            last: 0,
                            active: Vec::new(),
                            generation: 0,
                        }),
                        busy: 0,
                        queue: VecDeque::with_capacity(if s.queue == UNBOUNDED {
                            1024
                        } else {
                            s.queue.min(1024) as usize
                        }),
                        crashed: 0,
                        hung: 0,
                        lost: 0,
                        paused_until: 0,
                        slowdown: 1.0,
                        rate: s.admission.rate_limit.map(RateLimiter::new),
                        limiter: s.admission.concurrency_limit.map(ConcurrencyLimiter::new),
                    })
                    .collect()
            })
            .collect();
        let sources = m
            .sources
            .iter()
            .map(|s| SourceState {
                rng: stream(seed, &format!("arrivals/{}", s.name)),
                // Shaped sources draw at their peak rate and thin.
                interarrival: Dist::exponential(
                    ((1e9 / s.shape.max_rate(s.rate)).round() as Nanos).max(1),
                )
                .expect("rate is positive"),
                sent: 0,
                last: 0,
                factor: 1.0,
                anchor: (0, 0),
                stopped_users: 0,
            })
            .collect();
        let mut pattern_base = Vec::with_capacity(m.calls.len());
        let mut patterns = Vec::new();
        let mut retry_rng = Vec::with_capacity(m.calls.len());
        for (i, spec) in m.calls.iter().enumerate() {
            pattern_base.push(patterns.len() as u32);
            let callers = if spec.edge == CLIENT {
                1
            } else {
                m.services[m.edges[spec.edge as usize].from as usize].replicas
            };
            let name = if spec.edge == CLIENT {
                let src = m.sources.iter().find(|s| s.call as usize == i);
                format!("client/{}", src.map_or("?", |s| s.name.as_str()))
            } else {
                m.edges[spec.edge as usize].name.clone()
            };
            retry_rng.push(stream(seed, &format!("retry/{name}/{i}")));
            for _ in 0..callers {
                let p = (spec.policy != NO_POLICY).then(|| &m.policies[spec.policy as usize]);
                patterns.push(PatternState {
                    breaker: p.and_then(|p| p.breaker).map(Breaker::new),
                    budget: p
                        .and_then(|p| p.retry.and_then(|r| r.budget))
                        .map(RetryBudget::new),
                    bulkhead: p.and_then(|p| p.bulkhead).map(Bulkhead::new),
                    rate: p.and_then(|p| p.rate_limit).map(RateLimiter::new),
                    hedge: p.and_then(|p| p.hedge).map(Hedge::new),
                });
            }
        }
        let mut w = World {
            m,
            now: 0,
            seq: 0,
            heap: BinaryHeap::with_capacity(1024),
            jobs: Vec::with_capacity(1024),
            free_jobs: Vec::with_capacity(1024),
            calls: Vec::with_capacity(1024),
            free_calls: Vec::with_capacity(1024),
            attempts: Vec::with_capacity(1024),
            free_attempts: Vec::with_capacity(1024),
            live_jobs: 0,
            live_calls: 0,
            replicas,
            rr: vec![0; m.services.len()],
            work_rng: m
                .services
                .iter()
                .map(|s| stream(seed, &s.work_stream))
                .collect(),
            lb_rng: m
                .services
                .iter()
                .map(|s| stream(seed, &format!("lb/{}", s.name)))
                .collect(),
            edge_rng: m
                .edges
                .iter()
                .map(|e| stream(seed, &format!("net/{}", e.name)))
                .collect(),
            fault_rng: m.faults.iter().map(|f| stream(seed, &f.stream)).collect(),
            retry_rng,
            pattern_base,
            patterns,
            svc_faults: vec![Vec::new(); m.services.len()],
            edge_faults: vec![Vec::new(); m.edges.len()],
            sources,
            duration,
            rec: Recorder::new(m, seed),
            events: 0,
            active_sources: m.sources.len(),
            sources_end: 0,
            in_flight: vec![0; m.edges.len()],
            partitioned: vec![0; m.edges.len()],
            client_of: (0..m.calls.len())
                .map(|spec| {
                    m.sources
                        .iter()
                        .position(|s| s.call as usize == spec)
                        .map_or(u32::MAX, |i| i as u32)
                })
                .collect(),
            msg: broker::Messaging::new(m, seed),
        };
        if m.warmup > 0 {
            w.schedule(m.warmup, Kind::WarmupEnd, 0, 0);
        }
        for (i, f) in m.faults.iter().enumerate() {
            w.schedule(f.start, Kind::FaultStart, i as u32, 0);
            w.schedule(f.end, Kind::FaultEnd, i as u32, 0);
        }
        for i in 0..m.sources.len() {
            match m.sources[i].closed {
                // Each user starts after a first think time.
                Some((users, _)) => {
                    for _ in 0..users {
                        w.schedule_think(i);
                    }
                }
                None => w.schedule_next_arrival(i),
            }
        }
        w
    }

    #[inline]
    fn schedule(&mut self, t: Nanos, kind: Kind, a: u32, b: u32) {
        self.schedule_d(t, kind, a, b, 0);
    }

    #[inline]
    fn schedule_d(&mut self, t: Nanos, kind: Kind, a: u32, b: u32, d: u32) {
        self.heap.push(Event {
            t,
            seq: self.seq,
            a,
            b,
            d,
            kind,
            c: 0,
        });
        self.seq += 1;
    }

    fn schedule_next_arrival(&mut self, i: usize) {
        let src = &self.m.sources[i];
        let st = &mut self.sources[i];
        if src.limit.is_some_and(|l| st.sent >= l) {
            let last = st.last;
            self.source_stopped(last);
            return;
        }
        let t = match src.arrivals {
            Arrivals::Poisson if src.shape != Shape::Constant => {
                // Thinning (Lewis & Shedler): candidates at the peak rate,
                // each kept with probability rate(t) / peak.
                let peak = src.shape.max_rate(src.rate);
                let mut t = st.last;
                loop {
                    let gap = st.interarrival.sample(&mut st.rng) as f64 / st.factor;
                    t = t.saturating_add(gap.round() as Nanos);
                    let u: f64 = rand::RngExt::random(&mut st.rng);
                    if t >= self.duration || u * peak < src.shape.rate_at(src.rate, t) {
                        break t;
                    }
                }
            }
            Arrivals::Poisson if st.factor == 1.0 => {
                st.last.saturating_add(st.interarrival.sample(&mut st.rng))
            }
            Arrivals::Poisson => {
                let gap = st.interarrival.sample(&mut st.rng) as f64 / st.factor;
                st.last.saturating_add(gap.round() as Nanos)
            }
            Arrivals::Deterministic if src.shape != Shape::Constant => {
                let r = src.shape.rate_at(src.rate, st.last) * st.factor;
                let gap = if r > 0.0 { 1e9 / r } else { 1e9 };
                st.last.saturating_add(gap.round() as Nanos)
            }
            // Computed from the index, not summed, so gaps never drift.
            Arrivals::Deterministic => {
                let (t0, n0) = st.anchor;
                t0 + ((st.sent + 1 - n0) as f64 * 1e9 / (src.rate * st.factor)).round() as Nanos
            }
        };
        st.last = t;
        if t < self.duration {
            self.schedule(t, Kind::SourceArrival, i as u32, 0);
        } else {
            self.source_stopped(self.duration);
        }
    }

    /// A closed-loop user thinks, then sends its next request (if before
    /// `duration`).
    fn schedule_think(&mut self, i: usize) {
        let (_, think) = self.m.sources[i].closed.expect("closed-loop source");
        let t = self.now + self.m.dists[think as usize].sample(&mut self.sources[i].rng);
        if t < self.duration {
            self.schedule(t, Kind::SourceArrival, i as u32, 0);
        } else {
            self.closed_users_stopped(i);
        }
    }

    fn closed_users_stopped(&mut self, i: usize) {
        let st = &mut self.sources[i];
        st.stopped_users += 1;
        let (users, _) = self.m.sources[i].closed.expect("closed-loop source");
        if st.stopped_users == users {
            self.source_stopped(self.duration);
        }
    }

    fn source_stopped(&mut self, at: Nanos) {
        self.active_sources -= 1;
        self.sources_end = self.sources_end.max(at);
    }

    /// Whether `ev` still matters. Stale timers and messages for jobs cut
    /// off by a crash are skipped without moving the clock, so they never
    /// stretch the run or its windows.
    #[inline]
    fn is_live(&mut self, ev: &Event) -> bool {
        match ev.kind {
            Kind::Arrive | Kind::WorkDone => self.jobs[ev.a as usize].generation == ev.b,
            Kind::Reply => {
                let a = &self.attempts[ev.a as usize];
                let live = a.generation == ev.b && a.live;
                if !live && ev.d != CLIENT {
                    self.rec.edges[ev.d as usize].late_replies += 1;
                }
                live
            }
            Kind::AttemptTimeout => {
                let a = &self.attempts[ev.a as usize];
                a.generation == ev.b && a.live
            }
            Kind::CallTimeout | Kind::Retry | Kind::Hedge | Kind::Fallback => {
                let c = &self.calls[ev.a as usize];
                c.generation == ev.b && c.pending
            }
            Kind::BulkheadTimeout => true,
            Kind::CpuDone => {
                let cpu = self.replicas[ev.a as usize][ev.d as usize].cpu.as_ref();
                cpu.is_some_and(|c| c.generation == ev.b)
            }
            Kind::Delivered => self.jobs[ev.a as usize].generation == ev.b,
            Kind::Visibility => {
                let m = &self.msg.messages[ev.a as usize];
                m.generation == ev.b && m.state == broker::MsgState::InFlight
            }
            Kind::Redeliver => {
                let m = &self.msg.messages[ev.a as usize];
                m.generation == ev.b && m.state == broker::MsgState::Delayed
            }
            Kind::PublishTimeout => {
                let j = &self.jobs[ev.a as usize];
                j.generation == ev.b && j.blocked && j.step == ev.d
            }
            Kind::SourceArrival | Kind::FaultStart | Kind::FaultEnd | Kind::WarmupEnd => true,
        }
    }

    fn run_loop(&mut self) {
        let stop_at = self.duration.saturating_add(self.m.drain);
        while let Some(ev) = self.heap.pop() {
            self.events += 1;
            if ev.t > stop_at {
                self.now = stop_at;
                break;
            }
            if !self.is_live(&ev) {
                continue;
            }
            self.now = ev.t;
            if self.rec.closes_window(ev.t) {
                let g = self.edge_gauges();
                self.rec.set_edge_gauges(g);
                self.rec.advance_windows(ev.t);
            }
            match ev.kind {
                Kind::SourceArrival => self.on_source_arrival(ev.a as usize),
                Kind::Arrive => self.on_arrive(ev.a),
                Kind::WorkDone => {
                    let job = self.jobs[ev.a as usize];
                    let until =
                        self.replicas[job.service as usize][job.replica as usize].paused_until;
                    if until > self.now {
                        // Stopped world: the work finishes when the pause ends.
                        self.schedule(until, Kind::WorkDone, ev.a, ev.b);
                    } else {
                        self.jobs[ev.a as usize].step += 1;
                        self.run_steps(ev.a);
                    }
                }
                Kind::Reply => self.end_attempt(ev.a, Outcome::from_u8(ev.c)),
                Kind::AttemptTimeout => {
                    let spec = self.calls[self.attempts[ev.a as usize].call as usize].spec;
                    self.count_timeout(spec);
                    self.end_attempt(ev.a, Outcome::Timeout);
                }
                Kind::CallTimeout => {
                    self.count_timeout(self.calls[ev.a as usize].spec);
                    self.finish_call(ev.a, Outcome::Timeout);
                }
                Kind::Retry => self.start_attempt(ev.a, false),
                Kind::Hedge => self.on_hedge_timer(ev.a),
                Kind::BulkheadTimeout => self.on_bulkhead_timeout(ev.a, ev.b),
                Kind::Fallback => self.deliver(ev.a, Outcome::Degraded),
                Kind::FaultStart => self.on_fault(ev.a as usize, true),
                Kind::FaultEnd => self.on_fault(ev.a as usize, false),
                Kind::WarmupEnd => self.rec.start_measuring(self.now),
                Kind::CpuDone => self.on_cpu_done(ev.a as usize, ev.d as usize),
                Kind::Delivered => self.run_steps(ev.a),
                Kind::Visibility => self.on_visibility(ev.a),
                Kind::Redeliver => self.on_redeliver(ev.a),
                Kind::PublishTimeout => self.on_publish_timeout(ev.a),
            }
            if self.live_calls == 0
                && self.live_jobs == 0
                && self.active_sources == 0
                && self.msg.live == 0
            {
                break;
            }
        }
        // An idle system still counts as observed until the sources stop.
        self.now = self.now.max(self.sources_end.min(stop_at));
    }

    /// Per edge: the share of caller replicas whose breaker is open (half
    /// open counts half), and attempts in flight. Sampled at window ends.
    fn edge_gauges(&mut self) -> Vec<(f64, f64)> {
        let mut out = vec![(0.0, 0.0); self.m.edges.len()];
        let mut breakers = vec![0u32; self.m.edges.len()];
        for (spec, c) in self.m.calls.iter().enumerate() {
            if c.edge == CLIENT {
                continue;
            }
            let slots = self.pattern_slots(spec);
            for p in &mut self.patterns[slots] {
                if let Some(b) = &mut p.breaker {
                    b.poll(self.now);
                    breakers[c.edge as usize] += 1;
                    out[c.edge as usize].0 += match b.state() {
                        crate::patterns::BreakerState::Open => 1.0,
                        crate::patterns::BreakerState::HalfOpen => 0.5,
                        crate::patterns::BreakerState::Closed => 0.0,
                    };
                }
            }
        }
        for (e, o) in out.iter_mut().enumerate() {
            if breakers[e] > 0 {
                o.0 /= f64::from(breakers[e]);
            }
            o.1 = f64::from(self.in_flight[e]);
        }
        out
    }

    /// The pattern states of call spec `spec`, one per caller replica.
    fn pattern_slots(&self, spec: usize) -> std::ops::Range<usize> {
        let base = self.pattern_base[spec] as usize;
        let end = self
            .pattern_base
            .get(spec + 1)
            .map_or(self.patterns.len(), |x| *x as usize);
        base..end
    }

    /// Arms the replica's next processor-sharing completion (older ones
    /// become stale).
    fn reschedule_cpu(&mut self, s: usize, r: usize) {
        let now = self.now;
        let cpu = self.replicas[s][r]
            .cpu
            .as_mut()
            .expect("a CPU-limited replica");
        cpu.generation = cpu.generation.wrapping_add(1);
        if let Some(t) = cpu.next_done(now) {
            let generation = cpu.generation;
            self.heap.push(Event {
                t,
                seq: self.seq,
                a: s as u32,
                b: generation,
                d: r as u32,
                kind: Kind::CpuDone,
                c: 0,
            });
            self.seq += 1;
        }
    }

    /// Jobs whose work is done leave the CPU and go on to their next step.
    fn on_cpu_done(&mut self, s: usize, r: usize) {
        let cpu = self.replicas[s][r]
            .cpu
            .as_mut()
            .expect("a CPU-limited replica");
        cpu.advance(self.now);
        // Half a nanosecond of slack: completion times are rounded up.
        let v = cpu.vclock + 0.5;
        let mut done = Vec::new();
        cpu.active.retain(|&(finish, j, g)| {
            if finish <= v {
                done.push((j, g));
                false
            } else {
                true
            }
        });
        self.reschedule_cpu(s, r);
        for (j, g) in done {
            if self.jobs[j as usize].generation == g {
                self.jobs[j as usize].step += 1;
                self.run_steps(j);
            }
        }
    }

    fn count_timeout(&mut self, spec: u32) {
        let edge = self.m.calls[spec as usize].edge;
        if edge != CLIENT {
            self.rec.edges[edge as usize].timeouts += 1;
        }
    }

    // ----------------------------------------------------------- arenas --

    fn alloc_job(
        &mut self,
        service: ServiceId,
        op: OpId,
        parent: (u32, u32),
        parent_edge: EdgeId,
        deadline: Nanos,
    ) -> u32 {
        let o = &self.m.ops[op as usize];
        let mut job = Job {
            generation: 0,
            state: JobState::InFlight,
            failed: false,
            degraded: false,
            service,
            replica: 0,
            step: o.first_step,
            end_step: o.first_step + o.step_count,
            pending: 0,
            parent_attempt: parent.0,
            parent_gen: parent.1,
            parent_edge,
            t_arrive: 0,
            t_start: 0,
            deadline,
            abandoned_at: NEVER,
            blocked: false,
        };
        self.live_jobs += 1;
        if let Some(i) = self.free_jobs.pop() {
            job.generation = self.jobs[i as usize].generation;
            self.jobs[i as usize] = job;
            i
        } else {
            self.jobs.push(job);
            (self.jobs.len() - 1) as u32
        }
    }

    fn free_job(&mut self, j: u32) {
        let job = &mut self.jobs[j as usize];
        job.generation = job.generation.wrapping_add(1);
        job.state = JobState::Free;
        self.free_jobs.push(j);
        self.live_jobs -= 1;
    }

    fn alloc_call(
        &mut self,
        caller: u32,
        caller_gen: u32,
        spec: u32,
        caller_replica: u32,
        deadline: Nanos,
    ) -> u32 {
        let call = Call {
            generation: 0,
            pending: true,
            caller,
            caller_gen,
            spec,
            slot: self.pattern_base[spec as usize] + caller_replica,
            t_sent: self.now,
            deadline,
            attempts: 0,
            in_flight: 0,
            retries: 0,
            stage: 0,
            holds_bulkhead: false,
            breaker_permit: None,
            last_backoff: 0,
        };
        self.live_calls += 1;
        if let Some(i) = self.free_calls.pop() {
            let generation = self.calls[i as usize].generation;
            self.calls[i as usize] = Call { generation, ..call };
            i
        } else {
            self.calls.push(call);
            (self.calls.len() - 1) as u32
        }
    }

    fn alloc_attempt(&mut self, call: u32, hedged: bool) -> u32 {
        let a = Attempt {
            generation: 0,
            live: true,
            call,
            call_gen: self.calls[call as usize].generation,
            t_start: self.now,
            stage: 0,
            holds_bulkhead: false,
            breaker_permit: None,
            hedged,
            sent: false,
            expires: NEVER,
            job: NO_JOB,
            job_gen: 0,
        };
        if let Some(i) = self.free_attempts.pop() {
            let generation = self.attempts[i as usize].generation;
            self.attempts[i as usize] = Attempt { generation, ..a };
            i
        } else {
            self.attempts.push(a);
            (self.attempts.len() - 1) as u32
        }
    }

    // ----------------------------------------------------------- events --

    fn on_source_arrival(&mut self, i: usize) {
        self.sources[i].sent += 1;
        if self.m.sources[i].closed.is_none() {
            self.schedule_next_arrival(i);
        }
        let src = &self.m.sources[i];
        let deadline = match (src.propagate_deadline, src.timeout) {
            (true, Some(t)) => self.now + t,
            _ => NEVER,
        };
        let spec = src.call;
        self.rec.entry_arrival(i, self.now);
        let call = self.alloc_call(NO_JOB, i as u32, spec, 0, deadline);
        self.start_call(call);
    }

    /// A job reaches its service: admission, then a thread, a queue slot,
    /// or a refusal.
    fn on_arrive(&mut self, j: u32) {
        let s = self.jobs[j as usize].service as usize;
        let r = self.pick_replica(s);
        let now = self.now;
        let job = &mut self.jobs[j as usize];
        job.replica = r;
        job.t_arrive = now;
        let threads = self.m.services[s].threads;
        let capacity = u64::from(self.m.services[s].queue);
        let rep = &mut self.replicas[s][r as usize];
        self.rec.services[s].arrivals += 1;
        if rep.crashed > 0 {
            self.rec.services[s].refused += 1;
            self.refuse(j, Outcome::Refused);
            return;
        }
        if rep.hung > 0 {
            // A black hole: accepted, never answered.
            self.rec.services[s].blackholed += 1;
            self.free_job(j);
            return;
        }
        if let Some(rl) = &mut rep.rate
            && !rl.try_acquire(now)
        {
            self.rec.services[s].rate_limited += 1;
            self.refuse(j, Outcome::Rejected);
            return;
        }
        if let Some(l) = &rep.limiter
            && !l.admits(rep.busy + rep.queue.len() as u32)
        {
            self.rec.services[s].concurrency_limited += 1;
            self.refuse(j, Outcome::Rejected);
            return;
        }
        if rep.busy + rep.lost < threads {
            rep.busy += 1;
            self.rec.services[s].add_busy(now, 1);
            self.start_job(j);
        } else if (rep.queue.len() as u64) < capacity {
            rep.queue.push_back(j);
            job.state = JobState::Queued;
            self.rec.services[s].add_queued(now, 1);
        } else {
            self.rec.services[s].rejected += 1;
            self.refuse(j, Outcome::Rejected);
        }
    }

    #[inline]
    fn pick_replica(&mut self, s: usize) -> u32 {
        use crate::model::Balancer;
        let n = self.m.services[s].replicas;
        if n == 1 {
            return 0;
        }
        let outstanding = |w: &World, r: u32| {
            let rep = &w.replicas[s][r as usize];
            rep.busy as usize + rep.queue.len()
        };
        match self.m.services[s].balancer {
            Balancer::RoundRobin => {
                let r = self.rr[s];
                self.rr[s] = (r + 1) % n;
                r
            }
            Balancer::Random => rand::RngExt::random_range(&mut self.lb_rng[s], 0..n),
            Balancer::LeastOutstanding => {
                // Ties go round robin, so an idle system still spreads.
                let start = self.rr[s];
                self.rr[s] = (start + 1) % n;
                (0..n)
                    .map(|k| (start + k) % n)
                    .min_by_key(|r| outstanding(self, *r))
                    .expect("n > 1")
            }
            Balancer::PowerOfTwo => {
                let a = rand::RngExt::random_range(&mut self.lb_rng[s], 0..n);
                let b = (a + rand::RngExt::random_range(&mut self.lb_rng[s], 1..n)) % n;
                if outstanding(self, b) < outstanding(self, a) {
                    b
                } else {
                    a
                }
            }
        }
    }

    /// Answers a job that never ran.
    fn refuse(&mut self, j: u32, outcome: Outcome) {
        let job = self.jobs[j as usize];
        self.free_job(j);
        self.answer(job, outcome);
    }

    /// The job's outcome goes to whoever waits for it: a caller's attempt,
    /// or the broker that delivered it.
    fn answer(&mut self, job: Job, outcome: Outcome) {
        if job.parent_edge == CONSUMER {
            self.consumer_done(job, outcome);
        } else {
            self.reply(job.parent_attempt, job.parent_gen, job.parent_edge, outcome);
        }
    }

    /// The job takes a thread (already counted busy). A request whose
    /// deadline has passed is dropped at once.
    fn start_job(&mut self, j: u32) {
        let now = self.now;
        let job = &mut self.jobs[j as usize];
        job.state = JobState::Running;
        job.t_start = now;
        let s = job.service as usize;
        let wait = now - job.t_arrive;
        let (arrived, deadline) = (job.t_arrive, job.deadline);
        self.rec.services[s].record_wait(arrived, wait);
        if now >= deadline {
            self.rec.services[s].deadline_dropped += 1;
            self.complete_job(j, Outcome::Timeout);
            return;
        }
        self.run_steps(j);
    }

    /// Runs the job from its current step until it must wait.
    fn run_steps(&mut self, j: u32) {
        let job = self.jobs[j as usize];
        if job.step == job.end_step {
            let outcome = if job.degraded {
                Outcome::Degraded
            } else {
                Outcome::Ok
            };
            self.complete_job(j, outcome);
            return;
        }
        if self.now >= job.deadline {
            self.rec.services[job.service as usize].deadline_dropped += 1;
            self.complete_job(j, Outcome::Timeout);
            return;
        }
        match self.m.steps[job.step as usize] {
            Step::Work(d) => {
                let s = job.service as usize;
                let mut t = self.m.dists[d as usize].sample(&mut self.work_rng[s]);
                let f = self.replicas[s][job.replica as usize].slowdown;
                if f != 1.0 {
                    t = (t as f64 * f).round() as Nanos;
                }
                let r = job.replica as usize;
                if let Some(cpu) = &mut self.replicas[s][r].cpu {
                    cpu.advance(self.now);
                    cpu.active.push((cpu.vclock + t as f64, j, job.generation));
                    self.reschedule_cpu(s, r);
                } else {
                    self.schedule(self.now + t, Kind::WorkDone, j, job.generation);
                }
            }
            Step::Call(c) => {
                self.jobs[j as usize].pending = 1;
                self.call_from_job(j, c);
            }
            Step::Publish(p) => self.publish_step(j, p),
            Step::Parallel { first, count } => {
                self.jobs[j as usize].pending = count;
                for c in first..first + count {
                    if self.jobs[j as usize].generation != job.generation {
                        break; // the job already failed and answered
                    }
                    self.call_from_job(j, c);
                }
            }
        }
    }

    fn call_from_job(&mut self, j: u32, spec: u32) {
        let job = self.jobs[j as usize];
        let call = self.alloc_call(j, job.generation, spec, job.replica, job.deadline);
        self.start_call(call);
    }

    // ------------------------------------------------------------ calls --

    fn layers(&self, spec: u32) -> &'m [Layer] {
        self.m.calls[spec as usize].layers()
    }

    /// A new call: the budget learns of it, its deadline is armed, and its
    /// call-level layers are entered.
    fn start_call(&mut self, call: u32) {
        let c = self.calls[call as usize];
        let spec = self.m.calls[c.spec as usize];
        if spec.policy != NO_POLICY {
            let p = &self.m.policies[spec.policy as usize];
            if let Some(b) = &mut self.patterns[c.slot as usize].budget {
                b.on_request(self.now);
            }
            if let Some(d) = p.deadline {
                self.calls[call as usize].deadline = c.deadline.min(self.now + d);
                self.schedule(self.now + d, Kind::CallTimeout, call, c.generation);
            }
        }
        self.call_stage(call, 0);
    }

    /// Enters the call-level layers from `from`; then the first attempt.
    fn call_stage(&mut self, call: u32, from: usize) {
        let c = self.calls[call as usize];
        let spec = self.m.calls[c.spec as usize];
        let layers = self.layers(c.spec);
        for (i, layer) in layers
            .iter()
            .enumerate()
            .take(spec.split as usize)
            .skip(from)
        {
            match layer {
                Layer::Fallback | Layer::Retry | Layer::Hedge => {}
                Layer::Breaker => match self.breaker_acquire(c.slot, c.spec) {
                    Some(p) => self.calls[call as usize].breaker_permit = Some(p),
                    None => return self.finish_call(call, Outcome::CircuitOpen),
                },
                Layer::RateLimit => {
                    if !self.rate_acquire(c.slot, c.spec) {
                        return self.finish_call(call, Outcome::Rejected);
                    }
                }
                Layer::Timeout => {
                    let t = spec
                        .timeout
                        .expect("timeout layers exist only with a timeout");
                    self.calls[call as usize].deadline = c.deadline.min(self.now + t);
                    self.schedule(self.now + t, Kind::CallTimeout, call, c.generation);
                }
                Layer::Bulkhead => {
                    match self.bulkhead_enter(c.slot, c.spec, call | CALL_WAITER, c.generation) {
                        BulkheadEntry::Entered => self.calls[call as usize].holds_bulkhead = true,
                        BulkheadEntry::Waiting => {
                            self.calls[call as usize].stage = i as u8;
                            return;
                        }
                        BulkheadEntry::Rejected => {
                            return self.finish_call(call, Outcome::Rejected);
                        }
                    }
                }
            }
        }
        self.start_attempt(call, false);
    }

    fn breaker_acquire(&mut self, slot: u32, spec: u32) -> Option<Permit> {
        let b = self.patterns[slot as usize]
            .breaker
            .as_mut()
            .expect("breaker layer has a breaker");
        let permit = b.try_acquire(self.now);
        if permit.is_none() {
            self.edge_stat(spec, |e| e.circuit_open += 1);
        }
        permit
    }

    fn rate_acquire(&mut self, slot: u32, spec: u32) -> bool {
        let rl = self.patterns[slot as usize]
            .rate
            .as_mut()
            .expect("rate layer has a limiter");
        let ok = rl.try_acquire(self.now);
        if !ok {
            self.edge_stat(spec, |e| e.rate_limited += 1);
        }
        ok
    }

    fn bulkhead_enter(
        &mut self,
        slot: u32,
        spec: u32,
        waiter: u32,
        generation: u32,
    ) -> BulkheadEntry {
        let bh = self.patterns[slot as usize]
            .bulkhead
            .as_mut()
            .expect("bulkhead layer has a bulkhead");
        let wait = bh.config().max_wait_duration;
        let entry = bh.enter(waiter);
        match entry {
            BulkheadEntry::Waiting => {
                self.schedule(self.now + wait, Kind::BulkheadTimeout, waiter, generation)
            }
            BulkheadEntry::Rejected => self.edge_stat(spec, |e| e.bulkhead_rejected += 1),
            BulkheadEntry::Entered => {}
        }
        entry
    }

    /// Frees a bulkhead permit; the oldest waiter, if any, goes on.
    fn bulkhead_release(&mut self, slot: u32) {
        let bh = self.patterns[slot as usize]
            .bulkhead
            .as_mut()
            .expect("held permits come from a bulkhead");
        if let Some(w) = bh.release() {
            if w & CALL_WAITER != 0 {
                let call = w & !CALL_WAITER;
                self.calls[call as usize].holds_bulkhead = true;
                let stage = self.calls[call as usize].stage as usize;
                self.call_stage(call, stage + 1);
            } else {
                self.attempts[w as usize].holds_bulkhead = true;
                let stage = self.attempts[w as usize].stage as usize;
                self.attempt_stage(w, stage + 1);
            }
        }
    }

    fn on_bulkhead_timeout(&mut self, waiter: u32, generation: u32) {
        let (slot, live) = if waiter & CALL_WAITER != 0 {
            let c = &self.calls[(waiter & !CALL_WAITER) as usize];
            (
                c.slot,
                c.pending && c.generation == generation && !c.holds_bulkhead,
            )
        } else {
            let a = &self.attempts[waiter as usize];
            let c = &self.calls[a.call as usize];
            (
                c.slot,
                a.live && a.generation == generation && !a.holds_bulkhead,
            )
        };
        if !live {
            return;
        }
        let bh = self.patterns[slot as usize]
            .bulkhead
            .as_mut()
            .expect("waiters wait at a bulkhead");
        if !bh.remove_waiter(waiter) {
            return;
        }
        if waiter & CALL_WAITER != 0 {
            let call = waiter & !CALL_WAITER;
            self.edge_stat(self.calls[call as usize].spec, |e| e.bulkhead_rejected += 1);
            self.finish_call(call, Outcome::Rejected);
        } else {
            let spec = self.calls[self.attempts[waiter as usize].call as usize].spec;
            self.edge_stat(spec, |e| e.bulkhead_rejected += 1);
            self.end_attempt(waiter, Outcome::Rejected);
        }
    }

    /// Sends a new attempt (a first try, a retry, or a hedge).
    fn start_attempt(&mut self, call: u32, hedged: bool) {
        let att = self.alloc_attempt(call, hedged);
        let c = &mut self.calls[call as usize];
        c.attempts += 1;
        c.in_flight += 1;
        let (spec, slot, attempts, generation) = (c.spec, c.slot, c.attempts, c.generation);
        self.edge_stat(spec, |e| e.attempts += 1);
        if self.m.calls[spec as usize].policy != NO_POLICY
            && let Some(h) = &self.patterns[slot as usize].hedge
            && u32::from(attempts) < h.max_attempts()
        {
            let delay = h.delay();
            self.schedule(self.now + delay, Kind::Hedge, call, generation);
        }
        let split = self.m.calls[spec as usize].split as usize;
        self.attempt_stage(att, split);
    }

    fn on_hedge_timer(&mut self, call: u32) {
        let c = self.calls[call as usize];
        let max = self.patterns[c.slot as usize]
            .hedge
            .as_ref()
            .map_or(0, |h| h.max_attempts());
        if c.in_flight > 0 && u32::from(c.attempts) < max {
            self.edge_stat(c.spec, |e| e.hedges += 1);
            self.start_attempt(call, true);
        }
    }

    /// Enters the attempt-level layers from `from`; then sends it.
    fn attempt_stage(&mut self, att: u32, from: usize) {
        let a = self.attempts[att as usize];
        let c = self.calls[a.call as usize];
        let spec = self.m.calls[c.spec as usize];
        let layers = self.layers(c.spec);
        for (i, layer) in layers.iter().enumerate().skip(from) {
            match layer {
                Layer::Fallback | Layer::Retry | Layer::Hedge => {}
                Layer::Breaker => match self.breaker_acquire(c.slot, c.spec) {
                    Some(p) => self.attempts[att as usize].breaker_permit = Some(p),
                    None => return self.end_attempt(att, Outcome::CircuitOpen),
                },
                Layer::RateLimit => {
                    if !self.rate_acquire(c.slot, c.spec) {
                        return self.end_attempt(att, Outcome::Rejected);
                    }
                }
                Layer::Timeout => {
                    let t = spec
                        .timeout
                        .expect("timeout layers exist only with a timeout");
                    self.attempts[att as usize].expires = self.now + t;
                    self.schedule(self.now + t, Kind::AttemptTimeout, att, a.generation);
                }
                Layer::Bulkhead => match self.bulkhead_enter(c.slot, c.spec, att, a.generation) {
                    BulkheadEntry::Entered => self.attempts[att as usize].holds_bulkhead = true,
                    BulkheadEntry::Waiting => {
                        self.attempts[att as usize].stage = i as u8;
                        return;
                    }
                    BulkheadEntry::Rejected => return self.end_attempt(att, Outcome::Rejected),
                },
            }
        }
        self.send_attempt(att);
    }

    /// The attempt's request leaves: a job at the callee, a hop away (at
    /// once for a client's request).
    fn send_attempt(&mut self, att: u32) {
        let a = self.attempts[att as usize];
        self.attempts[att as usize].sent = true;
        let c = self.calls[a.call as usize];
        let spec = self.m.calls[c.spec as usize];
        let to = self.m.ops[spec.op as usize].service;
        let deadline = if c.deadline == NEVER {
            NEVER
        } else {
            c.deadline.min(a.expires)
        };
        let job = self.alloc_job(to, spec.op, (att, a.generation), spec.edge, deadline);
        self.attempts[att as usize].job = job;
        self.attempts[att as usize].job_gen = self.jobs[job as usize].generation;
        if spec.edge == CLIENT {
            self.on_arrive(job);
        } else if self.partitioned[spec.edge as usize] > 0 {
            // Lost on the way: the caller waits for its timeout.
            self.rec.edges[spec.edge as usize].calls += 1;
            self.rec.edges[spec.edge as usize].lost += 1;
            self.in_flight[spec.edge as usize] += 1;
            self.free_job(job);
        } else {
            self.rec.edges[spec.edge as usize].calls += 1;
            self.in_flight[spec.edge as usize] += 1;
            let hop = self.hop(spec.edge);
            let g = self.jobs[job as usize].generation;
            self.schedule(self.now + hop, Kind::Arrive, job, g);
        }
    }

    /// An attempt ended with `outcome`: its attempt-level permits are
    /// returned, then the call succeeds, waits for its other hedges,
    /// retries, or fails.
    fn end_attempt(&mut self, att: u32, mut outcome: Outcome) {
        let a = self.attempts[att as usize];
        {
            let slot = &mut self.attempts[att as usize];
            slot.live = false;
            slot.generation = slot.generation.wrapping_add(1);
        }
        self.free_attempts.push(att);
        let edge = self.m.calls[self.calls[a.call as usize].spec as usize].edge;
        if a.sent && edge != CLIENT {
            self.in_flight[edge as usize] -= 1;
        }
        if outcome == Outcome::Timeout && a.sent {
            let job = &mut self.jobs[a.job as usize];
            if job.generation == a.job_gen {
                job.abandoned_at = self.now;
            }
        }
        let c = self.calls[a.call as usize];
        let call_live = c.pending && c.generation == a.call_gen;
        if a.holds_bulkhead {
            self.bulkhead_release(c.slot);
        }
        if let Some(p) = a.breaker_permit {
            self.breaker_result(c.slot, p, outcome, self.now - a.t_start);
        }
        if !call_live {
            return; // a hedge that lost, or the call's deadline passed
        }
        let call = a.call;
        self.calls[call as usize].in_flight -= 1;
        let spec = self.m.calls[c.spec as usize];
        if spec.policy == NO_POLICY {
            return self.finish_call(call, outcome);
        }
        if outcome == Outcome::Ok
            && let Some(h) = &mut self.patterns[c.slot as usize].hedge
        {
            h.record_latency(self.now - a.t_start);
        }
        if !outcome.is_success() && spec.fallback_per_attempt && self.fallback_covers(spec, outcome)
        {
            self.edge_stat(c.spec, |e| e.fallbacks += 1);
            outcome = Outcome::Degraded;
        }
        if outcome.is_success() {
            if a.hedged {
                self.edge_stat(c.spec, |e| e.hedges_won += 1);
            }
            return self.finish_call(call, outcome);
        }
        let in_flight = self.calls[call as usize].in_flight;
        let kind = outcome.failure_kind().expect("failures have a kind");
        let patterns = &self.patterns[c.slot as usize];
        if in_flight > 0
            && patterns
                .hedge
                .as_ref()
                .is_some_and(|h| h.is_non_fatal(kind))
        {
            return; // another hedged attempt may still win
        }
        if spec.policy != NO_POLICY
            && let Some(retry) = &self.m.policies[spec.policy as usize].retry
            && retry.should_retry(kind, u32::from(c.attempts))
        {
            let budget_ok = match &mut self.patterns[c.slot as usize].budget {
                Some(b) => b.try_withdraw(self.now),
                None => true,
            };
            if !budget_ok {
                self.edge_stat(c.spec, |e| e.retries_refused += 1);
            } else {
                let n = u32::from(c.retries) + 1;
                let wait = retry.backoff(n, c.last_backoff, &mut self.retry_rng[c.spec as usize]);
                if self.now.saturating_add(wait) < c.deadline {
                    let cm = &mut self.calls[call as usize];
                    cm.retries += 1;
                    cm.last_backoff = wait;
                    self.edge_stat(c.spec, |e| e.retries += 1);
                    self.schedule(self.now + wait, Kind::Retry, call, c.generation);
                    return;
                }
            }
        }
        self.finish_call(call, outcome);
    }

    fn breaker_result(&mut self, slot: u32, permit: Permit, outcome: Outcome, took: Nanos) {
        let now = self.now;
        let b = self.patterns[slot as usize]
            .breaker
            .as_mut()
            .expect("permits come from a breaker");
        let failed = b.records(outcome.failure_kind());
        b.on_result(now, permit, failed, took);
    }

    fn fallback_covers(&self, spec: CallSpec, outcome: Outcome) -> bool {
        let p = &self.m.policies[spec.policy as usize];
        match (p.fallback, outcome.failure_kind()) {
            (Some(f), Some(k)) => f.on.contains(k),
            _ => false,
        }
    }

    /// The call ends: call-level permits are returned, a call-level
    /// fallback may turn a failure into a degraded answer, and the caller
    /// is told.
    fn finish_call(&mut self, call: u32, outcome: Outcome) {
        let c = self.calls[call as usize];
        if c.holds_bulkhead {
            self.calls[call as usize].holds_bulkhead = false;
            self.bulkhead_release(c.slot);
        }
        if let Some(p) = c.breaker_permit {
            self.calls[call as usize].breaker_permit = None;
            self.breaker_result(c.slot, p, outcome, self.now - c.t_sent);
        }
        let spec = self.m.calls[c.spec as usize];
        if !outcome.is_success()
            && !spec.fallback_per_attempt
            && spec.policy != NO_POLICY
            && self.fallback_covers(spec, outcome)
        {
            self.edge_stat(c.spec, |e| e.fallbacks += 1);
            let latency = self.m.policies[spec.policy as usize]
                .fallback
                .map_or(0, |f| f.latency);
            if latency > 0 {
                // Still pending: the caller waits for the fallback's answer.
                self.schedule(self.now + latency, Kind::Fallback, call, c.generation);
                return;
            }
            return self.deliver(call, Outcome::Degraded);
        }
        self.deliver(call, outcome);
    }

    /// The caller (a job or a client) stops waiting on `call`.
    fn deliver(&mut self, call: u32, outcome: Outcome) {
        let c = self.calls[call as usize];
        {
            let slot = &mut self.calls[call as usize];
            slot.pending = false;
            slot.generation = slot.generation.wrapping_add(1);
        }
        self.free_calls.push(call);
        self.live_calls -= 1;
        if c.caller == NO_JOB {
            let src = c.caller_gen as usize;
            self.rec.entry_done(src, c.t_sent, self.now, outcome);
            if self.m.sources[src].closed.is_some() {
                self.schedule_think(src);
            }
            return;
        }
        let edge = self.m.calls[c.spec as usize].edge;
        let e = &mut self.rec.edges[edge as usize];
        match outcome {
            Outcome::Ok => e.ok += 1,
            Outcome::Degraded => e.degraded += 1,
            Outcome::Error | Outcome::CircuitOpen => e.errors += 1,
            Outcome::Rejected | Outcome::Refused => e.rejected += 1,
            Outcome::Timeout => {}
        }
        let j = c.caller;
        let job = &mut self.jobs[j as usize];
        if job.generation != c.caller_gen || job.state != JobState::Running {
            return; // the caller already answered (crash, or a failed sibling)
        }
        job.pending -= 1;
        if !outcome.is_success() {
            job.failed = true;
        }
        job.degraded |= outcome == Outcome::Degraded;
        if job.pending == 0 {
            if job.failed {
                self.complete_job(j, Outcome::Error);
            } else {
                job.step += 1;
                self.run_steps(j);
            }
        }
    }

    fn edge_stat(&mut self, spec: u32, f: impl FnOnce(&mut crate::metrics::EdgeStats)) {
        let edge = self.m.calls[spec as usize].edge;
        if edge == CLIENT {
            let src = self.client_of[spec as usize] as usize;
            f(&mut self.rec.clients[src]);
        } else {
            f(&mut self.rec.edges[edge as usize]);
        }
    }

    #[inline]
    fn hop(&mut self, e: EdgeId) -> Nanos {
        let edge = &self.m.edges[e as usize];
        let mut t = self.m.dists[edge.latency as usize].sample(&mut self.edge_rng[e as usize]);
        if !self.edge_faults[e as usize].is_empty() {
            for k in 0..self.edge_faults[e as usize].len() {
                let f = self.edge_faults[e as usize][k] as usize;
                if let FaultKind::Latency(d) = self.m.faults[f].kind {
                    t = t.saturating_add(self.m.dists[d as usize].sample(&mut self.fault_rng[f]));
                }
            }
        }
        t
    }

    // ------------------------------------------------------------- jobs --

    /// The job answers: its thread goes to the next queued request, and the
    /// answer travels back to the caller.
    fn complete_job(&mut self, j: u32, mut outcome: Outcome) {
        let job = self.jobs[j as usize];
        let s = job.service as usize;
        if outcome.is_success()
            && !self.svc_faults[s].is_empty()
            && self.inject_error(s, job.replica)
        {
            outcome = Outcome::Error;
            self.rec.services[s].injected_errors += 1;
        }
        let orphan = if job.parent_edge == CONSUMER {
            let m = &self.msg.messages[job.parent_attempt as usize];
            !(m.generation == job.parent_gen && m.state == broker::MsgState::InFlight)
        } else {
            let parent = self.attempts[job.parent_attempt as usize];
            !(parent.live
                && parent.generation == job.parent_gen
                && self.calls[parent.call as usize].pending
                && self.calls[parent.call as usize].generation == parent.call_gen)
        };
        self.rec.services[s].record_done(
            job.t_arrive,
            job.t_start,
            self.now,
            orphan,
            job.abandoned_at,
        );
        let replica = job.replica as usize;
        let rep = &mut self.replicas[s][replica];
        let inflight = rep.busy + rep.queue.len() as u32;
        if let Some(l) = &mut rep.limiter {
            l.on_sample(
                self.now,
                self.now - job.t_arrive,
                inflight,
                !outcome.is_success(),
            );
        }
        self.free_job(j);
        self.release_thread(s, replica);
        self.answer(job, outcome);
    }

    fn inject_error(&mut self, s: usize, replica: u32) -> bool {
        let mut hit = false;
        for k in 0..self.svc_faults[s].len() {
            let f = self.svc_faults[s][k] as usize;
            let fault = &self.m.faults[f];
            if let FaultKind::Errors(p) = fault.kind
                && fault.replica.is_none_or(|r| r == replica)
            {
                let u: f64 = rand::RngExt::random(&mut self.fault_rng[f]);
                hit |= u < p;
            }
        }
        hit
    }

    /// A thread is free: the next queued request takes it (shedding those
    /// that waited too long), or it goes idle.
    fn release_thread(&mut self, s: usize, r: usize) {
        let now = self.now;
        let shed_after = self.m.services[s].admission.shed_queue_time;
        let threads = self.m.services[s].threads;
        loop {
            let rep = &mut self.replicas[s][r];
            let next = if rep.busy + rep.lost > threads {
                None
            } else {
                rep.queue.pop_front()
            };
            match next {
                Some(next) => {
                    self.rec.services[s].add_queued(now, -1);
                    if let Some(limit) = shed_after
                        && now - self.jobs[next as usize].t_arrive > limit
                    {
                        self.rec.services[s].shed += 1;
                        self.refuse(next, Outcome::Rejected);
                        continue;
                    }
                    self.start_job(next);
                }
                None => {
                    rep.busy -= 1;
                    self.rec.services[s].add_busy(now, -1);
                    self.pull(s, r as u32);
                }
            }
            return;
        }
    }

    /// Starts queued requests while the replica has free threads.
    fn refill(&mut self, s: usize, r: usize) {
        let threads = self.m.services[s].threads;
        loop {
            let rep = &mut self.replicas[s][r];
            if rep.busy + rep.lost >= threads {
                return;
            }
            let Some(next) = rep.queue.pop_front() else {
                return self.pull(s, r as u32);
            };
            rep.busy += 1;
            let now = self.now;
            self.rec.services[s].add_queued(now, -1);
            self.rec.services[s].add_busy(now, 1);
            self.start_job(next);
        }
    }

    /// Sends an answer back along the attempt (a hop for a job caller; at
    /// once for a client).
    fn reply(&mut self, att: u32, generation: u32, edge: EdgeId, outcome: Outcome) {
        if edge == CLIENT {
            let a = &self.attempts[att as usize];
            if a.live && a.generation == generation {
                self.end_attempt(att, outcome);
            }
            return;
        }
        if self.partitioned[edge as usize] > 0 {
            self.rec.edges[edge as usize].lost += 1;
            return;
        }
        let t = self.now + self.hop(edge);
        let (a, b, d, c) = (att, generation, edge, outcome as u8);
        self.heap.push(Event {
            t,
            seq: self.seq,
            a,
            b,
            d,
            kind: Kind::Reply,
            c,
        });
        self.seq += 1;
    }

    // ----------------------------------------------------------- faults --

    fn on_fault(&mut self, f: usize, starting: bool) {
        let fault = &self.m.faults[f];
        match fault.kind {
            FaultKind::Latency(_) => {
                for &e in &fault.edges {
                    let list = &mut self.edge_faults[e as usize];
                    if starting {
                        list.push(f as u32);
                    } else {
                        list.retain(|x| *x != f as u32);
                    }
                }
            }
            FaultKind::Partition => {
                for &e in &fault.edges {
                    if starting {
                        self.partitioned[e as usize] += 1;
                    } else {
                        self.partitioned[e as usize] -= 1;
                    }
                }
            }
            FaultKind::Outage | FaultKind::SlowBroker(_) => {
                self.broker_fault(fault.broker.expect("broker faults name a broker") as usize);
            }
            FaultKind::Surge(_) => {
                let src = fault.source.expect("a surge names a source") as usize;
                let factor: f64 = (0..self.m.faults.len())
                    .filter(|&g| {
                        let other = &self.m.faults[g];
                        other.source == Some(src as u32)
                            && other.start <= self.now
                            && self.now < other.end
                            && (g != f || starting)
                    })
                    .map(|g| match self.m.faults[g].kind {
                        FaultKind::Surge(x) => x,
                        _ => 1.0,
                    })
                    .product();
                let st = &mut self.sources[src];
                st.anchor = (st.last, st.sent);
                st.factor = factor;
            }
            FaultKind::Slowdown(_)
            | FaultKind::Errors(_)
            | FaultKind::Crash
            | FaultKind::Hang
            | FaultKind::LostThreads(_)
            | FaultKind::Pause => {
                let s = fault.service.expect("service faults name a service") as usize;
                if starting {
                    self.svc_faults[s].push(f as u32);
                } else {
                    self.svc_faults[s].retain(|x| *x != f as u32);
                }
                self.recompute_replicas(s);
                if starting && matches!(fault.kind, FaultKind::Crash) {
                    self.crash(s, fault.replica);
                }
                if !starting {
                    // Capacity is back: queued requests and consumers take
                    // the threads.
                    for r in 0..self.replicas[s].len() {
                        self.refill(s, r);
                    }
                }
            }
        }
    }

    fn recompute_replicas(&mut self, s: usize) {
        for (r, rep) in self.replicas[s].iter_mut().enumerate() {
            rep.slowdown = 1.0;
            rep.crashed = 0;
            rep.hung = 0;
            rep.lost = 0;
            rep.paused_until = 0;
            for &f in &self.svc_faults[s] {
                let fault = &self.m.faults[f as usize];
                if fault.replica.is_some_and(|x| x as usize != r) {
                    continue;
                }
                match fault.kind {
                    FaultKind::Slowdown(x) => rep.slowdown *= x,
                    FaultKind::Crash => rep.crashed += 1,
                    FaultKind::Hang => rep.hung += 1,
                    FaultKind::LostThreads(n) => {
                        rep.lost = (rep.lost + n).min(self.m.services[s].threads)
                    }
                    FaultKind::Pause => rep.paused_until = rep.paused_until.max(fault.end),
                    _ => {}
                }
            }
        }
    }

    /// A crash loses the work in progress: queued and running jobs of the
    /// replicas hit are cut off and their callers told at once (a hop away).
    fn crash(&mut self, s: usize, only: Option<u32>) {
        for j in 0..self.jobs.len() as u32 {
            let job = self.jobs[j as usize];
            if job.service as usize != s || only.is_some_and(|r| r != job.replica) {
                continue;
            }
            match job.state {
                JobState::Queued | JobState::Running => {
                    let now = self.now;
                    if job.state == JobState::Queued {
                        self.rec.services[s].add_queued(now, -1);
                    } else {
                        self.rec.services[s].add_busy(now, -1);
                        let rep = &mut self.replicas[s][job.replica as usize];
                        rep.busy -= 1;
                        if let Some(cpu) = &mut rep.cpu {
                            cpu.advance(now);
                            cpu.active.retain(|a| a.1 != j);
                        }
                    }
                    self.rec.services[s].refused += 1;
                    self.refuse(j, Outcome::Refused);
                }
                JobState::InFlight | JobState::Free => {}
            }
        }
        for (r, rep) in self.replicas[s].iter_mut().enumerate() {
            if only.is_none_or(|x| x as usize == r) {
                rep.queue.clear();
            }
        }
        for r in 0..self.replicas[s].len() {
            if self.replicas[s][r].cpu.is_some() {
                self.reschedule_cpu(s, r);
            }
        }
    }

    fn finish(mut self, opts: &RunOptions) -> RunResult {
        let end = self.now;
        debug_assert!(
            self.msg
                .messages
                .iter()
                .all(|m| m.state != broker::MsgState::Done || m.outstanding > 0),
            "a settled message with no processing left was never freed"
        );
        let in_flight: Vec<u64> = (0..self.m.sources.len())
            .map(|i| {
                self.calls
                    .iter()
                    .filter(|c| {
                        c.pending
                            && c.caller == NO_JOB
                            && c.caller_gen as usize == i
                            && c.t_sent >= self.m.warmup
                    })
                    .count() as u64
            })
            .collect();
        // Breaker time open / half open, summed over caller replicas.
        let mut breakers = vec![crate::patterns::BreakerStats::default(); self.m.calls.len()];
        for (spec, stats) in breakers.iter_mut().enumerate() {
            let slots = self.pattern_slots(spec);
            for p in &mut self.patterns[slots] {
                if let Some(b) = &mut p.breaker {
                    let s = b.stats(end);
                    stats.state_changes += s.state_changes;
                    stats.times_opened += s.times_opened;
                    stats.time_open += s.time_open;
                    stats.time_half_open += s.time_half_open;
                }
            }
        }
        let events = self.events;
        self.rec.breaker_totals(&breakers);
        self.rec
            .finish(self.m, end, self.duration, events, &in_flight, opts)
    }
}
