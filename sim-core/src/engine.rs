//! The event loop and the synchronous world: sources, services with thread
//! pools and accept queues, calls over the network, timeouts, faults.
//!
//! Owns the simulated state (arenas of jobs and calls indexed by `u32`) and
//! the order of events: a binary heap keyed by (time, sequence number), so
//! events at the same nanosecond run in the order they were scheduled.
//! Timers are never removed: a timeout whose call already ended carries an
//! old generation number and is skipped when popped.
//!
//! Semantics (see DESIGN.md):
//! - a worker is held for the whole handling of a request, including every
//!   wait on a synchronous call (the held-thread rule);
//! - when a caller's timeout fires, the callee keeps working on what it
//!   accepted and still serves what is queued (orphaned work, measured);
//! - a failed call fails the calling operation: it skips its remaining
//!   steps and answers with an error.
//!
//! Must not do I/O, read a clock or allocate per event once arenas have
//! grown to the number of requests in flight.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, VecDeque};

use rand_chacha::ChaCha8Rng;

use crate::dist::Dist;
use crate::metrics::Recorder;
use crate::model::*;
use crate::output::RunResult;
use crate::rng::stream;
use crate::time::Nanos;

/// How a call (or a job) ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Outcome {
    Ok = 0,
    /// An error answer.
    Error = 1,
    /// The callee's accept queue was full.
    Rejected = 2,
    /// The caller's timeout fired.
    Timeout = 3,
    /// The callee was crashed.
    Refused = 4,
}

impl Outcome {
    fn from_u8(v: u8) -> Outcome {
        match v {
            0 => Outcome::Ok,
            1 => Outcome::Error,
            2 => Outcome::Rejected,
            3 => Outcome::Timeout,
            _ => Outcome::Refused,
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
    /// The answer to call `a` (generation `b`, edge `d`) reaches the
    /// caller; `c` is the outcome.
    Reply,
    /// Call `a` (generation `b`) times out.
    Timeout,
    FaultStart,
    FaultEnd,
    /// The warm-up ends: totals start from here.
    WarmupEnd,
}

#[derive(Clone, Copy, Debug)]
struct Event {
    t: Nanos,
    seq: u64,
    a: u32,
    b: u32,
    /// Reply: the call's edge, kept here because the call's slot may have
    /// been reused by the time a late reply lands.
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

/// One request's visit to one service replica.
#[derive(Clone, Copy, Debug)]
struct Job {
    generation: u32,
    state: JobState,
    failed: bool,
    service: ServiceId,
    replica: u32,
    /// Absolute index into `model.steps` of the current step.
    step: u32,
    end_step: u32,
    /// Calls still awaited by the current step.
    pending: u32,
    parent_call: u32,
    parent_gen: u32,
    /// Edge the request came along (`CLIENT` for a source's request): the
    /// answer goes back along it even if the caller's call slot was reused.
    parent_edge: EdgeId,
    t_arrive: Nanos,
    t_start: Nanos,
}

const NO_JOB: u32 = u32::MAX;

/// A caller waiting on an answer: a job's call, or a client's request.
#[derive(Clone, Copy, Debug)]
struct Call {
    generation: u32,
    pending: bool,
    /// The waiting job, or `NO_JOB` for a workload source.
    caller: u32,
    /// The job's generation, or the source index.
    caller_gen: u32,
    /// Edge of the call, or `CLIENT` for a source's request.
    edge: EdgeId,
    t_sent: Nanos,
}

struct Replica {
    busy: u32,
    queue: VecDeque<u32>,
    crashed: u32,
    slowdown: f64,
}

struct SourceState {
    rng: ChaCha8Rng,
    interarrival: Dist,
    sent: u64,
    /// Poisson: time of the last arrival. Deterministic: unused.
    last: Nanos,
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
    live_jobs: u32,
    live_calls: u32,
    replicas: Vec<Vec<Replica>>,
    rr: Vec<u32>,
    work_rng: Vec<ChaCha8Rng>,
    edge_rng: Vec<ChaCha8Rng>,
    fault_rng: Vec<ChaCha8Rng>,
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
                        busy: 0,
                        queue: VecDeque::with_capacity(if s.queue == UNBOUNDED {
                            1024
                        } else {
                            s.queue.min(1024) as usize
                        }),
                        crashed: 0,
                        slowdown: 1.0,
                    })
                    .collect()
            })
            .collect();
        let sources = m
            .sources
            .iter()
            .map(|s| SourceState {
                rng: stream(seed, &format!("arrivals/{}", s.name)),
                interarrival: Dist::exponential(((1e9 / s.rate).round() as Nanos).max(1))
                    .expect("rate is positive"),
                sent: 0,
                last: 0,
            })
            .collect();
        let mut w = World {
            m,
            now: 0,
            seq: 0,
            heap: BinaryHeap::with_capacity(1024),
            jobs: Vec::with_capacity(1024),
            free_jobs: Vec::with_capacity(1024),
            calls: Vec::with_capacity(1024),
            free_calls: Vec::with_capacity(1024),
            live_jobs: 0,
            live_calls: 0,
            replicas,
            rr: vec![0; m.services.len()],
            work_rng: m
                .services
                .iter()
                .map(|s| stream(seed, &s.work_stream))
                .collect(),
            edge_rng: m
                .edges
                .iter()
                .map(|e| stream(seed, &format!("net/{}", e.name)))
                .collect(),
            fault_rng: m.faults.iter().map(|f| stream(seed, &f.stream)).collect(),
            svc_faults: vec![Vec::new(); m.services.len()],
            edge_faults: vec![Vec::new(); m.edges.len()],
            sources,
            duration,
            rec: Recorder::new(m, seed),
            events: 0,
            active_sources: m.sources.len(),
            sources_end: 0,
        };
        if m.warmup > 0 {
            w.schedule(m.warmup, Kind::WarmupEnd, 0, 0, 0);
        }
        for (i, f) in m.faults.iter().enumerate() {
            w.schedule(f.start, Kind::FaultStart, i as u32, 0, 0);
            w.schedule(f.end, Kind::FaultEnd, i as u32, 0, 0);
        }
        for i in 0..m.sources.len() {
            w.schedule_next_arrival(i);
        }
        w
    }

    #[inline]
    fn schedule(&mut self, t: Nanos, kind: Kind, a: u32, b: u32, c: u8) {
        self.heap.push(Event {
            t,
            seq: self.seq,
            a,
            b,
            d: 0,
            kind,
            c,
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
            Arrivals::Poisson => st.last.saturating_add(st.interarrival.sample(&mut st.rng)),
            // Computed from the index, not summed, so gaps never drift.
            Arrivals::Deterministic => ((st.sent + 1) as f64 * 1e9 / src.rate).round() as Nanos,
        };
        st.last = t;
        if t < self.duration {
            self.schedule(t, Kind::SourceArrival, i as u32, 0, 0);
        } else {
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
                let c = &self.calls[ev.a as usize];
                let live = c.generation == ev.b && c.pending;
                if !live && ev.d != CLIENT {
                    self.rec.edges[ev.d as usize].late_replies += 1;
                }
                live
            }
            Kind::Timeout => {
                let c = &self.calls[ev.a as usize];
                c.generation == ev.b && c.pending
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
            self.rec.advance_windows(ev.t);
            match ev.kind {
                Kind::SourceArrival => self.on_source_arrival(ev.a as usize),
                Kind::Arrive => self.on_arrive(ev.a),
                Kind::WorkDone => {
                    self.jobs[ev.a as usize].step += 1;
                    self.run_steps(ev.a);
                }
                Kind::Reply => self.finish_call(ev.a, Outcome::from_u8(ev.c)),
                Kind::Timeout => {
                    let edge = self.calls[ev.a as usize].edge;
                    if edge != CLIENT {
                        self.rec.edges[edge as usize].timeouts += 1;
                    }
                    self.finish_call(ev.a, Outcome::Timeout);
                }
                Kind::FaultStart => self.on_fault(ev.a as usize, true),
                Kind::FaultEnd => self.on_fault(ev.a as usize, false),
                Kind::WarmupEnd => self.rec.start_measuring(self.now),
            }
            if self.live_calls == 0 && self.live_jobs == 0 && self.active_sources == 0 {
                break;
            }
        }
        // An idle system still counts as observed until the sources stop.
        self.now = self.now.max(self.sources_end.min(stop_at));
    }

    // ----------------------------------------------------------- arenas --

    fn alloc_job(
        &mut self,
        service: ServiceId,
        op: OpId,
        parent_call: u32,
        parent_gen: u32,
        parent_edge: EdgeId,
    ) -> u32 {
        let o = &self.m.ops[op as usize];
        let mut job = Job {
            generation: 0,
            state: JobState::InFlight,
            failed: false,
            service,
            replica: 0,
            step: o.first_step,
            end_step: o.first_step + o.step_count,
            pending: 0,
            parent_call,
            parent_gen,
            parent_edge,
            t_arrive: 0,
            t_start: 0,
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

    fn alloc_call(&mut self, caller: u32, caller_gen: u32, edge: EdgeId) -> (u32, u32) {
        let call = Call {
            generation: 0,
            pending: true,
            caller,
            caller_gen,
            edge,
            t_sent: self.now,
        };
        self.live_calls += 1;
        if let Some(i) = self.free_calls.pop() {
            let generation = self.calls[i as usize].generation;
            self.calls[i as usize] = Call { generation, ..call };
            (i, generation)
        } else {
            self.calls.push(call);
            ((self.calls.len() - 1) as u32, 0)
        }
    }

    // ----------------------------------------------------------- events --

    fn on_source_arrival(&mut self, i: usize) {
        self.sources[i].sent += 1;
        self.schedule_next_arrival(i);
        let src = &self.m.sources[i];
        let op = src.op;
        let timeout = src.timeout;
        self.rec.entry_arrival(i, self.now);
        let (call, generation) = self.alloc_call(NO_JOB, i as u32, CLIENT);
        if let Some(t) = timeout {
            self.schedule(self.now + t, Kind::Timeout, call, generation, 0);
        }
        let service = self.m.ops[op as usize].service;
        let job = self.alloc_job(service, op, call, generation, CLIENT);
        self.on_arrive(job);
    }

    /// A job reaches its service: a thread, a queue slot, or a refusal.
    fn on_arrive(&mut self, j: u32) {
        let s = self.jobs[j as usize].service as usize;
        let r = self.pick_replica(s);
        let now = self.now;
        let job = &mut self.jobs[j as usize];
        job.replica = r;
        job.t_arrive = now;
        let rep = &mut self.replicas[s][r as usize];
        self.rec.services[s].arrivals += 1;
        if rep.crashed > 0 {
            self.rec.services[s].refused += 1;
            self.refuse(j, Outcome::Refused);
        } else if rep.busy < self.m.services[s].threads {
            rep.busy += 1;
            self.rec.services[s].add_busy(now, 1);
            self.start_job(j);
        } else if (rep.queue.len() as u64) < u64::from(self.m.services[s].queue) {
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
        let n = self.m.services[s].replicas;
        if n == 1 {
            return 0;
        }
        let r = self.rr[s];
        self.rr[s] = (r + 1) % n;
        r
    }

    /// Answers a job that never ran.
    fn refuse(&mut self, j: u32, outcome: Outcome) {
        let job = self.jobs[j as usize];
        self.free_job(j);
        self.reply(job.parent_call, job.parent_gen, job.parent_edge, outcome);
    }

    fn start_job(&mut self, j: u32) {
        let now = self.now;
        let job = &mut self.jobs[j as usize];
        job.state = JobState::Running;
        job.t_start = now;
        let s = job.service as usize;
        let wait = now - job.t_arrive;
        self.rec.services[s].record_wait(job.t_arrive, wait);
        self.run_steps(j);
    }

    /// Runs the job from its current step until it must wait.
    fn run_steps(&mut self, j: u32) {
        let job = self.jobs[j as usize];
        if job.step == job.end_step {
            self.complete_job(j, Outcome::Ok);
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
                self.schedule(self.now + t, Kind::WorkDone, j, job.generation, 0);
            }
            Step::Call(c) => {
                self.jobs[j as usize].pending = 1;
                self.send(j, c);
            }
            Step::Parallel { first, count } => {
                self.jobs[j as usize].pending = count;
                for c in first..first + count {
                    self.send(j, c);
                }
            }
        }
    }

    /// Job `j` calls `calls[c]`: a new job at the callee, a hop away.
    fn send(&mut self, j: u32, c: u32) {
        let spec = self.m.calls[c as usize];
        let caller_gen = self.jobs[j as usize].generation;
        let (call, generation) = self.alloc_call(j, caller_gen, spec.edge);
        self.rec.edges[spec.edge as usize].calls += 1;
        if let Some(t) = spec.timeout {
            self.schedule(self.now + t, Kind::Timeout, call, generation, 0);
        }
        let to = self.m.edges[spec.edge as usize].to;
        let callee = self.alloc_job(to, spec.op, call, generation, spec.edge);
        let hop = self.hop(spec.edge);
        let callee_gen = self.jobs[callee as usize].generation;
        self.schedule(self.now + hop, Kind::Arrive, callee, callee_gen, 0);
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

    /// The job answers: its thread goes to the next queued request, and the
    /// answer travels back to the caller.
    fn complete_job(&mut self, j: u32, mut outcome: Outcome) {
        let job = self.jobs[j as usize];
        let s = job.service as usize;
        if outcome == Outcome::Ok
            && !self.svc_faults[s].is_empty()
            && self.inject_error(s, job.replica)
        {
            outcome = Outcome::Error;
            self.rec.services[s].injected_errors += 1;
        }
        let parent = self.calls[job.parent_call as usize];
        let orphan = !(parent.pending && parent.generation == job.parent_gen);
        self.rec.services[s].record_done(job.t_arrive, job.t_start, self.now, orphan);
        self.free_job(j);
        self.release_thread(s, job.replica as usize);
        self.reply(job.parent_call, job.parent_gen, job.parent_edge, outcome);
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

    fn release_thread(&mut self, s: usize, r: usize) {
        let now = self.now;
        let rep = &mut self.replicas[s][r];
        if let Some(next) = rep.queue.pop_front() {
            self.rec.services[s].add_queued(now, -1);
            self.start_job(next);
        } else {
            rep.busy -= 1;
            self.rec.services[s].add_busy(now, -1);
        }
    }

    /// Sends an answer back along the call (a hop for a job caller; at once
    /// for a client).
    fn reply(&mut self, call: u32, generation: u32, edge: EdgeId, outcome: Outcome) {
        if edge == CLIENT {
            let c = &self.calls[call as usize];
            if c.pending && c.generation == generation {
                self.finish_call(call, outcome);
            }
            return;
        }
        let t = self.now + self.hop(edge);
        let (a, b, d, c) = (call, generation, edge, outcome as u8);
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

    /// The caller stops waiting on `call`, with `outcome`.
    fn finish_call(&mut self, call: u32, outcome: Outcome) {
        let c = self.calls[call as usize];
        {
            let slot = &mut self.calls[call as usize];
            slot.pending = false;
            slot.generation = slot.generation.wrapping_add(1);
        }
        self.free_calls.push(call);
        self.live_calls -= 1;
        if c.caller == NO_JOB {
            self.rec
                .entry_done(c.caller_gen as usize, c.t_sent, self.now, outcome);
            return;
        }
        let e = &mut self.rec.edges[c.edge as usize];
        match outcome {
            Outcome::Ok => e.ok += 1,
            Outcome::Error => e.errors += 1,
            Outcome::Rejected | Outcome::Refused => e.rejected += 1,
            Outcome::Timeout => {}
        }
        let j = c.caller;
        let job = &mut self.jobs[j as usize];
        if job.generation != c.caller_gen || job.state != JobState::Running {
            return; // the caller was cut off by a crash
        }
        job.pending -= 1;
        if outcome != Outcome::Ok {
            job.failed = true;
        }
        if job.pending == 0 {
            if job.failed {
                self.complete_job(j, Outcome::Error);
            } else {
                job.step += 1;
                self.run_steps(j);
            }
        }
    }

    // ----------------------------------------------------------- faults --

    fn on_fault(&mut self, f: usize, starting: bool) {
        let fault = &self.m.faults[f];
        self.rec.fault_edge(f, starting, self.now);
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
            FaultKind::Slowdown(_) | FaultKind::Errors(_) | FaultKind::Crash => {
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
            }
        }
    }

    fn recompute_replicas(&mut self, s: usize) {
        for (r, rep) in self.replicas[s].iter_mut().enumerate() {
            rep.slowdown = 1.0;
            rep.crashed = 0;
            for &f in &self.svc_faults[s] {
                let fault = &self.m.faults[f as usize];
                if fault.replica.is_some_and(|x| x as usize != r) {
                    continue;
                }
                match fault.kind {
                    FaultKind::Slowdown(x) => rep.slowdown *= x,
                    FaultKind::Crash => rep.crashed += 1,
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
                        self.replicas[s][job.replica as usize].busy -= 1;
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
    }

    fn finish(self, opts: &RunOptions) -> RunResult {
        let end = self.now;
        let in_flight: Vec<u64> = (0..self.m.sources.len())
            .map(|i| {
                self.calls
                    .iter()
                    .filter(|c| {
                        c.pending
                            && c.edge == CLIENT
                            && c.caller_gen as usize == i
                            && c.t_sent >= self.m.warmup
                    })
                    .count() as u64
            })
            .collect();
        let events = self.events;
        self.rec
            .finish(self.m, end, self.duration, events, &in_flight, opts)
    }
}
