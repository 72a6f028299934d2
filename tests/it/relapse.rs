//! A relapse seen in a simulated run, not a synthetic series: the shipped
//! `retry-echo.toml` recovers from a 3 s crash, then the refused
//! requests' synchronised retries re-ignite a storm it never leaves, and
//! the recovery verdict says so; `retry-echo-budget.toml` (a 10 % retry
//! budget) recovers and stays recovered.

use crate::common::{assert_books, repo_root};
use sim_core::output::{RunResult, Verdict};

fn run_shipped(file: &str, seed: u64) -> RunResult {
    let path = repo_root().join("scenarios").join(file);
    let text = std::fs::read_to_string(&path).expect("shipped scenario");
    let s = sim_core::load(path.to_str().expect("utf-8 path"), &text, &[])
        .unwrap_or_else(|e| panic!("{file} does not load: {e}"));
    sim_core::run_scenario(&s, Some(seed), &[])
}

#[test]
fn the_retry_echo_recovers_then_relapses_for_good() {
    for seed in [1, 2] {
        let r = run_shipped("retry-echo.toml", seed);
        assert_books("retry-echo", &r.summary);
        let rec = &r.summary.recovery[0];
        assert_eq!(rec.verdict, Verdict::Relapsed, "seed {seed}: {rec:?}");
        assert_eq!(rec.relapses, 1, "seed {seed}: {rec:?}");
        // Back when the crash ended, fallen again once the echo (40–43 s)
        // has filled the queue past the clients' timeout.
        assert_eq!(rec.first_recovered_at_s, Some(33.0), "{rec:?}");
        assert_eq!(rec.recovered_at_s, Some(33.0), "{rec:?}");
        let fell = rec.relapsed_at_s.expect("a relapse time");
        assert!((40.0..=45.0).contains(&fell), "seed {seed}: {rec:?}");
        assert_eq!(rec.recovery_time_s, None, "a relapse is no recovery");
        // It never came back: the last 20 s of arrivals see (almost) no
        // goodput.
        let e = &r.summary.entries["users"];
        assert!(e.error_rate > 0.5, "seed {seed}: {}", e.error_rate);
    }
}

#[test]
fn with_a_retry_budget_it_recovers_without_relapse() {
    let r = run_shipped("retry-echo-budget.toml", 1);
    let rec = &r.summary.recovery[0];
    assert_eq!(rec.verdict, Verdict::Recovered, "{rec:?}");
    assert_eq!(rec.relapses, 0, "{rec:?}");
    assert_eq!(rec.relapsed_at_s, None);
    let t = rec.recovery_time_s.expect("a recovery time");
    assert!(t < 2.0, "{rec:?}");
}
