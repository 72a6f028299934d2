//! What every chart selection shares: looking series up by scope, name and
//! metric, the services in call order, the run's bands (warm-up, faults),
//! the time axis (window midpoints, x range) and the line chart over
//! simulated time.
//!
//! Must not pick a figure: each section's module does.

use std::collections::{BTreeMap, BTreeSet};

use sim_core::output::{FaultWindow, Series, Summary, TimeSeries};

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
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut push = |n: &str, order: &mut Vec<String>| {
        if !seen.contains(n) {
            seen.insert(n.to_string());
            order.push(n.to_string());
        }
    };
    for e in s.entries.values() {
        push(&e.target, &mut order);
    }
    // Callees of each caller, in edge order.
    let mut callees: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (a, b) in s.edges.keys().filter_map(|k| split_edge(k)) {
        callees.entry(a).or_default().push(b);
    }
    let mut i = 0;
    while i < order.len() {
        let from = order[i].clone();
        for b in callees.get(from.as_str()).into_iter().flatten() {
            push(b, &mut order);
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

fn bands(s: &Summary, ts: &TimeSeries) -> Vec<Band> {
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

/// A run as the chart modules read it: the summary, the time series
/// indexed by scope and name (lookups in O(log n), not a scan per query:
/// a run may have a hundred thousand series), and what every time chart
/// shares.
pub(super) struct Run<'a> {
    pub(super) s: &'a Summary,
    pub(super) ts: &'a TimeSeries,
    /// Services in call order (`service_order`).
    pub(super) order: Vec<String>,
    /// The warm-up and fault windows.
    pub(super) bands: Vec<Band>,
    pub(super) x_range: Option<(f64, f64)>,
    /// Window midpoints: where each window's value is drawn.
    pub(super) xs: Vec<f64>,
    /// scope → name → indices of its series, in file order.
    items: BTreeMap<&'a str, BTreeMap<&'a str, Vec<usize>>>,
    /// scope → its names, in first-seen order.
    names: BTreeMap<&'a str, Vec<&'a str>>,
    /// Position of each service in `order`.
    rank: BTreeMap<String, usize>,
}

impl<'a> Run<'a> {
    pub(super) fn new(s: &'a Summary, ts: &'a TimeSeries) -> Run<'a> {
        let mut items: BTreeMap<&str, BTreeMap<&str, Vec<usize>>> = BTreeMap::new();
        let mut names: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for (i, sr) in ts.series.iter().enumerate() {
            let list = items
                .entry(&sr.scope)
                .or_default()
                .entry(&sr.name)
                .or_default();
            if list.is_empty() {
                names.entry(&sr.scope).or_default().push(&sr.name);
            }
            list.push(i);
        }
        let order = service_order(s, ts);
        let rank = order
            .iter()
            .enumerate()
            .map(|(i, n)| (n.clone(), i))
            .collect();
        Run {
            s,
            ts,
            bands: bands(s, ts),
            x_range: x_range(ts),
            xs: midpoints(ts),
            order,
            items,
            names,
            rank,
        }
    }

    /// The series of one item (`scope`, `name`), in file order.
    pub(super) fn series_of(&self, scope: &str, name: &str) -> impl Iterator<Item = &'a Series> {
        let ts = self.ts;
        let found: &[usize] = self
            .items
            .get(scope)
            .and_then(|m| m.get(name))
            .map_or(&[], Vec::as_slice);
        found.iter().map(move |&i| &ts.series[i])
    }

    fn has(&self, scope: &str, name: &str) -> bool {
        self.items.get(scope).is_some_and(|m| m.contains_key(name))
    }

    /// The first series of `scope`, `name` and `metric`.
    pub(super) fn get(&self, scope: &str, name: &str, metric: &str) -> Option<&'a Series> {
        self.series_of(scope, name).find(|sr| sr.metric == metric)
    }

    /// Names of `scope` in the time series, those of `known` first.
    pub(super) fn names_in<'k>(
        &self,
        scope: &str,
        known: impl Iterator<Item = &'k String>,
    ) -> Vec<String> {
        let mut out: Vec<String> = known.filter(|n| self.has(scope, n)).cloned().collect();
        let listed: BTreeSet<&str> = out.iter().map(String::as_str).collect();
        let rest: Vec<String> = self
            .names
            .get(scope)
            .into_iter()
            .flatten()
            .filter(|n| !listed.contains(*n))
            .map(|n| (*n).to_owned())
            .collect();
        out.extend(rest);
        out
    }

    /// Where service `name` comes in call order (after all of them when
    /// it is not a service).
    pub(super) fn position(&self, name: &str) -> usize {
        self.rank.get(name).copied().unwrap_or(usize::MAX)
    }

    /// `values` at the window midpoints.
    pub(super) fn points(&self, values: &[f64]) -> Vec<(f64, f64)> {
        points(&self.xs, values)
    }

    /// A line chart over simulated time with this run's bands and x range
    /// (see `time_chart`).
    pub(super) fn time_chart(
        &self,
        title: impl Into<String>,
        label: (&str, &str),
        subtitle: String,
        lines: Vec<Line>,
        log_when_wide: bool,
    ) -> Chart {
        time_chart(
            title,
            label,
            subtitle,
            lines,
            &self.bands,
            self.x_range,
            log_when_wide,
        )
    }
}

pub fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

/// A fault that hits a service (not a source, an edge or a broker).
pub(super) fn is_service_fault(f: &FaultWindow) -> bool {
    !matches!(
        f.kind.as_str(),
        "surge"
            | "outage"
            | "slow_broker"
            | "flush"
            | "cache_outage"
            | "cache_slowdown"
            | "store_outage"
            | "store_slowdown"
    ) && !f.target.contains("->")
}

/// The service a workload or a consumer names: "service" or
/// "service.operation".
pub(super) fn service_of<'a>(s: &Summary, target: &'a str) -> Option<&'a str> {
    if s.services.contains_key(target) {
        return Some(target);
    }
    // The longest service name that prefixes "name.operation".
    s.services
        .keys()
        .filter(|n| {
            target.len() > n.len()
                && target.starts_with(n.as_str())
                && target[n.len()..].starts_with('.')
        })
        .max_by_key(|n| n.len())
        .map(|n| &target[..n.len()])
}
