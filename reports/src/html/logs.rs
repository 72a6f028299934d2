//! The report's tables of partitioned logs, in the Queues section: per log
//! and group, what became of the records (with the no-record-lost check)
//! and the worst partition's lag; per group, membership churn and lag.
//! Absent without logs. Must not compute what the summary does not hold.

use std::fmt::Write as _;

use sim_core::output::Summary;

use super::escape;
use super::tables::num_cell;
use crate::numbers::{short, thousands};

pub(super) fn logs_tables(h: &mut String, s: &Summary) {
    if s.logs.is_empty() {
        return;
    }
    h.push_str("<h3>Partitioned logs</h3>\n<div class=\"table-wrap\"><table>\n<tr><th>log</th><th>group</th><th>partitions</th><th>produced</th><th>busiest partition (mean)</th><th>consumed</th><th>committed</th><th>lost to retention</th><th>dead-lettered</th><th>in log at end</th><th>worst partition lag</th><th>no record lost</th></tr>\n");
    for (l, log) in &s.logs {
        let mut groups: Vec<_> = log
            .groups
            .iter()
            .map(|(g, gs)| (g.as_str(), Some(gs)))
            .collect();
        if groups.is_empty() {
            groups.push(("–", None));
        }
        for (g, gs) in groups {
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td>",
                escape(l),
                escape(g),
                log.partitions
            );
            num_cell(h, log.produced);
            let _ = write!(
                h,
                "<td>{} ({})</td>",
                thousands(log.produced_max_partition),
                short(log.produced_mean_partition)
            );
            let Some(gs) = gs else {
                h.push_str(&"<td class=\"zero\">–</td>".repeat(7));
                h.push_str("</tr>\n");
                continue;
            };
            for v in [
                gs.consumed,
                gs.committed,
                gs.lost_to_retention,
                gs.dead_lettered,
                gs.in_log_at_end,
            ] {
                num_cell(h, v);
            }
            let _ = write!(
                h,
                "<td>p{}: {}</td>",
                gs.worst_partition,
                thousands(gs.worst_partition_lag)
            );
            let kept = gs.committed + gs.in_log_at_end + gs.lost_to_retention + gs.dead_lettered;
            if kept == log.produced {
                h.push_str("<td>✓</td>");
            } else {
                let _ = write!(
                    h,
                    "<td style=\"color:var(--bad)\">✗ {} ≠ {}</td>",
                    thousands(log.produced),
                    thousands(kept)
                );
            }
            h.push_str("</tr>\n");
        }
    }
    h.push_str("</table></div>\n<h3>Consumer groups</h3>\n<div class=\"table-wrap\"><table>\n<tr><th>group</th><th>consumer</th><th>members</th><th>rebalances</th><th>time rebalancing</th><th>evictions</th><th>duplicates</th><th>late processings</th><th>failures</th><th>head-of-line blocked</th><th>throughput</th><th>lag p99</th><th>lag max</th><th>oldest record max</th><th>wait mean</th></tr>\n");
    for log in s.logs.values() {
        for (g, gs) in &log.groups {
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td>",
                escape(g),
                escape(&gs.consumer),
                gs.members
            );
            num_cell(h, gs.rebalances);
            let _ = write!(h, "<td>{} s</td>", short(gs.rebalancing_s));
            for v in [
                gs.evictions,
                gs.duplicates,
                gs.late_processings,
                gs.failures,
            ] {
                num_cell(h, v);
            }
            let _ = write!(
                h,
                "<td>{} s</td><td>{}/s</td>",
                short(gs.hol_blocked_s),
                short(gs.throughput_rps)
            );
            for v in [gs.lag_records_p99, gs.lag_records_max] {
                num_cell(h, v);
            }
            let _ = writeln!(
                h,
                "<td>{} s</td><td>{} ms</td></tr>",
                short(gs.lag_s_max),
                short(gs.wait_ms_mean)
            );
        }
    }
    h.push_str("</table></div>\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim_core::output::{GroupSummary, LogSummary};

    #[test]
    fn a_row_per_group_the_books_checked_and_nothing_without_logs() {
        let mut s = crate::test_summary::empty_summary();
        let mut h = String::new();
        logs_tables(&mut h, &s);
        assert!(h.is_empty());
        let mut log = LogSummary {
            partitions: 4,
            produced: 1_000,
            ..LogSummary::default()
        };
        log.groups.insert(
            "b<i>".into(),
            GroupSummary {
                committed: 990,
                in_log_at_end: 10,
                lag_records_p99: 1_234,
                ..GroupSummary::default()
            },
        );
        log.groups.insert(
            "leaky".into(),
            GroupSummary {
                committed: 5,
                ..GroupSummary::default()
            },
        );
        s.logs.insert("orders".into(), log);
        logs_tables(&mut h, &s);
        assert!(h.contains("<td>b&lt;i&gt;</td>"), "{h}");
        assert!(
            h.contains("<td>1,234</td>") && h.contains("<td>✓</td>"),
            "{h}"
        );
        assert!(h.contains("✗ 1,000 ≠ 5"), "{h}");
        // Header rows and two rows per table.
        assert_eq!(h.matches("<tr>").count(), 6, "{h}");
    }
}
