//! Two counters over a sliding time window, kept in a ring of 10 time
//! slices of `window / 10` (a count lasts 0.9 to 1 × `window`): what the
//! retry gate (attempts, failures) and adaptive throttling (requests,
//! accepts) count.
//!
//! Owns the ring; must not interpret the counts.

use crate::time::Nanos;

/// Slices of the window.
pub const SLICES: usize = 10;

/// Two counts over the last `window`.
#[derive(Clone, Debug)]
pub struct WindowCounts {
    slice_len: Nanos,
    /// `(slice number, first, second)`; slice `k` lives at `k % SLICES`.
    slices: [(u64, u32, u32); SLICES],
}

impl WindowCounts {
    pub fn new(window: Nanos) -> WindowCounts {
        WindowCounts {
            slice_len: (window / SLICES as u64).max(1),
            slices: [(u64::MAX, 0, 0); SLICES],
        }
    }

    /// Adds `first` and `second` at `now`.
    pub fn add(&mut self, now: Nanos, first: u32, second: u32) {
        let k = now / self.slice_len;
        let s = &mut self.slices[(k % SLICES as u64) as usize];
        if s.0 != k {
            *s = (k, 0, 0);
        }
        s.1 = s.1.saturating_add(first);
        s.2 = s.2.saturating_add(second);
    }

    /// Both sums over the window at `now`.
    pub fn sums(&self, now: Nanos) -> (u64, u64) {
        let k = now / self.slice_len;
        self.slices
            .iter()
            .filter(|(slice, _, _)| *slice <= k && k - *slice < SLICES as u64)
            .fold((0, 0), |(a, b), s| (a + u64::from(s.1), b + u64::from(s.2)))
    }
}
