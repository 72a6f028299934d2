//! The terminal tables of partitioned logs: per log and group, what
//! became of the records (produced, consumed, committed, lost to
//! retention, dead-lettered, still in the log) and the worst partition's
//! lag; per group, membership and its churn (members, rebalances,
//! evictions, duplicates) and lag; then the no-record-lost check, one
//! verdict per group. Printed only when the scenario has logs.

use sim_core::output::{GroupSummary, LogSummary, Summary};

use super::{right, shown, table};

pub fn render(s: &Summary) -> String {
    if s.logs.is_empty() {
        return String::new();
    }
    let groups = || {
        s.logs
            .iter()
            .flat_map(|(l, log)| log.groups.iter().map(move |(g, gs)| (l, log, g, gs)))
    };
    let mut t = table(&[
        "log → group",
        "parts",
        "produced",
        "busiest\n(mean)",
        "consumed",
        "commit-\nted",
        "lost to\nretention",
        "dead\nletters",
        "in log\nat end",
        "worst\nlag",
    ]);
    for (l, log) in &s.logs {
        if log.groups.is_empty() {
            t.add_row(log_row(l.clone(), log, None));
        }
        for (g, gs) in &log.groups {
            t.add_row(log_row(format!("{l} → {g}"), log, Some(gs)));
        }
    }
    right(&mut t, 1);
    let mut out = format!("{}\n", shown(&mut t));
    let mut t = table(&[
        "group",
        "consumer",
        "mem-\nbers",
        "rebal-\nances",
        "paused\ns",
        "evic-\ntions",
        "dupli-\ncates",
        "fail-\nures",
        "HOL\ns",
        "lag\np99",
        "lag\nmax",
        "oldest\ns",
    ]);
    for (_, _, g, gs) in groups() {
        t.add_row(vec![
            g.clone(),
            gs.consumer.clone(),
            gs.members.to_string(),
            gs.rebalances.to_string(),
            format!("{:.1}", gs.rebalancing_s),
            gs.evictions.to_string(),
            gs.duplicates.to_string(),
            gs.failures.to_string(),
            format!("{:.1}", gs.hol_blocked_s),
            gs.lag_records_p99.to_string(),
            gs.lag_records_max.to_string(),
            format!("{:.1}", gs.lag_s_max),
        ]);
    }
    right(&mut t, 2);
    out.push_str(&format!("{}\n", shown(&mut t)));
    out.push_str(
        "no record lost: produced = committed + in log at end + lost to retention + dead-lettered\n",
    );
    for (_, log, g, gs) in groups() {
        let kept = gs.committed + gs.in_log_at_end + gs.lost_to_retention + gs.dead_lettered;
        let ok = log.produced == kept;
        out.push_str(&format!(
            "  {} {g}: {} {} {} + {} + {} + {}\n",
            if ok { "✓" } else { "✗" },
            log.produced,
            if ok { "=" } else { "≠" },
            gs.committed,
            gs.in_log_at_end,
            gs.lost_to_retention,
            gs.dead_lettered
        ));
    }
    out
}

/// One row of the records table: the log's figures, and its group's when
/// it has one.
fn log_row(name: String, log: &LogSummary, g: Option<&GroupSummary>) -> Vec<String> {
    let dash = || "–".to_string();
    let mut row = vec![
        name,
        log.partitions.to_string(),
        log.produced.to_string(),
        format!(
            "{} ({:.0})",
            log.produced_max_partition, log.produced_mean_partition
        ),
    ];
    match g {
        Some(g) => row.extend([
            g.consumed.to_string(),
            g.committed.to_string(),
            g.lost_to_retention.to_string(),
            g.dead_lettered.to_string(),
            g.in_log_at_end.to_string(),
            format!("p{}: {}", g.worst_partition, g.worst_partition_lag),
        ]),
        None => row.extend((0..6).map(|_| dash())),
    }
    row
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_per_group_and_the_books_checked() {
        let mut s: Summary = serde_json::from_str(
            r#"{"scenario":"t","seed":1,"version":"0","scenario_hash":"0","overrides":[],
                "sim_duration_s":1,"warmup_s":0,"end_time_s":1,"events":0,"entries":{},
                "services":{},"edges":{},"faults":[]}"#,
        )
        .expect("a minimal summary");
        assert!(render(&s).is_empty());
        let mut log = LogSummary {
            partitions: 8,
            produced: 100,
            produced_max_partition: 40,
            produced_mean_partition: 12.5,
            ..LogSummary::default()
        };
        log.groups.insert(
            "billing".into(),
            GroupSummary {
                consumer: "billing".into(),
                members: 4,
                consumed: 90,
                committed: 88,
                in_log_at_end: 10,
                lost_to_retention: 2,
                rebalances: 3,
                worst_partition: 5,
                worst_partition_lag: 7,
                lag_records_p99: 31,
                ..GroupSummary::default()
            },
        );
        log.groups.insert(
            "audit".into(),
            GroupSummary {
                consumer: "audit".into(),
                committed: 99,
                ..GroupSummary::default()
            },
        );
        s.logs.insert("orders".into(), log);
        s.logs.insert("idle".into(), LogSummary::default());
        let out = render(&s);
        assert!(
            out.contains("orders → billing") && out.contains("p5: 7"),
            "{out}"
        );
        assert!(out.contains("40 (12)"), "{out}");
        assert!(
            out.contains("  ✓ billing: 100 = 88 + 10 + 2 + 0\n"),
            "{out}"
        );
        assert!(out.contains("  ✗ audit: 100 ≠ 99 + 0 + 0 + 0\n"), "{out}");
        assert!(
            out.lines().any(|l| l.contains("idle") && l.contains('–')),
            "a log without groups has a row of its own: {out}"
        );
        for line in out.lines() {
            assert!(line.chars().count() <= 100, "too wide: {line}");
        }
    }
}
