//! The services' charts: saturation (busy threads ÷ pool, a heat strip in
//! call order) and accept queue lengths.
//!
//! Owns the saturation figure (busy ÷ pool from the summary's pool size,
//! else the engine's utilisation series). Must not draw.

use sim_core::output::{Summary, TimeSeries};

use super::shared::{TIME, points, time_chart};
use crate::plot::{Band, Chart, Fmt, HeatStrip, Line};

pub(super) fn pool(s: &Summary, name: &str) -> Option<f64> {
    s.services
        .get(name)
        .map(|sv| f64::from(sv.threads) * f64::from(sv.replicas.max(1)))
        .filter(|p| *p > 0.0)
}

/// busy threads ÷ pool size per window, or the engine's utilisation series
/// when the pool size is unknown.
pub(super) fn saturation_values(s: &Summary, ts: &TimeSeries, name: &str) -> Option<Vec<f64>> {
    if let (Some(busy), Some(p)) = (ts.get("service", name, "busy_threads"), pool(s, name)) {
        return Some(busy.values.iter().map(|v| v / p).collect());
    }
    ts.get("service", name, "utilization")
        .map(|u| u.values.clone())
}

pub(super) fn saturation(
    s: &Summary,
    ts: &TimeSeries,
    order: &[String],
    bands: &[Band],
) -> Option<Chart> {
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

pub(super) fn queues(
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
