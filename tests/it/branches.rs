//! Branches, optional calls and mixture distributions: visit ratios against
//! their probabilities (binomial tolerances sized by the requests), books
//! kept, streams by identity, and bad input named by file, line, column and
//! key.

use crate::common::{assert_each_rejected, cascade, run_toml, temp_dir};

const HEAD: &str = r#"
name = "branches"
duration = "60s"
[network]
latency = "0.2ms"
[workload.reads]
target = "api"
rate = 200
"#;

const LEAVES: &str = r#"
[services.cache]
threads = 16
steps = [{ work = { dist = "exponential", mean = "0.5ms" } }]
[services.db]
threads = 16
steps = [{ work = { dist = "exponential", mean = "5ms" } }]
[services.fraud]
threads = 16
steps = [{ work = { dist = "exponential", mean = "2ms" } }]
"#;

/// |observed − n·p| within 4 binomial sd.
fn binomial(what: &str, hits: u64, n: u64, p: f64) {
    let (n_f, expect) = (n as f64, n as f64 * p);
    let sd = (n_f * p * (1.0 - p)).sqrt();
    let z = (hits as f64 - expect) / sd;
    println!("{what}: {hits} of {n}, expected {expect:.1} ± {sd:.1} (z = {z:+.2})");
    assert!(z.abs() < 4.0, "{what}: {hits} of {n}, p = {p}, z = {z:+.2}");
}

#[test]
fn branch_arms_are_taken_with_their_probabilities() {
    let api = r#"
[services.api]
threads = 64
steps = [
  { work = "1ms" },
  { branch = [
      { p = 0.8, steps = [{ call = "cache" }] },
      { p = 0.2, steps = [{ call = "db" }, { call = "cache" }] },
  ] },
  { call = "fraud", p = 0.3 },
  { work = "1ms" },
]
"#;
    let r = run_toml(&format!("{HEAD}{api}{LEAVES}"), 7).summary;
    let n = r.services["api"].arrivals;
    assert!(n > 11_000, "{n} requests");
    // Every request goes to the cache once (both arms call it); 20 % to db.
    assert_eq!(r.services["cache"].arrivals, n);
    binomial("db visits", r.services["db"].arrivals, n, 0.2);
    binomial("fraud visits", r.services["fraud"].arrivals, n, 0.3);
    // Books: each request one outcome, all fine at this load.
    let e = &r.entries["reads"];
    assert_eq!(e.requests, e.ok + e.in_flight_at_end);
    assert_eq!(e.error_rate, 0.0);
    // The arm taken changes the latency: db's 5 ms shows up in the tail.
    assert!(e.latency_ms.p99 > 5.0, "p99 {}", e.latency_ms.p99);
}

#[test]
fn nested_branches_multiply_their_probabilities() {
    let api = r#"
[services.api]
threads = 64
steps = [
  { branch = [
      { p = 0.5, steps = [
          { branch = [
              { p = 0.4, steps = [{ call = "db" }] },
              { p = 0.6, steps = [{ work = "0.1ms" }] },
          ] },
      ] },
      { p = 0.5, steps = [{ call = "cache" }] },
  ] },
]
"#;
    let r = run_toml(&format!("{HEAD}{api}{LEAVES}"), 3).summary;
    let n = r.services["api"].arrivals;
    binomial("db (0.5 × 0.4)", r.services["db"].arrivals, n, 0.2);
    binomial("cache (0.5)", r.services["cache"].arrivals, n, 0.5);
}

/// A mixture of 90 % 1 ms and 10 % 11 ms has mean 2 ms: at low load (no
/// queueing: 64 threads, 20 % busy) the service's mean sojourn is the mean
/// work. Sd of one draw: √(0.09·100) = 3 ms, so over n ≈ 12,000 requests
/// the sd of the mean is ≈ 0.027 ms; 4 sd ≈ 0.11 ms.
#[test]
fn a_mixture_work_time_has_its_mean() {
    let api = r#"
[services.api]
threads = 64
steps = [{ work = { dist = "mixture", of = [
    { p = 0.9, dist = "constant", value = "1ms" },
    { p = 0.1, dist = "constant", value = "11ms" },
] } }]
"#;
    let r = run_toml(&format!("{HEAD}{api}"), 5).summary;
    let s = &r.services["api"];
    assert!(s.arrivals > 11_000);
    let mean = s.sojourn_ms.mean;
    assert!((mean - 2.0).abs() < 0.11, "mean sojourn {mean} ms");
    assert!(
        s.sojourn_ms.max >= 11.0 && s.sojourn_ms.p50 <= 1.01,
        "{:?}",
        s.sojourn_ms
    );
}

/// A branch point draws from its own stream, named where it is written: a
/// branch added in another service moves none of api's draws.
#[test]
fn a_branch_elsewhere_moves_no_draw() {
    let api = r#"
[services.api]
threads = 64
steps = [{ call = "fraud", p = 0.3 }, { call = "cache" }]
"#;
    let other = r#"
[workload.other]
target = "batch"
rate = 50
[services.batch]
threads = 8
steps = [{ branch = [{ p = 0.5, steps = [{ work = "1ms" }] }, { p = 0.5, steps = [{ work = "2ms" }] }] }]
"#;
    let a = run_toml(&format!("{HEAD}{api}{LEAVES}"), 9).summary;
    let b = run_toml(&format!("{HEAD}{other}{api}{LEAVES}"), 9).summary;
    assert_eq!(a.services["fraud"].arrivals, b.services["fraud"].arrivals);
    assert_eq!(a.entries["reads"], b.entries["reads"]);
}

#[test]
fn bad_branches_are_named_with_file_line_column_and_key() {
    let with = |api: &str| format!("{HEAD}[services.api]\nthreads = 4\n{api}\n{LEAVES}");
    let cases = [
        (
            with(
                r#"steps = [{ branch = [{ p = 0.8, steps = [{ call = "db" }] }, { p = 0.1, steps = [{ call = "cache" }] }] }]"#,
            ),
            "must sum to 1",
            "services.api.steps.0.branch",
        ),
        (
            with(r#"steps = [{ branch = [{ p = 1.0, steps = [] }] }]"#),
            "at least one step",
            "services.api.steps.0.branch.0.steps",
        ),
        (
            with(r#"steps = [{ work = "1ms", p = 0.5 }]"#),
            "`p` makes a `call` optional",
            "services.api.steps.0.p",
        ),
        (
            with(r#"steps = [{ call = "db", p = 1.5 }]"#),
            "probability in [0, 1]",
            "services.api.steps.0.p",
        ),
        (
            with(r#"steps = [{ branch = [{ p = 1.0, stepz = [] }] }]"#),
            "unknown field",
            "services.api.steps.0.branch.0",
        ),
        (
            with(
                r#"steps = [{ work = { dist = "mixture", of = [{ p = 0.5, dist = "constant", value = "1ms" }, { p = 0.4, dist = "constant", value = "2ms" }] } }]"#,
            ),
            "must sum to 1",
            "services.api.steps.0.work.of",
        ),
        (
            with(r#"steps = [{ work = { dist = "exponential", mean = "1ms", p = 0.5 } }]"#),
            "`p` belongs to a part of a mixture",
            "services.api.steps.0.work.p",
        ),
    ];
    assert_each_rejected("branch-bad", &cases);
}

/// A call cycle through a branch's arm is named at the call that closes
/// it, by the key it is written at.
#[test]
fn a_cycle_through_a_branch_names_the_call() {
    let text = format!(
        "{HEAD}[services.api]\nthreads = 4\nsteps = [{{ call = \"db\" }}]\n\
         [services.db]\nthreads = 4\n\
         steps = [{{ branch = [{{ p = 0.5, steps = [{{ work = \"1ms\" }}] }}, {{ p = 0.5, steps = [{{ call = \"api\" }}] }}] }}]\n"
    );
    let dir = temp_dir("branch-cycle");
    let p = dir.join("cycle.toml");
    std::fs::write(&p, text).unwrap();
    let out = cascade(&["validate", p.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("synchronous call cycle"), "{err}");
    assert!(
        err.contains("services.db.steps.0.branch.1.steps.0")
            || err.contains("services.api.steps.0"),
        "{err}"
    );
}
