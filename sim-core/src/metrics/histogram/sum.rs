//! `HistogramSum`: one histogram made from many (a window's aggregate
//! over every entry, or every queue).
//!
//! `Histogram::add` counts the other's buckets one by one into its own:
//! into a list, a search and often an insert (a shift of the list's tail)
//! each. A window close of a wide model adds hundreds of small histograms
//! (at 5,000 services, 500 entries' and 500 queues', a few values each)
//! into a list that grows to hundreds of buckets. Here their counts are
//! added up in a dense scratch, and the sum is written out once, in
//! bucket order. Owns the scratch between windows; the figures are those
//! `Histogram::add` would give (the same counts, total and maximum).

use super::{BatchScratch, COUNT_MASK, Counts, Histogram, MIN_FLAT};

#[derive(Default)]
pub struct HistogramSum {
    /// Made at the first non-empty histogram added (64 KiB); all zero
    /// between sums.
    scratch: Option<BatchScratch>,
    /// The lowest and highest bucket counted (`lo > hi`: none).
    lo: u16,
    hi: u16,
    total: u64,
    max: u64,
}

impl HistogramSum {
    /// Adds every value of `h`.
    pub fn add<const B: u64>(&mut self, h: &Histogram<B>) {
        if h.total == 0 {
            // (`Histogram::add` of an empty histogram changes nothing.)
            return;
        }
        let scratch = self.scratch.get_or_insert_with(BatchScratch::new);
        if self.total == 0 {
            (self.lo, self.hi) = (u16::MAX, 0);
        }
        for (i, c) in h.buckets() {
            scratch.add(i, c);
            (self.lo, self.hi) = (self.lo.min(i), self.hi.max(i));
        }
        self.total = self.total.saturating_add(h.total);
        self.max = self.max.max(h.max);
    }

    /// Adds a value of each of `buckets` (`index_of`, as `Pending` holds
    /// them): what recording them into a histogram and adding it would.
    pub fn add_buckets(&mut self, buckets: &[u16]) {
        if buckets.is_empty() {
            return;
        }
        let scratch = self.scratch.get_or_insert_with(BatchScratch::new);
        if self.total == 0 {
            (self.lo, self.hi) = (u16::MAX, 0);
        }
        for &b in buckets {
            scratch.add(b, 1);
            (self.lo, self.hi) = (self.lo.min(b), self.hi.max(b));
            self.max = self.max.max(super::lowest_at(b));
        }
        self.total = self.total.saturating_add(buckets.len() as u64);
    }

    /// The sum of every histogram added since the last `take`, and a
    /// fresh start.
    pub fn take(&mut self) -> Histogram {
        let mut sum = Histogram::new();
        let (total, max) = (
            std::mem::take(&mut self.total),
            std::mem::take(&mut self.max),
        );
        let Some(scratch) = self.scratch.as_mut().filter(|_| total > 0) else {
            return sum;
        };
        sum.total = total;
        sum.max = max;
        if total <= COUNT_MASK {
            // No count can outgrow its entry if the total cannot.
            let mut list = Vec::with_capacity(scratch.in_use(self.lo, self.hi).max(MIN_FLAT));
            scratch.take_into(self.lo, self.hi, &mut list);
            sum.counts = Counts::Sparse(list);
            sum.flatten(false);
        } else {
            // Counts past an entry's bits: `count` turns the sum flat.
            scratch.take_each(self.lo, self.hi, |b, c| sum.count(b, c));
        }
        sum
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Histogram, LeanHistogram};
    use super::HistogramSum;

    /// A few hundred histograms of a few values each (some empty, some
    /// gone flat, one far outlier), summed both ways, window after window.
    #[test]
    fn a_sum_is_what_adding_one_by_one_gives() {
        let mut lcg = crate::rng::TestLcg(99);
        let mut next = move || lcg.next() >> 11;
        let mut sum = HistogramSum::default();
        for window in 0..4 {
            let mut added = Histogram::new();
            for k in 0..300 {
                let mut h = Histogram::new();
                let n = match k % 7 {
                    0 => 0,
                    1 => 400, // goes flat
                    _ => next() % 5,
                };
                for _ in 0..n {
                    h.record(1_000_000 + next() % 50_000_000);
                }
                if k == 150 && window == 2 {
                    h.record(u64::MAX / 3);
                }
                sum.add(&h);
                added.add(&h);
            }
            let taken = sum.take();
            assert_eq!(taken.len(), added.len());
            assert_eq!(taken.max(), added.max());
            assert_eq!(
                taken.buckets().collect::<Vec<_>>(),
                added.buckets().collect::<Vec<_>>(),
                "window {window}"
            );
            let qs = [0.0, 0.5, 0.9, 0.99, 0.999, 1.0];
            assert_eq!(taken.values_at_quantiles(qs), added.values_at_quantiles(qs));
        }
        // Nothing added: an empty histogram, as adding nothing gives.
        let empty = sum.take();
        assert!(empty.is_empty());
        assert_eq!(empty.max(), 0);
        // Buckets waiting in a buffer add as their histogram would.
        let mut h = Histogram::new();
        let buckets: Vec<u16> = [3_000_000u64, 17, 3_000_000, 9_000_000_000]
            .iter()
            .map(|&v| super::super::index_of(v))
            .collect();
        h.record_buckets(&buckets);
        sum.add_buckets(&buckets);
        sum.add_buckets(&[]);
        let taken = sum.take();
        assert_eq!(taken.len(), h.len());
        assert_eq!(taken.max(), h.max());
        assert_eq!(
            taken.buckets().collect::<Vec<_>>(),
            h.buckets().collect::<Vec<_>>()
        );
        // A lean histogram adds as any other.
        let mut lean = LeanHistogram::empty();
        lean.record(5);
        sum.add(&lean);
        assert_eq!(sum.take().len(), 1);
    }

    #[test]
    fn counts_past_an_entrys_bits_stay_exact() {
        let mut big = Histogram::new();
        big.record_n(7, 1 << 47);
        let mut sum = HistogramSum::default();
        let mut added = Histogram::new();
        for _ in 0..3 {
            sum.add(&big);
            added.add(&big);
        }
        let taken = sum.take();
        assert_eq!(taken.len(), 3 << 47);
        assert_eq!(
            taken.buckets().collect::<Vec<_>>(),
            added.buckets().collect::<Vec<_>>()
        );
    }
}
