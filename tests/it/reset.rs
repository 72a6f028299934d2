//! The `reset` outcome: requests an OOM kill cuts off end `reset` (their
//! callers' connections are reset), a `retry_on = ["reset"]` retries them,
//! and every request still has exactly one outcome.

use crate::common::{assert_books, run_toml};

/// Requests every 100 ms that hold their thread for 60 s, 1 MiB each, a
/// 50.5 MiB limit: the replica is killed as its 51st request arrives, at
/// 5.1, 20.1, 45.1 and 90.1 s (CrashLoopBackOff 10, 20, 40 s, then down to
/// the end), each kill cutting off the 51 requests it holds.
const OOM: &str = r#"
name = "reset"
duration = "100s"
window = "1s"
[workload.src]
target = "api"
rate = 10
arrivals = "deterministic"
timeout = "200s"
[services.api]
threads = 10000
memory = { limit = "50.5MiB", per_request = "1MiB" }
steps = [{ work = "60s" }]
"#;

#[test]
fn an_oom_kill_resets_exactly_the_requests_it_cuts_off() {
    let r = run_toml(OOM, 1);
    let s = &r.summary;
    let api = &s.services["api"];
    let m = api.memory.as_ref().expect("memory");
    assert_eq!(m.oom_kills, 4);
    assert_eq!(api.reset, Some(4 * 51), "51 requests held at each kill");
    // The rest arrived while the replica was down: refused. None ran to
    // an answer (each lived at most 5 s of its 60 s of work).
    assert_eq!(api.completed, 0);
    assert_eq!(api.arrivals, 4 * 51 + api.refused);
    // The entry counts a reset as it counts a refusal: `rejected`.
    let e = &s.entries["src"];
    assert_eq!(e.failed.rejected + e.in_flight_at_end, e.requests);
    assert_books("reset", s);
    // The series: 51 resets in each kill's window, 0 elsewhere.
    let ts = &r.timeseries;
    let resets = ts.get("service", "api", "reset_rps").expect("series");
    // One-second windows: a window's rate is its count.
    let total: f64 = resets.values.iter().sum();
    assert!((total - 204.0).abs() < 1e-9, "{total}");
    let windows: Vec<f64> = resets
        .values
        .iter()
        .zip(&ts.window_start_s)
        .filter(|(v, _)| **v > 0.0)
        .map(|(_, t)| *t)
        .collect();
    assert_eq!(windows, [5.0, 20.0, 45.0, 90.0]);
}

/// A caller in front of the killed service, whose call retries once on
/// `reset`: every reset is retried (the retry finds the replica down and
/// is refused, which it does not retry), so the edge's retries equal the
/// resets exactly; retrying on `timeout` alone retries none of them.
#[test]
fn a_retry_on_reset_retries_the_requests_an_oom_kill_cut_off() {
    let with = |retry_on: &str| {
        let toml = format!(
            r#"
name = "reset-retry"
duration = "100s"
[workload.src]
target = "front"
rate = 10
arrivals = "deterministic"
timeout = "200s"
[services.front]
threads = 10000
steps = [{{ call = "api", timeout = "200s", retry = {{ max_attempts = 2, retry_on = [{retry_on}], initial_interval = "1ms", jitter = "none" }} }}]
[services.api]
threads = 10000
memory = {{ limit = "50.5MiB", per_request = "1MiB" }}
steps = [{{ work = "60s" }}]
"#
        );
        run_toml(&toml, 1).summary
    };
    let on_reset = with(r#""reset""#);
    let api = &on_reset.services["api"];
    let resets = api.reset.expect("memory");
    assert_eq!(resets, 4 * 51);
    let edge = &on_reset.edges["front->api"];
    assert_eq!(edge.retries, resets, "one retry per reset");
    assert_books("reset-retry", &on_reset);

    // A retry on `timeout` only: the same resets, none retried.
    let on_timeout = with(r#""timeout""#);
    assert_eq!(on_timeout.services["api"].reset, Some(4 * 51));
    assert_eq!(on_timeout.edges["front->api"].retries, 0);
    assert_books("reset-no-retry", &on_timeout);
}

/// `run --trace` names the outcome: the cut-off requests' spans end with
/// status `reset` (and those refused while down with `refused`).
#[test]
fn a_traced_oom_kill_shows_reset_spans() {
    let dir = crate::common::temp_dir("reset-trace");
    let scenario = dir.join("oom.toml");
    std::fs::write(&scenario, OOM).unwrap();
    let trace = dir.join("trace");
    let out = crate::common::cascade(&[
        "run",
        scenario.to_str().unwrap(),
        "--out",
        dir.join("out").to_str().unwrap(),
        "--trace",
        trace.to_str().unwrap(),
        "--trace-sample",
        "1",
        "-q",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let otlp = std::fs::read_to_string(trace.join("trace.otlp.json")).unwrap();
    // Every request traced: 204 reset, the rest refused.
    assert!(otlp.contains("\"reset\""), "no reset status");
    assert!(otlp.contains("\"refused\""), "no refused status");
}
