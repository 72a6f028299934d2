//! The topology's partitioned logs: a box per log (partitions and the
//! busiest partition's share), dashed arrows from its producers, to each
//! consumer group's service (labelled with the group, its rebalances and
//! lag) and to the log its failed records go to (retry or dead letters).
//! A broker fault (outage, slow acks) badges the logs it serves.
//!
//! Owns the logs' boxes and arrows; must not place or draw them.

use sim_core::output::{FaultWindow, Summary};

use super::shared::{is_service_fault, service_of};
use crate::numbers::thousands;
use crate::plot::{Edge, EdgeKind, Node, NodeKind};

/// Which faults badge a box: the fault windows it picks, as a badge text.
type Badge<'a> = &'a dyn Fn(&dyn Fn(&FaultWindow) -> bool) -> Option<String>;

pub(super) fn add(
    s: &Summary,
    nodes: &mut Vec<Node>,
    edges: &mut Vec<Edge>,
    service_index: &dyn Fn(&str) -> Option<usize>,
    faults: Badge<'_>,
) {
    let start = nodes.len();
    for (name, log) in &s.logs {
        nodes.push(Node {
            name: name.clone(),
            detail: format!(
                "log · {} partition{} · busiest {}",
                log.partitions,
                if log.partitions == 1 { "" } else { "s" },
                thousands(log.produced_max_partition)
            ),
            kind: NodeKind::Queue,
            utilization: None,
            fault: faults(&|f| {
                !is_service_fault(f) && !log.broker.is_empty() && f.target == log.broker
            }),
        });
    }
    for (i, log) in s.logs.values().enumerate() {
        let me = start + i;
        for p in &log.producers {
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
        for (g, gs) in &log.groups {
            if let Some(to) = service_of(s, &gs.consumer).and_then(service_index) {
                let lost = gs.lost_to_retention + gs.dead_lettered;
                let mut label = format!("group {g}");
                if gs.rebalances > 0 {
                    label.push_str(&format!(" · {} rebalances", thousands(gs.rebalances)));
                }
                if gs.lost_to_retention > 0 {
                    label.push_str(&format!(" · {} lost", thousands(gs.lost_to_retention)));
                }
                edges.push(Edge {
                    from: me,
                    to,
                    kind: EdgeKind::Async,
                    failure_rate: if log.produced == 0 {
                        0.0
                    } else {
                        lost as f64 / log.produced as f64
                    },
                    label,
                });
            }
            if let Some(to) = gs.failure_log.as_ref().and_then(|d| s.logs.get_index_of(d)) {
                let moved = gs.moved_to_retry + gs.dead_lettered;
                edges.push(Edge {
                    from: me,
                    to: start + to,
                    kind: EdgeKind::Async,
                    failure_rate: 0.0,
                    label: format!("{} failed records", thousands(moved)),
                });
            }
        }
    }
}
