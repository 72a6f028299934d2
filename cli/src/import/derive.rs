//! From spans to a system: services and operations (server and consumer
//! spans), synchronous calls (a client span and the server span under it,
//! or a server span directly under another service's span), asynchronous
//! edges (a producer span and the consumer span under it → a queue),
//! calls per invocation and sibling overlap (sequential or parallel),
//! server self-time (the span minus its calls), network time (client −
//! server, halved per hop; negative = clock skew, counted and not used),
//! entry rates (root spans over the observed window) and error ratios.
//! Span links are followed first (`links.rs`): a consumer's trace linked
//! to its producer's is read as part of it; a batch consumer linked to
//! several producers is one message from each (each producer's edge to
//! its queue counts), its work and its calls shared among them.
//!
//! Bounded memory: samples are kept in fixed-size reservoirs drawn with a
//! fixed seed, so the result does not depend on anything but the input.
//! Must not know file formats or write anything.

use super::links::{self, LinkCounts};
use super::span::{Collector, Kind, Span};
use indexmap::IndexMap;

/// Samples kept per distribution.
const RESERVOIR: usize = 10_000;
/// Calls of one callee per invocation counted separately, at most.
const MAX_REPEAT: usize = 8;

/// A uniform sample of at most `RESERVOIR` values (Algorithm R), its
/// draws a fixed hash of the name and the count: the same input keeps the
/// same sample.
#[derive(Clone, Debug)]
pub struct Reservoir {
    pub seen: u64,
    pub values: Vec<u64>,
    salt: u64,
}

impl Reservoir {
    fn new(name: &str) -> Reservoir {
        Reservoir {
            seen: 0,
            values: Vec::new(),
            salt: sim_core::rng::stream_id(name),
        }
    }

    fn add(&mut self, v: u64) {
        self.seen += 1;
        if self.values.len() < RESERVOIR {
            self.values.push(v);
        } else {
            let j = sim_core::rng::mix(self.salt ^ self.seen) % self.seen;
            if (j as usize) < RESERVOIR {
                self.values[j as usize] = v;
            }
        }
    }

    pub fn mean(&self) -> f64 {
        if self.values.is_empty() {
            0.0
        } else {
            self.values.iter().map(|&v| v as f64).sum::<f64>() / self.values.len() as f64
        }
    }
}

/// An operation's callee: a service's operation, synchronous or through a
/// queue.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Callee {
    pub service: String,
    pub op: String,
    /// The queue, for an asynchronous edge.
    pub queue: Option<String>,
}

#[derive(Clone, Debug, Default)]
pub struct CallStats {
    /// `at_least[j]`: invocations that made more than j such calls.
    pub at_least: Vec<u64>,
    /// Mean start of the first such call after the invocation's start.
    pub offset_sum: f64,
    pub offsets: u64,
}

#[derive(Debug)]
pub struct OpStats {
    pub invocations: u64,
    pub errors: u64,
    pub self_time: Reservoir,
    pub calls: IndexMap<Callee, CallStats>,
    /// Per pair of callees (indices into `calls`, lower first): invocations
    /// with both, and of those, with the two overlapping in time.
    pub overlaps: IndexMap<(usize, usize), (u64, u64)>,
}

#[derive(Debug, Default)]
pub struct ServiceStats {
    pub ops: IndexMap<String, OpStats>,
    /// Sum of its operations' span durations: its mean concurrency × window.
    pub busy_ns: u128,
    /// Seen only as a callee's name on a client span (no spans of its own).
    pub uninstrumented: bool,
}

#[derive(Debug, Default)]
pub struct Derived {
    pub services: IndexMap<String, ServiceStats>,
    /// Root requests per entry operation.
    pub entries: IndexMap<(String, String), u64>,
    /// From the first span's start to the last one's end.
    pub window_ns: u64,
    /// Per edge "a->b": one-way network samples, and skewed pairs.
    pub network: IndexMap<String, Reservoir>,
    pub skewed: IndexMap<String, u64>,
    /// Queue → its consumer (service, operation).
    pub queues: IndexMap<String, (String, String)>,
    pub spans: usize,
    pub traces: usize,
    pub partial_traces: usize,
    /// Spans whose parent is not in the input.
    pub orphans: usize,
    /// What could not be derived, one line each.
    pub notes: Vec<String>,
    /// Span links followed, dangling and not followed (`links.rs`).
    pub links: LinkCounts,
}

/// A name the scenario accepts: letters, digits, `_` and `-`.
pub fn clean(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let out = out.trim_matches('-').to_owned();
    if out.is_empty() {
        "unnamed".into()
    } else {
        out
    }
}

pub fn derive(mut c: Collector) -> Derived {
    let mut d = Derived {
        spans: c.spans.len(),
        ..Derived::default()
    };
    if c.spans.is_empty() {
        return d;
    }
    let first = c.spans.iter().map(|s| s.start).min().unwrap_or(0);
    let last = c.spans.iter().map(|s| s.end).max().unwrap_or(0);
    d.window_ns = last.saturating_sub(first);
    let mut spans = std::mem::take(&mut c.spans);
    d.links = links::follow(&mut spans, &c.extra_links);
    spans.sort_by_key(|s| (s.trace, s.start, s.id));
    let mut i = 0;
    while i < spans.len() {
        let mut j = i;
        while j < spans.len() && spans[j].trace == spans[i].trace {
            j += 1;
        }
        d.traces += 1;
        trace(&c, &spans[i..j], &mut d);
        i = j;
    }
    if d.entries.is_empty() {
        entries_without_roots(&mut d);
    }
    d
}

/// With no root span at all (every trace partial), the entries are the
/// operations nobody calls, at the rate of their own spans.
fn entries_without_roots(d: &mut Derived) {
    let called: Vec<(String, String)> = d
        .services
        .values()
        .flat_map(|s| s.ops.values())
        .flat_map(|op| op.calls.keys())
        .map(|c| (c.service.clone(), c.op.clone()))
        .collect();
    for (name, svc) in &d.services {
        for (op, st) in &svc.ops {
            let key = (name.clone(), op.clone());
            if !called.contains(&key) && !svc.uninstrumented {
                d.entries.insert(key, st.invocations);
            }
        }
    }
    d.notes.push(
        "entries: no trace has a root span, so the entries are the operations nobody calls, at the rate of their own spans".into(),
    );
}

/// One trace: its spans sorted by start.
fn trace(c: &Collector, spans: &[Span], d: &mut Derived) {
    let mut by_id: Vec<(u64, usize)> = spans.iter().enumerate().map(|(i, s)| (s.id, i)).collect();
    by_id.sort_unstable();
    let find = |id: u64| {
        by_id
            .binary_search_by_key(&id, |e| e.0)
            .ok()
            .map(|k| by_id[k].1)
    };
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); spans.len()];
    let mut roots = Vec::new();
    let mut partial = false;
    for (i, s) in spans.iter().enumerate() {
        match s.parent.map(|p| (p, find(p))) {
            Some((_, Some(p))) if p != i => children[p].push(i),
            Some(_) => {
                partial = true;
                d.orphans += 1;
            }
            None => roots.push(i),
        }
    }
    if partial || roots.is_empty() {
        d.partial_traces += 1;
    }
    let op_key = |s: &Span| (clean(c.name(s.service)), clean(c.name(s.name)));
    // Entries: a root that serves, or the server span under a root client.
    for &r in &roots {
        let s = &spans[r];
        let entry = if s.kind == Kind::Client || s.kind == Kind::Producer {
            children[r]
                .iter()
                .find(|&&k| spans[k].kind.serves())
                .map(|&k| op_key(&spans[k]))
        } else {
            Some(op_key(s))
        };
        if let Some(e) = entry {
            *d.entries.entry(e).or_default() += 1;
        }
    }
    for (i, s) in spans.iter().enumerate() {
        // An operation: a span that serves, or a root of any other kind
        // (an instrumented entry without a server span).
        let root_internal = s.parent.is_none() && s.kind == Kind::Internal;
        if s.kind.serves() || root_internal {
            invocation(c, spans, &children, i, d);
        }
    }
}

/// A call an invocation made: its callee, when, and the client span's
/// duration when there is one.
struct Call {
    callee: Callee,
    start: u64,
    end: u64,
}

fn invocation(c: &Collector, spans: &[Span], children: &[Vec<usize>], i: usize, d: &mut Derived) {
    let s = &spans[i];
    let service = clean(c.name(s.service));
    let op = clean(c.name(s.name));
    let mut calls: Vec<Call> = Vec::new();
    // Walk through internal spans of the invocation to its calls.
    let mut stack: Vec<usize> = children[i].clone();
    while let Some(k) = stack.pop() {
        let ch = &spans[k];
        match ch.kind {
            Kind::Internal => stack.extend(children[k].iter().copied()),
            Kind::Server | Kind::Consumer => {
                let callee = Callee {
                    service: clean(c.name(ch.service)),
                    op: clean(c.name(ch.name)),
                    queue: (ch.kind == Kind::Consumer).then(|| queue_name(c, ch, &service)),
                };
                if let Some(q) = &callee.queue {
                    d.queues
                        .entry(q.clone())
                        .or_insert((callee.service.clone(), callee.op.clone()));
                }
                calls.push(Call {
                    callee,
                    start: ch.start,
                    end: ch.end,
                });
            }
            Kind::Client | Kind::Producer => {
                let server = children[k]
                    .iter()
                    .copied()
                    .find(|&g| spans[g].kind.serves());
                let callee = match server {
                    Some(g) => {
                        let sv = &spans[g];
                        let to = clean(c.name(sv.service));
                        if ch.kind == Kind::Client {
                            let edge = format!("{service}->{to}");
                            if ch.duration() >= sv.duration() {
                                d.network
                                    .entry(edge.clone())
                                    .or_insert_with(|| Reservoir::new(&edge))
                                    .add((ch.duration() - sv.duration()) / 2);
                            } else {
                                *d.skewed.entry(edge).or_default() += 1;
                            }
                        }
                        Callee {
                            service: to,
                            op: clean(c.name(sv.name)),
                            queue: (ch.kind == Kind::Producer).then(|| queue_name(c, ch, &service)),
                        }
                    }
                    None if ch.hands_to.is_some() => {
                        // A batch consumer's further producer: its message
                        // goes to that consumer's queue (`links.rs`).
                        let (svc, name) = ch.hands_to.expect("checked");
                        let callee = Callee {
                            service: clean(c.name(svc)),
                            op: clean(c.name(name)),
                            queue: Some(queue_name(c, ch, &service)),
                        };
                        let q = callee.queue.clone().expect("set above");
                        d.queues
                            .entry(q)
                            .or_insert((callee.service.clone(), callee.op.clone()));
                        callee
                    }
                    None => {
                        // Uninstrumented callee: named by the client span.
                        let to = ch
                            .peer
                            .map(|p| clean(c.name(p)))
                            .unwrap_or_else(|| format!("{}-peer", clean(c.name(ch.name))));
                        let leaf = d.services.entry(to.clone()).or_default();
                        if leaf.ops.is_empty() {
                            leaf.uninstrumented = true;
                        }
                        if leaf.uninstrumented {
                            let key = format!("{to}.default");
                            let st = leaf
                                .ops
                                .entry("default".into())
                                .or_insert_with(|| new_op(&key));
                            st.invocations += 1;
                            st.errors += u64::from(ch.error);
                            st.self_time.add(ch.duration());
                            leaf.busy_ns += u128::from(ch.duration());
                        }
                        Callee {
                            service: to,
                            op: "default".into(),
                            queue: None,
                        }
                    }
                };
                if ch.kind == Kind::Producer && server.is_some() {
                    let consumer = (callee.service.clone(), callee.op.clone());
                    let q = callee
                        .queue
                        .clone()
                        .expect("a producer's callee has a queue");
                    d.queues.entry(q).or_insert(consumer);
                }
                calls.push(Call {
                    callee,
                    start: ch.start,
                    end: ch.end,
                });
            }
        }
    }
    calls.sort_by_key(|c| (c.start, c.end));
    // Self time: the span minus the union of its synchronous calls.
    let mut covered = 0u64;
    let mut until = s.start;
    for call in calls.iter().filter(|c| c.callee.queue.is_none()) {
        let (a, b) = (call.start.max(until).max(s.start), call.end.min(s.end));
        if b > a {
            covered += b - a;
        }
        until = until.max(call.end);
    }
    let key = format!("{service}.{op}");
    let svc = d.services.entry(service).or_default();
    svc.uninstrumented = false;
    svc.busy_ns += u128::from(s.duration());
    let st = svc.ops.entry(op).or_insert_with(|| new_op(&key));
    // A batch of `batch` messages is that many invocations sharing the
    // span's self time and its calls (each call counts once: per message,
    // its probability is shared).
    let batch = u64::from(s.batch.max(1));
    st.invocations += batch;
    st.errors += u64::from(s.error) * batch;
    let own = s.duration().saturating_sub(covered);
    for k in 0..batch {
        // Whole nanoseconds adding up to the span's self time.
        st.self_time.add(own * (k + 1) / batch - own * k / batch);
    }
    // Per callee: how many calls, the first one's offset, and the spans
    // (for overlap between callees).
    let mut present: Vec<(usize, Vec<(u64, u64)>)> = Vec::new();
    for call in &calls {
        let idx = match st.calls.get_index_of(&call.callee) {
            Some(x) => x,
            None => {
                st.calls
                    .insert_full(call.callee.clone(), CallStats::default())
                    .0
            }
        };
        match present.iter_mut().find(|p| p.0 == idx) {
            Some(p) => p.1.push((call.start, call.end)),
            None => present.push((idx, vec![(call.start, call.end)])),
        }
    }
    for (idx, spans_of) in &present {
        let cs = &mut st.calls[*idx];
        let n = spans_of.len().min(MAX_REPEAT);
        if cs.at_least.len() < n {
            cs.at_least.resize(n, 0);
        }
        for j in 0..n {
            cs.at_least[j] += 1;
        }
        cs.offset_sum += spans_of[0].0.saturating_sub(s.start) as f64;
        cs.offsets += 1;
    }
    for (x, (a, sa)) in present.iter().enumerate() {
        for (b, sb) in &present[x + 1..] {
            let key = ((*a).min(*b), (*a).max(*b));
            let overlap = sa
                .iter()
                .any(|&(s1, e1)| sb.iter().any(|&(s2, e2)| s1 < e2 && s2 < e1));
            let e = st.overlaps.entry(key).or_default();
            e.0 += 1;
            e.1 += u64::from(overlap);
        }
    }
}

fn new_op(key: &str) -> OpStats {
    OpStats {
        invocations: 0,
        errors: 0,
        self_time: Reservoir::new(key),
        calls: IndexMap::new(),
        overlaps: IndexMap::new(),
    }
}

/// A queue's name: the destination the span names, else the producer's.
fn queue_name(c: &Collector, s: &Span, producer: &str) -> String {
    s.destination
        .map(|x| clean(c.name(x)))
        .unwrap_or_else(|| format!("{producer}-queue"))
}
