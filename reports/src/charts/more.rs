//! "More series": a chart per series family no other chart claims, so a
//! metric the engine adds shows up without a change here; families zero
//! throughout are listed instead of drawn.
//!
//! Owns `claimed` (which series the other charts already show: keep it in
//! step with them) and the titles of known families. Must not draw.

use std::collections::BTreeMap;

use sim_core::output::Series;

use super::entries::percentile_of;
use super::queues::QUEUE_RATES;
use super::shared::{Run, TIME, edge_title};
use super::top::{self, Rest};
use crate::plot::{Chart, Fmt, LineChart};

/// Title, y label and format of a series family the other charts leave.
fn describe(scope: &str, metric: &str) -> (String, String, Fmt) {
    let known = match (scope, metric) {
        ("entry", "error_rate") => {
            Some(("Error rate per entry", "failed ÷ finished", Fmt::Percent))
        }
        ("service", "arrivals_rps") => {
            Some(("Arrivals per service", "requests per second", Fmt::Number))
        }
        ("service", "completed_rps") => Some((
            "Completions per service",
            "requests per second",
            Fmt::Number,
        )),
        ("service", "rejected_rps") => Some((
            "Rejected by a full accept queue",
            "requests per second",
            Fmt::Number,
        )),
        ("service", "refused_rps") => Some((
            "Refused by a crashed replica",
            "requests per second",
            Fmt::Number,
        )),
        ("service", "reset_rps") => Some((
            "Reset by an OOM kill (requests cut off)",
            "requests per second",
            Fmt::Number,
        )),
        ("service", "orphaned_work") => Some((
            "Orphaned work per service",
            "threads busy for callers that gave up",
            Fmt::Number,
        )),
        ("service", "queue_len_max") => Some((
            "Longest accept queue per window",
            "requests waiting",
            Fmt::Number,
        )),
        ("service", "gc_pause_share") => Some((
            "Time stopped for garbage collection",
            "paused ÷ time (per replica)",
            Fmt::Percent,
        )),
        ("service", "utilization") => {
            Some(("Pool utilisation per service", "busy ÷ pool", Fmt::Percent))
        }
        ("edge", "calls_rps") => Some(("Calls per edge", "calls per second", Fmt::Number)),
        ("queue", "depth_max") => Some((
            "Deepest queue per window",
            "messages waiting (max)",
            Fmt::Number,
        )),
        ("queue", "consumers_busy") => Some((
            "Busy consumer workers per queue",
            "workers processing a message (mean)",
            Fmt::Number,
        )),
        ("queue", "depth") => Some(("Messages waiting per queue", "messages", Fmt::Number)),
        ("queue", "unacked") => {
            Some(("Unacknowledged messages per queue", "messages", Fmt::Number))
        }
        ("queue", "oldest_age_s") => Some(("Oldest message age per queue", "seconds", Fmt::Number)),
        ("queue", "lag_p99_ms") => Some(("Publish → ack lag p99 per queue", "ms", Fmt::Number)),
        ("edge", "attempts_rps") => Some((
            "Attempts per edge",
            "attempts per second (first tries, retries, hedges)",
            Fmt::Number,
        )),
        ("edge", "in_flight") => Some((
            "Calls in flight per edge",
            "calls waiting for an answer",
            Fmt::Number,
        )),
        ("edge", "breaker_open") => Some((
            "Open circuit breakers per edge",
            "breaker open (share of caller replicas)",
            Fmt::Percent,
        )),
        _ => None,
    };
    if let Some((t, y, f)) = known {
        return (t.into(), y.into(), f);
    }
    // The axis names the quantity (the metric in words) and its unit.
    let words = |suffix: &str| {
        metric
            .strip_suffix(suffix)
            .unwrap_or(metric)
            .replace('_', " ")
    };
    let (y, f) = if metric.ends_with("_rps") {
        (format!("{} per second", words("_rps")), Fmt::Number)
    } else if metric.ends_with("_ms") {
        (format!("{} (ms)", words("_ms")), Fmt::Number)
    } else if metric.ends_with("_s") {
        (format!("{} (s)", words("_s")), Fmt::Number)
    } else if metric.ends_with("_rate") || metric.ends_with("ratio") {
        (format!("{} (share)", words("")), Fmt::Percent)
    } else {
        (format!("{} (count)", words("")), Fmt::Number)
    };
    let title = if is_aggregate(scope) {
        format!("{} over all {scope}", metric.replace('_', " "))
    } else {
        format!("{} per {scope}", metric.replace('_', " "))
    };
    (title, y, f)
}

/// Whether `scope` is a wide model's aggregate over every name of a scope
/// (`series.rs`: scope `entries`, `services`, `edges` or `queues`, name
/// `all`), whose charts say "over all", not "per" or "of each".
fn is_aggregate(scope: &str) -> bool {
    matches!(scope, "entries" | "services" | "edges" | "queues")
}

/// Whether a chart above already shows this series.
fn claimed(scope: &str, metric: &str) -> bool {
    match scope {
        "entry" => percentile_of(metric).is_some() || metric.ends_with("_rps"),
        "service" => {
            matches!(metric, "busy_threads" | "utilization" | "queue_len")
                || super::runtime::CLAIMED.contains(&metric)
                || super::outlier::CLAIMED.contains(&metric)
        }
        "edge" => metric.ends_with("_rps") && !super::edges::NOT_FAILURES.contains(&metric),
        "cache" => super::caches::CLAIMED.contains(&metric),
        "partition" => metric == "lag_records",
        "saga" => super::sagas::CLAIMED_SAGA.contains(&metric),
        "outbox" => super::sagas::CLAIMED_OUTBOX.contains(&metric),
        "store" => super::stores::CLAIMED.contains(&metric),
        "queue" => {
            matches!(metric, "depth" | "unacked" | "oldest_age_s" | "lag_p99_ms")
                || QUEUE_RATES.iter().any(|r| r.0 == metric)
        }
        _ => false,
    }
}

type MoreSeries = (Vec<(String, Chart)>, Vec<String>);

/// How the members a family's chart leaves out combine: shares, latencies,
/// ages and per-window maxima by their maximum, everything else summed.
fn rest_of(metric: &str, fmt: Fmt) -> Rest {
    let not_additive = fmt == Fmt::Percent
        || ["_ms", "_s", "_max"].iter().any(|u| metric.ends_with(u))
        || metric == "breaker_open";
    if not_additive { Rest::Max } else { Rest::Sum }
}

pub(super) fn more_series(run: &Run) -> MoreSeries {
    // Families in first-seen order, each with its members in file order.
    let mut index: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    let mut families: Vec<((&str, &str), Vec<&Series>)> = Vec::new();
    for sr in &run.ts.series {
        if claimed(&sr.scope, &sr.metric) {
            continue;
        }
        let k = *index.entry((&sr.scope, &sr.metric)).or_insert_with(|| {
            families.push(((&sr.scope, &sr.metric), Vec::new()));
            families.len() - 1
        });
        families[k].1.push(sr);
    }
    let mut charts = Vec::new();
    let mut omitted = Vec::new();
    for ((scope, metric), mut members) in families {
        if scope == "service" {
            members.sort_by_cached_key(|sr| run.position(&sr.name));
        }
        if members
            .iter()
            .all(|sr| sr.values.iter().all(|v| !v.is_finite() || *v == 0.0))
        {
            omitted.push(format!("{scope} {metric}"));
            continue;
        }
        let (title, y, fmt) = describe(scope, metric);
        let items: Vec<(String, &[f64])> = members
            .iter()
            .map(|sr| {
                let name = if scope == "edge" {
                    edge_title(&sr.name)
                } else {
                    sr.name.clone()
                };
                (name, sr.values.as_slice())
            })
            .collect();
        let (items, note) = top::limit(items, rest_of(metric, fmt));
        let mut c = LineChart::new(title, TIME, y);
        let what = if is_aggregate(scope) {
            format!("series “{metric}” over all {scope} (name “all”), per window")
        } else {
            format!("series “{metric}” of each {scope}, per window")
        };
        c.subtitle = top::subtitle(&what, note.as_deref());
        c.y_fmt = fmt;
        c.lines = items
            .iter()
            .map(|it| it.line(run.points(&it.values)))
            .collect();
        c.bands = run.bands.clone();
        c.x_range = run.x_range;
        charts.push((format!("{scope}-{metric}"), Chart::Lines(c)));
    }
    (charts, omitted)
}

#[cfg(test)]
mod tests {
    use super::describe;

    #[test]
    fn an_aggregate_reads_over_all_not_per() {
        assert_eq!(describe("entries", "p99_ms").0, "p99 ms over all entries");
        assert_eq!(describe("queues", "depth").0, "depth over all queues");
        assert_eq!(describe("entry", "timeout_rps").0, "timeout rps per entry");
        assert_eq!(describe("queue", "depth").0, "Messages waiting per queue");
    }
}
