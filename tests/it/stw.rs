//! A GC pause stops the whole replica (`engine/stw.rs`): processor-shared
//! work (`cores`) makes no progress in it, and a job that would go on in
//! it (a call answered, a request accepted) goes on when it ends. Exact
//! times on deterministic runs, computed by hand.

use crate::common::{assert_books, run_toml};

/// Requests every 50 ms (20 of them), a heap whose free part (1.5 MiB)
/// every second allocation of 1 MiB fills: the even requests' starts
/// (at 100, 200, … ms) begin a 30 ms pause.
fn gc_service(extra: &str, steps: &str) -> String {
    format!(
        r#"
name = "stw"
duration = "1020ms"
[workload.src]
target = "api"
rate = 20
arrivals = "deterministic"
[services.api]
threads = 10
{extra}
memory = {{ limit = "10.5MiB", base = "9MiB" }}
gc = {{ allocation = "1MiB", young_pause = "30ms" }}
steps = {steps}
"#
    )
}

/// On two cores, each odd request (arrived at 50, 150, … ms) works 60 ms
/// alone on a core; the next request's pause catches it 50 ms in, so it
/// ends exactly 30 ms late: 90 ms. The even request that began the pause
/// starts its 60 ms when the pause ends: 90 ms too. (Without the pause
/// on the CPU, the odd ones took 60 ms.)
#[test]
fn a_gc_pause_stops_processor_shared_work_for_exactly_its_length() {
    let r = run_toml(&gc_service("cores = 2", r#"[{ work = "60ms" }]"#), 1).summary;
    let s = &r.services["api"];
    assert_eq!(s.completed, 20);
    assert_eq!(s.memory.as_ref().unwrap().gc_pauses, 10);
    assert!(
        (s.sojourn_ms.mean - 90.0).abs() < 1e-6,
        "mean {}",
        s.sojourn_ms.mean
    );
    assert!((s.sojourn_ms.max - 90.0).abs() < 0.2, "{:?}", s.sojourn_ms);
    assert!((s.sojourn_ms.p50 - 90.0).abs() < 0.2, "{:?}", s.sojourn_ms);
    assert_books("stw-cores", &r);
}

/// A thread pool calling a 55 ms database (no network latency), then
/// working 10 ms. An odd request's answer comes back at +55 ms, in the
/// pause the next request began (at +50 ms, for 30 ms): the job goes on
/// when it ends, at +80, and answers at +90 ms (not +65). The even
/// request that began the pause sends its call when the pause ends: it
/// answers at 30 + 55 + 10 = 95 ms (its call step was reached in the
/// pause), 5 ms before the next pause.
#[test]
fn a_call_answered_in_a_pause_goes_on_when_it_ends() {
    let toml = gc_service(
        "",
        r#"[{ call = "db", timeout = "5s" }, { work = "10ms" }]
[services.db]
threads = 100
steps = [{ work = "55ms" }]"#,
    );
    let r = run_toml(&toml, 1).summary;
    let s = &r.services["api"];
    assert_eq!(s.completed, 20);
    assert_eq!(s.memory.as_ref().unwrap().gc_pauses, 10);
    assert!(
        (s.sojourn_ms.mean - 92.5).abs() < 1e-6,
        "mean {} (odd 90, even 95)",
        s.sojourn_ms.mean
    );
    // (The histogram's buckets are within 0.5 % of the value.)
    assert!((s.sojourn_ms.max - 95.0).abs() < 0.5, "{:?}", s.sojourn_ms);
    // The database saw every call 55 ms long: the pause was the caller's.
    assert!((r.services["db"].sojourn_ms.mean - 55.0).abs() < 1e-6);
    assert_books("stw-call", &r);
}

/// The same on an event loop: the continuation after the answer waits
/// for the pause too.
#[test]
fn an_event_loop_continuation_ready_in_a_pause_runs_when_it_ends() {
    let toml = gc_service(
        "",
        r#"[{ call = "db", timeout = "5s" }, { work = "10ms" }]
[services.db]
threads = 100
steps = [{ work = "55ms" }]"#,
    )
    .replace("threads = 10\n", "model = \"event_loop\"\nloops = 2\n");
    let r = run_toml(&toml, 1).summary;
    let s = &r.services["api"];
    assert_eq!(s.completed, 20);
    assert!(
        (s.sojourn_ms.mean - 92.5).abs() < 1e-6,
        "mean {}",
        s.sojourn_ms.mean
    );
    assert_books("stw-loop", &r);
}

/// Two requests, at 50 and 100 ms, to a service that works 10 ms and then
/// calls a 70 ms database with a 50 ms timeout and one immediate retry.
/// The second request's start begins a 60 ms pause (100 to 160 ms).
fn timed_out_in_a_pause(server: &str, db_work: &str) -> String {
    format!(
        r#"
name = "stw-timers"
duration = "1s"
[workload.src]
target = "api"
rate = 20
arrivals = "deterministic"
requests = 2
[services.api]
{server}
memory = {{ limit = "10.5MiB", base = "9MiB" }}
gc = {{ allocation = "1MiB", young_pause = "60ms" }}
steps = [{{ work = "10ms" }}, {{ call = "db", timeout = "50ms", retry = {{ max_attempts = 2, backoff = "none" }} }}]
[services.db]
threads = 100
steps = [{{ work = "{db_work}" }}]
"#
    )
}

/// The first request sends its call at 60 ms; its timeout (due at 110)
/// and the database's answer (landing at 130) both fall in the pause and
/// take effect at its end, 160 ms, in their order: the timeout first, so
/// the retry leaves at 160 (not 110), times out at 210 and the request
/// fails 160 ms after it came (not 110 ms); the answer is late. The
/// second request, held by the pause it began, sends at 170 and fails at
/// 270 (170 ms). Mean 165 ms, on a thread pool and an event loop alike.
#[test]
fn a_callers_timeout_and_retry_wait_for_its_gc_pause() {
    for server in ["threads = 10", "model = \"event_loop\"\nloops = 2"] {
        let r = run_toml(&timed_out_in_a_pause(server, "70ms"), 1).summary;
        let s = &r.services["api"];
        assert_eq!(s.memory.as_ref().unwrap().gc_pauses, 1, "{server}");
        assert!(
            (s.sojourn_ms.mean - 165.0).abs() < 1e-6,
            "{server}: mean {} (160 and 170)",
            s.sojourn_ms.mean
        );
        let e = &r.edges["api->db"];
        assert_eq!(
            (e.timeouts, e.retries, e.late_replies, e.ok),
            // (The last attempt's answer, at 290 ms, is not awaited: the
            // run ends once its database job has answered.)
            (4, 2, 3, 0),
            "{server}"
        );
        assert_eq!(r.entries["src"].failed.error, 2, "{server}");
        assert_books("stw-timers", &r);
    }
}

/// An answer that lands in a pause before the timeout is due wins: with
/// a 45 ms database the first request's answer lands at 105 ms, in the
/// pause, before its timeout (110); at 160 it is taken first and the
/// call succeeds (the timeout, due next, is stale). Had the answer been
/// delivered at its time and the timer fired at its own, the result would
/// be the same; what the pause changes is only when.
#[test]
fn an_answer_due_before_the_timeout_in_a_pause_still_wins() {
    let r = run_toml(&timed_out_in_a_pause("threads = 10", "45ms"), 1).summary;
    let e = &r.edges["api->db"];
    assert_eq!((e.ok, e.timeouts, e.retries), (2, 0, 0));
    // The first request answers at the pause's end (110 ms after it
    // came), the second at 170 + 45 = 215 ms (115 ms).
    let s = &r.services["api"];
    assert!(
        (s.sojourn_ms.mean - 112.5).abs() < 1e-6,
        "mean {}",
        s.sojourn_ms.mean
    );
}

/// A log producer's linger is the replica's own timer: a pause freezes
/// it. Requests every 50 ms publish to a log with a 60 ms linger; the
/// even ones begin a 30 ms pause at their start. The odd request's batch
/// (opened at 50 ms) would leave at 110, in the pause (100 to 130): it
/// leaves at 130, after the even request (set aside since 100) joined it.
/// So each odd publish waits 80 ms, each even one 30 ms: mean 55 ms.
/// (Had the linger run on, the batches would leave at 110, 190, 290, …:
/// the first request 80 ms (its acknowledgement waits for the pause's
/// end), then odd ones 40 and even ones 90: mean 67, as measured with
/// the linger left out of `stw::pause_kinds!`.)
#[test]
fn a_gc_pause_freezes_a_producers_linger() {
    use crate::logs::log_pipeline::Pipeline;
    let toml = Pipeline {
        run: "duration = \"1020ms\"",
        workload: "rate = 20\narrivals = \"deterministic\"",
        producer: "threads = 10\nmemory = { limit = \"10.5MiB\", base = \"9MiB\" }\n\
                   gc = { allocation = \"1MiB\", young_pause = \"30ms\" }",
        publish: "linger = \"60ms\", batch = 100",
        worker: "threads = 4\nsteps = [{ work = \"1ms\" }]",
        log: "partitions = 1",
        ..Pipeline::default()
    }
    .toml("stw-linger");
    let r = run_toml(&toml, 1).summary;
    let s = &r.services["producer"];
    assert_eq!(s.completed, 20);
    assert_eq!(s.memory.as_ref().unwrap().gc_pauses, 10);
    assert!(
        (s.sojourn_ms.mean - 55.0).abs() < 1e-6,
        "mean {} (odd 80, even 30)",
        s.sojourn_ms.mean
    );
    assert_books("stw-linger", &r);
}
