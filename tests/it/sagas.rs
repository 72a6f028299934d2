//! Orchestrated sagas (issue 19): steps in order, compensation in reverse
//! when one fails, stuck when an undo fails past its retries. Every test
//! checks the books: `started + running_at_start = completed + compensated
//! + stuck + running_at_end`. (The order of the undos is checked by a unit
//! test in `sim-core/src/engine/saga.rs`, which records every call sent.)

use sim_core::output::{SagaSummary, Summary};

use crate::common::{assert_books, assert_each_rejected, run_toml};

fn assert_saga_books(s: &Summary) {
    assert!(!s.sagas.is_empty(), "scenario has no saga");
    for (name, g) in &s.sagas {
        assert_eq!(
            g.started + g.running_at_start,
            g.completed + g.compensated + g.stuck + g.running_at_end,
            "saga {name}: {g:#?}"
        );
    }
}

/// `n` orders at 50/s; the orchestrator `orders` runs reserve → charge →
/// ship; `extra` adds faults.
fn orders(n: u32, extra: &str) -> String {
    format!(
        r#"
name = "sagas"
duration = "300s"

[workload.checkout]
target = "orders"
rate = 50
requests = {n}

[services.orders]
threads = 64
steps = [{{ work = "1ms" }}, {{ saga = "order" }}]

[services.inventory]
threads = 16
[services.inventory.operations.reserve]
steps = [{{ work = "10ms" }}]
[services.inventory.operations.release]
steps = [{{ work = "10ms" }}]

[services.payment]
threads = 16
[services.payment.operations.charge]
steps = [{{ work = "20ms" }}]
[services.payment.operations.refund]
steps = [{{ work = "20ms" }}]

[services.shipping]
threads = 16
steps = [{{ work = "5ms" }}]

[sagas.order]
steps = [
  {{ do = "inventory.reserve", undo = {{ call = "inventory.release", retry = {{ max_attempts = 3, initial_interval = "10ms" }} }} }},
  {{ do = {{ call = "payment.charge", timeout = "1s" }}, undo = "payment.refund" }},
  {{ do = "shipping" }},
]

{extra}
"#
    )
}

fn order_saga(text: &str, seed: u64) -> (Summary, SagaSummary) {
    let s = run_toml(text, seed).summary;
    assert_books("sagas", &s);
    assert_saga_books(&s);
    let g = s.sagas["order"].clone();
    (s, g)
}

#[test]
fn a_healthy_saga_completes_every_time() {
    let (s, g) = order_saga(&orders(500, ""), 1);
    assert_eq!((g.started, g.completed), (500, 500), "{g:#?}");
    assert_eq!((g.compensated, g.stuck, g.running_at_end), (0, 0, 0));
    assert_eq!(g.orchestrators, ["orders"]);
    assert_eq!(s.entries["checkout"].ok, 500);
    // 10 + 20 + 5 ms of work in sequence, no queueing at 50/s.
    assert!((g.time_to_completion_ms.p50 - 35.0).abs() < 1.0, "{g:#?}");
    // First side effect (reserve answered, at 10 ms) → completion.
    assert!((g.time_inconsistent_ms.p50 - 25.0).abs() < 1.0, "{g:#?}");
}

/// A payment failing 20 % of the time: about a fifth of the sagas are
/// compensated (inventory released), each answering the client an error,
/// inconsistent from the reservation's answer (10 ms) to the release's
/// (10 + 20 + 10 ms): 30 ms, against 25 ms for a completed one.
#[test]
fn a_failed_payment_releases_the_inventory() {
    let n = 2000;
    let fault = "[[fault]]\ntarget = \"payment.charge\"\nerrors = 0.2\nat = \"0s\"\nfor = \"300s\"";
    let (s, g) = order_saga(&orders(n, fault), 2);
    assert_eq!(g.started, u64::from(n));
    // Binomial(2000, 0.2): sd 0.9 %; 4 % is over four sd.
    let share = g.compensated as f64 / g.started as f64;
    assert!((share - 0.2).abs() < 0.04, "compensated share {share}");
    assert_eq!(g.stuck, 0);
    assert_eq!(g.steps[1].failures, g.compensated, "{g:#?}");
    assert_eq!(g.steps[0].failures + g.steps[2].failures, 0);
    assert_eq!(s.entries["checkout"].failed.error, g.compensated);
    assert_eq!(
        s.services["inventory"].arrivals,
        u64::from(n) + g.compensated
    );
    let p50 = g.time_inconsistent_ms.p50;
    assert!((p50 - 25.0).abs() < 1.0, "most complete, in 25 ms: {g:#?}");
    assert!((g.time_inconsistent_ms.max - 30.0).abs() < 1.0, "{g:#?}");
}

/// While the release fails (after its three attempts), every compensation
/// is stuck at step 0; outside that window they complete.
#[test]
fn an_undo_failing_past_its_retries_leaves_the_saga_stuck() {
    let faults = "[[fault]]\ntarget = \"payment.charge\"\nerrors = 0.2\nat = \"0s\"\nfor = \"300s\"\n\n\
                  [[fault]]\ntarget = \"inventory.release\"\nerrors = 1.0\nat = \"10s\"\nfor = \"10s\"";
    let (s, g) = order_saga(&orders(2000, faults), 3);
    assert!(g.stuck > 20, "{g:#?}");
    assert!(g.compensated > 100, "{g:#?}");
    assert_eq!(g.steps[0].undo_failures, g.stuck);
    assert_eq!(g.steps[1].failures, g.compensated + g.stuck);
    // Each stuck saga tried the release three times, each compensated one
    // once (twice or three times only across the window's end).
    let releases = s.services["inventory"].arrivals - 2000;
    let extra = releases - 3 * g.stuck - g.compensated;
    assert!(extra <= 4, "{releases} releases: {g:#?}");
}

/// A crash of the orchestrator cuts off the sagas it was running: stuck,
/// counted as lost; the books still balance.
#[test]
fn an_orchestrator_crash_leaves_its_sagas_stuck() {
    let fault = "[[fault]]\ntarget = \"orders\"\ncrash = true\nat = \"5s\"\nfor = \"1s\"";
    let (_, g) = order_saga(&orders(1000, fault), 4);
    assert!(g.orchestrators_lost > 0, "{g:#?}");
    assert_eq!(g.stuck, g.orchestrators_lost);
    assert!(
        g.orchestrators_lost <= 3,
        "at most the sagas in flight: {g:#?}"
    );
}

#[test]
fn same_seed_same_saga_figures() {
    let fault = "[[fault]]\ntarget = \"payment.charge\"\nerrors = 0.3\nat = \"0s\"\nfor = \"300s\"";
    let a = run_toml(&orders(300, fault), 9);
    let b = run_toml(&orders(300, fault), 9);
    assert_eq!(a, b);
    assert!(
        a.timeseries
            .series
            .iter()
            .any(|s| s.scope == "saga" && s.metric == "running")
    );
}

#[test]
fn bad_sagas_are_rejected_with_their_key() {
    let base = orders(10, "");
    let cases = vec![
        (
            base.replace("{ saga = \"order\" }", "{ saga = \"ordr\" }"),
            "unknown saga `ordr`",
            "services.orders.steps.1.saga",
        ),
        (
            base.replace("{ do = \"shipping\" }", "{ do = \"shiping\" }"),
            "unknown service `shiping`",
            "sagas.order.steps.2.do",
        ),
        (
            base.replace("{ do = \"shipping\" }", "{ do = \"inventory.nope\" }"),
            "no operation `nope`",
            "sagas.order.steps.2.do",
        ),
        (
            format!("{base}\n[sagas.empty]\nsteps = []\n"),
            "at least one step",
            "sagas.empty.steps",
        ),
        (
            base.replace(
                "{ saga = \"order\" }",
                "{ saga = \"order\", work = \"1ms\" }",
            ),
            "exactly one of",
            "services.orders.steps.1",
        ),
    ];
    assert_each_rejected("saga-bad", &cases);
}

/// The shipped story (scenarios/order-saga.toml): the monolith answers in
/// about 4 s, the saga's API in well under 200 ms; declined cards are
/// compensated; sagas get stuck only during the inventory slowdown.
#[test]
fn order_saga_story_holds() {
    let path = crate::common::repo_root().join("scenarios/order-saga.toml");
    let text = std::fs::read_to_string(path).unwrap();
    let r = run_toml(&text, 42);
    let s = &r.summary;
    assert_books("order-saga", s);
    assert_saga_books(s);
    let g = &s.sagas["order"];
    let (mono, api) = (&s.entries["monolith"], &s.entries["checkout"]);
    assert!(
        (3000.0..5000.0).contains(&mono.latency_ms.p50),
        "{:?}",
        mono.latency_ms
    );
    assert!(api.latency_ms.p99 < 200.0, "{:?}", api.latency_ms);
    assert_eq!(api.failed.error + api.failed.timeout, 0);
    assert!(g.steps[2].failures > 20, "declined cards: {g:#?}");
    assert!(g.compensated + g.stuck >= g.steps[2].failures);
    assert!((1..=30).contains(&g.stuck), "{g:#?}");
    assert!(g.time_inconsistent_ms.p50 > 2000.0, "{g:#?}");
    // Stuck only while inventory is slow (120-180 s, plus the retries).
    let ts = &r.timeseries;
    let stuck = ts
        .series
        .iter()
        .find(|x| x.scope == "saga" && x.metric == "stuck_rps")
        .expect("saga series");
    for (t, v) in ts.window_start_s.iter().zip(&stuck.values) {
        if *v > 0.0 {
            assert!((120.0..200.0).contains(t), "stuck at {t} s");
        }
    }
}
