//! The terminal table of versioned stores: reads, committed writes,
//! conditional writes, conflicts and their share, one row per store; and
//! under it the reads and writes a store outage failed (when any did) and
//! the conflicts of each service that writes conditionally.
//! Printed only when the scenario has stores.

use sim_core::output::Summary;

use super::{right, shown, table};

pub fn render(s: &Summary) -> String {
    if s.stores.is_empty() {
        return String::new();
    }
    let mut t = table(&[
        "store",
        "keys",
        "reads",
        "writes",
        "conditional",
        "conflicts",
        "conflict %",
    ]);
    for (name, st) in &s.stores {
        t.add_row(vec![
            name.clone(),
            st.keys.to_string(),
            st.reads.to_string(),
            st.writes.to_string(),
            st.conditional_writes.to_string(),
            st.conflicts.to_string(),
            format!("{:.1}", st.conflict_ratio * 100.0),
        ]);
    }
    right(&mut t, 1);
    let by_service: Vec<String> = s
        .services
        .iter()
        .filter_map(|(name, v)| Some(format!("{name} {}", v.conflicts?)))
        .collect();
    let mut out = format!("{}\n", shown(&mut t));
    let failed: Vec<String> = s
        .stores
        .iter()
        .filter(|(_, st)| st.failed > 0)
        .map(|(name, st)| format!("{name} {}", st.failed))
        .collect();
    if !failed.is_empty() {
        out.push_str(&format!(
            "reads and writes failed by a store outage: {}\n",
            failed.join(", ")
        ));
    }
    if !by_service.is_empty() {
        out.push_str(&format!(
            "conflicts by service: {}\n",
            by_service.join(", ")
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim_core::output::{ServiceSummary, StoreSummary};

    #[test]
    fn a_store_row_and_the_conflicts_of_each_writer() {
        let mut s: Summary = serde_json::from_str(
            r#"{"scenario": "t", "seed": 1, "version": "0", "scenario_hash": "0",
                "overrides": [], "sim_duration_s": 1, "warmup_s": 0, "end_time_s": 1,
                "events": 0, "entries": {}, "services": {}, "edges": {}, "faults": []}"#,
        )
        .unwrap();
        assert_eq!(render(&s), "", "no stores, no table");
        s.stores.insert(
            "counter".into(),
            StoreSummary {
                keys: 1,
                reads: 284,
                writes: 50,
                conditional_writes: 284,
                conflicts: 234,
                conflict_ratio: 234.0 / 284.0,
                keys_written: 1,
                failed: 0,
            },
        );
        s.services.insert(
            "api".into(),
            ServiceSummary {
                conflicts: Some(234),
                ..Default::default()
            },
        );
        let text = render(&s);
        assert!(text.contains("counter") && text.contains("82.4"), "{text}");
        assert!(text.contains("conflicts by service: api 234"), "{text}");
        assert!(!text.contains("outage"), "{text}");
        s.stores.get_mut("counter").expect("the store").failed = 9;
        let text = render(&s);
        assert!(
            text.contains("reads and writes failed by a store outage: counter 9"),
            "{text}"
        );
    }
}
