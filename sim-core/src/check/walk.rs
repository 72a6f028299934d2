//! The shape of the call graph, rate-free: how often each step of an
//! operation runs per invocation (branch and optional-call probabilities),
//! how many calls and publishes an invocation makes, the visits of each
//! operation per request of a source, and sampled response times of a
//! call tree with no queueing anywhere.
//!
//! Must not know rates, capacities or waits: `check` combines these.

use crate::rng::Stream;
use rand::RngExt;

use crate::model::{Model, OpId, Step};

/// Past this depth a call graph is taken to be a cycle: visits stop
/// there, and sampling counts nothing deeper.
pub const MAX_DEPTH: usize = 64;

/// Per-invocation expectations of every operation.
pub struct Graph {
    /// How often each step (global index) runs per invocation of its
    /// operation.
    pub reach: Vec<f64>,
    /// Per operation: (callee operation, calls per invocation), from
    /// `call` and `parallel` steps.
    pub calls: Vec<Vec<(OpId, f64)>>,
    /// Per operation: (queue, messages per invocation), a topic's
    /// publish counted once per subscription.
    pub publishes: Vec<Vec<(u32, f64)>>,
    /// Per operation: (log, records appended per invocation).
    pub log_publishes: Vec<Vec<(u32, f64)>>,
    /// Per queue: the next step's queue when it triggers a step of a
    /// choreographed saga (its happy path: each acknowledgement publishes
    /// the next step's message).
    pub saga_next: Vec<Option<u32>>,
}

/// Per request of one source: invocations of each operation and messages
/// into each queue.
pub struct Visits {
    pub ops: Vec<f64>,
    pub queues: Vec<f64>,
    /// Records appended to each log; each of its groups processes every
    /// one (a visit of the group's consumer operation).
    pub logs: Vec<f64>,
    /// The graph did not end within `MAX_DEPTH` levels (a call cycle).
    pub cyclic: bool,
}

impl Graph {
    pub fn new(m: &Model) -> Graph {
        let mut reach = vec![0.0; m.steps.len()];
        let mut calls = vec![Vec::new(); m.ops.len()];
        let mut publishes = vec![Vec::new(); m.ops.len()];
        let mut log_publishes = vec![Vec::new(); m.ops.len()];
        for (op, o) in m.ops.iter().enumerate() {
            let first = o.first_step as usize;
            let end = first + o.step_count as usize;
            if first < end {
                reach[first] = 1.0;
            }
            // Control flow only jumps forward: one pass in step order.
            for pc in first..end {
                let r = reach[pc];
                if r == 0.0 {
                    continue;
                }
                match m.steps[pc] {
                    Step::Branch(b) => {
                        let br = &m.branches[b as usize];
                        let mut prev = 0.0;
                        for (c, &at) in br.cumulative.iter().zip(&br.first) {
                            if (at as usize) < end {
                                reach[at as usize] += r * (c - prev);
                            }
                            prev = *c;
                        }
                    }
                    Step::Jump(at) => {
                        if (at as usize) < end {
                            reach[at as usize] += r;
                        }
                    }
                    Step::Cache(i) => {
                        // A warm cache: its miss steps run (1 − h) of
                        // the time, the rest goes on past the fill.
                        let cs = &m.cache_steps[i as usize];
                        let h = super::cache::warm_hit_ratio(&m.caches[cs.cache as usize]);
                        reach[pc + 1] += r * (1.0 - h);
                        if (cs.fill as usize) + 1 < end {
                            reach[cs.fill as usize + 1] += r * h;
                        }
                    }
                    step => {
                        if pc + 1 < end {
                            reach[pc + 1] += r;
                        }
                        add_targets(m, step, r, &mut calls[op], &mut publishes[op]);
                        if let Step::Publish(p) = step
                            && let Some(l) = m.publishes[p as usize].log
                        {
                            match log_publishes[op]
                                .iter_mut()
                                .find(|e: &&mut (u32, f64)| e.0 == l)
                            {
                                Some(e) => e.1 += r,
                                None => log_publishes[op].push((l, r)),
                            }
                        }
                    }
                }
            }
        }
        let mut saga_next = vec![None; m.queues.len()];
        for saga in &m.sagas {
            for w in saga.choreography.windows(2) {
                saga_next[w[0].queue as usize] = Some(w[1].queue);
            }
        }
        Graph {
            reach,
            calls,
            publishes,
            log_publishes,
            saga_next,
        }
    }

    /// Visits per request entering at `entry`.
    pub fn visits(&self, m: &Model, entry: OpId) -> Visits {
        let mut ops = vec![0.0; m.ops.len()];
        let mut queues = vec![0.0; m.queues.len()];
        let mut logs = vec![0.0; m.logs.len()];
        let mut frontier = vec![0.0; m.ops.len()];
        frontier[entry as usize] = 1.0;
        for _ in 0..MAX_DEPTH {
            if frontier.iter().all(|f| *f == 0.0) {
                return Visits {
                    ops,
                    queues,
                    logs,
                    cyclic: false,
                };
            }
            let mut next = vec![0.0; m.ops.len()];
            for (op, f) in frontier.iter().enumerate() {
                if *f == 0.0 {
                    continue;
                }
                ops[op] += f;
                for &(callee, k) in &self.calls[op] {
                    next[callee as usize] += f * k;
                }
                for &(first, k) in &self.publishes[op] {
                    // A saga's queues follow each other (each is one step:
                    // the chain ends).
                    let mut q = Some(first);
                    while let Some(at) = q {
                        queues[at as usize] += f * k;
                        next[m.queues[at as usize].consumer as usize] += f * k;
                        q = self.saga_next[at as usize];
                    }
                }
                for &(l, k) in &self.log_publishes[op] {
                    logs[l as usize] += f * k;
                    for g in m.groups.iter().filter(|g| g.log == l) {
                        next[g.consumer as usize] += f * k;
                    }
                }
            }
            frontier = next;
        }
        Visits {
            ops,
            queues,
            logs,
            cyclic: true,
        }
    }
}

fn add_targets(
    m: &Model,
    step: Step,
    r: f64,
    calls: &mut Vec<(OpId, f64)>,
    publishes: &mut Vec<(u32, f64)>,
) {
    let add = |list: &mut Vec<(u32, f64)>, key: u32| match list.iter_mut().find(|e| e.0 == key) {
        Some(e) => e.1 += r,
        None => list.push((key, r)),
    };
    match step {
        Step::Call(c) => add(calls, m.calls[c as usize].op),
        Step::Parallel { first, count } => {
            for c in first..first + count {
                add(calls, m.calls[c as usize].op);
            }
        }
        Step::Publish(p) => {
            for &q in &m.publishes[p as usize].queues {
                add(publishes, q);
            }
        }
        Step::Saga(site) => {
            for c in &m.saga_sites[site as usize].calls {
                add(calls, m.calls[c.act as usize].op);
            }
        }
        _ => {}
    }
}

/// Samples response times with no queueing anywhere: work, network hops,
/// calls (capped by their timeouts), fan-outs (the slowest branch) and
/// publish acknowledgements.
pub struct Sampler<'m> {
    pub m: &'m Model,
    /// Each work step's draw × this, per service (processor sharing).
    pub stretch: &'m [f64],
}

impl Sampler<'_> {
    /// One invocation of `op`, in ns.
    pub fn op(&self, op: OpId, rng: &mut Stream, depth: usize) -> f64 {
        if depth > MAX_DEPTH {
            return 0.0;
        }
        let m = self.m;
        let o = &m.ops[op as usize];
        let stretch = self.stretch[o.service];
        let end = (o.first_step + o.step_count) as usize;
        let mut pc = o.first_step as usize;
        let mut t = 0.0;
        while pc < end {
            match m.steps[pc] {
                Step::Work(d) => t += m.dists[d as usize].sample(rng) as f64 * stretch,
                Step::Blocking(d) | Step::Wait(d) => t += m.dists[d as usize].sample(rng) as f64,
                Step::Cache(i) => {
                    let cs = &m.cache_steps[i as usize];
                    let c = &m.caches[cs.cache as usize];
                    t += m.dists[c.lookup as usize].sample(rng) as f64;
                    if rng.random::<f64>() < super::cache::warm_hit_ratio(c) {
                        pc = cs.fill as usize + 1;
                        continue;
                    }
                }
                Step::Fill(_) => {}
                // The caller is answered here: the rest is not its wait.
                Step::Accept => break,
                // An I/O wait of the store's latency (a conflict is not
                // modelled here: the happy path).
                Step::Read(i) | Step::Write(i) => {
                    t += m.dists[m.store_latency(m.steps[pc], i) as usize].sample(rng) as f64;
                }
                Step::Call(c) => t += self.call(c, rng, depth),
                Step::Parallel { first, count } => {
                    t += (first..first + count)
                        .map(|c| self.call(c, rng, depth))
                        .fold(0.0, f64::max);
                }
                Step::Publish(p) => {
                    let b = &m.brokers[m.publishes[p as usize].broker as usize];
                    t += m.dists[b.ack as usize].sample(rng) as f64;
                }
                Step::Branch(b) => {
                    let br = &m.branches[b as usize];
                    let u: f64 = rng.random();
                    let arm = br.cumulative.partition_point(|c| *c <= u);
                    pc = br.first[arm.min(br.first.len() - 1)] as usize;
                    continue;
                }
                Step::Jump(at) => {
                    pc = at as usize;
                    continue;
                }
                Step::Saga(site) => {
                    for c in &m.saga_sites[site as usize].calls {
                        t += self.call(c.act, rng, depth);
                    }
                }
            }
            pc += 1;
        }
        t
    }

    /// One attempt of call spec `c`: both hops and the callee, at most its
    /// timeout.
    pub fn call(&self, c: u32, rng: &mut Stream, depth: usize) -> f64 {
        let spec = &self.m.calls[c as usize];
        let mut t = self.op(spec.op, rng, depth + 1);
        if let Some(edge) = spec.edge {
            let lat = &self.m.dists[self.m.edges[edge].latency as usize];
            t += (lat.sample(rng) + lat.sample(rng)) as f64;
        }
        match spec.timeout.filter(|_| !spec.split_timeout) {
            Some(limit) => t.min(limit as f64),
            None => t,
        }
    }
}
