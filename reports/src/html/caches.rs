//! The report's table of caches: one row per cache, beside the services
//! table (the hit-ratio chart is `charts::caches`). Absent without caches.

use std::fmt::Write as _;

use sim_core::output::Summary;

use super::escape;
use crate::numbers::thousands;

pub(super) fn caches_table(h: &mut String, s: &Summary) {
    if s.caches.is_empty() {
        return;
    }
    h.push_str("<h3>Caches</h3>\n<div class=\"table-wrap\"><table>\n<tr><th>cache</th><th>hit ratio</th><th>lookups</th><th>misses</th><th>of them expired</th><th>fills</th><th>evictions</th><th>flushes</th><th>keys flushed</th><th>keys resident at the end</th><th>key space</th></tr>\n");
    for (name, c) in &s.caches {
        let _ = write!(h, "<tr><td>{}</td>", escape(name));
        let cells = [
            format!("{:.1}%", c.hit_ratio * 100.0),
            thousands(c.lookups),
            thousands(c.misses),
            thousands(c.expired),
            thousands(c.fills),
            thousands(c.evictions),
            thousands(c.flushes),
            thousands(c.flushed_keys),
            format!(
                "{} of {}",
                thousands(c.keys_resident_at_end),
                thousands(u64::from(c.capacity))
            ),
            thousands(u64::from(c.keys)),
        ];
        for text in cells {
            let _ = write!(h, "<td>{text}</td>");
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</table></div>\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim_core::output::CacheSummary;

    #[test]
    fn one_row_per_cache_and_nothing_without_caches() {
        let mut s = crate::test_summary::empty_summary();
        let mut h = String::new();
        caches_table(&mut h, &s);
        assert!(h.is_empty());
        s.caches.insert(
            "p<x>".into(),
            CacheSummary {
                capacity: 20_000,
                keys: 100_000,
                lookups: 1_000,
                hits: 700,
                misses: 300,
                hit_ratio: 0.7,
                flushes: 1,
                keys_resident_at_end: 19_000,
                ..CacheSummary::default()
            },
        );
        caches_table(&mut h, &s);
        assert!(h.contains("<td>p&lt;x&gt;</td>"), "{h}");
        assert!(h.contains("19,000 of 20,000"), "{h}");
        assert_eq!(h.matches("<tr>").count(), 2, "{h}");
    }
}
