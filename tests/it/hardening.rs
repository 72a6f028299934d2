//! Inputs that once produced wrong numbers with exit 0 (issue 13): time
//! must never wrap. A work time beyond the end of time means "never
//! finishes in this run": the request stays in flight, utilisation stays in
//! [0, 1], no latency exceeds the run.

use crate::common::run_toml;

fn check_books(text: &str) {
    let r = run_toml(text, 1).summary;
    let horizon_ms = r.end_time_s * 1e3;
    for (name, e) in &r.entries {
        assert!(
            e.latency_all_ms.max <= horizon_ms + 1.0,
            "{name}: max latency {} ms in a {horizon_ms} ms run",
            e.latency_all_ms.max
        );
    }
    for (name, s) in &r.services {
        assert!(
            (0.0..=1.0).contains(&s.utilization),
            "{name}: utilisation {}",
            s.utilization
        );
    }
}

#[test]
fn an_enormous_slowdown_leaves_requests_in_flight_instead_of_wrapping() {
    let text = r#"
name = "huge-slowdown"
duration = "10s"
[workload.w]
target = "a"
rate = 100
[services.a]
threads = 4
queue = 10
steps = [{ work = "5ms" }]
[[fault]]
target = "a"
slowdown = 4e12
at = "2s"
for = "1s"
"#;
    check_books(text);
    let r = run_toml(text, 1).summary;
    let e = &r.entries["w"];
    // The four threads hold their requests for ever from 2 s on; nothing
    // completes after, and nothing is reported ok that did not finish.
    assert!(e.ok < e.requests, "{} ok of {}", e.ok, e.requests);
    assert!(e.ok < 350, "{} ok", e.ok);
}

#[test]
fn a_pareto_with_no_mean_keeps_time_monotone() {
    check_books(
        r#"
name = "heavy-tail"
duration = "10s"
[workload.w]
target = "a"
rate = 50
[services.a]
threads = 8
queue = 10
steps = [{ work = { dist = "pareto", scale = "1ms", shape = 0.05 } }]
"#,
    );
}
