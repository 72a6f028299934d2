//! A level whose integral over time is kept lazily: a change costs an
//! add and a multiply-free subtraction, and a rise and a fall at the same
//! instant cancel exactly. The owner of the level may keep that pair
//! itself, in parts (an event loop's replicas, `engine/event_loop.rs`),
//! and `set` their sums here before a window closes or a mean is read.
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
    /// A change of `delta` at `now`.
    #[cfg(test)]
    pub fn add(&mut self, now: Nanos, delta: i64) {
        let d = i128::from(delta);
        self.value += d;
        self.acc -= d * i128::from(now);
    }

    /// The level is `value` and its area up to `t` is `acc + value × t`
    /// (the sums of its parts kept elsewhere by the same arithmetic).
    pub fn set(&mut self, value: i128, acc: i128) {
        self.value = value;
        self.acc = acc;
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
            super::wide_to_f64(window as u128) / len as f64
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
    /// `TimeWeighted`, to the bit, including changes at one instant —
    /// made here, or in parts kept outside whose sums are `set`.
    #[test]
    fn matches_time_weighted_exactly() {
        let mut lazy = LazyLevel::default();
        let mut split = LazyLevel::default();
        let mut parts = [(0i128, 0i128); 3];
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
                let c = split.close_window(next_window, 1_000_000_000);
                windows.push((a.to_bits(), b.to_bits()));
                windows.push((c.to_bits(), b.to_bits()));
                next_window += 1_000_000_000;
            }
            if i == 3 {
                lazy.restart(t);
                split.restart(t);
                tw.restart(t);
            }
            lazy.add(t, d);
            // The same change in one of three parts kept outside, their
            // sums `set` (as an event loop's replicas keep theirs).
            let part = &mut parts[i % 3];
            part.0 += i128::from(d);
            part.1 -= i128::from(d) * i128::from(t);
            split.set(
                parts.iter().map(|p| p.0).sum(),
                parts.iter().map(|p| p.1).sum(),
            );
            tw.add(t, d);
        }
        assert_eq!(windows.len(), 8);
        for (a, b) in windows {
            assert_eq!(a, b);
        }
        tw.flush(6_000_000_000);
        assert_eq!(lazy.area(6_000_000_000), tw.area);
        assert_eq!(split.area(6_000_000_000), tw.area);
        assert!(tw.area > 0);
    }
}
