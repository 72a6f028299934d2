//! Failures per call edge: one panel per caller → callee, in call order.
//!
//! Owns which edge series are failure lines (every `…_rps` but calls and
//! attempts) and
//! their names and styles. Must not draw.

use std::borrow::Cow;

use sim_core::output::Series;

use super::shared::{Run, TIME, edge_title, ratio, split_edge};
use super::top::{self, LINES, Rest, TOP_LINES};
use crate::numbers::{pct, thousands};
use crate::plot::{BLACK, BLUE, Chart, Dash, GREEN, Line, ORANGE, PURPLE, Panels, Rgb, VERMILLION};

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

fn edge_order(run: &Run) -> Vec<String> {
    let mut keys = run.names_in("edge", run.s.edges.keys());
    keys.sort_by_cached_key(|k| {
        split_edge(k).map_or((usize::MAX, usize::MAX), |(a, b)| {
            (run.position(a), run.position(b))
        })
    });
    keys
}

/// Rates of an edge that are not failures: calls, and attempts (first
/// tries, retries and hedges), which would flatten the failures on a
/// shared scale; "More series" charts them.
pub(super) const NOT_FAILURES: [&str; 2] = ["calls_rps", "attempts_rps"];

/// An edge's failure lines: every `…_rps` but calls and attempts, failures first so
/// that the kinds they include draw over them.
fn failure_series<'a>(run: &Run<'a>, key: &str) -> Vec<&'a Series> {
    let mut picked: Vec<&Series> = run
        .series_of("edge", key)
        .filter(|sr| sr.metric.ends_with("_rps") && !NOT_FAILURES.contains(&sr.metric.as_str()))
        .collect();
    picked.sort_by_key(|sr| sr.metric != "failures_rps");
    picked
}

fn lines(run: &Run, series: &[(&str, Cow<[f64]>)]) -> Vec<Line> {
    series
        .iter()
        .enumerate()
        .map(|(i, (metric, values))| {
            let (c, d) = edge_metric_style(metric, i);
            Line::new(edge_metric_name(metric), run.points(values)).styled(c, d)
        })
        .collect()
}

/// One panel per edge in call order; past `LINES` edges, the `TOP_LINES`
/// with the most failed calls (then the most calls) and a panel of the
/// others summed.
pub(super) fn edge_panels(run: &Run) -> Option<Chart> {
    let s = run.s;
    let edges: Vec<(String, Vec<&Series>)> = edge_order(run)
        .into_iter()
        .map(|key| {
            let series = failure_series(run, &key);
            (key, series)
        })
        .filter(|(_, series)| !series.is_empty())
        .collect();
    if edges.is_empty() {
        return None;
    }
    // A kind that never happened on any edge gets no line and no legend
    // entry (failed calls stay: a flat zero says there were none).
    let happened = |metric: &str| {
        metric == "failures_rps"
            || edges.iter().any(|(_, series)| {
                series.iter().any(|sr| {
                    sr.metric == metric && sr.values.iter().any(|v| v.is_finite() && *v != 0.0)
                })
            })
    };
    let edges: Vec<(String, Vec<&Series>)> = edges
        .iter()
        .map(|(key, series)| {
            let kept = series
                .iter()
                .copied()
                .filter(|sr| happened(&sr.metric))
                .collect();
            (key.clone(), kept)
        })
        .collect();
    // By failed calls (what each panel's title counts), then calls.
    let scores: Vec<(f64, f64)> = edges
        .iter()
        .map(|(key, _)| {
            s.edges.get(key).map_or((0.0, 0.0), |e| {
                ((e.errors + e.rejected + e.timeouts) as f64, e.calls as f64)
            })
        })
        .collect();
    let p = top::pick_by(&scores, LINES, TOP_LINES);
    let mut panels = Vec::new();
    for &k in &p.kept {
        let (key, series) = &edges[k];
        let series: Vec<(&str, Cow<[f64]>)> = series
            .iter()
            .map(|sr| (sr.metric.as_str(), Cow::Borrowed(sr.values.as_slice())))
            .collect();
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
        panels.push((title, lines(run, &series)));
    }
    let mut subtitle = "caller → callee, in call order; each panel has its own scale".to_owned();
    if p.limited() {
        // Each metric of the others, summed, in the order first met.
        let mut metrics: Vec<&str> = Vec::new();
        for &k in &p.rest {
            for sr in &edges[k].1 {
                if !metrics.contains(&sr.metric.as_str()) {
                    metrics.push(&sr.metric);
                }
            }
        }
        metrics.sort_by_key(|m| *m != "failures_rps");
        let series: Vec<(&str, Cow<[f64]>)> = metrics
            .iter()
            .map(|m| {
                let values = p.rest.iter().flat_map(|&k| {
                    edges[k]
                        .1
                        .iter()
                        .filter(|sr| sr.metric == *m)
                        .map(|sr| sr.values.as_slice())
                });
                (*m, Cow::Owned(top::combine(values, Rest::Sum)))
            })
            .collect();
        panels.push((
            format!("others: {} edges, summed", thousands(p.rest.len() as u64)),
            lines(run, &series),
        ));
        subtitle = top::subtitle(
            &subtitle,
            Some(&top::note(&p, "failed calls", Some(Rest::Sum))),
        );
    }
    Some(Chart::Panels(Panels {
        title: "Failures per call edge".into(),
        subtitle,
        x_label: TIME.into(),
        y_label: "calls per second".into(),
        panels,
        bands: run.bands.clone(),
        x_range: run.x_range,
    }))
}
