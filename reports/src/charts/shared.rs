//! What every chart selection shares: looking series up by scope, name and
//! metric, the services in call order, the run's bands (warm-up, faults),
//! the time axis (window midpoints, x range) and the line chart over
//! simulated time.
//!
//! Must not pick a figure: each section's module does.

use sim_core::output::{Series, Summary, TimeSeries};

use crate::plot::{Band, BandKind, Chart, Line, LineChart, Scale};

/// Length of a window, seconds.
pub(super) fn window_of(ts: &TimeSeries) -> f64 {
    if ts.window_s > 0.0 {
        ts.window_s
    } else {
        match (ts.window_start_s.first(), ts.window_end_s.first()) {
            (Some(a), Some(b)) => b - a,
            _ => 1.0,
        }
    }
}

pub(super) const TIME: &str = "simulated time (s)";

/// Whether the positive values of `lines` span more than a factor 20: then
/// a log axis reads better.
pub(super) fn spans_decades(lines: &[Line]) -> bool {
    let (mn, mx) = lines
        .iter()
        .flat_map(|l| l.points.iter().map(|p| p.1))
        .filter(|v| v.is_finite() && *v > 0.0)
        .fold((f64::INFINITY, 0.0f64), |(a, b), v| (a.min(v), b.max(v)));
    mn.is_finite() && mx / mn > 20.0
}

/// A line chart over simulated time with the run's bands and x range. The
/// y axis is "`label` (`unit`)"; with `log_when_wide`, logarithmic when
/// `spans_decades` (and the label says so).
pub(super) fn time_chart(
    title: impl Into<String>,
    (label, unit): (&str, &str),
    subtitle: String,
    lines: Vec<Line>,
    bands: &[Band],
    x_range: Option<(f64, f64)>,
    log_when_wide: bool,
) -> Chart {
    let log = log_when_wide && spans_decades(&lines);
    let y = match (unit.is_empty(), log) {
        (true, false) => label.to_owned(),
        (true, true) => format!("{label} (log scale)"),
        (false, false) => format!("{label} ({unit})"),
        (false, true) => format!("{label} ({unit}, log scale)"),
    };
    let mut c = LineChart::new(title, TIME, y);
    c.subtitle = subtitle;
    c.y_scale = if log { Scale::Log } else { Scale::Linear };
    c.lines = lines;
    c.bands = bands.to_vec();
    c.x_range = x_range;
    Chart::Lines(c)
}

/// Services in call-graph order: the entries' targets first, then breadth
/// first along the edges `a->b`, then any other service in summary order,
/// then services only the time series names.
pub fn service_order(s: &Summary, ts: &TimeSeries) -> Vec<String> {
    let mut order: Vec<String> = Vec::new();
    let push = |n: &str, order: &mut Vec<String>| {
        if !order.iter().any(|o| o == n) {
            order.push(n.to_string());
        }
    };
    for e in s.entries.values() {
        push(&e.target, &mut order);
    }
    let edges: Vec<(&str, &str)> = s.edges.keys().filter_map(|k| split_edge(k)).collect();
    let mut i = 0;
    while i < order.len() {
        let from = order[i].clone();
        for (a, b) in &edges {
            if *a == from {
                push(b, &mut order);
            }
        }
        i += 1;
    }
    for n in s.services.keys() {
        push(n, &mut order);
    }
    for sr in ts.series.iter().filter(|sr| sr.scope == "service") {
        push(&sr.name, &mut order);
    }
    order
}

/// `"a->b"` as `("a", "b")`.
pub fn split_edge(key: &str) -> Option<(&str, &str)> {
    key.split_once("->").map(|(a, b)| (a.trim(), b.trim()))
}

pub(super) fn edge_title(key: &str) -> String {
    match split_edge(key) {
        Some((a, b)) => format!("{a} → {b}"),
        None => key.to_string(),
    }
}

/// A fault's name on a chart: kind and target (and replica).
pub fn fault_label(kind: &str, target: &str, replica: Option<u32>) -> String {
    match replica {
        Some(r) => format!("{kind} · {target} #{r}"),
        None => format!("{kind} · {target}"),
    }
}

pub(super) fn bands(s: &Summary, ts: &TimeSeries) -> Vec<Band> {
    bands_from(s, ts.window_start_s.first().copied().unwrap_or(0.0))
}

/// The warm-up (when it ends after `start`, the start of the time axis)
/// and every fault window of the run summarised by `s`.
pub(super) fn bands_from(s: &Summary, start: f64) -> Vec<Band> {
    let mut out = Vec::new();
    if s.warmup_s > start {
        out.push(Band {
            start,
            end: s.warmup_s,
            label: "warm-up".into(),
            kind: BandKind::Warmup,
            row: None,
        });
    }
    for f in &s.faults {
        out.push(Band {
            start: f.start_s,
            end: f.end_s,
            label: fault_label(&f.kind, &f.target, f.replica),
            kind: BandKind::Fault,
            row: Some(f.target.clone()),
        });
    }
    out
}

pub(super) fn x_range(ts: &TimeSeries) -> Option<(f64, f64)> {
    match (ts.window_start_s.first(), ts.window_end_s.last()) {
        (Some(a), Some(b)) if b > a => Some((*a, *b)),
        _ => None,
    }
}

/// Each window's value is drawn at the middle of the window.
pub(super) fn midpoints(ts: &TimeSeries) -> Vec<f64> {
    ts.window_start_s
        .iter()
        .zip(&ts.window_end_s)
        .map(|(a, b)| (a + b) / 2.0)
        .collect()
}

pub(super) fn points(xs: &[f64], values: &[f64]) -> Vec<(f64, f64)> {
    xs.iter().copied().zip(values.iter().copied()).collect()
}

/// Names of `scope` in the time series, those of `known` first.
pub(super) fn names_in<'a>(
    ts: &TimeSeries,
    scope: &str,
    known: impl Iterator<Item = &'a String>,
) -> Vec<String> {
    let mut out: Vec<String> = known.cloned().collect();
    for sr in ts.series.iter().filter(|sr| sr.scope == scope) {
        if !out.contains(&sr.name) {
            out.push(sr.name.clone());
        }
    }
    out.retain(|n| {
        ts.series
            .iter()
            .any(|sr| sr.scope == scope && &sr.name == n)
    });
    out
}

pub(super) fn series_of<'a>(
    ts: &'a TimeSeries,
    scope: &'a str,
    name: &'a str,
) -> impl Iterator<Item = &'a Series> + 'a {
    ts.series
        .iter()
        .filter(move |sr| sr.scope == scope && sr.name == name)
}

pub fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}
