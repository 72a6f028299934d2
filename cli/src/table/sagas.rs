//! The terminal table of sagas: how many started and how each ended
//! (completed, compensated, stuck, still running), the time to completion
//! and the time inconsistent, and the step that failed most. Printed only
//! when the scenario has sagas.

use reports::numbers::sig3;
use sim_core::output::Summary;

use super::{right, shown, table};

pub fn render(s: &Summary) -> String {
    if s.sagas.is_empty() {
        return String::new();
    }
    let mut t = table(&[
        "saga",
        "started",
        "completed",
        "compensated",
        "stuck",
        "running at end",
        "completion p50 ms",
        "inconsistent p99 ms",
        "step failing most",
    ]);
    for (name, g) in &s.sagas {
        let worst = g
            .steps
            .iter()
            .filter(|st| st.failures + st.undo_failures > 0)
            .max_by_key(|st| st.failures + st.undo_failures)
            .map_or("-".to_string(), |st| {
                format!("{} ({}, {} undo)", st.name, st.failures, st.undo_failures)
            });
        t.add_row(vec![
            name.clone(),
            g.started.to_string(),
            g.completed.to_string(),
            g.compensated.to_string(),
            g.stuck.to_string(),
            g.running_at_end.to_string(),
            sig3(g.time_to_completion_ms.p50),
            sig3(g.time_inconsistent_ms.p99),
            worst,
        ]);
    }
    right(&mut t, 1);
    format!("{}\n", shown(&mut t))
}
