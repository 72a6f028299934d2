//! Message queues' charts: backlog, oldest message age, throughput (one
//! panel per queue) and publish → ack lag.
//!
//! Owns which queue series these charts draw (`QUEUE_RATES` and the
//! gauges). Must not draw.

use sim_core::output::TimeSeries;

use super::shared::{TIME, points, time_chart};
use crate::plot::{
    BLACK, Band, Chart, Dash, GREEN, Line, ORANGE, PURPLE, Panels, Rgb, VERMILLION, series_style,
};

/// Waiting (solid) and unacknowledged (dashed) messages per queue, one
/// colour a queue.
pub(super) fn queue_backlog(
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

pub(super) fn queue_age(
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
pub(super) const QUEUE_RATES: [(&str, &str, Rgb, Dash, bool); 5] = [
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
pub(super) fn queue_throughput(
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

pub(super) fn queue_lag(
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
