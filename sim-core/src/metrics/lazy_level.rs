//! A level whose integral over time is kept lazily: a change costs an
//! add and a multiply-free subtraction, and a rise and a fall at the same
//! instant cancel exactly.
//!
//! `TimeWeighted` folds the area up to each change into its total; here
//! the area up to `t` is `acc + value × t`, where every change of `delta`
//! at `now` subtracts `delta × now` from `acc`. Both give the same integer
//! (Σ delta_k × (t − t_k)), so means computed from either are identical
//! to the bit. For levels that change on a hot path and whose maximum
//! nobody reads (an event loop's busy loops). Owns that arithmetic; must
//! not know what the level counts.

use crate::time::Nanos;

#[derive(Clone, Debug, Default)]
pub struct LazyLevel {
    value: i128,
    /// The area up to `t` is `acc + value × t`.
    acc: i128,
    /// The area when the current window started, and when measuring did.
    window_from: i128,
    measured_from: i128,
}

impl LazyLevel {
    #[inline(always)]
    pub fn add(&mut self, now: Nanos, delta: i64) {
        let d = i128::from(delta);
        self.value += d;
        self.acc -= d * i128::from(now);
    }

    #[inline(always)]
    pub fn rise(&mut self, now: Nanos) {
        self.value += 1;
        self.acc -= i128::from(now);
    }

    #[inline(always)]
    pub fn fall(&mut self, now: Nanos) {
        self.value -= 1;
        self.acc += i128::from(now);
    }

    fn area_at(&self, now: Nanos) -> i128 {
        self.acc + self.value * i128::from(now)
    }

    /// Measuring starts at `now` (the warm-up's end).
    pub fn restart(&mut self, now: Nanos) {
        self.measured_from = self.area_at(now);
    }

    /// Mean over the window that ends at `now` and lasted `len`; starts
    /// the next one.
    pub fn close_window(&mut self, now: Nanos, len: Nanos) -> f64 {
        let a = self.area_at(now);
        let window = a - self.window_from;
        self.window_from = a;
        if len == 0 {
            0.0
        } else {
            window as u128 as f64 / len as f64
        }
    }

    /// The area from the start of measuring to `now`.
    pub fn area(&self, now: Nanos) -> u128 {
        (self.area_at(now) - self.measured_from) as u128
    }
}

#[cfg(test)]
mod tests {
    use super::super::TimeWeighted;
    use super::*;

    /// The same changes give the same areas and window means as
    /// `TimeWeighted`, to the bit, including changes at one instant.
    #[test]
    fn matches_time_weighted_exactly() {
        let mut lazy = LazyLevel::default();
        let mut tw = TimeWeighted::default();
        let changes: [(Nanos, i64); 9] = [
            (5, 1),
            (5, 1),
            (7, -1),
            (7, 1),
            (7, -1),
            (1_000_000_007, 3),
            (1_000_000_007, -3),
            (3_000_000_001, 2),
            (4_500_000_000, -3),
        ];
        let mut windows = vec![];
        let mut next_window = 1_000_000_000;
        for (i, &(t, d)) in changes.iter().enumerate() {
            while t >= next_window {
                let a = lazy.close_window(next_window, 1_000_000_000);
                let (b, _) = tw.close_window(next_window, 1_000_000_000);
                windows.push((a.to_bits(), b.to_bits()));
                next_window += 1_000_000_000;
            }
            if i == 3 {
                lazy.restart(t);
                tw.restart(t);
            }
            if d == 1 {
                lazy.rise(t);
            } else if d == -1 {
                lazy.fall(t);
            } else {
                lazy.add(t, d);
            }
            tw.add(t, d);
        }
        assert_eq!(windows.len(), 4);
        for (a, b) in windows {
            assert_eq!(a, b);
        }
        tw.flush(6_000_000_000);
        assert_eq!(lazy.area(6_000_000_000), tw.area);
        assert!(tw.area > 0);
    }
}
