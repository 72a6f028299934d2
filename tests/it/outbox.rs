//! Transactional outboxes (issue 19) and the playback-events story
//! (stories.md, story 4): an outbox loses nothing across a broker outage
//! and makes duplicates exactly where a crash lost a relay's mark; an
//! idempotency store turns redelivered events into no-ops, a consumer
//! without one counts them twice.

use sim_core::output::{OutboxSummary, Summary};

use crate::common::{assert_books, assert_each_rejected, repo_root, run_toml};

/// `written + depth_at_start = marked + depth_at_end` for every outbox.
fn assert_outbox_books(s: &Summary) {
    assert!(!s.outboxes.is_empty(), "scenario has no outbox");
    for (name, o) in &s.outboxes {
        assert_eq!(
            o.written + o.depth_at_start,
            o.marked + o.depth_at_end,
            "outbox {name}: {o:#?}"
        );
        assert!(o.duplicates <= o.marks_lost, "outbox {name}: {o:#?}");
    }
}

/// 300 orders at 100/s written to `api`'s outbox (two replicas); the
/// broker is down from 1 s to 2 s; `extra` adds faults.
fn orders(extra: &str) -> String {
    format!(
        r#"
name = "outbox"
duration = "10s"
window = "250ms"

[workload.orders]
target = "api"
rate = 100
arrivals = "deterministic"
requests = 300

[services.api]
replicas = 2
threads = 8
steps = [{{ work = "2ms" }}, {{ publish = "jobs", outbox = {{ every = "50ms", batch = 10 }} }}]

[services.worker]
threads = 8
steps = [{{ work = "1ms" }}]

[brokers.bus]
ack = "20ms"

[queues.jobs]
consumer = "worker"
concurrency = 8

[[fault]]
target = "bus"
outage = true
at = "1s"
for = "1s"
{extra}
"#
    )
}

fn outbox(text: &str) -> (Summary, OutboxSummary) {
    let s = run_toml(text, 1).summary;
    assert_books("outbox", &s);
    assert_outbox_books(&s);
    let o = s.outboxes["api"].clone();
    (s, o)
}

/// The producer never waits for the broker: every order succeeds through
/// the outage, the outbox holds what was written meanwhile and the relay
/// publishes all of it afterwards.
#[test]
fn an_outbox_keeps_every_record_through_a_broker_outage() {
    let (s, o) = outbox(&orders(""));
    assert_eq!(s.entries["orders"].ok, 300);
    assert_eq!(
        (o.written, o.sent, o.marked, o.duplicates),
        (300, 300, 300, 0)
    );
    // 100 records written in the outage, plus what was waiting for a poll.
    assert!((100..=125).contains(&o.depth_max), "{o:#?}");
    assert!(o.relay_delay_ms.max > 900.0, "{o:#?}");
    assert_eq!(s.queues["jobs"].published, 300);
    assert_eq!(s.queues["jobs"].acked, 300);
}

/// Crashing one replica at 2.51 s (its relay has a batch in flight) makes
/// that batch be sent again after the restart: as many duplicates as
/// records whose mark was lost, and the queue sees each one once more.
#[test]
fn a_crash_between_send_and_mark_duplicates_exactly_the_batch_in_flight() {
    let (s, o) = outbox(&orders(
        r#"
[[fault]]
target = "api"
replica = 0
crash = true
at = "2510ms"
for = "300ms"
"#,
    ));
    assert!(o.marks_lost > 0 && o.marks_lost <= 10, "{o:#?}");
    assert_eq!(o.duplicates, o.marks_lost, "{o:#?}");
    assert_eq!(o.sent, o.written + o.duplicates);
    assert_eq!(s.queues["jobs"].published, o.sent);
    assert_eq!(o.depth_at_end, 0);
}

/// The same scenario and seed give the same outbox figures.
#[test]
fn outbox_runs_are_deterministic() {
    let text = orders("");
    assert_eq!(run_toml(&text, 7).summary, run_toml(&text, 7).summary);
}

#[test]
fn bad_outboxes_are_rejected_with_their_key() {
    let base = orders("");
    let cases = vec![
        (
            base.replace("every = \"50ms\"", "every = \"0s\""),
            "must be longer than 0",
            "services.api.steps.1.outbox.every",
        ),
        (
            base.replace("batch = 10", "batch = 0"),
            "at least one record",
            "services.api.steps.1.outbox.batch",
        ),
        (
            base.replace(
                "{ work = \"2ms\" }",
                "{ work = \"2ms\", outbox = { every = \"1s\" } }",
            ),
            "`outbox` belongs to a `publish` step",
            "services.api.steps.0.outbox",
        ),
        (
            base.replace(
                "{ work = \"2ms\" }",
                "{ publish = \"jobs\", outbox = { every = \"1s\" } }",
            ),
            "one outbox and one relay",
            "services.api.steps.1.outbox",
        ),
    ];
    assert_each_rejected("outbox-bad", &cases);
}

/// The shipped story (scenarios/playback-events.toml): playback through
/// the outbox answers in milliseconds and never fails, whatever the
/// consumers and the broker do, while the synchronous transaction fails
/// with each of them; redelivered events are absorbed by the consumers
/// with an idempotency store and counted twice by the one without.
#[test]
fn playback_events_story_holds() {
    let path = repo_root().join("scenarios/playback-events.toml");
    let text = std::fs::read_to_string(path).unwrap();
    let s = run_toml(&text, 42).summary;
    assert_books("playback-events", &s);
    assert_outbox_books(&s);
    let (sync, play) = (&s.entries["play-sync"], &s.entries["play"]);
    assert_eq!(play.error_rate, 0.0, "{play:#?}");
    assert!(play.latency_ms.p99 < 20.0, "{play:#?}");
    assert!(sync.error_rate > 0.15, "{sync:#?}");
    assert!(sync.latency_ms.p99 > 1000.0, "{sync:#?}");
    let (history, trending) = (&s.queues["to-history"], &s.queues["to-trending"]);
    // The same slowdown redelivers about as many events to both.
    for q in [history, trending] {
        assert!((50..=400).contains(&q.duplicates), "{q:#?}");
    }
    assert_eq!(history.duplicate_side_effects, 0, "{history:#?}");
    assert_eq!(trending.duplicate_side_effects, trending.duplicates);
    // The broker outage: the outbox grows by about 10 s × 50/s, then drains.
    let o = &s.outboxes["playback"];
    assert!((450..=650).contains(&o.depth_max), "{o:#?}");
    assert_eq!((o.duplicates, o.depth_at_end), (0, 0));
}
