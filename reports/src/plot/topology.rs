//! The topology: services and queues as boxes, entries as labelled arrows
//! into their target, calls and deliveries as arrows coloured by the share
//! that failed, faulted boxes outlined with a badge naming the fault.
//!
//! Owns the text of each box and its size (measured with the embedded
//! font, so nothing is cut), and the drawing. Where things go is
//! `graph_layout`'s (a pure function, tested apart); what the boxes say is
//! `charts::topology`'s.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::font::text_px;
use super::frame::{LABEL, PAD, TICK, anchored, frame, outline, stroke_px, text_width};
use super::graph_layout::{Graph, Placement, Rect, place};
use super::palette::{Dash, FAILURE_BINS, FAULT_INK, INK, MUTED, Rgb, failure_style, viridis};
use super::{Area, Res, WIDTH};
use crate::numbers::short;

#[derive(Debug, Clone, PartialEq)]
pub struct Topology {
    pub title: String,
    pub subtitle: String,
    pub nodes: Vec<Node>,
    pub edges: Vec<Edge>,
    /// Caption of the box colour scale.
    pub node_scale: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeKind {
    /// A workload: drawn as its name over an arrow into its target.
    Entry,
    Service,
    /// A message queue: a light box with a dashed outline.
    Queue,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub name: String,
    /// Second line under the name.
    pub detail: String,
    pub kind: NodeKind,
    /// Box colour on the viridis scale (0–1); `None`: white.
    pub utilization: Option<f64>,
    /// The faults that hit it, e.g. "fault: slowdown 30–60 s": outlined
    /// and badged.
    pub fault: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EdgeKind {
    /// The caller holds a thread while it waits: solid.
    Sync,
    /// Fire and forget through a queue: dashed.
    Async,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Edge {
    pub from: usize,
    pub to: usize,
    pub kind: EdgeKind,
    /// failed ÷ calls.
    pub failure_rate: f64,
    pub label: String,
}

/// A line of text in a box: its size, measured width and vertical centre.
#[derive(Debug, Clone, PartialEq)]
pub struct TextLine {
    pub text: String,
    pub size: f64,
    pub width: f64,
    pub y: f64,
}

/// The topology placed on its canvas.
#[derive(Debug, Clone, PartialEq)]
pub struct TopologyLayout {
    /// Boxes, routes and label rectangles in canvas pixels.
    pub placement: Placement,
    /// Per node, the lines drawn in its box (the fault badge last).
    pub lines: Vec<Vec<TextLine>>,
    /// Per edge, its label's text width.
    pub label_widths: Vec<f64>,
    pub width: u32,
    pub height: u32,
}

const NAME: f64 = LABEL + 1.0;
const DETAIL: f64 = TICK - 1.0;
const PAD_X: f64 = 12.0;
const PAD_Y: f64 = 7.0;
const NAME_H: f64 = 22.0;
const LINE_H: f64 = 19.0;
const BADGE_H: f64 = 21.0;
const LABEL_H: f64 = 20.0;
/// Title and subtitle above, legend below.
const TOP: f64 = 96.0;
const LEGEND_H: f64 = 110.0;

/// Lines of a node: name, detail, then the fault badge.
fn texts(n: &Node) -> Vec<(String, f64)> {
    let mut t = vec![(n.name.clone(), NAME)];
    if !n.detail.is_empty() {
        t.push((n.detail.clone(), DETAIL));
    }
    if let Some(f) = &n.fault {
        t.push((f.clone(), DETAIL));
    }
    t
}

fn inner_height(n: &Node) -> f64 {
    let lines = texts(n).len() as f64 - 1.0 - f64::from(u8::from(n.fault.is_some()));
    NAME_H + LINE_H * lines + if n.fault.is_some() { BADGE_H } else { 0.0 }
}

/// Sizes every box to its text and places the graph on a canvas at least
/// `WIDTH` wide.
pub fn layout(t: &Topology) -> TopologyLayout {
    let n = t.nodes.len();
    let widths: Vec<Vec<f64>> = t
        .nodes
        .iter()
        .map(|node| texts(node).iter().map(|(s, z)| text_px(s, *z)).collect())
        .collect();
    let sizes = t
        .nodes
        .iter()
        .zip(&widths)
        .map(|(node, w)| {
            let text = w.iter().copied().fold(0.0, f64::max);
            let pad = if node.kind == NodeKind::Entry {
                4.0
            } else {
                PAD_X
            };
            (
                (text + 2.0 * pad).max(80.0),
                inner_height(node) + 2.0 * PAD_Y,
            )
        })
        .collect();
    let label_widths: Vec<f64> = t.edges.iter().map(|e| text_px(&e.label, DETAIL)).collect();
    let graph = Graph {
        sizes,
        entry: t.nodes.iter().map(|x| x.kind == NodeKind::Entry).collect(),
        edges: t.edges.iter().map(|e| (e.from, e.to)).collect(),
        labels: t
            .edges
            .iter()
            .zip(&label_widths)
            .map(|(e, w)| {
                if e.label.is_empty() {
                    (0.0, 0.0)
                } else {
                    (w + 6.0, LABEL_H)
                }
            })
            .collect(),
    };
    let mut p = place(&graph);
    let width = (p.width + 2.0 * f64::from(PAD)).max(f64::from(WIDTH));
    let dx = ((width - p.width) / 2.0).round();
    let shift = |r: &mut Rect| {
        r.x0 += dx;
        r.x1 += dx;
        r.y0 += TOP;
        r.y1 += TOP;
    };
    p.boxes.iter_mut().for_each(shift);
    p.labels.iter_mut().flatten().for_each(shift);
    for pt in p.routes.iter_mut().flatten() {
        pt.0 += dx;
        pt.1 += TOP;
    }
    let lines = (0..n)
        .map(|i| {
            let b = p.boxes[i];
            let node = &t.nodes[i];
            // Text sits at the bottom of an entry's band (next to its
            // arrow), in the middle of a box's.
            let inner = inner_height(node);
            let mut y = if node.kind == NodeKind::Entry {
                b.y1 - PAD_Y - inner
            } else {
                (b.y0 + b.y1 - inner) / 2.0
            };
            texts(node)
                .into_iter()
                .zip(&widths[i])
                .enumerate()
                .map(|(k, ((text, size), &w))| {
                    let h = if k == 0 {
                        NAME_H
                    } else if node.fault.is_some() && k + 1 == widths[i].len() {
                        // The badge: at the bottom of the box.
                        y = b.y1 - BADGE_H;
                        BADGE_H
                    } else {
                        LINE_H
                    };
                    let line = TextLine {
                        text,
                        size,
                        width: w,
                        y: y + h / 2.0,
                    };
                    y += h;
                    line
                })
                .collect()
        })
        .collect();
    TopologyLayout {
        height: (TOP + p.height + 24.0 + LEGEND_H) as u32,
        width: width as u32,
        placement: p,
        lines,
        label_widths,
    }
}

fn px((x, y): (f64, f64)) -> (i32, i32) {
    (x.round() as i32, y.round() as i32)
}

/// Draws `c` at the places `layout` gives.
pub(super) fn draw<DB: DrawingBackend>(root: &Area<DB>, c: &Topology) -> Res<DB> {
    frame(root, &c.title, &c.subtitle, &[])?;
    let l = layout(c);
    let p = &l.placement;
    // Edges first, under the boxes; their labels last, over everything.
    for (k, e) in c.edges.iter().enumerate() {
        let Some(route) = p.routes.get(k).filter(|r| r.len() >= 2) else {
            continue;
        };
        let (color, width) = failure_style(e.failure_rate);
        let dash = match e.kind {
            EdgeKind::Sync => Dash::Solid,
            EdgeKind::Async => Dash::Dashed,
        };
        let tip = route[route.len() - 1];
        let from = route[route.len() - 2];
        let (dx, dy) = (tip.0 - from.0, tip.1 - from.1);
        let len = (dx * dx + dy * dy).sqrt().max(1.0);
        let (ux, uy) = (dx / len, dy / len);
        let head = (10.0 + f64::from(width) * 1.5).min(len);
        // Stop the shaft short of the tip so the arrowhead stays sharp.
        let mut shaft: Vec<(i32, i32)> = route[..route.len() - 1].iter().map(|&q| px(q)).collect();
        shaft.push(px((tip.0 - ux * head * 0.8, tip.1 - uy * head * 0.8)));
        stroke_px(root, &shaft, color, width, dash)?;
        let base = (tip.0 - ux * head, tip.1 - uy * head);
        let half = head * 0.5;
        let arrow = vec![
            px(tip),
            px((base.0 - uy * half, base.1 + ux * half)),
            px((base.0 + uy * half, base.1 - ux * half)),
        ];
        root.draw(&Polygon::new(arrow, color.c().filled()))?;
    }
    for (i, n) in c.nodes.iter().enumerate() {
        let b = p.boxes[i];
        let (x0, y0, x1, y1) = (
            b.x0.round() as i32,
            b.y0.round() as i32,
            b.x1.round() as i32,
            b.y1.round() as i32,
        );
        let fill = match n.kind {
            NodeKind::Entry => None,
            NodeKind::Queue => Some(n.utilization.map_or(Rgb(244, 244, 244), viridis)),
            NodeKind::Service => Some(n.utilization.map_or(Rgb(255, 255, 255), viridis)),
        };
        if let Some(fill) = fill {
            root.draw(&Rectangle::new([(x0, y0), (x1, y1)], fill.c().filled()))?;
        }
        if n.fault.is_some() {
            outline(root, (x0 - 2, y0 - 2, x1 + 2, y1 + 2), FAULT_INK, 4)?;
            root.draw(&Rectangle::new(
                [(x0, y1 - BADGE_H as i32), (x1, y1)],
                FAULT_INK.c().filled(),
            ))?;
        } else if n.kind == NodeKind::Queue {
            let pts = [(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)];
            stroke_px(root, &pts, INK, 1, Dash::Dashed)?;
        } else if n.kind == NodeKind::Service {
            outline(root, (x0, y0, x1, y1), INK, 1)?;
        }
        let light = fill.is_some_and(|f| f.luma() < 128.0);
        for (k, line) in l.lines[i].iter().enumerate() {
            let badge = n.fault.is_some() && k + 1 == l.lines[i].len();
            let color = if badge || light {
                Rgb(255, 255, 255)
            } else if k == 0 || n.kind == NodeKind::Service {
                INK
            } else {
                MUTED
            };
            let style = anchored(line.size, color, HPos::Center, VPos::Center);
            let cx = ((b.x0 + b.x1) / 2.0).round() as i32;
            root.draw_text(&line.text, &style, (cx, line.y.round() as i32))?;
        }
    }
    let label_style = anchored(DETAIL, INK, HPos::Left, VPos::Center);
    for (k, e) in c.edges.iter().enumerate() {
        let Some(r) = p.labels.get(k).copied().flatten() else {
            continue;
        };
        root.draw(&Rectangle::new(
            [
                (r.x0.round() as i32, r.y0.round() as i32),
                (r.x1.round() as i32, r.y1.round() as i32),
            ],
            WHITE.mix(0.85).filled(),
        ))?;
        let y = ((r.y0 + r.y1) / 2.0).round() as i32;
        root.draw_text(&e.label, &label_style, (r.x0.round() as i32 + 3, y))?;
    }
    legend(root, c, l.height as i32)
}

/// Box colours, the fault outline, arrow colours and dashes.
fn legend<DB: DrawingBackend>(root: &Area<DB>, c: &Topology, h: i32) -> Res<DB> {
    let ly = h - LEGEND_H as i32 + 14;
    let cap = anchored(TICK, INK, HPos::Left, VPos::Top);
    root.draw_text(&c.node_scale, &cap, (PAD, ly))?;
    let bar_w = 260;
    for s in 0..bar_w {
        let v = f64::from(s) / f64::from(bar_w);
        root.draw(&Rectangle::new(
            [(PAD + s, ly + 22), (PAD + (s + 2).min(bar_w), ly + 38)],
            viridis(v).c().filled(),
        ))?;
    }
    root.draw(&Rectangle::new(
        [(PAD, ly + 22), (PAD + bar_w, ly + 38)],
        Rgb(120, 120, 120).c().stroke_width(1),
    ))?;
    let tick = anchored(TICK - 2.0, MUTED, HPos::Center, VPos::Top);
    for f in [0.0, 0.25, 0.5, 0.75, 1.0] {
        root.draw_text(
            &format!("{}%", short(f * 100.0)),
            &tick,
            (PAD + (f64::from(bar_w) * f) as i32, ly + 41),
        )?;
    }
    let item = anchored(TICK - 1.0, INK, HPos::Left, VPos::Center);
    let row2 = ly + 72;
    let mut x = PAD;
    if c.nodes.iter().any(|n| n.fault.is_some()) {
        outline(root, (x, row2 - 9, x + 30, row2 + 9), FAULT_INK, 4)?;
        let text = "where a fault was injected (the cause; the rest are symptoms)";
        root.draw_text(text, &item, (x + 40, row2))?;
        x += 40 + text_width(root, text, &item) + 30;
    }
    if c.edges.iter().any(|e| e.kind == EdgeKind::Async) {
        stroke_px(root, &[(x, row2), (x + 30, row2)], MUTED, 2, Dash::Dashed)?;
        root.draw_text(
            "through a queue (asynchronous), or to a cache",
            &item,
            (x + 36, row2),
        )?;
    }
    let ex = (PAD + bar_w + 80).max(PAD + text_width(root, &c.node_scale, &cap) + 40);
    root.draw_text("arrow: share of calls that failed", &cap, (ex, ly))?;
    let mut x = ex;
    for (_, name, color, width) in FAILURE_BINS {
        stroke_px(
            root,
            &[(x, ly + 30), (x + 30, ly + 30)],
            color,
            width,
            Dash::Solid,
        )?;
        root.draw_text(name, &item, (x + 36, ly + 30))?;
        x += 36 + text_width(root, name, &item) + 20;
    }
    Ok(())
}

/// Width and height in pixels.
pub(super) fn size(c: &Topology) -> (u32, u32) {
    let l = layout(c);
    (l.width, l.height)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(name: &str, detail: &str, kind: NodeKind, fault: Option<&str>) -> Node {
        Node {
            name: name.into(),
            detail: detail.into(),
            kind,
            utilization: Some(0.5),
            fault: fault.map(str::to_owned),
        }
    }

    #[test]
    fn boxes_fit_their_text_and_badges_sit_inside() {
        let t = Topology {
            title: "t".into(),
            subtitle: String::new(),
            nodes: vec![
                node("products", "397 req/s", NodeKind::Entry, None),
                node(
                    "a-service-with-a-very-long-name-indeed",
                    "mean 18% · busiest during the fault 100%",
                    NodeKind::Service,
                    Some("fault: slowdown 20–40 s"),
                ),
            ],
            edges: vec![Edge {
                from: 0,
                to: 1,
                kind: EdgeKind::Sync,
                failure_rate: 0.2,
                label: "20% failed".into(),
            }],
            node_scale: "s".into(),
        };
        let l = layout(&t);
        for (i, lines) in l.lines.iter().enumerate() {
            let b = l.placement.boxes[i];
            assert_eq!(lines[0].text, t.nodes[i].name);
            for line in lines {
                assert!(line.width <= b.width() - 8.0, "{line:?} in {b:?}");
                assert!(line.y > b.y0 && line.y < b.y1, "{line:?} in {b:?}");
            }
        }
        assert_eq!(l.lines[1][2].text, "fault: slowdown 20–40 s");
        assert!(l.width >= WIDTH);
        let label = l.placement.labels[0].expect("a label");
        assert!(label.width() >= l.label_widths[0]);
    }
}
