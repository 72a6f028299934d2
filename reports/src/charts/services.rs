//! The services' charts: saturation (busy threads ÷ pool, a heat strip in
//! call order) and accept queue lengths.
//!
//! Owns the saturation figure (busy ÷ pool from the summary's pool size,
//! else the engine's utilisation series). Must not draw.

use sim_core::output::Summary;

use super::shared::{Run, TIME};
use super::top::{self, ROWS, Rest, TOP_ROWS};
use crate::plot::{Chart, Fmt, HeatStrip};

pub(super) fn pool(s: &Summary, name: &str) -> Option<f64> {
    s.services
        .get(name)
        .map(|sv| f64::from(sv.threads) * f64::from(sv.replicas.max(1)))
        .filter(|p| *p > 0.0)
}

/// busy threads ÷ pool size per window, or the engine's utilisation series
/// when the pool size is unknown or changes (autoscaling).
///
/// An event loop's row is its fullest resource: loops busy, or connections
/// ÷ `max_connections` when bounded; a service with memory, the larger of
/// that and memory (peak per window) ÷ limit.
pub(super) fn saturation_values(run: &Run, name: &str) -> Option<Vec<f64>> {
    let sv = run.s.services.get(name);
    let mut values: Vec<f64> = match sv.and_then(|v| v.event_loop.as_ref()) {
        Some(l) => {
            let mut u = run.get("service", name, "loop_utilization")?.values.clone();
            if let (Some(limit), Some(c)) =
                (l.max_connections, run.get("service", name, "connections"))
            {
                let total = f64::from(limit) * f64::from(sv.map_or(1, |v| v.replicas.max(1)));
                for (x, c) in u.iter_mut().zip(&c.values) {
                    *x = x.max(c / total);
                }
            }
            u
        }
        None => {
            // An autoscaled pool changes size: the engine's utilisation is
            // over the replicas that existed in each window.
            let fixed = sv.is_none_or(|v| v.autoscale.is_none());
            if let (true, Some(busy), Some(p)) = (
                fixed,
                run.get("service", name, "busy_threads"),
                pool(run.s, name),
            ) {
                busy.values.iter().map(|v| v / p).collect()
            } else {
                run.get("service", name, "utilization")?.values.clone()
            }
        }
    };
    if let (Some(peak), Some(limit)) = (
        run.get("service", name, "memory_max_mib"),
        run.get("service", name, "memory_limit_mib"),
    ) {
        for ((x, p), l) in values.iter_mut().zip(&peak.values).zip(&limit.values) {
            if *l > 0.0 {
                *x = x.max((p / l).min(1.0));
            }
        }
    }
    Some(values)
}

/// One row per service in call order; past `ROWS` rows, the `TOP_ROWS`
/// with the highest peak and a row of the others' maximum.
pub(super) fn saturation(run: &Run) -> Option<Chart> {
    let ts = run.ts;
    let mut rows: Vec<(String, Vec<f64>)> = run
        .order
        .iter()
        .filter_map(|n| Some((n.clone(), saturation_values(run, n)?)))
        .collect();
    if rows.is_empty() || ts.window_start_s.is_empty() {
        return None;
    }
    let peaks: Vec<f64> = rows.iter().map(|(_, v)| top::peak(v)).collect();
    let p = top::pick(&peaks, ROWS, TOP_ROWS);
    let mut subtitle = "one row per service in call order, entry side on top: a cascade climbs from the slow service upward".to_owned();
    let runtime = run
        .s
        .services
        .values()
        .any(|v| v.event_loop.is_some() || v.memory.is_some());
    if runtime {
        subtitle =
            "one row per service in call order, entry side on top; each row its fullest resource"
                .to_owned();
    }
    if p.limited() {
        let others = top::combine(p.rest.iter().map(|&i| rows[i].1.as_slice()), Rest::Max);
        subtitle = top::subtitle(&subtitle, Some(&top::note(&p, "peak", Some(Rest::Max))));
        let mut keep = p.kept.iter().peekable();
        rows = rows
            .into_iter()
            .enumerate()
            .filter_map(|(i, row)| keep.next_if_eq(&&i).map(|_| row))
            .collect();
        // The subtitle says how many and how: a row name has 80 pixels.
        rows.push(("others".to_owned(), others));
    }
    Some(Chart::Heat(HeatStrip {
        title: if runtime {
            "Saturation: threads, loops, connections or memory, whichever is fuller".into()
        } else {
            "Saturation: busy threads ÷ pool size".into()
        },
        subtitle,
        x_label: TIME.into(),
        value_label: "busy ÷ pool (mean per window)".into(),
        starts: ts.window_start_s.clone(),
        ends: ts.window_end_s.clone(),
        rows,
        max: 1.0,
        value_fmt: Fmt::Percent,
        bands: run.bands.clone(),
    }))
}

pub(super) fn queues(run: &Run) -> Option<Chart> {
    let items: Vec<(String, &[f64])> = run
        .order
        .iter()
        .filter_map(|n| {
            run.get("service", n, "queue_len")
                .map(|q| (n.clone(), q.values.as_slice()))
        })
        .collect();
    if items.is_empty() {
        return None;
    }
    let (items, note) = top::limit(items, Rest::Sum);
    let lines = items
        .iter()
        .map(|it| it.line(run.points(&it.values)))
        .collect();
    Some(run.time_chart(
        "Accept queue length per service",
        ("requests waiting for a thread", ""),
        top::subtitle(
            "time-weighted mean per window, all replicas together",
            note.as_deref(),
        ),
        lines,
        false,
    ))
}
