//! `Pending`: a few values waiting to go into a histogram, kept in the
//! cache line its owner's request path touches anyway.
//!
//! At thousands of services a service's sojourn histogram sees a request
//! now and then, and recording one into its list of buckets (a binary
//! search over a few hundred bytes) missed the cache on the header and on
//! two or three lines of the list each time. Held here as their buckets
//! (`index_of`: two bytes, all a histogram keeps of a value), fourteen
//! values cost one line (their owner's); recorded together, the list is
//! walked once while in cache. The histogram gets the same values, only
//! later, so it ends with the same counts; its owner drains the values
//! before anything reads it.
//!
//! Owns the buffer only; what a histogram does with a value is
//! `histogram.rs`'s. `WindowLatencies` puts one in front of a window's
//! histogram (a wide model's source, every queue), where a window close
//! that adds it to an aggregate need not drain it.
//!
//! A busy service's histogram goes flat (`Histogram::is_flat`), and
//! recording into it is an add on a line in cache: once drained into a
//! flat histogram, the buffer records straight through (`direct`), so a
//! service of M1's size pays a predictable branch for it. Wide models do
//! not use these buffers: their latencies go through one log
//! (`latency_log.rs`), unless they have more histograms than its keys
//! can number.

use super::histogram::{Histogram, HistogramSum, index_of};

/// Values a buffer holds before they must be recorded.
const CAPACITY: usize = 14;

/// The buckets (`index_of`) of up to `CAPACITY` values, in the order they
/// came: 32 bytes.
#[derive(Clone, Copy, Debug, Default)]
pub struct Pending {
    buckets: [u16; CAPACITY],
    len: u8,
    /// The histogram was flat at the last drain: values go straight in
    /// (the buffer stays empty from then on).
    direct: bool,
}

impl Pending {
    /// Records `v` into `h`, through the buffer: it waits there while
    /// there is room (whatever its size, bar `u64::MAX`); otherwise the
    /// waiting ones go into `h` first, then `v`.
    #[inline]
    pub fn record<const B: u64>(&mut self, h: &mut Histogram<B>, v: u64) {
        if self.direct {
            return h.record(v);
        }
        let len = usize::from(self.len);
        // `u64::MAX` is the one value whose maximum its bucket does not
        // give (`highest_equivalent`): it goes in as it is.
        if len < CAPACITY && v < u64::MAX {
            self.buckets[len] = index_of(v);
            self.len += 1;
            return;
        }
        self.drain_then(h, v);
    }

    #[inline(never)]
    fn drain_then<const B: u64>(&mut self, h: &mut Histogram<B>, v: u64) {
        self.drain_into(h);
        h.record(v);
        self.direct = h.is_flat();
    }

    /// The waiting values' buckets (`index_of`), oldest first.
    fn buckets(&self) -> &[u16] {
        &self.buckets[..usize::from(self.len)]
    }

    /// Records the waiting values into `h`, oldest first, and empties the
    /// buffer. Call before reading `h`.
    pub fn drain_into<const B: u64>(&mut self, h: &mut Histogram<B>) {
        h.record_buckets(&self.buckets[..usize::from(self.len)]);
        self.len = 0;
    }
}

/// A window's latencies: its histogram, and a buffer in front of it.
/// A wide model's source answers a request or two a window and a queue
/// acknowledges a few, and recording each into the histogram's list
/// missed on its buffer. Here they wait on the owner's own line; the
/// window's close reads the histogram (draining the buffer) only where a
/// series needs it, and otherwise adds both to the aggregate as they are.
#[derive(Clone, Debug, Default)]
pub struct WindowLatencies {
    histogram: Histogram,
    pending: Pending,
}

impl WindowLatencies {
    /// Records `v` through the buffer.
    #[inline]
    pub fn record(&mut self, v: u64) {
        self.pending.record(&mut self.histogram, v);
    }

    /// Records `v` straight into the histogram (a small model's source,
    /// whose histogram is busy, in cache and soon flat).
    #[inline]
    pub fn record_direct(&mut self, v: u64) {
        self.histogram.record(v);
    }

    /// The window's histogram, every value in it.
    pub fn histogram(&mut self) -> &Histogram {
        self.pending.drain_into(&mut self.histogram);
        &self.histogram
    }

    /// Adds the window's values to `sum`, drained or not.
    pub fn add_to(&self, sum: &mut HistogramSum) {
        sum.add(&self.histogram);
        sum.add_buckets(self.pending.buckets());
    }

    /// Forgets the window's values, for the next.
    pub fn reset(&mut self) {
        self.histogram.reset();
        self.pending.len = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::histogram::LeanHistogram;

    /// `through` (recorded through a buffer, drained) holds what `direct`
    /// does: count, maximum and quantiles.
    fn assert_same_figures(through: &LeanHistogram, direct: &LeanHistogram) {
        assert_eq!(through.len(), direct.len());
        assert_eq!(through.max(), direct.max());
        let qs = [0.0, 0.1, 0.5, 0.9, 0.99, 0.999, 1.0];
        assert_eq!(
            through.values_at_quantiles(qs),
            direct.values_at_quantiles(qs)
        );
    }

    #[test]
    fn same_quantiles_max_and_count_as_recording_directly() {
        let (mut direct, mut through) = (LeanHistogram::empty(), LeanHistogram::empty());
        let mut pending = Pending::default();
        // Small and large values (past u32), some runs longer than the
        // buffer: a lean histogram goes from list to flat on the way.
        let mut x = 1u64;
        for i in 0..5_000u64 {
            x = crate::rng::mix(x ^ i);
            let v = match x % 10 {
                0 => 5_000_000_000 + x % 1_000_000_000,
                _ => 1_000 + x % 50_000_000,
            };
            direct.record(v);
            pending.record(&mut through, v);
            if i % 997 == 0 {
                // Read mid-run, as a summary would.
                let mut copy = through.clone();
                pending.clone().drain_into(&mut copy);
                assert_eq!(copy.len(), direct.len());
            }
        }
        pending.drain_into(&mut through);
        assert_same_figures(&through, &direct);
        assert_eq!(pending.len, 0);
        assert!(pending.direct, "5,000 values make a lean histogram flat");
    }

    #[test]
    fn a_request_line_holds_the_buffer() {
        use crate::metrics::{RequestLine, ServiceStats};
        use std::mem::{align_of, offset_of, size_of};
        assert_eq!(size_of::<RequestLine>(), 64);
        assert_eq!(align_of::<RequestLine>(), 64);
        assert_eq!(offset_of!(ServiceStats, line) % 64, 0);
        assert!(
            size_of::<Pending>() <= 32,
            "the buffer fits beside the line's sums"
        );
    }

    #[test]
    fn holds_up_to_fourteen_values_then_records_them_all() {
        let (mut h, mut direct) = (LeanHistogram::empty(), LeanHistogram::empty());
        let mut p = Pending::default();
        for v in 1..=14 {
            p.record(&mut h, v * 1_000);
            direct.record(v * 1_000);
        }
        direct.record(u64::from(u32::MAX) + 1);
        assert!(h.is_empty(), "fourteen wait");
        p.record(&mut h, u64::from(u32::MAX) + 1);
        assert_eq!(h.len(), 15, "the fifteenth makes all fifteen go in");
        assert_eq!(h.max(), direct.max());
        p.record(&mut h, u64::MAX - 1);
        assert_eq!(h.len(), 15, "a value of any size waits");
        p.record(&mut h, u64::MAX);
        direct.record(u64::MAX - 1);
        direct.record(u64::MAX);
        p.drain_into(&mut h);
        assert_eq!((h.len(), h.max()), (direct.len(), direct.max()));
    }
}
