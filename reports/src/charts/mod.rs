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
//! One module per report section: `entries`, `services` (with `caches`:
//! the hit ratio, and `runtime`), `edges`,
//! `queues`, `sagas` (how sagas ended, outbox depth), `stores` (writes and
//! conflicts), `cdf` (the latency distribution), `topology`, `more` (every
//! series no other chart claims), `zoom` (a long run's charts around each
//! fault), and `overlay` for charts of several
//! runs (`cascade compare`); `shared` holds the lookups, call order,
//! bands and time axis they all use. Must not draw (that is `plot`) nor
//! write files.

use std::collections::BTreeSet;

use sim_core::output::RunResult;

use crate::numbers::thousands;
use crate::plot::Chart;

mod caches;
mod cdf;
mod edges;
mod entries;
mod logs;
mod more;
mod outlier;
mod overlay;
mod queues;
mod runtime;
mod sagas;
mod services;
mod shared;
mod stores;
mod sweep;
pub(crate) mod top;
mod topology;
mod topology_logs;
mod zoom;

pub use overlay::{ENTRY_P99, Overlay, QUEUE_LAG, overlay};
use shared::{Run, window_of};
pub use shared::{fault_label, ratio, service_order, split_edge};
pub use sweep::{numeric as sweep_value, sweep_charts};

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
    /// Sagas and transactional outboxes (`sagas`).
    Sagas,
    /// Versioned stores (`stores`).
    Stores,
}

/// A chart and the file stem it is saved under (`<stem>.svg`, `.png`).
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    pub stem: String,
    pub section: Section,
    pub chart: Chart,
}

/// What a run's report draws.
#[derive(Debug, Clone, PartialEq)]
pub struct Figures {
    /// The charts, in report order.
    pub figures: Vec<Figure>,
    /// Series families left out because they were zero throughout (as
    /// `scope metric` names).
    pub omitted: Vec<String>,
    /// What a section does not draw, and why (a run of thousands of
    /// entries or services: see `top`).
    pub notes: Vec<(Section, String)>,
}

/// The charts of a run, in report order, and what they leave out.
pub fn figures(r: &RunResult) -> Figures {
    let run = Run::new(&r.summary, &r.timeseries);
    let s = run.s;
    let mut out = Vec::new();
    let mut notes = Vec::new();
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
        match topology::topology(&run) {
            Ok(c) => push("topology".into(), Section::Topology, c, &mut out),
            Err(why) => notes.push((Section::Topology, why)),
        }
    }
    let names = run.names_in("entry", s.entries.keys());
    let picked = entries::pick(&run, &names);
    if picked.limited() {
        // A wide model keeps series for some entries only (`series.rs`):
        // the charts are picked among those, the table from them all.
        let kept = if names.len() < s.entries.len() {
            format!(
                ". Series are kept for {} of the {} entries, so the charts are picked among those",
                thousands(names.len() as u64),
                thousands(s.entries.len() as u64)
            )
        } else {
            String::new()
        };
        notes.push((
            Section::Entries,
            format!(
                "Charts of {}{kept}; the table lists every entry, or past {} those with the most failed requests.",
                entries::which(&picked),
                top::TABLE_ROWS
            ),
        ));
    }
    for &i in &picked.kept {
        let entry = &names[i];
        if let Some(c) = entries::latency_chart(&run, entry, window_of(run.ts)) {
            push(format!("latency-{entry}"), Section::Entries, c, &mut out);
        }
        if let Some(c) = entries::outcomes_chart(&run, entry) {
            push(format!("outcomes-{entry}"), Section::Entries, c, &mut out);
        }
    }
    // A long run: each fault's entry charts again, zoomed on the fault.
    if zoom::needed(&run) {
        for k in 0..s.faults.len() {
            let Some(span) = zoom::span(&run, k) else {
                continue;
            };
            for &i in &picked.kept {
                let entry = &names[i];
                if let Some(c) = entries::latency_chart(&run, entry, window_of(run.ts)) {
                    let c = zoom::zoom(c, &run, k, span);
                    push(
                        format!("latency-{entry}-fault-{k}"),
                        Section::Entries,
                        c,
                        &mut out,
                    );
                }
                if let Some(c) = entries::outcomes_chart(&run, entry) {
                    let c = zoom::zoom(c, &run, k, span);
                    push(
                        format!("outcomes-{entry}-fault-{k}"),
                        Section::Entries,
                        c,
                        &mut out,
                    );
                }
            }
        }
    }
    if let Some(c) = services::saturation(&run) {
        push("saturation".into(), Section::Services, c, &mut out);
    }
    if let Some(c) = services::queues(&run) {
        push("queues".into(), Section::Services, c, &mut out);
    }
    if let Some(c) = caches::hit_ratio(&run) {
        push("cache-hit-ratio".into(), Section::Services, c, &mut out);
    }
    if let Some(c) = runtime::memory(&run) {
        push("memory".into(), Section::Services, c, &mut out);
    }
    if let Some(c) = runtime::connections(&run) {
        push("connections".into(), Section::Services, c, &mut out);
    }
    if let Some(c) = outlier::ejection(&run) {
        push("ejection".into(), Section::Services, c, &mut out);
    }
    if let Some(c) = edges::edge_panels(&run) {
        push("edges".into(), Section::Edges, c, &mut out);
    }
    let q = queues::Picked::new(&run, run.names_in("queue", s.queues.keys()));
    for (stem, c) in [
        ("queue-backlog", queues::queue_backlog(&run, &q)),
        ("queue-age", queues::queue_age(&run, &q)),
        ("queue-throughput", queues::queue_throughput(&run, &q)),
        ("queue-lag", queues::queue_lag(&run, &q)),
    ] {
        if let Some(c) = c {
            push(stem.into(), Section::Queues, c, &mut out);
        }
    }
    for (group, c) in logs::partition_lag(&run) {
        push(format!("log-lag-{group}"), Section::Queues, c, &mut out);
    }
    for (stem, c) in [
        ("saga-endings", sagas::saga_endings(&run)),
        ("outbox-depth", sagas::outbox_depth(&run)),
    ] {
        if let Some(c) = c {
            push(stem.into(), Section::Sagas, c, &mut out);
        }
    }
    if let Some(c) = stores::writes_and_conflicts(&run) {
        push("store-writes".into(), Section::Stores, c, &mut out);
    }
    if let Some(c) = cdf::latency_cdf(&run) {
        push("latency-cdf".into(), Section::Distribution, c, &mut out);
    }
    let (more, omitted) = more::more_series(&run);
    for (stem, c) in more {
        push(stem, Section::More, c, &mut out);
    }
    Figures {
        figures: out,
        omitted,
        notes,
    }
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
