//! The topology figure: entries, services in call order and queues, in
//! layers by call depth, coloured by pool utilisation, arrows by the share
//! of calls that failed.
//!
//! Owns the layers (entries on top, then breadth-first call depth, queues
//! above their consumer) and each box's text. Must not draw.

use super::services::saturation_values;
use super::shared::{Run, ratio, split_edge};
use super::top::NODES;
use crate::numbers::{pct, short, thousands};
use crate::plot::{Chart, Edge, EdgeKind, Node, Topology};

/// The topology, or why it is not drawn: past `NODES` boxes (entries,
/// services and queues) a picture of the call graph is no longer legible.
pub(super) fn topology(run: &Run) -> Result<Chart, String> {
    let (s, order) = (run.s, &run.order);
    let boxes = s.entries.len() + s.services.len() + s.queues.len();
    if boxes > NODES {
        return Err(format!(
            "Not drawn: {} entries, services and queues are too many boxes to read (it is drawn up to {NODES}).",
            thousands(boxes as u64)
        ));
    }
    let mut nodes = Vec::new();
    let mut edges = Vec::new();
    // Layers: entries, then breadth-first depth from their targets.
    let links: Vec<(String, String)> = s
        .edges
        .keys()
        .filter_map(|k| split_edge(k).map(|(a, b)| (a.to_string(), b.to_string())))
        .collect();
    let mut depth: Vec<(String, usize)> = Vec::new();
    for e in s.entries.values() {
        if !depth.iter().any(|(n, _)| *n == e.target) {
            depth.push((e.target.clone(), 1));
        }
    }
    let mut i = 0;
    while i < depth.len() {
        let (from, d) = depth[i].clone();
        for (a, b) in &links {
            if *a == from && !depth.iter().any(|(n, _)| n == b) {
                depth.push((b.clone(), d + 1));
            }
        }
        i += 1;
    }
    let deepest = depth.iter().map(|(_, d)| *d).max().unwrap_or(0);
    let services: Vec<&String> = order
        .iter()
        .filter(|n| s.services.contains_key(*n) || depth.iter().any(|(d, _)| d == *n))
        .collect();
    let entry_count = s.entries.len();
    for (name, e) in &s.entries {
        let rate = if s.sim_duration_s > 0.0 {
            e.requests as f64 / s.sim_duration_s
        } else {
            0.0
        };
        nodes.push(Node {
            name: name.clone(),
            detail: format!("entry · {} req/s", short(rate)),
            layer: 0,
            utilization: None,
        });
    }
    // A queue's consumer: "service" or "service.operation".
    let consumer_of = |c: &str| -> String {
        if s.services.contains_key(c) {
            return c.to_string();
        }
        c.split_once('.').map_or(c, |(svc, _)| svc).to_string()
    };
    let consumers: Vec<String> = s
        .queues
        .values()
        .map(|q| consumer_of(&q.consumer))
        .collect();
    for name in &services {
        // Services nobody calls sit below the rest; those fed by a queue one
        // row lower still, under their queue.
        let unreached = if s.queues.is_empty() {
            deepest + 1
        } else if consumers.contains(*name) {
            deepest + 2
        } else {
            deepest + 1
        };
        let layer = depth
            .iter()
            .find(|(n, _)| n == *name)
            .map_or(unreached, |(_, d)| *d);
        let mean = s.services.get(*name).map(|sv| sv.utilization);
        let peak = saturation_values(run, name)
            .and_then(|v| v.iter().copied().filter(|x| x.is_finite()).reduce(f64::max));
        let detail = match (mean, peak) {
            (Some(m), Some(p)) => format!("mean {} · peak {}", pct0(m), pct0(p)),
            (Some(m), None) => format!("mean {}", pct0(m)),
            _ => String::new(),
        };
        nodes.push(Node {
            name: (*name).clone(),
            detail,
            layer,
            utilization: Some(mean.unwrap_or(0.0)),
        });
    }
    let index = |n: &str, nodes: &[Node]| {
        nodes
            .iter()
            .skip(entry_count)
            .position(|x| x.name == n)
            .map(|p| p + entry_count)
    };
    for (k, (_, e)) in s.entries.iter().enumerate() {
        if let Some(t) = index(&e.target, &nodes) {
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
        if let (Some(from), Some(to)) = (index(a, &nodes), index(b, &nodes)) {
            let rate = ratio(e.errors + e.rejected + e.timeouts, e.calls);
            edges.push(Edge {
                from,
                to,
                kind: EdgeKind::Sync,
                failure_rate: rate,
                label: failed_label(rate),
            });
        }
    }
    // Queues: a white box above their consumer, a dashed arrow to it; the
    // producers are named in the box (arrows from them would cross the
    // synchronous rows in between).
    let service_nodes = nodes.len();
    for ((name, q), consumer) in s.queues.iter().zip(&consumers) {
        let Some(to) = nodes[entry_count..service_nodes]
            .iter()
            .position(|x| x.name == *consumer)
            .map(|p| p + entry_count)
        else {
            continue;
        };
        nodes.push(Node {
            name: name.clone(),
            detail: if q.producers.is_empty() {
                format!("queue · depth max {}", thousands(q.depth_max))
            } else {
                format!(
                    "from {} · depth max {}",
                    q.producers.join(", "),
                    thousands(q.depth_max)
                )
            },
            layer: deepest + 1,
            utilization: None,
        });
        let rate = ratio(q.dead_lettered, q.published);
        edges.push(Edge {
            from: nodes.len() - 1,
            to,
            kind: EdgeKind::Async,
            failure_rate: rate,
            label: if q.dead_lettered > 0 {
                format!("{} dead-lettered", thousands(q.dead_lettered))
            } else {
                String::new()
            },
        });
    }
    Ok(Chart::Topology(Topology {
        title: "Topology".into(),
        subtitle: if s.queues.is_empty() {
            "entries → services → callees; nodes coloured by mean pool utilisation, calls by the share that failed".into()
        } else {
            "entries → services → callees, queues → consumers (dashed); nodes coloured by mean pool utilisation, arrows by the share that failed".into()
        },
        nodes,
        edges,
        node_scale: "box: mean pool utilisation".into(),
    }))
}

fn failed_label(rate: f64) -> String {
    if rate > 0.0 {
        format!("{} failed", pct(rate))
    } else {
        "no failures".into()
    }
}

fn pct0(x: f64) -> String {
    format!("{:.0}%", x * 100.0)
}
