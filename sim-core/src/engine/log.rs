//! Partitioned logs and consumer groups (Kafka-style), the broker's
//! sibling.
//!
//! A `publish` step to a log appends one record (after the broker's
//! acknowledgement rules in `broker.rs`): its key, drawn from the publish
//! step's own stream, picks the partition by a stable hash, so order holds
//! within a partition. Records stay until retention deletes them (by age
//! or by count per partition), consumed or not.
//!
//! A consumer group has `members`, member i on replica i mod replicas of
//! the consumer service. Partitions are assigned to the live members
//! round robin (partition p to the (p mod n)-th): at most one member per
//! partition, surplus members idle. A member polls a batch of at most
//! `max_poll_records` from one of its partitions and processes them one by
//! one, each a job of the consumer operation holding one of its replica's
//! threads (requests in the accept queue go first, as for the broker's
//! consumers); after the batch it commits and polls again.
//!
//! Semantics (see DESIGN.md, "Partitioned logs"):
//! - every membership change — a member's replica crashes, is OOM-killed
//!   or comes back, is added or removed by an autoscaler
//!   (`log_scaling.rs`), a member is evicted or rejoins — is a *rebalance*: the
//!   whole group stops for `rebalance`; live members commit the records
//!   they finished and give the rest of their batch back; a record being
//!   processed at that instant runs on, but its result no longer counts
//!   (the next owner processes it again: a duplicate);
//! - a member whose batch runs past `max_poll_interval` is evicted: its
//!   commit fails, so its whole batch goes to the next owner; it rejoins
//!   (another rebalance) when the record it was processing ends;
//! - a dead member's uncommitted batch goes to the next owner;
//! - a failed record is retried in place (its partition waits: head-of-line
//!   blocked time), moved to a retry log, or dead-lettered;
//! - retention deletes records nobody fetched as losses; a batch being
//!   processed keeps its records until it commits or is given back (then
//!   the deleted part is lost);
//! - a member is its replica's own process: a poll that falls in a GC
//!   pause of the replica is made at the pause's end, and its retry
//!   backoff and `max_poll_interval` timer, falling in one, take effect
//!   at its end too, in order with what else the pause set aside
//!   (`stw.rs`); the group's rebalance pause is the coordinator's and
//!   runs on.
//!
//! Duplicates are exact: a processing that succeeds on a record its group
//! had already handled (processed, moved or dead-lettered) — found by the
//! partition's high-water mark, since a partition is handled in offset
//! order.
//!
//! Owns the logs' records, the groups' offsets, members and rebalances;
//! must not do I/O, read a clock, or decide a consumer job's steps.
//!
//! Past 600 lines because a rebalance touches every part of it at once
//! (members, assignments, batches in flight, commits, retention's hold on
//! fetched records); split by concern it would pass one state around
//! every file.

use std::collections::VecDeque;

use crate::rng::Stream;
use rand_distr::Distribution;

use super::World;
use super::event::Ev;
use super::ids::{JobId, MemberId};
use super::records::{Job, JobState, NEVER, Parent};
use crate::model::{Model, OnFailure};
use crate::outcome::Outcome;
use crate::rng::stream;
use crate::time::Nanos;

#[derive(Clone, Copy, Debug)]
struct Record {
    produced: Nanos,
    key: u32,
    poison: bool,
}

/// One partition's records from offset `base` on (those every group has
/// committed, and those retention deleted that no batch holds, are gone).
struct Partition {
    records: VecDeque<Record>,
    base: u64,
    /// The log end: the next record's offset.
    end: u64,
    /// The first record retention has not deleted.
    start: u64,
    /// A `LogExpire` event is pending for this partition.
    expiry_armed: bool,
}

impl Partition {
    fn get(&self, offset: u64) -> Option<&Record> {
        offset
            .checked_sub(self.base)
            .and_then(|i| self.records.get(i as usize))
    }
}

/// How a record's key is drawn (a cache's key space: `cache::Keys`).
enum Keys {
    Uniform(u32),
    Zipf(rand_distr::Zipf<f64>),
}

pub(super) struct LogState {
    partitions: Vec<Partition>,
    keys: Keys,
    /// Groups reading this log.
    groups: Vec<u32>,
}

/// A group's view of one partition.
#[derive(Clone, Copy, Debug)]
struct Offsets {
    committed: u64,
    /// The next offset to fetch.
    position: u64,
    /// One past the highest record handled (processed, moved, dead-lettered).
    high_water: u64,
    /// The member it is assigned to (`NOBODY` if none).
    owner: u32,
    /// Since when its head record has been failing (retry in place).
    blocked_since: Nanos,
    /// One past the highest offset a current batch started: a start
    /// below it is not the record's first (its wait was measured).
    started: u64,
}

const NOBODY: u32 = u32::MAX;

/// The record a consumer job processes. Its poison mark is copied here:
/// once another member commits past it the log may have freed it.
#[derive(Clone, Copy, Debug, Default)]
struct RecordRef {
    partition: u32,
    offset: u64,
    poison: bool,
}

#[derive(Clone, Copy, Debug)]
struct Batch {
    partition: u32,
    from: u64,
    to: u64,
    /// The next record to process.
    next: u64,
    /// Records of it dead-lettered so far (not committed).
    dead: u64,
    /// Its group's `batch_cost` was paid (by its first record's job).
    paid: bool,
}

#[derive(Clone, Debug)]
struct Member {
    group: u32,
    replica: u32,
    /// Its replica is up.
    alive: bool,
    /// Evicted for a slow batch; rejoins when its processing ends.
    evicted: bool,
    /// Bumped at every batch start and whenever its batch stops counting.
    generation: u32,
    batch: Option<Batch>,
    /// The job processing a record for it (current or not).
    running: Option<(JobId, u32)>,
    /// Waiting for a thread of its replica.
    wants_thread: bool,
    /// Waiting for a retry-in-place backoff.
    backing_off: bool,
    /// A poll of it is set aside until its replica's GC pause ends.
    polls_at_pause_end: bool,
    /// Where its next poll starts among its partitions.
    next_pick: u32,
    /// The partitions assigned to it, ascending (kept by `assign`): a
    /// poll looks through these, not through all of the group's.
    parts: Vec<u32>,
}

pub(super) struct GroupState {
    parts: Vec<Offsets>,
    /// Members of this group are `first .. first + count` of `Logs::members`.
    first: u32,
    paused_until: Nanos,
}

/// Every log's and group's live state.
pub(super) struct Logs {
    pub logs: Vec<LogState>,
    pub groups: Vec<GroupState>,
    members: Vec<Member>,
    /// Per service: the members on it (pulled when a thread frees).
    by_service: Vec<Vec<MemberId>>,
    /// Per service and replica: the members on it, in member order (a
    /// freed thread asks only these).
    by_replica: Vec<Vec<Vec<MemberId>>>,
    /// Per publish step to a log: its key stream.
    key_rng: Vec<Stream>,
    /// Per publish step: its index in `key_rng` (key streams are kept for
    /// publishes to logs only, in step order).
    key_stream_of: Vec<u32>,
    /// Per job slot, for record jobs: the record it processes.
    job_record: Vec<RecordRef>,
    /// Per group whose consumer autoscales: its membership figures.
    scaling: Vec<Option<scaling::GroupScaling>>,
    /// Records not yet committed, lost or dead-lettered by some group:
    /// while any remain the run goes on draining.
    pub backlog: u64,
    /// Producers' open batches (`log_batch.rs`).
    pub producer: batch::ProducerBatches,
    /// Every record a current batch started, for tests: (time, group,
    /// partition, offset); a rewind is logged as offset | REWIND.
    #[cfg(test)]
    pub trace: Vec<(Nanos, u32, u32, u64)>,
}

/// Marks a rewind in `Logs::trace`.
#[cfg(test)]
pub(super) const REWIND: u64 = 1 << 63;

/// The stable hash that puts a key on a partition.
fn partition_of(key: u32, partitions: u32) -> u32 {
    (crate::rng::mix(u64::from(key) ^ 0x6b61_666b_615f_6b65) % u64::from(partitions)) as u32
}

impl Logs {
    pub fn new(m: &Model, seed: u64) -> Logs {
        let mut members = Vec::new();
        let mut by_service = vec![Vec::new(); m.services.len()];
        let mut by_replica: Vec<Vec<Vec<MemberId>>> = vec![Vec::new(); m.services.len()];
        let groups = m
            .groups
            .iter()
            .enumerate()
            .map(|(g, grp)| {
                let first = members.len() as u32;
                let (replicas, count, up) = scaling::layout(m, grp);
                let on_replica = &mut by_replica[grp.service];
                on_replica.resize(replicas as usize, Vec::new());
                for i in 0..count {
                    by_service[grp.service].push(MemberId(members.len() as u32));
                    on_replica[(i % replicas) as usize].push(MemberId(members.len() as u32));
                    members.push(Member {
                        group: g as u32,
                        replica: i % replicas,
                        alive: i % replicas < up,
                        evicted: false,
                        generation: 0,
                        batch: None,
                        running: None,
                        wants_thread: false,
                        backing_off: false,
                        polls_at_pause_end: false,
                        next_pick: 0,
                        parts: Vec::new(),
                    });
                }
                let p = m.logs[grp.log as usize].partitions as usize;
                GroupState {
                    parts: vec![
                        Offsets {
                            committed: 0,
                            position: 0,
                            high_water: 0,
                            owner: NOBODY,
                            blocked_since: NEVER,
                            started: 0,
                        };
                        p
                    ],
                    first,
                    paused_until: 0,
                }
            })
            .collect();
        let logs = m
            .logs
            .iter()
            .enumerate()
            .map(|(l, log)| LogState {
                partitions: (0..log.partitions)
                    .map(|_| Partition {
                        records: VecDeque::new(),
                        base: 0,
                        end: 0,
                        start: 0,
                        expiry_armed: false,
                    })
                    .collect(),
                keys: match log.zipf {
                    Some(s) => {
                        Keys::Zipf(rand_distr::Zipf::new(f64::from(log.keys), s).expect("checked"))
                    }
                    None => Keys::Uniform(log.keys),
                },
                groups: (0..m.groups.len() as u32)
                    .filter(|&g| m.groups[g as usize].log == l as u32)
                    .collect(),
            })
            .collect();
        let key_rng = m
            .publishes
            .iter()
            .zip(&m.publish_sites)
            .filter(|(p, _)| p.log.is_some())
            .map(|(p, site)| stream(seed, &crate::streams::log_keys(&p.target, site)))
            .collect();
        let mut logs = Logs {
            logs,
            groups,
            members,
            by_service,
            by_replica,
            key_rng,
            key_stream_of: m
                .publishes
                .iter()
                .scan(0u32, |n, x| {
                    let k = *n;
                    *n += u32::from(x.log.is_some());
                    Some(k)
                })
                .collect(),
            job_record: Vec::new(),
            scaling: scaling::GroupScaling::for_model(m),
            backlog: 0,
            producer: batch::ProducerBatches::default(),
            #[cfg(test)]
            trace: Vec::new(),
        };
        for g in 0..m.groups.len() {
            logs.assign(g);
        }
        logs
    }

    /// Whether a record job of `member`'s batch `generation` still counts.
    pub fn is_current(&self, member: MemberId, generation: u32) -> bool {
        let m = &self.members[member.0 as usize];
        m.generation == generation && m.batch.is_some()
    }

    /// Some member of a group lives on service `s`.
    #[inline]
    pub fn consumes(&self, s: usize) -> bool {
        self.by_service.get(s).is_some_and(|v| !v.is_empty())
    }

    fn group_members(&self, g: usize) -> std::ops::Range<usize> {
        let first = self.groups[g].first as usize;
        let end = self
            .groups
            .get(g + 1)
            .map_or(self.members.len(), |n| n.first as usize);
        first..end
    }

    /// Partitions to the live, joined members round robin.
    fn assign(&mut self, g: usize) {
        let live: Vec<u32> = self
            .group_members(g)
            .filter(|&i| self.members[i].alive && !self.members[i].evicted)
            .map(|i| i as u32)
            .collect();
        for i in self.group_members(g) {
            self.members[i].parts.clear();
        }
        let grp = &mut self.groups[g];
        for (p, o) in grp.parts.iter_mut().enumerate() {
            o.owner = if live.is_empty() {
                NOBODY
            } else {
                live[p % live.len()]
            };
            if o.owner != NOBODY {
                self.members[o.owner as usize].parts.push(p as u32);
            }
        }
    }

    /// Records group `g` has not handled yet: in partitions of log `l`
    /// past its fetch positions, or in its members' batches (dead letters
    /// of a batch aside): "still in the log" of the invariant.
    fn pending_of(&self, l: usize, g: usize) -> u64 {
        let mut n = 0;
        for (p, o) in self.groups[g].parts.iter().enumerate() {
            n += self.logs[l].partitions[p].end - o.position;
        }
        for i in self.group_members(g) {
            if let Some(b) = self.members[i].batch {
                n += b.to - b.from - b.dead;
            }
        }
        n
    }
}

impl World<'_> {
    // ---------------------------------------------------------- produce --

    /// A publish to a log was accepted: one record is appended.
    pub(super) fn append_record(&mut self, p: u32, poison: bool) {
        let (l, key) = self.draw_log_key(p);
        self.append(l, key, poison);
    }

    /// The log publish step `p` appends to, and the next record's key.
    fn draw_log_key(&mut self, p: u32) -> (usize, u32) {
        let l = self.m.publishes[p as usize]
            .log
            .expect("a publish to a log") as usize;
        let k = self.logs.key_stream_of[p as usize] as usize;
        let key = match &self.logs.logs[l].keys {
            Keys::Uniform(n) => rand::RngExt::random_range(&mut self.logs.key_rng[k], 0..*n),
            Keys::Zipf(z) => (z.sample(&mut self.logs.key_rng[k]) as u32).saturating_sub(1),
        };
        (l, key)
    }

    /// Appends a record with `key` to log `l`.
    fn append(&mut self, l: usize, key: u32, poison: bool) {
        let log = &self.m.logs[l];
        let p = partition_of(key, log.partitions) as usize;
        let now = self.now;
        let part = &mut self.logs.logs[l].partitions[p];
        part.records.push_back(Record {
            produced: now,
            key,
            poison,
        });
        part.end += 1;
        let end = part.end;
        self.rec.logs.produced(l, p);
        self.logs.backlog += self.logs.logs[l].groups.len() as u64;
        if let Some(count) = log.retention_count
            && end - self.logs.logs[l].partitions[p].start > u64::from(count)
        {
            self.delete_up_to(l, p, end - u64::from(count));
        }
        if let Some(t) = log.retention_time
            && !self.logs.logs[l].partitions[p].expiry_armed
        {
            self.logs.logs[l].partitions[p].expiry_armed = true;
            self.schedule(
                self.at(t),
                Ev::LogExpire {
                    log: l as u32,
                    partition: p as u32,
                },
            );
        }
        for k in 0..self.logs.logs[l].groups.len() {
            let g = self.logs.logs[l].groups[k] as usize;
            let owner = self.logs.groups[g].parts[p].owner;
            if owner != NOBODY {
                self.poll(MemberId(owner));
            }
        }
    }

    // -------------------------------------------------------- retention --

    /// The oldest records of a partition reach their retention time.
    pub(super) fn on_log_expire(&mut self, l: usize, p: usize) {
        let ttl = self.m.logs[l].retention_time.expect("armed with a time");
        let now = self.now;
        let part = &mut self.logs.logs[l].partitions[p];
        part.expiry_armed = false;
        let mut s = part.start;
        while let Some(r) = part.get(s) {
            if r.produced.saturating_add(ttl) > now {
                break;
            }
            s += 1;
        }
        if s > part.start {
            self.delete_up_to(l, p, s);
        }
        let part = &mut self.logs.logs[l].partitions[p];
        if let Some(r) = part.get(part.start) {
            let at = r.produced.saturating_add(ttl);
            part.expiry_armed = true;
            self.schedule(
                at,
                Ev::LogExpire {
                    log: l as u32,
                    partition: p as u32,
                },
            );
        }
    }

    /// Retention deletes the records of partition `p` below offset `s`:
    /// those no group had fetched are lost to it.
    fn delete_up_to(&mut self, l: usize, p: usize, s: u64) {
        self.logs.logs[l].partitions[p].start = s;
        for k in 0..self.logs.logs[l].groups.len() {
            let g = self.logs.logs[l].groups[k] as usize;
            let o = &mut self.logs.groups[g].parts[p];
            if o.position < s {
                let lost = s - o.position;
                if o.committed == o.position {
                    o.committed = s;
                }
                o.position = s;
                o.high_water = o.high_water.max(s);
                self.logs.backlog -= lost;
                self.rec.logs.lost(g, lost);
            }
        }
        self.trim(l, p);
    }

    /// Frees the records of partition `p` no group still needs: those
    /// every group has committed (or, with no group, retention deleted).
    /// A log with a retention time keeps them from `start` on, whose
    /// production times its expiry reads.
    fn trim(&mut self, l: usize, p: usize) {
        let start = self.logs.logs[l].partitions[p].start;
        let groups = &self.logs.logs[l].groups;
        let mut keep = groups
            .iter()
            .map(|&g| self.logs.groups[g as usize].parts[p].committed)
            .min()
            .unwrap_or(start);
        if self.m.logs[l].retention_time.is_some() {
            keep = keep.min(start);
        }
        let part = &mut self.logs.logs[l].partitions[p];
        while part.base < keep && part.records.pop_front().is_some() {
            part.base += 1;
        }
    }

    // ------------------------------------------------------ consumption --

    /// Member `id` starts a batch if it is free to and has records.
    fn poll(&mut self, id: MemberId) {
        let mi = id.0 as usize;
        let mem = &self.logs.members[mi];
        let g = mem.group as usize;
        if mem.batch.is_some()
            || mem.running.is_some()
            || !mem.alive
            || mem.evicted
            || self.logs.groups[g].paused_until > self.now
        {
            return;
        }
        let l = self.m.groups[g].log as usize;
        let parts = self.logs.groups[g].parts.len() as u32;
        // Its own partitions from `next_pick` on, then round to the start:
        // the group's partitions in cyclic order, skipping others'.
        let own = &mem.parts;
        let first = own.partition_point(|&p| p < mem.next_pick);
        let Some(p) = own[first..]
            .iter()
            .chain(&own[..first])
            .copied()
            .find(|&p| {
                let o = &self.logs.groups[g].parts[p as usize];
                o.position < self.logs.logs[l].partitions[p as usize].end
            })
        else {
            return;
        };
        let (s, r) = (self.m.groups[g].service.index(), mem.replica as usize);
        if self.replica_in_pause(s, r) {
            // Its process is stopped: it fetches when the pause ends.
            if !mem.polls_at_pause_end {
                self.logs.members[mi].polls_at_pause_end = true;
                self.set_aside_until_pause_end(s, r, Ev::MemberPoll { member: id });
            }
            return;
        }
        let o = &mut self.logs.groups[g].parts[p as usize];
        let end = self.logs.logs[l].partitions[p as usize].end;
        let from = o.position;
        let to = end.min(from + u64::from(self.m.groups[g].max_poll_records));
        o.position = to;
        let mem = &mut self.logs.members[mi];
        mem.next_pick = (p + 1) % parts;
        mem.generation = mem.generation.wrapping_add(1);
        mem.batch = Some(Batch {
            partition: p,
            from,
            to,
            next: from,
            dead: 0,
            paid: false,
        });
        let generation = mem.generation;
        self.schedule_after(
            self.m.groups[g].max_poll_interval,
            Ev::LogPollTimeout {
                member: id,
                generation,
            },
        );
        self.process_next(id);
    }

    /// Member `id` makes the poll a GC pause of its replica held back.
    pub(super) fn on_member_poll(&mut self, id: MemberId) {
        self.logs.members[id.0 as usize].polls_at_pause_end = false;
        self.poll(id);
    }

    /// The service and replica member `id` lives on.
    pub(super) fn member_replica(&self, id: MemberId) -> (usize, usize) {
        let mem = &self.logs.members[id.0 as usize];
        let s = self.m.groups[mem.group as usize].service.index();
        (s, mem.replica as usize)
    }

    /// Whether member `id`'s replica can give it a thread now.
    fn member_can_take(&self, id: MemberId) -> bool {
        let mem = &self.logs.members[id.0 as usize];
        let s = (self.m.groups[mem.group as usize].service).index();
        let rep = &self.replicas[s][mem.replica as usize];
        rep.busy + rep.lost < self.m.services[s].threads
            && rep.crashed == 0
            && rep.hung == 0
            && !rep.life.down
            && rep.queued() == 0
    }

    /// Member `id` processes the next record of its batch, or commits.
    fn process_next(&mut self, id: MemberId) {
        let mi = id.0 as usize;
        let Some(b) = self.logs.members[mi].batch else {
            return;
        };
        if b.next == b.to {
            return self.commit(id);
        }
        if !self.member_can_take(id) {
            self.logs.members[mi].wants_thread = true;
            return;
        }
        self.logs.members[mi].wants_thread = false;
        let g = self.logs.members[mi].group as usize;
        let (s, op) = (self.m.groups[g].service, self.m.groups[g].consumer);
        let r = self.logs.members[mi].replica;
        let now = self.now;
        #[cfg(test)]
        self.logs.trace.push((now, g as u32, b.partition, b.next));
        let o = &mut self.logs.groups[g].parts[b.partition as usize];
        if b.next >= o.started {
            o.started = b.next + 1;
            let l = self.m.groups[g].log as usize;
            let produced = self.logs.logs[l].partitions[b.partition as usize]
                .get(b.next)
                .map_or(now, |r| r.produced);
            self.rec.logs.waited(g, now - produced);
        }
        let parent = Parent::Record {
            member: id,
            generation: self.logs.members[mi].generation,
        };
        let j = self.alloc_consumer_job(s, op, parent, crate::patterns::Criticality::Default);
        let job = &mut self.jobs[j];
        job.replica = r;
        job.state = JobState::Running;
        job.t_arrive = now;
        job.t_start = now;
        let job_gen = job.generation;
        self.logs.members[mi].running = Some((j, job_gen));
        let i = j.0 as usize;
        if self.logs.job_record.len() <= i {
            self.logs
                .job_record
                .resize(self.jobs.len().max(i + 1), RecordRef::default());
        }
        let l = self.m.groups[g].log as usize;
        let poison = self.logs.logs[l].partitions[b.partition as usize]
            .get(b.next)
            .is_some_and(|r| r.poison);
        self.logs.job_record[i] = RecordRef {
            partition: b.partition,
            offset: b.next,
            poison,
        };
        self.replicas[s][r as usize].busy += 1;
        self.rec.count_arrival(s.index());
        self.rec.add_busy(s.index(), now, 1);
        self.rec.services[s].record_wait(now, 0);
        if self.memory_changed(s.index(), r as usize) {
            return; // killed, with this record's processing
        }
        if self.m.services[s].memory.is_some() {
            self.allocate(s.index(), r as usize);
        }
        // At this instant (after the batch's cost, if it has one to pay),
        // by an event: no recursion through a batch.
        let cost = self.batch_cost_due(id);
        self.schedule(
            now + cost,
            Ev::Delivered {
                job: j,
                generation: job_gen,
            },
        );
    }

    /// A thread of replica `r` of service `s` went idle: members there
    /// waiting for one take it, in member order.
    pub(super) fn log_pull(&mut self, s: usize, r: u32) {
        for k in 0..self.logs.by_replica[s][r as usize].len() {
            let id = self.logs.by_replica[s][r as usize][k];
            let mem = &self.logs.members[id.0 as usize];
            if mem.wants_thread && mem.running.is_none() {
                self.process_next(id);
            }
        }
    }

    /// A record's processing ended (its thread already released).
    pub(super) fn record_done(
        &mut self,
        _job: Job,
        id: MemberId,
        generation: u32,
        outcome: Outcome,
    ) {
        let mi = id.0 as usize;
        // A member runs one record at a time: this job is its `running`.
        let (j, _) = self.logs.members[mi]
            .running
            .take()
            .expect("a record job is its member's running job");
        let g = self.logs.members[mi].group as usize;
        let l = self.m.groups[g].log as usize;
        let RecordRef {
            partition: p,
            offset,
            poison,
        } = self.logs.job_record[j.0 as usize];
        let ok = outcome.is_success() && !poison;
        let current = self.logs.is_current(id, generation);
        if matches!(outcome, Outcome::Refused | Outcome::Reset) {
            // Cut off by a crash: nothing was processed; the membership
            // change gives the batch back.
            return;
        }
        let o = &mut self.logs.groups[g].parts[p as usize];
        if ok {
            if offset < o.high_water {
                self.rec.logs.groups[g].duplicates += 1;
            }
            o.high_water = o.high_water.max(offset + 1);
        }
        if !current {
            if ok {
                self.rec.logs.groups[g].late += 1;
            }
            self.rejoin_if_evicted(id);
            return self.poll(id);
        }
        if ok {
            self.rec.logs.groups[g].consumed += 1;
            self.unblock(g, p as usize);
            self.advance(id);
            return self.process_next(id);
        }
        self.rec.logs.groups[g].failures += 1;
        match self.m.groups[g].on_failure {
            OnFailure::RetryInPlace { backoff } => {
                let o = &mut self.logs.groups[g].parts[p as usize];
                if o.blocked_since == NEVER {
                    o.blocked_since = self.now;
                }
                self.logs.members[mi].backing_off = true;
                self.schedule_after(
                    backoff,
                    Ev::LogRetry {
                        member: id,
                        generation,
                    },
                );
            }
            OnFailure::RetryLog(to) => {
                let rec = self.logs.logs[l].partitions[p as usize]
                    .get(offset)
                    .copied()
                    .expect("a batch holds its records");
                self.rec.logs.groups[g].moved_to_retry += 1;
                self.handled(g, p as usize, offset);
                self.append(to as usize, rec.key, rec.poison);
                self.advance(id);
                self.process_next(id);
            }
            OnFailure::DeadLetter(to) => {
                let rec = self.logs.logs[l].partitions[p as usize]
                    .get(offset)
                    .copied()
                    .expect("a batch holds its records");
                self.rec.logs.groups[g].dead_lettered += 1;
                self.handled(g, p as usize, offset);
                if let Some(b) = &mut self.logs.members[mi].batch {
                    b.dead += 1;
                }
                self.logs.backlog -= 1;
                if let Some(to) = to {
                    // Its consumer is another handler: not poison there.
                    self.append(to as usize, rec.key, false);
                }
                self.advance(id);
                self.process_next(id);
            }
        }
    }

    /// A failed record's partition is no longer blocked behind it.
    fn unblock(&mut self, g: usize, p: usize) {
        let o = &mut self.logs.groups[g].parts[p];
        if o.blocked_since != NEVER {
            let t = self.now - o.blocked_since;
            o.blocked_since = NEVER;
            self.rec.logs.groups[g].hol_blocked_ns += t;
        }
    }

    fn handled(&mut self, g: usize, p: usize, offset: u64) {
        self.unblock(g, p);
        let o = &mut self.logs.groups[g].parts[p];
        o.high_water = o.high_water.max(offset + 1);
    }

    fn advance(&mut self, id: MemberId) {
        if let Some(b) = &mut self.logs.members[id.0 as usize].batch {
            b.next += 1;
        }
    }

    /// A retry-in-place backoff is over: the same record again.
    pub(super) fn on_log_retry(&mut self, id: MemberId, generation: u32) {
        let mem = &mut self.logs.members[id.0 as usize];
        mem.backing_off = false;
        if mem.generation == generation && mem.batch.is_some() {
            self.process_next(id);
        } else {
            self.rejoin_if_evicted(id);
            self.poll(id);
        }
    }

    /// The member's batch is done: its offsets are committed.
    fn commit(&mut self, id: MemberId) {
        let mi = id.0 as usize;
        let b = self.logs.members[mi].batch.take().expect("a batch");
        let g = self.logs.members[mi].group as usize;
        let l = self.m.groups[g].log as usize;
        let o = &mut self.logs.groups[g].parts[b.partition as usize];
        o.committed = o.position.max(b.to);
        let n = b.to - b.from - b.dead;
        self.logs.backlog -= n;
        self.rec.logs.groups[g].committed += n;
        self.trim(l, b.partition as usize);
        self.poll(id);
    }

    /// Member `id`'s batch stops counting: the records it finished are
    /// committed if `keep` (a live member at a rebalance), and the rest
    /// goes back to the partition (whatever retention deleted meanwhile is
    /// lost).
    fn give_back(&mut self, id: MemberId, keep: bool) {
        let mi = id.0 as usize;
        let mem = &mut self.logs.members[mi];
        mem.generation = mem.generation.wrapping_add(1);
        mem.wants_thread = false;
        let Some(b) = mem.batch.take() else {
            return;
        };
        let g = mem.group as usize;
        let l = self.m.groups[g].log as usize;
        let p = b.partition as usize;
        let resume = if keep { b.next } else { b.from };
        let start = self.logs.logs[l].partitions[p].start;
        let done = resume - b.from - if keep { b.dead } else { 0 };
        if !keep {
            // The batch is handled again, dead letters included: they are
            // counted when that handling commits (the dead-letter log got
            // its copy already, as a real consumer's would).
            self.rec.logs.groups[g].dead_lettered -= b.dead;
            self.logs.backlog += b.dead;
        }
        self.logs.backlog -= done;
        self.rec.logs.groups[g].committed += done;
        let o = &mut self.logs.groups[g].parts[p];
        if start > resume {
            let lost = start.min(b.to) - resume;
            self.logs.backlog -= lost;
            self.rec.logs.lost(g, lost);
        }
        o.committed = resume.max(start);
        o.position = o.committed;
        #[cfg(test)]
        self.logs
            .trace
            .push((self.now, g as u32, b.partition, o.committed | REWIND));
        self.trim(l, p);
    }

    fn rejoin_if_evicted(&mut self, id: MemberId) {
        let mem = &mut self.logs.members[id.0 as usize];
        if mem.evicted && mem.running.is_none() && !mem.backing_off {
            mem.evicted = false;
            let g = mem.group as usize;
            self.rebalance(g);
        }
    }

    /// A member's batch ran past `max_poll_interval`: it is evicted, its
    /// commit fails and the batch goes to the next owner.
    pub(super) fn on_poll_timeout(&mut self, id: MemberId, generation: u32) {
        if !self.logs.is_current(id, generation) {
            return;
        }
        let g = self.logs.members[id.0 as usize].group as usize;
        self.rec.logs.groups[g].evictions += 1;
        self.give_back(id, false);
        self.logs.members[id.0 as usize].evicted = true;
        self.rebalance(g);
        self.rejoin_if_evicted(id);
    }

    /// The whole group stops for its rebalance pause; partitions are
    /// assigned again to the live members.
    fn rebalance(&mut self, g: usize) {
        let now = self.now;
        let pause = self.m.groups[g].rebalance;
        let until = now.saturating_add(pause);
        let before = self.logs.groups[g].paused_until;
        let added = until - before.max(now).min(until);
        let st = &mut self.rec.logs.groups[g];
        st.rebalances += 1;
        st.rebalancing_ns += added;
        self.logs.groups[g].paused_until = until.max(before);
        for i in self.logs.group_members(g) {
            let id = MemberId(i as u32);
            let alive = self.logs.members[i].alive && !self.logs.members[i].evicted;
            if self.logs.members[i].batch.is_some() {
                self.give_back(id, alive);
            }
        }
        self.logs.assign(g);
        let at = self.logs.groups[g].paused_until;
        self.schedule(at, Ev::LogPoll { group: g as u32 });
    }

    /// A rebalance pause may be over: every member polls.
    pub(super) fn on_log_poll(&mut self, g: usize) {
        if self.logs.groups[g].paused_until > self.now {
            return;
        }
        for i in self.logs.group_members(g) {
            self.poll(MemberId(i as u32));
        }
    }

    /// Replicas of service `s` went down or came back: members there join
    /// or leave their groups (a rebalance each).
    pub(super) fn log_membership(&mut self, s: usize) {
        let mut changed: Vec<usize> = Vec::new();
        for k in 0..self.logs.by_service[s].len() {
            let id = self.logs.by_service[s][k];
            let mem = &self.logs.members[id.0 as usize];
            let rep = &self.replicas[s][mem.replica as usize];
            let running = rep.crashed == 0 && !rep.life.down;
            let up = running && self.in_service(s, mem.replica as usize);
            if up != mem.alive {
                let g = mem.group as usize;
                if !up {
                    // A replica scaled away leaves gracefully: it commits
                    // what it finished (its record in progress runs on).
                    self.give_back(id, running);
                }
                let mem = &mut self.logs.members[id.0 as usize];
                mem.alive = up;
                if !running {
                    mem.running = None;
                }
                mem.backing_off = false;
                if !changed.contains(&g) {
                    changed.push(g);
                }
            }
        }
        for g in changed {
            self.rebalance(g);
        }
        if self.rt[s] & super::RT_SCALE != 0 {
            self.count_members(s);
        }
    }

    /// Gauges at a window's end: per group, records not yet consumed and
    /// the age of the oldest; per partition, its lag.
    pub(super) fn sample_logs(&mut self) {
        let now = self.now;
        for g in 0..self.logs.groups.len() {
            let l = self.m.groups[g].log as usize;
            let mut age = 0;
            for p in 0..self.logs.groups[g].parts.len() {
                let o = self.logs.groups[g].parts[p];
                let part = &self.logs.logs[l].partitions[p];
                let from = o.committed.max(part.start);
                let lag = part.end - from;
                if let Some(r) = part.get(from)
                    && lag > 0
                {
                    age = age.max(now - r.produced);
                }
                self.rec.logs.set_lag(g, p, lag);
            }
            let paused = self.logs.groups[g].paused_until > now;
            self.rec.logs.set_age(g, age, paused);
        }
    }

    /// The end-of-run check: per group, every record produced is
    /// committed, still in the log, lost to retention or dead-lettered.
    /// Partitions still blocked behind a failing record count their
    /// blocked time up to the end.
    pub(super) fn log_totals(&mut self) -> Vec<u64> {
        for g in 0..self.logs.groups.len() {
            for p in 0..self.logs.groups[g].parts.len() {
                self.unblock(g, p);
            }
        }
        (0..self.logs.groups.len())
            .map(|g| self.logs.pending_of(self.m.groups[g].log as usize, g))
            .collect()
    }
}

#[path = "log_batch.rs"]
mod batch;

#[path = "log_scaling.rs"]
mod scaling;

#[cfg(test)]
#[path = "log_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "log_pipeline.rs"]
mod log_pipeline;
