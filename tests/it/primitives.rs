//! Load given as points in time and load-dependent work (`work_law`).

use crate::common::{assert_each_rejected, run_toml};

fn source_with(shape: &str, arrivals: &str) -> String {
    format!(
        r#"
name = "points"
duration = "100s"
[workload.w]
target = "s"
shape = {shape}
arrivals = "{arrivals}"
[services.s]
threads = 1000
steps = [{{ work = "1ms" }}]
"#
    )
}

/// A rate linear from 0 to 100/s over 100 s sends ∫ = 5,000 requests
/// (Poisson: sd √5000 ≈ 71; the check allows 4 sd).
#[test]
fn a_linear_points_shape_sends_its_integral() {
    let r = run_toml(
        &source_with(r#"{ points = [["0s", 0], ["100s", 100]] }"#, "poisson"),
        3,
    )
    .summary;
    let n = r.entries["w"].requests as f64;
    assert!((n - 5000.0).abs() < 4.0 * 5000f64.sqrt(), "{n}");
    // The first half sends a quarter.
    let s = sim_core::load(
        "p.toml",
        &source_with(r#"{ points = [["0s", 0], ["100s", 100]] }"#, "poisson"),
        &[],
    )
    .unwrap();
    let res = sim_core::run_scenario(&s, Some(3), &[]);
    let arrivals = res.timeseries.get("entry", "w", "arrivals_rps").unwrap();
    let first_half: f64 = arrivals.values[..50].iter().sum();
    assert!(
        (first_half - 1250.0).abs() < 4.0 * 1250f64.sqrt(),
        "{first_half}"
    );
}

/// Held rates: 10/s for 50 s then 100/s for 50 s, deterministic.
#[test]
fn a_step_points_shape_holds_each_rate_until_the_next_point() {
    let r = run_toml(
        &source_with(
            r#"{ points = [["0s", 10], ["50s", 100]], interpolate = "step" }"#,
            "deterministic",
        ),
        1,
    )
    .summary;
    let n = r.entries["w"].requests;
    assert!((5495..=5505).contains(&n), "{n}");
}

/// Two requests arrive together at a replica: the first starts alone (100
/// ms), the second with one other in flight (100 ms × (1 + 0.5)).
#[test]
fn work_law_fixes_each_steps_time_by_the_requests_in_flight_when_it_starts() {
    let toml = r#"
name = "law"
duration = "10s"
[workload.a]
target = "s"
rate = 1
arrivals = "deterministic"
[workload.b]
target = "s"
rate = 1
arrivals = "deterministic"
[services.s]
threads = 10
work_law = { per_in_flight = 0.5 }
steps = [{ work = "100ms" }]
"#;
    let r = run_toml(toml, 1).summary;
    let s = &r.services["s"];
    assert_eq!(s.completed, 18); // 9 pairs: at 1 s, 2 s, … 9 s
    assert!(
        (s.sojourn_ms.mean - 125.0).abs() < 1e-6,
        "{:?}",
        s.sojourn_ms
    );
    // Without the law, both take 100 ms.
    let plain = run_toml(&toml.replace("work_law = { per_in_flight = 0.5 }\n", ""), 1).summary;
    assert!((plain.services["s"].sojourn_ms.mean - 100.0).abs() < 1e-6);
}

#[test]
fn points_and_work_law_keys_are_checked() {
    let with = |shape: &str| source_with(shape, "poisson");
    assert_each_rejected(
        "points-keys",
        &[
            (
                with(r#"{ points = [["10s", 5], ["5s", 10]] }"#),
                "increasing time",
                "workload.w.shape.points.1",
            ),
            (
                with(r#"{ points = [["0s", 0], ["5s", 0]] }"#),
                "every rate is 0",
                "workload.w.shape.points",
            ),
            (
                with(r#"{ points = [["0s", -1]] }"#),
                "must be a rate",
                "workload.w.shape.points.0",
            ),
            (
                with(r#"{ spike = { rate = 5, at = "1s", for = "1s" }, interpolate = "step" }"#)
                    .replace("shape =", "rate = 5\nshape ="),
                "belongs to a `points` shape",
                "workload.w.shape.interpolate",
            ),
            (
                "name = \"x\"\nduration = \"1s\"\n[workload.w]\ntarget = \"s\"\nrate = 1\n[services.s]\nthreads = 1\nwork_law = { per_in_flight = -1 }\nsteps = [{ work = \"1ms\" }]\n".to_string(),
                "must be a factor",
                "services.s.work_law.per_in_flight",
            ),
        ],
    );
}
