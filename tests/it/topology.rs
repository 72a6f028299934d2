//! The topology of every shipped scenario: every call edge of the model
//! (and every workload, publish and delivery) is drawn as an arrow between
//! the right boxes, no text is cut, boxes do not overlap, no arrow runs
//! through a box it does not join, and no label covers a box.

use reports::plot::{Chart, EdgeKind, NodeKind, Rect, Topology, topology_layout};
use reports::{Section, charts};
use sim_core::Override;

use crate::common::repo_root;

pub fn shipped() -> Vec<(String, String)> {
    let dir = repo_root().join("scenarios");
    let mut out: Vec<(String, String)> = std::fs::read_dir(&dir)
        .expect("scenarios/ is readable")
        .filter_map(|e| {
            let p = e.ok()?.path();
            (p.extension()? == "toml").then_some(p)
        })
        .map(|p| {
            let text = std::fs::read_to_string(&p).expect("scenario is readable");
            (p.file_name().unwrap().to_string_lossy().into_owned(), text)
        })
        .collect();
    out.sort();
    out
}

/// The scenario run briefly (the charts' structure does not depend on how
/// long).
pub fn short_run(file: &str, text: &str) -> sim_core::RunResult {
    let short: Vec<Override> = ["duration=3s", "warmup=1s"]
        .iter()
        .map(|o| Override::parse(o).expect("override parses"))
        .collect();
    let s = sim_core::load(file, text, &short)
        .or_else(|_| sim_core::load(file, text, &[]))
        .unwrap_or_else(|e| panic!("{file} does not load: {e}"));
    sim_core::run_scenario(&s, Some(1), &[])
}

fn topology_of(file: &str, text: &str) -> (sim_core::RunResult, Topology) {
    let r = short_run(file, text);
    let figs = charts::figures(&r);
    let t = figs
        .figures
        .iter()
        .find(|f| f.section == Section::Topology)
        .and_then(|f| match &f.chart {
            Chart::Topology(t) => Some(t.clone()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("{file}: no topology"));
    (r, t)
}

fn has_edge(t: &Topology, from: (&str, NodeKind), to: (&str, NodeKind), kind: EdgeKind) -> bool {
    t.edges.iter().any(|e| {
        let (a, b) = (&t.nodes[e.from], &t.nodes[e.to]);
        a.name == from.0 && a.kind == from.1 && b.name == to.0 && b.kind == to.1 && e.kind == kind
    })
}

#[test]
fn every_shipped_topology_is_complete_and_legible() {
    let all = shipped();
    assert!(all.len() >= 15, "found {} scenarios", all.len());
    for (file, text) in &all {
        let (r, t) = topology_of(file, text);
        let s = &r.summary;
        // Every call edge of the model, every workload, every queue's
        // producers and consumer.
        for key in s.edges.keys() {
            let (a, b) = key.split_once("->").expect("edge key a->b");
            assert!(
                has_edge(
                    &t,
                    (a, NodeKind::Service),
                    (b, NodeKind::Service),
                    EdgeKind::Sync
                ),
                "{file}: call edge {key} not drawn"
            );
        }
        for (name, e) in &s.entries {
            let service = e.target.split('.').next().unwrap_or(&e.target);
            let target = if s.services.contains_key(&e.target) {
                e.target.as_str()
            } else {
                service
            };
            assert!(
                has_edge(
                    &t,
                    (name, NodeKind::Entry),
                    (target, NodeKind::Service),
                    EdgeKind::Sync
                ),
                "{file}: workload {name} → {target} not drawn"
            );
        }
        for (name, q) in &s.queues {
            for p in &q.producers {
                assert!(
                    has_edge(
                        &t,
                        (p, NodeKind::Service),
                        (name, NodeKind::Queue),
                        EdgeKind::Async
                    ),
                    "{file}: publish {p} → {name} not drawn"
                );
            }
            let consumer = q.consumer.split('.').next().unwrap_or(&q.consumer);
            assert!(
                has_edge(
                    &t,
                    (name, NodeKind::Queue),
                    (consumer, NodeKind::Service),
                    EdgeKind::Async
                ),
                "{file}: delivery {name} → {consumer} not drawn"
            );
        }
        for (name, log) in &s.logs {
            for p in &log.producers {
                assert!(
                    has_edge(
                        &t,
                        (p, NodeKind::Service),
                        (name, NodeKind::Queue),
                        EdgeKind::Async
                    ),
                    "{file}: publish {p} → log {name} not drawn"
                );
            }
            for (g, gs) in &log.groups {
                let consumer = gs.consumer.split('.').next().unwrap_or(&gs.consumer);
                assert!(
                    has_edge(
                        &t,
                        (name, NodeKind::Queue),
                        (consumer, NodeKind::Service),
                        EdgeKind::Async
                    ),
                    "{file}: group {g}: log {name} → {consumer} not drawn"
                );
                if let Some(to) = &gs.failure_log {
                    assert!(
                        has_edge(
                            &t,
                            (name, NodeKind::Queue),
                            (to, NodeKind::Queue),
                            EdgeKind::Async
                        ),
                        "{file}: group {g}: failed records {name} → {to} not drawn"
                    );
                }
            }
        }
        let l = topology_layout(&t);
        let p = &l.placement;
        assert_eq!(p.boxes.len(), t.nodes.len(), "{file}");
        let inside = |r: &Rect| {
            r.x0 >= 0.0 && r.y0 >= 0.0 && r.x1 <= f64::from(l.width) && r.y1 <= f64::from(l.height)
        };
        for (i, n) in t.nodes.iter().enumerate() {
            let b = p.boxes[i];
            assert!(inside(&b), "{file}: {} off the canvas", n.name);
            // The full name and detail, each narrower than its box.
            assert_eq!(l.lines[i][0].text, n.name, "{file}");
            if !n.detail.is_empty() {
                assert_eq!(l.lines[i][1].text, n.detail, "{file}");
            }
            for line in &l.lines[i] {
                assert!(
                    line.width <= b.width() - 6.0,
                    "{file}: '{}' is {} px in a box of {} px",
                    line.text,
                    line.width,
                    b.width()
                );
            }
            for (j, o) in p.boxes.iter().enumerate().skip(i + 1) {
                assert!(
                    !b.overlaps(o),
                    "{file}: {} overlaps {}",
                    n.name,
                    t.nodes[j].name
                );
            }
        }
        for (k, e) in t.edges.iter().enumerate() {
            let route = &p.routes[k];
            assert!(route.len() >= 2, "{file}: edge {k} has no route");
            for w in route.windows(2) {
                for (v, b) in p.boxes.iter().enumerate() {
                    if v != e.from && v != e.to {
                        assert!(
                            !b.hit_by(w[0], w[1]),
                            "{file}: {} → {} runs through {}",
                            t.nodes[e.from].name,
                            t.nodes[e.to].name,
                            t.nodes[v].name
                        );
                    }
                }
            }
            if let Some(lr) = p.labels[k] {
                assert!(lr.width() >= l.label_widths[k], "{file}: label cut");
                assert!(inside(&lr), "{file}: label '{}' off the canvas", e.label);
                for (v, b) in p.boxes.iter().enumerate() {
                    assert!(
                        !b.overlaps(&lr),
                        "{file}: label '{}' covers {}",
                        e.label,
                        t.nodes[v].name
                    );
                }
            } else {
                assert!(e.label.is_empty(), "{file}: label '{}' not placed", e.label);
            }
        }
    }
}
