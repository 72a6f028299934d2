//! The engine's events and their queue.
//!
//! Owns the order of a run: every event gets a sequence number when it is
//! scheduled, and events run by (time, sequence), so events at the same
//! nanosecond run in the order they were scheduled. Must not interpret
//! events (that is the world's job) or read a clock.
//!
//! Timers that are "now + a fixed duration" (timeouts, deadlines,
//! visibility timeouts, bulkhead and publish waits) go into a FIFO *lane*
//! per distinct duration instead of the heap: since the clock never goes
//! back, each lane is already sorted by (time, sequence), and the queue
//! pops the least of the heap's top and the lanes' fronts — exactly the
//! order one heap would give. Timers are never removed (a stale one is
//! recognised by its generation when popped), so with long timeouts the
//! heap would otherwise hold thousands of dead timers for every live event.

use std::cmp::{Ordering, Reverse};
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
}

#[derive(Clone, Copy, Debug)]
pub(super) struct Event {
    pub t: Nanos,
    seq: u64,
    pub ev: Ev,
}

impl Event {
    /// (time, seq) as one number: one 128-bit comparison per heap step
    /// instead of a comparison of times and, on a tie, of sequences.
    #[inline]
    fn key(&self) -> u128 {
        (u128::from(self.t) << 64) | u128::from(self.seq)
    }
}

impl PartialEq for Event {
    fn eq(&self, o: &Self) -> bool {
        self.key() == o.key()
    }
}
impl Eq for Event {}
impl PartialOrd for Event {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Event {
    /// Reversed, so the max-heap pops the earliest (time, seq).
    fn cmp(&self, o: &Self) -> Ordering {
        o.key().cmp(&self.key())
    }
}

pub(super) struct EventQueue {
    seq: u64,
    heap: BinaryHeap<Event>,
    /// The heap's top was handed out by `pop` but is still in the heap:
    /// the next `push` takes its place (one sift down, instead of a pop's
    /// sift and a push's), or the next `pop` removes it. Handling an
    /// event usually schedules the next (a work step's end, a source's
    /// next arrival). The pop order is that of the keys alone, so it is
    /// the same whichever way the heap is arranged.
    top_done: bool,
    /// Timer lanes, and their durations sorted (duration, lane index).
    lanes: Vec<VecDeque<Event>>,
    lane_of: Vec<(Nanos, u32)>,
    /// The front (time, seq) of every non-empty lane.
    fronts: BinaryHeap<Reverse<(Nanos, u64, u32)>>,
}

impl EventQueue {
    pub(super) fn new() -> EventQueue {
        EventQueue {
            seq: 0,
            heap: BinaryHeap::with_capacity(1024),
            top_done: false,
            lanes: Vec::new(),
            lane_of: Vec::new(),
            fronts: BinaryHeap::new(),
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

    fn stamp(&mut self, t: Nanos, ev: Ev) -> Event {
        let e = Event {
            t,
            seq: self.seq,
            ev,
        };
        self.seq += 1;
        e
    }

    /// Schedules `ev` at `t`.
    #[inline]
    pub(super) fn push(&mut self, t: Nanos, ev: Ev) {
        let e = self.stamp(t, ev);
        if self.top_done {
            self.top_done = false;
            // Never earlier than the event just handed out (the clock), so
            // the heap stays a heap as the top sifts down.
            if let Some(mut top) = self.heap.peek_mut() {
                *top = e;
                return;
            }
        }
        self.heap.push(e);
    }

    /// Schedules a timer a fixed duration `d` after `now`, in the lane of
    /// `d`. `now` must never decrease between calls (it is the clock), so
    /// every lane stays sorted.
    #[inline]
    pub(super) fn push_after(&mut self, now: Nanos, d: Nanos, ev: Ev) {
        let t = now.saturating_add(d);
        let lane = self.lane(d);
        let e = self.stamp(t, ev);
        let l = &mut self.lanes[lane];
        debug_assert!(l.back().is_none_or(|b| b.t <= t), "lane out of order");
        if l.is_empty() {
            self.fronts.push(Reverse((t, e.seq, lane as u32)));
        }
        l.push_back(e);
    }

    /// Events waiting, in the heap and the lanes.
    pub(super) fn len(&self) -> usize {
        self.heap.len() - usize::from(self.top_done)
            + self.lanes.iter().map(VecDeque::len).sum::<usize>()
    }

    /// The earliest event by (time, seq).
    #[inline]
    pub(super) fn pop(&mut self) -> Option<Event> {
        if self.top_done {
            self.top_done = false;
            self.heap.pop();
        }
        let lane_first = match (self.fronts.peek(), self.heap.peek()) {
            (None, _) => false,
            (Some(_), None) => true,
            (Some(Reverse((t, seq, _))), Some(h)) => (*t, *seq) < (h.t, h.seq),
        };
        if !lane_first {
            let top = self.heap.peek().copied();
            self.top_done = top.is_some();
            return top;
        }
        let Reverse((_, _, lane)) = self.fronts.pop().expect("peeked");
        let l = &mut self.lanes[lane as usize];
        let e = l.pop_front().expect("fronts list only non-empty lanes");
        if let Some(next) = l.front() {
            self.fronts.push(Reverse((next.t, next.seq, lane)));
        }
        Some(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fault(i: u32) -> Ev {
        Ev::FaultStart { fault: i }
    }

    fn drain(q: &mut EventQueue) -> Vec<(Nanos, u32)> {
        std::iter::from_fn(|| q.pop())
            .map(|e| match e.ev {
                Ev::FaultStart { fault } => (e.t, fault),
                _ => unreachable!(),
            })
            .collect()
    }

    #[test]
    fn equal_times_run_in_the_order_they_were_scheduled() {
        let mut q = EventQueue::new();
        for i in 0..100 {
            q.push(5, fault(i));
        }
        q.push(1, fault(1000));
        let got = drain(&mut q);
        assert_eq!(got[0], (1, 1000));
        let rest: Vec<u32> = got[1..].iter().map(|x| x.1).collect();
        assert_eq!(rest, (0..100).collect::<Vec<_>>());
    }

    #[test]
    fn events_scheduled_while_handling_one_pop_in_time_then_sequence_order() {
        // As the engine runs: each popped event schedules 0 to 3 more, at
        // or after its time, into the heap or a lane. The pops must follow
        // (time, order of scheduling) exactly, as a sorted map has them.
        let mut q = EventQueue::new();
        let mut reference = std::collections::BTreeMap::new();
        let mut seq = 0u32;
        let mut x: u64 = 99;
        let next = |x: &mut u64| {
            *x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            *x >> 33
        };
        for t in [3, 1, 4, 1, 5] {
            q.push(t, fault(seq));
            reference.insert((t, seq), ());
            seq += 1;
        }
        let mut popped = 0;
        while let Some(e) = q.pop() {
            let ((t, want), ()) = reference.pop_first().expect("reference has it");
            assert_eq!((e.t, e.ev_fault()), (t, want));
            popped += 1;
            if seq >= 5000 {
                continue;
            }
            for _ in 0..next(&mut x) % 4 {
                let d = next(&mut x) % 20;
                if next(&mut x) % 4 == 0 {
                    q.push_after(e.t, 7, fault(seq));
                    reference.insert((e.t + 7, seq), ());
                } else {
                    q.push(e.t + d, fault(seq));
                    reference.insert((e.t + d, seq), ());
                }
                seq += 1;
            }
            assert_eq!(q.len(), reference.len());
        }
        assert!(reference.is_empty());
        assert!(popped > 1000, "the schedule ran long enough: {popped}");
    }

    impl Event {
        fn ev_fault(&self) -> u32 {
            match self.ev {
                Ev::FaultStart { fault } => fault,
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
        let mut x: u64 = 12345;
        for i in 0..2000u32 {
            let now = u64::from(i / 3) * 7;
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            match x >> 62 {
                0 => {
                    a.push_after(now, 10, fault(i));
                    b.push(now + 10, fault(i));
                }
                1 => {
                    a.push_after(now, 100, fault(i));
                    b.push(now + 100, fault(i));
                }
                _ => {
                    let t = now + (x >> 40) % 50;
                    a.push(t, fault(i));
                    b.push(t, fault(i));
                }
            }
        }
        let (ga, gb) = (drain(&mut a), drain(&mut b));
        assert_eq!(ga.len(), 2000);
        assert_eq!(ga, gb);
        assert!(ga.windows(2).all(|w| w[0].0 <= w[1].0));
    }
}
