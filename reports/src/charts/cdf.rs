//! The latency distribution: each entry's cumulative share of successful
//! requests by latency, over the measured period.
//!
//! Must not read the time series: the CDF comes from the summary.

use super::shared::Run;
use super::top;
use crate::plot::{Chart, Fmt, Line, LineChart, Scale};

/// One line per entry; past `FILES` entries, those `entries::pick` keeps
/// (CDFs do not add up: the others are left out, not combined).
pub(super) fn latency_cdf(run: &Run) -> Option<Chart> {
    let s = run.s;
    let names: Vec<String> = s
        .entries
        .iter()
        .filter(|(_, e)| !e.latency_cdf_ms.is_empty())
        .map(|(n, _)| n.clone())
        .collect();
    if names.is_empty() {
        return None;
    }
    let p = super::entries::pick(run, &names);
    let lines: Vec<Line> = p
        .kept
        .iter()
        .map(|&i| {
            let n = &names[i];
            let cdf = &s.entries[n].latency_cdf_ms;
            Line::new(n.clone(), cdf.iter().map(|[q, ms]| (*ms, *q)).collect())
        })
        .collect();
    let mut c = LineChart::new(
        "End-to-end latency distribution",
        "latency (ms, log scale)",
        "requests answered within x (%)",
    );
    let note = p
        .limited()
        .then(|| format!("{}; the others are not drawn", super::entries::which(&p)));
    c.subtitle = top::subtitle(
        "cumulative share of successful requests by latency, over the measured period",
        note.as_deref(),
    );
    c.x_scale = Scale::Log;
    c.y_fmt = Fmt::Percent;
    c.y_range = Some((0.0, 1.0));
    c.lines = lines;
    Some(Chart::Lines(c))
}
