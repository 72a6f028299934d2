//! Closed forms of queueing theory, for the fidelity tests in `theory.rs`.
//!
//! Rates are per second and times in seconds unless a name says otherwise.
//! `a = λ/μ` is the offered load in Erlangs, `c` the number of servers,
//! `ρ = a/c` the utilisation. Each formula is written out from its textbook
//! definition (Kleinrock, *Queueing Systems* vol. 1; Gross & Harris,
//! *Fundamentals of Queueing Theory*) and checked below against published
//! values and against the other formulas where two must agree.

/// Erlang B: the probability that an arrival finds all `c` servers busy in
/// M/M/c/c (no queue), by the stable recursion
/// `B(0) = 1`, `B(k) = a·B(k−1) / (k + a·B(k−1))`.
pub fn erlang_b(c: u32, a: f64) -> f64 {
    let mut b = 1.0;
    for k in 1..=c {
        b = a * b / (f64::from(k) + a * b);
    }
    b
}

/// Erlang C: the probability that an arrival must wait in M/M/c with an
/// unbounded queue, `C = c·B / (c − a·(1 − B))`. Needs `a < c`.
pub fn erlang_c(c: u32, a: f64) -> f64 {
    assert!(a < f64::from(c), "M/M/c is unstable for a >= c");
    let b = erlang_b(c, a);
    f64::from(c) * b / (f64::from(c) - a * (1.0 - b))
}

/// Steady-state figures of one queue.
#[derive(Debug, Clone, Copy)]
pub struct Steady {
    /// Mean wait in the queue, s.
    pub wq: f64,
    /// Mean time in the system (wait + service), s.
    pub w: f64,
    /// Mean number waiting (time average).
    pub lq: f64,
    /// Mean number in the system (time average).
    pub l: f64,
    /// Mean fraction of the servers busy.
    pub utilization: f64,
}

/// M/M/c with an unbounded FIFO queue: `Wq = C/(cμ − λ)`, `W = Wq + 1/μ`,
/// `Lq = λ·Wq`, `L = λ·W` (Little), utilisation `ρ = λ/(cμ)`.
pub fn mmc(lambda: f64, mu: f64, c: u32) -> Steady {
    let a = lambda / mu;
    let wq = erlang_c(c, a) / (f64::from(c) * mu - lambda);
    let w = wq + 1.0 / mu;
    Steady {
        wq,
        w,
        lq: lambda * wq,
        l: lambda * w,
        utilization: a / f64::from(c),
    }
}

/// M/M/1 directly: `Lq = ρ²/(1 − ρ)`, `L = ρ/(1 − ρ)`, `W = 1/(μ − λ)`,
/// `Wq = ρ/(μ − λ)`.
pub fn mm1(lambda: f64, mu: f64) -> Steady {
    let rho = lambda / mu;
    assert!(rho < 1.0, "M/M/1 is unstable for rho >= 1");
    Steady {
        wq: rho / (mu - lambda),
        w: 1.0 / (mu - lambda),
        lq: rho * rho / (1.0 - rho),
        l: rho / (1.0 - rho),
        utilization: rho,
    }
}

/// M/M/c/K: `c` servers and room for `K ≥ c` requests in all (so `K − c`
/// queue slots); arrivals that find `K` present are lost.
#[derive(Debug, Clone, Copy)]
pub struct Mmck {
    /// Probability that an arrival is lost, `p_K` (PASTA).
    pub blocking: f64,
    /// Mean number in the system (time average), `Σ n·p_n`.
    pub l: f64,
    /// Mean number waiting, `Σ (n − c)⁺·p_n`.
    pub lq: f64,
    /// Mean time in the system of an accepted request, `L / (λ(1 − p_K))`.
    pub w: f64,
    /// Mean wait of an accepted request, `Lq / (λ(1 − p_K))`.
    pub wq: f64,
    /// Mean fraction of the servers busy, `a(1 − p_K)/c`.
    pub utilization: f64,
}

/// The birth–death chain of M/M/c/K: `p_n ∝ aⁿ/n!` for `n ≤ c` and
/// `p_n ∝ a^c/c! · (a/c)^(n−c)` for `c < n ≤ K`. The weights are built by
/// ratios (`p_n/p_{n−1} = a/min(n, c)`) so nothing overflows.
pub fn mmck(lambda: f64, mu: f64, c: u32, k: u32) -> Mmck {
    assert!(k >= c && c >= 1);
    let a = lambda / mu;
    let mut weights = Vec::with_capacity(k as usize + 1);
    let mut w = 1.0;
    weights.push(w);
    for n in 1..=k {
        w *= a / f64::from(n.min(c));
        weights.push(w);
    }
    let total: f64 = weights.iter().sum();
    let p: Vec<f64> = weights.iter().map(|w| w / total).collect();
    let l: f64 = p.iter().enumerate().map(|(n, p)| n as f64 * p).sum();
    let lq: f64 = p
        .iter()
        .enumerate()
        .map(|(n, p)| (n as f64 - f64::from(c)).max(0.0) * p)
        .sum();
    let blocking = p[k as usize];
    let accepted = lambda * (1.0 - blocking);
    Mmck {
        blocking,
        l,
        lq,
        w: l / accepted,
        wq: lq / accepted,
        utilization: a * (1.0 - blocking) / f64::from(c),
    }
}

/// M/G/1 by Pollaczek–Khinchine: `Wq = λ·E[S²] / (2(1 − ρ))` with
/// `ρ = λ·E[S]`, given the service time's mean and second moment.
pub fn mg1(lambda: f64, mean_s: f64, second_moment_s: f64) -> Steady {
    let rho = lambda * mean_s;
    assert!(rho < 1.0, "M/G/1 is unstable for rho >= 1");
    let wq = lambda * second_moment_s / (2.0 * (1.0 - rho));
    let w = wq + mean_s;
    Steady {
        wq,
        w,
        lq: lambda * wq,
        l: lambda * w,
        utilization: rho,
    }
}

/// M/D/1: P–K with `E[S²] = s²`, so `Wq = ρ·s / (2(1 − ρ))`, half of M/M/1's.
pub fn md1(lambda: f64, s: f64) -> Steady {
    mg1(lambda, s, s * s)
}

/// M/M/1 FIFO: the sojourn time is exponential with rate `θ = μ − λ`, so a
/// caller whose timeout `τ` starts when the request reaches the server gives
/// up with probability `P(W > τ) = e^{−θτ}`.
pub fn mm1_sojourn_tail(lambda: f64, mu: f64, tau: f64) -> f64 {
    (-(mu - lambda) * tau).exp()
}

/// M/M/1 FIFO: `E[min(W, τ)] = (1 − e^{−θτ})/θ`, how long such a caller
/// waits on average.
pub fn mm1_sojourn_capped_mean(lambda: f64, mu: f64, tau: f64) -> f64 {
    let theta = mu - lambda;
    (1.0 - (-theta * tau).exp()) / theta
}

/// M/M/1 FIFO: the expected service time per request spent on requests whose
/// caller gave up (`W > τ`), `E[S·1{W > τ}]`, with `W = Wq + S`, `S ~ Exp(μ)`
/// independent of `Wq`, and `Wq = 0` with probability `1 − ρ`, else
/// `Exp(θ)`. Splitting on `S ≥ τ` and integrating gives
/// `e^{−μτ}(1 + μτ)/μ + e^{−θτ}(1 − e^{−λτ}(1 + λτ))/λ`.
/// (An orphan's whole service counts, also the part before the timeout.)
pub fn mm1_orphaned_work(lambda: f64, mu: f64, tau: f64) -> f64 {
    let theta = mu - lambda;
    (-mu * tau).exp() * (1.0 + mu * tau) / mu
        + (-theta * tau).exp() * (1.0 - (-lambda * tau).exp() * (1.0 + lambda * tau)) / lambda
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, rel: f64) -> bool {
        (a - b).abs() <= rel * b.abs()
    }

    #[test]
    fn erlang_b_matches_tables() {
        // Published Erlang B table values.
        assert!(close(erlang_b(1, 1.0), 0.5, 1e-12));
        assert!(close(erlang_b(2, 1.0), 0.2, 1e-12));
        // c = 10, a = 5: 0.018385 (standard tables).
        assert!(close(erlang_b(10, 5.0), 0.018_384_570, 1e-6));
    }

    #[test]
    fn erlang_c_matches_the_direct_sum_and_the_m1_anchor() {
        // The direct formula of anchors-perf/erlang.py.
        let direct = |c: u32, a: f64| {
            let fact = |n: u32| (1..=n).map(f64::from).product::<f64>();
            let top = a.powi(c as i32) / fact(c) * f64::from(c) / (f64::from(c) - a);
            let sum: f64 = (0..c).map(|k| a.powi(k as i32) / fact(k)).sum();
            top / (sum + top)
        };
        for (c, a) in [(1, 0.5), (3, 2.4), (8, 7.2), (20, 15.0)] {
            assert!(close(erlang_c(c, a), direct(c, a), 1e-12), "c {c} a {a}");
        }
        // anchors-perf RESULTS.md: P(wait) 0.7015, Wq 8.769 ms, W 18.769 ms.
        assert!(close(erlang_c(8, 7.2), 0.7015, 1e-4));
        let m1 = mmc(720.0, 100.0, 8);
        assert!(close(m1.wq * 1e3, 8.769, 1e-4));
        assert!(close(m1.w * 1e3, 18.769, 1e-4));
        assert!(close(m1.utilization, 0.9, 1e-12));
    }

    #[test]
    fn mmc_with_one_server_is_mm1() {
        let (a, b) = (mmc(700.0, 1000.0, 1), mm1(700.0, 1000.0));
        for (x, y) in [(a.wq, b.wq), (a.w, b.w), (a.lq, b.lq), (a.l, b.l)] {
            assert!(close(x, y, 1e-12));
        }
        // ρ = 0.7, μ = 1000/s: Wq = 0.7/300 s, L = 7/3.
        assert!(close(b.wq, 0.7 / 300.0, 1e-12));
        assert!(close(b.l, 7.0 / 3.0, 1e-12));
    }

    #[test]
    fn mmck_limits() {
        // No queue: blocking is Erlang B.
        let x = mmck(500.0, 100.0, 10, 10);
        assert!(close(x.blocking, erlang_b(10, 5.0), 1e-12));
        assert!(close(x.l, 5.0 * (1.0 - x.blocking), 1e-12));
        // A huge K: M/M/c with an unbounded queue.
        let (big, inf) = (mmck(720.0, 100.0, 8, 2000), mmc(720.0, 100.0, 8));
        assert!(big.blocking < 1e-80);
        assert!(close(big.l, inf.l, 1e-9));
        assert!(close(big.wq, inf.wq, 1e-9));
        // M/M/1/K closed form: p_K = (1 − ρ)ρ^K / (1 − ρ^(K+1)).
        let (rho, k) = (0.9_f64, 5);
        let p_k = (1.0 - rho) * rho.powi(k) / (1.0 - rho.powi(k + 1));
        assert!(close(mmck(900.0, 1000.0, 1, k as u32).blocking, p_k, 1e-12));
        // Little's law inside the chain: L − Lq = busy servers = c·utilisation.
        let y = mmck(950.0, 100.0, 8, 12);
        assert!(close(y.l - y.lq, 8.0 * y.utilization, 1e-12));
    }

    #[test]
    fn pollaczek_khinchine() {
        // Exponential service (E[S²] = 2s²) gives M/M/1.
        let (g, m) = (mg1(700.0, 1e-3, 2e-6), mm1(700.0, 1000.0));
        assert!(close(g.wq, m.wq, 1e-12));
        assert!(close(g.l, m.l, 1e-12));
        // Deterministic service halves M/M/1's wait.
        assert!(close(md1(700.0, 1e-3).wq, m.wq / 2.0, 1e-12));
    }

    #[test]
    fn mm1_timeout_formulas() {
        let (lambda, mu) = (700.0, 1000.0);
        // τ = 0: every request is orphaned, with its whole service.
        assert!(close(mm1_sojourn_tail(lambda, mu, 0.0), 1.0, 1e-12));
        assert!(close(mm1_orphaned_work(lambda, mu, 0.0), 1.0 / mu, 1e-12));
        assert!(mm1_orphaned_work(lambda, mu, 1.0) < 1e-100);
        // τ → ∞: the capped mean is W.
        assert!(close(
            mm1_sojourn_capped_mean(lambda, mu, 10.0),
            mm1(lambda, mu).w,
            1e-12
        ));
        // E[S·1{W > τ}] by numerical integration over S (trapezoid, 1 µs):
        // P(W > τ | S = s) = 1 for s ≥ τ, else ρ·e^{−θ(τ − s)}.
        let tau = 0.008;
        let (rho, theta, h) = (lambda / mu, mu - lambda, 1e-6);
        let mut sum = 0.0;
        for i in 0..=50_000 {
            let s = f64::from(i) * h;
            let tail = if s >= tau {
                1.0
            } else {
                rho * (-theta * (tau - s)).exp()
            };
            let weight = if i == 0 || i == 50_000 { 0.5 } else { 1.0 };
            sum += weight * h * s * mu * (-mu * s).exp() * tail;
        }
        assert!(close(mm1_orphaned_work(lambda, mu, tau), sum, 1e-5));
    }
}
