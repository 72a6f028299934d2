//! Event-loop servers (`model = "event_loop"`): the loops against M/M/L,
//! open connections against Little's law whatever the downstream latency,
//! the blocking stall, and the keys' errors.

use crate::common::{assert_books, assert_each_rejected, run_toml};
use crate::queueing as q;
use crate::theory::{agrees, per_seed, replicate};

/// A CPU-only event loop with `loops` loops fed by Poisson arrivals.
fn cpu_only(rate: f64, loops: u32, warmup_s: u32, duration_s: u32) -> String {
    format!(
        r#"
name = "mml"
duration = "{duration_s}s"
warmup = "{warmup_s}s"
[workload.src]
target = "s"
rate = {rate}
[services.s]
model = "event_loop"
loops = {loops}
steps = [{{ work = {{ dist = "exponential", mean = "10ms" }} }}]
"#
    )
}

/// M/M/2 on the loops at ρ = 0.75 (λ = 150/s, μ = 100/s per loop): Erlang
/// C gives P(wait) = 0.643, Wq = 12.86 ms, W = 22.86 ms.
///
/// Size: 20 seeds × 18,000 requests (120 s after a 2 s warm-up, 50
/// relaxation times of 1/(cμ(1 − √ρ)²) = 0.28 s). The mean wait's
/// per-request relative-sd constant at this load is about 7 (measured over
/// the seeds), so 360,000 requests put the 4-sd tolerance near ±5 % on Wq,
/// ±2.5 % on W, ±1 % on the loops' utilisation.
#[test]
fn a_cpu_only_event_loop_is_m_m_l_on_its_loops() {
    let (lambda, mu, loops) = (150.0, 100.0, 2);
    let runs = replicate(&cpu_only(lambda, loops, 2, 122));
    let th = q::mmc(lambda, mu, loops);
    let el = |f: fn(&sim_core::output::EventLoopSummary) -> f64| {
        move |s: &sim_core::output::ServiceSummary| f(s.event_loop.as_ref().expect("event loop"))
    };
    agrees(
        "M/M/2 loops: run-queue wait Wq (ms)",
        &per_seed(&runs, "s", el(|l| l.run_queue_wait_ms.mean)),
        th.wq * 1e3,
    );
    agrees(
        "M/M/2 loops: sojourn W (ms)",
        &per_seed(&runs, "s", |s| s.sojourn_ms.mean),
        th.w * 1e3,
    );
    agrees(
        "M/M/2 loops: run queue Lq",
        &per_seed(&runs, "s", el(|l| l.run_queue_mean)),
        th.lq,
    );
    agrees(
        "M/M/2 loops: loop utilisation",
        &per_seed(&runs, "s", |s| s.utilization),
        lambda / (mu * f64::from(loops)),
    );
}

/// With CPU-only steps an event loop of L loops *is* a FCFS pool of L
/// threads with an unbounded queue: the same streams give the same
/// request-by-request history, so every figure agrees exactly.
#[test]
fn a_cpu_only_event_loop_equals_a_thread_pool_of_its_loops() {
    let pool = cpu_only(150.0, 2, 0, 30).replace(
        "model = \"event_loop\"\nloops = 2",
        "threads = 2\nqueue = \"unbounded\"",
    );
    for seed in 1..=3 {
        let el = run_toml(&cpu_only(150.0, 2, 0, 30), seed).summary;
        let tp = run_toml(&pool, seed).summary;
        let (e, t) = (&el.services["s"], &tp.services["s"]);
        assert_eq!(e.sojourn_ms, t.sojourn_ms);
        assert_eq!(
            e.event_loop.as_ref().unwrap().run_queue_wait_ms,
            t.queue_wait_ms
        );
        assert!((e.utilization - t.utilization).abs() < 1e-12);
        assert_eq!(el.entries["src"].latency_ms, tp.entries["src"].latency_ms);
    }
}

/// Open connections = λ × sojourn (Little) on every run, with a slow
/// downstream the loop does not wait for: the connections pile up while
/// the loop stays nearly idle.
#[test]
fn open_connections_follow_little_whatever_the_downstream_latency() {
    for (db_ms, seed) in [(5, 1), (200, 2), (2000, 3)] {
        let toml = format!(
            r#"
name = "little"
duration = "60s"
[workload.src]
target = "api"
rate = 200
[services.api]
model = "event_loop"
loops = 1
steps = [{{ work = "1ms" }}, {{ call = "db" }}, {{ work = "1ms" }}]
[services.db]
threads = 10000
steps = [{{ work = {{ dist = "exponential", mean = "{db_ms}ms" }} }}]
"#
        );
        let r = run_toml(&toml, seed).summary;
        let api = &r.services["api"];
        let el = api.event_loop.as_ref().expect("event loop");
        // Little on the sample path: the time-average of open requests is
        // the sum of their sojourns over the observed span, up to the
        // requests still open at the end (none: the run drains).
        let span = r.end_time_s - r.warmup_s;
        let little = api.completed as f64 * api.sojourn_ms.mean / 1e3 / span;
        let rel = (el.connections_mean - little).abs() / little;
        assert!(
            rel < 1e-6,
            "db {db_ms} ms: L = {} vs λW = {little} ({rel})",
            el.connections_mean
        );
        // λ × W with the offered rate: connections grow with the wait
        // (averaged over the span, which the drain makes longer than the
        // arrivals).
        let expected = 200.0 * (2.0 + db_ms as f64) / 1e3 * r.sim_duration_s / span;
        assert!(
            (el.connections_mean - expected).abs() / expected < 0.1,
            "db {db_ms} ms: {} open, about {expected} expected",
            el.connections_mean
        );
        // Two 1 ms steps per request on one loop: utilisation ≈ 0.4 over
        // the arrivals, whatever db does.
        assert!(
            (api.utilization * span / r.sim_duration_s - 0.4).abs() < 0.02,
            "db {db_ms} ms: loop utilisation {}",
            api.utilization
        );
    }
}

/// One loop; `fast` requests every 10 ms need 1 ms of work; one `slow`
/// request at 1 s either waits 500 ms on a call (the loop moves on) or
/// holds the loop in a 500 ms `blocking` step (every request behind it
/// waits for exactly that).
fn stall(slow_step: &str) -> String {
    format!(
        r#"
name = "stall"
duration = "3s"
[workload.fast]
target = "api.fast"
rate = 100
arrivals = "deterministic"
[workload.slow]
target = "api.slow"
rate = 0.5
arrivals = "deterministic"
requests = 1
[services.api]
model = "event_loop"
loops = 1
[services.api.operations.fast]
steps = [{{ work = "1ms" }}]
[services.api.operations.slow]
steps = [{slow_step}]
[services.db]
threads = 10
steps = [{{ work = "500ms" }}]
"#
    )
}

#[test]
fn one_blocking_step_stalls_every_request_on_its_loop_for_its_length() {
    let call = run_toml(&stall(r#"{ call = "db" }"#), 1).summary;
    let fast = &call.entries["fast"];
    assert!(
        fast.latency_ms.max < 1.01,
        "a call releases the loop: fast requests stay at 1 ms, max {}",
        fast.latency_ms.max
    );
    let blocking = run_toml(
        &stall(r#"{ work = { dist = "constant", value = "500ms", blocking = true } }"#),
        1,
    )
    .summary;
    let fast = &blocking.entries["fast"];
    // The fast request arriving just after the slow one starts waits the
    // whole 500 ms, then its own 1 ms; fifty requests queue behind it.
    assert!(
        (fast.latency_ms.max - 501.0).abs() < 1.0,
        "max {}",
        fast.latency_ms.max
    );
    let el = blocking.services["api"].event_loop.as_ref().unwrap();
    assert!((el.blocking_s - 0.5).abs() < 1e-9, "{}", el.blocking_s);
    assert!(el.run_queue_max >= 49, "run queue max {}", el.run_queue_max);
    assert_eq!(fast.ok, fast.requests);
}

/// Patterns work on event-loop callers as on thread pools: a timeout on
/// the call fails the request and releases the connection.
#[test]
fn a_timeout_on_an_event_loop_caller_fails_the_request_and_frees_its_connection() {
    let toml = r#"
name = "el-timeout"
duration = "20s"
[workload.src]
target = "api"
rate = 50
[services.api]
model = "event_loop"
loops = 1
max_connections = 5
steps = [{ call = "db", timeout = "100ms" }]
[services.db]
threads = 100
steps = [{ work = "1s" }]
"#;
    let r = run_toml(toml, 1).summary;
    let e = &r.entries["src"];
    // 50/s each holding a connection 100 ms: 5 open on average, so some
    // are refused at the connection limit, the rest time out.
    assert_eq!(e.ok, 0);
    assert!(e.failed.error > 0, "{:?}", e.failed);
    assert!(e.failed.rejected > 0, "{:?}", e.failed);
    assert_books("el-timeout", &r);
    let el = r.services["api"].event_loop.as_ref().unwrap();
    assert_eq!(el.connections_max, 5);
    assert_eq!(el.max_connections, Some(5));
}

#[test]
fn event_loop_keys_are_checked() {
    let svc = |body: &str| {
        format!(
            "name = \"x\"\nduration = \"1s\"\n[workload.w]\ntarget = \"a\"\nrate = 1\n[services.a]\n{body}\nsteps = [{{ work = \"1ms\" }}]\n"
        )
    };
    assert_each_rejected(
        "event-loop-keys",
        &[
            (
                svc("model = \"event_loop\"\nloops = 0"),
                "must be at least 1",
                "services.a.loops",
            ),
            (
                svc("model = \"event_loop\""),
                "needs `loops`",
                "services.a.loops",
            ),
            (
                svc("model = \"event_loop\"\nloops = 1\nthreads = 4"),
                "not `threads`",
                "services.a.threads",
            ),
            (
                svc("threads = 4\nloops = 2"),
                "belongs to an event-loop service",
                "services.a.loops",
            ),
            (
                svc("model = \"event_loop\"\nloops = 1\ncores = 2"),
                "give `loops`, not `cores`",
                "services.a.cores",
            ),
            (
                svc("model = \"event_loop\"\nloops = 1\nmax_connections = 0"),
                "must be at least 1",
                "services.a.max_connections",
            ),
            (
                "name = \"x\"\nduration = \"1s\"\n[workload.w]\ntarget = \"a\"\nrate = 1\n[services.a]\nthreads = 2\nsteps = [{ work = { dist = \"constant\", value = \"1ms\", blocking = true } }]\n".to_string(),
                "belongs to a service with model = \"event_loop\"",
                "services.a.steps.0.work.blocking",
            ),
            (
                format!(
                    "{}[[fault]]\ntarget = \"a\"\nlost_threads = 1\nat = \"0s\"\nfor = \"1s\"\n",
                    svc("model = \"event_loop\"\nloops = 1")
                ),
                "no thread pool",
                "lost_threads",
            ),
        ],
    );
}
