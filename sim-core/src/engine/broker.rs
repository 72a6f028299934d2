//! The asynchronous world: brokers, queues and topics, publishing with
//! acknowledgement and backpressure, at-least-once delivery to consumers.
//!
//! Owns the message arena and each queue's state. A `publish` step holds
//! the producer's worker for the broker's sampled acknowledgement latency
//! only; the message is then the broker's. Consumers pull: a message is
//! delivered when one of its consumer's `concurrency` workers at some
//! replica is idle *and* that replica has a free thread (consumer work
//! holds a thread of the service like any request; requests waiting in the
//! service's accept queue go first).
//!
//! Semantics (see DESIGN.md, "Asynchronous messaging"):
//! - a delivered message is invisible for the visibility timeout; an
//!   acknowledgement (the consumer's operation succeeded) removes it; a
//!   failure (an error answer) or an expired timeout makes it visible again
//!   after a backoff, and past `max_deliveries` it is dead-lettered;
//! - a consumer that was cut off (crash) tells the broker nothing: its
//!   message comes back when the visibility timeout expires;
//! - a processing that finishes after its delivery expired still did its
//!   work (a duplicate when the message is processed again) but its
//!   acknowledgement no longer counts (as with SQS receipt handles);
//! - during an outage nothing is delivered, publishes fail or block, and
//!   acknowledgements are lost (those messages come back after their
//!   visibility timeout);
//! - a message slot lives until the message is acknowledged or
//!   dead-lettered *and* every processing of it has finished, so late
//!   duplicates are still recognised.
//!
//! Must not do I/O or read a clock, like the rest of the engine.
//!
//! Past 600 lines: publish, delivery, settlement and broker faults share
//! the message and queue state closely; splitting them would spread one
//! message's life over four files.

use std::collections::VecDeque;

use smallvec::SmallVec;

use crate::rng::Stream;

use super::World;
use super::arena::{Arena, Slot};
use super::by_age::ByAge;
use super::event::Ev;
use super::ids::{JobId, MsgId};
use super::records::{Job, JobState, NEVER, Parent};
use crate::model::WhenFull;
use crate::outcome::Outcome;
use crate::patterns::Criticality;
use crate::rng::stream;
use crate::streams;
use crate::time::Nanos;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum MsgState {
    Free,
    /// Visible, in its queue's `ready` list.
    Ready,
    /// Delivered, waiting for an acknowledgement.
    InFlight,
    /// Waiting for its redelivery backoff.
    Delayed,
    /// Acknowledged or dead-lettered; kept while processings still run.
    Done,
}

#[derive(Clone, Copy, Debug)]
pub(super) struct Message {
    /// Bumped at each delivery and whenever a delivery stops counting, so
    /// stale timers and late acknowledgements are recognised.
    pub generation: u32,
    pub state: MsgState,
    pub queue: u32,
    pub published: Nanos,
    pub deliveries: u32,
    /// Successful processings so far.
    pub processed: u32,
    /// Processings still running (current and expired deliveries).
    pub outstanding: u32,
    pub poison: bool,
    /// The job of the current delivery and its generation.
    pub job: Option<(JobId, u32)>,
    /// When its first processing succeeded (`NEVER` before): an
    /// idempotency store holds its key until this + the TTL.
    pub first_success: Nanos,
}

impl Slot for Message {
    fn generation(&self) -> u32 {
        self.generation
    }
    fn with_generation(self, generation: u32) -> Self {
        Message { generation, ..self }
    }
    fn retire(&mut self) {
        self.state = MsgState::Free;
        self.generation = self.generation.wrapping_add(1);
    }
}

/// A queue's state. A publish, a delivery and a settlement read its
/// first two lines (what the hints ask for): the counts, the messages
/// by age for up to two of them, the consumers' busy workers for up to
/// four replicas, and the visible list's header. At 5,000 services a queue
/// is rarely in cache, and each of these that lived elsewhere (a tree's
/// node, a list's buffer) was a miss of its own.
#[repr(C, align(64))]
pub(super) struct QueueState {
    /// Unacknowledged messages by publish time, for the oldest's age.
    by_age: ByAge,
    /// Unacknowledged messages (ready, in flight, delayed).
    unacked: u32,
    /// Where the next delivery starts looking for an idle replica.
    next_replica: u32,
    /// Busy consumer workers per replica of the consumer service.
    busy: SmallVec<[u32; 4]>,
    /// Visible messages, oldest first. A message published when none
    /// waits and a consumer is free goes straight to it (`enqueue`):
    /// the list's buffer is then never read.
    ready: VecDeque<MsgId>,
    /// Producers waiting for space: (job, job generation); made at the
    /// first. (Boxed: the list's header would take the record past its
    /// two lines, for what most queues never have.)
    #[allow(clippy::box_collection)]
    blocked: Option<Box<VecDeque<(JobId, u32)>>>,
}

const _: () = assert!(std::mem::size_of::<QueueState>() == 128);

impl QueueState {
    fn has_blocked(&self) -> bool {
        self.blocked.as_ref().is_some_and(|b| !b.is_empty())
    }
}

pub(super) struct BrokerState {
    /// Outages in force.
    down: u32,
    /// Acknowledgement latency × this.
    slow: f64,
    /// Producers waiting for the broker to come back.
    blocked: VecDeque<(JobId, u32)>,
}

/// What became of a publish attempt.
enum Published {
    /// Accepted: the producer waits for the acknowledgement.
    Accepted,
    /// The producer waits for space or for the broker.
    Blocked,
    Failed,
}

/// Each service's queues, in the order of the model's, in two flat
/// vectors: a pull reads a line of each, where a list per service was a
/// header and a buffer of its own, two misses in a row at thousands of
/// services.
pub(super) struct QueuesByService {
    /// Service `s`'s queues are `queues[from[s]..from[s + 1]]`.
    from: Vec<u32>,
    queues: Vec<u32>,
}

impl QueuesByService {
    /// From each queue's service, in queue order.
    fn new(services: usize, of_queue: impl Iterator<Item = crate::model::ServiceId>) -> Self {
        let mut pairs: Vec<(usize, u32)> = of_queue
            .enumerate()
            .map(|(q, s)| (s.index(), q as u32))
            .collect();
        pairs.sort_unstable();
        let mut from = vec![0u32; services + 1];
        for &(s, _) in &pairs {
            from[s + 1] += 1;
        }
        for s in 0..services {
            from[s + 1] += from[s];
        }
        QueuesByService {
            from,
            queues: pairs.into_iter().map(|(_, q)| q).collect(),
        }
    }

    #[inline]
    pub fn of(&self, s: usize) -> &[u32] {
        &self.queues[self.from[s] as usize..self.from[s + 1] as usize]
    }
}

pub(super) struct Messaging {
    messages: Arena<MsgId, Message>,
    /// Messages neither acknowledged nor dead-lettered.
    pub live: u32,
    pub queues: Vec<QueueState>,
    pub brokers: Vec<BrokerState>,
    /// Queues consumed by each service.
    pub consumed_by: QueuesByService,
    /// Poison coin flips and acknowledgement latencies per publish step,
    /// delivery hops per queue: each its own stream, so adding a queue or a
    /// producer leaves every other draw where it was.
    poison_rng: Vec<Stream>,
    ack_rng: Vec<Stream>,
    delivery_rng: Vec<Stream>,
}

impl Messaging {
    pub fn new(m: &crate::model::Model, seed: u64) -> Messaging {
        let consumed_by =
            QueuesByService::new(m.services.len(), m.queues.iter().map(|q| q.service));
        let sites = &m.publish_sites;
        Messaging {
            messages: Arena::with_capacity(0),
            live: 0,
            queues: m
                .queues
                .iter()
                .map(|q| QueueState {
                    by_age: ByAge::default(),
                    unacked: 0,
                    next_replica: 0,
                    busy: SmallVec::from_elem(0, m.services[q.service].replicas as usize),
                    ready: VecDeque::new(),
                    blocked: None,
                })
                .collect(),
            brokers: m
                .brokers
                .iter()
                .map(|_| BrokerState {
                    down: 0,
                    slow: 1.0,
                    blocked: VecDeque::new(),
                })
                .collect(),
            consumed_by,
            poison_rng: m
                .publishes
                .iter()
                .zip(sites)
                .map(|(p, site)| stream(seed, &streams::poison(&p.target, site)))
                .collect(),
            ack_rng: m
                .publishes
                .iter()
                .zip(sites)
                .map(|(p, site)| {
                    let b = &m.brokers[p.broker as usize];
                    stream(seed, &streams::ack(b, &p.target, site))
                })
                .collect(),
            delivery_rng: m
                .queues
                .iter()
                .map(|q| stream(seed, &streams::delivery(&m.brokers[q.broker as usize], q)))
                .collect(),
        }
    }

    /// Whether `msg`'s delivery of generation `g` still awaits its
    /// acknowledgement.
    pub fn is_in_flight(&self, msg: MsgId, g: u32) -> bool {
        let m = &self.messages[msg];
        m.generation == g && m.state == MsgState::InFlight
    }

    /// Whether `msg` (generation `g`) waits for its redelivery backoff.
    pub fn is_delayed(&self, msg: MsgId, g: u32) -> bool {
        let m = &self.messages[msg];
        m.generation == g && m.state == MsgState::Delayed
    }

    pub fn message(&self, id: MsgId) -> &Message {
        &self.messages[id]
    }

    /// No settled message with no processing left still holds its slot.
    pub fn no_settled_message_left(&self) -> bool {
        self.messages
            .iter()
            .all(|m| m.state != MsgState::Done || m.outstanding > 0)
    }
}

impl World<'_> {
    // ---------------------------------------------------------- publish --

    /// A job reaches a `publish` step.
    pub(super) fn publish_step(&mut self, j: JobId, p: u32) {
        if let Some(o) = self.m.publishes[p as usize].outbox {
            return self.outbox_write(j, p, o);
        }
        if self.m.publishes[p as usize].batching.is_some() {
            return self.join_batch(j, p);
        }
        self.try_publish(j, p, true);
    }

    /// Whether a message of publish step `p` is poison (its own stream).
    pub(super) fn draw_poison(&mut self, p: u32) -> bool {
        let publish = &self.m.publishes[p as usize];
        publish.poison > 0.0 && {
            let u: f64 = rand::RngExt::random(&mut self.msg.poison_rng[p as usize]);
            u < publish.poison
        }
    }

    /// An outbox relay hands a record of publish step `p` to the broker:
    /// false (and nothing enqueued) while the broker is down or a target
    /// queue is full.
    pub(super) fn relay_offer(&mut self, p: u32, poison: bool) -> bool {
        let publish = &self.m.publishes[p as usize];
        let full = publish
            .queues
            .iter()
            .any(|&q| self.msg.queues[q as usize].unacked >= self.m.queues[q as usize].capacity);
        if self.msg.brokers[publish.broker as usize].down > 0 || full {
            return false;
        }
        for k in 0..publish.queues.len() {
            let q = self.m.publishes[p as usize].queues[k];
            self.enqueue(q, poison);
        }
        if self.m.publishes[p as usize].log.is_some() {
            self.append_record(p, poison);
        }
        true
    }

    fn try_publish(&mut self, j: JobId, p: u32, first: bool) {
        match self.offer(j, p, first) {
            Published::Accepted => {
                let t = self.ack_latency(p);
                let generation = self.jobs[j].generation;
                self.schedule(self.at(t), Ev::WorkDone { job: j, generation });
            }
            Published::Blocked => {}
            Published::Failed => {
                for &q in &self.m.publishes[p as usize].queues {
                    self.rec.queues[q as usize].publish_failed += 1;
                }
                self.complete_job(j, Outcome::Error);
            }
        }
    }

    /// An acknowledgement latency of publish step `p`'s broker, drawn now
    /// (its slowdown applied).
    pub(super) fn ack_latency(&mut self, p: u32) -> Nanos {
        let b = self.m.publishes[p as usize].broker as usize;
        let mut t =
            self.m.dists[self.m.brokers[b].ack as usize].sample(&mut self.msg.ack_rng[p as usize]);
        let slow = self.msg.brokers[b].slow;
        if slow != 1.0 {
            t = (t as f64 * slow).round() as Nanos;
        }
        t
    }

    /// Whether broker `b` is in an outage.
    pub(super) fn broker_down(&self, b: u32) -> bool {
        self.msg.brokers[b as usize].down > 0
    }

    /// Hands the message to every target queue, or finds why it cannot.
    fn offer(&mut self, j: JobId, p: u32, first: bool) -> Published {
        let publish = &self.m.publishes[p as usize];
        let b = publish.broker as usize;
        let full = publish.queues.iter().copied().find(|&q| {
            let cap = self.m.queues[q as usize].capacity;
            self.msg.queues[q as usize].unacked >= cap
        });
        if self.msg.brokers[b].down == 0 && full.is_none() {
            let poison = publish.poison > 0.0 && {
                let u: f64 = rand::RngExt::random(&mut self.msg.poison_rng[p as usize]);
                u < publish.poison
            };
            self.trace_publishing(Some(j));
            for k in 0..publish.queues.len() {
                let q = self.m.publishes[p as usize].queues[k];
                self.enqueue(q, poison);
            }
            if self.m.publishes[p as usize].log.is_some() {
                self.append_record(p, poison);
            }
            self.trace_publishing(None);
            return Published::Accepted;
        }
        let WhenFull::Block(max) = publish.when_full else {
            return Published::Failed;
        };
        let job = &mut self.jobs[j];
        job.blocked = true;
        let (entry, step) = ((j, job.generation), job.step);
        if first {
            for &q in &publish.queues {
                self.rec.queues[q as usize].publish_blocked += 1;
            }
            let ev = Ev::PublishTimeout {
                job: j,
                generation: entry.1,
                step,
            };
            self.schedule_after(max, ev);
        }
        match full {
            Some(q) if self.msg.brokers[b].down == 0 => self.msg.queues[q as usize]
                .blocked
                .get_or_insert_default()
                .push_back(entry),
            _ => self.msg.brokers[b].blocked.push_back(entry),
        }
        Published::Blocked
    }

    /// A blocked producer's wait ran out.
    pub(super) fn on_publish_timeout(&mut self, j: JobId) {
        self.jobs[j].blocked = false;
        let step = self.jobs[j].step;
        let crate::model::Step::Publish(p) = self.m.steps[step as usize] else {
            unreachable!("blocked jobs stand at a publish step")
        };
        for &q in &self.m.publishes[p as usize].queues {
            self.rec.queues[q as usize].publish_failed += 1;
        }
        self.complete_job(j, Outcome::Error);
    }

    /// Producers waiting in `waiting` try again, oldest first, while they
    /// get through.
    fn wake_producers(&mut self, from_broker: Option<usize>, from_queue: Option<usize>) {
        loop {
            let list = match (from_broker, from_queue) {
                (Some(b), _) => &mut self.msg.brokers[b].blocked,
                (_, Some(q)) => {
                    let cap = self.m.queues[q].capacity;
                    if self.msg.queues[q].unacked >= cap {
                        return;
                    }
                    let Some(list) = self.msg.queues[q].blocked.as_deref_mut() else {
                        return;
                    };
                    list
                }
                _ => return,
            };
            let Some((j, g)) = list.pop_front() else {
                return;
            };
            let job = &mut self.jobs[j];
            if job.generation != g || !job.blocked || job.state != JobState::Running {
                continue; // timed out or cut off meanwhile
            }
            job.blocked = false;
            let crate::model::Step::Publish(p) = self.m.steps[job.step as usize] else {
                unreachable!("blocked jobs stand at a publish step")
            };
            self.try_publish(j, p, false);
            if from_broker.is_some_and(|b| self.msg.brokers[b].down > 0) {
                return;
            }
        }
    }

    pub(super) fn enqueue(&mut self, q: u32, poison: bool) {
        let msg = Message {
            generation: 0,
            state: MsgState::Ready,
            queue: q,
            published: self.now,
            deliveries: 0,
            processed: 0,
            outstanding: 0,
            poison,
            job: None,
            first_success: NEVER,
        };
        let id = self.msg.messages.alloc(msg);
        if self.choreo.on {
            self.saga_message_enqueued(id, q);
        }
        self.trace_message(id);
        self.msg.live += 1;
        let now = self.now;
        let qs = &mut self.msg.queues[q as usize];
        qs.unacked += 1;
        let was_empty = qs.by_age.is_empty();
        qs.by_age.insert((now, id));
        let st = &mut self.rec.queues[q as usize];
        st.published += 1;
        st.add_depth(now, 1);
        st.add_unacked(now, 1);
        if was_empty {
            st.set_oldest(now, Some(now));
        }
        self.dispatch_new(q, id);
    }

    /// Message `id` of `q` is visible, just now: what queueing it and
    /// `dispatch` would do, without the list when none waits before it
    /// (it is then the one `dispatch` would deliver, to the replica it
    /// would choose).
    fn dispatch_new(&mut self, q: u32, id: MsgId) {
        let queue = &self.m.queues[q as usize];
        let up = self.msg.brokers[queue.broker as usize].down == 0;
        if up
            && self.msg.queues[q as usize].ready.is_empty()
            && let Some(r) = self.idle_consumer(q)
        {
            return self.deliver_message(q, r, id);
        }
        self.msg.queues[q as usize].ready.push_back(id);
        self.dispatch(q);
    }

    // --------------------------------------------------------- delivery --

    /// Delivers waiting messages of `q` while some replica of its consumer
    /// has an idle worker and a free thread.
    pub(super) fn dispatch(&mut self, q: u32) {
        let queue = &self.m.queues[q as usize];
        if self.msg.brokers[queue.broker as usize].down > 0 {
            return;
        }
        while !self.msg.queues[q as usize].ready.is_empty() {
            let Some(r) = self.idle_consumer(q) else {
                return;
            };
            self.deliver_next(q, r);
        }
    }

    /// The replica of `q`'s consumer that takes its next message (the
    /// first that can, from where the last delivery left off), and the
    /// next delivery starts looking after it.
    fn idle_consumer(&mut self, q: u32) -> Option<u32> {
        let s = self.m.queues[q as usize].service.index();
        let n = self.m.services[s].replicas;
        let start = self.msg.queues[q as usize].next_replica;
        let r = (0..n)
            .map(|k| (start + k) % n)
            .find(|&r| self.consumer_can_take(q, r))?;
        self.msg.queues[q as usize].next_replica = (r + 1) % n;
        Some(r)
    }

    /// Whether replica `r` of `q`'s consumer can start one more message.
    fn consumer_can_take(&self, q: u32, r: u32) -> bool {
        let queue = &self.m.queues[q as usize];
        let s = queue.service.index();
        let rep = &self.replicas[s][r as usize];
        self.msg.queues[q as usize].busy[r as usize] < queue.concurrency
            && rep.busy + rep.lost < self.m.services[s].threads
            && rep.crashed == 0
            && rep.hung == 0
            && !rep.life.down
            && (self.rt[s] & super::RT_SCALE == 0 || self.in_service(s, r as usize))
    }

    /// A thread of replica `r` of service `s` went idle: its consumers
    /// pull, each queue in turn.
    #[inline]
    pub(super) fn pull(&mut self, s: usize, r: u32) {
        // (The flag, in a byte per service that stays in cache, spares a
        // service that consumes nothing the two lists' lines.)
        if self.rt[s] & super::RT_CONSUMES == 0 {
            return;
        }
        if !self.msg.consumed_by.of(s).is_empty() {
            self.pull_messages(s, r);
        }
        if self.logs.consumes(s) {
            self.log_pull(s, r);
        }
    }

    fn pull_messages(&mut self, s: usize, r: u32) {
        loop {
            let mut took = false;
            for k in 0..self.msg.consumed_by.of(s).len() {
                let q = self.msg.consumed_by.of(s)[k];
                let queue = &self.m.queues[q as usize];
                if self.msg.brokers[queue.broker as usize].down == 0
                    && !self.msg.queues[q as usize].ready.is_empty()
                    && self.consumer_can_take(q, r)
                {
                    self.deliver_next(q, r);
                    took = true;
                }
            }
            if !took {
                return;
            }
        }
    }

    /// The oldest visible message of `q` goes to replica `r`: the consumer
    /// worker takes a thread at once and holds it while the message
    /// travels.
    fn deliver_next(&mut self, q: u32, r: u32) {
        let id = self.msg.queues[q as usize]
            .ready
            .pop_front()
            .expect("dispatch checks for a message");
        self.deliver_message(q, r, id);
    }

    /// Message `id` of `q` (no longer in its visible list) goes to
    /// replica `r`, as `deliver_next` says.
    fn deliver_message(&mut self, q: u32, r: u32, id: MsgId) {
        let queue = &self.m.queues[q as usize];
        let s = queue.service;
        let now = self.now;
        let msg = &mut self.msg.messages[id];
        msg.deliveries += 1;
        msg.generation = msg.generation.wrapping_add(1);
        msg.state = MsgState::InFlight;
        msg.outstanding += 1;
        let (generation, deliveries, published) = (msg.generation, msg.deliveries, msg.published);
        let st = &mut self.rec.queues[q as usize];
        st.delivered += 1;
        st.add_depth(now, -1);
        st.add_consumers(now, 1);
        if deliveries == 1 {
            self.rec.record_queue_wait(q as usize, published, now);
        } else {
            st.redelivered += 1;
        }
        self.msg.queues[q as usize].busy[r as usize] += 1;
        let parent = Parent::Message {
            msg: id,
            generation,
        };
        let op = if self.choreo.on {
            self.saga_consumer_op(id, queue.consumer)
        } else {
            queue.consumer
        };
        let j = self.alloc_consumer_job(s, op, parent, Criticality::Default);
        if self.in_idempotency_store(id) {
            // The store answers "done": the consumer acknowledges at once.
            self.jobs[j].step = self.jobs[j].end_step;
        }
        let job = &mut self.jobs[j];
        job.replica = r;
        job.state = JobState::Running;
        job.t_arrive = now;
        job.t_start = now;
        let job_gen = job.generation;
        let msg = &mut self.msg.messages[id];
        msg.job = Some((j, job_gen));
        self.replicas[s][r as usize].busy += 1;
        self.rec.count_arrival(s.index());
        self.rec.add_busy(s.index(), now, 1);
        self.rec.services[s].record_wait(now, 0);
        if self.memory_changed(s.index(), r as usize) {
            return; // killed, with this consumer (the message comes back)
        }
        if self.m.services[s].memory.is_some() {
            self.allocate(s.index(), r as usize);
        }
        self.schedule_after(
            queue.visibility,
            Ev::Visibility {
                msg: id,
                generation,
            },
        );
        let b = queue.broker as usize;
        let hop = self.m.dists[self.m.brokers[b].delivery as usize]
            .sample(&mut self.msg.delivery_rng[q as usize]);
        self.schedule(
            self.at(hop),
            Ev::Delivered {
                job: j,
                generation: job_gen,
            },
        );
    }

    /// A consumer's processing ended (its thread is already released, or
    /// was lost to a crash).
    pub(super) fn consumer_done(
        &mut self,
        job: Job,
        id: MsgId,
        delivery: u32,
        mut outcome: Outcome,
    ) {
        let now = self.now;
        let msg = self.msg.messages[id];
        let q = msg.queue as usize;
        let queue = &self.m.queues[q];
        self.msg.queues[q].busy[job.replica as usize] -= 1;
        self.msg.messages[id].outstanding -= 1;
        self.rec.queues[q].add_consumers(now, -1);
        if msg.poison && outcome.is_success() {
            outcome = Outcome::Error;
        }
        let current = msg.generation == delivery && msg.state == MsgState::InFlight;
        let down = self.msg.brokers[queue.broker as usize].down > 0;
        if outcome.is_success() {
            let absorbed = self.in_idempotency_store(id);
            let st = &mut self.rec.queues[q];
            if msg.processed > 0 {
                st.duplicates += 1;
                if absorbed {
                    st.duplicates_absorbed += 1;
                } else if !queue.idempotent {
                    st.duplicate_side_effects += 1;
                }
            } else {
                self.msg.messages[id].first_success = now;
            }
            self.msg.messages[id].processed += 1;
            if !current {
                st.late_acks += 1;
            } else if down {
                st.acks_lost += 1;
            } else {
                st.acked += 1;
                self.rec.record_queue_ack(q, msg.published, now);
                self.settle(id);
                if self.choreo.on {
                    self.saga_message_settled(id, true);
                }
            }
        } else if current && !down && !matches!(outcome, Outcome::Refused | Outcome::Reset) {
            self.retry_or_dead_letter(id);
        }
        if self.msg.messages[id].state == MsgState::Done && self.msg.messages[id].outstanding == 0 {
            self.free_message(id);
        }
        self.dispatch(q as u32);
    }

    /// The current delivery of `id` stopped counting (nack or expired):
    /// redeliver after the backoff, or dead-letter.
    fn retry_or_dead_letter(&mut self, id: MsgId) {
        let msg = &mut self.msg.messages[id];
        msg.generation = msg.generation.wrapping_add(1);
        let q = msg.queue as usize;
        let queue = &self.m.queues[q];
        if msg.deliveries >= queue.max_deliveries {
            self.rec.queues[q].dead_lettered += 1;
            self.settle(id);
            if self.choreo.on {
                self.saga_message_settled(id, false);
            }
            if let Some(dlq) = queue.dead_letter {
                // Moved whatever the dead-letter queue's capacity (brokers
                // do not refuse their own dead letters); its consumer is
                // another handler, so the message is not poison there.
                self.enqueue(dlq, false);
            }
            return;
        }
        msg.state = MsgState::Delayed;
        let shift = (msg.deliveries - 1).min(40);
        let wait = queue
            .backoff
            .saturating_mul(1u64 << shift)
            .min(queue.backoff_max);
        let generation = msg.generation;
        self.schedule(
            self.at(wait),
            Ev::Redeliver {
                msg: id,
                generation,
            },
        );
    }

    /// A delivery's visibility timeout expired before its acknowledgement.
    pub(super) fn on_visibility(&mut self, id: MsgId) {
        let msg = self.msg.messages[id];
        self.rec.queues[msg.queue as usize].visibility_expired += 1;
        if let Some((j, g)) = msg.job
            && self.jobs[j].generation == g
        {
            self.jobs[j].abandoned_at = self.now;
        }
        self.retry_or_dead_letter(id);
        // Dead-lettered with no processing left (the consumer was cut off
        // by a crash, or its acknowledgement was lost in an outage): no
        // `consumer_done` will come to free the slot.
        let msg = &self.msg.messages[id];
        if msg.state == MsgState::Done && msg.outstanding == 0 {
            self.free_message(id);
        }
    }

    /// A message's redelivery backoff is over: it is visible again, at the
    /// back of its queue.
    pub(super) fn on_redeliver(&mut self, id: MsgId) {
        let msg = &mut self.msg.messages[id];
        msg.state = MsgState::Ready;
        let q = msg.queue;
        self.msg.queues[q as usize].ready.push_back(id);
        self.rec.queues[q as usize].add_depth(self.now, 1);
        self.dispatch(q);
    }

    /// The message leaves its queue for good (acknowledged or
    /// dead-lettered): space frees for blocked producers.
    fn settle(&mut self, id: MsgId) {
        let now = self.now;
        let msg = &mut self.msg.messages[id];
        msg.state = MsgState::Done;
        let (q, published) = (msg.queue as usize, msg.published);
        self.msg.live -= 1;
        let qs = &mut self.msg.queues[q];
        qs.unacked -= 1;
        qs.by_age.remove(&(published, id));
        let oldest = qs.by_age.first().map(|(t, _)| t);
        let st = &mut self.rec.queues[q];
        st.add_unacked(now, -1);
        st.set_oldest(now, oldest);
        if self.msg.queues[q].has_blocked() {
            self.wake_producers(None, Some(q));
        }
    }

    fn free_message(&mut self, id: MsgId) {
        self.msg.messages.free(id);
    }

    // ----------------------------------------------------------- faults --

    pub(super) fn broker_fault(&mut self, b: usize) {
        let (now, m) = (self.now, self.m);
        let active = m
            .faults
            .iter()
            .filter(|f| f.broker == Some(b as u32) && f.start <= now && now < f.end);
        let mut down = 0;
        let mut slow = 1.0;
        for f in active {
            match f.kind {
                crate::model::FaultKind::Outage => down += 1,
                crate::model::FaultKind::SlowBroker(x) => slow *= x,
                _ => {}
            }
        }
        let was_down = self.msg.brokers[b].down > 0;
        self.msg.brokers[b].down = down;
        self.msg.brokers[b].slow = slow;
        if was_down && down == 0 {
            self.wake_producers(Some(b), None);
            for q in 0..m.queues.len() {
                if m.queues[q].broker as usize == b {
                    self.dispatch(q as u32);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::QueuesByService;
    use crate::model::ServiceId;

    #[test]
    fn each_service_gets_its_queues_in_the_models_order() {
        // Queues 0..5 consumed by services 2, 0, 2, 3, 0; service 1 and 4
        // consume nothing.
        let of_queue = [2, 0, 2, 3, 0].map(ServiceId);
        let by = QueuesByService::new(5, of_queue.into_iter());
        assert_eq!(by.of(0), &[1, 4]);
        assert!(by.of(1).is_empty());
        assert_eq!(by.of(2), &[0, 2]);
        assert_eq!(by.of(3), &[3]);
        assert!(by.of(4).is_empty());
    }
}
