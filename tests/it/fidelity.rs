//! What a real thread-pool server does that a scenario once could not say
//! (issue 21): I/O waits beside CPU work, faults scoped to what they slow,
//! the hop from a source to its entry, a full backlog that drops SYNs,
//! connect and read timeouts, services sharing a node's cores.
//!
//! Deterministic cases check exact times; the statistical one uses the
//! theory tests' 20 seeds and 4 standard errors.

use crate::common::{assert_books, assert_each_rejected, run_toml};
use crate::theory::{agrees, per_seed, replicate};

/// One entry's mean latency (ms) of a deterministic run.
fn mean_ms(toml: &str, entry: &str) -> f64 {
    let r = run_toml(toml, 1);
    assert_books(entry, &r.summary);
    r.summary.entries[entry].latency_ms.mean
}

fn close(what: &str, got: f64, want: f64) {
    assert!(
        (got - want).abs() < 1e-6,
        "{what}: {got} ms, expected {want} ms"
    );
}

/// A one-service chain whose operations `read` and `write` each parse
/// (1 ms of CPU) then wait on their query (10 ms of I/O); `fault` is
/// appended.
fn two_ops(fault: &str) -> String {
    format!(
        r#"
name = "two-ops"
duration = "10s"
[workload.reads]
target = "db.read"
rate = 5
arrivals = "deterministic"
[workload.writes]
target = "db.write"
rate = 5
arrivals = "deterministic"
[services.db]
threads = 100
[services.db.operations.read]
steps = [{{ work = "1ms", name = "parse" }}, {{ wait = "10ms", name = "query" }}]
[services.db.operations.write]
steps = [{{ work = "1ms", name = "parse" }}, {{ wait = "10ms", name = "query" }}]
{fault}
"#
    )
}

#[test]
fn a_wait_holds_the_thread_for_its_time() {
    close("no fault", mean_ms(&two_ops(""), "reads"), 11.0);
}

#[test]
fn a_service_wide_slowdown_stretches_cpu_work_but_not_io_waits() {
    let f = r#"[[fault]]
target = "db"
at = "0s"
for = "20s"
slowdown = 5"#;
    // parse 1 ms × 5, query 10 ms unchanged.
    close("reads", mean_ms(&two_ops(f), "reads"), 15.0);
}

#[test]
fn a_slowdown_scoped_to_a_step_leaves_the_other_steps_alone() {
    let f = r#"[[fault]]
target = "db.read"
steps = ["query"]
at = "0s"
for = "20s"
slowdown = 5"#;
    let toml = two_ops(f);
    close("reads", mean_ms(&toml, "reads"), 51.0);
    close("writes", mean_ms(&toml, "writes"), 11.0);
}

#[test]
fn a_slowdown_scoped_to_an_operation_stretches_its_work_and_waits_only() {
    let f = r#"[[fault]]
target = "db.write"
at = "0s"
for = "20s"
slowdown = 2"#;
    let toml = two_ops(f);
    close("reads", mean_ms(&toml, "reads"), 11.0);
    close("writes", mean_ms(&toml, "writes"), 22.0);
}

#[test]
fn a_step_named_in_every_operation_is_slowed_in_each() {
    let f = r#"[[fault]]
target = "db"
steps = ["parse"]
at = "0s"
for = "20s"
slowdown = 3"#;
    let toml = two_ops(f);
    close("reads", mean_ms(&toml, "reads"), 13.0);
    close("writes", mean_ms(&toml, "writes"), 13.0);
}

#[test]
fn errors_scoped_to_an_operation_fail_only_it() {
    let f = r#"[[fault]]
target = "db.write"
at = "0s"
for = "20s"
errors = 1.0"#;
    let r = run_toml(&two_ops(f), 1);
    assert_books("scoped errors", &r.summary);
    let (reads, writes) = (&r.summary.entries["reads"], &r.summary.entries["writes"]);
    assert_eq!(reads.failed.error, 0);
    assert_eq!(reads.ok, reads.requests);
    assert_eq!(writes.ok, 0);
    assert_eq!(writes.failed.error, writes.requests);
}

#[test]
fn an_event_loop_moves_on_while_a_request_waits() {
    // One loop, 100 ms waits, 50 requests a second: a wait that held the
    // loop would need 5 loops; released, nobody queues.
    let toml = r#"
name = "loop-wait"
duration = "10s"
[workload.w]
target = "api"
rate = 50
arrivals = "deterministic"
[services.api]
model = "event_loop"
loops = 1
steps = [{ work = "1ms" }, { wait = "100ms" }, { work = "1ms" }]
"#;
    close("event loop", mean_ms(toml, "w"), 102.0);
}

#[test]
fn io_waits_use_no_core() {
    // M/M/1-PS on one core at ρ = 0.7 with a 50 ms wait after the work:
    // the sojourn is the PS sojourn 1 ms / (1 − 0.7) plus the wait, as
    // if the wait were not there. 20 seeds × ~50,000 requests.
    let toml = r#"
name = "waits"
duration = "72s"
warmup = "1s"
[workload.src]
target = "s"
rate = 700
[services.s]
threads = 100000
queue = 0
cores = 1
steps = [{ work = { dist = "exponential", mean = "1ms" } }, { wait = "50ms" }]
"#;
    let runs = replicate(toml);
    agrees(
        "M/M/1-PS sojourn with a 50 ms I/O wait, minus the wait (ms)",
        &per_seed(&runs, "s", |s| s.sojourn_ms.mean - 50.0),
        1.0 / (1.0 - 0.7),
    );
}

#[test]
fn bad_waits_and_scopes_are_refused_with_their_key() {
    let base = |steps: &str, fault: &str| {
        format!(
            "name = \"bad\"\nduration = \"10s\"\n[workload.w]\ntarget = \"db\"\nrate = 1\n\
             [services.db]\nthreads = 1\nsteps = [{steps}]\n{fault}\n"
        )
    };
    let fault = |extra: &str| format!("[[fault]]\nat = \"1s\"\nfor = \"1s\"\n{extra}\n");
    let cases = vec![
        (
            base(r#"{ work = "1ms", wait = "1ms" }"#, ""),
            "exactly one of `work`, `wait`",
            "services.db.steps.0",
        ),
        (
            base(
                r#"{ wait = "1ms", name = "q" }, { work = "1ms", name = "q" }"#,
                "",
            ),
            "two steps of this operation are named `q`",
            "services.db.steps.1.name",
        ),
        (
            base(r#"{ wait = "1ms", name = "a b" }"#, ""),
            "not a usable name",
            "services.db.steps.0.name",
        ),
        (
            base(
                r#"{ wait = "1ms", name = "q" }"#,
                &fault("target = \"db\"\nsteps = [\"nope\"]\nslowdown = 2"),
            ),
            "no step named `nope` (named steps: q)",
            "fault.0.steps.0",
        ),
        (
            base(
                r#"{ wait = "1ms", name = "q" }"#,
                &fault("target = \"db\"\nsteps = [\"q\"]\nerrors = 0.5"),
            ),
            "`steps` scopes a `slowdown`",
            "fault.0.steps",
        ),
        (
            base(
                r#"{ wait = "1ms" }"#,
                &fault("target = \"db.default\"\ncrash = true"),
            ),
            "target the service, not one operation",
            "fault.0.target",
        ),
        (
            base(
                r#"{ wait = "1ms" }"#,
                &fault("target = \"db.nope\"\nslowdown = 2"),
            ),
            "has no operation `nope`",
            "fault.0.target",
        ),
    ];
    assert_each_rejected("fidelity-bad", &cases);
}

/// api (10 ms) calls db (5 ms); `network` and `source` are appended to
/// their tables.
fn hop_chain(network: &str, source: &str) -> String {
    format!(
        r#"
name = "hops"
duration = "10s"
{network}
[workload.w]
target = "api"
rate = 5
arrivals = "deterministic"
{source}
[services.api]
threads = 10
steps = [{{ work = "10ms" }}, {{ call = "db" }}]
[services.db]
threads = 10
steps = [{{ work = "5ms" }}]
"#
    )
}

#[test]
fn the_hop_from_a_source_to_its_entry_takes_the_network_latency() {
    let net = "[network]\nlatency = \"2ms\"";
    // 2 (in) + 10 + 2 + 5 + 2 + 2 (out).
    close("default", mean_ms(&hop_chain(net, ""), "w"), 23.0);
    close(
        "overridden",
        mean_ms(&hop_chain(net, "latency = \"0ms\""), "w"),
        19.0,
    );
    close(
        "own hop only",
        mean_ms(&hop_chain("", "latency = \"5ms\""), "w"),
        25.0,
    );
    close("no network", mean_ms(&hop_chain("", ""), "w"), 15.0);
}

#[test]
fn a_client_timeout_counts_the_hops() {
    // 2 + 10 + 2 = 14 ms at the client: a 13 ms timeout fires, 15 ms not.
    let toml = |t: &str| {
        format!(
            r#"
name = "hop-timeout"
duration = "10s"
[workload.w]
target = "api"
rate = 5
arrivals = "deterministic"
latency = "2ms"
timeout = "{t}"
[services.api]
threads = 10
steps = [{{ work = "10ms" }}]
"#
        )
    };
    let r = run_toml(&toml("13ms"), 1).summary;
    assert_books("13ms", &r);
    assert_eq!(r.entries["w"].ok, 0);
    let r = run_toml(&toml("15ms"), 1).summary;
    assert_eq!(r.entries["w"].ok, r.entries["w"].requests);
}

/// One thread held 10 s by the first request; the second (at 1 s) finds
/// the thread busy and no queue. `service` and `source` are appended.
fn backlog(service: &str, source: &str) -> String {
    format!(
        r#"
name = "backlog"
duration = "2s"
drain = "100s"
[workload.w]
target = "s"
rate = 2
requests = 2
arrivals = "deterministic"
{source}
[services.s]
threads = 1
queue = 0
steps = [{{ work = "10s" }}]
{service}
"#
    )
}

#[test]
fn a_full_backlog_rejects_at_once_by_default() {
    let r = run_toml(&backlog("", ""), 1).summary;
    assert_books("reject", &r);
    assert_eq!(r.entries["w"].failed.rejected, 1);
    assert_eq!(r.services["s"].connect_retries, 0);
}

#[test]
fn a_dropped_connection_comes_back_at_1_3_7_15_seconds() {
    // Tries at 1, 2, 4, 8 s find the thread busy (until 10.5 s); the one at
    // 16 s (15 s after the first) gets it and ends at 26 s: latency 25 s.
    let r = run_toml(&backlog("when_full = \"drop\"", ""), 1).summary;
    assert_books("drop", &r);
    let e = &r.entries["w"];
    assert_eq!(e.ok, 2, "{e:?}");
    close("mean of 10 s and 25 s", e.latency_ms.mean, 17_500.0);
    assert_eq!(r.services["s"].connect_retries, 4);
    assert_eq!(r.services["s"].connect_timeouts, 0);
    assert_eq!(r.services["s"].rejected, 0);
}

#[test]
fn a_connection_dropped_past_its_last_retry_is_a_connect_timeout() {
    // Tries at 1, 2, 4 s; the last wait (4 s) ends at 8 s: a timeout.
    let r = run_toml(
        &backlog(
            "when_full = \"drop\"",
            "connect_retries = 2\nconnect_backoff = \"1s\"",
        ),
        1,
    )
    .summary;
    assert_books("connect timeout", &r);
    let e = &r.entries["w"];
    assert_eq!((e.ok, e.failed.timeout), (1, 1), "{e:?}");
    close("mean of 10 s and 7 s", e.latency_all_ms.mean, 8_500.0);
    assert_eq!(r.services["s"].connect_retries, 2);
    assert_eq!(r.services["s"].connect_timeouts, 1);
}

#[test]
fn a_client_that_gave_up_stops_resending() {
    // The client's 3 s timeout fires at 4 s: the retry due then is not
    // sent, and nothing reaches the service after the first request ends.
    let r = run_toml(&backlog("when_full = \"drop\"", "timeout = \"3s\""), 1).summary;
    assert_books("gave up", &r);
    let e = &r.entries["w"];
    assert_eq!(e.failed.timeout, 2, "both time out (the first at 3.5 s)");
    assert_eq!(r.services["s"].connect_retries, 2);
    assert_eq!(r.services["s"].connect_timeouts, 0);
    assert_eq!(r.services["s"].completed, 1);
}

#[test]
fn bad_backlog_keys_are_refused_with_their_key() {
    let cases = vec![
        (
            backlog("when_full = \"vanish\"", ""),
            "unknown variant",
            "when_full",
        ),
        (
            backlog("when_full = \"drop\"", "connect_retries = 99"),
            "at most 30",
            "workload.w.connect_retries",
        ),
        (backlog("", "latency = \"fast\""), "", "workload.w.latency"),
        (
            backlog("when_full = \"drop\"", "connect_backoff = \"0s\""),
            "",
            "workload.w.connect_backoff",
        ),
        (
            backlog("when_full = \"drop\"", "").replace("queue = 0", "queue = \"unbounded\""),
            "never full",
            "services.s.when_full",
        ),
        (
            backlog("", "").replace(
                r#"steps = [{ work = "10s" }]"#,
                r#"steps = [{ work = "10s", connect_retries = 1 }]"#,
            ),
            "belong to a `call` step",
            "services.s.steps.0",
        ),
    ];
    assert_each_rejected("fidelity-backlog", &cases);
}

#[test]
fn a_connect_timeout_cuts_the_retransmissions_short() {
    // Tries at 1 and 2 s are dropped; the connect part fires at 3.5 s.
    let r = run_toml(
        &backlog("when_full = \"drop\"", "timeout = { connect = \"2.5s\" }"),
        1,
    )
    .summary;
    assert_books("connect part", &r);
    let e = &r.entries["w"];
    assert_eq!((e.ok, e.failed.timeout), (1, 1), "{e:?}");
    close("mean of 10 s and 2.5 s", e.latency_all_ms.mean, 6_250.0);
    assert_eq!(r.services["s"].connect_timeouts, 1);
    assert_eq!(r.services["s"].connect_retries, 2);
}

/// Requests at 0.5 s and 1 s into one thread doing 1 s of work, a queue
/// slot: the second waits 0.5 s in the queue, answers at 2.5 s.
fn read_case(timeout: &str) -> sim_core::output::Summary {
    let toml = format!(
        r#"
name = "read"
duration = "2s"
[workload.w]
target = "s"
rate = 2
requests = 2
arrivals = "deterministic"
timeout = {timeout}
[services.s]
threads = 1
queue = 1
steps = [{{ work = "1s" }}]
"#
    );
    let r = run_toml(&toml, 1).summary;
    assert_books(timeout, &r);
    r
}

#[test]
fn a_read_timeout_runs_from_the_acceptance() {
    // Accepted (queued) at once: the connect part never fires; the answer
    // comes 1.5 s after the acceptance.
    let ok = |t: &str| read_case(t).entries["w"].ok;
    assert_eq!(ok(r#"{ connect = "100ms", read = "1.4s" }"#), 1);
    assert_eq!(ok(r#"{ connect = "100ms", read = "1.6s" }"#), 2);
    assert_eq!(ok(r#"{ read = "1.6s" }"#), 2);
    assert_eq!(ok(r#""1.4s""#), 1);
    let r = read_case(r#"{ connect = "100ms", read = "1.4s" }"#);
    assert_eq!(r.services["s"].connect_timeouts, 0);
    close(
        "timed out 1.4 s after acceptance",
        r.entries["w"].latency_all_ms.mean,
        (1_000.0 + 1_400.0) / 2.0,
    );
}

#[test]
fn bad_split_timeouts_are_refused_with_their_key() {
    let src = |t: &str| backlog("", &format!("timeout = {t}"));
    let cases = vec![
        (
            src("{}"),
            "give `connect`, `read` or both",
            "workload.w.timeout",
        ),
        (
            src(r#"{ connect = "1s", wait = "2s" }"#),
            "unknown field `wait`",
            "workload.w.timeout",
        ),
        (src("300"), "a duration with a unit", "workload.w.timeout"),
        (
            src(r#"{ connect = "1s", read = "0s" }"#),
            "",
            "workload.w.timeout.read",
        ),
        (
            backlog(
                "",
                "timeout = { connect = \"1s\" }\npropagate_deadline = true",
            ),
            "needs a total `timeout`",
            "workload.w.propagate_deadline",
        ),
    ];
    assert_each_rejected("fidelity-timeouts", &cases);
}

/// Two services, each with its own source; `placement` is appended.
fn neighbours(rate_a: f64, rate_b: f64, work: &str, placement: &str, seconds: u32) -> String {
    format!(
        r#"
name = "neighbours"
duration = "{seconds}s"
warmup = "1s"
[workload.a]
target = "a"
rate = {rate_a}
[workload.b]
target = "b"
rate = {rate_b}
[services.a]
threads = 100000
steps = [{{ work = {work} }}]
[services.b]
threads = 100000
steps = [{{ work = {work} }}]
{placement}
"#
    )
}

#[test]
fn services_on_one_node_share_its_cores() {
    // Deterministic arrivals together, 10 ms each: alone 10 ms; on one
    // core together, each progresses at half speed: 20 ms.
    let det = |placement: &str| {
        neighbours(2.0, 2.0, "\"10ms\"", placement, 10)
            .replace("rate = 2\n", "rate = 2\narrivals = \"deterministic\"\n")
    };
    let on_node = det("[nodes.host]\ncores = 1")
        .replace("[services.a]\n", "[services.a]\nnode = \"host\"\n")
        .replace("[services.b]\n", "[services.b]\nnode = \"host\"\n");
    close("a, shared", mean_ms(&on_node, "a"), 20.0);
    close("b, shared", mean_ms(&on_node, "b"), 20.0);
    let apart = det("")
        .replace("[services.a]\n", "[services.a]\ncores = 1\n")
        .replace("[services.b]\n", "[services.b]\ncores = 1\n");
    close("a, apart", mean_ms(&apart, "a"), 10.0);
}

#[test]
fn two_services_on_a_one_core_node_are_one_mg1_ps_queue() {
    // 300/s + 400/s of exponential 1 ms on one shared core: ρ = 0.7, and
    // each stream's mean sojourn is M/M/1-PS's 1 ms / (1 − 0.7), though
    // each alone would load the core to 0.3 or 0.4. 20 seeds × ~50,000
    // requests.
    let toml = neighbours(
        300.0,
        400.0,
        r#"{ dist = "exponential", mean = "1ms" }"#,
        "[nodes.host]\ncores = 1",
        72,
    )
    .replace("[services.a]\n", "[services.a]\nnode = \"host\"\n")
    .replace("[services.b]\n", "[services.b]\nnode = \"host\"\n");
    let runs = replicate(&toml);
    for svc in ["a", "b"] {
        agrees(
            &format!("M/M/1-PS shared by two services: {svc}'s mean sojourn (ms)"),
            &per_seed(&runs, svc, |s| s.sojourn_ms.mean),
            1.0 / (1.0 - 0.7),
        );
    }
}

#[test]
fn bad_nodes_are_refused_with_their_key() {
    let base = neighbours(1.0, 1.0, "\"1ms\"", "[nodes.host]\ncores = 1", 10);
    let cases = vec![
        (
            base.replace("[services.a]\n", "[services.a]\nnode = \"nope\"\n"),
            "unknown node `nope` (nodes: host)",
            "services.a.node",
        ),
        (
            base.replace(
                "[services.a]\n",
                "[services.a]\nnode = \"host\"\ncores = 2\n",
            ),
            "leave out `cores`",
            "services.a.node",
        ),
        (
            base.replace("cores = 1", "cores = 0"),
            "must be at least 1",
            "nodes.host.cores",
        ),
    ];
    assert_each_rejected("fidelity-nodes", &cases);
}
