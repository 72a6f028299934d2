//! The event loop and the simulated world: sources, services with thread
//! pools and accept queues, calls over the network with their resilience
//! patterns, timeouts, faults, and (in `broker`) the asynchronous world.
//!
//! Owns the simulated state (`World`) and the dispatch of events. Each
//! concern lives in its own submodule, all as `impl World` blocks on the
//! same state:
//!
//! | module | owns |
//! |---|---|
//! | `event` | the event type and the queue: (time, seq) order, timer lanes |
//! | `ids`, `arena` | typed ids, arenas with generations and free lists |
//! | `records` | jobs, calls and attempts, and their allocation |
//! | `source` | workload sources: open-loop arrivals, closed-loop users |
//! | `service` | admission, thread pools, accept queues, steps |
//! | `balance` | load balancing: the replica a request goes to |
//! | `cpu` | processor sharing on a replica's cores |
//! | `event_loop` | event-loop servers: loops and the run queue |
//! | `memory` | memory gauges, OOM kills, restarts, GC pauses |
//! | `call` | calls and attempts: the walk over their pattern layers |
//! | `layers` | the live pattern state per call spec and caller replica |
//! | `network` | hops, partitions, replies |
//! | `fault` | fault windows and their effect on replicas, edges, sources |
//! | `observe` | gauges sampled at window ends, the end-of-run totals |
//! | `broker` | brokers, queues, topics, messages, consumers |
//! | `log` | partitioned logs, consumer groups, rebalances |
//! | `idempotency` | consumers' idempotency stores (message id, TTL) |
//! | `saga` | orchestrated sagas: steps in order, undos in reverse |
//! | `choreo` | choreographed sagas: each step a queue's consumer, the next step's message published on acknowledgement |
//! | `autoscale` | autoscaled replicas: starting, serving, draining |
//! | `autoscale_join` | what a replica joining or leaving means to memory, ejection, consumers |
//! | `outbox` | transactional outboxes and their relays |
//! | `accepted` | early `accepted` answers, tickets, clients' polls |
//! | `store` | versioned stores: reads, writes, conflicts (OCC) |
//! | `zoning` | zone-aware balancing, the cross-zone latency |
//! | `stw` | what a GC pause freezes: processor-shared work, continuations, the replica's timers and answers |
//!
//! Past 600 lines because the `World` lists one field per concern, each
//! with why it exists, and `handle` and `is_live` one arm per event kind:
//! the one place a newcomer reads to find where an event goes.
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

mod accept;
mod accepted;
mod arena;
mod autoscale;
mod autoscale_join;
mod balance;
mod broker;
mod by_age;
mod cache;
mod cache_fault;
mod cache_stale;
mod call;
mod choreo;
mod connect;
mod cpu;
mod door;
mod event;
mod event_loop;
mod fault;
mod guard;
mod hints;
mod idempotency;
mod ids;
mod layers;
mod log;
mod memory;
mod network;
mod observe;
mod outbox;
mod outlier;
mod records;
mod retry_in_flight;
mod saga;
mod service;
mod source;
mod store;
mod stw;
mod trace;
mod zone_spill;
mod zoning;

use crate::rng::Stream;

use self::arena::Arena;
use self::event::{Ev, EventQueue};
use self::ids::{AttemptId, CallId, JobId};
use self::records::{Attempt, Call, Job};
use crate::metrics::Recorder;
use crate::model::Model;
use crate::options::RunOptions;
use crate::outcome::Outcome;
use crate::output::RunResult;
use crate::rng::stream;
use crate::streams;
use crate::time::Nanos;

pub struct World<'m> {
    m: &'m Model,
    now: Nanos,
    queue: EventQueue,
    jobs: Arena<JobId, Job>,
    calls: Arena<CallId, Call>,
    attempts: Arena<AttemptId, Attempt>,
    replicas: Vec<Vec<service::Replica>>,
    /// What a request reads of its service's model, dense (`door`).
    doors: Vec<door::Door>,
    /// Hints for the lines an event's handler reads, given when it is
    /// scheduled (`hints.rs`): wide models only.
    prefetching: bool,
    /// What the hints look up instead of cold records (empty unless
    /// prefetching; made once the replicas are).
    hints: hints::Tables,
    rr: Vec<u32>,
    work_rng: Vec<Stream>,
    /// Draws of random and power-of-two balancers, per service.
    lb_rng: Vec<Stream>,
    edge_rng: Vec<Stream>,
    fault_rng: Vec<Stream>,
    /// Jitter draws of each call spec with a retry.
    retry_rng: Vec<Stream>,
    /// Arm draws of each branch point.
    branch_rng: Vec<Stream>,
    /// Adaptive-throttling draws per call spec (empty when no call
    /// throttles).
    throttle_rng: Vec<Stream>,
    /// `pattern_base[spec] + caller replica` indexes `patterns`.
    pattern_base: Vec<u32>,
    patterns: Vec<layers::PatternState>,
    /// Slowdowns scoped to steps, in force (fault indices).
    scoped: Vec<u32>,
    /// Active fault indices per service (errors and crash), and per edge
    /// (latency). Usually empty: checked before any work.
    svc_faults: Vec<Vec<u32>>,
    edge_faults: Vec<Vec<u32>>,
    sources: Vec<source::SourceState>,
    duration: Nanos,
    rec: Recorder,
    events: u64,
    /// Sources still sending, and when the last one stopped.
    active_sources: usize,
    sources_end: Nanos,
    /// Attempts sent and not yet answered or timed out, per edge.
    in_flight: Vec<u32>,
    /// Per edge, its latency and the partitions and latency faults in
    /// force: one slot a hop reads (`network::EdgeNet`), dense so that it
    /// stays in cache where the model's edges and the lists of
    /// `edge_faults` would not.
    edge_net: Vec<network::EdgeNet>,
    /// For a source's call spec, the source's index.
    client_of: Vec<u32>,
    /// The call specs (with their edges) whose policy has a breaker: the
    /// only ones a window's gauges poll.
    breaker_specs: Vec<(u32, crate::model::EdgeId)>,
    /// Brokers, queues and messages.
    msg: broker::Messaging,
    /// Some source has a hop to its entry: client requests and answers
    /// look their source up (without one they pay nothing).
    source_hops: bool,
    /// Processor-sharing CPUs: each `cores` replica's own, and each node's
    /// (shared by the replicas placed on it); `Replica::cpu` indexes them.
    cpus: Vec<cpu::Cpu>,
    /// Scratch list of jobs finishing on a processor-sharing CPU.
    cpu_done: Vec<(u64, JobId, u32)>,
    /// Why the overload guard stopped the run, if it did.
    stopped: Option<String>,
    /// Per service, which runtime features it declares (`RT_*`): one byte
    /// read on the hot paths, so a model without them pays a branch.
    rt: Vec<u16>,
    /// Per job slot: its run-queue or stop-the-world mark (`records::mark`).
    marks: Vec<Nanos>,
    /// Caches' contents, each cache step's key stream, and per job slot
    /// the key its cache step drew.
    caches: Vec<cache::CacheState>,
    cache_key_rng: Vec<Stream>,
    cache_keys: Vec<u32>,
    /// Outlier detection per service (`outlier`); empty when no service
    /// declares it.
    outliers: Vec<Option<Box<outlier::Outlier>>>,
    /// Partitioned logs, consumer groups and their members.
    logs: log::Logs,
    /// Sagas running, per job slot (empty without sagas).
    sagas: saga::Sagas,
    /// Sampled requests' spans (`--trace`); `None` costs each hook a branch.
    tracer: Option<Box<trace::Tracer>>,
    /// Autoscaled services' replicas and autoscalers (`autoscale`); empty
    /// when no service autoscales.
    scalers: Vec<Option<Box<autoscale::Scaler>>>,
    /// Transactional outboxes and their relays (empty without them).
    outbox: outbox::Outboxes,
    /// Requests answered `accepted` and their clients' polls.
    accepted: accepted::Accepted,
    /// Versioned stores and the jobs' reads (empty without stores).
    stores: store::Stores,
    /// Zone-aware balancing and the cross-zone latency (`zoning`); `None`
    /// costs `on_arrive` and `answer` a branch each.
    zoning: Option<Box<zoning::Zoning>>,
    /// Choreographed sagas running and the saga step each message carries.
    choreo: choreo::Choreo,
    /// Jobs set aside by GC pauses (`stw`; empty without `gc`).
    stw: stw::Stopped,
    /// Retries and requests in flight for Envoy's retry budget; off (and
    /// empty) when no retry declares `in_flight_budget`.
    retry_in_flight: retry_in_flight::RetryInFlight,
    /// Direct source requests (`source`) not answered yet: they count
    /// as a client call each would (in flight, the guard, the end).
    direct_pending: u64,
    /// Some service is an event loop: its replicas' loop figures are
    /// added up before the recorder reads them (`event_loop`).
    loops_on: bool,
    /// Per service whose loops cover its connections (`RT_ROOMY`), its
    /// busy loops, their lazy area and its zero run-queue waits, kept
    /// without a look at any replica (`event_loop`); idle for the others.
    roomy: Vec<event_loop::RoomyLoops>,
    /// The job whose fresh loop is lent while its call starts
    /// (`event_loop::call_from_loop`), `NO_JOB` otherwise: a call that
    /// ends at once finds it never left its loop.
    lending: JobId,
}

/// An event loop.
const RT_LOOP: u16 = 1;
/// Memory (OOM kills, restarts, readiness).
const RT_MEMORY: u16 = 2;
/// GC pauses.
const RT_GC: u16 = 4;
/// `work_law`.
const RT_LAW: u16 = 8;
/// A slowdown scoped to some of the service's steps is in force (set and
/// cleared by `fault`).
const RT_SCOPED: u16 = 16;
/// Autoscaled: the balancer picks among the serving replicas, draining
/// ones go off when idle, new ones start cold.
const RT_SCALE: u16 = 32;
/// An event loop whose loops cover its connections (`loops` at least
/// `max_connections`): a continuation always finds a loop free (a loop is
/// held only with a connection, and one of the connections is its own).
const RT_ROOMY: u16 = 64;
/// Consumes a queue or a log: a freed thread pulls (`broker::pull`).
const RT_CONSUMES: u16 = 128;
/// A service fault is in force (`svc_faults[s]` is not empty; set and
/// cleared by `fault`): a completion need not read the list otherwise.
const RT_FAULTED: u16 = 256;
/// Every flag: they stay below the bits where a request job's starting
/// mode is kept (`records::START_SHIFT`, checked there).
const RT_ALL: u16 = RT_LOOP
    | RT_MEMORY
    | RT_GC
    | RT_LAW
    | RT_SCOPED
    | RT_SCALE
    | RT_ROOMY
    | RT_CONSUMES
    | RT_FAULTED;
/// The flags that may change a work step's length
/// (`runtime_work_factor`).
const RT_WORK: u16 = RT_MEMORY | RT_GC | RT_LAW | RT_SCOPED | RT_SCALE;

fn runtime_flags(s: &crate::model::Service) -> u16 {
    let mut f = 0;
    if let Some(loops) = s.loops() {
        f |= RT_LOOP;
        if loops >= s.threads {
            f |= RT_ROOMY;
        }
    }
    if let Some(m) = s.memory {
        f |= RT_MEMORY;
        if m.gc.is_some() {
            f |= RT_GC;
        }
    }
    if s.work_per_in_flight.is_some() {
        f |= RT_LAW;
    }
    if s.autoscale.is_some() {
        f |= RT_SCALE;
    }
    records::with_start_mode(f)
}

/// Runs `model` to the end and returns its results.
pub fn run(model: &Model, opts: &RunOptions) -> RunResult {
    let mut w = World::new(model, opts);
    w.run_loop(&opts.watch);
    w.finish(opts)
}

/// Runs `model` to the end, tracing the requests `trace` samples: the
/// results are those `run` returns, byte for byte, plus the trace log.
pub fn run_traced(
    model: &Model,
    opts: &RunOptions,
    trace: crate::trace::TraceOptions,
) -> (RunResult, crate::trace::TraceLog) {
    let mut w = World::new(model, opts);
    w.start_tracing(opts.seed.unwrap_or(model.seed), trace);
    w.run_loop(&opts.watch);
    let log = w.finish_trace().expect("tracing was started");
    (w.finish(opts), log)
}

/// For each call spec, the first source whose call or poll it is
/// (`u32::MAX` for a service's): one pass over the sources, not one per
/// spec (5,000 specs × 500 sources was a third of a wide model's set-up).
fn clients_of_specs(m: &Model) -> Vec<u32> {
    let mut client_of = vec![u32::MAX; m.calls.len()];
    for (i, src) in m.sources.iter().enumerate() {
        for spec in std::iter::once(src.call).chain(src.poll.map(|p| p.call)) {
            let slot = &mut client_of[spec as usize];
            if *slot == u32::MAX {
                *slot = i as u32;
            }
        }
    }
    client_of
}

impl<'m> World<'m> {
    fn new(m: &'m Model, opts: &RunOptions) -> World<'m> {
        let seed = opts.seed.unwrap_or(m.seed);
        let duration = opts.duration.unwrap_or(m.duration);
        let (pattern_base, patterns) = layers::pattern_states(m);
        let retry_in_flight = retry_in_flight::RetryInFlight::new(m, &pattern_base, patterns.len());
        let prefetching = m.services.len() >= hints::PREFETCH_FROM;
        let mut w = World {
            m,
            now: 0,
            queue: EventQueue::new(),
            jobs: Arena::with_capacity(1024),
            calls: Arena::with_capacity(1024),
            attempts: Arena::with_capacity(1024),
            replicas: Vec::new(),
            doors: door::doors(m),
            prefetching,
            hints: hints::Tables::default(),
            cpus: m.nodes.iter().map(|n| cpu::Cpu::new(n.cores)).collect(),
            rr: vec![0; m.services.len()],
            work_rng: m
                .services
                .iter()
                .map(|s| stream(seed, &streams::work(s)))
                .collect(),
            lb_rng: m
                .services
                .iter()
                .map(|s| stream(seed, &streams::balancer(s)))
                .collect(),
            edge_rng: m
                .edges
                .iter()
                .map(|e| stream(seed, &streams::network(e)))
                .collect(),
            fault_rng: m.faults.iter().map(|f| stream(seed, &f.stream)).collect(),
            retry_rng: m
                .call_sites
                .iter()
                .map(|site| stream(seed, &streams::retry(site)))
                .collect(),
            throttle_rng: if m.policies.iter().any(|p| p.throttle.is_some()) {
                m.call_sites
                    .iter()
                    .map(|site| stream(seed, &streams::throttle(site)))
                    .collect()
            } else {
                Vec::new()
            },
            branch_rng: m
                .branches
                .iter()
                .map(|b| stream(seed, &streams::branch(&b.site)))
                .collect(),
            pattern_base,
            patterns,
            scoped: Vec::new(),
            svc_faults: vec![Vec::new(); m.services.len()],
            edge_faults: vec![Vec::new(); m.edges.len()],
            sources: m.sources.iter().map(|s| source::state(s, seed)).collect(),
            duration,
            rec: Recorder::new(m, seed),
            events: 0,
            active_sources: m.sources.len(),
            sources_end: 0,
            in_flight: vec![0; m.edges.len()],
            edge_net: network::edge_nets(m),
            client_of: clients_of_specs(m),
            breaker_specs: m
                .calls
                .iter()
                .enumerate()
                .filter_map(|(spec, c)| {
                    // The model says which policies break, without reading
                    // every caller's patterns.
                    let breaks = c.policy != crate::model::NO_POLICY
                        && m.policies[c.policy as usize].breaker.is_some();
                    c.edge.filter(|_| breaks).map(|e| (spec as u32, e))
                })
                .collect(),
            msg: broker::Messaging::new(m, seed),
            source_hops: m.sources.iter().any(|s| s.latency.is_some()),
            cpu_done: Vec::new(),
            stopped: None,
            rt: m.services.iter().map(runtime_flags).collect(),
            marks: Vec::new(),
            caches: Vec::new(),
            cache_key_rng: Vec::new(),
            cache_keys: Vec::new(),
            outliers: outlier::states(m),
            logs: log::Logs::new(m, seed),
            sagas: saga::Sagas::new(m),
            tracer: None,
            scalers: autoscale::scalers(m),
            outbox: outbox::Outboxes::new(m, seed),
            accepted: accepted::Accepted::new(m),
            stores: store::Stores::new(m, seed),
            zoning: zoning::state(m, seed),
            choreo: choreo::Choreo::new(m),
            stw: stw::Stopped::default(),
            retry_in_flight,
            direct_pending: 0,
            loops_on: m.services.iter().any(|s| s.loops().is_some()),
            roomy: vec![event_loop::RoomyLoops::default(); m.services.len()],
            lending: event_loop::NO_JOB,
        };
        for s in 0..m.services.len() {
            if !w.msg.consumed_by.of(s).is_empty() || w.logs.consumes(s) {
                w.rt[s] |= RT_CONSUMES;
            }
        }
        if w.prefetching {
            w.rec.log_latencies();
        }
        w.mark_direct_sources();
        w.start_outlier_sweeps();
        w.start_autoscalers();
        (w.caches, w.cache_key_rng) = cache::states(m, seed);
        w.replicas = m
            .services
            .iter()
            .map(|s| service::replicas(s, &mut w.cpus))
            .collect();
        if w.prefetching {
            w.hints = hints::Tables::new(m, &w.replicas);
        }
        if m.warmup > 0 {
            w.schedule(m.warmup, Ev::WarmupEnd);
        }
        for i in 0..m.faults.len() as u32 {
            let f = &m.faults[i as usize];
            w.schedule(f.start, Ev::FaultStart { fault: i });
            w.schedule(f.end, Ev::FaultEnd { fault: i });
        }
        for i in 0..m.sources.len() {
            w.start_source(i);
        }
        w
    }

    /// The moment `d` from now. Time never wraps: a moment past the end
    /// of `Nanos` is `Nanos::MAX`, "never in this run" (the loop stops at
    /// the horizon before it), so a huge work time leaves its job in
    /// flight at the end instead of finishing in the past.
    #[inline]
    fn at(&self, d: Nanos) -> Nanos {
        self.now.saturating_add(d)
    }

    #[inline]
    fn schedule(&mut self, t: Nanos, ev: Ev) {
        debug_assert!(t >= self.now, "an event scheduled in the past");
        self.queue.push(t, ev);
    }

    /// Schedules a timer a fixed, scenario-given duration from now (a
    /// timeout or a wait): it goes into that duration's lane.
    #[inline]
    fn schedule_after(&mut self, d: Nanos, ev: Ev) {
        self.queue.push_after(self.now, d, ev);
    }

    /// Whether `ev` still matters. Stale timers and messages for jobs cut
    /// off by a crash are skipped without moving the clock, so they never
    /// stretch the run or its windows.
    #[inline]
    fn is_live(&mut self, ev: &Ev) -> bool {
        match *ev {
            Ev::Arrive { job, generation }
            | Ev::Syn { job, generation }
            | Ev::ConnectFailed { job, generation }
            | Ev::WorkDone { job, generation }
            | Ev::Delivered { job, generation }
            | Ev::FillFailed { job, generation }
            | Ev::ZoneCrossed { job, generation } => self.jobs[job].generation == generation,
            Ev::Reply {
                attempt,
                generation,
                edge,
                ..
            } => {
                let a = &self.attempts[attempt];
                let live = a.generation == generation && a.live;
                if !live {
                    self.rec
                        .count_on_edge(edge, crate::metrics::EdgeCount::LateReplies);
                }
                live
            }
            Ev::AttemptTimeout {
                attempt,
                generation,
            }
            | Ev::ConnectTimeout {
                attempt,
                generation,
            }
            | Ev::ClientReply {
                attempt,
                generation,
                ..
            } => {
                let a = &self.attempts[attempt];
                a.generation == generation && a.live
            }
            Ev::CallTimeout { call, generation }
            | Ev::Retry { call, generation }
            | Ev::Hedge { call, generation }
            | Ev::Fallback { call, generation } => {
                let c = &self.calls[call];
                c.generation == generation && c.pending
            }
            Ev::BulkheadTimeout { .. } => true,
            Ev::CpuDone { cpu, generation } => self.cpus[cpu as usize].generation() == generation,
            Ev::Visibility { msg, generation } => self.msg.is_in_flight(msg, generation),
            Ev::Redeliver { msg, generation } => self.msg.is_delayed(msg, generation),
            Ev::PublishTimeout {
                job,
                generation,
                step,
            } => {
                let j = &self.jobs[job];
                j.generation == generation && j.blocked && j.step == step
            }
            Ev::LogPollTimeout { member, generation } => self.logs.is_current(member, generation),
            Ev::Poll { ticket, generation } => self.accepted.is_current(ticket, generation),
            Ev::WriteConflict { job, generation } => self.jobs[job].generation == generation,
            Ev::LingerExpired { slot, generation } => {
                self.logs.producer.is_current(slot, generation)
            }
            Ev::StoreFailed { job, generation } => self.jobs[job].generation == generation,
            Ev::RefillStart { job, generation } => self.jobs[job].generation == generation,
            Ev::StwResume { job, generation } => self.jobs[job].generation == generation,
            Ev::SourceArrival { .. }
            | Ev::LogPoll { .. }
            | Ev::LogRetry { .. }
            | Ev::LogExpire { .. }
            | Ev::LoopFree { .. }
            | Ev::GcEnd { .. }
            | Ev::Restart { .. }
            | Ev::OutlierSweep { .. }
            | Ev::AutoscaleSync { .. }
            | Ev::ReplicaReady { .. }
            | Ev::FaultStart { .. }
            | Ev::FaultEnd { .. }
            | Ev::WarmupEnd
            | Ev::OutboxRelay { .. }
            | Ev::RelayPoll { .. }
            | Ev::MemberPoll { .. }
            | Ev::OutboxMark { .. } => true,
        }
    }

    fn run_loop(&mut self, watch: &crate::options::Watch) {
        let stop_at = self.duration.saturating_add(self.m.drain);
        while let Some(e) = self.queue.pop() {
            self.events += 1;
            // The overload guard and the watch (stop, progress), checked
            // every 65,536 events (a few microseconds' work per check).
            if self.events & 0xFFFF == 0 && self.must_stop(watch) {
                self.now = self.now.max(e.t.min(stop_at));
                break;
            }
            if e.t > stop_at {
                self.now = stop_at;
                break;
            }
            if !self.is_live(&e.ev) {
                continue;
            }
            self.now = e.t;
            if self.rec.closes_window(e.t) {
                let mut g = self.rec.take_edge_gauges();
                self.edge_gauges(&mut g);
                self.rec.set_edge_gauges(g);
                if !self.m.groups.is_empty() {
                    self.sample_logs();
                }
                self.sync_loop_figures();
                self.rec.advance_windows(e.t);
            }
            self.handle(e.ev);
            // Sources first: while one still sends (most of a run) the
            // test ends at its first term.
            if self.active_sources == 0
                && self.calls.live() == 0
                && self.jobs.live() == 0
                && self.direct_pending == 0
                && self.msg.live == 0
                && self.logs.backlog == 0
                && self.outbox.pending == 0
                && self.accepted.waiting() == 0
            {
                break;
            }
        }
        // An idle system still counts as observed until the sources stop.
        self.now = self.now.max(self.sources_end.min(stop_at));
    }

    // One call site, in the loop: kept inline (the dispatch is per event).
    #[inline(always)]
    fn handle(&mut self, ev: Ev) {
        match ev {
            // What wakes a replica's application waits while it is in a
            // GC pause (`stw`); the other events never ask.
            stw::pause_wakes!() if self.stw.pauses != 0 && self.defer_in_pause(ev) => {}
            Ev::SourceArrival { source } => self.on_source_arrival(source as usize),
            Ev::Arrive { job, .. } => self.on_arrive(job),
            Ev::Syn { job, .. } => self.on_syn(job),
            Ev::ConnectFailed { job, .. } => self.on_connect_failed(job),
            Ev::WorkDone { job, generation } => self.on_work_done(job, generation),
            Ev::Reply {
                attempt, outcome, ..
            } => self.end_attempt(attempt, outcome),
            Ev::ClientReply {
                attempt, outcome, ..
            } => self.end_attempt(attempt, outcome),
            Ev::ConnectTimeout { attempt, .. } => self.on_connect_timeout(attempt),
            Ev::AttemptTimeout { attempt, .. } => {
                if !self.outliers.is_empty() {
                    self.outlier_timeout(attempt);
                }
                let spec = self.calls[self.attempts[attempt].call].spec;
                self.count_timeout(spec);
                self.end_attempt(attempt, Outcome::Timeout);
            }
            Ev::CallTimeout { call, .. } => {
                self.count_timeout(self.calls[call].spec);
                self.finish_call(call, Outcome::Timeout);
            }
            Ev::Retry { call, .. } => self.start_attempt(call, false),
            Ev::Hedge { call, .. } => self.on_hedge_timer(call),
            Ev::BulkheadTimeout { holder, generation } => {
                self.on_bulkhead_timeout(holder, generation)
            }
            Ev::Fallback { call, .. } => self.deliver(call, Outcome::Degraded),
            Ev::FaultStart { fault } => self.on_fault(fault as usize, true),
            Ev::FaultEnd { fault } => self.on_fault(fault as usize, false),
            Ev::WarmupEnd => {
                self.sync_loop_figures();
                self.rec.start_measuring(self.now)
            }
            Ev::CpuDone { cpu, .. } => self.on_cpu_done(cpu as usize),
            Ev::Delivered { job, .. } => self.proceed(job),
            Ev::FillFailed { job, .. } => self.on_fill_failed(job),
            Ev::LoopFree { service, replica } => {
                self.on_loop_free(service.index(), replica as usize)
            }
            Ev::GcEnd { service, replica } => self.on_gc_end(service.index(), replica as usize),
            Ev::Restart { service, replica } => self.on_restart(service.index(), replica as usize),
            Ev::Visibility { msg, .. } => self.on_visibility(msg),
            Ev::Redeliver { msg, .. } => self.on_redeliver(msg),
            Ev::PublishTimeout { job, .. } => self.on_publish_timeout(job),
            Ev::OutlierSweep { service } => self.on_outlier_sweep(service.index()),
            Ev::AutoscaleSync { service } => self.on_autoscale_sync(service.index()),
            Ev::ReplicaReady {
                service,
                replica,
                generation,
            } => self.on_replica_ready(service.index(), replica as usize, generation),
            Ev::LogPoll { group } => self.on_log_poll(group as usize),
            Ev::MemberPoll { member } => self.on_member_poll(member),
            Ev::LogPollTimeout { member, generation } => self.on_poll_timeout(member, generation),
            Ev::LogRetry { member, generation } => self.on_log_retry(member, generation),
            Ev::LogExpire { log, partition } => {
                self.on_log_expire(log as usize, partition as usize)
            }
            Ev::OutboxRelay { outbox } => self.on_outbox_relay(outbox),
            Ev::RelayPoll { outbox, replica } => self.on_relay_poll(outbox, replica as usize),
            Ev::OutboxMark {
                outbox,
                replica,
                epoch,
            } => self.on_outbox_mark(outbox, replica, epoch),
            Ev::Poll { ticket, .. } => self.on_poll(ticket),
            Ev::WriteConflict { job, .. } => self.on_write_conflict(job),
            Ev::ZoneCrossed { job, .. } => self.admit(job),
            Ev::LingerExpired { slot, .. } => self.on_linger_expired(slot),
            Ev::StoreFailed { job, .. } => self.on_store_failed(job),
            Ev::RefillStart { job, .. } => self.admit(job),
            Ev::StwResume { job, .. } => self.proceed(job),
        }
    }
}
