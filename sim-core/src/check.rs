//! `cascade check`: the analytic picture of a model before any run — offered
//! load and utilisation per service, Erlang-C waits, the services the
//! workload saturates and when, caller timeouts shorter than what they
//! wrap, retry amplification per path, and memory at the expected
//! concurrency.
//!
//! Reads only the `Model`; must not run the engine. Deterministic: the few
//! figures with no closed form (a lognormal's or a Pareto's mean, a call
//! tree's p99, the mean of a fan-out's slowest branch) are estimated from a
//! fixed number of draws on streams named `check/…` under the model's seed.
//!
//! The approximations, which the output repeats in `assumptions`:
//! - Faults are left out: this is the fault-free load. Retries, hedges,
//!   redeliveries and poison messages add no load (they happen on failure).
//! - A request holds its thread for its work, its calls (both hops and the
//!   callee's queue wait and holding time, at most the call's timeout) and
//!   its publishes' acknowledgements: the held-thread rule. A consumer's
//!   thread also waits for the delivery.
//! - Waits are M/M/c (Erlang C) with c threads per replica and the mean
//!   holding time, whatever the distributions; M/M/c/K (at any load) when
//!   a thread pool's accept queue is bounded. With `cores` below
//!   `threads`, work is stretched by the M/M/c(cores) CPU wait.
//! - A closed-loop source's rate is users ÷ (think + response with no
//!   waits): an upper bound of its throughput.
//! - The saturation time uses the holding times at the mean load.

mod cache;
mod erlang;
mod logs;
mod retries;
mod service;
mod timeline;
mod timeouts;
mod types;
pub(crate) mod walk;

use crate::model::{Model, OpId, Server, Service, Step, UNBOUNDED};
use crate::rng::stream;
use crate::time::{Nanos, secs};
use retries::retry_paths;
use timeline::{limit_time, mean_over};
use walk::{Graph, Sampler};

pub use erlang::{Bounded, bounded, erlang_c, mean_wait};

/// Draws for a distribution's mean when it has no closed form here.
const MEAN_DRAWS: usize = 50_000;
/// Draws for a call tree's response time (p99, fan-out means).
const TREE_DRAWS: usize = 4_000;

pub use types::*;

/// The analysis of `m`.
pub fn analyze(m: &Model) -> Check {
    Analysis::new(m).run()
}

#[derive(Clone, Copy, PartialEq)]
enum State {
    Todo,
    Busy,
    Done,
}

struct Analysis<'m> {
    m: &'m Model,
    graph: Graph,
    /// Per distribution, ns.
    means: Vec<f64>,
    /// Per source: visits per request.
    visits: Vec<walk::Visits>,
    /// Per source: mean rate over the measured period, and the rate at
    /// each timeline point.
    rates: Vec<f64>,
    timeline: Vec<Nanos>,
    rate_at: Vec<Vec<f64>>,
    /// Per service: work stretch from CPU sharing.
    stretch: Vec<f64>,
    /// Per operation: mean invocations per second.
    op_rate: Vec<f64>,
    /// Per queue: messages per second.
    queue_rate: Vec<f64>,
    /// Per service, ns; and memo of holds per operation.
    wait: Vec<f64>,
    state: Vec<State>,
    hold: Vec<Option<f64>>,
    op_busy: Vec<bool>,
    /// Whether waits count (false: the no-queueing pass for closed loops).
    with_waits: bool,
    notes: Vec<String>,
}

impl<'m> Analysis<'m> {
    fn new(m: &'m Model) -> Analysis<'m> {
        let mut notes = Vec::new();
        let mut sampled = Vec::new();
        let means = m
            .dists
            .iter()
            .enumerate()
            .map(|(i, d)| {
                d.mean().unwrap_or_else(|| {
                    sampled.push(i);
                    let mut rng = stream(m.seed, &format!("check/mean/{i}"));
                    (0..MEAN_DRAWS)
                        .map(|_| d.sample(&mut rng) as f64)
                        .sum::<f64>()
                        / MEAN_DRAWS as f64
                })
            })
            .collect();
        if !sampled.is_empty() {
            notes.push(format!(
                "{} lognormal or Pareto distribution{} averaged over {MEAN_DRAWS} draws (no closed form used here)",
                sampled.len(),
                if sampled.len() == 1 { "" } else { "s" }
            ));
        }
        let graph = Graph::new(m);
        let visits: Vec<walk::Visits> = m.sources.iter().map(|s| graph.visits(m, s.op)).collect();
        if visits.iter().any(|v| v.cyclic) {
            notes.push(format!(
                "the call graph has a cycle: visits are counted to depth {}",
                walk::MAX_DEPTH
            ));
        }
        Analysis {
            m,
            graph,
            means,
            visits,
            rates: Vec::new(),
            timeline: timeline::timeline(m),
            rate_at: Vec::new(),
            stretch: vec![1.0; m.services.len()],
            op_rate: vec![0.0; m.ops.len()],
            queue_rate: vec![0.0; m.queues.len()],
            wait: vec![0.0; m.services.len()],
            state: vec![State::Todo; m.services.len()],
            hold: vec![None; m.ops.len()],
            op_busy: vec![false; m.ops.len()],
            with_waits: false,
            notes,
        }
    }

    fn run(mut self) -> Check {
        let m = self.m;
        // Closed loops need a response time: first one with no waits.
        let sources = self.source_rates();
        self.with_waits = true;
        self.reset();
        self.set_rates();
        self.stretch = (0..m.services.len()).map(|s| self.cpu_stretch(s)).collect();
        for s in 0..m.services.len() {
            self.service_wait(s);
        }
        let services: Vec<ServiceLoad> = (0..m.services.len())
            .map(|s| self.service_load(s))
            .collect();
        let logs = self.log_loads();
        let timeouts = self.timeouts();
        let retries = retry_paths(m);
        let overloaded = services
            .iter()
            .any(|s| s.overloaded || s.memory.as_ref().is_some_and(|mem| mem.over_limit));
        Check {
            scenario: m.name.clone(),
            warmup_s: secs(m.warmup),
            duration_s: secs(m.duration),
            sources,
            services,
            timeouts,
            retries,
            assumptions: assumptions(m),
            notes: self.notes,
            overloaded,
            logs,
        }
    }

    fn reset(&mut self) {
        self.wait.fill(0.0);
        self.state.fill(State::Todo);
        self.hold.fill(None);
        self.op_busy.fill(false);
    }

    /// Each source's rate over the timeline and its mean over the
    /// measured period; a closed loop's from its no-wait response.
    fn source_rates(&mut self) -> Vec<SourceLoad> {
        let m = self.m;
        let mut out = Vec::new();
        for (i, src) in m.sources.iter().enumerate() {
            let base = match src.closed {
                Some((users, think)) => {
                    let response = self.response(src.op) + self.means[think as usize];
                    f64::from(users) / (response / 1e9).max(1e-12)
                }
                None => src.rate,
            };
            let shape_rate = |t: Nanos| match src.closed {
                Some(_) => base,
                None => src.shape.rate_at(base, t).max(0.0),
            };
            // A request limit stops the source once the expected arrivals
            // reach it.
            let stop = src.limit.map_or(m.duration, |limit| {
                limit_time(m.duration, limit, &shape_rate)
            });
            let rate = |t: Nanos| if t < stop { shape_rate(t) } else { 0.0 };
            let at: Vec<f64> = self.timeline.iter().map(|&t| rate(t)).collect();
            let mean = mean_over(m.warmup, m.duration, &rate);
            let target = &m.ops[src.op as usize];
            let svc = &m.services[target.service];
            out.push(SourceLoad {
                name: src.name.clone(),
                target: if svc.ops.len() > 1 {
                    format!("{}.{}", svc.name, target.name)
                } else {
                    svc.name.clone()
                },
                rate: mean,
                peak_rate: at.iter().copied().fold(0.0, f64::max),
                closed_loop: src.closed.is_some(),
            });
            self.rates.push(mean);
            self.rate_at.push(at);
            let _ = i;
        }
        out
    }

    fn set_rates(&mut self) {
        self.op_rate.fill(0.0);
        self.queue_rate.fill(0.0);
        for (v, r) in self.visits.iter().zip(&self.rates) {
            for (o, x) in self.op_rate.iter_mut().zip(&v.ops) {
                *o += r * x;
            }
            for (q, x) in self.queue_rate.iter_mut().zip(&v.queues) {
                *q += r * x;
            }
        }
    }

    /// Requests (and deliveries) per second into service `s`.
    fn service_rate(&self, s: usize) -> f64 {
        self.m.services[s]
            .ops
            .iter()
            .map(|&op| self.op_rate[op as usize])
            .sum()
    }

    /// Mean CPU work per invocation of `op`, ns (work steps only).
    fn cpu_work(&self, op: OpId) -> f64 {
        self.steps_sum(op, |step| match step {
            Step::Work(d) => self.means[d as usize],
            _ => 0.0,
        })
    }

    /// Mean loop-holding work per invocation of `op` (work and blocking).
    fn loop_work(&self, op: OpId) -> f64 {
        self.steps_sum(op, |step| match step {
            Step::Work(d) | Step::Blocking(d) => self.means[d as usize],
            _ => 0.0,
        })
    }

    fn steps_sum(&self, op: OpId, f: impl Fn(Step) -> f64) -> f64 {
        let o = &self.m.ops[op as usize];
        let first = o.first_step as usize;
        (first..first + o.step_count as usize)
            .map(|pc| self.graph.reach[pc] * f(self.m.steps[pc]))
            .sum()
    }

    /// Work × this under processor sharing on fewer cores than threads:
    /// 1 + C(cores, a) ÷ (cores (1 − ρ)), the M/M/c sojourn ÷ service.
    fn cpu_stretch(&self, s: usize) -> f64 {
        let svc = &self.m.services[s];
        let Some(cores) = svc.cores else { return 1.0 };
        if cores >= svc.threads {
            return 1.0;
        }
        let a = self.cpu_offered(s) / f64::from(svc.max_replicas());
        1.0 + mean_wait(cores, a, 1.0)
    }

    /// Busy cores on average (all replicas).
    fn cpu_offered(&self, s: usize) -> f64 {
        self.m.services[s]
            .ops
            .iter()
            .map(|&op| self.op_rate[op as usize] * self.cpu_work(op) / 1e9)
            .sum()
    }

    /// Per invocation of `op`: its queue wait then its holding time, ns.
    fn response(&mut self, op: OpId) -> f64 {
        let s = (self.m.ops[op as usize].service).index();
        self.service_wait(s) + self.op_hold(op)
    }

    /// Mean time an invocation of `op` holds its thread, ns (memoised; 0
    /// inside a call cycle).
    fn op_hold(&mut self, op: OpId) -> f64 {
        if let Some(h) = self.hold[op as usize] {
            return h;
        }
        if self.op_busy[op as usize] {
            return 0.0;
        }
        self.op_busy[op as usize] = true;
        let m = self.m;
        let o = &m.ops[op as usize];
        let stretch = self.stretch[o.service];
        let first = o.first_step as usize;
        let mut h = 0.0;
        for pc in first..first + o.step_count as usize {
            let r = self.graph.reach[pc];
            if r == 0.0 {
                continue;
            }
            h += r * match m.steps[pc] {
                Step::Work(d) => self.means[d as usize] * stretch,
                Step::Blocking(d) | Step::Wait(d) => self.means[d as usize],
                Step::Cache(i) => {
                    let c = &m.caches[m.cache_steps[i as usize].cache as usize];
                    self.means[c.lookup as usize]
                }
                Step::Fill(_) => 0.0,
                // An I/O wait of the store's latency (the happy path).
                Step::Read(i) | Step::Write(i) => {
                    self.means[m.store_latency(m.steps[pc], i) as usize]
                }
                Step::Call(c) => self.call_time(c),
                Step::Parallel { first, count } => self.fan_out_time(pc, first, count),
                Step::Publish(p) => {
                    let b = &m.brokers[m.publishes[p as usize].broker as usize];
                    self.means[b.ack as usize]
                }
                // The worker is held past an early answer too.
                Step::Branch(_) | Step::Jump(_) | Step::Accept => 0.0,
                // The happy path: each `do` in turn.
                Step::Saga(site) => m.saga_sites[site as usize]
                    .calls
                    .iter()
                    .map(|c| self.call_time(c.act))
                    .sum(),
            };
        }
        self.op_busy[op as usize] = false;
        self.hold[op as usize] = Some(h);
        h
    }

    /// One attempt of call `c`, as the caller waits for it: both hops and
    /// the callee's response, at most the timeout (ns).
    fn call_time(&mut self, c: u32) -> f64 {
        let spec = self.m.calls[c as usize];
        let mut t = self.response(spec.op);
        if let Some(edge) = spec.edge {
            t += 2.0 * self.means[self.m.edges[edge].latency as usize];
        }
        let policy_deadline = self
            .m
            .policies
            .get(spec.policy as usize)
            .and_then(|p| p.deadline);
        let timeout = spec.timeout.filter(|_| !spec.split_timeout);
        for limit in [timeout, policy_deadline].into_iter().flatten() {
            t = t.min(limit as f64);
        }
        t
    }

    /// The slowest of a fan-out's calls, on average: draws of each
    /// branch's no-wait response (capped by its timeout), each shifted by
    /// its mean wait.
    fn fan_out_time(&mut self, site: usize, first: u32, count: u32) -> f64 {
        let shift: Vec<f64> = (first..first + count)
            .map(|c| self.call_time(c) - self.sampled_call_mean(c))
            .collect();
        let sampler = Sampler {
            m: self.m,
            stretch: &self.stretch,
        };
        let mut rng = stream(self.m.seed, &format!("check/parallel/{site}"));
        let total: f64 = (0..TREE_DRAWS)
            .map(|_| {
                (first..first + count)
                    .zip(&shift)
                    .map(|(c, d)| (sampler.call(c, &mut rng, 0) + d).max(0.0))
                    .fold(0.0, f64::max)
            })
            .sum();
        total / TREE_DRAWS as f64
    }

    fn sampled_call_mean(&self, c: u32) -> f64 {
        let sampler = Sampler {
            m: self.m,
            stretch: &self.stretch,
        };
        let mut rng = stream(self.m.seed, &format!("check/call/{c}"));
        (0..TREE_DRAWS)
            .map(|_| sampler.call(c, &mut rng, 0))
            .sum::<f64>()
            / TREE_DRAWS as f64
    }

    /// Busy threads (an event loop: busy loops) on average, all replicas,
    /// and the mean holding time per arrival (ns).
    fn offered(&mut self, s: usize) -> (f64, f64) {
        let m = self.m;
        let svc = &m.services[s];
        let mut busy_ns = 0.0;
        for &op in &svc.ops {
            let rate = self.op_rate[op as usize];
            if rate > 0.0 {
                busy_ns += rate
                    * match svc.server {
                        Server::ThreadPool => self.op_hold(op),
                        Server::EventLoop { .. } => self.loop_work(op),
                    };
            }
        }
        if svc.server == Server::ThreadPool {
            // A consumer's thread waits for the delivery too.
            for (q, queue) in m.queues.iter().enumerate() {
                if queue.service.index() == s {
                    let b = &m.brokers[queue.broker as usize];
                    busy_ns += self.queue_rate[q] * self.means[b.delivery as usize];
                }
            }
        }
        if !m.groups.is_empty() {
            busy_ns += self.batch_cost_busy_ns(s);
        }
        let rate = self.service_rate(s);
        let busy = busy_ns / 1e9;
        (busy, if rate > 0.0 { busy_ns / rate } else { 0.0 })
    }

    /// The mean queue wait at service `s`, ns (memoised; 0 inside a cycle).
    fn service_wait(&mut self, s: usize) -> f64 {
        match self.state[s] {
            State::Done => return self.wait[s],
            State::Busy => return 0.0,
            State::Todo => {}
        }
        self.state[s] = State::Busy;
        let (busy, hold) = self.offered(s);
        let svc = &self.m.services[s];
        let w = if !self.with_waits {
            0.0
        } else {
            let a = busy / f64::from(svc.max_replicas());
            match bounded_queue(svc) {
                Some(q) => bounded(servers(svc), q, a, hold).wait,
                None => mean_wait(servers(svc), a, hold),
            }
        };
        self.wait[s] = w;
        self.state[s] = State::Done;
        w
    }
}

const MIB: f64 = 1024.0 * 1024.0;

/// The accept queue of a thread pool, when it is bounded (past 10^6
/// places it is taken as unbounded). An event loop's waits are on its
/// loops' run queue, which has no bound.
fn bounded_queue(svc: &Service) -> Option<u32> {
    (svc.server == Server::ThreadPool && svc.queue != UNBOUNDED && svc.queue <= 1_000_000)
        .then_some(svc.queue)
}

/// Threads per replica, or loops for an event loop.
fn servers(svc: &Service) -> u32 {
    match svc.server {
        Server::ThreadPool => svc.threads.max(1),
        Server::EventLoop { loops } => loops.max(1),
    }
}

fn assumptions(m: &Model) -> Vec<String> {
    let mut a = vec![
        "faults are left out: this is the fault-free load".to_owned(),
        "retries, hedges and redeliveries add no load (they happen on failure)".to_owned(),
        "waits are M/M/c (Erlang C; M/M/c/K with a bounded accept queue) on the mean holding time, whatever the distributions".to_owned(),
        "a request holds its thread through its calls (both hops, the callee's wait and hold, at most the timeout) and its publishes' acks".to_owned(),
    ];
    if !m.logs.is_empty() {
        a.push("a log's records spread evenly over its partitions; each group processes every record once, one at a time per member (rebalances, retries and batch commits left out)".into());
    }
    if m.sources.iter().any(|s| s.closed.is_some()) {
        a.push(
            "a closed loop's rate is users ÷ (think + response with no waits): an upper bound"
                .into(),
        );
    }
    if m.services.iter().any(|s| s.work_per_in_flight.is_some()) {
        a.push("work_law.per_in_flight is left out: work at its base time".into());
    }
    if m.services
        .iter()
        .any(|s| s.memory.is_some_and(|mem| mem.gc.is_some()))
    {
        a.push("GC pauses are left out of holding times".into());
    }
    a
}

#[cfg(test)]
mod tests;
