//! The terminal table of caches: hit ratio, lookups, misses, fills,
//! evictions, flushes and the keys resident at the end, one row per cache.
//! Printed only when the scenario has caches.

use sim_core::output::Summary;

use super::{right, shown, table};

pub fn render(s: &Summary) -> String {
    if s.caches.is_empty() {
        return String::new();
    }
    let mut t = table(&[
        "cache",
        "hit ratio %",
        "lookups",
        "misses",
        "expired",
        "fills",
        "evictions",
        "flushes",
        "flushed keys",
        "keys resident",
    ]);
    for (name, c) in &s.caches {
        t.add_row(vec![
            name.clone(),
            format!("{:.1}", c.hit_ratio * 100.0),
            c.lookups.to_string(),
            c.misses.to_string(),
            c.expired.to_string(),
            c.fills.to_string(),
            c.evictions.to_string(),
            c.flushes.to_string(),
            c.flushed_keys.to_string(),
            format!("{} of {}", c.keys_resident_at_end, c.capacity),
        ]);
    }
    right(&mut t, 1);
    format!("{}\n", shown(&mut t))
}
