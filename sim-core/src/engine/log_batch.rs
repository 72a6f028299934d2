//! Batching on partitioned logs, both ends.
//!
//! **Producer batching** (a `publish` to a log with `linger`, `batch`;
//! Kafka's `linger.ms` and `batch.size`, counted in records): a record
//! joins the open batch of its publish step, producer replica and
//! partition (its key, drawn at once from the step's stream, picks the
//! partition). The first record of a batch starts its linger; the batch
//! is sent when it holds `batch` records or when the linger expires,
//! whichever is first. Sending appends its records to the partition in
//! the order they joined (so order within a partition holds) and draws one
//! acknowledgement latency for the whole batch: every publisher in it
//! waits for its linger share plus that ack. A batch sent while the broker
//! is down fails every publish in it. A record whose producer job was cut
//! off (a crash, an OOM kill) before its batch left is not appended: the
//! producer's memory died with it (it was never produced).
//!
//! **Per-batch consumer cost** (a group's `batch_cost = { fixed,
//! per_record }`): the first record job of a poll batch of n records
//! holds its member's thread for fixed + n × per_record before the
//! consumer operation's steps run for it; the batch's other records run
//! the operation's steps only. A batch polled again (after a rebalance or
//! an eviction) pays again; a retry in place does not.
//!
//! Owns the producers' open batches and when a batch's cost is due; must
//! not decide what happens to a record once appended (`log.rs`).

use std::collections::BTreeMap;

use super::partition_of;
use crate::engine::World;
use crate::engine::event::Ev;
use crate::engine::ids::{JobId, MemberId};
use crate::engine::records::JobState;
use crate::outcome::Outcome;
use crate::time::Nanos;

/// A record waiting in a producer batch, with its publisher.
#[derive(Clone, Copy, Debug)]
struct Waiting {
    job: JobId,
    generation: u32,
    key: u32,
    poison: bool,
}

/// The batch of one (publish step, producer replica, partition).
struct OpenBatch {
    publish: u32,
    /// The producer: its service and replica (a GC pause of that replica
    /// freezes the linger, `stw`).
    service: u32,
    replica: u32,
    records: Vec<Waiting>,
    /// Bumped at every send: a linger timer of an earlier batch is stale.
    generation: u32,
}

/// Every producer's open batch, created at its first record.
#[derive(Default)]
pub(in crate::engine) struct ProducerBatches {
    /// (publish step, producer replica, partition) → its slot in `slots`.
    slot_of: BTreeMap<(u32, u32, u32), u32>,
    slots: Vec<OpenBatch>,
}

impl ProducerBatches {
    /// Whether a linger timer of slot `slot` belongs to its open batch.
    pub(in crate::engine) fn is_current(&self, slot: u32, generation: u32) -> bool {
        self.slots[slot as usize].generation == generation
    }

    /// The producer (service, replica) of slot `slot`'s batches.
    pub(in crate::engine) fn producer_of(&self, slot: u32) -> (usize, usize) {
        let b = &self.slots[slot as usize];
        (b.service as usize, b.replica as usize)
    }
}

impl World<'_> {
    /// Job `j` at publish step `p` (with `linger`): its record joins its
    /// producer's batch, and the job waits until the batch is acknowledged.
    pub(in crate::engine) fn join_batch(&mut self, j: JobId, p: u32) {
        let cfg = self.m.publishes[p as usize]
            .batching
            .expect("a batching publish");
        // As an unbatched publish: the poison coin, then the key.
        let poison = self.draw_poison(p);
        let (l, key) = self.draw_log_key(p);
        let partition = partition_of(key, self.m.logs[l].partitions);
        let job = &self.jobs[j];
        let (service, replica, generation) =
            (job.service.index() as u32, job.replica, job.generation);
        let producer = &mut self.logs.producer;
        let slot = *producer
            .slot_of
            .entry((p, replica, partition))
            .or_insert_with(|| {
                producer.slots.push(OpenBatch {
                    publish: p,
                    service,
                    replica,
                    records: Vec::new(),
                    generation: 0,
                });
                (producer.slots.len() - 1) as u32
            });
        let b = &mut producer.slots[slot as usize];
        b.records.push(Waiting {
            job: j,
            generation,
            key,
            poison,
        });
        if b.records.len() >= cfg.batch as usize {
            return self.send_batch(slot);
        }
        if b.records.len() == 1 {
            let generation = b.generation;
            self.schedule_after(cfg.linger, Ev::LingerExpired { slot, generation });
        }
    }

    /// A batch's linger is over: it is sent as it is.
    pub(in crate::engine) fn on_linger_expired(&mut self, slot: u32) {
        self.send_batch(slot);
    }

    /// The batch in `slot` leaves its producer: its records are appended
    /// in order and acknowledged together, or all fail (broker down).
    fn send_batch(&mut self, slot: u32) {
        let b = &mut self.logs.producer.slots[slot as usize];
        b.generation = b.generation.wrapping_add(1);
        let mut records = std::mem::take(&mut b.records);
        let p = b.publish;
        let publish = &self.m.publishes[p as usize];
        let l = publish.log.expect("a publish to a log") as usize;
        let down = self.broker_down(publish.broker);
        let ack = if down { 0 } else { self.ack_latency(p) };
        let (mut appended, mut failed) = (0, 0);
        for w in &records {
            let job = &self.jobs[w.job];
            if job.generation != w.generation || job.state != JobState::Running {
                continue; // cut off: the record died with its producer
            }
            if down {
                failed += 1;
                self.complete_job(w.job, Outcome::Error);
                continue;
            }
            appended += 1;
            self.append(l, w.key, w.poison);
            let at = self.at(ack);
            self.schedule(
                at,
                Ev::WorkDone {
                    job: w.job,
                    generation: w.generation,
                },
            );
        }
        self.rec.logs.producer_batches[l].sent(appended, failed);
        // Keep the allocation unless a record joined a new batch meanwhile
        // (a failed publish freed a thread whose next job published).
        let b = &mut self.logs.producer.slots[slot as usize];
        if b.records.is_empty() {
            records.clear();
            b.records = records;
        }
    }

    /// What member `id`'s current batch still owes its group's
    /// `batch_cost` (once per batch, at its first record's start).
    pub(super) fn batch_cost_due(&mut self, id: MemberId) -> Nanos {
        let mi = id.0 as usize;
        let g = self.logs.members[mi].group as usize;
        let Some(cost) = self.m.groups[g].batch_cost else {
            return 0;
        };
        let Some(b) = &mut self.logs.members[mi].batch else {
            return 0;
        };
        if b.paid {
            return 0;
        }
        b.paid = true;
        let n = b.to - b.from;
        let t = cost.fixed.saturating_add(n.saturating_mul(cost.per_record));
        self.rec.logs.groups[g].poll_batches.paid(n, t);
        t
    }
}
