//! Processor sharing (`cores`) against its closed forms: M/G/1-PS is
//! insensitive (mean sojourn `E[S]/(1 − ρ)` whatever the work's
//! distribution), and M/M/c-PS has M/M/c's number in system (each of the
//! `n` jobs runs at `min(1, c/n)`: the total service rate is `min(n, c)·μ`,
//! as with `c` FCFS servers), so its mean sojourn is M/M/c's `W`.
//!
//! Tolerances as in `theory.rs`: 20 seeds, 4 standard errors of the mean
//! (the seed spread sizes the test). Size: 20 seeds × ~49,700 requests at
//! ρ = 0.7 (71 s after a 1 s warm-up, relaxation time ~37 ms).

use crate::queueing as q;
use crate::theory::{agrees, per_seed, replicate, single_queue};

/// One processor-sharing service with enough threads that nobody queues
/// for a thread: every request shares the cores at once. (The service's
/// table is the last of `single_queue`'s, so `cores` lands in it.)
fn ps(rate: f64, cores: u32, work: &str) -> String {
    format!(
        "{}cores = {cores}\n",
        single_queue(rate, 100_000, "0", work, 1, 72)
    )
}

#[test]
fn mg1_ps_mean_sojourn_is_insensitive_to_the_work_distribution() {
    let lambda = 700.0;
    let theory_ms = 1.0 / (1.0 - 0.7);
    for (what, work) in [
        ("deterministic", r#""1ms""#),
        ("exponential", r#"{ dist = "exponential", mean = "1ms" }"#),
        (
            "lognormal cv 1.5",
            r#"{ dist = "lognormal", mean = "1ms", cv = 1.5 }"#,
        ),
    ] {
        let runs = replicate(&ps(lambda, 1, work));
        agrees(
            &format!("M/G/1-PS ({what}) mean sojourn (ms)"),
            &per_seed(&runs, "s", |s| s.sojourn_ms.mean),
            theory_ms,
        );
    }
}

#[test]
fn mmc_ps_mean_sojourn_is_erlang_c() {
    // 4 cores, exponential 10 ms, λ = 280/s: ρ = 0.7.
    let (lambda, c) = (280.0, 4);
    let runs = replicate(&ps(lambda, c, r#"{ dist = "exponential", mean = "10ms" }"#));
    let th = q::mmc(lambda, 100.0, c);
    agrees(
        "M/M/4-PS mean sojourn (ms)",
        &per_seed(&runs, "s", |s| s.sojourn_ms.mean),
        th.w * 1e3,
    );
}
