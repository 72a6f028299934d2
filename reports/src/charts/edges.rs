//! Failures per call edge: one panel per caller → callee, in call order.
//!
//! Owns which edge series are failure lines (every `…_rps` but calls) and
//! their names and styles. Must not draw.

use sim_core::output::{Series, Summary, TimeSeries};

use super::shared::ratio;
use super::shared::{TIME, edge_title, names_in, points, series_of, split_edge};
use crate::numbers::{pct, thousands};
use crate::plot::{
    BLACK, BLUE, Band, Chart, Dash, GREEN, Line, ORANGE, PURPLE, Panels, Rgb, VERMILLION,
};

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

pub(super) fn edge_panels(
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
