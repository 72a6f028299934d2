//! The terminal's one-line headline of the asynchronous side, printed
//! under the entries table whenever queues or outboxes exist: an entry can
//! be fast and never fail while its queues lag by a minute, hold
//! thousands of messages or process events twice — this line says so
//! before the tables further down do.

use reports::numbers::{sig3, thousands};
use sim_core::output::Summary;

pub fn render(s: &Summary) -> String {
    let mut parts = Vec::new();
    let lag = s
        .queues
        .iter()
        .max_by(|a, b| a.1.latency_ms.p99.total_cmp(&b.1.latency_ms.p99));
    if let Some((name, q)) = lag {
        parts.push(format!(
            "worst lag {name} p99 {} s",
            sig3(q.latency_ms.p99 / 1e3)
        ));
    }
    if let Some((name, q)) = s.queues.iter().max_by_key(|q| q.1.depth_max) {
        parts.push(format!("deepest backlog {name} {}", thousands(q.depth_max)));
    }
    if !s.queues.is_empty() {
        let dup: u64 = s.queues.values().map(|q| q.duplicates).sum();
        let side: u64 = s.queues.values().map(|q| q.duplicate_side_effects).sum();
        parts.push(format!(
            "duplicates {} ({} side effects)",
            thousands(dup),
            thousands(side)
        ));
    }
    for (name, o) in &s.outboxes {
        parts.push(format!(
            "outbox {name} max {} records, relay delay p99 {} s{}",
            thousands(o.depth_max),
            sig3(o.relay_delay_ms.p99 / 1e3),
            if o.duplicates > 0 {
                format!(", {} sent again", thousands(o.duplicates))
            } else {
                String::new()
            }
        ));
    }
    if parts.is_empty() {
        return String::new();
    }
    format!("asynchronous: {}\n", parts.join(" · "))
}
