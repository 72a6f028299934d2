//! The topology figure: the model's call graph. Services are boxes, each
//! workload an arrow into the service it targets (an operation's service),
//! every caller → callee edge an arrow, and queues boxes between their
//! producers and their consumer (dashed arrows), logs between their
//! producers and their groups' consumers (`topology_logs.rs`). Faulted services (queues
//! of a faulted broker, surged entries) carry a badge naming the fault;
//! boxes are coloured by their busiest window during the faults, so the
//! cause stands out from its symptoms.
//!
//! Owns which boxes and arrows there are and what they say. Must not place
//! or draw them (`plot::topology` and its layout do).

use sim_core::output::FaultWindow;

use super::services::saturation_values;
use super::shared::{Run, is_service_fault, ratio, service_of, split_edge};
use super::top::NODES;
use crate::numbers::{pct, short, thousands};
use crate::plot::{Chart, Edge, EdgeKind, Node, NodeKind, Topology};

/// The topology, or why it is not drawn: past `NODES` boxes (entries,
/// services and queues) a picture of the call graph is no longer legible.
pub(super) fn topology(run: &Run) -> Result<Chart, String> {
    let s = run.s;
    let boxes = s.entries.len() + s.services.len() + s.queues.len() + s.caches.len() + s.logs.len();
    if boxes > NODES {
        return Err(format!(
            "Not drawn: {} entries, services and queues are too many boxes to read (it is drawn up to {NODES}).",
            thousands(boxes as u64)
        ));
    }
    let mut nodes = Vec::new();
    let mut edges = Vec::new();
    let faults = |pick: &dyn Fn(&FaultWindow) -> bool| -> Option<String> {
        let hits: Vec<String> = s
            .faults
            .iter()
            .filter(|f| pick(f))
            .map(fault_text)
            .collect();
        (!hits.is_empty()).then(|| format!("fault: {}", hits.join("; ")))
    };
    for (name, e) in &s.entries {
        let rate = if s.sim_duration_s > 0.0 {
            e.requests as f64 / s.sim_duration_s
        } else {
            0.0
        };
        nodes.push(Node {
            name: name.clone(),
            detail: format!("{} req/s", short(rate)),
            kind: NodeKind::Entry,
            utilization: None,
            fault: faults(&|f| f.kind == "surge" && f.target == *name),
        });
    }
    let entry_count = nodes.len();
    let services: Vec<&String> = run
        .order
        .iter()
        .filter(|n| s.services.contains_key(*n))
        .collect();
    let colour = Colour::new(run);
    for name in &services {
        let mean = s.services.get(*name).map_or(0.0, |sv| sv.utilization);
        let worst = colour.worst(run, name);
        let mut detail = match worst {
            Some(w) => format!("mean {} · {} {}", pct0(mean), colour.word, pct0(w)),
            None => format!("mean {}", pct0(mean)),
        };
        // Where an event loop or memory can run out: loops and open
        // connections, memory peak against the limit, OOM kills.
        if let Some(sv) = s.services.get(*name) {
            if let Some(l) = &sv.event_loop {
                detail.push_str(&format!(
                    " · {} loops, ≤{} open",
                    l.loops, l.connections_max
                ));
            }
            if let Some(m) = &sv.memory {
                detail.push_str(&format!(
                    " · memory ≤{:.0} of {:.0} MiB",
                    m.max_mib, m.limit_mib
                ));
                if m.oom_kills > 0 {
                    detail.push_str(&format!(
                        ", {} OOM kill{}",
                        m.oom_kills,
                        if m.oom_kills == 1 { "" } else { "s" }
                    ));
                }
            }
        }
        nodes.push(Node {
            name: (*name).clone(),
            detail,
            kind: NodeKind::Service,
            utilization: Some(worst.unwrap_or(mean)),
            fault: faults(&|f| is_service_fault(f) && f.target == **name),
        });
    }
    let service_index = |n: &str| {
        services
            .iter()
            .position(|x| *x == n)
            .map(|p| p + entry_count)
    };
    for (k, (_, e)) in s.entries.iter().enumerate() {
        if let Some(t) = service_of(s, &e.target).and_then(service_index) {
            edges.push(Edge {
                from: k,
                to: t,
                kind: EdgeKind::Sync,
                failure_rate: e.error_rate,
                label: failed_label(e.error_rate),
            });
        }
    }
    for (key, e) in &s.edges {
        let Some((a, b)) = split_edge(key) else {
            continue;
        };
        if let (Some(from), Some(to)) = (service_index(a), service_index(b)) {
            let rate = ratio(e.errors + e.rejected + e.timeouts, e.calls);
            let mut label = if e.calls == 0 {
                "no calls".to_owned()
            } else {
                failed_label(rate)
            };
            if let Some(p) = e.call_probability.and_then(probability_text) {
                label = format!("{p} · {label}");
            }
            if let Some(f) = faults(&|f| f.target == *key) {
                label = format!("{label} · {f}");
            }
            edges.push(Edge {
                from,
                to,
                kind: EdgeKind::Sync,
                failure_rate: rate,
                label,
            });
        }
    }
    // Queues: producers → queue → consumer, dead letters → their queue.
    let queue_start = nodes.len();
    for (name, q) in &s.queues {
        nodes.push(Node {
            name: name.clone(),
            detail: format!("queue · depth max {}", thousands(q.depth_max)),
            kind: NodeKind::Queue,
            utilization: None,
            fault: faults(&|f| !is_service_fault(f) && f.target == q.broker),
        });
    }
    for (i, (_, q)) in s.queues.iter().enumerate() {
        let me = queue_start + i;
        for p in &q.producers {
            if let Some(from) = service_index(p) {
                edges.push(Edge {
                    from,
                    to: me,
                    kind: EdgeKind::Async,
                    failure_rate: 0.0,
                    label: String::new(),
                });
            }
        }
        if let Some(to) = service_of(s, &q.consumer).and_then(service_index) {
            let rate = ratio(q.dead_lettered, q.published);
            edges.push(Edge {
                from: me,
                to,
                kind: EdgeKind::Async,
                failure_rate: rate,
                // Counted on the dead-letter arrow when there is one.
                label: if q.dead_lettered > 0 && q.dead_letter.is_none() {
                    format!("{} dead-lettered", thousands(q.dead_lettered))
                } else {
                    String::new()
                },
            });
        }
        if let Some(to) = q
            .dead_letter
            .as_ref()
            .and_then(|d| s.queues.get_index_of(d))
        {
            edges.push(Edge {
                from: me,
                to: queue_start + to,
                kind: EdgeKind::Async,
                failure_rate: 0.0,
                label: format!("{} dead letters", thousands(q.dead_lettered)),
            });
        }
    }
    // Caches: a box beside each service that looks it up, the dashed
    // arrow labelled with the hit ratio; a flush badges the cache.
    let cache_start = nodes.len();
    for (name, c) in &s.caches {
        nodes.push(Node {
            name: name.clone(),
            detail: format!(
                "cache · {} of {} keys",
                thousands(c.capacity as u64),
                thousands(c.keys as u64)
            ),
            kind: NodeKind::Queue,
            utilization: None,
            fault: faults(&|f| is_cache_fault(f) && f.target == *name),
        });
    }
    for (i, (_, c)) in s.caches.iter().enumerate() {
        for looker in &c.services {
            if let Some(from) = service_index(looker) {
                edges.push(Edge {
                    from,
                    to: cache_start + i,
                    kind: EdgeKind::Async,
                    failure_rate: 0.0,
                    label: format!("hit {}", pct0(c.hit_ratio)),
                });
            }
        }
    }
    super::topology_logs::add(s, &mut nodes, &mut edges, &service_index, &faults);
    let mut subtitle = "workloads → services → callees".to_owned();
    if !s.queues.is_empty() {
        subtitle.push_str(", producers → queues → consumers (dashed)");
    }
    if !s.logs.is_empty() {
        subtitle.push_str(", producers → logs → consumer groups (dashed)");
    }
    if !s.caches.is_empty() {
        subtitle.push_str(", services → caches (dashed, hit ratio)");
    }
    if s.edges.values().any(|e| e.call_probability.is_some()) {
        subtitle.push_str("; p: calls per request at the caller, from branches");
    }
    subtitle.push_str("; arrows coloured by the share of calls that failed");
    Ok(Chart::Topology(Topology {
        title: "Topology".into(),
        subtitle,
        nodes,
        edges,
        node_scale: colour.caption.into(),
    }))
}

/// A fault that hits a cache: a flush, an outage or a slowdown of it.
fn is_cache_fault(f: &FaultWindow) -> bool {
    matches!(f.kind.as_str(), "flush" | "cache_outage" | "cache_slowdown")
}

/// "slowdown 30–60 s" ("hang on replica 0 20–40 s" when only one is hit).
fn fault_text(f: &FaultWindow) -> String {
    let replica = f
        .replica
        .map(|r| format!(" on replica {r}"))
        .unwrap_or_default();
    format!(
        "{}{replica} {}–{} s",
        f.kind.replace('_', " "),
        short(f.start_s),
        short(f.end_s)
    )
}

/// How boxes are coloured: by their busiest window during the faults that
/// fall within the run, else over the measured period.
struct Colour {
    /// Windows that count.
    windows: Vec<bool>,
    /// Word before the value in a box: "fault peak" or "peak".
    word: &'static str,
    caption: &'static str,
}

impl Colour {
    fn new(run: &Run) -> Colour {
        let ts = run.ts;
        let spans = ts.window_start_s.iter().zip(&ts.window_end_s);
        let during: Vec<bool> = spans
            .clone()
            .map(|(&a, &b)| run.s.faults.iter().any(|f| a < f.end_s && b > f.start_s))
            .collect();
        if during.iter().any(|&d| d) {
            Colour {
                windows: during,
                word: "in fault",
                caption: "box: pool utilisation, busiest window during the faults",
            }
        } else {
            Colour {
                windows: spans.map(|(&a, _)| a >= run.s.warmup_s).collect(),
                word: "peak",
                caption: "box: pool utilisation, busiest window after the warm-up",
            }
        }
    }

    fn worst(&self, run: &Run, name: &str) -> Option<f64> {
        saturation_values(run, name)?
            .iter()
            .zip(&self.windows)
            .filter(|(v, keep)| **keep && v.is_finite())
            .map(|(v, _)| *v)
            .reduce(f64::max)
    }
}

fn failed_label(rate: f64) -> String {
    if rate > 0.0 {
        format!("{} failed", pct(rate))
    } else {
        "no failures".into()
    }
}

/// An edge's call probability as its arrow says it: "p 0.3" for an
/// optional call or a branch's share, "1.2 calls per request" when branches
/// add up to more than one, nothing when they add up to exactly one call.
fn probability_text(p: f64) -> Option<String> {
    if (p - 1.0).abs() < 1e-9 {
        None
    } else if p < 1.0 {
        Some(format!("p {}", short(p)))
    } else {
        Some(format!("{} calls per request", short(p)))
    }
}

fn pct0(x: f64) -> String {
    format!("{:.0}%", x * 100.0)
}
