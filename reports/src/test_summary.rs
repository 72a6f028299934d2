//! Test-only: the smallest summary a run could write (no entries,
//! services, edges or faults), for the unit tests of tables and charts
//! that fill in only what they show. One literal instead of one per test.

use sim_core::output::Summary;

/// One second measured, nothing in it; `scenario` "t", seed 1.
pub(crate) fn empty_summary() -> Summary {
    serde_json::from_str(
        r#"{"scenario":"t","seed":1,"version":"0","scenario_hash":"0","overrides":[],
            "sim_duration_s":1,"warmup_s":0,"end_time_s":1,"events":0,"entries":{},
            "services":{},"edges":{},"faults":[]}"#,
    )
    .expect("a minimal summary")
}
