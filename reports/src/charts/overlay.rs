//! Overlays of several runs: one time series of every labelled run on one
//! chart, for `cascade compare` (p99 latency per entry, publish → ack lag
//! per queue).
//!
//! Owns the overlay's lines (one per run and entry or queue, the first run
//! solid and the others dashed or dotted over it), its title, subtitle and
//! bands (the first run's faults and warm-up). Must not run anything nor
//! write files: the caller gathers the runs and saves the chart.

use sim_core::output::RunResult;

use super::shared::{bands_from, time_chart};
use crate::numbers::short;
use crate::plot::{Chart, Dash, Line, series_style};

/// A time series drawn for every run on one overlay chart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Overlay {
    pub scope: &'static str,
    pub metric: &'static str,
    /// "p99 latency", "publish → ack lag p99".
    pub what: &'static str,
    /// The subtitle's description of one value.
    pub per_window: &'static str,
}

/// Each entry's p99 latency of successful requests.
pub const ENTRY_P99: Overlay = Overlay {
    scope: "entry",
    metric: "p99_ms",
    what: "p99 latency",
    per_window: "p99 of successful requests",
};

/// Each queue's publish → acknowledgement lag, p99.
pub const QUEUE_LAG: Overlay = Overlay {
    scope: "queue",
    metric: "lag_p99_ms",
    what: "publish → ack lag p99",
    per_window: "p99 of publish → ack",
};

/// `o` over time for every entry (or queue) of every run, on one chart;
/// `runs` pairs each run with its label, the first being the baseline
/// whose faults are shaded. `None` when no run has the series.
pub fn overlay(runs: &[(&str, &RunResult)], o: &Overlay) -> Option<Chart> {
    let (_, first) = *runs.first()?;
    let mut items: Vec<&str> = Vec::new();
    for (_, r) in runs {
        for s in &r.timeseries.series {
            if s.scope == o.scope && s.metric == o.metric && !items.contains(&s.name.as_str()) {
                items.push(&s.name);
            }
        }
    }
    if items.is_empty() {
        return None;
    }
    let labels: Vec<&str> = runs.iter().map(|(l, _)| *l).collect();
    let mut lines = Vec::new();
    for item in &items {
        for (k, (label, r)) in runs.iter().enumerate() {
            let ts = &r.timeseries;
            let Some(s) = ts
                .series
                .iter()
                .find(|s| s.scope == o.scope && s.metric == o.metric && s.name == *item)
            else {
                continue;
            };
            // A window without a success (or an ack) has no latency: a gap.
            let points = ts
                .window_start_s
                .iter()
                .zip(&ts.window_end_s)
                .zip(&s.values)
                .map(|((a, b), v)| ((a + b) / 2.0, if *v > 0.0 { *v } else { f64::NAN }))
                .collect();
            let name = if items.len() == 1 {
                (*label).to_owned()
            } else {
                format!("{label} · {item}")
            };
            // The first run solid, the others dashed or dotted over it:
            // where common random numbers keep runs identical, both lines
            // stay visible.
            let dash = match k {
                0 => Dash::Solid,
                1 => Dash::Dashed,
                _ => Dash::Dotted,
            };
            let color = series_style(lines.len()).0;
            lines.push(Line::new(name, points).styled(color, dash));
        }
    }
    let title = if items.len() == 1 {
        format!(
            "{} over time · {} · {}",
            o.what,
            items[0],
            labels.join(" vs ")
        )
    } else {
        format!("{} over time · {}", o.what, labels.join(" vs "))
    };
    let a = &first.summary;
    let subtitle = format!(
        "{} per {} s window · seed {}{} · shaded: faults of {} · where runs agree the lines coincide",
        o.per_window,
        short(first.timeseries.window_s),
        a.seed,
        if runs.iter().all(|(_, r)| r.summary.seed == a.seed) {
            " (the same for all)"
        } else {
            " (first scenario's)"
        },
        labels[0]
    );
    let start = runs
        .iter()
        .filter_map(|(_, r)| r.timeseries.window_start_s.first().copied())
        .fold(f64::INFINITY, f64::min);
    let end = runs
        .iter()
        .filter_map(|(_, r)| r.timeseries.window_end_s.last().copied())
        .fold(f64::NEG_INFINITY, f64::max);
    Some(time_chart(
        title,
        (o.what, "ms"),
        subtitle,
        lines,
        &bands_from(a, start),
        (end > start).then_some((start, end)),
        true,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use indexmap::IndexMap;
    use sim_core::output::{Series, Summary, TimeSeries};

    fn run(seed: u64, lag: &[f64]) -> RunResult {
        let summary = Summary {
            scenario: "t".into(),
            seed,
            version: "0".into(),
            scenario_hash: "0".into(),
            overrides: Vec::new(),
            sim_duration_s: 3.0,
            warmup_s: 0.0,
            end_time_s: 3.0,
            events: 0,
            partial: None,
            entries: IndexMap::new(),
            services: IndexMap::new(),
            edges: IndexMap::new(),
            clients: IndexMap::new(),
            amplification: IndexMap::new(),
            queues: IndexMap::new(),
            caches: IndexMap::new(),
            classes: IndexMap::new(),
            logs: Default::default(),
            sagas: IndexMap::new(),
            outboxes: IndexMap::new(),
            polls: IndexMap::new(),
            stores: IndexMap::new(),
            faults: Vec::new(),
            recovery: Vec::new(),
            slo: Vec::new(),
        };
        let timeseries = TimeSeries {
            window_s: 1.0,
            window_start_s: (0..lag.len()).map(|i| i as f64).collect(),
            window_end_s: (1..=lag.len()).map(|i| i as f64).collect(),
            series: vec![Series {
                scope: "queue".into(),
                name: "q".into(),
                metric: "lag_p99_ms".into(),
                values: lag.to_vec(),
            }],
        };
        RunResult {
            summary,
            timeseries,
        }
    }

    #[test]
    fn one_line_per_run_first_solid_empty_windows_as_gaps() {
        let (a, b) = (run(7, &[3.0, 0.0, 5.0]), run(7, &[4.0, 6.0, 2.0]));
        let Some(Chart::Lines(c)) = overlay(&[("sync", &a), ("async", &b)], &QUEUE_LAG) else {
            panic!("an overlay of two runs with the series");
        };
        assert_eq!(
            c.title,
            "publish → ack lag p99 over time · q · sync vs async"
        );
        assert!(
            c.subtitle
                .contains("per 1 s window · seed 7 (the same for all)")
        );
        let names: Vec<&str> = c.lines.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(names, ["sync", "async"]);
        assert_eq!(c.lines[0].style.map(|s| s.1), Some(Dash::Solid));
        assert_eq!(c.lines[1].style.map(|s| s.1), Some(Dash::Dashed));
        assert!(c.lines[0].points[1].1.is_nan());
        assert_eq!(c.lines[0].points[2], (2.5, 5.0));
        assert_eq!(c.x_range, Some((0.0, 3.0)));
        assert!(overlay(&[("sync", &a)], &ENTRY_P99).is_none());
    }
}
