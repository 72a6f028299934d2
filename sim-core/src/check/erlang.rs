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
    fn saturation_is_certain_waiting() {
        assert_eq!(erlang_c(4, 4.0), 1.0);
        assert!(mean_wait(4, 5.0, 1.0).is_infinite());
    }
}
