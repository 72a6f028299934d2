//! The latency distribution: each entry's cumulative share of successful
//! requests by latency, over the measured period.
//!
//! Must not read the time series: the CDF comes from the summary.

use sim_core::output::Summary;

use crate::plot::{Chart, Fmt, Line, LineChart, Scale};

pub(super) fn latency_cdf(s: &Summary) -> Option<Chart> {
    let lines: Vec<Line> = s
        .entries
        .iter()
        .filter(|(_, e)| !e.latency_cdf_ms.is_empty())
        .map(|(n, e)| {
            Line::new(
                n.clone(),
                e.latency_cdf_ms.iter().map(|[q, ms]| (*ms, *q)).collect(),
            )
        })
        .collect();
    if lines.is_empty() {
        return None;
    }
    let mut c = LineChart::new(
        "End-to-end latency distribution",
        "latency (ms, log scale)",
        "requests answered within x (%)",
    );
    c.subtitle =
        "cumulative share of successful requests by latency, over the measured period".into();
    c.x_scale = Scale::Log;
    c.y_fmt = Fmt::Percent;
    c.y_range = Some((0.0, 1.0));
    c.lines = lines;
    Some(Chart::Lines(c))
}
