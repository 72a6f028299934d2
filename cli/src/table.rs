//! The summary as terminal tables: entries, criticality classes and
//! outlier ejection (when used), services, caches, sagas and versioned
//! stores (when there are any), calls and, when the scenario has brokers, message queues (with a check that no message was
//! lost) and, when it has logs, partitioned logs (with a check that no
//! record was lost).

use comfy_table::{
    Cell, CellAlignment, ColumnConstraint, ContentArrangement, Table, Width,
    presets::UTF8_FULL_CONDENSED,
};
use reports::numbers::sig3;
use sim_core::output::{QueueSummary, Summary};

mod caches;
mod headline;
mod health;
mod log_batching;
mod logs;
mod polls;
mod runtime;
mod sagas;
mod stores;

/// Terminal tables fit this many columns; the files (summary.json,
/// report.html) hold every figure whole.
pub const WIDTH: usize = 100;

/// The widest a name column stays whole when a table must wrap.
const NAME_WIDTH: u16 = 24;

/// `t` as text at most [`WIDTH`] columns wide, whatever the terminal (the
/// same bytes in a pipe as on a screen): as it is if it fits; else
/// without the padding inside cells; else with the headers wrapped (the
/// values stay whole; names up to [`NAME_WIDTH`]).
pub fn shown(t: &mut Table) -> String {
    let natural = t.to_string();
    if width(&natural) <= WIDTH {
        return natural;
    }
    for c in t.column_iter_mut() {
        c.set_padding((0, 0));
    }
    let compact = t.to_string();
    if width(&compact) <= WIDTH {
        return compact;
    }
    // Every column at least as wide as its widest value (names up to
    // NAME_WIDTH): the headers wrap, not the figures.
    let mut body = vec![0u16; t.column_count()];
    for row in t.row_iter() {
        for (i, cell) in row.cell_iter().enumerate() {
            let w = cell.content().lines().map(|l| l.chars().count()).max();
            let w = u16::try_from(w.unwrap_or(0)).unwrap_or(u16::MAX);
            if let Some(b) = body.get_mut(i) {
                *b = (*b).max(w);
            }
        }
    }
    for (i, w) in body.into_iter().enumerate() {
        let w = if i == 0 { w.min(NAME_WIDTH) } else { w };
        if let Some(c) = t.column_mut(i) {
            c.set_constraint(ColumnConstraint::LowerBoundary(Width::Fixed(w)));
        }
    }
    t.set_content_arrangement(ContentArrangement::Dynamic);
    t.set_width(WIDTH as u16);
    t.to_string()
}

/// The widest line of `text`, in characters.
fn width(text: &str) -> usize {
    text.lines().map(|l| l.chars().count()).max().unwrap_or(0)
}

fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_style(UTF8_FULL_CONDENSED);
    t.set_header(header.iter().map(Cell::new));
    t
}

fn right(t: &mut Table, from: usize) {
    for i in from..t.column_count() {
        if let Some(c) = t.column_mut(i) {
            c.set_cell_alignment(CellAlignment::Right);
        }
    }
}

pub fn render(s: &Summary) -> String {
    let mut out = format!(
        "scenario {} · seed {} · cascade {}\nmeasured {}s after {}s warm-up · ended at {:.1}s · {} events\n",
        s.scenario, s.seed, s.version, s.sim_duration_s, s.warmup_s, s.end_time_s, s.events
    );
    for f in &s.faults {
        let replica = f
            .replica
            .map(|r| format!(" replica {r}"))
            .unwrap_or_default();
        out.push_str(&format!(
            "fault: {} on {}{} from {}s to {}s\n",
            f.kind, f.target, replica, f.start_s, f.end_s
        ));
    }
    let mut t = table(&[
        "entry",
        "requests",
        "ok",
        "timeout",
        "rejected",
        "error",
        "goodput/s",
        "err %",
        "p50 ms",
        "p99 ms",
        "p99.9 ms",
        "max ms",
    ]);
    for (name, e) in &s.entries {
        t.add_row(vec![
            name.clone(),
            e.requests.to_string(),
            e.ok.to_string(),
            e.failed.timeout.to_string(),
            e.failed.rejected.to_string(),
            e.failed.error.to_string(),
            format!("{:.1}", e.goodput_rps),
            format!("{:.2}", e.error_rate * 100.0),
            sig3(e.latency_ms.p50),
            sig3(e.latency_ms.p99),
            sig3(e.latency_ms.p999),
            sig3(e.latency_ms.max),
        ]);
    }
    right(&mut t, 1);
    out.push_str(&format!("{}\n", shown(&mut t)));
    out.push_str(&headline::render(s));
    out.push_str(&polls::render(&s.polls));
    out.push_str(&health::classes(s));
    let mut t = table(&[
        "service",
        "threads",
        "util %",
        "busy",
        "queue mean",
        "queue max",
        "wait p99 ms",
        "rejected",
        "refused",
        "orphaned",
        "orphan s",
    ]);
    for (name, v) in &s.services {
        t.add_row(vec![
            name.clone(),
            match &v.event_loop {
                Some(l) => format!("{}×{} loops", v.replicas, l.loops),
                // An autoscaled service: its mean replicas (utilisation
                // is over them).
                None => match &v.autoscale {
                    Some(a) => format!("~{:.1}×{}", a.replicas_mean, v.threads),
                    None => format!("{}×{}", v.replicas, v.threads),
                },
            },
            format!("{:.1}", v.utilization * 100.0),
            format!("{:.1}", v.busy_threads_mean),
            format!("{:.1}", v.queue_len_mean),
            v.queue_len_max.to_string(),
            sig3(v.queue_wait_ms.p99),
            v.rejected.to_string(),
            v.refused.to_string(),
            v.orphaned_requests.to_string(),
            format!("{:.1}", v.orphaned_work_s),
        ]);
    }
    right(&mut t, 1);
    out.push_str(&format!("{}\n", shown(&mut t)));
    out.push_str(&health::ejection(s));
    out.push_str(&health::autoscaling(s));
    out.push_str(&caches::render(s));
    out.push_str(&sagas::render(s));
    out.push_str(&stores::render(s));
    if !s.edges.is_empty() {
        let mut t = table(&[
            "call",
            "calls",
            "ok",
            "errors",
            "rejected",
            "timeouts",
            "late replies",
        ]);
        for (name, e) in &s.edges {
            t.add_row(vec![
                name.clone(),
                e.calls.to_string(),
                e.ok.to_string(),
                e.errors.to_string(),
                e.rejected.to_string(),
                e.timeouts.to_string(),
                e.late_replies.to_string(),
            ]);
        }
        right(&mut t, 1);
        out.push_str(&format!("{}\n", shown(&mut t)));
    }
    out.push_str(&runtime::render(s));
    if !s.queues.is_empty() {
        out.push_str(&queues(s));
    }
    out.push_str(&logs::render(s));
    out.push_str(&log_batching::render(s));
    out
}

/// A queue's name, with the topic it subscribes to.
fn queue_name(name: &str, q: &QueueSummary) -> String {
    match &q.topic {
        Some(t) => format!("{name} ← {t}"),
        None => name.to_string(),
    }
}

/// Two tables (what happened to the messages; how full and how fast the
/// queue was) and the conservation check, one verdict per queue.
fn queues(s: &Summary) -> String {
    let mut t = table(&[
        "queue ← topic",
        "consumer",
        "published",
        "acked",
        "re-\ndelivered",
        "dead\nlettered",
        "duplicates\n(side effects)",
        "publish\nfailed",
        "publish\nblocked",
    ]);
    for (name, q) in &s.queues {
        let dups = if q.idempotent {
            format!("{} (idempotent)", q.duplicates)
        } else {
            format!("{} ({})", q.duplicates, q.duplicate_side_effects)
        };
        t.add_row(vec![
            queue_name(name, q),
            q.consumer.clone(),
            q.published.to_string(),
            q.acked.to_string(),
            q.redelivered.to_string(),
            q.dead_lettered.to_string(),
            dups,
            q.publish_failed.to_string(),
            q.publish_blocked.to_string(),
        ]);
    }
    right(&mut t, 2);
    let mut out = format!("{}\n", shown(&mut t));
    let mut t = table(&[
        "queue",
        "depth mean",
        "depth max",
        "oldest age\nmax s",
        "publish→ack\np50 ms",
        "publish→ack\np99 ms",
        "consumer\nutil %",
        "drain s",
    ]);
    for (name, q) in &s.queues {
        t.add_row(vec![
            name.clone(),
            format!("{:.1}", q.depth_mean),
            q.depth_max.to_string(),
            format!("{:.1}", q.oldest_age_max_s),
            sig3(q.latency_ms.p50),
            sig3(q.latency_ms.p99),
            format!("{:.1}", q.consumer_utilization * 100.0),
            q.drain_s
                .map_or_else(|| "never".to_string(), |d| format!("{d:.1}")),
        ]);
    }
    right(&mut t, 1);
    out.push_str(&format!("{}\n", shown(&mut t)));
    out.push_str(
        "no message lost: published + queued at start = acked + dead-lettered + queued at end\n",
    );
    for (name, q) in &s.queues {
        let (a, b) = (
            q.published + q.queued_at_start,
            q.acked + q.dead_lettered + q.queued_at_end,
        );
        out.push_str(&format!(
            "  {} {name}: {} + {} {} {} + {} + {}\n",
            if a == b { "✓" } else { "✗" },
            q.published,
            q.queued_at_start,
            if a == b { "=" } else { "≠" },
            q.acked,
            q.dead_lettered,
            q.queued_at_end
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use indexmap::IndexMap;

    #[test]
    fn tables_fit_100_columns_and_narrow_ones_are_left_alone() {
        let mut narrow = table(&["name", "n"]);
        narrow.add_row(vec!["a", "1"]);
        let before = narrow.to_string();
        assert_eq!(shown(&mut narrow), before);
        // 14 columns of 4–5 digit values fit 100 columns; 30 cannot, and
        // then the values stay whole rather than break.
        for columns in [12, 14, 30] {
            let header: Vec<String> = (0..columns).map(|i| format!("column {i}")).collect();
            let header: Vec<&str> = header.iter().map(String::as_str).collect();
            let mut wide = table(&header);
            let mut row = vec!["checkout-service-name".to_owned()];
            row.extend((1..columns).map(|i| format!("{}", 1000 * i)));
            wide.add_row(row);
            let text = shown(&mut wide);
            if columns <= 14 {
                assert!(width(&text) <= WIDTH, "{columns} columns:\n{text}");
            }
            assert!(
                text.contains(&format!("{}", 1000 * (columns - 1))),
                "values whole:\n{text}"
            );
            assert!(
                text.contains("checkout-service-name"),
                "names stay whole:\n{text}"
            );
        }
    }

    fn summary(queues: IndexMap<String, QueueSummary>) -> Summary {
        Summary {
            scenario: "t".into(),
            seed: 1,
            version: "0".into(),
            scenario_hash: "0".into(),
            overrides: Vec::new(),
            sim_duration_s: 10.0,
            warmup_s: 0.0,
            end_time_s: 10.0,
            events: 0,
            partial: None,
            entries: IndexMap::new(),
            services: IndexMap::new(),
            edges: IndexMap::new(),
            clients: IndexMap::new(),
            amplification: IndexMap::new(),
            queues,
            caches: Default::default(),
            classes: Default::default(),
            logs: Default::default(),
            sagas: Default::default(),
            outboxes: Default::default(),
            polls: Default::default(),
            stores: Default::default(),
            faults: Vec::new(),
            recovery: Vec::new(),
            slo: Vec::new(),
        }
    }

    #[test]
    fn queues_table_only_when_there_are_queues() {
        assert!(!render(&summary(IndexMap::new())).contains("no message lost"));
        let mut queues = IndexMap::new();
        queues.insert(
            "payments".to_string(),
            QueueSummary {
                topic: Some("order-created".into()),
                consumer: "payment".into(),
                queued_at_start: 2,
                published: 100,
                acked: 95,
                dead_lettered: 3,
                queued_at_end: 4,
                duplicates: 7,
                duplicate_side_effects: 7,
                depth_max: 42,
                drain_s: Some(1.5),
                ..QueueSummary::default()
            },
        );
        queues.insert(
            "audit".to_string(),
            QueueSummary {
                consumer: "auditor".into(),
                idempotent: true,
                published: 10,
                acked: 9,
                ..QueueSummary::default()
            },
        );
        let out = render(&summary(queues));
        assert!(out.contains("payments ← order-created"), "{out}");
        assert!(
            out.contains("7 (7)") && out.contains("0 (idempotent)"),
            "{out}"
        );
        assert!(out.contains("42") && out.contains("never"), "{out}");
        assert!(
            out.contains("  ✓ payments: 100 + 2 = 95 + 3 + 4\n"),
            "{out}"
        );
        assert!(out.contains("  ✗ audit: 10 + 0 ≠ 9 + 0 + 0\n"), "{out}");
        for line in out.lines().skip_while(|l| !l.contains("queue ← topic")) {
            assert!(line.chars().count() <= 120, "too wide: {line}");
        }
    }
}
