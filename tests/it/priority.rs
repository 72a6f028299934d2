//! Criticality: a non-preemptive priority queue against the closed form
//! for M/M/1 with priority classes (Cobham 1954), Little's law over the
//! classes, shedding the least important first, and bad input.
//!
//! Sizes: 20 seeds × ~70,000 requests (1,000 s at 70/s), ρ = 0.7; the
//! relative sd of a mean sojourn over n requests at ρ = 0.7 is about
//! √((1+ρ)/(1−ρ)²/n) ≈ 1.6 % per seed, so the tolerance (4 sd of the mean
//! over 20 seeds) is 1–2.5 % (printed by `-- --nocapture`).

use crate::common::{assert_books, assert_each_rejected, run_toml};
use crate::theory::{agrees, replicate};

/// One server, exponential work of mean 10 ms (μ = 100/s), critical
/// requests at `critical`/s and sheddable ones at `sheddable`/s, FIFO or
/// by priority.
fn two_classes(critical: u32, sheddable: u32, admission: &str) -> String {
    format!(
        r#"
name = "priority"
duration = "1000s"
warmup = "50s"
[network]
latency = "0"
[workload.checkout]
target = "api"
rate = {critical}
criticality = "critical"
[workload.prefetch]
target = "api"
rate = {sheddable}
criticality = "sheddable"
[services.api]
threads = 1
queue = "unbounded"
steps = [{{ work = {{ dist = "exponential", mean = "10ms" }} }}]
[services.api.admission]
{admission}
"#
    )
}

fn mean_ms(runs: &[sim_core::output::Summary], entry: &str) -> Vec<f64> {
    runs.iter()
        .map(|s| s.entries[entry].latency_ms.mean)
        .collect()
}

/// Non-preemptive priority, M/M/1 with equal service rates: the residual
/// work W0 = Σ λᵢ E[S²]/2 = ρ/μ, and class k waits W0 / ((1 − σₖ₋₁)(1 − σₖ))
/// where σₖ is the load of classes 1..k.
#[test]
fn a_priority_queue_matches_cobhams_formula_per_class() {
    let (l1, l2, mu) = (30.0, 40.0, 100.0);
    let rho = (l1 + l2) / mu;
    let w0 = rho / mu;
    let sigma1 = l1 / mu;
    let t1 = w0 / (1.0 - sigma1) + 1.0 / mu;
    let t2 = w0 / ((1.0 - sigma1) * (1.0 - rho)) + 1.0 / mu;
    let runs = replicate(&two_classes(30, 40, "priority_queue = true"));
    for s in &runs {
        assert_books("priority", s);
    }
    agrees(
        "critical class sojourn (ms)",
        &mean_ms(&runs, "checkout"),
        t1 * 1e3,
    );
    agrees(
        "sheddable class sojourn (ms)",
        &mean_ms(&runs, "prefetch"),
        t2 * 1e3,
    );
    // Little's law over the classes: requests in the system = Σ λₖ Tₖ.
    let in_system: Vec<f64> = runs
        .iter()
        .map(|s| s.services["api"].in_system_mean)
        .collect();
    agrees("requests in system (Little)", &in_system, l1 * t1 + l2 * t2);
    // The classes block adds the entries of each class up.
    let s = &runs[0];
    assert_eq!(s.classes["critical"].entries, vec!["checkout".to_string()]);
    assert_eq!(
        s.classes["critical"].requests,
        s.entries["checkout"].requests
    );
    assert_eq!(
        s.classes["sheddable"].latency_ms,
        s.entries["prefetch"].latency_ms
    );
    assert!(!s.classes.contains_key("default"));
}

/// The same load served FIFO: both classes see M/M/1's 1/(μ − λ).
#[test]
fn a_fifo_queue_ignores_criticality() {
    let runs = replicate(&two_classes(30, 40, ""));
    let t = 1e3 / (100.0 - 70.0);
    agrees(
        "FIFO: critical sojourn (ms)",
        &mean_ms(&runs, "checkout"),
        t,
    );
    agrees(
        "FIFO: sheddable sojourn (ms)",
        &mean_ms(&runs, "prefetch"),
        t,
    );
}

/// Overload (λ = 1.3 μ) with a small queue: shedding by class keeps the
/// critical requests whole while the sheddable ones absorb the excess.
#[test]
fn overload_sheds_the_least_important_first() {
    let admission = "priority_queue = true\nshed_in_flight = { sheddable = 4 }";
    let toml = two_classes(50, 80, admission).replace("queue = \"unbounded\"\n", "queue = 30\n");
    let s = run_toml(&toml, 7).summary;
    assert_books("shedding", &s);
    let crit = &s.entries["checkout"];
    let shed = &s.entries["prefetch"];
    assert_eq!(crit.failed.rejected, 0, "critical requests were refused");
    assert!(
        shed.failed.rejected as f64 > 0.3 * shed.requests as f64,
        "sheddable refused {} of {}",
        shed.failed.rejected,
        shed.requests
    );
    assert!(s.services["api"].shed > 0);
    // Critical requests wait behind at most one request in service and
    // the other critical ones: M/M/1 at λ = 50 plus a residual.
    assert!(crit.latency_ms.mean < 60.0, "{}", crit.latency_ms.mean);

    // Without priority, everyone fails alike.
    let fifo = two_classes(50, 80, "").replace("queue = \"unbounded\"\n", "queue = 30\n");
    let f = run_toml(&fifo, 7).summary;
    let crit_fifo = &f.entries["checkout"];
    assert!(
        crit_fifo.failed.rejected as f64 > 0.1 * crit_fifo.requests as f64,
        "FIFO refused only {} of {} critical requests",
        crit_fifo.failed.rejected,
        crit_fifo.requests
    );
}

/// A full priority queue makes room for a critical request by shedding
/// the newest sheddable one; a sheddable arrival to a full queue is
/// refused.
#[test]
fn a_full_priority_queue_evicts_the_least_important() {
    // No warm-up: every refusal is then counted on both sides.
    let toml = two_classes(50, 80, "priority_queue = true")
        .replace("queue = \"unbounded\"\n", "queue = 30\n")
        .replace("warmup = \"50s\"", "warmup = \"0s\"");
    let s = run_toml(&toml, 3).summary;
    assert_books("eviction", &s);
    assert_eq!(s.entries["checkout"].failed.rejected, 0);
    let api = &s.services["api"];
    assert!(api.shed > 0, "no sheddable request was evicted");
    assert_eq!(
        s.entries["prefetch"].failed.rejected,
        api.shed + api.rejected,
        "every refused sheddable request is either shed or rejected"
    );
}

#[test]
fn bad_criticality_settings_are_refused_with_their_key() {
    let base = two_classes(30, 40, "");
    assert_each_rejected(
        "priority-bad",
        &[
            (
                base.replace(r#"criticality = "critical""#, r#"criticality = "vip""#),
                "unknown variant `vip`",
                "criticality",
            ),
            (
                format!("{base}shed_in_flight = {{ sheddable = 0 }}\n"),
                "at least 1",
                "shed_in_flight.sheddable",
            ),
            (
                format!("{base}shed_in_flight = {{ default = 10, sheddable = 40 }}\n"),
                "shed before",
                "shed_in_flight.default",
            ),
            (
                format!("{base}shed_queue_time = {{ critical = \"1ms\", sheddable = \"9ms\" }}\n"),
                "shed before",
                "shed_queue_time.critical",
            ),
            (
                format!("{base}shed_queue_time = {{ vip = \"1ms\" }}\n"),
                "vip",
                "shed_queue_time",
            ),
        ],
    );
}

#[test]
fn per_class_slo_keys_judge_a_class_s_entries_added_up() {
    // The shipped scenario, judged per class: critical traffic keeps its
    // p99 while the surge of sheddable prefetches is shed (19 %).
    let text = std::fs::read_to_string(
        crate::common::repo_root().join("scenarios/priority-shedding.toml"),
    )
    .unwrap();
    let (head, _) = text
        .split_once("\n[slo]\n")
        .expect("the scenario has an [slo]");
    let judged = format!(
        "{head}\n[slo]\n\"class.critical.p99\" = \"< 100ms\"\n\"class.critical.availability\" = \">= 99.9%\"\n\"class.sheddable.error_rate\" = \"< 1%\"\n"
    );
    let s = run_toml(&judged, 1).summary;
    let verdicts: Vec<(&str, bool, &str)> = s
        .slo
        .iter()
        .map(|r| (r.key.as_str(), r.pass, r.scope.as_str()))
        .collect();
    assert_eq!(
        verdicts,
        [
            ("class.critical.p99", true, "class"),
            ("class.critical.availability", true, "class"),
            ("class.sheddable.error_rate", false, "class"),
        ]
    );
    // The observed values are the summary's per-class figures.
    let shed = &s.classes["sheddable"];
    assert_eq!(s.slo[2].observed, Some(shed.error_rate * 100.0));
    assert_eq!(
        s.slo[0].observed,
        Some(s.classes["critical"].latency_ms.p99)
    );
    // A class no source sends is refused with its place in the file.
    let unused = format!("{head}\n[slo]\n\"class.default.p99\" = \"< 1s\"\n")
        .replace("criticality = \"default\"", "criticality = \"critical\"");
    assert_each_rejected(
        "slo-class-bad",
        &[(
            unused,
            "no source sends `default` requests",
            "slo.class.default.p99",
        )],
    );
}
