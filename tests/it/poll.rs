//! Accepted and poll (issue 19): an operation answers `accepted` at once
//! and goes on; its client polls a status operation until the work is
//! done. Every test checks the books — each request exactly one outcome
//! (or in flight at the end) — and the time to result, not the time to
//! the accepted answer.

use sim_core::output::{PollSummary, Summary};

use crate::common::{assert_books, assert_each_rejected, run_toml};

/// `n` requests, 20 per second (40 past 2,000), every hop and network 0: the entry works
/// 1 ms, answers accepted, then runs `rest`; the client polls
/// `status.get` (1 ms of work) with `poll`.
fn orders(n: u32, rest: &str, poll: &str, extra: &str) -> String {
    let rate = if n > 2000 { 40 } else { 20 };
    format!(
        r#"
name = "poll"
duration = "300s"

[network]
latency = "0ms"

[workload.orders]
target = "api"
rate = {rate}
arrivals = "deterministic"
requests = {n}
timeout = "2s"
poll = {poll}

[services.api]
threads = 200
steps = [{{ work = "1ms" }}, {{ respond = "accepted" }}, {rest}]

[services.status]
threads = 16
steps = [{{ work = "1ms" }}]

[services.ledger]
threads = 64
steps = [{{ work = "5ms" }}]
{extra}
"#
    )
}

fn polls(s: &Summary) -> &PollSummary {
    s.polls.get("orders").expect("the source polls")
}

/// Of the accepted requests, each ends ok, degraded, failed after
/// acceptance, given up, or still polling.
fn assert_poll_books(s: &Summary) {
    assert_books("poll", s);
    let e = &s.entries["orders"];
    let p = polls(s);
    assert!(p.accepted <= e.requests, "{p:#?}");
    assert!(
        p.async_failed <= e.failed.error && p.gave_up <= e.failed.timeout,
        "{p:#?} {e:#?}"
    );
}

#[test]
fn time_to_result_covers_the_work_and_polls_are_work_over_the_period() {
    // 1 s of work after the accepted answer, polled every 100 ms: each
    // poll round is 100 ms + the 1 ms status call, so the 10th poll (at
    // 1,010 ms) is the first to see the work done.
    let s = run_toml(
        &orders(
            200,
            r#"{ wait = "1s" }"#,
            r#"{ status = "status", every = "100ms", max = 60 }"#,
            "",
        ),
        7,
    )
    .summary;
    assert_poll_books(&s);
    let e = &s.entries["orders"];
    let p = polls(&s);
    assert_eq!((e.requests, e.ok, p.accepted), (200, 200, 200), "{e:#?}");
    assert_eq!(p.polls, 2000, "{p:#?}");
    assert!((p.polls_per_request - 10.0).abs() < 1e-9);
    // Time to result: 1 ms + 1,010 ms; the accepted answer came after 1 ms.
    // (The mean is exact; quantiles are histogram buckets, within 1 %.)
    assert!(
        (e.latency_ms.mean - 1011.0).abs() < 0.5 && e.latency_ms.max < 1011.0 * 1.01,
        "{:#?}",
        e.latency_ms
    );
    assert!(p.accepted_ms.max < 1.5, "{:#?}", p.accepted_ms);
    assert!(e.latency_ms.p50 >= p.work_ms.p50, "{p:#?}");
    assert!((p.work_ms.mean - 1000.0).abs() < 0.5, "{:#?}", p.work_ms);
    // The status service sees the polls: 2,000 in 10 s of arrivals.
    assert_eq!(s.services["status"].arrivals, 2000);
}

#[test]
fn polls_are_the_work_over_the_period_for_random_work() {
    // Exponential work of mean 2 s polled every 250 ms: a poll round is
    // 251 ms, and the number of rounds to cover the work, ceil(W / a),
    // is geometric: E = 1 / (1 - exp(-a / mean)) ≈ 8.48.
    let s = run_toml(
        &orders(
            4000,
            r#"{ wait = { dist = "exponential", mean = "2s" } }"#,
            r#"{ status = "status", every = "250ms", max = 1000 }"#,
            "",
        ),
        11,
    )
    .summary;
    assert_poll_books(&s);
    let e = &s.entries["orders"];
    let p = polls(&s);
    assert_eq!(e.ok, 4000);
    let expected = 1.0 / (1.0 - (-0.251f64 / 2.0).exp());
    // Polls per request has a spread of about 8: over 4,000 requests the
    // standard error is 0.13, and ± 0.4 is 3 of them.
    assert!(
        (p.polls_per_request - expected).abs() < 0.4,
        "{} vs {expected}",
        p.polls_per_request
    );
    // Each result: 1 ms to the accepted answer, then whole poll rounds.
    assert!(e.latency_ms.mean >= p.work_ms.mean, "{e:#?} {p:#?}");
    let rounds = 1.0 + 251.0 * p.polls_per_request;
    assert!(
        (e.latency_ms.mean - rounds).abs() < 2.0,
        "time to result {} vs {rounds}",
        e.latency_ms.mean
    );
}

#[test]
fn work_that_fails_after_the_accepted_answer_is_a_failed_request() {
    let s = run_toml(
        &orders(
            100,
            r#"{ call = "ledger", timeout = "1s" }"#,
            r#"{ status = "status", every = "50ms" }"#,
            "[[fault]]\ntarget = \"ledger\"\nerrors = 1.0\nat = \"0s\"\nfor = \"1h\"\n",
        ),
        3,
    )
    .summary;
    assert_poll_books(&s);
    let e = &s.entries["orders"];
    let p = polls(&s);
    assert_eq!(
        (p.accepted, p.async_failed, e.failed.error, e.ok),
        (100, 100, 100, 0)
    );
    assert_eq!(p.polls, 100, "the first poll sees the failure: {p:#?}");
}

#[test]
fn a_client_gives_up_after_max_polls_and_failed_polls_are_polled_again() {
    // 1 s of work, 3 polls 100 ms apart: every client gives up (timeouts).
    let s = run_toml(
        &orders(
            50,
            r#"{ wait = "1s" }"#,
            r#"{ status = "status", every = "100ms", max = 3 }"#,
            "",
        ),
        5,
    )
    .summary;
    assert_poll_books(&s);
    let (e, p) = (&s.entries["orders"], polls(&s));
    assert_eq!(
        (p.gave_up, e.failed.timeout, p.polls),
        (50, 50, 150),
        "{p:#?}"
    );

    // The status service errs for the first 5 s: those polls fail and
    // are sent again; every request still gets its result.
    let s = run_toml(
        &orders(
            100,
            r#"{ wait = "1s" }"#,
            r#"{ status = "status", every = "100ms", max = 200 }"#,
            "[[fault]]\ntarget = \"status\"\nerrors = 1.0\nat = \"0s\"\nfor = \"5s\"\n",
        ),
        5,
    )
    .summary;
    assert_poll_books(&s);
    let (e, p) = (&s.entries["orders"], polls(&s));
    assert_eq!(e.ok, 100, "{e:#?}");
    assert!(p.polls_failed > 500, "{p:#?}");
    assert!(
        e.latency_ms.max > 4000.0,
        "the first results wait for the fault's end"
    );
}

#[test]
fn without_polling_the_entry_measures_the_accepted_answer() {
    // The same operation, nobody polls: the entry is fast, the worker is
    // still held for the work (utilisation of `api` shows it).
    let text = orders(200, r#"{ wait = "1s" }"#, "0", "").replace("poll = 0\n", "");
    let s = run_toml(&text, 7).summary;
    assert_books("no poll", &s);
    let e = &s.entries["orders"];
    assert_eq!(e.ok, 200);
    assert!(e.latency_ms.max < 1.5, "{:#?}", e.latency_ms);
    assert!(s.polls.is_empty());
    // 20/s × 1.001 s held = 20 threads busy of 200, over the 10 s of load.
    assert!(
        s.services["api"].busy_threads_mean > 2.0,
        "{:#?}",
        s.services["api"]
    );
}

#[test]
fn an_accepted_answer_deeper_down_answers_its_caller_early() {
    // api calls worker, which answers accepted after 1 ms and works 1 s on.
    let text = r#"
name = "nested"
duration = "60s"
[network]
latency = "0ms"
[workload.w]
target = "api"
rate = 10
requests = 100
[services.api]
threads = 16
steps = [{ call = "worker", timeout = "100ms" }, { work = "1ms" }]
[services.worker]
threads = 200
steps = [{ work = "1ms" }, { respond = "accepted" }, { wait = "1s" }]
"#;
    let s = run_toml(text, 1).summary;
    assert_books("nested", &s);
    let e = &s.entries["w"];
    assert_eq!(e.ok, 100);
    assert!(e.latency_ms.max < 3.0, "{:#?}", e.latency_ms);
    assert_eq!(s.services["worker"].completed, 100, "the work went on");
}

#[test]
fn bad_polling_and_respond_keys_are_refused_with_their_place() {
    let good = orders(
        10,
        r#"{ wait = "1s" }"#,
        r#"{ status = "status", every = "100ms" }"#,
        "",
    );
    let cases = vec![
        (
            good.replace(r#"{ respond = "accepted" }, "#, ""),
            "never answers `accepted`",
            "workload.orders.poll",
        ),
        (
            good.replace(r#"status = "status""#, r#"status = "nope""#),
            "unknown service `nope`",
            "workload.orders.poll.status",
        ),
        (
            good.replace(r#"every = "100ms""#, r#"every = "0s""#),
            "",
            "workload.orders.poll.every",
        ),
        (
            good.replace(r#"every = "100ms" }"#, r#"every = "100ms", max = 0 }"#),
            "at least 1",
            "workload.orders.poll.max",
        ),
        (
            good.replace(r#"respond = "accepted""#, r#"respond = "later""#),
            "unknown variant",
            "respond",
        ),
        (
            good.replace(
                r#"{ respond = "accepted" }"#,
                r#"{ respond = "accepted", work = "1ms" }"#,
            ),
            "exactly one of",
            "services.api.steps.1",
        ),
    ];
    assert_each_rejected("poll-bad", &cases);
}

/// A shipped scenario, run on `seed` (its full 120 s: under a second).
fn shipped(name: &str, seed: u64, set: &[&str]) -> Summary {
    let path = crate::common::repo_root().join("scenarios").join(name);
    let text = std::fs::read_to_string(&path).expect("scenario exists");
    let overrides: Vec<sim_core::Override> = set
        .iter()
        .map(|s| sim_core::Override::parse(s).expect("override parses"))
        .collect();
    let s = sim_core::load(path.to_str().unwrap(), &text, &overrides)
        .unwrap_or_else(|e| panic!("{name} does not load: {e}"));
    sim_core::run_scenario(&s, Some(seed), &overrides).summary
}

#[test]
fn the_two_hop_rule_trades_time_to_result_for_availability() {
    // Story 6. Each run has ~11,000 orders: rates of a few per cent are
    // known to ± 0.5 pp, latencies to a few ms.
    let sync = shipped("two-hop-rule.toml", 42, &[]);
    let acc = shipped("two-hop-rule-accepted.toml", 42, &[]);
    assert_books("two-hop-rule", &sync);
    assert_poll_books(&acc);
    let (s, a) = (&sync.entries["orders"], &acc.entries["orders"]);
    let p = polls(&acc);
    // Availability: four hops' errors and the spike's timeouts against two
    // hops' errors (2 × 0.5 % ≈ 1 %).
    assert!(s.error_rate > 0.07, "{}", s.error_rate);
    assert!((a.error_rate - 0.01).abs() < 0.004, "{}", a.error_rate);
    assert_eq!((p.async_failed, p.gave_up), (0, 0), "{p:#?}");
    // The 202 comes after two hops: under a third of the four-hop answer.
    assert!(p.accepted_ms.p50 < s.latency_ms.p50 / 3.0, "{p:#?}");
    // The result comes later: the 200 ms poll period rounds it up.
    assert!(a.latency_ms.p50 > s.latency_ms.p50 + 50.0, "{a:#?}");
    assert!((1.2..2.0).contains(&p.polls_per_request), "{p:#?}");
}

#[test]
fn the_cured_payment_flow_fails_nothing_but_only_thanks_to_its_fallback() {
    // Story 2. ~22,000 payments per run: the counts below differ by
    // thousands, far beyond a seed's noise (± 100).
    let before = shipped("fintech-payments.toml", 1, &[]);
    let cured = shipped("fintech-payments-cured.toml", 1, &[]);
    let no_fallback = shipped(
        "fintech-payments-cured.toml",
        1,
        &["services.api.steps.4.fallback=false"],
    );
    let failed = |s: &Summary| {
        let e = &s.entries["payments"];
        e.failed.timeout + e.failed.rejected + e.failed.error
    };
    for (name, s) in [
        ("before", &before),
        ("cured", &cured),
        ("no fallback", &no_fallback),
    ] {
        assert_books(name, s);
    }
    let (b, c) = (&before.entries["payments"], &cured.entries["payments"]);
    assert!(b.error_rate > 0.12, "the story's ~15 %: {}", b.error_rate);
    // Over 70 % fewer failed payments (all of them, here) and a p99 under
    // half...
    assert!(failed(&cured) * 10 < failed(&before) * 3, "{c:#?}");
    assert!(c.latency_ms.p99 < b.latency_ms.p99 / 2.0);
    // ...because the fallback answers degraded what would have failed:
    assert!(c.degraded > failed(&before), "{c:#?}");
    assert!(
        failed(&no_fallback) > failed(&before),
        "{:#?}",
        no_fallback.entries
    );
}
