//! The engine's events and their queue.
//!
//! Owns the order of a run: every event gets a sequence number when it is
//! scheduled, and events run by (time, sequence), so events at the same
//! nanosecond run in the order they were scheduled. Must not interpret
//! events (that is the world's job) or read a clock.
//!
//! Pending events are in binary heaps keyed by (time, sequence) as one
//! `u128`. The keys are unique, so any correct arrangement of the heaps
//! pops in exactly this order: how they are split changes the cost, never
//! the run. The sources' next arrivals have a heap of their own (one per
//! source, hundreds at 5,000 services, would otherwise deepen the heap
//! every other event goes through).
//!
//! Timers that are "now + a fixed duration" (timeouts, deadlines,
//! visibility timeouts, bulkhead and publish waits) go into a FIFO *lane*
//! per distinct duration instead: since the clock never goes back, each
//! lane is already sorted by (time, sequence), and only its front is in
//! a heap (with the arrivals): the queue pops the least of the two heaps'
//! tops — exactly the order one heap of them all would give. Timers are
//! never removed (a stale one is recognised by its generation when
//! popped), so with long timeouts the heap would otherwise hold thousands
//! of dead timers for every live event.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, VecDeque};

use super::ids::{AttemptId, CallId, Holder, JobId, MemberId, MsgId, TicketId};
use crate::model::{EdgeId, ServiceId};
use crate::outcome::Outcome;
use crate::time::Nanos;

/// What happens. Each variant names the record it concerns and the
/// generation that record had when the event was scheduled (an event for
/// an older generation is stale and skipped).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Ev {
    /// The next arrival of a workload source.
    SourceArrival {
        source: u32,
    },
    /// A job reaches its service after its network hop.
    Arrive {
        job: JobId,
        generation: u32,
    },
    /// A connection a full backlog dropped reaches its replica again (the
    /// client's SYN retransmission).
    Syn {
        job: JobId,
        generation: u32,
    },
    /// The last retransmission of a dropped connection went unanswered:
    /// the connect fails.
    ConnectFailed {
        job: JobId,
        generation: u32,
    },
    /// A job finished its current work step (or its publish was acked).
    WorkDone {
        job: JobId,
        generation: u32,
    },
    /// The answer to an attempt reaches its caller along `edge` (kept
    /// here: the attempt's slot may be reused before a late reply lands).
    Reply {
        attempt: AttemptId,
        generation: u32,
        edge: EdgeId,
        outcome: Outcome,
    },
    /// The answer to a client's attempt reaches the client after the
    /// source's hop.
    ClientReply {
        attempt: AttemptId,
        generation: u32,
        outcome: Outcome,
    },
    /// The connect part of an attempt's split timeout.
    ConnectTimeout {
        attempt: AttemptId,
        generation: u32,
    },
    /// An attempt's own timeout.
    AttemptTimeout {
        attempt: AttemptId,
        generation: u32,
    },
    /// A call-level timer: the call's deadline, or a timeout layer outside
    /// the retry.
    CallTimeout {
        call: CallId,
        generation: u32,
    },
    /// The call sends its next attempt after a backoff.
    Retry {
        call: CallId,
        generation: u32,
    },
    /// The call sends a hedged attempt if it is still waiting.
    Hedge {
        call: CallId,
        generation: u32,
    },
    /// The call answers with its fallback.
    Fallback {
        call: CallId,
        generation: u32,
    },
    /// A bulkhead wait ends.
    BulkheadTimeout {
        holder: Holder,
        generation: u32,
    },
    /// The next processor-sharing completion on a CPU (a replica's cores,
    /// or a node's), with the generation of that CPU's schedule.
    CpuDone {
        cpu: u32,
        generation: u32,
    },
    /// An event loop of a replica freed with continuations waiting: the
    /// run queue's head takes it.
    LoopFree {
        service: ServiceId,
        replica: u32,
    },
    /// A stop-the-world GC pause of a replica ends.
    GcEnd {
        service: ServiceId,
        replica: u32,
    },
    /// A replica killed for memory starts again.
    Restart {
        service: ServiceId,
        replica: u32,
    },
    FaultStart {
        fault: u32,
    },
    FaultEnd {
        fault: u32,
    },
    /// The warm-up ends: totals start from here.
    WarmupEnd,
    /// A consumer job receives its message.
    Delivered {
        job: JobId,
        generation: u32,
    },
    /// The fill a coalesced cache miss waited for will not come.
    FillFailed {
        job: JobId,
        generation: u32,
    },
    /// The visibility timeout of a message's delivery.
    Visibility {
        msg: MsgId,
        generation: u32,
    },
    /// A message is visible again after its redelivery backoff.
    Redeliver {
        msg: MsgId,
        generation: u32,
    },
    /// A job blocked at publish step `step` gives up.
    PublishTimeout {
        job: JobId,
        generation: u32,
        step: u32,
    },
    /// A service's outlier detection looks at its ejected replicas.
    OutlierSweep {
        service: ServiceId,
    },
    /// A consumer group's rebalance pause may be over: its members poll.
    LogPoll {
        group: u32,
    },
    /// A member's batch of `generation` has run `max_poll_interval`.
    LogPollTimeout {
        member: MemberId,
        generation: u32,
    },
    /// A member's failed record is tried again (retry in place).
    LogRetry {
        member: MemberId,
        generation: u32,
    },
    /// The oldest record of a log's partition reaches its retention time.
    LogExpire {
        log: u32,
        partition: u32,
    },
    /// An autoscaler's period ends: it measures and scales.
    AutoscaleSync {
        service: ServiceId,
    },
    /// A replica an autoscaler created (at that slot generation) is ready.
    ReplicaReady {
        service: ServiceId,
        replica: u32,
        generation: u32,
    },
    /// An outbox's relays poll (`outbox.rs`).
    OutboxRelay {
        outbox: u32,
    },
    /// The broker acknowledged a relay's batch sent in `epoch`.
    OutboxMark {
        outbox: u32,
        replica: u32,
        epoch: u32,
    },
    /// A client polls the status of its accepted request (`accepted.rs`).
    Poll {
        ticket: TicketId,
        generation: u32,
    },
    /// A conditional write's conflict answer is back: the job fails.
    WriteConflict {
        job: JobId,
        generation: u32,
    },
    /// A job whose replica is in another zone than its caller reaches it,
    /// `cross_zone` after its hop (`zoning.rs`).
    ZoneCrossed {
        job: JobId,
        generation: u32,
    },
    /// A producer batch (its slot's `generation`) has lingered its time
    /// (`log_batch.rs`).
    LingerExpired {
        slot: u32,
        generation: u32,
    },
    /// A store read or write during an outage answers its error: the job
    /// fails (`store_fault.rs`).
    StoreFailed {
        job: JobId,
        generation: u32,
    },
    /// A stale hit's background refill reaches its replica's door
    /// (`cache_stale.rs`).
    RefillStart {
        job: JobId,
        generation: u32,
    },
    /// A job a GC pause set aside goes on, re-queued in order at the
    /// pause's end with the events set aside beside it (`stw.rs`).
    StwResume {
        job: JobId,
        generation: u32,
    },
    // Last, so that adding them left the other kinds' numbering (and the
    // dispatch's code) as it was.
    /// Replica `replica`'s relay of `outbox` polls on its own: its poll
    /// fell in a GC pause of the replica and is made at the pause's end
    /// (`outbox.rs`, `stw.rs`).
    RelayPoll {
        outbox: u32,
        replica: u32,
    },
    /// A member polls on its own: its poll fell in a GC pause of its
    /// replica and is made at the pause's end (`log.rs`, `stw.rs`).
    MemberPoll {
        member: MemberId,
    },
}

#[derive(Clone, Copy, Debug)]
pub(super) struct Event {
    pub t: Nanos,
    pub ev: Ev,
}

/// (time, seq) as one number, the queue's key: one 128-bit comparison
/// per heap step instead of a comparison of times and, on a tie, of
/// sequences.
#[inline]
fn key(t: Nanos, seq: u64) -> u128 {
    (u128::from(t) << 64) | u128::from(seq)
}

/// Above every key (a sequence never reaches `u64::MAX`): an empty heap's.
const NO_KEY: u128 = u128::MAX;

// A heap item is 32 bytes, two to a cache line.
const _: () = assert!(std::mem::size_of::<Item<Ev>>() == 32);

/// A heap entry: a value under its key, ordered so that the max-heap pops
/// the least key.
#[derive(Clone, Copy, Debug)]
struct Item<T> {
    key: u128,
    value: T,
}

impl<T> PartialEq for Item<T> {
    fn eq(&self, o: &Self) -> bool {
        self.key == o.key
    }
}
impl<T> Eq for Item<T> {}
impl<T> PartialOrd for Item<T> {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl<T> Ord for Item<T> {
    /// Reversed, so the max-heap pops the earliest (time, seq).
    fn cmp(&self, o: &Self) -> Ordering {
        o.key.cmp(&self.key)
    }
}

/// A binary heap whose top, once handed out, stays in place until the
/// next push takes its place (one sift down, instead of a pop's sift and
/// a push's) or the next pop removes it. Handling an event usually
/// schedules the next (a work step's end, a source's next arrival). The
/// pop order is that of the keys alone, so it is the same whichever way
/// the heap is arranged.
struct LazyHeap<T> {
    heap: BinaryHeap<Item<T>>,
    top_done: bool,
}

impl<T: Copy> LazyHeap<T> {
    fn new(capacity: usize) -> LazyHeap<T> {
        LazyHeap {
            heap: BinaryHeap::with_capacity(capacity),
            top_done: false,
        }
    }

    #[inline]
    fn push(&mut self, key: u128, value: T) {
        let it = Item { key, value };
        if self.top_done {
            self.top_done = false;
            if let Some(mut top) = self.heap.peek_mut() {
                *top = it;
                return;
            }
        }
        self.heap.push(it);
    }

    /// Removes the top handed out last, if no push took its place.
    #[inline]
    fn settle(&mut self) {
        if self.top_done {
            self.top_done = false;
            self.heap.pop();
        }
    }

    /// The least key (after `settle`), or `NO_KEY`.
    #[inline]
    fn least(&self) -> u128 {
        self.heap.peek().map_or(NO_KEY, |it| it.key)
    }

    /// Hands out the top (after `settle`, of a heap not empty), leaving it
    /// in place for the next push.
    #[inline]
    fn take(&mut self) -> Item<T> {
        self.top_done = true;
        *self.heap.peek().expect("a heap not empty")
    }

    fn len(&self) -> usize {
        self.heap.len() - usize::from(self.top_done)
    }
}

pub(super) struct EventQueue {
    seq: u64,
    /// The events that are neither arrivals nor lane timers.
    main: LazyHeap<Ev>,
    /// The sources' next arrivals (by source) and the lanes' fronts (by
    /// lane, with `LANE` set). Apart from the rest because there is an
    /// arrival per source (closed-loop user) however quiet it is:
    /// hundreds at 5,000 services, most of them a second or more ahead,
    /// against a handful of events in flight. In the main heap they would
    /// make every push and pop sift through nine levels instead of two;
    /// here only arrivals and timers do, and the next arrival a source
    /// schedules (or a lane's next timer) takes its place at the top.
    side: LazyHeap<u32>,
    /// Timer lanes, and their durations sorted (duration, lane index).
    lanes: Vec<VecDeque<(u128, Ev)>>,
    lane_of: Vec<(Nanos, u32)>,
}

/// Marks a lane's front in the side heap (sources are numbered below it).
const LANE: u32 = 1 << 31;

impl EventQueue {
    pub(super) fn new() -> EventQueue {
        EventQueue {
            seq: 0,
            main: LazyHeap::new(1024),
            side: LazyHeap::new(16),
            lanes: Vec::new(),
            lane_of: Vec::new(),
        }
    }

    /// The lane of timers of duration `d`, made on first use. Durations
    /// come from the scenario (timeouts, waits), so lanes are few.
    fn lane(&mut self, d: Nanos) -> usize {
        match self.lane_of.binary_search_by_key(&d, |x| x.0) {
            Ok(k) => self.lane_of[k].1 as usize,
            Err(k) => {
                self.lane_of.insert(k, (d, self.lanes.len() as u32));
                self.lanes.push(VecDeque::new());
                self.lanes.len() - 1
            }
        }
    }

    #[inline]
    fn next_key(&mut self, t: Nanos) -> u128 {
        let k = key(t, self.seq);
        self.seq += 1;
        k
    }

    /// Schedules `ev` at `t`.
    #[inline]
    pub(super) fn push(&mut self, t: Nanos, ev: Ev) {
        let k = self.next_key(t);
        match ev {
            Ev::SourceArrival { source } => {
                debug_assert!(source < LANE, "source number too large");
                self.side.push(k, source);
            }
            _ => self.main.push(k, ev),
        }
    }

    /// Schedules a timer a fixed duration `d` after `now`, in the lane of
    /// `d`. `now` must never decrease between calls (it is the clock), so
    /// every lane stays sorted.
    #[inline]
    pub(super) fn push_after(&mut self, now: Nanos, d: Nanos, ev: Ev) {
        let t = now.saturating_add(d);
        let lane = self.lane(d);
        let k = self.next_key(t);
        let l = &mut self.lanes[lane];
        debug_assert!(l.back().is_none_or(|b| b.0 < k), "lane out of order");
        if l.is_empty() {
            self.side.push(k, lane as u32 | LANE);
        }
        l.push_back((k, ev));
    }

    /// The source whose arrival is the earliest of the sources' and the
    /// lanes' (if it is a source's, and no top handed out is still in
    /// place): a hint of what comes a few dozen events from now.
    #[inline]
    pub(super) fn next_source(&self) -> Option<u32> {
        if self.side.top_done {
            return None;
        }
        let it = self.side.heap.peek()?;
        (it.value & LANE == 0).then_some(it.value)
    }

    /// Events waiting, in the heaps and the lanes.
    pub(super) fn len(&self) -> usize {
        let fronts = self.lanes.iter().filter(|l| !l.is_empty()).count();
        self.main.len() + self.side.len() - fronts
            + self.lanes.iter().map(VecDeque::len).sum::<usize>()
    }

    /// The earliest event by (time, seq): the least of the two heaps'
    /// tops.
    #[inline]
    pub(super) fn pop(&mut self) -> Option<Event> {
        self.main.settle();
        self.side.settle();
        let (m, s) = (self.main.least(), self.side.least());
        if m < s {
            let it = self.main.take();
            return Some(event(it.key, it.value));
        }
        if s == NO_KEY {
            return None;
        }
        let it = self.side.take();
        if it.value & LANE == 0 {
            return Some(event(it.key, Ev::SourceArrival { source: it.value }));
        }
        let lane = it.value & !LANE;
        let l = &mut self.lanes[lane as usize];
        let (k, ev) = l
            .pop_front()
            .expect("the side heap holds only non-empty lanes");
        // Its next timer takes its place at the top.
        if let Some(&(next, _)) = l.front() {
            self.side.push(next, it.value);
        }
        Some(event(k, ev))
    }
}

#[inline]
fn event(k: u128, ev: Ev) -> Event {
    Event {
        t: (k >> 64) as Nanos,
        ev,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Event number `i`: every third a source's arrival (which goes to
    /// the arrivals' heap), the others a fault's start (the main heap).
    fn numbered(i: u32) -> Ev {
        if i.is_multiple_of(3) {
            Ev::SourceArrival { source: i }
        } else {
            Ev::FaultStart { fault: i }
        }
    }

    fn drain(q: &mut EventQueue) -> Vec<(Nanos, u32)> {
        std::iter::from_fn(|| q.pop())
            .map(|e| match e.ev {
                Ev::FaultStart { fault: i } | Ev::SourceArrival { source: i } => (e.t, i),
                _ => unreachable!(),
            })
            .collect()
    }

    #[test]
    fn equal_times_run_in_the_order_they_were_scheduled() {
        let mut q = EventQueue::new();
        for i in 0..100 {
            q.push(5, numbered(i));
        }
        q.push(1, numbered(1000));
        let got = drain(&mut q);
        assert_eq!(got[0], (1, 1000));
        let rest: Vec<u32> = got[1..].iter().map(|x| x.1).collect();
        assert_eq!(rest, (0..100).collect::<Vec<_>>());
    }

    /// As the engine runs: each popped event schedules more, at or after
    /// its time, into the heap or a lane (durations 7 and `span`). The
    /// pops must follow (time, order of scheduling) exactly, as a sorted
    /// map has them. Events are due within `span` of the clock, and about
    /// `pending` wait at any time (a far arrival per source, say).
    fn against_a_sorted_map(seed: u64, span: u64, pending: usize, total: u32) {
        let mut q = EventQueue::new();
        let mut reference = std::collections::BTreeMap::new();
        let mut seq = 0u32;
        let mut lcg = crate::rng::TestLcg(seed);
        for t in [3, 1, 4, 1, 5] {
            q.push(t, numbered(seq));
            reference.insert((t, seq), ());
            seq += 1;
        }
        let mut popped = 0;
        let mut most = 0;
        while let Some(e) = q.pop() {
            let ((t, want), ()) = reference.pop_first().expect("reference has it");
            assert_eq!((e.t, e.number()), (t, want));
            popped += 1;
            if seq >= total {
                continue;
            }
            // Up to 3 new events, or more while below `pending`.
            let room = if reference.len() < pending { 6 } else { 4 };
            for _ in 0..(lcg.next() >> 33) % room {
                let d = (lcg.next() >> 33) % span;
                match (lcg.next() >> 33) % 8 {
                    0 => {
                        q.push_after(e.t, 7, numbered(seq));
                        reference.insert((e.t + 7, seq), ());
                    }
                    1 => {
                        q.push_after(e.t, span, numbered(seq));
                        reference.insert((e.t + span, seq), ());
                    }
                    _ => {
                        q.push(e.t + d, numbered(seq));
                        reference.insert((e.t + d, seq), ());
                    }
                }
                seq += 1;
            }
            most = most.max(reference.len());
            assert_eq!(q.len(), reference.len());
        }
        assert!(reference.is_empty());
        assert!(popped >= total, "the schedule ran long enough: {popped}");
        assert!(most >= pending, "{most} pending at most, not {pending}");
    }

    #[test]
    fn events_scheduled_while_handling_one_pop_in_time_then_sequence_order() {
        against_a_sorted_map(99, 20, 10, 5_000);
    }

    #[test]
    fn thousands_pending_pop_in_time_then_sequence_order() {
        against_a_sorted_map(7, 1_000_000_000, 5_000, 200_000);
    }

    #[test]
    fn thousands_pending_at_a_few_times_pop_in_sequence_order() {
        // A span of 2 ns: thousands of events share each time, and only
        // their order of scheduling tells them apart.
        against_a_sorted_map(11, 2, 3_000, 100_000);
    }

    impl Event {
        fn number(&self) -> u32 {
            match self.ev {
                Ev::FaultStart { fault: i } | Ev::SourceArrival { source: i } => i,
                _ => unreachable!(),
            }
        }
    }

    #[test]
    fn lanes_merge_with_the_heap_in_time_then_sequence_order() {
        // The same schedule pushed once all into the heap and once with
        // the fixed-duration timers in lanes pops in the same order.
        let mut a = EventQueue::new();
        let mut b = EventQueue::new();
        let mut lcg = crate::rng::TestLcg(12345);
        for i in 0..2000u32 {
            let now = u64::from(i / 3) * 7;
            let x = lcg.next();
            match x >> 62 {
                0 => {
                    a.push_after(now, 10, numbered(i));
                    b.push(now + 10, numbered(i));
                }
                1 => {
                    a.push_after(now, 100, numbered(i));
                    b.push(now + 100, numbered(i));
                }
                _ => {
                    let t = now + (x >> 40) % 50;
                    a.push(t, numbered(i));
                    b.push(t, numbered(i));
                }
            }
        }
        let (ga, gb) = (drain(&mut a), drain(&mut b));
        assert_eq!(ga.len(), 2000);
        assert_eq!(ga, gb);
        assert!(ga.windows(2).all(|w| w[0].0 <= w[1].0));
    }
}
