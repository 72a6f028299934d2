//! Message queues' charts: backlog, oldest message age, throughput (one
//! panel per queue) and publish → ack lag.
//!
//! Owns which queue series these charts draw (`QUEUE_RATES` and the
//! gauges). Must not draw.

use std::borrow::Cow;

use super::shared::{Run, TIME};
use super::top::{self, LINES, Pick, Rest, TOP_LINES};
use crate::numbers::thousands;
use crate::plot::{
    BLACK, Chart, Dash, GREEN, GREY, Line, ORANGE, PURPLE, Panels, Rgb, VERMILLION, series_style,
};

/// The queues the charts draw: every one, or past `LINES` the `TOP_LINES`
/// whose backlog (unacknowledged messages, else waiting ones) peaks
/// highest; the same queues on every queue chart, in the same colours.
pub(super) struct Picked {
    pub(super) names: Vec<String>,
    /// The queues left out, drawn together as "others".
    pub(super) rest: Vec<String>,
    pick: Pick,
}

impl Picked {
    pub(super) fn new(run: &Run, names: Vec<String>) -> Picked {
        let peaks: Vec<f64> = names
            .iter()
            .map(|n| {
                run.get("queue", n, "unacked")
                    .or_else(|| run.get("queue", n, "depth"))
                    .map_or(f64::NEG_INFINITY, |sr| top::peak(&sr.values))
            })
            .collect();
        let pick = top::pick(&peaks, LINES, TOP_LINES);
        Picked {
            names: pick.kept.iter().map(|&i| names[i].clone()).collect(),
            rest: pick.rest.iter().map(|&i| names[i].clone()).collect(),
            pick,
        }
    }

    /// `subtitle`, saying which queues are drawn when not all are.
    fn subtitle(&self, subtitle: &str, how: Rest) -> String {
        let note = self
            .pick
            .limited()
            .then(|| top::note(&self.pick, "peak backlog", Some(how)));
        top::subtitle(subtitle, note.as_deref())
    }

    /// `metric` of the queues left out, combined `how` (`None` when every
    /// queue is drawn or none of the others has the metric).
    fn others(&self, run: &Run, metric: &str, how: Rest) -> Option<Vec<f64>> {
        let values: Vec<&[f64]> = self
            .rest
            .iter()
            .filter_map(|n| run.get("queue", n, metric))
            .map(|sr| sr.values.as_slice())
            .collect();
        (!values.is_empty()).then(|| top::combine(values.into_iter(), how))
    }

    fn others_name(&self, how: Rest) -> String {
        top::others(self.rest.len(), how)
    }
}

/// A window without an acknowledgement has no lag: a gap, not 0.
fn gaps(values: &[f64]) -> Vec<f64> {
    values
        .iter()
        .map(|x| if *x > 0.0 { *x } else { f64::NAN })
        .collect()
}

/// Waiting (solid) and unacknowledged (dashed) messages per queue, one
/// colour a queue.
pub(super) fn queue_backlog(run: &Run, q: &Picked) -> Option<Chart> {
    let mut lines = Vec::new();
    let mut add =
        |name: &str, color: Rgb, depth: Option<Cow<[f64]>>, unacked: Option<Cow<[f64]>>| {
            if let Some(d) = depth {
                lines.push(
                    Line::new(format!("{name} · waiting"), run.points(&d))
                        .styled(color, Dash::Solid),
                );
            }
            if let Some(u) = unacked {
                lines.push(
                    Line::new(format!("{name} · unacknowledged"), run.points(&u))
                        .styled(color, Dash::Dashed),
                );
            }
        };
    for (i, n) in q.names.iter().enumerate() {
        let values = |m: &str| {
            run.get("queue", n, m)
                .map(|sr| Cow::Borrowed(sr.values.as_slice()))
        };
        add(n, series_style(i).0, values("depth"), values("unacked"));
    }
    add(
        &q.others_name(Rest::Sum),
        GREY,
        q.others(run, "depth", Rest::Sum).map(Cow::Owned),
        q.others(run, "unacked", Rest::Sum).map(Cow::Owned),
    );
    if lines.is_empty() {
        return None;
    }
    Some(run.time_chart(
        "Queue backlog",
        ("messages", ""),
        q.subtitle("waiting for delivery (solid); not yet acknowledged, in processing included (dashed); mean per window", Rest::Sum),
        lines,
        false,
    ))
}

pub(super) fn queue_age(run: &Run, q: &Picked) -> Option<Chart> {
    let mut lines: Vec<Line> = q
        .names
        .iter()
        .enumerate()
        .filter_map(|(i, n)| {
            let (color, _) = series_style(i);
            run.get("queue", n, "oldest_age_s")
                .map(|a| Line::new(n.clone(), run.points(&a.values)).styled(color, Dash::Solid))
        })
        .collect();
    if let Some(v) = q.others(run, "oldest_age_s", Rest::Max) {
        lines.push(Line::new(q.others_name(Rest::Max), run.points(&v)).styled(GREY, Dash::Solid));
    }
    if lines.is_empty() {
        return None;
    }
    Some(run.time_chart(
        "Oldest message age",
        ("age of the oldest unacknowledged message", "s"),
        q.subtitle(
            "largest in each window; it climbs one second per second while the oldest message waits",
            Rest::Max,
        ),
        lines,
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
pub(super) fn queue_throughput(run: &Run, q: &Picked) -> Option<Chart> {
    let nonzero = |metric: &str| {
        q.names.iter().chain(&q.rest).any(|n| {
            run.get("queue", n, metric)
                .is_some_and(|sr| sr.values.iter().any(|v| v.is_finite() && *v != 0.0))
        })
    };
    let rates: Vec<_> = QUEUE_RATES
        .iter()
        .filter(|(m, _, _, _, always)| *always || nonzero(m))
        .collect();
    let mut panels = Vec::new();
    for n in &q.names {
        let lines: Vec<Line> = rates
            .iter()
            .filter_map(|(m, label, color, dash, _)| {
                run.get("queue", n, m)
                    .map(|sr| Line::new(*label, run.points(&sr.values)).styled(*color, *dash))
            })
            .collect();
        if !lines.is_empty() {
            panels.push((format!("queue {n}"), lines));
        }
    }
    let others: Vec<Line> = rates
        .iter()
        .filter_map(|(m, label, color, dash, _)| {
            q.others(run, m, Rest::Sum)
                .map(|v| Line::new(*label, run.points(&v)).styled(*color, *dash))
        })
        .collect();
    if !others.is_empty() {
        panels.push((
            format!("others: {} queues, summed", thousands(q.rest.len() as u64)),
            others,
        ));
    }
    if panels.is_empty() {
        return None;
    }
    Some(Chart::Panels(Panels {
        title: "Queue throughput".into(),
        subtitle: q.subtitle("messages per second, per window: a backlog grows while published stays above acknowledged; each panel has its own scale", Rest::Sum),
        x_label: TIME.into(),
        y_label: "messages per second".into(),
        panels,
        bands: run.bands.clone(),
        x_range: run.x_range,
    }))
}

pub(super) fn queue_lag(run: &Run, q: &Picked) -> Option<Chart> {
    let mut lines: Vec<Line> = q
        .names
        .iter()
        .enumerate()
        .filter_map(|(i, n)| {
            let (color, _) = series_style(i);
            run.get("queue", n, "lag_p99_ms").map(|sr| {
                Line::new(n.clone(), run.points(&gaps(&sr.values))).styled(color, Dash::Solid)
            })
        })
        .collect();
    if let Some(v) = q.others(run, "lag_p99_ms", Rest::Max) {
        lines.push(
            Line::new(q.others_name(Rest::Max), run.points(&gaps(&v))).styled(GREY, Dash::Solid),
        );
    }
    if lines.is_empty() {
        return None;
    }
    Some(run.time_chart(
        "Publish → ack lag p99",
        ("publish → acknowledgement, p99", "ms"),
        q.subtitle("99th percentile of the messages acknowledged in each window, from publish to ack; gaps: no ack in the window", Rest::Max),
        lines,
        true,
    ))
}
