//! An entry's charts: latency percentiles over time, and its outcomes
//! (goodput and each kind of failure) stacked under the offered load.
//!
//! Owns which entry series are latency lines (`p…_ms`) and outcome layers
//! (every `…_rps` but arrivals and throughput). Must not draw.

use sim_core::output::Series;

use super::shared::{Run, TIME};
use super::top::{FILES, Pick, TOP_FILES, pick_by};
use crate::numbers::{short, thousands};
use crate::plot::{
    BLACK, BLUE, Chart, Dash, GREEN, Layer, Line, ORANGE, PURPLE, SKY, StackedChart, VERMILLION,
    YELLOW,
};

/// `p999_ms` → 99.9, `p50_ms` → 50.
pub(super) fn percentile_of(metric: &str) -> Option<f64> {
    let digits = metric.strip_prefix('p')?.strip_suffix("_ms")?;
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let v: f64 = if digits.len() > 2 {
        format!("{}.{}", &digits[..2], &digits[2..]).parse().ok()?
    } else {
        digits.parse().ok()?
    };
    Some(v)
}

/// Which of `names` (entries) get charts of their own: every one, or past
/// `FILES` the `TOP_FILES` with the most failed requests, then the most
/// requests (from the summary; an entry it lacks counts as none).
pub(super) fn pick(run: &Run, names: &[String]) -> Pick {
    let scores: Vec<(f64, f64)> = names
        .iter()
        .map(|n| {
            run.s.entries.get(n).map_or((0.0, 0.0), |e| {
                let failed = e.failed.timeout + e.failed.rejected + e.failed.error;
                (failed as f64, e.requests as f64)
            })
        })
        .collect();
    pick_by(&scores, FILES, TOP_FILES)
}

/// Which entries a limited `pick` kept: `the 10 of 500 entries with the
/// most failed requests (then the most requests)`.
pub(super) fn which(p: &Pick) -> String {
    format!(
        "the {} of {} entries with the most failed requests (then the most requests)",
        p.kept.len(),
        thousands((p.kept.len() + p.rest.len()) as u64)
    )
}

pub(super) fn latency_chart(run: &Run, entry: &str, window: f64) -> Option<Chart> {
    let mut lat: Vec<(f64, &Series)> = run
        .series_of("entry", entry)
        .filter_map(|sr| Some((percentile_of(&sr.metric)?, sr)))
        .collect();
    if lat.is_empty() {
        return None;
    }
    lat.sort_by(|a, b| a.0.total_cmp(&b.0));
    // A window without a successful request has no latency: a gap, not 0.
    let clean = |v: &[f64]| -> Vec<f64> {
        v.iter()
            .map(|x| if *x > 0.0 { *x } else { f64::NAN })
            .collect()
    };
    let ordered = [SKY, VERMILLION, BLACK];
    let lines: Vec<Line> = lat
        .iter()
        .enumerate()
        .map(|(i, (p, sr))| {
            let line = Line::new(format!("p{}", short(*p)), run.points(&clean(&sr.values)));
            if lat.len() <= ordered.len() {
                line.styled(ordered[i], Dash::Solid)
            } else {
                line
            }
        })
        .collect();
    Some(run.time_chart(
        format!("Latency over time · {entry}"),
        ("latency", "ms"),
        format!(
            "percentiles of successful requests answered in each {} s window; gaps: no success in the window",
            short(window)
        ),
        lines,
        true,
    ))
}

fn is_zero(values: &[f64]) -> bool {
    values.iter().all(|v| *v == 0.0 || !v.is_finite())
}

fn outcome_base(metric: &str) -> String {
    match metric {
        "goodput_rps" => "ok (goodput)".into(),
        "timeout_rps" => "timed out".into(),
        "rejected_rps" => "rejected".into(),
        "error_rps" => "error".into(),
        m => m.strip_suffix("_rps").unwrap_or(m).replace('_', " "),
    }
}

pub(super) fn outcomes_chart(run: &Run, entry: &str) -> Option<Chart> {
    let mine: Vec<&Series> = run.series_of("entry", entry).collect();
    let good = mine.iter().find(|sr| sr.metric == "goodput_rps");
    let failures: Vec<&&Series> = mine
        .iter()
        .filter(|sr| {
            sr.metric.ends_with("_rps")
                && !matches!(
                    sr.metric.as_str(),
                    "arrivals_rps" | "throughput_rps" | "goodput_rps"
                )
        })
        .collect();
    if good.is_none() && failures.is_empty() {
        return None;
    }
    let fail_colors = [ORANGE, VERMILLION, PURPLE, YELLOW, SKY, BLUE];
    let mut layers = Vec::new();
    if let Some(g) = good {
        layers.push(Layer {
            name: outcome_base(&g.metric),
            values: g.values.clone(),
            color: GREEN,
        });
    }
    // Only the outcomes that happened get a layer and a legend entry; each
    // keeps its colour whichever others are absent.
    let mut absent = Vec::new();
    for (i, f) in failures.iter().enumerate() {
        if is_zero(&f.values) {
            absent.push(outcome_base(&f.metric));
            continue;
        }
        layers.push(Layer {
            name: outcome_base(&f.metric),
            values: f.values.clone(),
            color: fail_colors[i % fail_colors.len()],
        });
    }
    let mut subtitle =
        "requests finished per second, stacked by outcome (the top edge is throughput)".to_owned();
    if !absent.is_empty() {
        subtitle.push_str(&format!("; none {}", absent.join(", none ")));
    }
    let overlays = mine
        .iter()
        .find(|sr| sr.metric == "arrivals_rps")
        .map(|a| {
            vec![
                Line::new("arrivals (offered load)", run.points(&a.values))
                    .styled(BLACK, Dash::Solid),
            ]
        })
        .unwrap_or_default();
    Some(Chart::Stacked(StackedChart {
        title: format!("Throughput, goodput and errors · {entry}"),
        subtitle,
        x_label: TIME.into(),
        y_label: "requests per second".into(),
        x: run.xs.clone(),
        layers,
        overlays,
        bands: run.bands.clone(),
        x_range: run.x_range,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentile_names() {
        assert_eq!(percentile_of("p50_ms"), Some(50.0));
        assert_eq!(percentile_of("p999_ms"), Some(99.9));
        assert_eq!(percentile_of("p9999_ms"), Some(99.99));
        assert_eq!(percentile_of("queue_ms"), None);
    }
}
