//! Review probes of the broker: invariants under combined faults.

use sim_core::output::Summary;

use crate::common::run_toml;

fn check_invariants(s: &Summary, label: &str) {
    for (name, q) in &s.queues {
        assert_eq!(
            q.published + q.queued_at_start,
            q.acked + q.dead_lettered + q.queued_at_end,
            "{label}: queue {name} lost or invented messages: {q:#?}"
        );
        assert!(q.redelivered <= q.delivered, "{label}: {name}: {q:#?}");
        if let Some(c) = q.capacity {
            assert!(q.unacked_max <= u64::from(c), "{label}: {name}: {q:#?}");
        }
    }
}

fn stress(knobs: &[(&str, &str)]) -> String {
    let mut text = r#"
name = "stress"
duration = "12s"
warmup = "WARMUP"
drain = "DRAIN"
window = "700ms"

[workload.orders]
target = "api"
rate = 150

[services.api]
threads = 40
queue = 50
steps = [{ work = "1ms" }, { publish = "TARGET", poison = POISON }]

[services.worker]
threads = 4
replicas = 3
steps = [{ work = { dist = "exponential", mean = "WORK" } }, { call = "dep", timeout = "40ms" }]

[services.dep]
threads = 3
steps = [{ work = { dist = "exponential", mean = "8ms" } }]

[services.audit]
threads = 2
steps = [{ work = "4ms" }]

[topics.events]
subscriptions = ["jobs", "audit"]
when_full = "WHEN_FULL"

[queues.jobs]
consumer = "worker"
concurrency = 3
capacity = 60
when_full = "WHEN_FULL"
visibility_timeout = "VIS"
max_deliveries = 4
redelivery_backoff = "20ms"
redelivery_backoff_max = "200ms"

[queues.audit]
consumer = "audit"
concurrency = 2
capacity = 80
visibility_timeout = "150ms"
max_deliveries = 3
redelivery_backoff = "30ms"

FAULTS
"#
    .to_owned();
    for (k, v) in knobs {
        text = text.replace(k, v);
    }
    text
}

const FAULTS: &str = r#"
[[fault]]
target = "broker"
outage = true
at = "3s"
for = "1500ms"

[[fault]]
target = "worker"
crash = true
replica = 0
at = "2s"
for = "3s"

[[fault]]
target = "worker"
hang = true
replica = 1
at = "4s"
for = "1s"

[[fault]]
target = "worker"
pause = true
replica = 2
at = "6s"
for = "500ms"

[[fault]]
target = "worker"
lost_threads = 2
at = "7s"
for = "2s"

[[fault]]
target = "dep"
errors = 0.3
at = "1s"
for = "6s"

[[fault]]
target = "api"
crash = true
at = "8s"
for = "300ms"

[[fault]]
target = "broker"
outage = true
at = "9s"
for = "200ms"
"#;

#[test]
fn combined_faults_lose_no_message() {
    let mut n = 0;
    for target in ["events", "jobs"] {
        for when_full in ["block\"\nmax_block = \"400ms", "fail"] {
            for (vis, work) in [("300ms", "20ms"), ("60ms", "30ms")] {
                for (warmup, drain) in [("0s", "60s"), ("2500ms", "1s"), ("3200ms", "0s")] {
                    for poison in ["0.0", "0.05"] {
                        let text = stress(&[
                            ("WARMUP", warmup),
                            ("DRAIN", drain),
                            ("TARGET", target),
                            ("POISON", poison),
                            ("WORK", work),
                            ("VIS", vis),
                            ("WHEN_FULL", when_full),
                            ("FAULTS", FAULTS),
                        ]);
                        let label = format!(
                            "{target} {when_full:?} vis {vis} warmup {warmup} drain {drain} poison {poison}"
                        );
                        let r = run_toml(&text, n);
                        n += 1;
                        check_invariants(&r.summary, &label);
                        if drain == "60s" {
                            for (name, q) in &r.summary.queues {
                                assert_eq!(q.queued_at_end, 0, "{label}: {name} stuck: {q:#?}");
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Runs `text` on another thread; `None` if it has not finished within
/// `secs` seconds (the thread is left spinning until the process exits).
fn run_with_deadline(text: String, secs: u64) -> Option<sim_core::output::RunResult> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(run_toml(&text, 1));
    });
    rx.recv_timeout(std::time::Duration::from_secs(secs)).ok()
}

/// With `redelivery_backoff = "0s"` and no network latency, a consumer
/// whose dependency is crashed fails in zero time, so the message would be
/// redelivered at the same instant for ever (the clock never moves, the run
/// never ends): a zero backoff is refused when the scenario loads.
#[test]
fn zero_redelivery_backoff_is_refused() {
    let text = r#"
name = "livelock"
duration = "2s"
drain = "1s"

[workload.orders]
target = "api"
rate = 10
requests = 1

[services.api]
threads = 4
steps = [{ publish = "jobs" }]

[services.worker]
threads = 1
steps = [{ call = "dep" }]

[services.dep]
threads = 1
steps = [{ work = "1ms" }]

[queues.jobs]
consumer = "worker"
redelivery_backoff = "0s"

[[fault]]
target = "dep"
crash = true
at = "0s"
for = "1s"
"#;
    // Refused when the scenario loads, naming the key; a positive backoff
    // lets the run end.
    let err = sim_core::load("livelock.toml", text, &[]).unwrap_err();
    assert!(
        err.to_string().contains("queues.jobs.redelivery_backoff"),
        "{err}"
    );
    let r = run_with_deadline(text.replace("\"0s\"", "\"1ms\""), 5);
    assert!(r.is_some(), "the run never ends");
}

/// A consumer crash cuts off a delivery (the broker is told nothing); the
/// visibility timeout then dead-letters it with no processing left. Its
/// slot must still be freed (the engine's debug check at the end of a run
/// catches a settled message whose slot was never released).
#[test]
fn a_message_dead_lettered_after_a_crash_frees_its_slot() {
    let text = r#"
name = "leak"
duration = "5s"
drain = "10s"

[workload.orders]
target = "api"
rate = 100
requests = 200

[services.api]
threads = 4
steps = [{ publish = "jobs" }]

[services.worker]
threads = 4
steps = [{ work = "30ms" }]

[queues.jobs]
consumer = "worker"
concurrency = 4
visibility_timeout = "200ms"
max_deliveries = 1

[[fault]]
target = "worker"
crash = true
at = "500ms"
for = "100ms"
"#;
    let s = run_toml(text, 1).summary;
    check_invariants(&s, "leak");
    let q = &s.queues["jobs"];
    assert!(q.dead_lettered > 0, "{q:#?}");
}

/// Each request publishes two messages to `jobs` from two different
/// `publish` steps, each poison with probability ½. Every poison message
/// is dead-lettered (one delivery allowed), every other one acknowledged.
fn two_publish_steps(seed: u64) -> u64 {
    let text = r#"
name = "two-steps"
duration = "10s"

[workload.orders]
target = "api"
rate = 20
requests = 40

[services.api]
threads = 4
steps = [{ publish = "jobs", poison = 0.5 }, { publish = "jobs", poison = 0.5 }]

[services.worker]
threads = 4
steps = [{ work = "1ms" }]

[queues.jobs]
consumer = "worker"
max_deliveries = 1
"#;
    let s = run_toml(text, seed).summary;
    check_invariants(&s, "two-steps");
    let q = &s.queues["jobs"];
    assert_eq!(q.published, 80);
    assert_eq!(q.acked + q.dead_lettered, 80);
    q.dead_lettered
}

/// Two publish steps aiming at the same target used to draw their poison
/// coins from streams of the same name (`poison/<target>`), hence the same
/// sequence: the k-th message of one step was poison exactly when the k-th
/// of the other was. Here both steps run once per request, so the poison
/// messages came in pairs and their count was always even (with
/// independent coins, twelve even counts in a row have probability 1/4096).
#[test]
fn poison_coins_of_two_publish_steps_are_independent() {
    let counts: Vec<u64> = (1..=12).map(two_publish_steps).collect();
    assert!(
        counts.iter().any(|n| n % 2 == 1),
        "poison messages always come in pairs: {counts:?}"
    );
}

/// Ten messages published at 0.1 s, 0.2 s, … 1.0 s (acknowledged at once)
/// wait for a consumer crashed until 2 s, then go through one by one in
/// 100 ms each; measuring starts at 0.55 s. Every level is known exactly.
#[test]
fn queue_levels_are_exact_across_warmup_and_windows() {
    let text = r#"
name = "levels"
duration = "5s"
warmup = "550ms"
window = "1s"

[workload.orders]
target = "api"
rate = 10
arrivals = "deterministic"
requests = 10

[services.api]
threads = 4
steps = [{ publish = "jobs" }]

[services.worker]
threads = 1
steps = [{ work = "100ms" }]

[queues.jobs]
consumer = "worker"

[[fault]]
target = "worker"
crash = true
at = "0s"
for = "2s"
"#;
    let r = run_toml(text, 1);
    let q = &r.summary.queues["jobs"];
    check_invariants(&r.summary, "levels");
    let close = |a: f64, b: f64| (a - b).abs() < 1e-9;
    let span = 3.0 - 0.55; // the last ack at 3 s ends the run
    assert_eq!(
        (q.queued_at_start, q.published, q.acked),
        (5, 5, 10),
        "{q:#?}"
    );
    assert_eq!((q.depth_max, q.unacked_max), (10, 10), "{q:#?}");
    // Depth 5..9 before 1 s, 10 until 2 s, then one less every 100 ms.
    assert!(close(q.depth_mean, 17.75 / span), "{q:#?}");
    // Unacknowledged: the message being processed still counts.
    assert!(close(q.unacked_mean, 18.75 / span), "{q:#?}");
    // The oldest is 0.45 s old at warm-up and 2 s old at each ack.
    assert!(close(q.oldest_age_max_s, 2.0), "{q:#?}");
    let age_area = (4.0 - 0.45 * 0.45) / 2.0 + 9.0 * (4.0 - 1.9 * 1.9) / 2.0;
    assert!(
        (q.oldest_age_mean_s - age_area / span).abs() < 1e-6,
        "{} vs {}",
        q.oldest_age_mean_s,
        age_area / span
    );
    // Deepest at 1 s (all ten waiting), empty at 2.9 s.
    assert!(q.drain_s.is_some_and(|d| close(d, 1.9)), "{q:#?}");
    assert!(close(q.consumer_utilization, 1.0 / span), "{q:#?}");
    // Only the five published after the warm-up are timed.
    assert!(close(q.wait_ms.mean, 1900.0), "{q:#?}");
    assert!((q.wait_ms.max / 1900.0 - 1.0).abs() < 0.01, "{q:#?}");
    assert!(close(q.latency_ms.mean, 2000.0), "{q:#?}");
    // Windows [0,1), [1,2), [2,3).
    let ts = &r.timeseries;
    let series = |m: &str| ts.get("queue", "jobs", m).unwrap().values.clone();
    let depth = series("depth");
    assert_eq!(depth.len(), 3, "{depth:?}");
    for (got, want) in depth.iter().zip([4.5, 10.0, 4.5]) {
        assert!(close(*got, want), "depth {depth:?}");
    }
    for (got, want) in series("unacked").iter().zip([4.5, 10.0, 5.5]) {
        assert!(close(*got, want), "unacked {:?}", series("unacked"));
    }
    for (got, want) in series("oldest_age_s").iter().zip([0.9, 1.9, 2.0]) {
        assert!(close(*got, want), "oldest {:?}", series("oldest_age_s"));
    }
    for (got, want) in series("consumers_busy").iter().zip([0.0, 0.0, 1.0]) {
        assert!(
            close(*got, want),
            "consumers {:?}",
            series("consumers_busy")
        );
    }
    for (got, want) in series("acked_rps").iter().zip([0.0, 0.0, 9.0]) {
        assert!(close(*got, want), "acked {:?}", series("acked_rps"));
    }
}

/// A queue that stays empty all run: every publish fails in a broker
/// outage. With or without a warm-up it never had a backlog to drain.
#[test]
fn an_always_empty_queue_drained_in_zero_seconds() {
    let text = r#"
name = "empty"
duration = "3s"
WARMUP

[workload.orders]
target = "api"
rate = 10

[services.api]
threads = 4
steps = [{ publish = "jobs" }]

[services.worker]
threads = 1
steps = [{ work = "1ms" }]

[queues.jobs]
consumer = "worker"

[[fault]]
target = "broker"
outage = true
at = "0s"
for = "10s"
"#;
    for warmup in ["", "warmup = \"1s\""] {
        let s = run_toml(&text.replace("WARMUP", warmup), 1).summary;
        let q = &s.queues["jobs"];
        assert_eq!(q.published, 0, "{q:#?}");
        assert!(q.publish_failed > 0, "{q:#?}");
        assert_eq!(q.drain_s, Some(0.0), "warm-up {warmup:?}: {q:#?}");
    }
}

/// A chain of queues on two brokers: `api` publishes to `a`; `mid`
/// consumes `a` and `c` and publishes (blocking) to `b` on the other
/// broker; `sink` consumes `b` and feeds `c` back to `mid` (fail fast).
/// Consumers hold threads while blocked producers do too, both brokers
/// have outages, and `mid` crashes and loses threads.
fn chain(seed: u64, warmup: &str, drain: &str) -> Summary {
    let text = format!(
        r#"
name = "chain"
duration = "10s"
warmup = "{warmup}"
drain = "{drain}"
window = "500ms"

[network]
latency = {{ dist = "exponential", mean = "1ms" }}

[workload.orders]
target = "api"
rate = 120

[workload.reads]
target = "mid.read"
users = 5
think = "20ms"
timeout = "100ms"

[services.api]
threads = 30
steps = [{{ work = "1ms" }}, {{ publish = "a", poison = 0.02 }}]

[services.mid]
threads = 6
replicas = 2
cores = 2
queue = 10

[services.mid.operations.handle]
steps = [{{ work = {{ dist = "exponential", mean = "10ms" }} }}, {{ publish = "b" }}]

[services.mid.operations.read]
steps = [{{ work = "2ms" }}]

[services.mid.operations.loopback]
steps = [{{ work = "1ms" }}]

[services.sink]
threads = 3
steps = [{{ work = {{ dist = "exponential", mean = "15ms" }} }}, {{ publish = "c" }}]

[brokers.one]
[brokers.two]
delivery = "2ms"

[queues.a]
broker = "one"
consumer = "mid.handle"
concurrency = 4
capacity = 40
visibility_timeout = "150ms"
max_deliveries = 3
redelivery_backoff = "10ms"
redelivery_backoff_max = "80ms"

[queues.b]
broker = "two"
consumer = "sink"
concurrency = 3
capacity = 20
when_full = "block"
max_block = "300ms"
visibility_timeout = "400ms"
max_deliveries = 5
redelivery_backoff = "5ms"

[queues.c]
broker = "one"
consumer = "mid.loopback"
concurrency = 2
capacity = 15
visibility_timeout = "100ms"
redelivery_backoff = "20ms"

[[fault]]
target = "one"
outage = true
at = "2s"
for = "1s"

[[fault]]
target = "two"
outage = true
at = "1500ms"
for = "1s"

[[fault]]
target = "two"
outage = true
at = "2s"
for = "2s"

[[fault]]
target = "mid"
crash = true
replica = 1
at = "4s"
for = "1500ms"

[[fault]]
target = "mid"
lost_threads = 3
at = "6s"
for = "1s"

[[fault]]
target = "sink"
pause = true
at = "7s"
for = "300ms"

[[fault]]
target = "one"
slowdown = 20
at = "8s"
for = "1s"
"#
    );
    let s = run_toml(&text, seed).summary;
    check_invariants(
        &s,
        &format!("chain seed {seed} warmup {warmup} drain {drain}"),
    );
    s
}

#[test]
fn a_chain_of_queues_on_two_brokers_loses_no_message() {
    for (seed, warmup, drain) in [(1, "0s", "60s"), (2, "2200ms", "0s"), (3, "3s", "300ms")] {
        let s = chain(seed, warmup, drain);
        for name in ["a", "b", "c"] {
            assert!(
                s.queues[name].delivered > 0,
                "{name}: {:#?}",
                s.queues[name]
            );
        }
    }
}
