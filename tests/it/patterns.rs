//! Resilience patterns end to end, in simulated runs: each does what its
//! library does, and costs what it costs.

use crate::common::{cascade, repo_root, run_toml, temp_dir};

/// A → B where B answers errors with probability 1 between 10 s and 20 s.
fn breaker_scenario() -> String {
    r#"
name = "breaker"
duration = "40s"
[workload.w]
target = "a"
rate = 200
arrivals = "deterministic"
[services.a]
threads = 50
steps = [{ call = "b", timeout = "1s", breaker = { sliding_window_size = 20, minimum_number_of_calls = 20, failure_rate_threshold = 50, wait_duration_in_open_state = "2s", permitted_number_of_calls_in_half_open_state = 5 } }]
[services.b]
threads = 50
steps = [{ work = "1ms" }]
[[fault]]
target = "b"
errors = 1.0
at = "10s"
for = "10s"
"#
    .to_owned()
}

#[test]
fn breaker_opens_within_its_window_and_closes_after_recovery() {
    let r = run_toml(&breaker_scenario(), 1);
    let e = &r.summary.edges["a->b"];
    // 200 calls/s, all failing from 10 s: the window of 20 calls fills in
    // 0.1 s, so the breaker opens at once and re-opens after each failed
    // half-open probe (every 2 s + 5 probes) until the fault ends at 20 s.
    assert!(e.breaker_times_opened >= 4, "{e:?}");
    // Open for most of the 10 s fault, closed soon after it.
    assert!(e.breaker_open_s > 8.0 && e.breaker_open_s < 12.5, "{e:?}");
    // While open, calls fail fast without touching B.
    assert!(e.circuit_open > 1500, "{e:?}");
    let b = &r.summary.services["b"];
    assert!(b.arrivals < 200 * 30 + 200, "B saw {} arrivals", b.arrivals);
    // After 20 s + the open wait + a half-open round, everything succeeds.
    let ok = r.timeseries.get("entry", "w", "goodput_rps").unwrap();
    let tail: f64 = ok.values[25..38].iter().sum::<f64>() / 13.0;
    assert!((tail - 200.0).abs() < 1.0, "goodput after recovery {tail}");
    let during: f64 = ok.values[11..19].iter().sum::<f64>() / 8.0;
    assert!(during < 5.0, "goodput during the fault {during}");
}

#[test]
fn retries_without_budget_multiply_arrivals_by_the_attempts() {
    let text = r#"
name = "amp"
duration = "10s"
[workload.w]
target = "a"
rate = 100
arrivals = "deterministic"
[services.a]
threads = 100
steps = [{ call = "b", retry = { max_attempts = 4, backoff = "constant", initial_interval = "1ms" } }]
[services.b]
threads = 100
steps = [{ work = "1ms" }]
[[fault]]
target = "b"
errors = 1.0
at = "0s"
for = "20s"
"#;
    let r = run_toml(text, 1).summary;
    let e = &r.edges["a->b"];
    let requests = r.entries["w"].requests;
    assert_eq!(requests, 999);
    // Every attempt fails, so each call makes exactly 4 attempts.
    assert_eq!(e.attempts, 4 * requests);
    assert_eq!(e.retries, 3 * requests);
    assert_eq!(r.services["b"].arrivals, 4 * requests);
    assert_eq!(r.amplification["b"], 4.0);
    assert_eq!(r.entries["w"].failed.error, requests);
}

#[test]
fn a_retry_budget_caps_the_amplification() {
    let text = r#"
name = "budget"
duration = "30s"
[workload.w]
target = "a"
rate = 100
arrivals = "deterministic"
[services.a]
threads = 100
steps = [{ call = "b", retry = { max_attempts = 4, backoff = "constant", initial_interval = "1ms", budget = { ratio = 0.1, min_retries_per_second = 0 } } }]
[services.b]
threads = 100
steps = [{ work = "1ms" }]
[[fault]]
target = "b"
errors = 1.0
at = "0s"
for = "40s"
"#;
    let r = run_toml(text, 1).summary;
    let e = &r.edges["a->b"];
    let requests = r.entries["w"].requests as f64;
    // Retries at most 10 % of requests (plus the deposit rounding).
    assert!((e.retries as f64) <= 0.1 * requests + 2.0, "{e:?}");
    assert!((e.retries as f64) >= 0.09 * requests, "{e:?}");
    assert!(e.retries_refused_by_budget > 0);
    assert!(r.amplification["b"] < 1.11);
}

#[test]
fn deadline_propagation_removes_the_work_done_after_callers_gave_up() {
    let file = repo_root().join("scenarios/deadlines.toml");
    let text = std::fs::read_to_string(&file).unwrap();
    let with = run_toml(&text, 1).summary;
    let without = run_toml(
        &text.replace("propagate_deadline = true", "propagate_deadline = false"),
        1,
    )
    .summary;
    let after = |s: &sim_core::output::Summary, svc: &str| s.services[svc].work_after_giveup_s;
    // svc only waits on db: with the deadline it stops waiting for nothing.
    assert!(after(&without, "svc") > 500.0);
    assert!(
        after(&with, "svc") < 0.02 * after(&without, "svc"),
        "{} vs {}",
        after(&with, "svc"),
        after(&without, "svc")
    );
    // db can overrun by at most the step in progress.
    assert!(after(&with, "db") < 0.4 * after(&without, "db"));
    assert!(with.services["db"].deadline_dropped > 1000);
    assert_eq!(without.services["db"].deadline_dropped, 0);
    assert!(with.entries["clients"].ok > without.entries["clients"].ok);
}

#[test]
fn a_bulkhead_keeps_the_healthy_dependency_latency_unchanged() {
    let file = repo_root().join("scenarios/bulkhead.toml");
    let text = std::fs::read_to_string(&file).unwrap();
    let no_fault = text.replace("slowdown = 50", "slowdown = 1");
    let faulted = run_toml(&text, 3).summary;
    let healthy = run_toml(&no_fault, 3).summary;
    let without_bulkhead = run_toml(
        &text.replace("bulkhead = { max_concurrent_calls = 10 }", "order = []"),
        3,
    )
    .summary;
    let p99 = |s: &sim_core::output::Summary| s.entries["products"].latency_ms.p99;
    // Same arrivals and catalog draws (common random numbers): the products'
    // p99 moves by less than 10 % with the bulkhead...
    assert!(
        (p99(&faulted) / p99(&healthy) - 1.0).abs() < 0.1,
        "{} vs {}",
        p99(&faulted),
        p99(&healthy)
    );
    assert_eq!(
        faulted.entries["products"].ok,
        faulted.entries["products"].requests
    );
    // ...and is many times worse without it.
    assert!(
        p99(&without_bulkhead) > 5.0 * p99(&healthy),
        "{}",
        p99(&without_bulkhead)
    );
    assert!(faulted.edges["shop->reviews"].bulkhead_rejected > 0);
}

#[test]
fn fallback_turns_failures_into_degraded_answers() {
    let file = repo_root().join("scenarios/circuit-breaker.toml");
    let text = std::fs::read_to_string(&file).unwrap();
    let r = run_toml(&text, 42).summary;
    let e = &r.entries["checkout"];
    assert!(e.degraded > 1000, "{e:?}");
    // Each degraded answer had a fallback; a few fallbacks belong to
    // requests that then failed further on (pricing) or arrived in warm-up.
    let fallbacks = r.edges["cart->inventory"].fallbacks;
    assert!(
        fallbacks >= e.degraded && fallbacks - e.degraded < e.degraded / 100,
        "{fallbacks} vs {}",
        e.degraded
    );
    let plain = run_toml(
        &std::fs::read_to_string(repo_root().join("scenarios/checkout.toml")).unwrap(),
        42,
    )
    .summary;
    assert!(e.goodput_rps > plain.entries["checkout"].goodput_rps + 30.0);
}

#[test]
fn hedging_sends_second_attempts_and_the_first_answer_wins() {
    let text = r#"
name = "hedge"
duration = "20s"
[workload.w]
target = "a"
rate = 100
[services.a]
threads = 100
steps = [{ call = "b", hedge = { hedging_delay = "20ms", max_attempts = 2 } }]
[services.b]
threads = 100
steps = [{ work = { dist = "empirical", values = ["5ms", "200ms"], weights = [90, 10] } }]
"#;
    let r = run_toml(text, 2).summary;
    let e = &r.edges["a->b"];
    // About 10 % of first attempts are slow (200 ms): they get hedged after
    // 20 ms, and the hedge (90 % fast) usually wins.
    let requests = r.entries["w"].requests as f64;
    assert!((e.hedges as f64 / requests - 0.1).abs() < 0.03, "{e:?}");
    assert!(e.hedges_won as f64 > 0.8 * e.hedges as f64, "{e:?}");
    assert!(r.entries["w"].latency_ms.p99 < 100.0);
    // The losers ran on: orphaned work at b.
    assert!(r.services["b"].orphaned_requests > 0);
}

#[test]
fn every_pattern_on_is_still_deterministic() {
    let dir1 = temp_dir("pat-det-1");
    let dir2 = temp_dir("pat-det-2");
    for f in [
        "retry-storm-budget",
        "circuit-breaker",
        "bulkhead",
        "deadlines",
        "jitter",
    ] {
        let file = repo_root().join(format!("scenarios/{f}.toml"));
        for d in [&dir1, &dir2] {
            let out = cascade(&[
                "run",
                file.to_str().unwrap(),
                "--duration",
                "30s",
                "--out",
                d.join(f).to_str().unwrap(),
            ]);
            assert!(
                out.status.success(),
                "{f}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        for name in ["summary.json", "timeseries.csv"] {
            assert_eq!(
                std::fs::read(dir1.join(f).join(name)).unwrap(),
                std::fs::read(dir2.join(f).join(name)).unwrap(),
                "{f}/{name}"
            );
        }
    }
}

#[test]
fn bad_pattern_settings_name_their_key_and_line() {
    let base = breaker_scenario();
    let check = |old: &str, new: &str, key: &str, line: &str| {
        let dir = temp_dir("badpat");
        let p = dir.join("badpat.toml");
        assert!(base.contains(old));
        std::fs::write(&p, base.replacen(old, new, 1)).unwrap();
        let out = cascade(&["validate", p.to_str().unwrap()]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains(key), "wanted {key} in {err}");
        assert!(err.contains(line), "wanted {line} in {err}");
    };
    check(
        "failure_rate_threshold = 50",
        "failure_rate_threshold = 150",
        "breaker.failure_rate_threshold",
        "badpat.toml:10:",
    );
    check(
        "sliding_window_size = 20",
        "sliding_window_size = 0",
        "breaker.sliding_window_size",
        "badpat.toml:10:",
    );
    check(
        "timeout = \"1s\",",
        "timeout = \"1s\", retry = { jitter = \"fulll\" },",
        "retry.jitter",
        "badpat.toml:10:",
    );
    check(
        "timeout = \"1s\",",
        "timeout = \"1s\", retry = { initial_interval = \"-5ms\" },",
        "retry.initial_interval",
        "badpat.toml:10:",
    );
}

#[test]
fn admission_control_limits_sheds_and_adapts_at_the_door() {
    let scenario = |admission: &str| {
        format!(
            r#"
name = "admission"
duration = "20s"
[workload.w]
target = "s"
rate = 400
arrivals = "deterministic"
[services.s]
threads = 4
queue = "unbounded"
steps = [{{ work = "20ms" }}]
admission = {admission}
"#
        )
    };
    // A token bucket of 100/s (burst 10) admits 100 a second of the 400.
    let r = run_toml(&scenario("{ rate_limit = { rate = 100, burst = 10 } }"), 1).summary;
    let s = &r.services["s"];
    let admitted = s.arrivals - s.rate_limited;
    assert!((admitted as f64 - 100.0 * 20.0).abs() <= 12.0, "{s:?}");
    // Capacity is 200/s: shedding requests that waited over 50 ms keeps the
    // unbounded queue from growing and bounds every wait that is served.
    let r = run_toml(&scenario("{ shed_queue_time = \"50ms\" }"), 1).summary;
    let s = &r.services["s"];
    assert!(s.shed > 3000, "{s:?}");
    assert!(s.queue_wait_ms.max <= 51.0, "{s:?}");
    // An adaptive limit refuses the excess instead of queueing it.
    let r = run_toml(&scenario("{ concurrency_limit = { algorithm = \"aimd\", initial_limit = 8, min_limit = 4, max_limit = 16 } }"), 1).summary;
    let s = &r.services["s"];
    assert!(s.concurrency_limited > 3000, "{s:?}");
    assert!(s.queue_len_max <= 16, "{s:?}");
}

/// `backoff = "none"` retries at once: with half the answers turned into
/// errors, three attempts fail together with probability 1/8 (4 binomial sd
/// over ~12,000 requests is ±0.012), and a retried request waits no backoff
/// (its latency stays within three round trips of the work).
#[test]
fn immediate_retries_wait_for_nothing() {
    let text = r#"
name = "immediate"
duration = "60s"
[network]
latency = "0.5ms"
[workload.w]
target = "a"
rate = 200
[services.a]
threads = 32
steps = [{ call = "b", timeout = "100ms", retry = { max_attempts = 3, backoff = "none" } }]
[services.b]
threads = 32
steps = [{ work = "1ms" }]
[[fault]]
target = "b"
errors = 0.5
at = "0s"
for = "60s"
"#;
    let r = crate::common::run_toml(text, 3).summary;
    let e = &r.entries["w"];
    assert!(e.requests > 11_000);
    assert!(
        (e.error_rate - 0.125).abs() < 0.012,
        "error rate {}",
        e.error_rate
    );
    assert!(r.edges["a->b"].retries > 5_000);
    // Three attempts of 1 ms work and two 0.5 ms hops each, and the
    // source's two 0.5 ms hops: at most 7 ms; any backoff would show.
    assert!(
        e.latency_ms.max <= 7.5,
        "max latency {} ms",
        e.latency_ms.max
    );
}

/// A closed loop with `requests` stops after exactly that many requests in
/// all, whichever users send them, and the run ends when they are answered.
#[test]
fn a_closed_loop_stops_after_its_requests() {
    let text = r#"
name = "closed"
duration = "600s"
[workload.users]
target = "a"
users = 10
think = { dist = "exponential", mean = "10ms" }
requests = 500
[services.a]
threads = 4
queue = "unbounded"
steps = [{ work = { dist = "exponential", mean = "2ms" } }]
"#;
    let r = crate::common::run_toml(text, 2).summary;
    let e = &r.entries["users"];
    assert_eq!(e.requests, 500);
    assert_eq!(e.ok, 500);
    assert!(r.end_time_s < 10.0, "ended at {} s", r.end_time_s);
}

/// Hedging at the q-th percentile sends extra attempts for about 1 − q of
/// the calls: the estimator must see the latency a call would have without
/// hedging (from its first attempt), not the winning hedge's own short time
/// (which settled the "p95" near the p90 and hedged twice as often).
///
/// Tolerance: over n ≈ 24,000 calls the binomial sd of the hedged share is
/// √(q(1−q)/n) ≈ 0.0014 at q = 0.95; the percentile is re-estimated from
/// windows of 1,000 latencies (sd of the share per estimate ≈
/// √(q(1−q)/1000) ≈ 0.0069, averaged over ~24 estimates ≈ 0.0014): about
/// 0.002 in all. Known biases, both upward: the nearest-rank estimate
/// leaves 51 of 1,001 above it (+0.1 pp) and the first 100 calls hedge at
/// the fixed 10 ms (+0.15 pp); measured +0.56 to +0.68 pp on seed 4. ±0.01
/// holds that with 2 sd to spare; at q = 0.9, ±0.015. The old estimator
/// (the winning attempt's own latency) hedged 10.1 % at p95 and fails.
#[test]
fn percentile_hedging_hedges_one_minus_q_of_the_calls() {
    for (work, q, tol) in [
        (r#"{ dist = "exponential", mean = "10ms" }"#, 95.0, 0.01),
        (r#"{ dist = "exponential", mean = "10ms" }"#, 90.0, 0.015),
        (
            r#"{ dist = "lognormal", median = "10ms", p99 = "80ms" }"#,
            95.0,
            0.01,
        ),
        (
            r#"{ dist = "lognormal", median = "10ms", p99 = "80ms" }"#,
            90.0,
            0.015,
        ),
    ] {
        let text = format!(
            r#"
name = "hedge-pct"
duration = "60s"
[workload.w]
target = "a"
rate = 400
[services.a]
threads = 1000
steps = [{{ call = "b", hedge = {{ percentile = {q}, hedging_delay = "10ms", max_attempts = 2 }} }}]
[services.b]
threads = 1000
steps = [{{ work = {work} }}]
"#
        );
        let r = crate::common::run_toml(&text, 4).summary;
        let e = &r.edges["a->b"];
        let calls = r.services["a"].arrivals as f64;
        let share = e.hedges as f64 / calls;
        let want = 1.0 - q / 100.0;
        println!("hedging at p{q} of {work}: {share:.4} of calls hedged, want {want}");
        assert!(
            (share - want).abs() < tol,
            "p{q} {work}: hedged {share:.4}, want {want}"
        );
    }
}
