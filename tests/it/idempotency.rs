//! Idempotency stores on consumers (issue 19): a duplicate processed within
//! the store's TTL of the message's first success is a no-op.

use sim_core::output::QueueSummary;

use crate::common::{assert_books, assert_each_rejected, run_toml};

/// 50 messages whose processing (2 s) outlives the visibility timeout
/// (1 s): each is delivered twice and both processings succeed, the second
/// finishing about 1 s after the first.
fn slow_consumer(store: &str) -> String {
    format!(
        r#"
name = "idem"
duration = "60s"
drain = "120s"

[workload.orders]
target = "api"
rate = 100
arrivals = "deterministic"
requests = 50

[services.api]
threads = 16
steps = [{{ work = "1ms" }}, {{ publish = "jobs" }}]

[services.worker]
threads = 200
steps = [{{ work = "2s" }}]

[queues.jobs]
consumer = "worker"
concurrency = 200
visibility_timeout = "1s"
max_deliveries = 2
redelivery_backoff = "10ms"
{store}
"#
    )
}

fn jobs(store: &str) -> QueueSummary {
    let s = run_toml(&slow_consumer(store), 1).summary;
    assert_books(store, &s);
    s.queues["jobs"].clone()
}

/// Without a store every duplicate is a second side effect; with one whose
/// TTL covers the gap none is (each is absorbed); with a TTL shorter than
/// the gap the key is gone when the duplicate commits.
#[test]
fn a_store_turns_duplicates_within_its_ttl_into_no_ops() {
    let without = jobs("");
    assert_eq!(without.duplicates, 50, "{without:#?}");
    assert_eq!(without.duplicate_side_effects, 50);
    assert_eq!(without.duplicates_absorbed, 0);

    let with = jobs("idempotency = { ttl = \"10m\" }");
    assert_eq!(with.duplicates, 50, "{with:#?}");
    assert_eq!(with.duplicate_side_effects, 0);
    assert_eq!(with.duplicates_absorbed, 50);
    assert_eq!(with.idempotency_ttl_s, Some(600.0));

    let short = jobs("idempotency = { ttl = \"500ms\" }");
    assert_eq!(short.duplicates, 50, "{short:#?}");
    assert_eq!(short.duplicate_side_effects, 50);
    assert_eq!(short.duplicates_absorbed, 0);
}

/// Acknowledgements lost in a broker outage bring messages back after
/// their visibility timeout, after their first success: the store answers
/// at delivery, so the consumer's 50 ms of work is not done again.
#[test]
fn a_redelivery_after_success_skips_the_consumers_work() {
    let text = |store: &str| {
        slow_consumer(store)
            .replace("requests = 50", "requests = 400")
            .replace("work = \"2s\"", "work = \"50ms\"")
            .replace("visibility_timeout = \"1s\"", "visibility_timeout = \"5s\"")
            .replace("max_deliveries = 2", "")
            + "\n[[fault]]\ntarget = \"broker\"\noutage = true\nat = \"1s\"\nfor = \"1s\"\n"
    };
    let run = |store: &str| {
        let s = run_toml(&text(store), 3).summary;
        assert_books(store, &s);
        // Thread-seconds the worker was busy.
        let busy = s.services["worker"].busy_threads_mean * (s.end_time_s - s.warmup_s);
        (s.queues["jobs"].clone(), busy)
    };
    let (q0, busy0) = run("");
    let (q1, busy1) = run("idempotency = { ttl = \"1m\" }");
    assert!(
        q0.acks_lost > 0,
        "the outage must lose acknowledgements: {q0:#?}"
    );
    assert_eq!(q0.duplicates, q0.duplicate_side_effects);
    assert_eq!(q1.duplicates, q0.duplicates, "same deliveries either way");
    assert_eq!(q1.duplicate_side_effects, 0, "{q1:#?}");
    assert_eq!(q1.duplicates_absorbed, q1.duplicates);
    // Each skipped duplicate spares one 50 ms processing.
    let spared = busy0 - busy1;
    let expected = 0.050 * q1.duplicates as f64;
    assert!(
        (spared - expected).abs() < 0.05 * expected,
        "spared {spared} thread-seconds of work, expected about {expected}"
    );
}

#[test]
fn bad_stores_are_rejected_with_their_key() {
    let base = slow_consumer("");
    let cases = [
        (
            base.clone() + "idempotency = { ttl = \"0s\" }",
            "must be",
            "queues.jobs.idempotency.ttl",
        ),
        (
            base.clone() + "idempotency = { ttl = 5 }",
            "duration",
            "queues.jobs.idempotency.ttl",
        ),
        (
            base + "idempotency = { ttl = \"1m\", size = 3 }",
            "unknown field",
            "queues.jobs.idempotency",
        ),
    ];
    let cases: Vec<(String, &str, &str)> = cases.into_iter().collect();
    assert_each_rejected("idem-bad", &cases);
}
