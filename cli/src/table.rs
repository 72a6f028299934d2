//! The summary as terminal tables.

use comfy_table::{Cell, CellAlignment, Table, presets::UTF8_FULL_CONDENSED};
use sim_core::output::Summary;

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

fn ms(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

pub fn render(s: &Summary) -> String {
    let mut out = format!(
        "scenario {} · seed {} · cascade {} · measured {}s after {}s warm-up · ended at {:.1}s · {} events\n",
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
            ms(e.latency_ms.p50),
            ms(e.latency_ms.p99),
            ms(e.latency_ms.p999),
            ms(e.latency_ms.max),
        ]);
    }
    right(&mut t, 1);
    out.push_str(&format!("{t}\n"));
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
            format!("{}×{}", v.replicas, v.threads),
            format!("{:.1}", v.utilization * 100.0),
            format!("{:.1}", v.busy_threads_mean),
            format!("{:.1}", v.queue_len_mean),
            v.queue_len_max.to_string(),
            ms(v.queue_wait_ms.p99),
            v.rejected.to_string(),
            v.refused.to_string(),
            v.orphaned_requests.to_string(),
            format!("{:.1}", v.orphaned_work_s),
        ]);
    }
    right(&mut t, 1);
    out.push_str(&format!("{t}\n"));
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
        out.push_str(&format!("{t}\n"));
    }
    out
}
