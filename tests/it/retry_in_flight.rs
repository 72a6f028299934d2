//! Envoy's retry budget (`retry.in_flight_budget`): retries in flight on an
//! edge, per caller replica, held below max(`min_in_flight`, ⌊`percent` % ×
//! requests in flight⌋), counted exactly in a deterministic run.

use crate::common::{assert_each_rejected, run_toml};

/// 99 requests, one every 10 ms (10 ms … 990 ms), from `w` to `a`, whose
/// call into `b` fails after exactly 95 ms of work and is retried at once
/// (two attempts) under `budget`.
fn scenario(budget: &str) -> String {
    format!(
        r#"
name = "envoy-budget"
duration = "1s"
[workload.w]
target = "a"
rate = 100
arrivals = "deterministic"
[services.a]
threads = 1000
steps = [{{ call = "b", retry = {{ max_attempts = 2, backoff = "none"{budget} }} }}]
[services.b]
threads = 1000
steps = [{{ work = "95ms" }}]
[[fault]]
target = "b"
errors = 1.0
at = "0s"
for = "100s"
"#
    )
}

/// (retries, retries refused by a budget, requests) on `a->b`.
fn retries(budget: &str) -> (u64, u64, u64) {
    let s = run_toml(&scenario(budget), 1).summary;
    let e = &s.edges["a->b"];
    (
        e.retries,
        e.retries_refused_by_budget,
        s.entries["w"].requests,
    )
}

#[test]
fn without_a_budget_every_failed_first_try_is_retried() {
    assert_eq!(retries(""), (99, 0, 99));
}

#[test]
fn the_floor_holds_retries_in_flight_to_min_in_flight() {
    // A retry decided at t + 95 ms holds its place until its own attempt
    // fails at t + 190 ms: the retries in flight at a decision are those of
    // the 9 requests before. With no percentage the cap is the floor, 3:
    // requests 0, 1, 2 retry, 3 … 9 find 3 in flight, request 10 finds
    // request 0's retry over (it ended 5 ms earlier) — 3 of every 10.
    let (retried, refused, requests) =
        retries(", in_flight_budget = { percent = 0, min_in_flight = 3 }");
    assert_eq!(requests, 99);
    assert_eq!(retried, 30, "3 of every 10, and 3 of the last 9");
    assert_eq!(refused, 69);
}

#[test]
fn the_percentage_counts_every_request_in_flight_retries_included() {
    // At a decision the caller waits on the first tries of the 9 requests
    // after it (sent in the last 95 ms) plus its retries in flight R:
    // cap = ⌊(9 + R) / 2⌋, so a retry starts while R ≤ 7 (7 < ⌊16/2⌋) and
    // not at R = 8 (8 = ⌊17/2⌋): 8 of every 10 requests retry. The last 9
    // requests have fewer first tries behind them (8, 7, … in flight), so
    // ⌊(8 + 7)/2⌋ = 7 and below refuse them all: 9 × 8 = 72.
    let (retried, refused, _) = retries(", in_flight_budget = { percent = 50, min_in_flight = 0 }");
    assert_eq!((retried, refused), (72, 27));
    // Envoy's default floor of 3 changes nothing in steady state (the
    // percentage is above it) but lets the tail's requests 95, 96 and 97
    // retry (by then fewer first tries remain behind them, the cap is the
    // floor of 3, and only 2 retries are still in flight): 75. Envoy's defaults (20 %, 3) allow
    // max(3, ⌊0.2 × 12⌋ = 2) = 3 in flight: the floor's 30.
    assert_eq!(
        retries(", in_flight_budget = { percent = 50 }"),
        (75, 24, 99)
    );
    assert_eq!(retries(", in_flight_budget = {}"), (30, 69, 99));
}

#[test]
fn both_budgets_apply_and_a_refused_retry_takes_no_finagle_token() {
    // Finagle's budget alone, with 5 retries' worth of tokens and no
    // deposits (ratio 0), allows the first 5 retries. Under a floor of 3 in
    // flight as well, requests 0, 1, 2 retry, 3 … 9 are refused by the cap
    // — asked first, so they spend no token — and requests 10 and 11 take
    // the last 2 tokens: 5 again. Were tokens spent on refused retries,
    // only 3 would go.
    let finagle = "budget = { ratio = 0, min_retries_per_second = 0, initial = 5 }";
    assert_eq!(retries(&format!(", {finagle}")), (5, 94, 99));
    let both = format!(", {finagle}, in_flight_budget = {{ percent = 0, min_in_flight = 3 }}");
    assert_eq!(retries(&both), (5, 94, 99));
}

#[test]
fn a_bad_in_flight_budget_names_its_key() {
    let case = |b: &str| scenario(&format!(", in_flight_budget = {b}"));
    assert_each_rejected(
        "in-flight-budget",
        &[
            (
                case("{ percent = 150 }"),
                "from 0 to 100",
                "in_flight_budget.percent",
            ),
            (
                case("{ percent = -1 }"),
                "from 0 to 100",
                "in_flight_budget.percent",
            ),
            (case("{ min_in_flight = -1 }"), "", "min_in_flight"),
            (
                case("{ budget_percent = 20 }"),
                "unknown field",
                "budget_percent",
            ),
        ],
    );
}
