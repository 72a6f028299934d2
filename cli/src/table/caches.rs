//! The terminal table of caches: hit ratio, lookups, misses, fills,
//! evictions, flushes and the keys resident at the end, one row per cache;
//! stale hits and background refills when some cache served stale keys
//! (`stale_while_revalidate`). Printed only when the scenario has caches.

use sim_core::output::Summary;

use super::{right, shown, table};

pub fn render(s: &Summary) -> String {
    if s.caches.is_empty() {
        return String::new();
    }
    let stale = s.caches.values().any(|c| c.stale_hits > 0 || c.refills > 0);
    let mut header = vec!["cache", "hit ratio %", "lookups", "misses"];
    if stale {
        header.extend(["stale hits", "refills"]);
    }
    header.extend([
        "expired",
        "fills",
        "evictions",
        "flushes",
        "flushed keys",
        "keys resident",
    ]);
    let mut t = table(&header);
    for (name, c) in &s.caches {
        let mut row = vec![
            name.clone(),
            format!("{:.1}", c.hit_ratio * 100.0),
            c.lookups.to_string(),
            c.misses.to_string(),
        ];
        if stale {
            row.extend([c.stale_hits.to_string(), c.refills.to_string()]);
        }
        row.extend([
            c.expired.to_string(),
            c.fills.to_string(),
            c.evictions.to_string(),
            c.flushes.to_string(),
            c.flushed_keys.to_string(),
            format!("{} of {}", c.keys_resident_at_end, c.capacity),
        ]);
        t.add_row(row);
    }
    right(&mut t, 1);
    format!("{}\n", shown(&mut t))
}
