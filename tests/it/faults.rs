//! Each fault kind, in a small scenario, does exactly what it says.

use crate::common::run_toml;
use sim_core::output::RunResult;

/// front → back, 200 deterministic requests/s, client timeout 500 ms, and
/// one fault on `target` from 10 s to 20 s.
fn with_fault(target: &str, fault: &str) -> RunResult {
    let text = format!(
        r#"
name = "fault"
duration = "30s"
[workload.w]
target = "front"
rate = 200
arrivals = "deterministic"
timeout = "500ms"
[services.front]
threads = 200
steps = [{{ call = "back", timeout = "200ms" }}]
[services.back]
threads = 10
queue = 100
steps = [{{ work = "10ms" }}]
[[fault]]
target = "{target}"
at = "10s"
for = "10s"
{fault}
"#
    );
    run_toml(&text, 1)
}

fn series(r: &RunResult, scope: &str, name: &str, metric: &str) -> Vec<f64> {
    r.timeseries
        .get(scope, name, metric)
        .unwrap_or_else(|| panic!("no {scope}/{name}/{metric}"))
        .values
        .clone()
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

#[test]
fn a_crash_refuses_at_once_without_timeouts() {
    let r = with_fault("back", "crash = true");
    let s = &r.summary;
    assert!(
        s.services["back"].refused >= 1990,
        "{:?}",
        s.services["back"]
    );
    assert_eq!(s.edges["front->back"].timeouts, 0);
    assert_eq!(s.entries["w"].failed.timeout, 0);
    // Refusals are fast: every failure answers well under the timeout.
    assert!(s.entries["w"].latency_all_ms.max < 50.0);
}

#[test]
fn a_hang_swallows_requests_until_the_timeouts() {
    let r = with_fault("back", "hang = true");
    let s = &r.summary;
    assert_eq!(s.services["back"].blackholed, 2000);
    assert_eq!(s.edges["front->back"].timeouts, 2000);
    assert_eq!(s.entries["w"].failed.error, 2000);
    assert!(s.entries["w"].latency_all_ms.max >= 200.0);
}

#[test]
fn a_pause_freezes_completions_for_its_length() {
    let r = with_fault("back", "pause = true");
    let done = series(&r, "service", "back", "completed_rps");
    // Nothing finishes in windows 11..19 (the first 10 ms of window 10 may).
    assert!(done[11..20].iter().all(|v| *v == 0.0), "{:?}", &done[9..22]);
    assert!(mean(&done[2..9]) > 190.0);
    // Requests waited out the pause: the client's 500 ms timeout fired.
    assert!(r.summary.entries["w"].failed.error + r.summary.entries["w"].failed.timeout > 1000);
}

#[test]
fn lost_threads_cap_the_busy_threads() {
    let r = with_fault("back", "lost_threads = 8");
    let busy = series(&r, "service", "back", "busy_threads");
    // 2 threads left, 2 s of work per second offered: saturated at 2.
    assert!(
        busy[11..20].iter().all(|v| (*v - 2.0).abs() < 1e-9),
        "{:?}",
        &busy[9..22]
    );
    assert!(mean(&busy[2..9]) < 2.5 && mean(&busy[2..9]) > 1.5);
}

#[test]
fn a_partition_loses_requests_and_callers_time_out() {
    let r = with_fault("front->back", "partition = true");
    let e = &r.summary.edges["front->back"];
    // 2000 requests sent during the partition, plus the few answers to
    // earlier requests that were on their way back when it began.
    assert!((2000..2010).contains(&e.lost_to_partition), "{e:?}");
    assert_eq!(e.timeouts, e.lost_to_partition);
    let arrived = r.summary.services["back"].arrivals;
    assert!((3990..=4000).contains(&arrived), "{arrived}");
}

#[test]
fn a_surge_multiplies_the_source_rate() {
    let r = with_fault("w", "surge = 3");
    let arrivals = series(&r, "entry", "w", "arrivals_rps");
    assert!(
        arrivals[11..20].iter().all(|v| (*v - 600.0).abs() <= 1.0),
        "{:?}",
        &arrivals[9..22]
    );
    assert!(
        arrivals[22..29].iter().all(|v| (*v - 200.0).abs() <= 1.0),
        "{:?}",
        &arrivals[20..30]
    );
    assert_eq!(r.summary.faults[0].kind, "surge");
}

/// `scenarios/replica-failure.toml` with its hung replica made 10× slow.
fn skewed(balancer: &str) -> RunResult {
    let text =
        std::fs::read_to_string(crate::common::repo_root().join("scenarios/replica-failure.toml"))
            .unwrap();
    let text = text.replace("hang = true", "slowdown = 10").replace(
        "balancer = \"power_of_two\"",
        &format!("balancer = \"{balancer}\""),
    );
    run_toml(&text, 1)
}

#[test]
fn power_of_two_choices_beats_random_on_the_tail_under_a_slow_replica() {
    let random = skewed("random").summary.entries["users"].latency_all_ms.p99;
    let p2c = skewed("power_of_two").summary.entries["users"]
        .latency_all_ms
        .p99;
    let least = skewed("least_outstanding").summary.entries["users"]
        .latency_all_ms
        .p99;
    // Random sends a quarter of the requests to a replica 10× slower; the
    // two-choice rule avoids it whenever it holds more requests.
    assert!(p2c < 0.5 * random, "p2c {p2c} ms vs random {random} ms");
    assert!(
        least < 0.5 * random,
        "least outstanding {least} ms vs random {random} ms"
    );
}

#[test]
fn a_black_hole_attracts_least_outstanding_traffic() {
    let text =
        std::fs::read_to_string(crate::common::repo_root().join("scenarios/replica-failure.toml"))
            .unwrap();
    let errors = |b: &str| {
        let t = text.replace(
            "balancer = \"power_of_two\"",
            &format!("balancer = \"{b}\""),
        );
        run_toml(&t, 1).summary.entries["users"].failed.error
    };
    let (rr, least) = (errors("round_robin"), errors("least_outstanding"));
    // Round robin: a quarter of 20 s × 800/s into the hole.
    assert!((3600..4400).contains(&rr), "{rr}");
    assert!(
        least > 2 * rr - 1000,
        "least outstanding {least} vs round robin {rr}"
    );
}

/// Arrivals of a 40 s Poisson source at 100/s shaped by `shape`.
fn shaped(shape: &str, seed: u64) -> (u64, Vec<f64>) {
    let text = format!(
        r#"
name = "shape"
duration = "40s"
[workload.w]
target = "s"
rate = 100
shape = {shape}
[services.s]
threads = 100
steps = [{{ work = "1ms" }}]
"#
    );
    let r = run_toml(&text, seed);
    (
        r.summary.entries["w"].requests,
        series(&r, "entry", "w", "arrivals_rps"),
    )
}

#[test]
fn load_shapes_produce_the_arrivals_their_integral_predicts() {
    // Poisson counts: sd = sqrt(expected); 4 sd of tolerance.
    let cases = [
        (
            "{ ramp = { to = 500, at = \"10s\", for = \"20s\" } }",
            100.0 * 10.0 + 300.0 * 20.0 + 500.0 * 10.0,
        ),
        (
            "{ spike = { rate = 1000, at = \"20s\", for = \"5s\" } }",
            100.0 * 35.0 + 1000.0 * 5.0,
        ),
        (
            "{ sine = { amplitude = 0.5, period = \"20s\" } }",
            100.0 * 40.0,
        ),
        (
            "{ steps = [{ at = \"10s\", rate = 300 }, { at = \"20s\", rate = 50 }] }",
            1000.0 + 3000.0 + 50.0 * 20.0,
        ),
    ];
    for (shape, expected) in cases {
        let (n, _) = shaped(shape, 3);
        let tolerance = 4.0 * f64::sqrt(expected);
        assert!(
            (n as f64 - expected).abs() < tolerance,
            "{shape}: {n} arrivals, expected {expected} ± {tolerance:.0}"
        );
    }
    // The spike is where it says: windows 20..25 near 1000/s, the rest near 100/s.
    let (_, rate) = shaped(cases[1].0, 4);
    assert!(
        rate[21..24].iter().all(|r| (r - 1000.0).abs() < 150.0),
        "{:?}",
        &rate[18..27]
    );
    assert!(
        rate[30..39].iter().all(|r| (r - 100.0).abs() < 50.0),
        "{:?}",
        &rate[28..40]
    );
}

#[test]
fn the_metastable_pair_gets_its_verdicts() {
    let run = |f: &str| {
        let text =
            std::fs::read_to_string(crate::common::repo_root().join(format!("scenarios/{f}.toml")))
                .unwrap();
        run_toml(&text, 1).summary
    };
    let stuck = run("metastable");
    assert_eq!(
        stuck.recovery[0].verdict,
        sim_core::recovery::Verdict::DidNotRecover,
        "{:?}",
        stuck.recovery[0]
    );
    let cured = run("metastable-budget");
    assert_eq!(
        cured.recovery[0].verdict,
        sim_core::recovery::Verdict::Recovered,
        "{:?}",
        cured.recovery[0]
    );
    let t = cured.recovery[0].recovery_time_s.expect("a recovery time");
    assert!(t < 15.0, "recovered only after {t} s");
}

#[test]
fn a_closed_loop_population_obeys_the_interactive_response_time_law() {
    // N users with think time Z: throughput X = N / (R + Z), an operational
    // law that holds for any service; only the requests still in flight at
    // the edges of the measured period blur it (N of ~30,000 here).
    let text = r#"
name = "closed"
duration = "200s"
warmup = "10s"
[workload.users]
target = "s"
users = 20
think = { dist = "exponential", mean = "100ms" }
[services.s]
threads = 4
queue = "unbounded"
steps = [{ work = { dist = "exponential", mean = "20ms" } }]
"#;
    let r = run_toml(text, 1).summary;
    let e = &r.entries["users"];
    let x = e.throughput_rps;
    let response = e.latency_all_ms.mean / 1e3;
    let law = 20.0 / (response + 0.1);
    assert!((x / law - 1.0).abs() < 0.01, "X {x} vs N/(R+Z) {law}");
    // Busy enough that queueing shows: R above the 20 ms of work.
    assert!(response > 0.024, "R {response}");
}

#[test]
fn processor_sharing_matches_mm1_ps_whatever_the_work_distribution() {
    // M/G/1-PS: mean sojourn = s / (1 − ρ), insensitive to the shape of the
    // work distribution. λ = 70/s, mean work 10 ms on 1 core: ρ = 0.7,
    // 33.3 ms. 139k requests per run: the relative sd of the mean sojourn is
    // about 1.2 % (from the M/M/1 spread in the theory suite), so 5 % is
    // about 4 sd.
    for work in [
        "{ dist = \"exponential\", mean = \"10ms\" }",
        "{ dist = \"lognormal\", mean = \"10ms\", cv = 2.0 }",
        "\"10ms\"",
    ] {
        let text = format!(
            r#"
name = "ps"
duration = "2000s"
warmup = "20s"
[workload.w]
target = "s"
rate = 70
[services.s]
threads = 1000
cores = 1
steps = [{{ work = {work} }}]
"#
        );
        let r = run_toml(&text, 2).summary;
        let s = &r.services["s"];
        let expected = 10.0 / (1.0 - 0.7);
        assert!(
            (s.sojourn_ms.mean / expected - 1.0).abs() < 0.05,
            "{work}: {} ms vs {expected}",
            s.sojourn_ms.mean
        );
        // Workers waiting for the CPU hold their threads: Little's law.
        assert!((s.busy_threads_mean / (70.0 * expected / 1e3) - 1.0).abs() < 0.05);
    }
}

/// A surge on a deterministic source keeps every arrival: 100/s for 10 s
/// (999 arrivals before 10 s) with the rate doubled for one second adds
/// exactly 100. (The anchor of the new spacing once skipped the arrival
/// already scheduled, losing one at each boundary: 1097.)
#[test]
fn a_surge_on_a_deterministic_source_loses_no_arrival() {
    let text = r#"
name = "det-surge"
duration = "10s"
[workload.w]
target = "a"
rate = 100
arrivals = "deterministic"
[services.a]
threads = 8
steps = [{ work = "1ms" }]
[[fault]]
target = "w"
surge = 2
at = "4s"
for = "1s"
"#;
    let r = crate::common::run_toml(text, 1).summary;
    assert_eq!(r.entries["w"].requests, 1099);
}
