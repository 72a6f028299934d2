//! The Sagas section's charts: how sagas ended, per second over time (one
//! chart for every saga: completed, compensated and stuck, a colour per
//! ending), and each transactional outbox's depth over time — both with
//! the fault windows shaded, so a slow service reads as compensations or
//! stuck sagas in its window and a broker outage as an outbox filling up.
//!
//! Owns which `saga` and `outbox` series it claims (`CLAIMED_SAGA`,
//! `CLAIMED_OUTBOX`: the others stay in "More series"). Must not draw.

use super::shared::Run;
use crate::plot::{Chart, Dash, GREEN, Line, ORANGE, Rgb, VERMILLION, series_style};

/// The saga series the endings chart shows.
pub(super) const CLAIMED_SAGA: &[&str] = &["completed_rps", "compensated_rps", "stuck_rps"];
/// The outbox series the depth chart shows.
pub(super) const CLAIMED_OUTBOX: &[&str] = &["depth"];

/// Each ending's series, label and colour (the saga's own line style
/// tells several sagas apart).
const ENDINGS: [(&str, &str, Rgb); 3] = [
    ("completed_rps", "completed", GREEN),
    ("compensated_rps", "compensated", ORANGE),
    ("stuck_rps", "stuck", VERMILLION),
];

const DASHES: [Dash; 3] = [Dash::Solid, Dash::Dashed, Dash::Dotted];

/// Sagas completed, compensated and stuck per second, for every saga (in
/// summary order; a dash style per saga past the first).
pub(super) fn saga_endings(run: &Run) -> Option<Chart> {
    let names = run.names_in("saga", run.s.sagas.keys());
    let several = names.len() > 1;
    let mut lines = Vec::new();
    for (i, name) in names.iter().enumerate() {
        for (metric, ending, color) in ENDINGS {
            let Some(sr) = run.get("saga", name, metric) else {
                continue;
            };
            let total = run.s.sagas.get(name.as_str()).map(|g| match ending {
                "completed" => g.completed,
                "compensated" => g.compensated,
                _ => g.stuck,
            });
            let mut label = if several {
                format!("{name} {ending}")
            } else {
                ending.to_owned()
            };
            // A line zero throughout says so itself.
            if let Some(n) = total.filter(|&n| n > 0) {
                label.push_str(&format!(" ({})", crate::numbers::thousands(n)));
            }
            let dash = DASHES[i % DASHES.len()];
            lines.push(Line::new(label, run.points(&sr.values)).styled(color, dash));
        }
    }
    if lines.is_empty() {
        return None;
    }
    let which = if several {
        "every saga".to_owned()
    } else {
        format!("saga “{}”", names[0])
    };
    Some(run.time_chart(
        "How sagas ended",
        ("sagas per second", ""),
        format!(
            "{which}: sagas that ended in each window, by how (totals after the warm-up in \
             brackets). Compensated: a step failed and its done steps were undone; stuck: an \
             undo failed past its retries (or its orchestrator crashed), leaving side effects \
             nobody will undo. Shaded: fault windows."
        ),
        lines,
        false,
    ))
}

/// Records waiting in each service's outbox, per window.
pub(super) fn outbox_depth(run: &Run) -> Option<Chart> {
    let names = run.names_in("outbox", run.s.outboxes.keys());
    let mut lines = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let Some(sr) = run.get("outbox", name, "depth") else {
            continue;
        };
        let (color, dash) = series_style(i);
        let label = match run.s.outboxes.get(name.as_str()) {
            Some(o) => format!("{name} (max {})", crate::numbers::thousands(o.depth_max)),
            None => name.clone(),
        };
        lines.push(Line::new(label, run.points(&sr.values)).styled(color, dash));
    }
    if lines.is_empty() {
        return None;
    }
    Some(run.time_chart(
        "Outbox depth",
        ("records waiting in the outbox", ""),
        "Records each producer has written but its relay has not yet had acknowledged, at each \
         window's end. A broker outage (shaded) fills the outbox — nobody waits — and the relay \
         drains it, in order, after the recovery."
            .into(),
        lines,
        false,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim_core::output::{OutboxSummary, SagaSummary, Series, TimeSeries};

    fn series(scope: &str, name: &str, metric: &str, values: Vec<f64>) -> Series {
        Series {
            scope: scope.into(),
            name: name.into(),
            metric: metric.into(),
            values,
        }
    }

    #[test]
    fn one_line_per_ending_coloured_by_how_the_saga_ended() {
        let mut s = crate::test_summary::empty_summary();
        (s.sim_duration_s, s.end_time_s) = (2.0, 2.0);
        s.sagas.insert(
            "order".into(),
            SagaSummary {
                completed: 3,
                compensated: 1,
                ..SagaSummary::default()
            },
        );
        let ts = TimeSeries {
            window_s: 1.0,
            window_start_s: vec![0.0, 1.0],
            window_end_s: vec![1.0, 2.0],
            series: vec![
                series("saga", "order", "started_rps", vec![2.0, 2.0]),
                series("saga", "order", "completed_rps", vec![1.0, 2.0]),
                series("saga", "order", "compensated_rps", vec![1.0, 0.0]),
                series("saga", "order", "stuck_rps", vec![0.0, 0.0]),
            ],
        };
        let run = Run::new(&s, &ts);
        let Some(Chart::Lines(c)) = saga_endings(&run) else {
            panic!("a line chart");
        };
        let names: Vec<&str> = c.lines.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(names, ["completed (3)", "compensated (1)", "stuck"]);
        assert!(c.subtitle.contains("saga “order”"));
        assert!(outbox_depth(&run).is_none(), "no outbox, no chart");
    }

    #[test]
    fn outbox_depth_has_a_line_per_producer() {
        let mut s = crate::test_summary::empty_summary();
        (s.sim_duration_s, s.end_time_s) = (2.0, 2.0);
        s.outboxes.insert(
            "playback".into(),
            OutboxSummary {
                depth_max: 525,
                ..OutboxSummary::default()
            },
        );
        let ts = TimeSeries {
            window_s: 1.0,
            window_start_s: vec![0.0, 1.0],
            window_end_s: vec![1.0, 2.0],
            series: vec![series("outbox", "playback", "depth", vec![0.0, 525.0])],
        };
        let run = Run::new(&s, &ts);
        let Some(Chart::Lines(c)) = outbox_depth(&run) else {
            panic!("a line chart");
        };
        assert_eq!(c.lines.len(), 1);
        assert_eq!(c.lines[0].name, "playback (max 525)");
        assert!(saga_endings(&run).is_none(), "no saga, no chart");
    }
}
