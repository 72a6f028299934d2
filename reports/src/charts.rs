//! Which charts a run gets, built from its summary and time series.
//!
//! Data-driven where it can be: the charts pick their series by scope and
//! metric name (every `p…_ms` of an entry is a latency line, every `…_rps`
//! of an entry but arrivals and throughput is a stacked outcome, every
//! `…_rps` of an edge but calls is a failure line), and any series no chart
//! claims gets a chart of its own in "More series". A new metric in a known
//! scope therefore shows up without a change here. Message queues (the
//! `queue` scope) get their own charts: backlog, oldest message age,
//! throughput and publish → ack lag.

use std::collections::BTreeSet;

use sim_core::output::{RunResult, Series, Summary, TimeSeries};

use crate::plot::{
    BLACK, BLUE, Band, BandKind, Chart, Dash, Edge, EdgeKind, Fmt, GREEN, HeatStrip, Layer, Line,
    LineChart, Node, ORANGE, PURPLE, Panels, Rgb, SKY, Scale, StackedChart, Topology, VERMILLION,
    YELLOW, fmt_num, series_style,
};

/// Where a chart belongs in the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Topology,
    Entries,
    Services,
    Edges,
    Queues,
    Distribution,
    More,
}

/// A chart and the file stem it is saved under (`<stem>.svg`, `.png`).
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    pub stem: String,
    pub section: Section,
    pub chart: Chart,
}

/// The charts of a run, in report order, and the series left out because
/// they were zero throughout (as `scope metric` names).
pub fn figures(r: &RunResult) -> (Vec<Figure>, Vec<String>) {
    let s = &r.summary;
    let ts = &r.timeseries;
    let order = service_order(s, ts);
    let bands = bands(s, ts);
    let x_range = x_range(ts);
    let xs = midpoints(ts);
    let mut out = Vec::new();
    let mut stems = BTreeSet::new();
    let mut push = |stem: String, section: Section, chart: Chart, out: &mut Vec<Figure>| {
        let stem = unique_stem(&stem, &mut stems);
        out.push(Figure {
            stem,
            section,
            chart,
        });
    };

    if !s.services.is_empty() || !s.entries.is_empty() {
        push(
            "topology".into(),
            Section::Topology,
            topology(s, ts, &order),
            &mut out,
        );
    }
    for entry in names_in(ts, "entry", s.entries.keys()) {
        if let Some(c) = latency_chart(ts, &entry, &xs, &bands, x_range, window_of(ts)) {
            push(format!("latency-{entry}"), Section::Entries, c, &mut out);
        }
        if let Some(c) = outcomes_chart(ts, &entry, &xs, &bands, x_range) {
            push(format!("outcomes-{entry}"), Section::Entries, c, &mut out);
        }
    }
    if let Some(c) = saturation(s, ts, &order, &bands) {
        push("saturation".into(), Section::Services, c, &mut out);
    }
    if let Some(c) = queues(ts, &order, &xs, &bands, x_range) {
        push("queues".into(), Section::Services, c, &mut out);
    }
    if let Some(c) = edge_panels(s, ts, &order, &xs, &bands, x_range) {
        push("edges".into(), Section::Edges, c, &mut out);
    }
    let queue_names = names_in(ts, "queue", s.queues.keys());
    for (stem, c) in [
        (
            "queue-backlog",
            queue_backlog(ts, &queue_names, &xs, &bands, x_range),
        ),
        (
            "queue-age",
            queue_age(ts, &queue_names, &xs, &bands, x_range),
        ),
        (
            "queue-throughput",
            queue_throughput(ts, &queue_names, &xs, &bands, x_range),
        ),
        (
            "queue-lag",
            queue_lag(ts, &queue_names, &xs, &bands, x_range),
        ),
    ] {
        if let Some(c) = c {
            push(stem.into(), Section::Queues, c, &mut out);
        }
    }
    if let Some(c) = latency_cdf(s) {
        push("latency-cdf".into(), Section::Distribution, c, &mut out);
    }
    let (more, omitted) = more_series(ts, &order, &xs, &bands, x_range);
    for (stem, c) in more {
        push(stem, Section::More, c, &mut out);
    }
    (out, omitted)
}

/// Length of a window, seconds.
fn window_of(ts: &TimeSeries) -> f64 {
    if ts.window_s > 0.0 {
        ts.window_s
    } else {
        match (ts.window_start_s.first(), ts.window_end_s.first()) {
            (Some(a), Some(b)) => b - a,
            _ => 1.0,
        }
    }
}

const TIME: &str = "simulated time (s)";

/// Whether the positive values of `lines` span more than a factor 20: then
/// a log axis reads better.
pub fn spans_decades(lines: &[Line]) -> bool {
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
fn time_chart(
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

fn edge_title(key: &str) -> String {
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

fn bands(s: &Summary, ts: &TimeSeries) -> Vec<Band> {
    let mut out = Vec::new();
    let start = ts.window_start_s.first().copied().unwrap_or(0.0);
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

fn x_range(ts: &TimeSeries) -> Option<(f64, f64)> {
    match (ts.window_start_s.first(), ts.window_end_s.last()) {
        (Some(a), Some(b)) if b > a => Some((*a, *b)),
        _ => None,
    }
}

/// Each window's value is drawn at the middle of the window.
fn midpoints(ts: &TimeSeries) -> Vec<f64> {
    ts.window_start_s
        .iter()
        .zip(&ts.window_end_s)
        .map(|(a, b)| (a + b) / 2.0)
        .collect()
}

fn points(xs: &[f64], values: &[f64]) -> Vec<(f64, f64)> {
    xs.iter().copied().zip(values.iter().copied()).collect()
}

/// Names of `scope` in the time series, those of `known` first.
fn names_in<'a>(
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

fn series_of<'a>(
    ts: &'a TimeSeries,
    scope: &'a str,
    name: &'a str,
) -> impl Iterator<Item = &'a Series> + 'a {
    ts.series
        .iter()
        .filter(move |sr| sr.scope == scope && sr.name == name)
}

/// `p999_ms` → 99.9, `p50_ms` → 50.
fn percentile_of(metric: &str) -> Option<f64> {
    let digits = metric.strip_prefix('p')?.strip_suffix("_ms")?;
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let v: f64 = if digits.len() > 2 {
        format!("{}.{}", &digits[..2], &digits[2..]).parse().ok()?
    } else {
        digits.parse().ok()?
    };
    Some(v)
}

fn latency_chart(
    ts: &TimeSeries,
    entry: &str,
    xs: &[f64],
    bands: &[Band],
    x_range: Option<(f64, f64)>,
    window: f64,
) -> Option<Chart> {
    let mut lat: Vec<(f64, &Series)> = series_of(ts, "entry", entry)
        .filter_map(|sr| Some((percentile_of(&sr.metric)?, sr)))
        .collect();
    if lat.is_empty() {
        return None;
    }
    lat.sort_by(|a, b| a.0.total_cmp(&b.0));
    // A window without a successful request has no latency: a gap, not 0.
    let clean = |v: &[f64]| -> Vec<f64> {
        v.iter()
            .map(|x| if *x > 0.0 { *x } else { f64::NAN })
            .collect()
    };
    let ordered = [SKY, VERMILLION, BLACK];
    let lines: Vec<Line> = lat
        .iter()
        .enumerate()
        .map(|(i, (p, sr))| {
            let line = Line::new(format!("p{}", fmt_num(*p)), points(xs, &clean(&sr.values)));
            if lat.len() <= ordered.len() {
                line.styled(ordered[i], Dash::Solid)
            } else {
                line
            }
        })
        .collect();
    Some(time_chart(
        format!("Latency over time · {entry}"),
        ("latency", "ms"),
        format!(
            "percentiles of successful requests answered in each {} s window; gaps: no success in the window",
            fmt_num(window)
        ),
        lines,
        bands,
        x_range,
        true,
    ))
}

fn outcome_name(metric: &str, values: &[f64]) -> String {
    let name = outcome_base(metric);
    if values.iter().all(|v| *v == 0.0 || !v.is_finite()) {
        format!("{name} (none)")
    } else {
        name
    }
}

fn outcome_base(metric: &str) -> String {
    match metric {
        "goodput_rps" => "ok (goodput)".into(),
        "timeout_rps" => "timed out".into(),
        "rejected_rps" => "rejected".into(),
        "error_rps" => "error".into(),
        m => m.strip_suffix("_rps").unwrap_or(m).replace('_', " "),
    }
}

fn outcomes_chart(
    ts: &TimeSeries,
    entry: &str,
    xs: &[f64],
    bands: &[Band],
    x_range: Option<(f64, f64)>,
) -> Option<Chart> {
    let mine: Vec<&Series> = series_of(ts, "entry", entry).collect();
    let good = mine.iter().find(|sr| sr.metric == "goodput_rps");
    let failures: Vec<&&Series> = mine
        .iter()
        .filter(|sr| {
            sr.metric.ends_with("_rps")
                && !matches!(
                    sr.metric.as_str(),
                    "arrivals_rps" | "throughput_rps" | "goodput_rps"
                )
        })
        .collect();
    if good.is_none() && failures.is_empty() {
        return None;
    }
    let fail_colors = [ORANGE, VERMILLION, PURPLE, YELLOW, SKY, BLUE];
    let mut layers = Vec::new();
    if let Some(g) = good {
        layers.push(Layer {
            name: outcome_name(&g.metric, &g.values),
            values: g.values.clone(),
            color: GREEN,
        });
    }
    for (i, f) in failures.iter().enumerate() {
        layers.push(Layer {
            name: outcome_name(&f.metric, &f.values),
            values: f.values.clone(),
            color: fail_colors[i % fail_colors.len()],
        });
    }
    let overlays = mine
        .iter()
        .find(|sr| sr.metric == "arrivals_rps")
        .map(|a| {
            vec![
                Line::new("arrivals (offered load)", points(xs, &a.values))
                    .styled(BLACK, Dash::Solid),
            ]
        })
        .unwrap_or_default();
    Some(Chart::Stacked(StackedChart {
        title: format!("Throughput, goodput and errors · {entry}"),
        subtitle: "requests finished per second, stacked by outcome (the top edge is throughput)"
            .into(),
        x_label: TIME.into(),
        y_label: "requests per second".into(),
        x: xs.to_vec(),
        layers,
        overlays,
        bands: bands.to_vec(),
        x_range,
    }))
}

fn pool(s: &Summary, name: &str) -> Option<f64> {
    s.services
        .get(name)
        .map(|sv| f64::from(sv.threads) * f64::from(sv.replicas.max(1)))
        .filter(|p| *p > 0.0)
}

/// busy threads ÷ pool size per window, or the engine's utilisation series
/// when the pool size is unknown.
fn saturation_values(s: &Summary, ts: &TimeSeries, name: &str) -> Option<Vec<f64>> {
    if let (Some(busy), Some(p)) = (ts.get("service", name, "busy_threads"), pool(s, name)) {
        return Some(busy.values.iter().map(|v| v / p).collect());
    }
    ts.get("service", name, "utilization")
        .map(|u| u.values.clone())
}

fn saturation(s: &Summary, ts: &TimeSeries, order: &[String], bands: &[Band]) -> Option<Chart> {
    let rows: Vec<(String, Vec<f64>)> = order
        .iter()
        .filter_map(|n| Some((n.clone(), saturation_values(s, ts, n)?)))
        .collect();
    if rows.is_empty() || ts.window_start_s.is_empty() {
        return None;
    }
    Some(Chart::Heat(HeatStrip {
        title: "Saturation: busy threads ÷ pool size".into(),
        subtitle: "one row per service in call order, entry side on top: a cascade climbs from the slow service upward".into(),
        x_label: TIME.into(),
        value_label: "busy ÷ pool (mean per window)".into(),
        starts: ts.window_start_s.clone(),
        ends: ts.window_end_s.clone(),
        rows,
        max: 1.0,
        value_fmt: Fmt::Percent,
        bands: bands.to_vec(),
    }))
}

fn queues(
    ts: &TimeSeries,
    order: &[String],
    xs: &[f64],
    bands: &[Band],
    x_range: Option<(f64, f64)>,
) -> Option<Chart> {
    let lines: Vec<Line> = order
        .iter()
        .filter_map(|n| {
            ts.get("service", n, "queue_len")
                .map(|q| Line::new(n.clone(), points(xs, &q.values)))
        })
        .collect();
    if lines.is_empty() {
        return None;
    }
    Some(time_chart(
        "Accept queue length per service",
        ("requests waiting for a thread", ""),
        "time-weighted mean per window, all replicas together".into(),
        lines,
        bands,
        x_range,
        false,
    ))
}

/// Waiting (solid) and unacknowledged (dashed) messages per queue, one
/// colour a queue.
fn queue_backlog(
    ts: &TimeSeries,
    names: &[String],
    xs: &[f64],
    bands: &[Band],
    x_range: Option<(f64, f64)>,
) -> Option<Chart> {
    let mut lines = Vec::new();
    for (i, n) in names.iter().enumerate() {
        let color = series_style(i).0;
        if let Some(d) = ts.get("queue", n, "depth") {
            lines.push(
                Line::new(format!("{n} · waiting"), points(xs, &d.values))
                    .styled(color, Dash::Solid),
            );
        }
        if let Some(u) = ts.get("queue", n, "unacked") {
            lines.push(
                Line::new(format!("{n} · unacknowledged"), points(xs, &u.values))
                    .styled(color, Dash::Dashed),
            );
        }
    }
    if lines.is_empty() {
        return None;
    }
    Some(time_chart(
        "Queue backlog",
        ("messages", ""),
        "waiting for delivery (solid); not yet acknowledged, in processing included (dashed); mean per window".into(),
        lines,
        bands,
        x_range,
        false,
    ))
}

fn queue_age(
    ts: &TimeSeries,
    names: &[String],
    xs: &[f64],
    bands: &[Band],
    x_range: Option<(f64, f64)>,
) -> Option<Chart> {
    let lines: Vec<Line> = names
        .iter()
        .enumerate()
        .filter_map(|(i, n)| {
            let (color, _) = series_style(i);
            ts.get("queue", n, "oldest_age_s")
                .map(|a| Line::new(n.clone(), points(xs, &a.values)).styled(color, Dash::Solid))
        })
        .collect();
    if lines.is_empty() {
        return None;
    }
    Some(time_chart(
        "Oldest message age",
        ("age of the oldest unacknowledged message", "s"),
        "largest in each window; it climbs one second per second while the oldest message waits"
            .into(),
        lines,
        bands,
        x_range,
        false,
    ))
}

/// The rates a queue's throughput panel draws: name, colour, dash, and
/// whether it is drawn even when zero throughout.
const QUEUE_RATES: [(&str, &str, Rgb, Dash, bool); 5] = [
    ("published_rps", "published", BLACK, Dash::Solid, true),
    ("acked_rps", "acknowledged", GREEN, Dash::Dashed, true),
    ("redelivered_rps", "redelivered", ORANGE, Dash::Solid, false),
    (
        "dead_lettered_rps",
        "dead-lettered",
        VERMILLION,
        Dash::Solid,
        false,
    ),
    (
        "publish_failed_rps",
        "publish failed",
        PURPLE,
        Dash::Dotted,
        false,
    ),
];

/// One panel per queue; every panel draws the same rates (those non-zero
/// in some queue) so that the legend holds for all.
fn queue_throughput(
    ts: &TimeSeries,
    names: &[String],
    xs: &[f64],
    bands: &[Band],
    x_range: Option<(f64, f64)>,
) -> Option<Chart> {
    let nonzero = |metric: &str| {
        names.iter().any(|n| {
            ts.get("queue", n, metric)
                .is_some_and(|sr| sr.values.iter().any(|v| v.is_finite() && *v != 0.0))
        })
    };
    let rates: Vec<_> = QUEUE_RATES
        .iter()
        .filter(|(m, _, _, _, always)| *always || nonzero(m))
        .collect();
    let mut panels = Vec::new();
    for n in names {
        let lines: Vec<Line> = rates
            .iter()
            .filter_map(|(m, label, color, dash, _)| {
                ts.get("queue", n, m)
                    .map(|sr| Line::new(*label, points(xs, &sr.values)).styled(*color, *dash))
            })
            .collect();
        if !lines.is_empty() {
            panels.push((format!("queue {n}"), lines));
        }
    }
    if panels.is_empty() {
        return None;
    }
    Some(Chart::Panels(Panels {
        title: "Queue throughput".into(),
        subtitle: "messages per second, per window: a backlog grows while published stays above acknowledged; each panel has its own scale".into(),
        x_label: TIME.into(),
        y_label: "messages per second".into(),
        panels,
        bands: bands.to_vec(),
        x_range,
    }))
}

fn queue_lag(
    ts: &TimeSeries,
    names: &[String],
    xs: &[f64],
    bands: &[Band],
    x_range: Option<(f64, f64)>,
) -> Option<Chart> {
    // A window without an acknowledgement has no lag: a gap, not 0.
    let lines: Vec<Line> = names
        .iter()
        .enumerate()
        .filter_map(|(i, n)| {
            let (color, _) = series_style(i);
            ts.get("queue", n, "lag_p99_ms").map(|sr| {
                let v: Vec<f64> = sr
                    .values
                    .iter()
                    .map(|x| if *x > 0.0 { *x } else { f64::NAN })
                    .collect();
                Line::new(n.clone(), points(xs, &v)).styled(color, Dash::Solid)
            })
        })
        .collect();
    if lines.is_empty() {
        return None;
    }
    Some(time_chart(
        "Publish → ack lag p99",
        ("publish → acknowledgement, p99", "ms"),
        "99th percentile of the messages acknowledged in each window, from publish to ack; gaps: no ack in the window".into(),
        lines,
        bands,
        x_range,
        true,
    ))
}

fn edge_metric_name(metric: &str) -> String {
    match metric {
        "failures_rps" => "failed calls (all kinds)".into(),
        "timeouts_rps" => "timeouts".into(),
        "late_replies_rps" => "late replies (caller had given up)".into(),
        "retries_rps" => "retries".into(),
        m => m.strip_suffix("_rps").unwrap_or(m).replace('_', " "),
    }
}

fn edge_metric_style(metric: &str, i: usize) -> (Rgb, Dash) {
    match metric {
        "failures_rps" => (VERMILLION, Dash::Solid),
        "timeouts_rps" => (BLUE, Dash::Dashed),
        "late_replies_rps" => (BLACK, Dash::Dotted),
        _ => [
            (PURPLE, Dash::Solid),
            (GREEN, Dash::Dashed),
            (ORANGE, Dash::Solid),
        ][i % 3],
    }
}

fn edge_order(s: &Summary, ts: &TimeSeries, order: &[String]) -> Vec<String> {
    let mut keys = names_in(ts, "edge", s.edges.keys());
    let pos = |n: &str| order.iter().position(|o| o == n).unwrap_or(usize::MAX);
    keys.sort_by_key(|k| split_edge(k).map_or((usize::MAX, usize::MAX), |(a, b)| (pos(a), pos(b))));
    keys
}

fn edge_panels(
    s: &Summary,
    ts: &TimeSeries,
    order: &[String],
    xs: &[f64],
    bands: &[Band],
    x_range: Option<(f64, f64)>,
) -> Option<Chart> {
    let keys = edge_order(s, ts, order);
    let mut panels = Vec::new();
    for key in &keys {
        let mut picked: Vec<&Series> = series_of(ts, "edge", key)
            .filter(|sr| sr.metric.ends_with("_rps") && sr.metric != "calls_rps")
            .collect();
        // Failures first, so that the kinds they include draw over them.
        picked.sort_by_key(|sr| sr.metric != "failures_rps");
        let lines: Vec<Line> = picked
            .into_iter()
            .enumerate()
            .map(|(i, sr)| {
                let (c, d) = edge_metric_style(&sr.metric, i);
                Line::new(edge_metric_name(&sr.metric), points(xs, &sr.values)).styled(c, d)
            })
            .collect();
        if lines.is_empty() {
            continue;
        }
        let title = match s.edges.get(key) {
            Some(e) => {
                let failed = e.errors + e.rejected + e.timeouts;
                format!(
                    "{} · {} of {} calls failed ({})",
                    edge_title(key),
                    thousands(failed),
                    thousands(e.calls),
                    pct(ratio(failed, e.calls))
                )
            }
            None => edge_title(key),
        };
        panels.push((title, lines));
    }
    if panels.is_empty() {
        return None;
    }
    Some(Chart::Panels(Panels {
        title: "Failures per call edge".into(),
        subtitle: "caller → callee, in call order; each panel has its own scale".into(),
        x_label: TIME.into(),
        y_label: "per second".into(),
        panels,
        bands: bands.to_vec(),
        x_range,
    }))
}

fn latency_cdf(s: &Summary) -> Option<Chart> {
    let lines: Vec<Line> = s
        .entries
        .iter()
        .filter(|(_, e)| !e.latency_cdf_ms.is_empty())
        .map(|(n, e)| {
            Line::new(
                n.clone(),
                e.latency_cdf_ms.iter().map(|[q, ms]| (*ms, *q)).collect(),
            )
        })
        .collect();
    if lines.is_empty() {
        return None;
    }
    let mut c = LineChart::new(
        "End-to-end latency distribution",
        "latency (ms, log scale)",
        "requests answered within x (%)",
    );
    c.subtitle =
        "cumulative share of successful requests by latency, over the measured period".into();
    c.x_scale = Scale::Log;
    c.y_fmt = Fmt::Percent;
    c.y_range = Some((0.0, 1.0));
    c.lines = lines;
    Some(Chart::Lines(c))
}

/// Title, y label and format of a series family the other charts leave.
fn describe(scope: &str, metric: &str) -> (String, String, Fmt) {
    let known = match (scope, metric) {
        ("entry", "error_rate") => {
            Some(("Error rate per entry", "failed ÷ finished", Fmt::Percent))
        }
        ("service", "arrivals_rps") => {
            Some(("Arrivals per service", "requests per second", Fmt::Number))
        }
        ("service", "completed_rps") => Some((
            "Completions per service",
            "requests per second",
            Fmt::Number,
        )),
        ("service", "rejected_rps") => Some((
            "Rejected by a full accept queue",
            "requests per second",
            Fmt::Number,
        )),
        ("service", "refused_rps") => Some((
            "Refused by a crashed replica",
            "requests per second",
            Fmt::Number,
        )),
        ("service", "orphaned_work") => Some((
            "Orphaned work per service",
            "threads busy for callers that gave up",
            Fmt::Number,
        )),
        ("service", "queue_len_max") => Some((
            "Longest accept queue per window",
            "requests waiting",
            Fmt::Number,
        )),
        ("service", "utilization") => {
            Some(("Pool utilisation per service", "busy ÷ pool", Fmt::Percent))
        }
        ("edge", "calls_rps") => Some(("Calls per edge", "calls per second", Fmt::Number)),
        ("queue", "depth_max") => Some((
            "Deepest queue per window",
            "messages waiting (max)",
            Fmt::Number,
        )),
        ("queue", "consumers_busy") => Some((
            "Busy consumer workers per queue",
            "workers processing a message (mean)",
            Fmt::Number,
        )),
        ("queue", "depth") => Some(("Messages waiting per queue", "messages", Fmt::Number)),
        ("queue", "unacked") => {
            Some(("Unacknowledged messages per queue", "messages", Fmt::Number))
        }
        ("queue", "oldest_age_s") => Some(("Oldest message age per queue", "seconds", Fmt::Number)),
        ("queue", "lag_p99_ms") => Some(("Publish → ack lag p99 per queue", "ms", Fmt::Number)),
        _ => None,
    };
    if let Some((t, y, f)) = known {
        return (t.into(), y.into(), f);
    }
    let (y, f) = if metric.ends_with("_rps") {
        ("per second", Fmt::Number)
    } else if metric.ends_with("_ms") {
        ("ms", Fmt::Number)
    } else if metric.ends_with("_s") {
        ("seconds", Fmt::Number)
    } else if metric.ends_with("_rate") || metric.ends_with("ratio") {
        ("share", Fmt::Percent)
    } else {
        ("value", Fmt::Number)
    };
    (
        format!("{} per {scope}", metric.replace('_', " ")),
        y.into(),
        f,
    )
}

/// Whether a chart above already shows this series.
fn claimed(scope: &str, metric: &str) -> bool {
    match scope {
        "entry" => percentile_of(metric).is_some() || metric.ends_with("_rps"),
        "service" => matches!(metric, "busy_threads" | "utilization" | "queue_len"),
        "edge" => metric.ends_with("_rps") && metric != "calls_rps",
        "queue" => {
            matches!(metric, "depth" | "unacked" | "oldest_age_s" | "lag_p99_ms")
                || QUEUE_RATES.iter().any(|r| r.0 == metric)
        }
        _ => false,
    }
}

type MoreSeries = (Vec<(String, Chart)>, Vec<String>);

fn more_series(
    ts: &TimeSeries,
    order: &[String],
    xs: &[f64],
    bands: &[Band],
    x_range: Option<(f64, f64)>,
) -> MoreSeries {
    let mut families: Vec<(String, String)> = Vec::new();
    for sr in &ts.series {
        let key = (sr.scope.clone(), sr.metric.clone());
        if !claimed(&sr.scope, &sr.metric) && !families.contains(&key) {
            families.push(key);
        }
    }
    let mut charts = Vec::new();
    let mut omitted = Vec::new();
    for (scope, metric) in families {
        let mut members: Vec<&Series> = ts
            .series
            .iter()
            .filter(|sr| sr.scope == scope && sr.metric == metric)
            .collect();
        if scope == "service" {
            let pos = |n: &str| order.iter().position(|o| o == n).unwrap_or(usize::MAX);
            members.sort_by_key(|sr| pos(&sr.name));
        }
        if members
            .iter()
            .all(|sr| sr.values.iter().all(|v| !v.is_finite() || *v == 0.0))
        {
            omitted.push(format!("{scope} {metric}"));
            continue;
        }
        let (title, y, fmt) = describe(&scope, &metric);
        let mut c = LineChart::new(title, TIME, y);
        c.subtitle = format!("series “{metric}” of each {scope}, per window");
        c.y_fmt = fmt;
        c.lines = members
            .iter()
            .map(|sr| {
                let name = if scope == "edge" {
                    edge_title(&sr.name)
                } else {
                    sr.name.clone()
                };
                Line::new(name, points(xs, &sr.values))
            })
            .collect();
        c.bands = bands.to_vec();
        c.x_range = x_range;
        charts.push((format!("{scope}-{metric}"), Chart::Lines(c)));
    }
    (charts, omitted)
}

fn topology(s: &Summary, ts: &TimeSeries, order: &[String]) -> Chart {
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
            detail: format!("entry · {} req/s", fmt_num(rate)),
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
        let peak = saturation_values(s, ts, name)
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
    Chart::Topology(Topology {
        title: "Topology".into(),
        subtitle: if s.queues.is_empty() {
            "entries → services → callees; nodes coloured by mean pool utilisation, calls by the share that failed".into()
        } else {
            "entries → services → callees, queues → consumers (dashed); nodes coloured by mean pool utilisation, arrows by the share that failed".into()
        },
        nodes,
        edges,
        node_scale: "box: mean pool utilisation".into(),
    })
}

fn failed_label(rate: f64) -> String {
    if rate > 0.0 {
        format!("{} failed", pct(rate))
    } else {
        "no failures".into()
    }
}

pub fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

/// A share as a percentage with sensible precision: `7.3%`, `0.02%`, `<0.01%`.
pub fn pct(x: f64) -> String {
    if !x.is_finite() {
        return "–".into();
    }
    let p = x * 100.0;
    if p == 0.0 {
        "0%".into()
    } else if p < 0.01 {
        "<0.01%".into()
    } else if p < 1.0 {
        format!("{p:.2}%")
    } else if p < 10.0 {
        format!("{p:.1}%")
    } else {
        format!("{p:.0}%")
    }
}

fn pct0(x: f64) -> String {
    format!("{:.0}%", x * 100.0)
}

/// `32808` → `32,808`.
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A file stem from a user-chosen name: letters, digits, `-`, `_`, `.`
/// kept, anything else `_`; made unique among `taken`.
fn unique_stem(raw: &str, taken: &mut BTreeSet<String>) -> String {
    let mut base: String = raw
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    base.truncate(80);
    if base.is_empty() {
        base = "chart".into();
    }
    let mut stem = base.clone();
    let mut k = 2;
    while !taken.insert(stem.clone()) {
        stem = format!("{base}-{k}");
        k += 1;
    }
    stem
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentile_names() {
        assert_eq!(percentile_of("p50_ms"), Some(50.0));
        assert_eq!(percentile_of("p999_ms"), Some(99.9));
        assert_eq!(percentile_of("p9999_ms"), Some(99.99));
        assert_eq!(percentile_of("queue_ms"), None);
    }

    #[test]
    fn stems_are_safe_and_unique() {
        let mut t = BTreeSet::new();
        assert_eq!(unique_stem("latency-a/b", &mut t), "latency-a_b");
        assert_eq!(unique_stem("latency-a?b", &mut t), "latency-a_b-2");
        assert_eq!(unique_stem("../x", &mut t), "___x");
    }

    #[test]
    fn shares_read_well() {
        assert_eq!(pct(0.0728), "7.3%");
        assert_eq!(pct(0.000183), "0.02%");
        assert_eq!(pct(0.5), "50%");
        assert_eq!(thousands(32808), "32,808");
        assert_eq!(thousands(100), "100");
    }
}
