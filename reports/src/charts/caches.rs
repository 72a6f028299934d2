//! The caches' chart: hit ratio over time, one line per cache, on 0–100 %
//! with the fault windows banded, so a flush reads as a drop and the
//! refill as the climb back.
//!
//! Owns which cache series it claims (`CLAIMED`: lookups per second and
//! keys held stay in "More series"). Must not draw.

use super::shared::Run;
use crate::plot::{Chart, Dash, Fmt, Line, series_style};

/// The cache series this chart shows ("More series" leaves them).
pub(super) const CLAIMED: &[&str] = &["hit_ratio"];

/// Hit ratio per window for every cache (in summary order), a gap where a
/// window had no lookups (the series holds 0 there, which is no ratio).
pub(super) fn hit_ratio(run: &Run) -> Option<Chart> {
    let names = run.names_in("cache", run.s.caches.keys());
    let mut lines = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let Some(ratio) = run.get("cache", name, "hit_ratio") else {
            continue;
        };
        let lookups = run.get("cache", name, "lookups_rps");
        let values: Vec<f64> = ratio
            .values
            .iter()
            .enumerate()
            .map(|(k, &v)| {
                let looked = lookups.is_none_or(|l| l.values.get(k).is_some_and(|&n| n > 0.0));
                if looked { v } else { f64::NAN }
            })
            .collect();
        let (color, _) = series_style(i);
        let label = match run.s.caches.get(name.as_str()) {
            Some(c) => format!("{name} ({:.0}% after the warm-up)", c.hit_ratio * 100.0),
            None => name.clone(),
        };
        lines.push(Line::new(label, run.points(&values)).styled(color, Dash::Solid));
    }
    if lines.is_empty() {
        return None;
    }
    let mut chart = run.time_chart(
        "Cache hit ratio",
        ("lookups that hit", ""),
        "Share of each window's lookups that hit. A flush (shaded) shows as a drop, and the \
         refill (each miss answered in time fills its key) as the climb back."
            .into(),
        lines,
        false,
    );
    if let Chart::Lines(c) = &mut chart {
        c.y_fmt = Fmt::Percent;
        c.y_range = Some((0.0, 1.0));
    }
    Some(chart)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim_core::output::{CacheSummary, Series, TimeSeries};

    #[test]
    fn one_line_per_cache_with_gaps_where_nothing_was_looked_up() {
        let mut s = crate::test_summary::empty_summary();
        (s.sim_duration_s, s.end_time_s) = (3.0, 3.0);
        s.caches.insert(
            "products".into(),
            CacheSummary {
                hit_ratio: 0.5,
                ..CacheSummary::default()
            },
        );
        let series = |metric: &str, values: Vec<f64>| Series {
            scope: "cache".into(),
            name: "products".into(),
            metric: metric.into(),
            values,
        };
        let ts = TimeSeries {
            window_s: 1.0,
            window_start_s: vec![0.0, 1.0, 2.0],
            window_end_s: vec![1.0, 2.0, 3.0],
            series: vec![
                series("hit_ratio", vec![0.7, 0.0, 0.1]),
                series("lookups_rps", vec![10.0, 0.0, 10.0]),
            ],
        };
        let run = Run::new(&s, &ts);
        let Some(Chart::Lines(c)) = hit_ratio(&run) else {
            panic!("a line chart");
        };
        assert_eq!(c.y_range, Some((0.0, 1.0)));
        assert_eq!(c.lines.len(), 1);
        assert_eq!(c.lines[0].name, "products (50% after the warm-up)");
        let ys: Vec<f64> = c.lines[0].points.iter().map(|p| p.1).collect();
        assert_eq!(ys[0], 0.7);
        assert!(ys[1].is_nan(), "no lookups: a gap, not a drop to 0");
        assert_eq!(ys[2], 0.1);
    }
}
