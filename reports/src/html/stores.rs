//! The report's Versioned stores: the section's table (one row per store:
//! reads, writes committed, conditional writes, conflicts and their
//! share, versions, keys written of the key space; reads and writes a
//! store fault failed when there were any) and the stores' row of "At a
//! glance" (a tile per store: its conflict ratio). The chart is
//! `charts::stores`. Absent without stores.
//!
//! Owns the choice of those cells and tiles; must not compute figures
//! (they are the summary's).

use std::fmt::Write as _;

use sim_core::output::Summary;

use super::{escape, tile};
use crate::numbers::thousands;

pub(super) const LEAD: &str = "Shared state with versions (optimistic concurrency): each committed write makes a new version of its key; a conditional write that finds the version moved since its request's read is a conflict, and its request fails (a retry reads afresh).";

pub(super) fn stores_table(h: &mut String, s: &Summary) {
    if s.stores.is_empty() {
        return;
    }
    let faulted = s.stores.values().any(|st| st.failed > 0);
    h.push_str("<div class=\"table-wrap\"><table>\n<tr><th>store</th><th>reads</th><th>writes committed (new versions)</th><th>conditional writes</th><th>conflicts</th><th>conflict ratio</th><th>keys written</th><th>key space</th>");
    if faulted {
        h.push_str("<th>failed by a store fault</th>");
    }
    h.push_str("</tr>\n");
    for (name, st) in &s.stores {
        let _ = write!(h, "<tr><td>{}</td>", escape(name));
        let mut cells = vec![
            thousands(st.reads),
            thousands(st.writes),
            thousands(st.conditional_writes),
            thousands(st.conflicts),
            format!("{:.1}%", st.conflict_ratio * 100.0),
            thousands(st.keys_written),
            thousands(u64::from(st.keys)),
        ];
        if faulted {
            cells.push(thousands(st.failed));
        }
        for text in cells {
            let _ = write!(h, "<td>{text}</td>");
        }
        h.push_str("</tr>\n");
    }
    h.push_str("</table></div>\n");
}

/// "At a glance": a tile per store, bad past one conflict in ten
/// conditional writes (or when a fault failed any of its operations).
pub(super) fn glance(h: &mut String, s: &Summary) {
    if s.stores.is_empty() {
        return;
    }
    let _ = writeln!(h, "<p class=\"entry-name\">versioned stores</p>");
    h.push_str("<div class=\"tiles\">");
    for (name, st) in &s.stores {
        let mut sub = format!(
            "{} conflicts of {} conditional writes · {} committed",
            thousands(st.conflicts),
            thousands(st.conditional_writes),
            thousands(st.writes)
        );
        if st.failed > 0 {
            sub.push_str(&format!(" · {} failed by a fault", thousands(st.failed)));
        }
        tile(
            h,
            &format!("store {name}: conflicts"),
            &format!("{:.1}%", st.conflict_ratio * 100.0),
            &sub,
            st.conflict_ratio > 0.1 || st.failed > 0,
        );
    }
    h.push_str("</div>\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim_core::output::StoreSummary;

    #[test]
    fn one_row_and_one_tile_per_store_and_nothing_without_stores() {
        let mut s = crate::test_summary::empty_summary();
        let mut h = String::new();
        stores_table(&mut h, &s);
        glance(&mut h, &s);
        assert!(h.is_empty());
        s.stores.insert(
            "a<b".into(),
            StoreSummary {
                keys: 1_000,
                reads: 2_840,
                writes: 500,
                conditional_writes: 2_840,
                conflicts: 2_340,
                conflict_ratio: 2_340.0 / 2_840.0,
                keys_written: 1,
                failed: 0,
            },
        );
        stores_table(&mut h, &s);
        assert!(h.contains("<td>a&lt;b</td>"), "{h}");
        assert!(
            h.contains("<td>82.4%</td><td>1</td><td>1,000</td></tr>"),
            "{h}"
        );
        assert!(!h.contains("failed by a store fault"), "{h}");
        assert_eq!(h.matches("<tr>").count(), 2, "{h}");
        let mut g = String::new();
        glance(&mut g, &s);
        assert!(g.contains("tile bad") && g.contains("82.4%"), "{g}");
        s.stores.get_mut("a<b").expect("the store").failed = 7;
        let mut h = String::new();
        stores_table(&mut h, &s);
        assert!(
            h.contains("failed by a store fault</th>") && h.contains("<td>7</td>"),
            "{h}"
        );
    }
}
