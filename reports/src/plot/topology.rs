//! The topology: entries, services and queues as boxes in layers, calls
//! and deliveries as arrows coloured by the share that failed.
//!
//! Must not decide the layers (`charts::topology` does): it places what it
//! is given.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::frame::{LABEL, PAD, TICK, anchored, fit_text, frame, outline, stroke_px, text_width};
use super::palette::{Dash, FAILURE_BINS, INK, MUTED, Rgb, failure_style, viridis};
use super::{Area, Res};
use crate::numbers::short;

#[derive(Debug, Clone, PartialEq)]
pub struct Topology {
    pub title: String,
    pub subtitle: String,
    pub nodes: Vec<Node>,
    pub edges: Vec<Edge>,
    /// Caption of the node colour scale.
    pub node_scale: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub name: String,
    /// Second line under the name.
    pub detail: String,
    /// Column, left to right.
    pub layer: usize,
    /// `None`: an entry point (drawn white).
    pub utilization: Option<f64>,
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

const TOPO_ROW: i32 = 112;
const TOPO_BOX_H: i32 = 56;

fn topology_layers(c: &Topology) -> (usize, usize) {
    let layers = c.nodes.iter().map(|n| n.layer).max().map_or(1, |m| m + 1);
    let widest = (0..layers)
        .map(|l| c.nodes.iter().filter(|n| n.layer == l).count())
        .max()
        .unwrap_or(1);
    (layers, widest)
}

/// Layers run top to bottom, entries first, like the rows of the
/// saturation strip; an edge's label sits beside the middle of its arrow.
pub(super) fn draw<DB: DrawingBackend>(root: &Area<DB>, c: &Topology) -> Res<DB> {
    let top = frame(root, &c.title, &c.subtitle, &[])?;
    let (w, h) = root.dim_in_pixel();
    let (w, h) = (w as i32, h as i32);
    let (layers, widest) = topology_layers(c);
    let slot = (w - 2 * PAD) / widest.max(1) as i32;
    let box_w = (slot - 24).clamp(40, 200);
    let box_h = TOPO_BOX_H;
    let mut centres = vec![(0, 0); c.nodes.len()];
    for layer in 0..layers {
        let members: Vec<usize> = (0..c.nodes.len())
            .filter(|&i| c.nodes[i].layer == layer)
            .collect();
        let k = members.len() as i32;
        for (j, &i) in members.iter().enumerate() {
            let cx = PAD + (w - 2 * PAD) * (2 * j as i32 + 1) / (2 * k.max(1));
            let cy = top + 20 + box_h / 2 + TOPO_ROW * layer as i32;
            centres[i] = (cx, cy);
        }
    }
    // Edges first, under the boxes; their labels last, over everything.
    let mut labels = Vec::new();
    for e in &c.edges {
        if e.from >= centres.len() || e.to >= centres.len() {
            continue;
        }
        let (a, b) = (centres[e.from], centres[e.to]);
        let p0 = box_exit(a, b, box_w, box_h);
        let p1 = box_exit(b, a, box_w, box_h);
        let (color, width) = failure_style(e.failure_rate);
        let dash = match e.kind {
            EdgeKind::Sync => Dash::Solid,
            EdgeKind::Async => Dash::Dashed,
        };
        let (dx, dy) = (f64::from(p1.0 - p0.0), f64::from(p1.1 - p0.1));
        let len = (dx * dx + dy * dy).sqrt().max(1.0);
        let (ux, uy) = (dx / len, dy / len);
        let head = 10.0 + f64::from(width) * 1.5;
        // Stop the shaft short of the tip so the arrowhead stays sharp.
        let shaft_end = (
            p1.0 - (ux * head * 0.8) as i32,
            p1.1 - (uy * head * 0.8) as i32,
        );
        stroke_px(root, &[p0, shaft_end], color, width, dash)?;
        let base = (f64::from(p1.0) - ux * head, f64::from(p1.1) - uy * head);
        let half = head * 0.5;
        let arrow = vec![
            p1,
            ((base.0 - uy * half) as i32, (base.1 + ux * half) as i32),
            ((base.0 + uy * half) as i32, (base.1 - ux * half) as i32),
        ];
        root.draw(&Polygon::new(arrow, color.c().filled()))?;
        if !e.label.is_empty() {
            labels.push((((p0.0 + p1.0) / 2, (p0.1 + p1.1) / 2), ux, e.label.clone()));
        }
    }
    let name_dark = anchored(LABEL + 1.0, INK, HPos::Center, VPos::Center);
    let name_light = anchored(LABEL + 1.0, Rgb(255, 255, 255), HPos::Center, VPos::Center);
    let detail_dark = anchored(TICK - 1.0, INK, HPos::Center, VPos::Center);
    let detail_light = anchored(TICK - 1.0, Rgb(255, 255, 255), HPos::Center, VPos::Center);
    for (i, n) in c.nodes.iter().enumerate() {
        let (cx, cy) = centres[i];
        let (x0, y0, x1, y1) = (
            cx - box_w / 2,
            cy - box_h / 2,
            cx + box_w / 2,
            cy + box_h / 2,
        );
        let fill = n.utilization.map_or(Rgb(255, 255, 255), viridis);
        root.draw(&Rectangle::new([(x0, y0), (x1, y1)], fill.c().filled()))?;
        let border = if n.utilization.is_none() { 2 } else { 1 };
        outline(root, (x0, y0, x1, y1), INK, border)?;
        let (ns, ds) = if fill.luma() < 128.0 {
            (&name_light, &detail_light)
        } else {
            (&name_dark, &detail_dark)
        };
        let name = fit_text(root, &n.name, ns, box_w - 12);
        let detail = fit_text(root, &n.detail, ds, box_w - 10);
        root.draw_text(&name, ns, (cx, cy - 10))?;
        root.draw_text(&detail, ds, (cx, cy + 13))?;
    }
    let label_style = anchored(TICK - 1.0, INK, HPos::Left, VPos::Center);
    for ((mx, my), ux, text) in labels {
        // Beside the arrow, on the side it does not lean to.
        let tw = text_width(root, &text, &label_style);
        let x = if ux > 0.3 { mx - tw - 10 } else { mx + 10 };
        root.draw(&Rectangle::new(
            [(x - 3, my - 10), (x + tw + 3, my + 10)],
            WHITE.mix(0.85).filled(),
        ))?;
        root.draw_text(&text, &label_style, (x, my))?;
    }
    // Legends: node colour scale, then edge bins.
    let ly = h - 62;
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
    let ex = PAD + bar_w + 80;
    root.draw_text("arrow: share of calls that failed", &cap, (ex, ly))?;
    let mut x = ex;
    let item = anchored(TICK - 1.0, INK, HPos::Left, VPos::Center);
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
    if c.edges.iter().any(|e| e.kind == EdgeKind::Async) {
        stroke_px(
            root,
            &[(x, ly + 30), (x + 30, ly + 30)],
            MUTED,
            2,
            Dash::Dashed,
        )?;
        root.draw_text("asynchronous", &item, (x + 36, ly + 30))?;
    }
    Ok(())
}

/// Where the segment from the centre of box `a` towards `b` leaves the box.
fn box_exit(a: (i32, i32), b: (i32, i32), bw: i32, bh: i32) -> (i32, i32) {
    let (dx, dy) = (f64::from(b.0 - a.0), f64::from(b.1 - a.1));
    if dx == 0.0 && dy == 0.0 {
        return a;
    }
    let sx = if dx != 0.0 {
        (f64::from(bw) / 2.0 + 2.0) / dx.abs()
    } else {
        f64::INFINITY
    };
    let sy = if dy != 0.0 {
        (f64::from(bh) / 2.0 + 2.0) / dy.abs()
    } else {
        f64::INFINITY
    };
    let s = sx.min(sy);
    (a.0 + (dx * s).round() as i32, a.1 + (dy * s).round() as i32)
}

/// Height in pixels: a fixed frame and a row per layer.
pub(super) fn height(c: &Topology) -> u32 {
    let (layers, _) = topology_layers(c);
    190 + TOPO_ROW as u32 * layers as u32 - (TOPO_ROW - TOPO_BOX_H) as u32
}
