//! Memory (`memory = { limit, base, per_request, per_queued }`): the gauge
//! against its definition, the OOM kill at the moment a deterministic
//! overload predicts, CrashLoopBackOff's delays, nothing lost, GC pause
//! frequency against allocation rate ÷ free heap, and the keys' errors.

use crate::common::{assert_books, assert_each_rejected, run_toml};

/// The gauge's time average is `base + per_request × (requests held) +
/// per_queued × (queue length)`, each a time average, on a faulted
/// two-tier run with two replicas and a queue (to rounding).
#[test]
fn the_memory_gauge_is_base_plus_requests_plus_queue() {
    let toml = r#"
name = "gauge"
duration = "60s"
warmup = "5s"
[workload.src]
target = "api"
rate = 300
[services.api]
replicas = 2
threads = 8
queue = 200
memory = { limit = "4GiB", base = "200MiB", per_request = "3MiB", per_queued = "256KiB" }
steps = [{ work = { dist = "exponential", mean = "2ms" } }, { call = "db", timeout = "500ms" }]
[services.db]
threads = 20
queue = 100
memory = { limit = "8GiB", base = "1GiB", per_request = "10MiB", per_queued = "1MiB" }
steps = [{ work = { dist = "exponential", mean = "20ms" } }]
[[fault]]
target = "db"
slowdown = 4
at = "20s"
for = "20s"
"#;
    let r = run_toml(toml, 7).summary;
    for (name, base, per_request, per_queued) in
        [("api", 200.0, 3.0, 0.25), ("db", 1024.0, 10.0, 1.0)]
    {
        let s = &r.services[name];
        let m = s.memory.as_ref().expect("memory");
        let replicas = f64::from(s.replicas);
        let expected = base
            + per_request * s.busy_threads_mean / replicas
            + per_queued * s.queue_len_mean / replicas;
        assert!(
            (m.mean_mib - expected).abs() / expected < 1e-9,
            "{name}: gauge {} vs {expected}",
            m.mean_mib
        );
        assert!(m.max_mib >= m.p99_mib && m.p99_mib >= base, "{name}: {m:?}");
        assert_eq!(m.oom_kills, 0);
    }
    // The fault filled db's queue: its memory peaked well above its base.
    assert!(r.services["db"].memory.as_ref().unwrap().max_mib > 1024.0 + 100.0);
    assert_books("memory", &r);
}

/// Requests arrive every 100 ms and hold their thread for 60 s: the
/// replica holds one more request (1 MiB) every 100 ms, so with a limit of
/// 50.5 MiB it is killed at the 51st request it holds — 5.0 s after it
/// starts (the first request arrives at 0.1 s, the 51st at 5.1 s). It
/// restarts after 10 s, then 20 s, then 40 s (CrashLoopBackOff), each time
/// killed 5.0 s after it is back (its requests start from zero).
#[test]
fn oom_kills_come_when_a_deterministic_overload_predicts_and_restarts_back_off() {
    let toml = r#"
name = "oom"
duration = "100s"
window = "100ms"
[workload.src]
target = "api"
rate = 10
arrivals = "deterministic"
timeout = "200s"
[services.api]
threads = 10000
memory = { limit = "50.5MiB", per_request = "1MiB" }
steps = [{ work = "60s" }]
"#;
    let r = run_toml(toml, 1);
    let ts = &r.timeseries;
    let kills = ts.get("service", "api", "oom_kills").expect("series");
    let at: Vec<f64> = kills
        .values
        .iter()
        .zip(&ts.window_start_s)
        .filter(|(v, _)| **v > 0.0)
        .map(|(_, t)| *t)
        .collect();
    // Arrivals every 0.1 s: the 51st after a (re)start at t arrives at
    // t + 5.1 s, or t + 5.0 s when t is itself an arrival instant.
    let expected = [5.1, 20.1, 45.1, 90.1];
    assert_eq!(at.len(), expected.len(), "kills in windows starting {at:?}");
    for (got, want) in at.iter().zip(expected) {
        assert!(
            (got - want).abs() < 0.15,
            "kills at {at:?}, expected {expected:?}"
        );
    }
    let m = r.summary.services["api"].memory.clone().expect("memory");
    assert_eq!((m.oom_kills, m.restarts), (4, 3));
    // Down 10 + 20 + 40 s, then from 90.1 s to the end.
    let tail = r.summary.end_time_s - 90.1;
    assert!(
        (m.down_s - (70.0 + tail)).abs() < 0.2,
        "down {} s, end {}",
        m.down_s,
        r.summary.end_time_s
    );
    assert!((m.max_mib - 51.0).abs() < 1e-9, "{}", m.max_mib);
    // Nothing lost: every request killed was answered (reset), the rest
    // refused while down.
    let s = &r.summary;
    assert_books("oom", s);
    let e = &s.entries["src"];
    assert_eq!(e.ok, 0);
    assert_eq!(e.failed.rejected + e.in_flight_at_end, e.requests);
}

/// A killed consumer's messages come back: every message published is
/// acknowledged or still queued at the end, none lost.
#[test]
fn an_oom_killed_consumer_loses_no_message() {
    let toml = r#"
name = "oom-consumer"
duration = "60s"
drain = "600s"
[workload.src]
target = "api"
rate = 50
[services.api]
threads = 50
steps = [{ publish = "jobs" }]
[brokers.b]
[queues.jobs]
consumer = "worker"
concurrency = 40
visibility_timeout = "5s"
[services.worker]
threads = 40
memory = { limit = "100MiB", base = "64MiB", per_request = "1MiB" }
restart = { delay = "1s", max_delay = "4s" }
steps = [{ work = { dist = "exponential", mean = "700ms" } }]
"#;
    let r = run_toml(toml, 3).summary;
    let m = r.services["worker"].memory.as_ref().unwrap();
    assert!(m.oom_kills > 0, "the consumer must be killed: {m:?}");
    let q = &r.queues["jobs"];
    assert_eq!(
        q.published + q.queued_at_start,
        q.acked + q.dead_lettered + q.queued_at_end,
        "{q:?}"
    );
    assert_books("memory", &r);
}

/// With a constant live heap (no per-request memory), a collection comes
/// every `free heap ÷ allocation` requests: 50 MiB free, 1 MiB per
/// request, 100 requests/s ⇒ 2 pauses a second. The count is exact up to
/// the Poisson count of requests (sd √6000 ≈ 1.3 %).
#[test]
fn gc_pause_frequency_is_allocation_rate_over_free_heap() {
    let toml = r#"
name = "gc"
duration = "60s"
[workload.src]
target = "api"
rate = 100
[services.api]
threads = 50
memory = { limit = "100MiB", base = "50MiB" }
gc = { allocation = "1MiB", young_pause = "5ms", per_live_mib = "0.1ms" }
steps = [{ work = { dist = "exponential", mean = "10ms" } }]
"#;
    let r = run_toml(toml, 5).summary;
    let s = &r.services["api"];
    let m = s.memory.as_ref().unwrap();
    let requests = s.arrivals as f64;
    let expected = requests / 50.0;
    assert!(
        (m.gc_pauses as f64 - expected).abs() <= 1.0,
        "{} pauses for {requests} requests",
        m.gc_pauses
    );
    // Each pause: 5 ms + 0.1 ms × 50 MiB live = 10 ms.
    assert!((m.gc_pause_s / m.gc_pauses as f64 - 0.010).abs() < 1e-9);
    assert!((m.gc_pause_share - m.gc_pause_s / r.sim_duration_s).abs() < 0.01);
    // Work stops during pauses: a 10 ms step takes longer on average.
    assert!(s.sojourn_ms.mean > 10.0, "{}", s.sojourn_ms.mean);
}

/// A pause stops the world: a work step started before a pause finishes
/// that much later (deterministic: one request every second, 100 ms work,
/// a 30 ms pause at each request's start since every allocation fills
/// the heap).
#[test]
fn a_gc_pause_stops_work_in_progress() {
    let toml = r#"
name = "stw"
duration = "10s"
[workload.src]
target = "api"
rate = 1
arrivals = "deterministic"
[services.api]
threads = 4
memory = { limit = "10MiB", base = "9MiB" }
gc = { allocation = "1MiB", young_pause = "30ms" }
steps = [{ work = "100ms" }]
"#;
    let r = run_toml(toml, 1).summary;
    let s = &r.services["api"];
    assert_eq!(s.memory.as_ref().unwrap().gc_pauses, s.arrivals);
    assert!(
        (s.sojourn_ms.max - 130.0).abs() < 0.2 && (s.sojourn_ms.mean - 130.0).abs() < 0.2,
        "{:?}",
        s.sojourn_ms
    );
}

#[test]
fn memory_keys_are_checked() {
    let svc = |body: &str| {
        format!(
            "name = \"x\"\nduration = \"1s\"\n[workload.w]\ntarget = \"a\"\nrate = 1\n[services.a]\nthreads = 2\n{body}\nsteps = [{{ work = \"1ms\" }}]\n"
        )
    };
    assert_each_rejected(
        "memory-keys",
        &[
            (
                svc("memory = { limit = \"100MiB\", base = \"200MiB\" }"),
                "must be below the limit",
                "services.a.memory.base",
            ),
            (
                svc("memory = { limit = \"100\" }"),
                "needs a unit",
                "services.a.memory.limit",
            ),
            (
                svc("memory = { limit = \"1 parsec\" }"),
                "unknown size unit",
                "services.a.memory.limit",
            ),
            (
                svc("gc = { allocation = \"1MiB\", young_pause = \"1ms\" }"),
                "needs `memory`",
                "services.a.gc",
            ),
            (
                svc("ready_after = \"5s\""),
                "give the service `memory`",
                "services.a.ready_after",
            ),
            (
                svc(
                    "memory = { limit = \"1GiB\" }\ncold_start = { for = \"10s\", slowdown = 0.5 }",
                ),
                "must be a factor",
                "services.a.cold_start.slowdown",
            ),
            (
                svc(
                    "memory = { limit = \"1GiB\" }\nrestart = { delay = \"10s\", max_delay = \"1s\" }",
                ),
                "at least `delay`",
                "services.a.restart.max_delay",
            ),
        ],
    );
}
