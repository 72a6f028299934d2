//! Erlang's formulas for c servers offered `a` erlangs (M/M/c).
//!
//! Owns only the arithmetic; what a server and an erlang are for a service
//! is `check`'s business.

/// Erlang B (blocking probability of M/M/c/c) by the stable recursion
/// B(0) = 1, B(k) = a·B(k−1) / (k + a·B(k−1)): no factorials, no overflow,
/// O(c) for any c.
pub fn erlang_b(c: u32, a: f64) -> f64 {
    let mut b = 1.0;
    for k in 1..=c {
        b = a * b / (f64::from(k) + a * b);
    }
    b
}

/// Erlang C: the probability that an arrival waits in M/M/c, for
/// ρ = a / c < 1 (1 at or past saturation).
pub fn erlang_c(c: u32, a: f64) -> f64 {
    let rho = a / f64::from(c);
    if rho >= 1.0 {
        return 1.0;
    }
    let b = erlang_b(c, a);
    b / (1.0 - rho * (1.0 - b))
}

/// The mean wait in the queue of M/M/c with mean service time `s`:
/// C(c, a) · s / (c (1 − ρ)); infinite at or past saturation.
pub fn mean_wait(c: u32, a: f64, s: f64) -> f64 {
    let rho = a / f64::from(c);
    if rho >= 1.0 {
        return f64::INFINITY;
    }
    erlang_c(c, a) * s / (f64::from(c) * (1.0 - rho))
}

/// M/M/c/K with `queue` waiting places: what an arrival meets.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Bounded {
    /// Mean wait of an admitted arrival (same unit as `s`).
    pub wait: f64,
    /// Probability that an admitted arrival waits.
    pub p_wait: f64,
    /// Probability that an arrival finds every place taken (rejected).
    pub p_block: f64,
}

/// M/M/c/K: c servers, `queue` waiting places, `a` erlangs offered, mean
/// service time `s`, at any load. The state probabilities a^n/n! (n ≤ c)
/// and p_c·ρ^(n−c) (n > c) are summed in the log domain with a running
/// rescale, so neither large c nor ρ > 1 overflows; O(c + queue).
pub fn bounded(c: u32, queue: u32, a: f64, s: f64) -> Bounded {
    if a <= 0.0 {
        return Bounded {
            wait: 0.0,
            p_wait: 0.0,
            p_block: 0.0,
        };
    }
    let (la, lrho) = (a.ln(), (a / f64::from(c)).ln());
    let top = u64::from(c) + u64::from(queue);
    // Sums scaled by exp(-scale): all states, waiting places taken
    // (Σ (n − c) p_n), arrivals that wait (c ≤ n < top), the last state.
    let (mut scale, mut total, mut queued, mut waits, mut last) = (0.0f64, 1.0, 0.0, 0.0, 0.0);
    let mut log_t = 0.0;
    for n in 1..=top {
        log_t += if n <= u64::from(c) {
            la - (n as f64).ln()
        } else {
            lrho
        };
        if log_t > scale {
            let k = (scale - log_t).exp();
            total *= k;
            queued *= k;
            waits *= k;
            scale = log_t;
        }
        let t = (log_t - scale).exp();
        total += t;
        if n > u64::from(c) {
            queued += (n - u64::from(c)) as f64 * t;
        }
        if n >= u64::from(c) && n < top {
            waits += t;
        }
        if n == top {
            last = t;
        }
    }
    // An arrival waits when it finds all c servers busy and a place free
    // (n = c exactly when queue = 0 means blocked, not waiting).
    let p_block = if top == 0 { 1.0 } else { last / total };
    let admitted = (1.0 - p_block).max(f64::MIN_POSITIVE);
    let lq = queued / total;
    Bounded {
        wait: lq * s / (a * admitted),
        p_wait: (waits / total) / admitted,
        p_block,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_server_is_mm1() {
        // M/M/1: P(wait) = ρ, Wq = ρ s / (1 − ρ).
        assert!((erlang_c(1, 0.7) - 0.7).abs() < 1e-12);
        assert!((mean_wait(1, 0.7, 10.0) - 0.7 * 10.0 / 0.3).abs() < 1e-9);
    }

    #[test]
    fn textbook_values() {
        // c = 2, a = 1: B = 0.2, C = 1/3.
        assert!((erlang_b(2, 1.0) - 0.2).abs() < 1e-12);
        assert!((erlang_c(2, 1.0) - 1.0 / 3.0).abs() < 1e-12);
        // Large c stays finite and small at moderate load.
        let c = erlang_c(100_000, 80_000.0);
        assert!(c.is_finite() && c < 1e-6, "{c}");
    }

    #[test]
    fn bounded_is_mm1k_and_erlang_b() {
        // M/M/1 with 2 waiting places at ρ 0.8: p_n = ρ^n (1−ρ)/(1−ρ^4).
        let b = bounded(1, 2, 0.8, 1.0);
        let norm = 0.2 / (1.0 - 0.8f64.powi(4));
        let p = |n: i32| 0.8f64.powi(n) * norm;
        assert!((b.p_block - p(3)).abs() < 1e-12, "{b:?}");
        let lq = p(2) + 2.0 * p(3);
        assert!((b.wait - lq / (0.8 * (1.0 - p(3)))).abs() < 1e-12, "{b:?}");
        assert!((b.p_wait - (p(1) + p(2)) / (1.0 - p(3))).abs() < 1e-12);
        // No waiting places: Erlang B, and nobody waits.
        let b = bounded(10, 0, 7.0, 1.0);
        assert!((b.p_block - erlang_b(10, 7.0)).abs() < 1e-12);
        assert_eq!(b.wait, 0.0);
        // Past saturation it stays finite: the queue is nearly always full.
        let b = bounded(4, 100, 8.0, 1.0);
        assert!(b.wait.is_finite() && (b.wait - 25.0).abs() < 0.5, "{b:?}");
        // Large c with a long queue below saturation approaches Erlang C.
        let b = bounded(1000, 100_000, 900.0, 1.0);
        assert!((b.wait - mean_wait(1000, 900.0, 1.0)).abs() < 1e-9, "{b:?}");
    }

    #[test]
    fn saturation_is_certain_waiting() {
        assert_eq!(erlang_c(4, 4.0), 1.0);
        assert!(mean_wait(4, 5.0, 1.0).is_infinite());
    }
}
