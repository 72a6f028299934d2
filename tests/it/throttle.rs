//! Client-side adaptive throttling: a healthy callee is never throttled,
//! one that fails everything gets the trickle the SRE book's formula
//! gives in steady state (1 / (1 + R × window) of the attempts), and bad
//! settings name their key.

use crate::common::{assert_books, assert_each_rejected, run_toml};

/// 100 requests a second, evenly spaced, from `api` to `db`, whose
/// answers are errors with probability `errors` for the whole run.
fn throttled(errors: f64, throttle: &str) -> String {
    format!(
        r#"
name = "throttle"
duration = "100s"
[network]
latency = "0"
[workload.w]
target = "api"
rate = 100
arrivals = "deterministic"
[services.api]
threads = 50
steps = [{{ call = "db", timeout = "1s" {throttle} }}]
[services.db]
threads = 50
steps = [{{ work = "1ms" }}]
[[fault]]
target = "db"
errors = {errors}
at = "0s"
for = "1000s"
"#
    )
}

#[test]
fn a_healthy_callee_is_not_throttled() {
    let with = r#", throttle = { k = 2, window = "10s" }"#;
    // Every answer a success: requests never pass 2 × accepts.
    let s = run_toml(&throttled(0.0, with), 1).summary;
    assert_books("healthy", &s);
    assert_eq!(s.edges["api->db"].throttled, 0);
    // One in ten fails (k × s = 1.8): only the first window's noise.
    let s = run_toml(&throttled(0.1, with), 1).summary;
    let t = s.edges["api->db"].throttled;
    assert!(t < 100, "{t} of 10,000 turned away");
}

#[test]
fn a_failing_callee_gets_the_steady_state_trickle() {
    let plain = run_toml(&throttled(1.0, ""), 1).summary;
    assert!((9_999..=10_000).contains(&plain.services["db"].arrivals));
    let s = run_toml(
        &throttled(1.0, r#", throttle = { k = 2, window = "10s" }"#),
        1,
    )
    .summary;
    assert_books("failing", &s);
    let e = &s.edges["api->db"];
    // Every request is turned away or reaches db (the last may be in
    // flight at the end).
    let reached = e.throttled + s.services["db"].arrivals;
    assert!((9_999..=10_000).contains(&reached), "{e:?}");
    // The first 10 go (min_requests). From 10 s on the window holds R ×
    // window = 1,000 requests and no accept: each attempt goes with
    // probability 1 / 1,001, about 9 over the last 90 s; in between,
    // 1 / (n + 1) for the n-th: about ln(1,000 / 10) ≈ 4.6. Poisson
    // around 24: 24 ± 4 × 4.9.
    let sent = s.services["db"].arrivals;
    assert!(
        (10..=44).contains(&sent),
        "{sent} attempts reached the failing db"
    );
}

#[test]
fn bad_throttle_settings_name_their_key() {
    let text = |t: &str| throttled(0.0, &format!(", throttle = {{ {t} }}"));
    assert_each_rejected(
        "throttle-bad",
        &[
            (text("k = 0.5"), "multiplier", "throttle.k"),
            (
                text(r#"window = "0s""#),
                "longer than zero",
                "throttle.window",
            ),
            (text("kk = 2"), "unknown field", "kk"),
        ],
    );
}
