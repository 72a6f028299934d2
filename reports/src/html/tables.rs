//! The summary tables of `report.html`: entries, services, calls between
//! services, message queues (with the no-message-lost check), and the
//! recovery after each fault. Past
//! `TABLE_ROWS` rows a table lists those that matter most and says so;
//! `summary.json` keeps them all.
//!
//! Must not reorder rows (each table keeps the summary's or the call
//! order) nor drop a queue that lost a message.

use std::fmt::Write as _;

use sim_core::output::{Latency, Recovery, Summary, Verdict};

use super::escape;
use crate::charts::top::{TABLE_ROWS, pick_by};
use crate::charts::{Figure, ratio, service_order, split_edge};
use crate::numbers::{pct, seconds, short, sig3, thousands};
use crate::plot::{failure_style, viridis};

pub(super) fn num_cell(h: &mut String, v: u64) {
    if v == 0 {
        h.push_str("<td class=\"zero\">0</td>");
    } else {
        let _ = write!(h, "<td>{}</td>", thousands(v));
    }
}

fn f_cell(h: &mut String, v: f64, unit: &str) {
    if v == 0.0 {
        h.push_str("<td class=\"zero\">0</td>");
    } else {
        let _ = write!(h, "<td>{}{}</td>", short(v), unit);
    }
}

fn lat_cells(h: &mut String, l: &Latency) {
    for v in [l.p50, l.p90, l.p99, l.p999, l.max] {
        ms_cell(h, v);
    }
}

fn ms_cell(h: &mut String, v: f64) {
    if v == 0.0 {
        h.push_str("<td class=\"zero\">0</td>");
    } else {
        let _ = write!(h, "<td>{}</td>", sig3(v));
    }
}

/// A table's rows: every one, or past `TABLE_ROWS` those with the highest
/// `score` (then tie-breaker), in their usual order; and the note that
/// says so (`what` names the rows, `by` the score).
fn capped<T>(
    rows: Vec<T>,
    what: &str,
    by: &str,
    score: impl Fn(&T) -> (f64, f64),
) -> (Vec<T>, String) {
    let scores: Vec<(f64, f64)> = rows.iter().map(&score).collect();
    let p = pick_by(&scores, TABLE_ROWS, TABLE_ROWS);
    if !p.limited() {
        return (rows, String::new());
    }
    let note = format!(
        "<p class=\"none\">The {} of {} {what} with the {by}; summary.json lists them all.</p>\n",
        p.kept.len(),
        thousands(rows.len() as u64)
    );
    let mut keep = p.kept.iter().peekable();
    let rows = rows
        .into_iter()
        .enumerate()
        .filter_map(|(i, row)| keep.next_if_eq(&&i).map(|_| row))
        .collect();
    (rows, note)
}

pub(super) fn entries_table(h: &mut String, s: &Summary) {
    if s.entries.is_empty() {
        return;
    }
    let (rows, note) = capped(
        s.entries.iter().collect(),
        "entries",
        "most failed requests (then the most requests)",
        |(_, e)| {
            let failed = e.failed.timeout + e.failed.rejected + e.failed.error;
            (failed as f64, e.requests as f64)
        },
    );
    h.push_str("<h3>Entries</h3>\n");
    h.push_str(&note);
    h.push_str("<div class=\"table-wrap\"><table>\n<tr><th>entry</th><th>target</th><th>requests</th><th>ok</th><th>timeout</th><th>rejected</th><th>error</th><th>failed</th><th>goodput/s</th><th>p50 ms</th><th>p90 ms</th><th>p99 ms</th><th>p99.9 ms</th><th>max ms</th></tr>\n");
    for (name, e) in rows {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td>",
            escape(name),
            escape(&e.target)
        );
        for v in [
            e.requests,
            e.ok,
            e.failed.timeout,
            e.failed.rejected,
            e.failed.error,
        ] {
            num_cell(h, v);
        }
        let (c, _) = failure_style(e.error_rate);
        let _ = write!(
            h,
            "<td><span class=\"dot\" style=\"background:{}\"></span>{}</td>",
            c.hex(),
            pct(e.error_rate)
        );
        f_cell(h, e.goodput_rps, "");
        lat_cells(h, &e.latency_ms);
        h.push_str("</tr>\n");
    }
    h.push_str("</table></div>\n");
    super::polls::note(h, s);
}

pub(super) fn services_table(h: &mut String, s: &Summary, _figures: &[(Figure, String)]) {
    if s.services.is_empty() {
        return;
    }
    let empty = sim_core::output::TimeSeries::default();
    let (rows, note) = capped(
        service_order(s, &empty)
            .into_iter()
            .filter_map(|n| Some((s.services.get(&n)?, n)))
            .collect(),
        "services",
        "highest utilisation (then the most arrivals)",
        |(v, _)| (v.utilization, v.arrivals as f64),
    );
    h.push_str("<h3>Services</h3>\n");
    h.push_str(&note);
    h.push_str("<div class=\"table-wrap\"><table>\n<tr><th>service</th><th>pool</th><th>queue cap</th><th>utilisation</th><th>busy</th><th>queue mean</th><th>queue max</th><th>wait p99 ms</th><th>sojourn p99 ms</th><th>arrivals</th><th>completed</th><th>rejected</th><th>refused</th><th>orphaned work s</th></tr>\n");
    for (v, name) in rows {
        let cap = v.queue_capacity.map_or("∞".to_string(), |c| c.to_string());
        let u = v.utilization;
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td><span class=\"bar\"><span style=\"width:{:.0}%;background:{}\"></span></span>{:.1}%</td>",
            escape(&name),
            match &v.event_loop {
                Some(l) => format!("{}×{} loops", v.replicas, l.loops),
                None => format!("{}×{}", v.replicas, v.threads),
            },
            cap,
            (u * 100.0).clamp(0.0, 100.0),
            viridis(u).hex(),
            u * 100.0
        );
        f_cell(h, v.busy_threads_mean, "");
        f_cell(h, v.queue_len_mean, "");
        num_cell(h, v.queue_len_max);
        ms_cell(h, v.queue_wait_ms.p99);
        ms_cell(h, v.sojourn_ms.p99);
        for n in [v.arrivals, v.completed, v.rejected, v.refused] {
            num_cell(h, n);
        }
        f_cell(h, v.orphaned_work_s, "");
        h.push_str("</tr>\n");
    }
    h.push_str("</table></div>\n");
}

pub(super) fn edges_table(h: &mut String, s: &Summary) {
    if s.edges.is_empty() {
        h.push_str("<p class=\"none\">No calls between services.</p>\n");
        return;
    }
    let (rows, note) = capped(
        s.edges.iter().collect(),
        "calls between services",
        "most failures (then the most calls)",
        |(_, e)| ((e.errors + e.rejected + e.timeouts) as f64, e.calls as f64),
    );
    h.push_str("<h3>Calls</h3>\n");
    h.push_str(&note);
    h.push_str("<div class=\"table-wrap\"><table>\n<tr><th>caller → callee</th><th>calls</th><th>ok</th><th>errors</th><th>rejected</th><th>timeouts</th><th>failed</th><th>late replies</th></tr>\n");
    for (key, e) in rows {
        let name = match split_edge(key) {
            Some((a, b)) => format!("{a} → {b}"),
            None => key.clone(),
        };
        let _ = write!(h, "<tr><td>{}</td>", escape(&name));
        for v in [e.calls, e.ok, e.errors, e.rejected, e.timeouts] {
            num_cell(h, v);
        }
        let rate = ratio(e.errors + e.rejected + e.timeouts, e.calls);
        let (c, _) = failure_style(rate);
        let _ = write!(
            h,
            "<td><span class=\"dot\" style=\"background:{}\"></span>{}</td>",
            c.hex(),
            pct(rate)
        );
        num_cell(h, e.late_replies);
        h.push_str("</tr>\n");
    }
    h.push_str("</table></div>\n");
}

pub(super) fn queues_table(h: &mut String, s: &Summary) {
    if s.queues.is_empty() {
        return;
    }
    // A queue that lost a message is always listed.
    let (rows, note) = capped(
        s.queues.iter().collect(),
        "queues",
        "deepest backlog (a queue that lost a message first)",
        |(_, q)| {
            let lost =
                q.published + q.queued_at_start != q.acked + q.dead_lettered + q.queued_at_end;
            (
                if lost {
                    f64::INFINITY
                } else {
                    q.depth_max as f64
                },
                q.published as f64,
            )
        },
    );
    h.push_str("<h3>Messages</h3>\n");
    h.push_str(&note);
    h.push_str("<div class=\"table-wrap\"><table>\n<tr><th>queue</th><th>topic</th><th>consumer</th><th>published</th><th>acked</th><th>redelivered</th><th>dead-lettered</th><th>duplicates</th><th>duplicate side effects</th><th>publish failed</th><th>publish blocked</th><th>queued at start → end</th><th>no message lost</th></tr>\n");
    for (name, q) in &rows {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td>",
            escape(name),
            escape(q.topic.as_deref().unwrap_or("–")),
            escape(&q.consumer)
        );
        for v in [
            q.published,
            q.acked,
            q.redelivered,
            q.dead_lettered,
            q.duplicates,
        ] {
            num_cell(h, v);
        }
        if q.idempotent {
            h.push_str("<td class=\"zero\">idempotent</td>");
        } else {
            num_cell(h, q.duplicate_side_effects);
        }
        for v in [q.publish_failed, q.publish_blocked] {
            num_cell(h, v);
        }
        let _ = write!(
            h,
            "<td>{} → {}</td>",
            thousands(q.queued_at_start),
            thousands(q.queued_at_end)
        );
        let (a, b) = (
            q.published + q.queued_at_start,
            q.acked + q.dead_lettered + q.queued_at_end,
        );
        if a == b {
            h.push_str("<td>✓</td>");
        } else {
            let _ = write!(
                h,
                "<td style=\"color:var(--bad)\">✗ {} + {} ≠ {} + {} + {}</td>",
                thousands(q.published),
                thousands(q.queued_at_start),
                thousands(q.acked),
                thousands(q.dead_lettered),
                thousands(q.queued_at_end)
            );
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</table></div>\n<p class=\"none\">No message lost: published + queued at start = acked + dead-lettered + queued at end.</p>\n");
    h.push_str("<h3>Backlog and latency</h3>\n<div class=\"table-wrap\"><table>\n<tr><th>queue</th><th>consumers</th><th>consumer utilisation</th><th>depth mean</th><th>depth max</th><th>unacked max</th><th>oldest age max s</th><th>publish→ack p50 ms</th><th>publish→ack p99 ms</th><th>publish→ack max ms</th><th>drain s</th></tr>\n");
    for (name, q) in &rows {
        let u = q.consumer_utilization;
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{} per replica</td><td><span class=\"bar\"><span style=\"width:{:.0}%;background:{}\"></span></span>{:.1}%</td>",
            escape(name),
            q.concurrency,
            (u * 100.0).clamp(0.0, 100.0),
            viridis(u).hex(),
            u * 100.0
        );
        f_cell(h, q.depth_mean, "");
        num_cell(h, q.depth_max);
        num_cell(h, q.unacked_max);
        f_cell(h, q.oldest_age_max_s, "");
        ms_cell(h, q.latency_ms.p50);
        ms_cell(h, q.latency_ms.p99);
        ms_cell(h, q.latency_ms.max);
        match q.drain_s {
            Some(d) => f_cell(h, d, ""),
            None => h.push_str("<td>never emptied</td>"),
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</table></div>\n<p class=\"none\">Drain: from the deepest moment to the first empty queue after it.</p>\n");
}

/// One row per fault and entry: the fault, what it hit and when, the
/// verdict in words, how long recovery took, and the worst goodput and
/// p99 from the fault's start to recovery, beside their baselines.
pub(super) fn recovery_table(h: &mut String, s: &Summary) {
    let why = s.recovery.iter().any(|r| r.note.is_some());
    let _ = writeln!(
        h,
        "<div class=\"table-wrap\"><table>\n<tr><th>fault</th><th>hit</th><th>when</th><th>entry</th>\
         <th>verdict</th><th>time to recover</th><th>worst goodput (baseline)</th>\
         <th>worst p99 (baseline)</th>{}</tr>",
        if why { "<th>why</th>" } else { "" }
    );
    for r in &s.recovery {
        let f = s.faults.get(r.fault);
        let (kind, hit, when) = f.map_or_else(
            || (format!("#{}", r.fault), "–".to_owned(), "–".to_owned()),
            |f| {
                let hit = match f.replica {
                    Some(k) => format!("{} (replica {k})", f.target),
                    None => f.target.clone(),
                };
                let when = format!("{}–{} s", short(f.start_s), short(f.end_s));
                (f.kind.replace('_', " "), hit, when)
            },
        );
        let (verdict, bad) = verdict_words(r);
        let time = match (r.verdict, r.recovery_time_s) {
            (Verdict::Recovered, Some(t)) if t > 0.0 => seconds(t),
            (Verdict::Recovered, _) => format!("< {}", seconds(r.window_s)),
            _ => "–".to_owned(),
        };
        let measured = !matches!(r.verdict, Verdict::NotReached | Verdict::NoBaseline);
        let goodput = if measured {
            format!(
                "{} req/s ({})",
                short(r.min_goodput_rps),
                short(r.baseline_goodput_rps)
            )
        } else {
            "–".to_owned()
        };
        let p99 = match (measured, r.baseline_p99_ms) {
            (false, _) => "–".to_owned(),
            (true, Some(b)) => format!("{} ms ({} ms)", sig3(r.peak_p99_ms), sig3(b)),
            (true, None) => format!("{} ms", sig3(r.peak_p99_ms)),
        };
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td{}>{}</td><td>{}</td><td>{}</td><td>{}</td>{}</tr>",
            escape(&kind),
            escape(&hit),
            escape(&when),
            escape(&r.entry),
            if bad { " class=\"bad\"" } else { "" },
            escape(&verdict),
            escape(&time),
            escape(&goodput),
            escape(&p99),
            if why {
                format!("<td>{}</td>", escape(r.note.as_deref().unwrap_or("")))
            } else {
                String::new()
            }
        );
    }
    h.push_str("</table></div>\n");
}

/// The verdict for people, and whether it is bad news.
fn verdict_words(r: &Recovery) -> (String, bool) {
    match r.verdict {
        Verdict::Recovered => (
            match r.recovered_at_s {
                Some(t) => format!("recovered (back at {})", seconds(t)),
                None => "recovered".to_owned(),
            },
            false,
        ),
        Verdict::NotAffected => ("not affected".to_owned(), false),
        Verdict::DidNotRecover => ("did not recover".to_owned(), true),
        Verdict::Interrupted => ("not back before the next fault".to_owned(), true),
        Verdict::NoBaseline => ("no baseline to judge from".to_owned(), false),
        Verdict::NotReached => (
            "not reached: the run ended before the fault".to_owned(),
            false,
        ),
        Verdict::Relapsed => (
            match (r.recovered_at_s, r.relapsed_at_s) {
                (Some(a), Some(b)) => {
                    format!(
                        "relapsed (back at {}, fell again at {})",
                        seconds(a),
                        seconds(b)
                    )
                }
                _ => "relapsed".to_owned(),
            },
            true,
        ),
    }
}
