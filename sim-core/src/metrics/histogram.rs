//! A latency histogram with HdrHistogram's bucket layout, stored compactly.
//!
//! Values are whole nanoseconds from 0 to `u64::MAX`, kept to
//! `HISTOGRAM_DIGITS` significant decimal digits: the same buckets, hence
//! the same quantiles, maximum and counts, as an auto-resizing
//! `hdrhistogram::Histogram::new_with_bounds(1, _, HISTOGRAM_DIGITS)` fed
//! the same values (the tests hold it against one).
//!
//! The difference is storage. An HDR histogram is a flat array of every
//! bucket up to the largest value it can hold: 30 KiB for a minute at two
//! digits, whether it holds one value or a million. At thousands of
//! services most histograms see a few hundred values, so this one keeps
//! the buckets in use as a sorted list of (bucket, count), 8 bytes each,
//! and turns into a flat array over the buckets between the lowest and the
//! highest in use once that costs no more than twice the list, or one byte
//! per value recorded. An empty histogram allocates nothing; the first
//! value takes room for 16 buckets at once (128 bytes, in one allocation
//! rather than three as the list grows).
//!
//! (Past 600 lines only with its tests beside it, which hold it to
//! `hdrhistogram` on every shape; the code before them is 732 lines, its
//! docs included, of which `BatchScratch` is 58; summing many histograms
//! lives in `histogram/sum.rs`.)

use super::HISTOGRAM_DIGITS;

mod sum;
pub use sum::HistogramSum;

/// Sub-buckets per bucket: the power of two that holds 2 × 10^digits
/// values at unit resolution (256 for two digits).
const SUB_BUCKET_MAGNITUDE: u32 = {
    let largest = 2 * 10u64.pow(HISTOGRAM_DIGITS as u32);
    u64::BITS - (largest - 1).leading_zeros()
};
const SUB_BUCKET_HALF_MAGNITUDE: u32 = SUB_BUCKET_MAGNITUDE - 1;
const SUB_BUCKET_HALF: u32 = 1 << SUB_BUCKET_HALF_MAGNITUDE;
/// Values below this share bucket 0 (at unit resolution).
const SUB_BUCKET_MASK: u64 = (1 << SUB_BUCKET_MAGNITUDE) - 1;
const LEADING_ZERO_BASE: u32 = u64::BITS - SUB_BUCKET_MAGNITUDE;

/// The bucket of `v`: how many powers of two it lies above bucket 0.
#[inline]
const fn bucket_of(v: u64) -> u32 {
    LEADING_ZERO_BASE - (v | SUB_BUCKET_MASK).leading_zeros()
}

/// The counts index of `v`, as HdrHistogram numbers it (below 2^13 for
/// any u64 at two digits, so a `u16` holds it): its bucket, all a
/// histogram keeps of it (`Pending` holds values as these).
#[inline]
pub(super) const fn index_of(v: u64) -> u16 {
    let bucket = bucket_of(v);
    let sub = (v >> bucket) as u32;
    (((bucket + 1) << SUB_BUCKET_HALF_MAGNITUDE) + sub - SUB_BUCKET_HALF) as u16
}

/// The lowest value counted at `index`.
fn lowest_at(index: u16) -> u64 {
    let index = u32::from(index);
    let bucket = (index >> SUB_BUCKET_HALF_MAGNITUDE) as i32 - 1;
    let sub = (index & (SUB_BUCKET_HALF - 1)) + SUB_BUCKET_HALF;
    if bucket < 0 {
        u64::from(sub - SUB_BUCKET_HALF)
    } else {
        u64::from(sub) << bucket
    }
}

/// The highest value equivalent to `v` (what HdrHistogram reports for a
/// quantile and for the maximum).
fn highest_equivalent(v: u64) -> u64 {
    if v == u64::MAX {
        return u64::MAX;
    }
    let bucket = bucket_of(v);
    let lowest = (v >> bucket) << bucket;
    lowest.saturating_add(1 << bucket) - 1
}

/// A list shorter than this stays a list.
const MIN_FLAT: usize = 16;

/// Values `record_buckets` merges at most (more go one by one).
const BATCH: usize = 16;

/// A list entry is one u64: the bucket in the top 16 bits, its count in the
/// rest, so entries sort by bucket and a list takes 8 bytes a bucket. A
/// count that would outgrow its bits (2^48 values in one bucket) makes the
/// histogram flat first.
const COUNT_BITS: u32 = 48;
const COUNT_MASK: u64 = (1 << COUNT_BITS) - 1;

fn entry(i: u16, count: u64) -> u64 {
    debug_assert!(count <= COUNT_MASK);
    (u64::from(i) << COUNT_BITS) | count
}

fn bucket_in(e: u64) -> u16 {
    (e >> COUNT_BITS) as u16
}

fn count_in(e: u64) -> u64 {
    e & COUNT_MASK
}

/// Whether a flat array over `span` buckets may replace a list of `in_use`
/// buckets after `total` values: when it takes at most twice the list's
/// memory, or at most 64 bytes per value recorded. Recording into a list
/// costs a binary search (and sometimes an insert) per value, 18 % of an
/// M/M/8 run whose window histograms (a few hundred values a second over
/// ~2,000 buckets) stayed lists; with this rule they go flat within their
/// first window and stay flat (`reset`). Flat memory stays bounded by the
/// values recorded per window (64 bytes each), not by the topology: a
/// service that sees a few requests a second never goes flat. The 64 is
/// `BYTES_PER_VALUE`: a whole-run histogram of each of thousands of
/// services (`LeanHistogram`) allows 16, else an hour's few hundred values
/// per service buy flat arrays of tens of kilobytes each.
fn affordable(span: usize, in_use: usize, total: u64, bytes_per_value: u64) -> bool {
    let flat = span * std::mem::size_of::<u64>();
    flat <= 2 * in_use * std::mem::size_of::<u64>()
        || flat as u64 <= total.saturating_mul(bytes_per_value)
}

/// `fill_quantiles`' pass over the buckets in ascending order: the
/// values seen so far and the next quantile's target count.
struct QuantileWalk<'a> {
    qs: &'a [f64],
    out: &'a mut [u64],
    total: u64,
    k: usize,
    next: u64,
    seen: u64,
}

impl<'a> QuantileWalk<'a> {
    fn new(qs: &'a [f64], out: &'a mut [u64], total: u64) -> QuantileWalk<'a> {
        let mut w = QuantileWalk {
            qs,
            out,
            total,
            k: 0,
            next: 0,
            seen: 0,
        };
        w.next = w.target();
        w
    }

    /// The count the `k`-th quantile is reached at (never, past the last).
    fn target(&self) -> u64 {
        match self.qs.get(self.k) {
            Some(q) => ((q.min(1.0) * self.total as f64).ceil() as u64).max(1),
            None => u64::MAX,
        }
    }

    /// Counts `c` values at bucket `i`; whether every quantile is found.
    /// Only a bucket that reaches the next target does more than an add.
    #[inline]
    fn add(&mut self, i: u16, c: u64) -> bool {
        self.seen += c;
        if self.seen < self.next {
            return false;
        }
        self.reached(i)
    }

    #[inline(never)]
    fn reached(&mut self, i: u16) -> bool {
        while self.k < self.qs.len() && self.seen >= self.next {
            let v = lowest_at(i);
            self.out[self.k] = if self.qs[self.k] == 0.0 {
                v
            } else {
                highest_equivalent(v)
            };
            self.k += 1;
            self.next = self.target();
        }
        self.k == self.qs.len()
    }
}

/// Buckets a flat histogram's quantile walk sums at a time.
const WALK_CHUNK: usize = 8;

/// A histogram kept for the whole run by each service (its waits and
/// sojourns): flat only at 16 bytes per value recorded (see `affordable`).
pub type LeanHistogram = Histogram<16>;

#[derive(Clone, Debug)]
enum Counts {
    /// Buckets in use, ascending (`entry`).
    Sparse(Vec<u64>),
    /// The counts of buckets `first ..= first + len - 1`.
    Flat { first: u16, counts: Vec<u64> },
}

#[derive(Clone, Debug)]
pub struct Histogram<const BYTES_PER_VALUE: u64 = 64> {
    total: u64,
    /// The largest value recorded (0 when empty).
    max: u64,
    counts: Counts,
}

/// Buckets `BatchScratch` has room for: every `index_of` is below it.
const SCRATCH_BUCKETS: usize = 1 << 13;
const _: () = assert!((index_of(u64::MAX) as usize) < SCRATCH_BUCKETS);

/// `Histogram::record_batch`'s workspace: a count and a bit per bucket,
/// all zero between batches (64 KiB, made once by its owner and reused).
pub struct BatchScratch {
    counts: Box<[u64; SCRATCH_BUCKETS]>,
    in_use: Box<[u64; SCRATCH_BUCKETS / 64]>,
}

impl BatchScratch {
    pub fn new() -> BatchScratch {
        BatchScratch {
            counts: Box::new([0; SCRATCH_BUCKETS]),
            in_use: Box::new([0; SCRATCH_BUCKETS / 64]),
        }
    }

    #[inline]
    fn add(&mut self, b: u16, n: u64) {
        // (The remainder changes no bucket, `index_of`'s being below
        // `SCRATCH_BUCKETS`; it spares the bounds checks.)
        let b = usize::from(b) % SCRATCH_BUCKETS;
        self.counts[b] += n;
        self.in_use[b / 64] |= 1 << (b % 64);
    }

    /// The words of bits covering buckets `lo ..= hi`.
    fn words(lo: u16, hi: u16) -> std::ops::RangeInclusive<usize> {
        usize::from(lo) / 64..=usize::from(hi) / 64
    }

    /// How many buckets between `lo` and `hi` are in use.
    fn in_use(&self, lo: u16, hi: u16) -> usize {
        self.in_use[Self::words(lo, hi)]
            .iter()
            .map(|w| w.count_ones() as usize)
            .sum()
    }

    /// Appends the buckets in use (all between `lo` and `hi`) to `list`
    /// as entries, in order, and zeroes them.
    #[inline]
    fn take_into(&mut self, lo: u16, hi: u16, list: &mut Vec<u64>) {
        self.take_each(lo, hi, |b, c| list.push(entry(b, c)));
    }

    /// Hands each bucket in use (all between `lo` and `hi`) and its count
    /// to `f`, in order, and zeroes them.
    #[inline]
    fn take_each(&mut self, lo: u16, hi: u16, mut f: impl FnMut(u16, u64)) {
        for w in Self::words(lo, hi) {
            let mut bits = std::mem::take(&mut self.in_use[w]);
            while bits != 0 {
                let b = (w * 64 + bits.trailing_zeros() as usize) % SCRATCH_BUCKETS;
                f(b as u16, std::mem::take(&mut self.counts[b]));
                bits &= bits - 1;
            }
        }
    }
}

impl Default for BatchScratch {
    fn default() -> BatchScratch {
        BatchScratch::new()
    }
}

impl<const B: u64> Default for Histogram<B> {
    fn default() -> Histogram<B> {
        Histogram::empty()
    }
}

impl Histogram {
    pub const fn new() -> Histogram {
        Histogram::empty()
    }
}

impl<const B: u64> Histogram<B> {
    pub const fn empty() -> Histogram<B> {
        Histogram {
            total: 0,
            max: 0,
            counts: Counts::Sparse(Vec::new()),
        }
    }

    pub fn len(&self) -> u64 {
        self.total
    }

    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    /// Asks for the lines that values of `buckets` (`index_of`) will be
    /// counted on, before they go in (`Pending`): for a list, every line
    /// of it (the merge then finds them in cache instead of missing on one
    /// line after another); for a flat array, each value's line (a few
    /// independent misses overlap instead of following one another). At
    /// thousands of services neither is in cache; this was a sixth of such
    /// a run's time. Only a hint: nothing changes.
    #[inline]
    pub fn prefetch_for(&self, buckets: &[u16]) {
        match &self.counts {
            Counts::Sparse(list) => {
                if let Some(last) = list.len().checked_sub(1) {
                    // The lines from the first entry's to the last's.
                    let first = list.as_ptr() as usize;
                    let end = &list[last] as *const u64 as usize;
                    prefetch::lines(list.as_ptr(), end / 64 - first / 64 + 1);
                }
            }
            Counts::Flat { first, counts } => {
                for &i in buckets {
                    let k = i.wrapping_sub(*first);
                    if let Some(c) = counts.get(usize::from(k)) {
                        prefetch::line(c);
                    }
                }
            }
        }
    }

    /// Whether the counts are a flat array (recording is then an add).
    pub fn is_flat(&self) -> bool {
        matches!(self.counts, Counts::Flat { .. })
    }

    /// The largest value recorded, to the histogram's resolution (0 when
    /// empty).
    pub fn max(&self) -> u64 {
        highest_equivalent(self.max)
    }

    /// Records `v` with weight `n` (`n` samples of it).
    pub fn record_n(&mut self, v: u64, n: u64) {
        self.total = self.total.saturating_add(n);
        self.max = self.max.max(v);
        self.count(index_of(v), n);
    }

    #[inline]
    pub fn record(&mut self, v: u64) {
        self.total = self.total.saturating_add(1);
        self.max = self.max.max(v);
        self.count(index_of(v), 1);
    }

    /// Records one value of bucket `i` (`index_of`): what `record` does
    /// with a value of that bucket (the maximum keeps its bucket's lowest
    /// value, which `max` reports as `record`'s).
    #[inline]
    fn record_bucket(&mut self, i: u16) {
        self.total = self.total.saturating_add(1);
        self.max = self.max.max(lowest_at(i));
        self.count(i, 1);
    }

    /// Records a value of each of `buckets` (`index_of`; a few, as
    /// `Pending` holds them): the same counts, total and maximum as
    /// recording the values one by one. Into a list they go sorted and
    /// merged from its end in one pass: at most one growth, each entry
    /// moved at most once (in blocks), instead of a search and an insert
    /// (a shift of the list's tail, and now and then a reallocation) per
    /// value. At thousands of services those were a tenth of a run.
    /// Whether the list turns flat is then decided once, after the batch,
    /// which changes no figure.
    pub fn record_buckets(&mut self, buckets: &[u16]) {
        let Counts::Sparse(list) = &mut self.counts else {
            return buckets.iter().for_each(|&i| self.record_bucket(i));
        };
        let mut sorted = [0u16; BATCH];
        let Some(sorted) = sorted.get_mut(..buckets.len()) else {
            return buckets.iter().for_each(|&i| self.record_bucket(i));
        };
        sorted.copy_from_slice(buckets);
        sorted.sort_unstable();
        // The buckets in order, each with its count.
        let mut runs = [(0u16, 0u64); BATCH];
        let mut n_runs = 0;
        for &b in sorted.iter() {
            if n_runs > 0 && runs[n_runs - 1].0 == b {
                runs[n_runs - 1].1 += 1;
            } else {
                runs[n_runs] = (b, 1);
                n_runs += 1;
            }
        }
        let runs = &runs[..n_runs];
        // Where each run's bucket is in the list (or goes), whether it is
        // there, and how many are not; a count that would outgrow its
        // entry takes the one-by-one path (which goes flat first). Each
        // search starts where the run below was found.
        let mut at = [0usize; BATCH];
        let mut there = [false; BATCH];
        let mut new = 0;
        let mut from = 0;
        for (r, &(b, n)) in runs.iter().enumerate() {
            let k = from + list[from..].partition_point(|&e| bucket_in(e) < b);
            match list.get(k) {
                Some(&e) if bucket_in(e) == b => {
                    if n > COUNT_MASK - count_in(e) {
                        return buckets.iter().for_each(|&i| self.record_bucket(i));
                    }
                    there[r] = true;
                }
                _ => new += 1,
            }
            at[r] = k;
            from = k;
        }
        self.total = self.total.saturating_add(buckets.len() as u64);
        if let Some(&(top, _)) = runs.last() {
            self.max = self.max.max(lowest_at(top));
        }
        if list.capacity() == 0 {
            list.reserve_exact(MIN_FLAT.max(new));
        }
        // From the top run down, the entries above a run move up by the
        // new buckets at or below it, in one block each; below the lowest
        // new bucket nothing moves (a batch of buckets all in the list,
        // the usual one, is adds in place). The walk over every entry
        // above the batch that this replaces was a fifth of a wide run's
        // drains.
        let mut top = list.len();
        list.resize(top + new, 0);
        let mut shift = new;
        for r in (0..runs.len()).rev() {
            let (b, n) = runs[r];
            let k = at[r];
            let above = k + usize::from(there[r]);
            if shift > 0 && above < top {
                list.copy_within(above..top, above + shift);
            }
            if there[r] {
                list[k + shift] = list[k] + n;
            } else {
                shift -= 1;
                list[k + shift] = entry(b, n);
            }
            top = k;
        }
        debug_assert_eq!(shift, 0, "the entries below the batch stay put");
        self.flatten(false);
    }

    /// Records a value of each of `buckets` (`index_of`, in any order):
    /// the same counts, total and maximum as recording the values one by
    /// one. Into a list, the list's counts and the batch's are added up in
    /// `scratch` (a count and a bit per bucket) and the list is rewritten
    /// in place from the bits, in order: no sort of the batch, no search,
    /// no new list, and each entry read and written once. A fold of
    /// `LatencyLog` gives dozens at a time; sorting them first (radix
    /// passes by bucket) and merging them run by run (a block copy and a
    /// mispredicted branch a run, a new list a fold) left DAG-5000's
    /// margin 3 % higher.
    /// Whether the list turns flat is then decided once, after the batch,
    /// which changes no figure. A few values (`Pending`'s) go through
    /// `record_buckets` instead, which needs no scratch.
    pub fn record_batch(&mut self, buckets: &[u16], scratch: &mut BatchScratch) {
        let Some(&first) = buckets.first() else {
            return;
        };
        // No count can outgrow its entry if the total cannot.
        let fits = self.total.saturating_add(buckets.len() as u64) <= COUNT_MASK;
        let Counts::Sparse(list) = &mut self.counts else {
            return buckets.iter().for_each(|&i| self.record_bucket(i));
        };
        if !fits {
            return buckets.iter().for_each(|&i| self.record_bucket(i));
        }
        let (mut lo, mut hi) = (first, first);
        for &b in buckets {
            scratch.add(b, 1);
            (lo, hi) = (lo.min(b), hi.max(b));
        }
        self.total += buckets.len() as u64;
        self.max = self.max.max(lowest_at(hi));
        if let (Some(&l), Some(&h)) = (list.first(), list.last()) {
            (lo, hi) = (lo.min(bucket_in(l)), hi.max(bucket_in(h)));
        }
        for &e in list.iter() {
            scratch.add(bucket_in(e), count_in(e));
        }
        let in_use = scratch.in_use(lo, hi);
        list.clear();
        list.reserve_exact(in_use.max(MIN_FLAT));
        scratch.take_into(lo, hi, list);
        self.flatten(false);
    }

    /// Adds `n` to bucket `i` (`total` already counts them). A flat
    /// histogram's bucket within its span is the path of nearly every
    /// value recorded: inline; the rest out of line.
    #[inline]
    fn count(&mut self, i: u16, n: u64) {
        if let Counts::Flat { first, counts } = &mut self.counts
            && let Some(c) = i
                .checked_sub(*first)
                .and_then(|k| counts.get_mut(usize::from(k)))
        {
            *c = c.saturating_add(n);
            return;
        }
        self.count_rest(i, n);
    }

    /// `count` for a list, or outside a flat histogram's span (`widen`).
    #[inline(never)]
    fn count_rest(&mut self, i: u16, n: u64) {
        match &mut self.counts {
            Counts::Flat { .. } => self.widen(i, n),
            Counts::Sparse(list) => {
                // Entries of lower buckets are exactly those below `i`'s
                // with a zero count.
                let key = entry(i, 0);
                let k = list.partition_point(|&e| e < key);
                match list.get_mut(k) {
                    Some(e) if bucket_in(*e) == i && n <= COUNT_MASK - count_in(*e) => {
                        *e += n;
                        // A busy histogram goes flat once it has recorded
                        // enough to pay for it.
                        if self.total.is_power_of_two() {
                            self.flatten(false);
                        }
                    }
                    Some(e) if bucket_in(*e) == i => {
                        self.flatten(true);
                        self.count(i, n);
                    }
                    _ if n <= COUNT_MASK => {
                        if list.capacity() == 0 {
                            // Room at once for every bucket a list keeps
                            // before it may go flat: one allocation instead
                            // of growing 4, 8, 16 (at thousands of services
                            // the reallocations were a tenth of the run).
                            list.reserve_exact(MIN_FLAT);
                        }
                        list.insert(k, entry(i, n));
                        self.flatten(false);
                    }
                    _ => {
                        list.insert(k, entry(i, 0));
                        self.flatten(true);
                        self.count(i, n);
                    }
                }
            }
        }
    }

    /// Turns the list flat when a flat array over its span is affordable,
    /// or whatever it costs when `force`d.
    fn flatten(&mut self, force: bool) {
        let Counts::Sparse(list) = &self.counts else {
            return;
        };
        let (Some(&lo), Some(&hi)) = (list.first(), list.last()) else {
            return;
        };
        let first = bucket_in(lo);
        let span = usize::from(bucket_in(hi) - first) + 1;
        if !force && (list.len() < MIN_FLAT || !affordable(span, list.len(), self.total, B)) {
            return;
        }
        let mut counts = vec![0; span];
        for &e in list {
            counts[usize::from(bucket_in(e) - first)] = count_in(e);
        }
        self.counts = Counts::Flat { first, counts };
    }

    /// Counts `n` at bucket `i`, outside a flat histogram's span: the span
    /// grows to cover it, or, if that is not affordable (one outlier far
    /// from the rest), the histogram goes back to a list.
    #[cold]
    fn widen(&mut self, i: u16, n: u64) {
        let Counts::Flat { first, counts } = &mut self.counts else {
            unreachable!("only a flat histogram widens");
        };
        let (lo, hi) = (i.min(*first), i.max(*first + counts.len() as u16 - 1));
        let span = usize::from(hi - lo) + 1;
        let in_use = counts.iter().filter(|c| **c > 0).count() + 1;
        // Not affordable means fewer values than bytes: every count fits.
        if !affordable(span, in_use, self.total, B) {
            let mut list: Vec<u64> = Vec::with_capacity(in_use);
            list.extend(
                (*first..)
                    .zip(counts.iter().copied())
                    .filter(|(_, c)| *c > 0)
                    .map(|(b, c)| entry(b, c)),
            );
            let k = list.partition_point(|&e| bucket_in(e) < i);
            list.insert(k, entry(i, n));
            self.counts = Counts::Sparse(list);
            return;
        }
        // Room for the new span and an eighth more, where `Vec`'s own
        // growth would double it: whole-run histograms of thousands of
        // services widen all run long, and doubling left two fifths of
        // their memory unused (a simulated hour of tree-5000: 40 of 101 MB).
        // Widening already reads the whole span, so the copy costs no more.
        if counts.capacity() < span {
            counts.reserve_exact((span - counts.len()).max(span / 8));
        }
        if i < *first {
            counts.splice(0..0, std::iter::repeat_n(0, usize::from(*first - i)));
            *first = i;
        } else {
            counts.resize(span, 0);
        }
        counts[usize::from(i - *first)] = n;
    }

    /// Buckets in use, ascending, with their counts.
    fn buckets(&self) -> impl Iterator<Item = (u16, u64)> + '_ {
        let (list, flat): (&[u64], _) = match &self.counts {
            Counts::Sparse(list) => (list, None),
            Counts::Flat { first, counts } => (&[], Some((*first, counts))),
        };
        let flat = flat.into_iter().flat_map(|(first, counts)| {
            counts
                .iter()
                .enumerate()
                .filter(|(_, c)| **c > 0)
                .map(move |(k, c)| (first + k as u16, *c))
        });
        list.iter()
            .map(|&e| (bucket_in(e), count_in(e)))
            .chain(flat)
    }

    /// The value below which a share `q` of the recorded values lie, as
    /// HdrHistogram computes it (0 when empty; `q` above 1 is 1).
    pub fn value_at_quantile(&self, q: f64) -> u64 {
        let [v] = self.values_at_quantiles([q]);
        v
    }

    /// `value_at_quantile` of each of `qs` (ascending) in one pass over
    /// the buckets: a window's row asks for three of them.
    pub fn values_at_quantiles<const N: usize>(&self, qs: [f64; N]) -> [u64; N] {
        let mut out = [0; N];
        self.fill_quantiles(&qs, &mut out);
        out
    }

    /// `value_at_quantile` of each of `qs` (ascending) into `out` (as
    /// long), in one pass over the buckets.
    pub fn fill_quantiles(&self, qs: &[f64], out: &mut [u64]) {
        debug_assert!(qs.is_sorted(), "quantiles ascending");
        debug_assert_eq!(qs.len(), out.len());
        if qs.is_empty() {
            return;
        }
        let mut walk = QuantileWalk::new(qs, out, self.total);
        match &self.counts {
            Counts::Sparse(list) => {
                for &e in list {
                    if walk.add(bucket_in(e), count_in(e)) {
                        return;
                    }
                }
            }
            // A window's histogram is flat over a few thousand buckets,
            // most of them empty: eight at a time, a chunk that reaches
            // no quantile is one (vectorised) sum and an add; a chunk
            // that does is walked bucket by bucket.
            Counts::Flat { first, counts } => {
                let mut at = *first;
                for chunk in counts.chunks(WALK_CHUNK) {
                    let sum: u64 = chunk.iter().sum();
                    if walk.seen + sum < walk.next {
                        walk.seen += sum;
                    } else {
                        for (j, &c) in chunk.iter().enumerate() {
                            if c > 0 && walk.add(at + j as u16, c) {
                                return;
                            }
                        }
                    }
                    at += chunk.len() as u16;
                }
            }
        }
    }

    /// Adds every value of `other`.
    pub fn add(&mut self, other: &Histogram<B>) {
        self.total = self.total.saturating_add(other.total);
        self.max = self.max.max(other.max);
        for (i, c) in other.buckets() {
            self.count(i, c);
        }
    }

    /// Forgets every value. A flat histogram stays flat (its counts
    /// zeroed): a window's histogram is reset at every window, and going
    /// back to a list would pay the list's inserts again each time. Memory
    /// stays one array per histogram, whatever the number of windows.
    pub fn reset(&mut self) {
        if self.total == 0 {
            // Every count is zero (each counted value is in the total):
            // nothing to clear, and a flat array's line is not touched.
            self.max = 0;
            return;
        }
        self.total = 0;
        match &mut self.counts {
            Counts::Sparse(list) => list.clear(),
            // Nothing above the largest value was counted.
            Counts::Flat { first, counts } => {
                let top = usize::from(index_of(self.max).saturating_sub(*first));
                let end = (top + 1).min(counts.len());
                counts[..end].fill(0);
            }
        }
        self.max = 0;
    }

    /// Bytes held on the heap.
    #[cfg(test)]
    fn heap_bytes(&self) -> usize {
        match &self.counts {
            Counts::Sparse(list) => list.capacity() * 8,
            Counts::Flat { counts, .. } => counts.capacity() * 8,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngExt, SeedableRng};

    fn hdr() -> hdrhistogram::Histogram<u64> {
        let mut h = hdrhistogram::Histogram::new_with_bounds(1, 2, HISTOGRAM_DIGITS).unwrap();
        h.auto(true);
        h
    }

    const QUANTILES: &[f64] = &[
        0.0, 0.01, 0.25, 0.5, 0.9, 0.99, 0.995, 0.999, 0.9999, 1.0, 1.5,
    ];

    fn assert_same(mine: &Histogram, theirs: &hdrhistogram::Histogram<u64>) {
        assert_eq!(mine.len(), theirs.len());
        assert_eq!(mine.is_empty(), theirs.is_empty());
        if !theirs.is_empty() {
            assert_eq!(mine.max(), theirs.max());
        }
        for &q in QUANTILES {
            assert_eq!(
                mine.value_at_quantile(q),
                theirs.value_at_quantile(q),
                "q = {q}"
            );
        }
    }

    #[test]
    fn the_layout_is_hdrhistograms() {
        assert_eq!(SUB_BUCKET_MAGNITUDE, 8);
        let h = hdr();
        for v in [
            0,
            1,
            255,
            256,
            257,
            511,
            512,
            1_000_000,
            1 << 40,
            u64::MAX / 3,
            u64::MAX,
        ] {
            let i = index_of(v);
            assert!(lowest_at(i) <= v, "{v}");
            assert_eq!(lowest_at(i), h.lowest_equivalent(v), "{v}");
            assert_eq!(highest_equivalent(v), h.highest_equivalent(v), "{v}");
            if v < u64::MAX {
                assert!(index_of(highest_equivalent(v) + 1) == i + 1, "{v}");
            }
        }
    }

    #[test]
    fn quantiles_match_hdrhistogram_on_every_shape() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        // Few values (stays a list), many values of a wide spread (goes
        // flat and widens both ways), zeros with a tail, huge values.
        let shapes: Vec<Vec<u64>> = vec![
            vec![],
            vec![0],
            vec![5, 5, 5],
            (0..50)
                .map(|_| rng.random_range(0..1_000_000_000))
                .collect(),
            (0..20_000)
                .map(|k| {
                    let x: f64 = rng.random();
                    let v = (-x.ln() * 1e6) as u64;
                    if k % 3 == 0 { v * 1000 } else { v }
                })
                .rev()
                .collect(),
            (0..5_000)
                .map(|k| {
                    if k % 2 == 0 {
                        0
                    } else {
                        rng.random_range(0..200_000_000)
                    }
                })
                .collect(),
            vec![u64::MAX, 1, u64::MAX / 2, 0, 1 << 63],
            // Flat over a narrow span, an outlier (back to a list), then
            // flat again over the wide span once there are enough values.
            (0..3_000u64)
                .map(|k| 10_000 + (k % 50) * 64)
                .chain([1 << 45])
                .chain((0..200_000u64).map(|k| 10_000 + (k * 7919) % 90_000_000))
                .collect(),
        ];
        for values in shapes {
            let (mut mine, mut theirs) = (Histogram::new(), hdr());
            for &v in &values {
                mine.record(v);
                theirs.record(v).unwrap();
            }
            assert_same(&mine, &theirs);
            let mut merged = mine.clone();
            merged.add(&mine);
            let mut both = theirs.clone();
            both.add(&theirs).unwrap();
            assert_same(&merged, &both);
        }
    }

    #[test]
    fn counts_beyond_a_list_entry_go_flat_and_stay_exact() {
        let huge = 3u64 << 50;
        let mut big = Histogram {
            total: huge,
            max: 7_000,
            counts: Counts::Flat {
                first: index_of(7_000),
                counts: vec![huge],
            },
        };
        let mut theirs = hdr();
        theirs.record_n(7_000, huge).unwrap();
        // Into an empty list, then onto an entry that holds a few already.
        let mut mine = Histogram::new();
        mine.add(&big);
        assert!(matches!(mine.counts, Counts::Flat { .. }));
        assert_same(&mine, &theirs);
        let mut mine = Histogram::new();
        for v in [7_000, 7_000, 90] {
            mine.record(v);
            theirs.record(v).unwrap();
        }
        mine.add(&big);
        assert_same(&mine, &theirs);
        big.record(1);
        assert_eq!(big.len(), huge + 1);
    }

    #[test]
    fn stays_small_when_it_holds_little() {
        let mut h = Histogram::new();
        assert_eq!(h.heap_bytes(), 0);
        for v in [0, 40_000, 2_000_000, 90_000_000] {
            h.record(v);
        }
        assert!(matches!(h.counts, Counts::Sparse(_)));
        // The list's room, taken whole at its first value: 16 buckets.
        assert!(h.heap_bytes() <= MIN_FLAT * 8, "{}", h.heap_bytes());
        // A million values at forty distinct latencies make it flat.
        for k in 0..1_000_000u64 {
            h.record(1_000_000 + (k % 40) * 50_000);
        }
        assert!(matches!(h.counts, Counts::Flat { .. }));
        assert_eq!(h.len(), 1_000_004);
        assert!(h.heap_bytes() <= 3000 * 8, "{}", h.heap_bytes());
        // Reset keeps a flat histogram's array, zeroed.
        let bytes = h.heap_bytes();
        h.reset();
        assert!(h.is_empty() && h.heap_bytes() == bytes);
        assert!(matches!(h.counts, Counts::Flat { .. }));
        h = Histogram::new();
        assert_eq!((h.max(), h.value_at_quantile(0.5)), (0, 0));
        // Values close together go flat early; an outlier far away sends
        // the histogram back to a list rather than spanning the gap.
        for k in 0..200u64 {
            h.record(10_000 + (k % 50) * 64);
        }
        assert!(matches!(h.counts, Counts::Flat { .. }));
        h.record(u64::MAX / 2);
        assert!(matches!(h.counts, Counts::Sparse(_)));
        assert_eq!((h.len(), h.value_at_quantile(1.0)), (201, h.max()));
        // A list keeps its room for the next window.
        h.reset();
        assert!(h.is_empty() && h.heap_bytes() > 0);
    }

    /// A whole run's latencies creep up one bucket at a time (the tail
    /// growing through the run): the flat array keeps at most an eighth
    /// more room than its span, not the double `Vec` would keep.
    #[test]
    fn a_widening_flat_histogram_keeps_little_spare_room() {
        let mut h = LeanHistogram::empty();
        for k in 0..5_000u64 {
            h.record(1_000_000 + (k % 50) * 20_000);
        }
        assert!(matches!(h.counts, Counts::Flat { .. }));
        let mut v = 2_000_000;
        for _ in 0..3_000 {
            v += v / 200; // a new bucket above the span, each time
            for _ in 0..20 {
                h.record(v);
            }
            let Counts::Flat { counts, .. } = &h.counts else {
                panic!("stays flat")
            };
            assert!(
                counts.capacity() <= counts.len() + counts.len() / 8 + 1,
                "{} of {}",
                counts.capacity(),
                counts.len()
            );
        }
        let Counts::Flat { counts, .. } = &h.counts else {
            panic!("stays flat")
        };
        assert!(counts.len() > 1_000, "{}", counts.len());
    }

    #[test]
    fn a_reset_histogram_counts_each_window_as_a_fresh_one_would() {
        // Windows of different spreads through one flat histogram: a
        // reset zeroes only up to its largest value, so a window whose
        // values reach higher than the last one's must still see zeros.
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        let mut reused = Histogram::new();
        for scale in [1e6, 4e7, 2e5, 3e8, 1e6, 5e3] {
            let values: Vec<u64> = (0..3_000)
                .map(|_| (-rng.random::<f64>().ln() * scale) as u64)
                .collect();
            let mut fresh = Histogram::new();
            for &v in &values {
                reused.record(v);
                fresh.record(v);
            }
            let qs = [0.0, 0.5, 0.9, 0.99, 0.999, 1.0];
            assert_eq!(
                reused.values_at_quantiles(qs),
                fresh.values_at_quantiles(qs)
            );
            assert_eq!((reused.len(), reused.max()), (fresh.len(), fresh.max()));
            let buckets: Vec<_> = reused.buckets().collect();
            assert_eq!(buckets, fresh.buckets().collect::<Vec<_>>());
            reused.reset();
        }
    }

    /// A histogram recorded in batches holds what one recorded one by one
    /// does: count, maximum and quantiles (after batch `round`).
    fn assert_same_as_one_by_one(
        batched: &LeanHistogram,
        one_by_one: &LeanHistogram,
        round: usize,
    ) {
        assert_eq!(batched.len(), one_by_one.len());
        assert_eq!(batched.max(), one_by_one.max());
        let qs = [0.0, 0.01, 0.25, 0.5, 0.9, 0.99, 0.999, 1.0];
        assert_eq!(
            batched.values_at_quantiles(qs),
            one_by_one.values_at_quantiles(qs),
            "round {round}"
        );
    }

    #[test]
    fn a_batch_counts_what_its_values_one_by_one_count() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        let (mut batched, mut one_by_one) = (LeanHistogram::empty(), LeanHistogram::empty());
        let mut saw_list_grow = false;
        for round in 0..3_000 {
            // Batches of 0 to 16 values, often sharing buckets, sometimes
            // below or above every bucket in use; the histogram goes from
            // a list to flat on the way.
            let n = rng.random_range(0..=BATCH);
            let values: Vec<u64> = (0..n)
                .map(|k| match (round + k) % 6 {
                    0 => 1_000,
                    1 => rng.random_range(0..300),
                    2 => rng.random_range(4_000_000_000..=u64::from(u32::MAX)),
                    3 => rng.random_range(1 << 40..1 << 50),
                    _ => rng.random_range(10_000..50_000_000),
                })
                .collect();
            let buckets: Vec<u16> = values.iter().map(|&v| index_of(v)).collect();
            let before = match &batched.counts {
                Counts::Sparse(list) => Some(list.len()),
                Counts::Flat { .. } => None,
            };
            batched.record_buckets(&buckets);
            values.iter().for_each(|&v| one_by_one.record(v));
            if let (Some(b), Counts::Sparse(list)) = (before, &batched.counts) {
                saw_list_grow |= list.len() > b + 1;
                assert!(list.is_sorted(), "entries stay in bucket order");
                assert!(list.windows(2).all(|w| bucket_in(w[0]) < bucket_in(w[1])));
            }
            assert_same_as_one_by_one(&batched, &one_by_one, round);
        }
        assert!(saw_list_grow, "some batch added several buckets to a list");
        assert!(batched.is_flat(), "3,000 batches make it flat");
    }

    /// Long batches in any order (as `LatencyLog` folds them), into
    /// lists and flat histograms alike: the same figures as one by one,
    /// and the scratch left empty for the next.
    #[test]
    fn a_long_batch_counts_what_its_values_one_by_one_count() {
        let mut scratch = BatchScratch::new();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(12);
        let (mut batched, mut one_by_one) = (LeanHistogram::empty(), LeanHistogram::empty());
        let (mut into_list, mut into_flat) = (0, 0);
        for round in 0..600 {
            if round % 25 == 0 {
                // Fresh ones now and then: lists again.
                (batched, one_by_one) = (LeanHistogram::empty(), LeanHistogram::empty());
            }
            let n = rng.random_range(0..=300);
            let values: Vec<u64> = (0..n)
                .map(|k| match (round + k) % 5 {
                    0 => 1_000,
                    1 => rng.random_range(0..300),
                    2 => rng.random_range(1 << 40..1 << 50),
                    _ => rng.random_range(10_000..50_000_000),
                })
                .collect();
            let buckets: Vec<u16> = values.iter().map(|&v| index_of(v)).collect();
            match &batched.counts {
                Counts::Sparse(_) => into_list += 1,
                Counts::Flat { .. } => into_flat += 1,
            }
            batched.record_batch(&buckets, &mut scratch);
            values.iter().for_each(|&v| one_by_one.record(v));
            if let Counts::Sparse(list) = &batched.counts {
                assert!(list.windows(2).all(|w| bucket_in(w[0]) < bucket_in(w[1])));
            }
            assert!(scratch.counts.iter().all(|&c| c == 0), "round {round}");
            assert!(scratch.in_use.iter().all(|&w| w == 0), "round {round}");
            assert_same_as_one_by_one(&batched, &one_by_one, round);
        }
        assert!(into_list > 20 && into_flat > 20, "{into_list} {into_flat}");
    }

    #[test]
    fn quantiles_in_one_pass_agree_with_one_at_a_time() {
        let mut h = Histogram::new();
        for v in [
            1u64,
            5,
            5,
            70,
            900,
            12_345,
            12_346,
            4_000_000,
            9_999_999_999,
        ] {
            h.record(v);
        }
        let qs = [0.0, 0.1, 0.5, 0.5, 0.9, 0.99, 1.0, 2.0];
        let one = h.values_at_quantiles(qs);
        for (q, v) in qs.iter().zip(one) {
            assert_eq!(v, h.value_at_quantile(*q), "q = {q}");
        }
        assert_eq!(Histogram::new().values_at_quantiles([0.5, 0.99]), [0, 0]);
    }

    #[test]
    fn a_lean_histogram_stays_a_list_longer_with_the_same_quantiles() {
        // A few hundred values spread over a wide range (a service's
        // sojourns over an hour): affordable flat at 64 bytes a value, not
        // at 16.
        let (mut usual, mut lean) = (Histogram::new(), LeanHistogram::empty());
        for k in 0..400u64 {
            let v = 500_000 + (k * 7_919 % 400) * 250_000;
            usual.record(v);
            lean.record(v);
        }
        assert!(matches!(usual.counts, Counts::Flat { .. }));
        assert!(matches!(lean.counts, Counts::Sparse(_)));
        assert!(lean.heap_bytes() < usual.heap_bytes());
        let qs = [0.0, 0.5, 0.9, 0.99, 0.999, 1.0];
        assert_eq!(lean.values_at_quantiles(qs), usual.values_at_quantiles(qs));
        assert_eq!((lean.len(), lean.max()), (usual.len(), usual.max()));
    }
}
