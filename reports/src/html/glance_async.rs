//! The asynchronous row of "At a glance": when a scenario has queues or
//! sagas, tiles for the worst queue lag (publish → acknowledgement p99),
//! the deepest backlog, duplicates (and their side effects), and per saga
//! how many were compensated or got stuck, per outbox its deepest backlog
//! and relay delay — so an asynchronous story's
//! price shows beside its fast entries, not only far below.
//!
//! Owns the choice of those tiles; must not compute figures (they are the
//! summary's).

use std::fmt::Write as _;

use sim_core::output::Summary;

use super::{ms, tile};
use crate::numbers::thousands;

pub(super) fn render(h: &mut String, s: &Summary) {
    if s.queues.is_empty() && s.sagas.is_empty() && s.outboxes.is_empty() {
        return;
    }
    let _ = writeln!(h, "<p class=\"entry-name\">asynchronous work</p>");
    h.push_str("<div class=\"tiles\">");
    let lag = s
        .queues
        .iter()
        .max_by(|a, b| a.1.latency_ms.p99.total_cmp(&b.1.latency_ms.p99));
    if let Some((name, q)) = lag {
        tile(
            h,
            "worst queue lag (p99)",
            &ms(q.latency_ms.p99),
            &format!("{name}: publish → ack, p50 {}", ms(q.latency_ms.p50)),
            q.latency_ms.p99 > 10_000.0,
        );
    }
    let backlog = s.queues.iter().max_by_key(|(_, q)| q.unacked_max);
    if let Some((name, q)) = backlog {
        tile(
            h,
            "deepest backlog",
            &thousands(q.unacked_max),
            &format!(
                "{name}: messages unacknowledged at most, {} at the end",
                thousands(q.queued_at_end)
            ),
            q.queued_at_end > 0,
        );
    }
    if !s.queues.is_empty() {
        let dups: u64 = s.queues.values().map(|q| q.duplicates).sum();
        let effects: u64 = s.queues.values().map(|q| q.duplicate_side_effects).sum();
        let dead: u64 = s.queues.values().map(|q| q.dead_lettered).sum();
        tile(
            h,
            "duplicates",
            &thousands(dups),
            &format!(
                "{} with a side effect · {} dead-lettered",
                thousands(effects),
                thousands(dead)
            ),
            effects > 0,
        );
    }
    for (name, g) in &s.sagas {
        tile(
            h,
            &format!("saga {name}"),
            &format!("{} stuck", thousands(g.stuck)),
            &format!(
                "{} compensated · {} completed of {} started · inconsistent p99 {}",
                thousands(g.compensated),
                thousands(g.completed),
                thousands(g.started),
                ms(g.time_inconsistent_ms.p99)
            ),
            g.stuck > 0,
        );
    }
    for (name, o) in &s.outboxes {
        tile(
            h,
            &format!("outbox {name}"),
            &format!("{} max", thousands(o.depth_max)),
            &format!(
                "records waiting to be relayed · relay delay p99 {} · {} duplicates",
                ms(o.relay_delay_ms.p99),
                thousands(o.duplicates)
            ),
            o.depth_at_end > 0 || o.duplicates > 0,
        );
    }
    h.push_str("</div>\n");
}
