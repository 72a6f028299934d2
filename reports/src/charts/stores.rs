//! The Versioned stores section's chart: committed writes and conflicts
//! per second over time, per store (a colour per store, writes solid,
//! conflicts dashed; with one store the conflicts in vermillion), with
//! the fault windows shaded — so Brooker's retry loop reads as the gap
//! between the two lines, and a store outage as both dropping to zero.
//!
//! Owns which `store` series it claims (`CLAIMED`: reads per second stay
//! in "More series"). Must not draw.

use super::shared::Run;
use crate::numbers::thousands;
use crate::plot::{Chart, Dash, Line, VERMILLION, series_style};

/// The store series this chart shows.
pub(super) const CLAIMED: &[&str] = &["writes_rps", "conflicts_rps"];

/// Writes committed and conflicts per second for every store (in summary
/// order), totals after the warm-up in the labels.
pub(super) fn writes_and_conflicts(run: &Run) -> Option<Chart> {
    let names = run.names_in("store", run.s.stores.keys());
    let several = names.len() > 1;
    let mut lines = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let summary = run.s.stores.get(name.as_str());
        let (color, _) = series_style(i);
        if let Some(w) = run.get("store", name, "writes_rps") {
            let mut label = if several {
                format!("{name} writes")
            } else {
                "writes committed".to_owned()
            };
            if let Some(s) = summary {
                label.push_str(&format!(" ({})", thousands(s.writes)));
            }
            lines.push(Line::new(label, run.points(&w.values)).styled(color, Dash::Solid));
        }
        if let Some(c) = run.get("store", name, "conflicts_rps") {
            let mut label = if several {
                format!("{name} conflicts")
            } else {
                "conflicts".to_owned()
            };
            if let Some(s) = summary {
                label.push_str(&format!(
                    " ({}, {:.1}% of conditional writes)",
                    thousands(s.conflicts),
                    s.conflict_ratio * 100.0
                ));
            }
            let color = if several { color } else { VERMILLION };
            lines.push(Line::new(label, run.points(&c.values)).styled(color, Dash::Dashed));
        }
    }
    if lines.is_empty() {
        return None;
    }
    Some(
        run.time_chart(
            "Writes and conflicts",
            ("writes and conflicts per second", ""),
            "Writes that committed (each a new version of its key) and conditional writes that \
         found their key's version moved since their read (conflicts, which fail their request; \
         a retry reads afresh), per window. Totals after the warm-up in brackets. Shaded: fault \
         windows."
                .into(),
            lines,
            false,
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim_core::output::{Series, StoreSummary, TimeSeries};

    #[test]
    fn writes_solid_and_conflicts_dashed_with_their_totals() {
        let mut s = crate::test_summary::empty_summary();
        (s.sim_duration_s, s.end_time_s) = (2.0, 2.0);
        s.stores.insert(
            "counter".into(),
            StoreSummary {
                writes: 50,
                conflicts: 234,
                conditional_writes: 284,
                conflict_ratio: 234.0 / 284.0,
                ..StoreSummary::default()
            },
        );
        let series = |metric: &str, values: Vec<f64>| Series {
            scope: "store".into(),
            name: "counter".into(),
            metric: metric.into(),
            values,
        };
        let ts = TimeSeries {
            window_s: 1.0,
            window_start_s: vec![0.0, 1.0],
            window_end_s: vec![1.0, 2.0],
            series: vec![
                series("reads_rps", vec![100.0, 100.0]),
                series("writes_rps", vec![20.0, 30.0]),
                series("conflicts_rps", vec![200.0, 34.0]),
            ],
        };
        let run = Run::new(&s, &ts);
        let Some(Chart::Lines(c)) = writes_and_conflicts(&run) else {
            panic!("a line chart");
        };
        let names: Vec<&str> = c.lines.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "writes committed (50)",
                "conflicts (234, 82.4% of conditional writes)"
            ]
        );
        assert_eq!(c.lines[1].points[0].1, 200.0);
        let empty = crate::test_summary::empty_summary();
        let none = TimeSeries {
            window_s: 1.0,
            window_start_s: vec![0.0],
            window_end_s: vec![1.0],
            series: Vec::new(),
        };
        assert!(writes_and_conflicts(&Run::new(&empty, &none)).is_none());
    }
}
