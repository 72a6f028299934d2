//! Choreographed sagas (issue 19): each step is its queue's consumer; an
//! acknowledgement publishes the next step's message, a dead letter the
//! compensation, whose undos run in reverse order as consumers of the done
//! steps' queues. Every test checks the books (`started +
//! running_at_start = completed + compensated + stuck + running_at_end`)
//! and that no queue loses a message. (The order of the messages is
//! checked by a unit test in `sim-core/src/engine/choreo.rs`, which
//! records every step message published.)

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

/// `n` orders at 50/s: the API publishes `orders`, which starts the saga
/// reserve (queue `orders`) → charge (queue `reserved`) → ship (queue
/// `charged`); `extra` adds faults or keys.
fn orders(n: u32, extra: &str) -> String {
    format!(
        r#"
name = "choreo"
duration = "300s"

[network]
latency = "1ms"

[brokers.bus]
ack = "1ms"
delivery = "1ms"

[workload.checkout]
target = "api"
rate = 50
requests = {n}

[services.api]
threads = 64
steps = [{{ work = "1ms" }}, {{ publish = "orders" }}]

[queues.orders]
consumer = "inventory.reserve"
concurrency = 16
max_deliveries = 3
redelivery_backoff = "10ms"
visibility_timeout = "2s"
[queues.reserved]
consumer = "payment.charge"
concurrency = 16
max_deliveries = 1
visibility_timeout = "2s"
[queues.charged]
consumer = "shipping"
concurrency = 16
visibility_timeout = "2s"

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
mode = "choreographed"
steps = [
  {{ via = "orders", do = "inventory.reserve", undo = "inventory.release" }},
  {{ via = "reserved", do = "payment.charge", undo = "payment.refund" }},
  {{ via = "charged", do = "shipping" }},
]

{extra}
"#
    )
}

fn order_saga(text: &str, seed: u64) -> (Summary, SagaSummary) {
    let s = run_toml(text, seed).summary;
    assert_books("choreo", &s);
    assert_saga_books(&s);
    let g = s.sagas["order"].clone();
    (s, g)
}

/// Each step costs its work plus the broker: a delivery hop (1 ms) before
/// the consumer and the publish of the next message with the
/// acknowledgement; the saga starts when the API's message is in the
/// queue.
#[test]
fn a_healthy_choreographed_saga_completes_every_time() {
    let (s, g) = order_saga(&orders(500, ""), 1);
    assert_eq!((g.started, g.completed), (500, 500), "{g:#?}");
    assert_eq!((g.compensated, g.stuck, g.running_at_end), (0, 0, 0));
    assert!(g.choreographed && g.orchestrators.is_empty(), "{g:#?}");
    assert_eq!(g.steps[1].via.as_deref(), Some("reserved"));
    // Each acknowledgement publishes into the next step's queue.
    assert_eq!(s.queues["orders"].producers, ["api"]);
    assert_eq!(s.queues["reserved"].producers, ["inventory"]);
    assert_eq!(s.queues["charged"].producers, ["payment"]);
    // The API answers after its own work and the broker's ack (1 + 1 ms +
    // hops), whatever the saga does.
    assert!(s.entries["checkout"].latency_ms.p99 < 10.0);
    // 10 + 20 + 5 ms of work and three delivery hops of 1 ms: 38 ms.
    let p50 = g.time_to_completion_ms.p50;
    assert!((p50 - 38.0).abs() < 1.5, "{g:#?}");
    // First side effect (the reservation acknowledged) → completion: the
    // last two steps, 20 + 5 + 2 ms.
    let p50 = g.time_inconsistent_ms.p50;
    assert!((p50 - 27.0).abs() < 1.5, "{g:#?}");
    for q in ["orders", "reserved", "charged"] {
        assert_eq!(s.queues[q].acked, 500, "queue {q}");
    }
}

/// A payment failing 20 % of the time (the payment queue delivers once:
/// a declined card is final): about a fifth of the sagas are compensated,
/// the inventory released by a compensation message on `orders`.
#[test]
fn a_dead_lettered_payment_releases_the_inventory() {
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
    assert_eq!(s.queues["reserved"].dead_lettered, g.compensated);
    // Every reservation, and a release per compensated saga, on `orders`.
    assert_eq!(
        s.services["inventory"].arrivals,
        u64::from(n) + g.compensated
    );
    assert_eq!(s.queues["orders"].acked, u64::from(n) + g.compensated);
    // The shopper's answer does not wait for any of it.
    assert_eq!(s.entries["checkout"].ok, u64::from(n));
    // Inconsistent from the reservation's ack to the release's: the
    // charge (20 ms) and the release (10 ms) with their hops, 32 ms.
    let max = g.time_inconsistent_ms.max;
    assert!((max - 32.0).abs() < 1.5, "{g:#?}");
}

/// While the release fails on all its three deliveries, every
/// compensation is stuck at step 0 (dead-lettered); outside that window
/// they complete.
#[test]
fn a_dead_lettered_undo_leaves_the_saga_stuck() {
    let faults = "[[fault]]\ntarget = \"payment.charge\"\nerrors = 0.2\nat = \"0s\"\nfor = \"300s\"\n\n\
                  [[fault]]\ntarget = \"inventory.release\"\nerrors = 1.0\nat = \"10s\"\nfor = \"10s\"";
    let (s, g) = order_saga(&orders(2000, faults), 3);
    assert!(g.stuck > 20, "{g:#?}");
    assert!(g.compensated > 100, "{g:#?}");
    assert_eq!(g.steps[0].undo_failures, g.stuck);
    assert_eq!(g.steps[1].failures, g.compensated + g.stuck);
    assert_eq!(s.queues["orders"].dead_lettered, g.stuck);
}

/// A 10 s broker outage from 10 s: nothing is delivered or acknowledged
/// meanwhile, so sagas wait — and all of them complete afterwards. The
/// API's publishes fail during the outage (no saga starts for them).
#[test]
fn a_broker_outage_delays_sagas_but_loses_none() {
    let n = 1000;
    let outage = "[[fault]]\ntarget = \"bus\"\noutage = true\nat = \"10s\"\nfor = \"10s\"";
    // A delivery whose visibility timeout expires in the outage counts as
    // one: the payment queue needs more than one before a dead letter.
    let text = orders(n, outage).replace("max_deliveries = 1", "max_deliveries = 10");
    let (s, g) = order_saga(&text, 4);
    let (_, calm) = order_saga(&orders(n, ""), 4);
    assert_eq!(calm.completed, u64::from(n));
    let failed = s.entries["checkout"].failed.error;
    assert!(failed > 0, "publishes fail during the outage");
    assert_eq!(g.started, u64::from(n) - failed, "{g:#?}");
    assert_eq!((g.completed, g.running_at_end), (g.started, 0), "{g:#?}");
    assert_eq!((g.compensated, g.stuck), (0, 0));
    // Sagas caught mid-way waited for the broker: up to the outage plus
    // the visibility timeout of an acknowledgement lost in it.
    let max = g.time_to_completion_ms.max;
    assert!((8_000.0..13_000.0).contains(&max), "{g:#?}");
    assert!(calm.time_to_completion_ms.max < 100.0, "{calm:#?}");
}

/// A crash of the inventory service mid-run cuts its consumers off: their
/// messages come back after the visibility timeout and the sagas go on —
/// nothing of a choreographed saga lives in one process's memory.
#[test]
fn a_consumer_crash_delays_sagas_but_loses_none() {
    let n = 1000;
    let crash = "[[fault]]\ntarget = \"inventory\"\ncrash = true\nat = \"5s\"\nfor = \"1s\"";
    let (s, g) = order_saga(&orders(n, crash), 5);
    assert_eq!(
        (g.started, g.completed),
        (u64::from(n), u64::from(n)),
        "{g:#?}"
    );
    assert_eq!(g.orchestrators_lost, 0);
    // Reservations waited out the crash in their queue.
    assert!(g.time_to_completion_ms.max > 900.0, "{g:#?}");
    assert_eq!(s.queues["orders"].acked, u64::from(n));
}

#[test]
fn same_seed_same_choreographed_saga_figures() {
    let fault = "[[fault]]\ntarget = \"payment.charge\"\nerrors = 0.3\nat = \"0s\"\nfor = \"300s\"";
    let a = run_toml(&orders(300, fault), 9);
    let b = run_toml(&orders(300, fault), 9);
    assert_eq!(a, b);
}

#[test]
fn bad_choreographed_sagas_are_rejected_with_their_key() {
    let base = orders(10, "");
    let cases = vec![
        (
            base.replace("via = \"reserved\"", "via = \"reservd\""),
            "unknown queue `reservd`",
            "sagas.order.steps.1.via",
        ),
        (
            base.replace(
                "{ via = \"charged\", do = \"shipping\" }",
                "{ do = \"shipping\" }",
            ),
            "needs `via`",
            "sagas.order.steps.2",
        ),
        (
            base.replace("mode = \"choreographed\"\n", ""),
            "add `mode = \"choreographed\"`",
            "sagas.order.steps.0.via",
        ),
        (
            base.replace("{ publish = \"orders\" }", "{ saga = \"order\" }"),
            "saga `order` is choreographed",
            "services.api.steps.1.saga",
        ),
        (
            base.replace(
                "do = \"payment.charge\"",
                "do = { call = \"payment.charge\", timeout = \"1s\" }",
            ),
            "runs as its queue's consumer",
            "sagas.order.steps.1.do",
        ),
        (
            base.replace("do = \"payment.charge\"", "do = \"payment.refund\""),
            "consumed by `payment.charge`",
            "sagas.order.steps.1.do",
        ),
        (
            base.replace("undo = \"payment.refund\"", "undo = \"inventory.release\""),
            "name an operation of `payment`",
            "sagas.order.steps.1.undo",
        ),
        (
            base.replace(
                "{ via = \"charged\", do = \"shipping\" }",
                "{ via = \"reserved\", do = \"payment.charge\" }",
            ),
            "already triggers",
            "sagas.order.steps.2.via",
        ),
        (
            base.replace("{ publish = \"orders\" }", "{ publish = \"reserved\" }"),
            "only the saga publishes",
            "sagas.order.steps.1.via",
        ),
        (
            base.replace(
                "mode = \"choreographed\"",
                "mode = \"choreographed\"\nwhen_compensated = \"succeed\"",
            ),
            "no orchestrator",
            "sagas.order.when_compensated",
        ),
        (
            base.replace("mode = \"choreographed\"", "mode = \"choreographd\""),
            "unknown variant",
            "sagas.order.mode",
        ),
    ];
    assert_each_rejected("choreo-bad", &cases);
}

/// The README's comparison of `order-saga.toml` and
/// `order-saga-choreographed.toml` on one seed (common random numbers):
/// the shopper's answer is the same; without call timeouts a slow
/// inventory no longer turns reservations into compensations nor leaves
/// releases stuck — those sagas complete, late, so the slowest ones take
/// seconds longer; half-done sagas last about as long at p50.
#[test]
fn choreography_trades_compensations_for_late_completions() {
    let run = |file: &str| {
        let path = crate::common::repo_root().join("scenarios").join(file);
        let text = std::fs::read_to_string(path).unwrap();
        let s = run_toml(&text, 42).summary;
        assert_books(file, &s);
        assert_saga_books(&s);
        s
    };
    let (orch, chor) = (run("order-saga.toml"), run("order-saga-choreographed.toml"));
    let (a, b) = (&orch.sagas["order"], &chor.sagas["order"]);
    // The API answers before either saga begins: the same latencies.
    let (ea, eb) = (
        &orch.entries["checkout"].latency_ms,
        &chor.entries["checkout"].latency_ms,
    );
    assert!(
        eb.p99 < 200.0 && (ea.p99 - eb.p99).abs() < 1.0,
        "{ea:?} {eb:?}"
    );
    // Measured 296 → 58 compensated, 5 → 0 stuck: reservations that timed
    // out (253) now complete; the declined cards (5 %) remain.
    assert!(a.compensated > 3 * b.compensated, "{a:#?}\n{b:#?}");
    assert!(a.stuck >= 1 && b.stuck == 0, "{a:#?}\n{b:#?}");
    assert_eq!(b.steps[0].failures, 0, "no reservation fails: {b:#?}");
    let declined = b.steps[2].failures as f64 / b.started as f64;
    assert!((0.02..0.08).contains(&declined), "5 % declined: {declined}");
    // Measured p99 8.5 s → 14.8 s: the slow sagas finish instead of failing.
    let (ta, tb) = (a.time_to_completion_ms.p99, b.time_to_completion_ms.p99);
    assert!(tb > ta + 3000.0, "{ta} → {tb}");
    // Measured p50 3.41 s → 3.39 s: the same steps, a few ms of broker each.
    let (ia, ib) = (a.time_inconsistent_ms.p50, b.time_inconsistent_ms.p50);
    assert!((ib / ia - 1.0).abs() < 0.1, "{ia} → {ib}");
}

/// `report.html` gives sagas a section of their own (a table per saga and
/// the endings chart) and outboxes a chart and a card; a run with neither
/// has no such section.
#[test]
fn the_report_has_a_saga_section_only_with_sagas_or_outboxes() {
    let dir = crate::common::temp_dir("choreo-report");
    let root = crate::common::repo_root().join("scenarios");
    for (file, sagas, outbox) in [
        ("order-saga-choreographed.toml", true, false),
        ("playback-events.toml", false, true),
        ("checkout-sync.toml", false, false),
    ] {
        let out = dir.join(file);
        let path = root.join(file);
        let args = [
            "run",
            path.to_str().unwrap(),
            "--duration",
            "40s",
            "--quiet",
            "--out",
            out.to_str().unwrap(),
        ];
        let r = crate::common::cascade(&args);
        assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
        let page = std::fs::read_to_string(out.join("report.html")).unwrap();
        let has = |s: &str| page.contains(s);
        assert_eq!(has("<section id=\"sagas\">"), sagas || outbox, "{file}");
        assert_eq!(has("<h3>Saga order"), sagas, "{file}");
        assert_eq!(out.join("saga-endings.png").exists(), sagas, "{file}");
        assert_eq!(has("<h3>Outboxes</h3>"), outbox, "{file}");
        assert_eq!(has(">outbox playback<"), outbox, "the card: {file}");
        assert_eq!(out.join("outbox-depth.png").exists(), outbox, "{file}");
        // Claimed by the section's chart, so not again under "More series".
        assert!(!out.join("saga-completed_rps.png").exists(), "{file}");
        assert!(!out.join("outbox-depth-2.png").exists(), "{file}");
    }
}

/// `cascade check` follows a choreographed saga's queues one after the
/// other (its happy path): in `order-saga-choreographed.toml` shipping
/// quotes and labels every order twice over (monolith and saga), payment
/// charges each twice.
#[test]
fn check_counts_a_choreographed_sagas_steps() {
    let path = crate::common::repo_root().join("scenarios/order-saga-choreographed.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let s = sim_core::load("order-saga-choreographed.toml", &text, &[]).unwrap();
    let check = sim_core::check::analyze(&s.model);
    let rate = |name: &str| {
        check
            .services
            .iter()
            .find(|v| v.name == name)
            .map(|v| v.arrival_rate)
            .unwrap()
    };
    // 5 orders/s to each of the monolith and the API.
    assert!((rate("inventory") - 10.0).abs() < 1e-9);
    assert!((rate("shipping") - 20.0).abs() < 1e-9);
    assert!((rate("payment") - 10.0).abs() < 1e-9);
}
