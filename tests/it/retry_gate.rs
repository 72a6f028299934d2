//! `retry.only_while_failure_rate_below`: first tries always go out,
//! retries only while the caller's recent failure ratio on the edge is
//! below the threshold. Under a total outage it caps the retry
//! amplification near 1; without it every call makes `max_attempts`.

use crate::common::run_toml;

/// api → db with 4 attempts; db answers every request with an error.
fn outage(gate: &str) -> String {
    format!(
        r#"
name = "retry-gate"
duration = "30s"
[network]
latency = "0.5ms"
[workload.w]
target = "api"
rate = 200
[services.api]
threads = 200
steps = [{{ call = "db", timeout = "1s", retry = {{ max_attempts = 4, backoff = "none"{gate} }} }}]
[services.db]
threads = 50
steps = [{{ work = "1ms" }}]
[[fault]]
target = "db"
errors = 1.0
at = "0s"
for = "30s"
"#
    )
}

#[test]
fn a_total_outage_stops_retries_once_the_ratio_is_high() {
    let plain = run_toml(&outage(""), 3).summary;
    let e = &plain.edges["api->db"];
    let calls = e.attempts - e.retries;
    assert_eq!(
        e.attempts,
        4 * calls,
        "without the gate every call tries 4 times"
    );
    assert_eq!(e.retries_suppressed, 0);

    let gated = run_toml(&outage(", only_while_failure_rate_below = 0.1"), 3).summary;
    let e = &gated.edges["api->db"];
    let calls = e.attempts - e.retries;
    let amplification = e.attempts as f64 / calls as f64;
    // Every answer fails, so the ratio is 1 from the first answer on: no
    // retry passes the gate; each call's first retry is counted as
    // suppressed instead.
    assert!(amplification < 1.01, "amplification {amplification}");
    // Every finished call asked for one retry and was refused (calls still
    // waiting at the end never asked).
    let unasked = calls - e.retries - e.retries_suppressed;
    assert!(unasked <= 5, "{unasked} calls never asked: {e:?}");
}

#[test]
fn below_the_threshold_retries_go_out_as_before() {
    // 5 % of answers fail: under a 10 % gate every failure is retried.
    let text =
        outage(", only_while_failure_rate_below = 0.1").replace("errors = 1.0", "errors = 0.05");
    let e = run_toml(&text, 5).summary.edges["api->db"].clone();
    assert!(e.retries > 100, "{e:?}");
    assert!(
        e.retries_suppressed * 100 < e.retries,
        "suppressed {} of {}",
        e.retries_suppressed,
        e.retries
    );
}
