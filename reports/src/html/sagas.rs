//! The report's Sagas section tables: per saga, how its sagas ended (the
//! books: started + running at the start = completed + compensated +
//! stuck + running at the end), how long they took and stayed half-done,
//! and which step failed; per transactional outbox, its records and
//! depth. The charts beside them are `charts::sagas`. Absent without
//! sagas and outboxes.
//!
//! Owns these tables; must not compute figures the summary does not hold.

use std::fmt::Write as _;

use sim_core::output::{Latency, Summary};

use super::escape;
use super::tables::num_cell;
use crate::numbers::{sig3, thousands};

/// The section's lead paragraph.
pub(super) const LEAD: &str = "Sagas: a step's failure undoes the steps done before it, in reverse order. Compensated sagas ended consistent; stuck ones left side effects nobody will undo (an undo failed past its retries, or its orchestrator crashed). Time inconsistent runs from the first step's side effect to completion or full compensation: how long others could see a half-done order. Outboxes: records a producer wrote locally and its relay has yet to hand to the broker.";

pub(super) fn sagas_tables(h: &mut String, s: &Summary) {
    for (name, g) in &s.sagas {
        let how = if g.choreographed {
            "choreographed: each step a queue's consumer".to_owned()
        } else if g.orchestrators.is_empty() {
            "orchestrated (no service runs it)".to_owned()
        } else {
            format!("orchestrated by {}", g.orchestrators.join(", "))
        };
        let _ = writeln!(
            h,
            "<h3>Saga {} <span class=\"none\">· {}</span></h3>",
            escape(name),
            escape(&how)
        );
        h.push_str("<div class=\"table-wrap\"><table>\n<tr><th>running at start</th><th>started</th><th>completed</th><th>compensated</th><th>stuck</th>");
        if g.orchestrators_lost > 0 {
            h.push_str("<th>of them orchestrator lost</th>");
        }
        h.push_str("<th>running at end</th><th>books</th></tr>\n<tr>");
        for v in [g.running_at_start, g.started, g.completed, g.compensated] {
            num_cell(h, v);
        }
        if g.stuck > 0 {
            let _ = write!(h, "<td class=\"bad\">{}</td>", thousands(g.stuck));
        } else {
            num_cell(h, 0);
        }
        if g.orchestrators_lost > 0 {
            num_cell(h, g.orchestrators_lost);
        }
        num_cell(h, g.running_at_end);
        let (a, b) = (
            g.started + g.running_at_start,
            g.completed + g.compensated + g.stuck + g.running_at_end,
        );
        if a == b {
            h.push_str("<td>✓</td>");
        } else {
            let _ = write!(
                h,
                "<td class=\"bad\">✗ {} ≠ {}</td>",
                thousands(a),
                thousands(b)
            );
        }
        h.push_str("</tr>\n</table></div>\n");

        h.push_str("<div class=\"table-wrap\" style=\"margin-top:8px\"><table>\n<tr><th>time</th><th>mean</th><th>p50</th><th>p90</th><th>p99</th><th>max</th></tr>\n");
        latency_row(
            h,
            "to completion (completed sagas)",
            &g.time_to_completion_ms,
        );
        latency_row(
            h,
            "inconsistent (first side effect → completion or full compensation)",
            &g.time_inconsistent_ms,
        );
        h.push_str("</table></div>\n");

        h.push_str("<div class=\"table-wrap\" style=\"margin-top:8px\"><table>\n<tr><th>step</th>");
        if g.choreographed {
            h.push_str("<th>triggered by queue</th>");
        }
        h.push_str(
            "<th>do failed (compensated from here)</th><th>undo failed (stuck here)</th></tr>\n",
        );
        for (i, st) in g.steps.iter().enumerate() {
            let _ = write!(h, "<tr><td>{} · {}</td>", i + 1, escape(&st.name));
            if g.choreographed {
                let _ = write!(h, "<td>{}</td>", escape(st.via.as_deref().unwrap_or("–")));
            }
            num_cell(h, st.failures);
            if st.undo_failures > 0 {
                let _ = write!(h, "<td class=\"bad\">{}</td>", thousands(st.undo_failures));
            } else {
                num_cell(h, 0);
            }
            h.push_str("</tr>\n");
        }
        h.push_str("</table></div>\n");
    }
}

fn latency_row(h: &mut String, what: &str, l: &Latency) {
    let _ = write!(h, "<tr><td>{}</td>", escape(what));
    for v in [l.mean, l.p50, l.p90, l.p99, l.max] {
        let _ = write!(h, "<td>{}</td>", seconds_or_ms(v));
    }
    h.push_str("</tr>\n");
}

/// A duration given in ms: in seconds from one second on.
fn seconds_or_ms(v: f64) -> String {
    if !v.is_finite() {
        "–".into()
    } else if v >= 1000.0 {
        format!("{} s", sig3(v / 1000.0))
    } else {
        format!("{} ms", sig3(v))
    }
}

pub(super) fn outboxes_table(h: &mut String, s: &Summary) {
    if s.outboxes.is_empty() {
        return;
    }
    h.push_str("<h3>Outboxes</h3>\n<div class=\"table-wrap\"><table>\n<tr><th>producer</th><th>relay</th><th>written</th><th>sent</th><th>marked</th><th>duplicates (marks lost to a crash)</th><th>depth mean</th><th>depth max</th><th>depth at start → end</th><th>relay delay p50</th><th>relay delay p99</th><th>books</th></tr>\n");
    for (name, o) in &s.outboxes {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>≤ {} per {}</td>",
            escape(name),
            thousands(u64::from(o.batch)),
            seconds_or_ms(o.every_ms)
        );
        for v in [o.written, o.sent, o.marked] {
            num_cell(h, v);
        }
        let _ = write!(
            h,
            "<td>{} ({})</td><td>{}</td>",
            thousands(o.duplicates),
            thousands(o.marks_lost),
            sig3(o.depth_mean)
        );
        num_cell(h, o.depth_max);
        let _ = write!(
            h,
            "<td>{} → {}</td><td>{}</td><td>{}</td>",
            thousands(o.depth_at_start),
            thousands(o.depth_at_end),
            seconds_or_ms(o.relay_delay_ms.p50),
            seconds_or_ms(o.relay_delay_ms.p99)
        );
        if o.written + o.depth_at_start == o.marked + o.depth_at_end {
            h.push_str("<td>✓</td>");
        } else {
            h.push_str("<td class=\"bad\">✗</td>");
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</table></div>\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim_core::output::{OutboxSummary, SagaStepSummary, SagaSummary};

    #[test]
    fn a_table_set_per_saga_and_one_for_outboxes() {
        let mut s = crate::test_summary::empty_summary();
        let mut h = String::new();
        sagas_tables(&mut h, &s);
        outboxes_table(&mut h, &s);
        assert!(h.is_empty(), "nothing without sagas or outboxes");
        s.sagas.insert(
            "order".into(),
            SagaSummary {
                started: 10,
                running_at_start: 1,
                completed: 7,
                compensated: 2,
                stuck: 1,
                running_at_end: 1,
                choreographed: true,
                time_inconsistent_ms: Latency {
                    p99: 5_600.0,
                    ..Latency::default()
                },
                steps: vec![
                    SagaStepSummary {
                        name: "inventory.reserve".into(),
                        via: Some("order-created".into()),
                        undo_failures: 1,
                        ..SagaStepSummary::default()
                    },
                    SagaStepSummary {
                        name: "payment.charge".into(),
                        via: Some("shipping-quoted".into()),
                        failures: 3,
                        ..SagaStepSummary::default()
                    },
                ],
                ..SagaSummary::default()
            },
        );
        s.outboxes.insert(
            "playback".into(),
            OutboxSummary {
                written: 100,
                marked: 90,
                depth_at_end: 10,
                ..OutboxSummary::default()
            },
        );
        sagas_tables(&mut h, &s);
        outboxes_table(&mut h, &s);
        assert!(h.contains("Saga order"), "{h}");
        assert!(h.contains("choreographed"), "{h}");
        assert!(h.contains("<td>shipping-quoted</td>"), "{h}");
        assert!(h.contains("<td>5.60 s</td>"), "{h}");
        assert_eq!(h.matches("<td>✓</td>").count(), 2, "both books hold: {h}");
        assert!(h.contains("<td>playback</td>"), "{h}");
    }
}
