//! Prefetch hints on wide models: when an event is scheduled, ask for the
//! cache lines its handler will read.
//!
//! At thousands of services a service's records (its model, replica,
//! figures, random stream, the call spec and pattern state of its next
//! call) are rarely in cache when its next request comes, and the handler
//! used to take their misses one after another. An event is scheduled a
//! hop or a work step ahead, which is tens of events ahead in the run: a
//! hint given then is fetched while those run. Only lines the handler
//! reads for sure (or nearly) are asked for; a hint changes no result.
//!
//! Off (`World::prefetching` false) below `PREFETCH_FROM` services, where
//! everything stays in cache and a hint would only cost instructions.
//! Owns which lines to ask for; must not change state.

use ::prefetch::{line, lines};

use super::World;
use super::ids::{AttemptId, JobId};
use super::service::Replica;
use crate::model::{EdgeId, Model, ServiceId, Step};

/// Services from which a model's records outgrow the cache (about 2 KiB
/// each across model, replica and figures: 256 of them fill half a
/// 1 MiB L2).
pub(super) const PREFETCH_FROM: usize = 256;

/// What the hints would otherwise read from records out of cache before
/// they could ask for anything (a load whose address waits on a miss is
/// a hint's own stall, and the one the handler was spared comes back in
/// the hint). Small dense tables: a line of each serves eight to sixteen
/// services or specs, so they stay in cache. Empty unless prefetching.
#[derive(Default)]
pub(super) struct Tables {
    /// Each source's first request: the service it calls and that
    /// operation's first step (as `alloc_job` starts it).
    source_targets: Vec<(ServiceId, u32)>,
    /// Each publish step's first queue (`NONE`: none).
    publish: Vec<u32>,
    /// Each call spec's edge (`NONE`: a source's call, which has none),
    /// whether it has a policy (without one its pattern state is empty
    /// and never read) and whether its edge's latency draws from the
    /// edge's stream (not a constant; a hint that read it from the edge's
    /// slot, which it asks for, waited for that line).
    specs: Vec<SpecHint>,
    /// The address of each service's first replica, where a hint would
    /// read the outer list's header (a line of its own) to find it. The
    /// lists are made once, before the run, and never grow, so these stay
    /// true; were one to move, a hint would only ask for a useless line.
    first_replica: Vec<usize>,
}

const NONE: u32 = u32::MAX;

/// What a hint needs of a call spec (`Tables::specs`).
#[derive(Clone, Copy)]
struct SpecHint {
    edge: u32,
    policy: bool,
    draws: bool,
}

const NO_SPEC: SpecHint = SpecHint {
    edge: NONE,
    policy: false,
    draws: false,
};

impl Tables {
    /// The tables of a wide model whose replicas are `replicas`.
    pub(super) fn new(m: &Model, replicas: &[Vec<Replica>]) -> Tables {
        let source_targets = m
            .sources
            .iter()
            .map(|src| {
                let op = &m.ops[m.calls[src.call as usize].op as usize];
                (op.service, op.first_step)
            })
            .collect();
        let publish = m
            .publishes
            .iter()
            .map(|p| p.queues.first().copied().unwrap_or(NONE))
            .collect();
        let specs = m
            .calls
            .iter()
            .map(|c| SpecHint {
                edge: c.edge.map_or(NONE, |e| e.index() as u32),
                policy: c.policy != crate::model::NO_POLICY,
                draws: c.edge.is_some_and(|e| {
                    let latency = m.edges[e.index()].latency;
                    !matches!(m.dists[latency as usize], crate::dist::Dist::Constant(_))
                }),
            })
            .collect();
        let first_replica = replicas.iter().map(|r| r.as_ptr() as usize).collect();
        Tables {
            source_targets,
            publish,
            specs,
            first_replica,
        }
    }
}

/// A queue's figures' lines asked for (its counters, levels and age gauge
/// come first; its histograms' own lines are not asked for).
const QUEUE_STATS_LINES: usize = 6;

/// Parallel calls hinted at most (a wide fan-out would ask for more lines
/// than the cache keeps until they are read).
const PARALLEL_HINTS: u32 = 4;

impl World<'_> {
    /// An arrival of job `j`, a hop from now: its service's door, the
    /// replica's first line, its figures' request lines, its work
    /// stream and its first step.
    #[inline(never)]
    pub(super) fn prefetch_arrival(&self, j: JobId) {
        let job = &self.jobs[j];
        self.prefetch_arrival_at(job.service, job.step);
    }

    /// What an arrival at service `s` reads, its job at `step`: the
    /// service's door (`door.rs`: no line of its model), the replica's
    /// first line, its figures' request lines, its work stream and
    /// the step.
    #[inline(always)]
    fn prefetch_arrival_at(&self, s: ServiceId, step: u32) {
        line(&self.doors[s.index()]);
        self.prefetch_request_lines(s.index());
        // Both of its lines: a draw reads the block (the first), and one
        // draw in seven or so refills it from the second.
        lines(&self.work_rng[s.index()], 2);
        line(&self.m.steps[step as usize]);
    }

    /// Job `j`'s work step ends a step's time from now; if the step after
    /// it is a call (or calls in parallel, up to `PARALLEL_HINTS` of them),
    /// what starting each reads: the call spec, its pattern state if it
    /// has a policy, the edge's figures, in-flight count and `EdgeNet`
    /// slot, and its stream if its latency draws; if it is the job's
    /// last, what the job's end reads.
    #[inline(never)]
    pub(super) fn prefetch_after_work(&self, j: JobId) {
        let job = &self.jobs[j];
        if job.step + 1 == job.end_step {
            // The work is the last step: the job ends with it.
            return self.prefetch_job_end(job);
        }
        // The step after the work is on the line of the work's, or the
        // next: in cache, where a table of our own would not be.
        let next_calls = match self.m.steps.get(job.step as usize + 1) {
            Some(&Step::Call(spec)) => spec..spec + 1,
            Some(&Step::Parallel { first, count }) => first..first + count.min(PARALLEL_HINTS),
            Some(&Step::Publish(p)) => {
                if let Some(&q) = self.hints.publish.get(p as usize) {
                    self.prefetch_queue(q);
                }
                return;
            }
            _ => return,
        };
        for spec in next_calls {
            // Asked for, not read: its edge comes from the table. (A
            // spec is one line, `CallSpec`.)
            line(&self.m.calls[spec as usize]);
            let hint = self
                .hints
                .specs
                .get(spec as usize)
                .copied()
                .unwrap_or(NO_SPEC);
            if hint.policy {
                let slot = self.pattern_base[spec as usize] + job.replica;
                if let Some(p) = self.patterns.get(slot as usize) {
                    line(p);
                }
            }
            if hint.edge != NONE {
                let e = EdgeId(hint.edge);
                // Its counters' first line (see `EdgeStats`), and what its
                // hop reads: its slot, and its stream if it draws.
                line(&self.rec.edges[e]);
                line(&self.in_flight[e.index()]);
                if let Some(net) = self.edge_net.get(e.index()) {
                    line(net);
                }
                if hint.draws
                    && let Some(rng) = self.edge_rng.get(e.index())
                {
                    // Both lines, as for a work stream.
                    lines(rng, 2);
                }
            }
        }
    }

    /// The answer to `attempt` lands a hop from now along `edge`: the
    /// edge's counters (see `EdgeStats`), the call's pattern state (if its
    /// spec has a policy) and its caller's figures (where the answer ends
    /// the caller's job, its sojourn is recorded), and if the caller
    /// answers a source straight, that source's figures.
    #[inline(never)]
    pub(super) fn prefetch_reply(&self, attempt: AttemptId, edge: EdgeId) {
        line(&self.rec.edges[edge]);
        line(&self.in_flight[edge.index()]);
        let call = &self.calls[self.attempts[attempt].call];
        let policy = self
            .hints
            .specs
            .get(call.spec as usize)
            .is_some_and(|hint| hint.policy);
        if policy && let Some(p) = self.patterns.get(call.slot as usize) {
            line(p);
        }
        if let super::records::Caller::Job { job, .. } = call.caller {
            self.prefetch_job_end(&self.jobs[job]);
        }
    }

    /// What `job`'s end reads: its service's request lines (its sojourn
    /// is recorded) and, if it answers a source straight, that source's
    /// figures.
    #[inline(always)]
    fn prefetch_job_end(&self, job: &super::records::Job) {
        let s = job.service.index();
        self.prefetch_request_lines(s);
        if self.rt[s] & super::RT_CONSUMES != 0 {
            // A thread it frees pulls from the queue it consumes; a
            // consumer's end settles its message there.
            if let Some(&q) = self.msg.consumed_by.of(s).first() {
                self.prefetch_queue(q);
            }
            if let super::records::Parent::Message { msg, .. } = job.parent {
                line(self.msg.message(msg));
            }
        }
        if let super::records::Parent::Source { source, .. } = job.parent {
            lines(
                self.rec.entries[source as usize].answer_lines(),
                crate::metrics::EntryStats::ANSWER_LINES,
            );
        }
    }

    /// Source `i` sends next of the sources, a few dozen events from now
    /// (a second of simulated time after its last: nothing of it is in
    /// cache): its model and state, its entry's and client's figures, and
    /// what its request's arrival reads at the service it calls.
    #[inline(never)]
    pub(super) fn prefetch_source(&self, i: usize) {
        line(&self.m.sources[i]);
        line(&self.sources[i]);
        line(&self.rec.entries[i]);
        line(&self.rec.clients[i]);
        if let Some(&(s, step)) = self.hints.source_targets.get(i) {
            self.prefetch_arrival_at(s, step);
        }
    }

    /// What a publish to queue `q`, a delivery from it or a pull reads:
    /// the queue's model, its state and its figures (`NONE`: nothing).
    #[inline(always)]
    fn prefetch_queue(&self, q: u32) {
        let Some(stats) = self.rec.queues.get(q as usize) else {
            return;
        };
        line(&self.m.queues[q as usize]);
        lines(&self.msg.queues[q as usize], 2);
        lines(stats, QUEUE_STATS_LINES);
    }

    /// What a request at service `s` reads whenever it arrives or ends:
    /// its first replica's first line and its figures' request lines.
    #[inline(always)]
    fn prefetch_request_lines(&self, s: usize) {
        // The list's header, which the handler reads to find the replica
        // (asked for, not read), and the first replica's first line, found
        // in the table (what a request reads of it unless it queues or
        // something waits: `Replica::waiting`).
        line(&self.replicas[s]);
        if let Some(&at) = self.hints.first_replica.get(s) {
            lines(at as *const Replica, 1);
        }
        for p in self.rec.services[s].request_lines() {
            lines(p, 1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::World;
    use super::PREFETCH_FROM;
    use crate::options::RunOptions;

    /// `n` services in chains of ten, each chain fed by its own source;
    /// every fifth service calls its next two in parallel instead, and the
    /// fifth of each chain publishes to a queue its last consumes.
    fn wide(n: usize) -> String {
        let mut t = String::from("name = \"wide\"\nduration = \"3s\"\nseed = 7\n");
        for g in 0..n / 10 {
            t += &format!("[workload.w{g}]\ntarget = \"s{}\"\nrate = 20\n", g * 10);
        }
        for i in 0..n {
            let work = "{ work = { dist = \"exponential\", mean = \"1ms\" } }";
            let call = |k: usize| format!("{{ call = \"s{k}\", timeout = \"50ms\" }}");
            let next = if i % 10 == 9 {
                String::new()
            } else if i % 5 == 0 && i % 10 < 8 {
                format!(", {{ parallel = [{}, {}] }}", call(i + 1), call(i + 2))
            } else {
                format!(", {}", call(i + 1))
            };
            let publish = if i % 10 == 4 {
                format!(", {{ publish = \"q{}\" }}", i / 10)
            } else {
                String::new()
            };
            t += &format!(
                "[services.s{i}]\nthreads = 4\nqueue = 10\nsteps = [{work}{next}{publish}]\n"
            );
        }
        for g in 0..n / 10 {
            t += &format!(
                "[queues.q{g}]\nconsumer = \"s{}\"\nconcurrency = 2\n",
                g * 10 + 9
            );
        }
        t
    }

    fn run(text: &str, prefetching: Option<bool>) -> (bool, crate::output::RunResult) {
        let s = crate::load("wide.toml", text, &[]).expect("loads");
        let opts = RunOptions::default();
        let mut w = World::new(&s.model, &opts);
        let on = w.prefetching;
        if let Some(p) = prefetching {
            w.prefetching = p;
            if !p {
                // Nor the wide model's latency log.
                w.rec.unlog_latencies();
            }
        }
        w.run_loop(&opts.watch);
        (on, w.finish(&opts))
    }

    /// A hint asks for one line of each of these: each must be one.
    #[test]
    fn the_records_hinted_as_one_line_are_one_line() {
        use std::mem::size_of;
        assert_eq!(size_of::<crate::model::CallSpec>(), 64);
        assert_eq!(size_of::<super::super::network::EdgeNet>(), 16);
        assert_eq!(size_of::<super::super::door::Door>(), 32);
        assert_eq!(std::mem::align_of::<super::super::network::EdgeNet>(), 16);
    }

    #[test]
    fn hints_change_no_result_and_are_on_only_for_wide_models() {
        // Long enough that the latency log fills and is folded many
        // times over (`metrics/latency_log.rs`: a small one in tests).
        let text = wide(PREFETCH_FROM + 44).replace("duration = \"3s\"", "duration = \"20s\"");
        let (on, with) = run(&text, None);
        let (_, without) = run(&text, Some(false));
        assert!(on, "a model of {} services prefetches", PREFETCH_FROM + 44);
        assert!(with.summary.services.values().all(|s| s.completed > 0));
        assert!(with.summary.queues.values().all(|q| q.acked > 0));
        assert_eq!(with.summary, without.summary);
        assert_eq!(with.timeseries, without.timeseries);
        let (on, _) = run(&wide(20), None);
        assert!(!on, "a small model does not");
    }
}
