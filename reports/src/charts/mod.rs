//! Which charts a run gets, built from its summary and time series.
//!
//! Data-driven where it can be: the charts pick their series by scope and
//! metric name (every `p…_ms` of an entry is a latency line, every `…_rps`
//! of an entry but arrivals and throughput is a stacked outcome, every
//! `…_rps` of an edge but calls is a failure line), and any series no chart
//! claims gets a chart of its own in "More series". A new metric in a known
//! scope therefore shows up without a change here. Message queues (the
//! `queue` scope) get their own charts: backlog, oldest message age,
//! throughput and publish → ack lag.
//!
//! One module per report section: `entries`, `services`, `edges`,
//! `queues`, `cdf` (the latency distribution), `topology`, `more` (every
//! series no other chart claims), and `overlay` for charts of several
//! runs (`cascade compare`); `shared` holds the lookups, call order,
//! bands and time axis they all use. Must not draw (that is `plot`) nor
//! write files.

use std::collections::BTreeSet;

use sim_core::output::RunResult;

use crate::plot::Chart;

mod cdf;
mod edges;
mod entries;
mod more;
mod overlay;
mod queues;
mod services;
mod shared;
mod topology;

pub use overlay::{ENTRY_P99, Overlay, QUEUE_LAG, overlay};
use shared::{bands, midpoints, names_in, window_of, x_range};
pub use shared::{fault_label, ratio, service_order, split_edge};

/// Where a chart belongs in the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Topology,
    Entries,
    Services,
    Edges,
    Queues,
    Distribution,
    More,
}

/// A chart and the file stem it is saved under (`<stem>.svg`, `.png`).
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    pub stem: String,
    pub section: Section,
    pub chart: Chart,
}

/// The charts of a run, in report order, and the series left out because
/// they were zero throughout (as `scope metric` names).
pub fn figures(r: &RunResult) -> (Vec<Figure>, Vec<String>) {
    let s = &r.summary;
    let ts = &r.timeseries;
    let order = service_order(s, ts);
    let bands = bands(s, ts);
    let x_range = x_range(ts);
    let xs = midpoints(ts);
    let mut out = Vec::new();
    let mut stems = BTreeSet::new();
    let mut push = |stem: String, section: Section, chart: Chart, out: &mut Vec<Figure>| {
        let stem = unique_stem(&stem, &mut stems);
        out.push(Figure {
            stem,
            section,
            chart,
        });
    };

    if !s.services.is_empty() || !s.entries.is_empty() {
        push(
            "topology".into(),
            Section::Topology,
            topology::topology(s, ts, &order),
            &mut out,
        );
    }
    for entry in names_in(ts, "entry", s.entries.keys()) {
        if let Some(c) = entries::latency_chart(ts, &entry, &xs, &bands, x_range, window_of(ts)) {
            push(format!("latency-{entry}"), Section::Entries, c, &mut out);
        }
        if let Some(c) = entries::outcomes_chart(ts, &entry, &xs, &bands, x_range) {
            push(format!("outcomes-{entry}"), Section::Entries, c, &mut out);
        }
    }
    if let Some(c) = services::saturation(s, ts, &order, &bands) {
        push("saturation".into(), Section::Services, c, &mut out);
    }
    if let Some(c) = services::queues(ts, &order, &xs, &bands, x_range) {
        push("queues".into(), Section::Services, c, &mut out);
    }
    if let Some(c) = edges::edge_panels(s, ts, &order, &xs, &bands, x_range) {
        push("edges".into(), Section::Edges, c, &mut out);
    }
    let queue_names = names_in(ts, "queue", s.queues.keys());
    for (stem, c) in [
        (
            "queue-backlog",
            queues::queue_backlog(ts, &queue_names, &xs, &bands, x_range),
        ),
        (
            "queue-age",
            queues::queue_age(ts, &queue_names, &xs, &bands, x_range),
        ),
        (
            "queue-throughput",
            queues::queue_throughput(ts, &queue_names, &xs, &bands, x_range),
        ),
        (
            "queue-lag",
            queues::queue_lag(ts, &queue_names, &xs, &bands, x_range),
        ),
    ] {
        if let Some(c) = c {
            push(stem.into(), Section::Queues, c, &mut out);
        }
    }
    if let Some(c) = cdf::latency_cdf(s) {
        push("latency-cdf".into(), Section::Distribution, c, &mut out);
    }
    let (more, omitted) = more::more_series(ts, &order, &xs, &bands, x_range);
    for (stem, c) in more {
        push(stem, Section::More, c, &mut out);
    }
    (out, omitted)
}

/// A file stem from a user-chosen name: letters, digits, `-`, `_`, `.`
/// kept, anything else `_`; made unique among `taken`.
fn unique_stem(raw: &str, taken: &mut BTreeSet<String>) -> String {
    let mut base: String = raw
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    base.truncate(80);
    if base.is_empty() {
        base = "chart".into();
    }
    let mut stem = base.clone();
    let mut k = 2;
    while !taken.insert(stem.clone()) {
        stem = format!("{base}-{k}");
        k += 1;
    }
    stem
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stems_are_safe_and_unique() {
        let mut t = BTreeSet::new();
        assert_eq!(unique_stem("latency-a/b", &mut t), "latency-a_b");
        assert_eq!(unique_stem("latency-a?b", &mut t), "latency-a_b-2");
        assert_eq!(unique_stem("../x", &mut t), "___x");
    }
}
