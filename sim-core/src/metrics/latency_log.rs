//! `LatencyLog`: a wide model's latencies on their way to their
//! histograms, in one buffer written in order and folded in owner by
//! owner.
//!
//! At thousands of services each service's sojourn histogram (and each
//! source's latency histogram, each queue's wait and latency histograms)
//! sees a value a second or so and is never in cache when it does. A
//! buffer per histogram (`Pending`, fourteen values in its owner's line)
//! batched the misses, but each drain still found the histogram cold, and
//! sorting and merging fourteen values at a time cost about 120
//! instructions a value: recording sojourns was a seventh of a
//! 5,000-service chain's time (12 of 80 ns an event, measured by leaving
//! it out). Here a value is a key appended to one buffer (its owner and
//! its bucket, `index_of`: all a histogram keeps of it), on a line that is
//! always in cache. When the buffer is full, and before any histogram is
//! read, the keys are grouped by owner (one counting sort: a count per
//! owner, then each key's bucket to its owner's place) and each owner's
//! buckets go into its histogram in one batch (`Histogram::record_batch`,
//! which needs them in no order), dozens at a time, the owners visited in
//! order with the next ones' histograms asked for ahead.
//!
//! A histogram ends with the same counts, total and maximum as recording
//! the values one by one (its figures depend on none of their order). The
//! buffer's size is fixed (`CAPACITY`): memory does not grow with the
//! run. `u64::MAX`, whose bucket does not give it back as the maximum, is
//! not logged (the caller records it straight).
//!
//! A key is 32 bits (13 for the bucket), so a log numbers at most
//! `MAX_OWNERS` histograms; a model with more keeps a buffer per
//! histogram.
//!
//! Owns the buffer, the grouping and the owners' numbering (`Logged`); the
//! histograms are `metrics.rs`'s.

use super::histogram::{BatchScratch, Histogram, index_of};

/// Keys the buffer holds before it is folded: 2 MiB of keys. Large, so
/// that a fold gives each histogram dozens of values at once at
/// thousands of owners; fixed, so memory stays bounded. Small in unit
/// tests, so that their wide models fold many times.
const CAPACITY: usize = if cfg!(test) { 1 << 10 } else { 1 << 19 };

/// Owners a log can number (a key is 32 bits: owner and bucket); a model
/// with more records through a buffer per histogram (`Pending`).
pub const MAX_OWNERS: usize = 1 << (32 - BUCKET_BITS);

/// Bits of a key that hold the bucket: every bucket index is below 2^13
/// (`index_of`).
const BUCKET_BITS: u32 = 13;
const BUCKET_MASK: u32 = (1 << BUCKET_BITS) - 1;

/// How many owners (of those with values) ahead a fold asks for the
/// lines of the counts the one it will fold then; it asks for its
/// histogram's header (which locates them) twice as far ahead.
const FOLD_AHEAD: usize = 4;

/// Whose histogram a logged value is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Logged {
    /// Service `s`'s sojourns.
    Sojourns(usize),
    /// Source `i`'s successes' latencies.
    Latencies(usize),
    /// Queue `q`'s waits (publish to first delivery).
    QueueWaits(usize),
    /// Queue `q`'s latencies (publish to acknowledgement).
    QueueLatencies(usize),
}

impl Logged {
    /// How many owners a model of `services`, `entries` and `queues` has:
    /// services first, then sources, then each queue's two.
    pub fn owners(services: usize, entries: usize, queues: usize) -> usize {
        services + entries + 2 * queues
    }

    /// Its owner number.
    #[inline(always)]
    pub fn owner(self, services: usize, entries: usize) -> usize {
        match self {
            Logged::Sojourns(s) => s,
            Logged::Latencies(i) => services + i,
            Logged::QueueWaits(q) => services + entries + 2 * q,
            Logged::QueueLatencies(q) => services + entries + 2 * q + 1,
        }
    }

    /// The histogram of owner number `owner`.
    pub fn of_owner(owner: usize, services: usize, entries: usize) -> Logged {
        if owner < services {
            Logged::Sojourns(owner)
        } else if owner < services + entries {
            Logged::Latencies(owner - services)
        } else {
            let k = owner - services - entries;
            if k.is_multiple_of(2) {
                Logged::QueueWaits(k / 2)
            } else {
                Logged::QueueLatencies(k / 2)
            }
        }
    }
}

/// What a fold asks of an owner's histogram.
pub enum FoldStep<'a> {
    /// Ask for its header: its counts are asked for a few owners on.
    AskHeader,
    /// Ask for the lines these buckets will be counted on
    /// (`Histogram::prefetch_for`): it is folded a few owners on.
    AskCounts(&'a [u16]),
    /// Record these buckets (in no order) into it, with this workspace.
    Record(&'a [u16], &'a mut BatchScratch),
}

impl FoldStep<'_> {
    /// Does the step to `h`, the owner's histogram.
    #[inline]
    pub fn apply<const B: u64>(self, h: &mut Histogram<B>) {
        match self {
            FoldStep::AskHeader => prefetch::line(h),
            FoldStep::AskCounts(buckets) => h.prefetch_for(buckets),
            FoldStep::Record(buckets, scratch) => h.record_batch(buckets, scratch),
        }
    }
}

pub struct LatencyLog {
    /// `owner << BUCKET_BITS | bucket`, in the order recorded.
    keys: Vec<u32>,
    /// How many keys it holds before it must be folded.
    capacity: usize,
    /// How many owners there are.
    owners: usize,
    /// Scratch for a fold: each owner's keys, then where its next goes.
    per_owner: Vec<u32>,
    /// Scratch for a fold: the buckets, grouped by owner in owner order.
    grouped: Vec<u16>,
    /// A histogram's workspace for a batch.
    batch: BatchScratch,
    /// Scratch for a fold: each owner with values, and where its buckets
    /// are in `grouped`.
    spans: Vec<(u32, u32, u32)>,
}

impl LatencyLog {
    /// A log for owners `0..owners`, if a key can number them
    /// (`MAX_OWNERS`).
    pub fn new(owners: usize) -> Option<LatencyLog> {
        (owners <= MAX_OWNERS).then(|| LatencyLog::with_capacity(owners, CAPACITY))
    }

    fn with_capacity(owners: usize, capacity: usize) -> LatencyLog {
        LatencyLog {
            keys: Vec::with_capacity(capacity),
            capacity,
            owners,
            per_owner: Vec::new(),
            grouped: Vec::new(),
            batch: BatchScratch::new(),
            spans: Vec::new(),
        }
    }

    /// Logs value `v` (not `u64::MAX`) of `owner`'s histogram. Returns
    /// whether the log is now full: it must be folded before the next.
    #[inline(always)]
    pub fn push(&mut self, owner: usize, v: u64) -> bool {
        debug_assert!(v < u64::MAX, "u64::MAX is recorded straight");
        debug_assert!(owner < self.owners, "owner {owner} is known");
        self.keys
            .push(((owner as u32) << BUCKET_BITS) | u32::from(index_of(v)));
        self.keys.len() == self.capacity
    }

    /// Hands each owner with values logged its buckets (in the order
    /// logged), in owner order (`FoldStep::Record`), having asked for the
    /// lines of those a few owners on (`FoldStep::AskHeader`,
    /// `FoldStep::AskCounts`); empties the log.
    pub fn fold(&mut self, mut each: impl FnMut(usize, FoldStep)) {
        if self.keys.is_empty() {
            return;
        }
        self.group_by_owner();
        let (grouped, batch) = (&self.grouped, &mut self.batch);
        let buckets = |&(_, start, end): &(u32, u32, u32)| &grouped[start as usize..end as usize];
        for (k, span) in self.spans.iter().enumerate() {
            if let Some(far) = self.spans.get(k + 2 * FOLD_AHEAD) {
                each(far.0 as usize, FoldStep::AskHeader);
            }
            if let Some(near) = self.spans.get(k + FOLD_AHEAD) {
                each(near.0 as usize, FoldStep::AskCounts(buckets(near)));
            }
            each(span.0 as usize, FoldStep::Record(buckets(span), batch));
        }
        self.keys.clear();
    }

    /// Puts each owner's buckets together in `grouped`, owners in order,
    /// and notes each owner's span: one counting sort on the owner (a
    /// count per owner, then each key's bucket to its owner's next place,
    /// a few instructions a key). The buckets need no order
    /// (`Histogram::record_batch`).
    fn group_by_owner(&mut self) {
        let counts = &mut self.per_owner;
        counts.clear();
        counts.resize(self.owners, 0);
        for &k in &self.keys {
            counts[(k >> BUCKET_BITS) as usize] += 1;
        }
        self.spans.clear();
        let mut at = 0;
        for (owner, c) in counts.iter_mut().enumerate() {
            if *c > 0 {
                self.spans.push((owner as u32, at, at + *c));
            }
            (*c, at) = (at, at + *c);
        }
        self.grouped.resize(self.keys.len(), 0);
        for &k in &self.keys {
            let c = &mut counts[(k >> BUCKET_BITS) as usize];
            self.grouped[*c as usize] = (k & BUCKET_MASK) as u16;
            *c += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sorted(b: &[u16]) -> Vec<u16> {
        let mut b = b.to_vec();
        b.sort_unstable();
        b
    }

    /// Every owner gets exactly its values' buckets, once, in owner
    /// order; owners without values are not called; the log is
    /// empty after, and says when it is full.
    #[test]
    fn a_fold_hands_each_owner_its_buckets() {
        let mut log = LatencyLog::with_capacity(5, 8);
        let values = [
            (3, 900u64),
            (0, 5),
            (3, 7),
            (1, 1_000_000),
            (3, 7),
            (0, 2),
            (4, 1),
        ];
        for &(o, v) in &values {
            assert!(!log.push(o, v));
        }
        assert!(log.push(1, 3), "the eighth key fills it");
        let mut got = Vec::new();
        let mut asked = Vec::new();
        log.fold(|o, step| match step {
            FoldStep::AskHeader => asked.push((o, 0)),
            FoldStep::AskCounts(b) => asked.push((o, b.len())),
            FoldStep::Record(b, _) => got.push((o, sorted(b))),
        });
        let want = |o: usize, vs: &[u64]| {
            let mut b: Vec<u16> = vs.iter().map(|&v| index_of(v)).collect();
            b.sort_unstable();
            (o, b)
        };
        assert_eq!(
            got,
            vec![
                want(0, &[5, 2]),
                want(1, &[1_000_000, 3]),
                want(3, &[900, 7, 7]),
                want(4, &[1]),
            ]
        );
        assert_eq!(
            asked,
            Vec::new(),
            "four owners with values: none is four on"
        );
        let mut again = 0;
        log.fold(|_, _| again += 1);
        assert_eq!(again, 0, "a fold empties the log");
        assert!(!log.push(2, 10));
    }

    /// An owner's header is asked for eight owners (with values) before
    /// it is folded, its counts four before, each once.
    #[test]
    fn a_fold_asks_for_an_owners_lines_before_it_folds_it() {
        let mut log = LatencyLog::with_capacity(40, 64);
        for o in (0..40).step_by(2) {
            log.push(o, 1_000 + o as u64);
            log.push(o, 10);
        }
        let mut order = Vec::new();
        log.fold(|o, step| {
            order.push(match step {
                FoldStep::AskHeader => (o, 'h'),
                FoldStep::AskCounts(b) => {
                    assert_eq!(b.len(), 2);
                    (o, 'c')
                }
                FoldStep::Record(..) => (o, 'r'),
            })
        });
        let at = |o: usize, what: char| order.iter().position(|&x| x == (o, what));
        for o in (0..40).step_by(2) {
            let k = o / 2;
            let r = at(o, 'r').expect("folded");
            match at(o, 'c') {
                Some(c) => assert!(k >= FOLD_AHEAD && c < r, "owner {o}"),
                None => assert!(k < FOLD_AHEAD, "owner {o}"),
            }
            match at(o, 'h') {
                Some(h) => assert!(k >= 2 * FOLD_AHEAD && h < at(o, 'c').unwrap()),
                None => assert!(k < 2 * FOLD_AHEAD, "owner {o}"),
            }
        }
        assert_eq!(order.len(), 20 * 3 - FOLD_AHEAD - 2 * FOLD_AHEAD);
    }

    #[test]
    fn a_log_numbers_at_most_what_its_keys_can_hold() {
        assert!(
            u32::from(index_of(u64::MAX)) <= BUCKET_MASK,
            "every bucket fits"
        );
        assert!(LatencyLog::new(MAX_OWNERS).is_some());
        assert!(LatencyLog::new(MAX_OWNERS + 1).is_none());
        let mut log = LatencyLog::with_capacity(MAX_OWNERS, 4);
        log.push(MAX_OWNERS - 1, u64::MAX - 1);
        log.push(0, 0);
        let mut got = Vec::new();
        log.fold(|o, step| {
            if let FoldStep::Record(b, _) = step {
                got.push((o, b.to_vec()));
            }
        });
        assert_eq!(
            got,
            vec![
                (0, vec![index_of(0)]),
                (MAX_OWNERS - 1, vec![index_of(u64::MAX - 1)])
            ]
        );
    }

    #[test]
    fn owners_number_services_then_sources_then_queues_two_each() {
        let all = [
            Logged::Sojourns(0),
            Logged::Sojourns(2),
            Logged::Latencies(0),
            Logged::Latencies(1),
            Logged::QueueWaits(0),
            Logged::QueueLatencies(0),
            Logged::QueueWaits(1),
            Logged::QueueLatencies(1),
        ];
        let owners: Vec<usize> = all.iter().map(|l| l.owner(3, 2)).collect();
        assert_eq!(owners, vec![0, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(Logged::owners(3, 2, 2), 9);
        for (&l, &o) in all.iter().zip(&owners) {
            assert_eq!(Logged::of_owner(o, 3, 2), l);
        }
    }
}
