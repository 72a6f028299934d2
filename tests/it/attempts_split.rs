//! An edge's `attempts` split into those sent and those refused locally
//! (an open breaker, a rate limit or a bulkhead around the attempt), so
//! the load a callee saw is read directly; absent where nothing was
//! refused, so those summaries are unchanged.

use crate::common::{repo_root, run_toml};

#[test]
fn attempts_split_into_sent_and_refused_locally() {
    let path = repo_root().join("scenarios/circuit-breaker.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let s = run_toml(&text, 42).summary;
    let e = &s.edges["cart->inventory"];
    assert!(
        e.circuit_open > 1000,
        "the breaker opens: {}",
        e.circuit_open
    );
    let sent = e
        .attempts_sent
        .expect("reported where attempts were refused");
    assert_eq!(e.attempts_refused_locally, e.circuit_open);
    assert_eq!(sent + e.attempts_refused_locally, e.attempts);
    // No connection retries here: every sent attempt is one network call.
    assert_eq!(sent, e.calls);
    // Edges without refusals keep their old keys only.
    let p = &s.edges["cart->pricing"];
    assert_eq!((p.attempts_sent, p.attempts_refused_locally), (None, 0));
}

#[test]
fn a_rate_limit_and_a_bulkhead_refuse_attempts_locally() {
    let text = r#"
name = "local-refusals"
duration = "20s"
[network]
latency = "0.5ms"
[workload.w]
target = "api"
rate = 400
[services.api]
threads = 400
steps = [
  { call = "db", timeout = "1s", rate_limit = { rate = 200, burst = 10 } },
  { call = "db", timeout = "1s", bulkhead = { max_concurrent_calls = 2, max_wait_duration = "0ms" } },
]
[services.db]
threads = 100
steps = [{ work = "10ms" }]
"#;
    let s = run_toml(text, 1).summary;
    let e = &s.edges["api->db"];
    assert!(e.rate_limited > 0 && e.bulkhead_rejected > 0, "{e:?}");
    assert_eq!(
        e.attempts_refused_locally,
        e.rate_limited + e.bulkhead_rejected
    );
    assert_eq!(
        e.attempts_sent,
        Some(e.attempts - e.attempts_refused_locally)
    );
    assert_eq!(e.attempts_sent, Some(s.services["db"].arrivals));
}
