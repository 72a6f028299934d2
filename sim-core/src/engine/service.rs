//! Services: admission at the door, load balancing over replicas, thread
//! pools and accept queues, and a job's walk through its steps. (Past 600
//! lines because admission and the step walk share each replica's state;
//! dropped connections live in `connect`, cache steps in `cache`, the
//! balancers' pick of a replica in `balance`.)
//!
//! Owns each replica's live state (threads busy, accept queue, fault
//! effects, admission limiters) and the held-thread rule: a job holds its
//! thread from start to answer, across every synchronous call. Must not
//! decide how a call's answer comes back (that is `call` and `network`).

use super::World;
use super::accept::AcceptQueue;
use super::cpu::Cpu;
use super::event::Ev;
use super::event_loop::Loops;
use super::ids::JobId;
use super::memory::Life;
use super::records::{Caller, Job, JobState, Parent};
use crate::model::{Service, Step, UNBOUNDED};
use crate::outcome::Outcome;
use crate::patterns::{ConcurrencyLimiter, Criticality, RateLimiter};

use crate::time::Nanos;

/// Laid out hot first (`repr(C)`, one cache line each): what admission
/// and a job's start read (threads, faults, limiters, pause, slowdown,
/// CPU, free loops and the accept queue's count, `waiting`), then the
/// accept queue, then the event loop's and memory's state. At
/// thousands of services a replica is rarely in cache when a request
/// arrives, so every line its hot path touches is a miss.
#[repr(C, align(64))]
pub(super) struct Replica {
    pub busy: u32,
    pub crashed: u32,
    pub hung: u32,
    /// Threads lost to a `lost_threads` fault.
    pub lost: u32,
    /// Boxed: a replica without a limiter pays one word for it.
    rate: Option<Box<RateLimiter>>,
    pub limiter: Option<Box<ConcurrencyLimiter>>,
    /// End of the stop-the-world pause in force (0 when none).
    pub paused_until: Nanos,
    pub slowdown: f64,
    /// Its processor-sharing CPU (`World::cpus`): its own cores, or its
    /// node's.
    pub cpu: Option<u32>,
    /// Event loop: loops free (neither running a continuation nor handed
    /// to the run queue's head), read by every continuation; the rest of
    /// the loops' state is `loops`.
    pub loops_free: u32,
    /// Requests in `queue`, kept on this line: admission and a thread's
    /// release read it, and read the queue's own line only when a request
    /// queues or something waits (changed only through the methods
    /// below).
    waiting: u32,
    queue: AcceptQueue,
    pub loops: Loops,
    /// Memory, OOM kills, restarts and GC.
    pub life: Life,
}

/// The replicas of `s`, idle; a replica with its own `cores` adds its CPU
/// to `cpus`, one on a node uses the node's (`cpus[node]`).
pub(super) fn replicas(s: &Service, cpus: &mut Vec<Cpu>) -> Vec<Replica> {
    (0..s.replicas)
        .map(|_| Replica {
            cpu: match (s.node, s.cores) {
                (Some(node), _) => Some(node),
                (None, Some(cores)) => {
                    cpus.push(Cpu::new(cores));
                    Some((cpus.len() - 1) as u32)
                }
                (None, None) => None,
            },
            busy: 0,
            waiting: 0,
            queue: AcceptQueue::new(
                if s.queue == UNBOUNDED {
                    1024
                } else {
                    s.queue.min(1024) as usize
                },
                s.admission.priority_queue,
            ),
            crashed: 0,
            hung: 0,
            lost: 0,
            paused_until: 0,
            slowdown: 1.0,
            rate: s
                .admission
                .rate_limit
                .map(|c| Box::new(RateLimiter::new(c))),
            limiter: s
                .admission
                .concurrency_limit
                .map(|c| Box::new(ConcurrencyLimiter::new(c))),
            loops_free: s.loops().unwrap_or(0),
            loops: Loops::default(),
            life: Life::default(),
        })
        .collect()
}

impl Replica {
    /// Requests waiting in the accept queue.
    #[inline(always)]
    pub fn queued(&self) -> u32 {
        self.waiting
    }

    #[inline(always)]
    pub fn enqueue(&mut self, j: JobId, class: Criticality) {
        self.queue.push_back(j, class);
        self.waiting += 1;
        debug_assert_eq!(self.waiting as usize, self.queue.len());
    }

    /// The next request to serve, if any (an empty queue's line unread).
    #[inline(always)]
    pub fn dequeue(&mut self) -> Option<JobId> {
        if self.waiting == 0 {
            return None;
        }
        self.waiting -= 1;
        let next = self.queue.pop_front();
        debug_assert_eq!(self.waiting as usize, self.queue.len());
        next
    }

    /// Of a priority queue, the newest request of the least important
    /// class below `class`, taken out to make room
    /// (`AcceptQueue::evict_below`).
    pub fn evict_below(&mut self, class: Criticality) -> Option<JobId> {
        let victim = self.queue.evict_below(class);
        if victim.is_some() {
            self.waiting -= 1;
        }
        debug_assert_eq!(self.waiting as usize, self.queue.len());
        victim
    }

    /// Empties the accept queue (its requests are dropped by the caller).
    pub fn clear_queue(&mut self) {
        self.queue.clear();
        self.waiting = 0;
        debug_assert_eq!(self.waiting as usize, self.queue.len());
    }
}

impl World<'_> {
    /// A job reaches its service: admission, then a thread, a queue slot,
    /// or a refusal.
    pub(super) fn on_arrive(&mut self, j: JobId) {
        if self.zoning.is_some() {
            return self.arrive_zoned(j);
        }
        let s = self.jobs[j].service.index();
        let r = self.pick_replica(s);
        self.jobs[j].replica = r;
        self.rec.count_arrival(s);
        self.admit(j);
    }

    /// Job `j` at its replica's door: admission, then a thread, a queue
    /// slot, or a refusal (or a dropped connection).
    #[inline(always)]
    pub(super) fn admit(&mut self, j: JobId) {
        let now = self.now;
        let job = &mut self.jobs[j];
        let (s, r) = (job.service.index(), job.replica);
        job.t_arrive = now;
        let door = self.doors[s];
        let threads = door.threads;
        let capacity = u64::from(door.queue_slots);
        let rep = &mut self.replicas[s][r as usize];
        // Down, or restarted and not ready yet: connection refused.
        if rep.crashed > 0
            || (self.rt[s] & super::RT_MEMORY != 0 && (rep.life.down || rep.life.ready_at > now))
        {
            self.rec.count_rejected(s, true);
            self.refuse(j, Outcome::Refused);
            return;
        }
        if rep.hung > 0 {
            // A black hole: accepted, never answered.
            self.rec.services[s].blackholed += 1;
            if job.connecting {
                self.connected(j);
            }
            self.jobs.free(j);
            return;
        }
        if let Some(rl) = &mut rep.rate
            && !rl.try_acquire(now)
        {
            self.rec.services[s].rate_limited += 1;
            self.refuse(j, Outcome::Rejected);
            return;
        }
        if let Some(l) = &rep.limiter
            && !l.admits(rep.busy + rep.queued())
        {
            self.rec.services[s].concurrency_limited += 1;
            self.refuse(j, Outcome::Rejected);
            return;
        }
        let class = job.class;
        if rep.busy + rep.queued() >= door.shed_in_flight[class.index()] {
            // Too busy for this class: shed at the door.
            self.rec.services[s].shed += 1;
            self.refuse(j, Outcome::Rejected);
            return;
        }
        if rep.busy + rep.lost < threads {
            rep.busy += 1;
            job.state = JobState::Running;
            self.rec.add_busy(s, now, 1);
            if job.connecting {
                self.connected(j);
            }
            if self.memory_changed(s, r as usize) {
                return; // killed, with this request
            }
            self.start_job(j);
        } else if u64::from(rep.queued()) < capacity {
            rep.enqueue(j, class);
            job.state = JobState::Queued;
            self.rec.add_queued(s, now, 1);
            if job.connecting {
                self.connected(j);
            }
            self.memory_changed(s, r as usize);
        } else if let Some(victim) = rep.evict_below(class) {
            // A full priority queue makes room: the newest of the least
            // important requests waiting is shed for this one.
            rep.enqueue(j, class);
            job.state = JobState::Queued;
            if job.connecting {
                self.connected(j);
            }
            self.rec.services[s].shed += 1;
            self.refuse(victim, Outcome::Rejected);
        } else if door.drops_when_full {
            self.drop_connection(j);
        } else {
            self.rec.count_rejected(s, false);
            self.refuse(j, Outcome::Rejected);
        }
    }

    /// Answers a job that never ran.
    pub(super) fn refuse(&mut self, j: JobId, outcome: Outcome) {
        let job = self.jobs[j];
        self.trace_job_end(j, outcome);
        self.jobs.free(j);
        self.answer(job, outcome);
    }

    /// The job's outcome goes to whoever waits for it: a caller's attempt,
    /// or the broker that delivered it.
    // Once per job (three call sites): inline, so a source's answer goes
    // straight to its arm.
    #[inline(always)]
    pub(super) fn answer(&mut self, job: Job, outcome: Outcome) {
        if (!self.outliers.is_empty() || self.zoning.is_some())
            && self.answer_observed(job, outcome)
        {
            return;
        }
        match job.parent {
            Parent::Message { msg, generation } => {
                self.consumer_done(job, msg, generation, outcome)
            }
            Parent::Record { member, generation } => {
                self.record_done(job, member, generation, outcome)
            }
            Parent::Client {
                attempt,
                generation,
            } => {
                let a = &self.attempts[attempt];
                if !(a.live && a.generation == generation) {
                    return;
                }
                if !self.source_hops {
                    return self.end_attempt(attempt, outcome);
                }
                let source = self.client_of[self.calls[a.call].spec as usize] as usize;
                match self.source_hop(source) {
                    None => self.end_attempt(attempt, outcome),
                    Some(hop) => self.schedule(
                        self.at(hop),
                        Ev::ClientReply {
                            attempt,
                            generation,
                            outcome,
                        },
                    ),
                }
            }
            Parent::Call {
                attempt,
                generation,
                edge,
            } => self.reply(attempt, generation, edge, outcome),
            Parent::Source { source, sent } => self.direct_answered(source, sent, outcome),
            Parent::Detached { ticket, generation } => {
                self.detached_done(ticket, generation, outcome)
            }
        }
    }

    /// The job takes a thread (already counted busy). A request whose
    /// deadline has passed is dropped at once.
    pub(super) fn start_job(&mut self, j: JobId) {
        let now = self.now;
        let job = &mut self.jobs[j];
        job.state = JobState::Running;
        job.t_start = now;
        let s = job.service.index();
        let (arrived, deadline, replica, mode) =
            (job.t_arrive, job.deadline, job.replica, job.mode);
        self.rec.services[s].record_wait(arrived, now - arrived);
        use super::records::{FRESH, GC_JOB, OFF_LOOP, ON_LOOP, ROOMY_JOB};
        if now >= deadline {
            self.rec.services[s].deadline_dropped += 1;
            self.complete_job(j, Outcome::Timeout);
            if mode & FRESH != 0 {
                // Dropped as it took its fresh loop: given back at once,
                // it was no continuation (none is on other loops).
                self.not_a_continuation(s);
            }
            return;
        }
        // A thread-pool job, or one on loops that cover the connections
        // (without GC): it holds its fresh loop from the outset (taken at
        // `t_start`: a bit, counted at the give-back, see `event_loop`'s
        // `RoomyLoops` and `records::with_start_mode`).
        if mode & (OFF_LOOP | GC_JOB) == 0 {
            return self.run_steps(j);
        }
        if mode & (GC_JOB | ROOMY_JOB) == ROOMY_JOB {
            // (A request job starts on its fresh loop already; this takes
            // one for any other.)
            self.jobs[j].mode = mode ^ (OFF_LOOP | ON_LOOP | FRESH);
            return self.run_steps(j);
        }
        if mode & GC_JOB == 0 {
            return self.start_on_loop(j);
        }
        self.allocate(s, replica as usize);
        self.proceed_runtime(j);
    }

    /// A work step ended; in a stopped world (a pause) it ends when the
    /// pause does.
    pub(super) fn on_work_done(&mut self, j: JobId, generation: u32) {
        let job = self.jobs[j];
        let (s, r) = (job.service.index(), job.replica as usize);
        let until = self.replicas[s][r].paused_until;
        if until > self.now {
            self.schedule(until, Ev::WorkDone { job: j, generation });
            return;
        }
        // A work step (not a publish's ack, which is the broker's time)
        // makes no progress during GC pauses.
        if self.stw_applies(s)
            && matches!(
                self.m.steps[job.step as usize],
                Step::Work(_) | Step::Blocking(_)
            )
            && let Some(t) = self.stw_owed(j, s, r)
        {
            self.schedule(t, Ev::WorkDone { job: j, generation });
            return;
        }
        self.trace_step_end(j);
        self.jobs[j].step += 1;
        self.proceed(j);
    }

    /// The factor on a timed step of a service with runtime features or
    /// a scoped slowdown in force: `work_law`, a cold start and GC marks
    /// (CPU work only), and slowdowns scoped to this step (any kind).
    fn runtime_work_factor(&mut self, j: JobId, s: usize, r: usize, wait: bool) -> f64 {
        let mut f = 1.0;
        if self.rt[s] & super::RT_SCOPED != 0 {
            f *= self.scoped_slowdown(self.jobs[j].step, r as u32);
        }
        if wait {
            return f;
        }
        if let Some(k) = self.m.services[s].work_per_in_flight {
            // Fixed when the step starts (Brooker's law), not shared as
            // the load changes (that is `cores`).
            let others = self.replicas[s][r].busy.saturating_sub(1);
            f *= 1.0 + k * f64::from(others);
        }
        if self.rt[s] & (super::RT_MEMORY | super::RT_SCALE) != 0 {
            f *= self.cold_factor(s, r);
            if self.stw_applies(s) {
                self.mark_work_start(j, s, r);
            }
        }
        f
    }

    /// Whether GC pauses stop this service's work.
    #[inline]
    fn stw_applies(&self, s: usize) -> bool {
        self.rt[s] & super::RT_GC != 0
    }

    /// Runs the job from its current step until it must wait. Branch
    /// points and jumps take no time: the job goes straight on.
    pub(super) fn run_steps(&mut self, j: JobId) {
        loop {
            // Only the fields every step reads: a work step (the common
            // one) needs no copy of the whole job.
            let job = &self.jobs[j];
            let (at, service) = (job.step, job.service);
            if at == job.end_step {
                let outcome = if job.degraded {
                    Outcome::Degraded
                } else {
                    Outcome::Ok
                };
                self.complete_job(j, outcome);
                return;
            }
            if self.now >= job.deadline {
                self.rec.services[service].deadline_dropped += 1;
                self.complete_job(j, Outcome::Timeout);
                return;
            }
            self.trace_step(j);
            let step = self.m.steps[at as usize];
            match step {
                Step::Work(d) | Step::Blocking(d) => {
                    let s = service.index();
                    let mut t = self.m.dists[d as usize].sample(&mut self.work_rng[s]);
                    let job = &self.jobs[j];
                    let (r, generation) = (job.replica as usize, job.generation);
                    let mut f = self.replicas[s][r].slowdown;
                    // (An event loop's flag alone changes no factor.)
                    if self.rt[s] & super::RT_WORK != 0 {
                        f *= self.runtime_work_factor(j, s, r, false);
                    }
                    if f != 1.0 {
                        t = (t as f64 * f).round() as Nanos;
                    }
                    // (Only event loops have blocking steps: the scenario
                    // check refuses them on a thread pool.)
                    if matches!(step, Step::Blocking(_)) {
                        self.rec.runtime[s]
                            .as_mut()
                            .expect("event loops are measured")
                            .add_blocking(t);
                    }
                    if let Some(cpu) = self.replicas[s][r].cpu {
                        self.start_cpu_work(cpu as usize, j, t);
                    } else {
                        self.schedule(self.at(t), Ev::WorkDone { job: j, generation });
                    }
                    if self.prefetching {
                        self.prefetch_after_work(j);
                    }
                    return;
                }
                _ => {
                    if !self.run_other_step(j, step) {
                        return;
                    }
                }
            }
        }
    }

    /// Every step but work: whether the job goes straight on (`true`) or
    /// waits.
    fn run_other_step(&mut self, j: JobId, step: Step) -> bool {
        let job = self.jobs[j];
        match step {
            Step::Branch(b) => {
                let branch = &self.m.branches[b as usize];
                let u: f64 = rand::RngExt::random(&mut self.branch_rng[b as usize]);
                let arm = branch
                    .cumulative
                    .partition_point(|c| *c <= u)
                    .min(branch.first.len() - 1);
                self.jobs[j].step = branch.first[arm];
                return true;
            }
            Step::Jump(to) => {
                self.jobs[j].step = to;
                return true;
            }
            Step::Cache(c) => return self.cache_lookup(j, job, c),
            Step::Fill(c) => {
                self.cache_fill(j, job, c);
                self.jobs[j].step += 1;
                return true;
            }
            // `run_steps` starts work itself: going on takes it there.
            Step::Work(_) | Step::Blocking(_) => return true,
            Step::Wait(d) => self.start_wait(j, job, d),
            Step::Call(c) => {
                self.jobs[j].pending = 1;
                // (The test `yield_loop` makes, before the call: on a
                // loop, the call may lend it, see `call_from_loop`.)
                if job.mode & super::records::ON_LOOP == 0 {
                    self.call_from_job(j, c);
                } else {
                    self.call_from_loop(j, job, c);
                }
            }
            Step::Publish(p) => {
                self.publish_step(j, p);
                self.yield_loop(j, job);
            }
            Step::Saga(site) => {
                self.saga_start(j, site);
                self.yield_loop(j, job);
            }
            Step::Accept => return self.accept_step(j),
            Step::Read(i) => return self.store_read(j, job, i),
            Step::Write(i) => return self.store_write(j, job, i),
            Step::Parallel { first, count } => {
                self.jobs[j].pending = count;
                for c in first..first + count {
                    if self.jobs[j].generation != job.generation {
                        break; // the job already failed and answered
                    }
                    self.call_from_job(j, c);
                }
                self.yield_loop(j, job);
            }
        }
        false
    }

    /// An I/O wait: the worker is held (a thread; on an event loop the
    /// connection, while the loop moves on), no core is used, and only a
    /// slowdown scoped to this step stretches it.
    fn start_wait(&mut self, j: JobId, job: Job, d: u32) {
        let (s, r) = (job.service.index(), job.replica as usize);
        let mut t = self.m.dists[d as usize].sample(&mut self.work_rng[s]);
        if self.rt[s] & super::RT_SCOPED != 0 {
            let f = self.runtime_work_factor(j, s, r, true);
            t = (t as f64 * f).round() as Nanos;
        }
        let generation = job.generation;
        self.schedule(self.at(t), Ev::WorkDone { job: j, generation });
        self.yield_loop(j, job);
    }

    /// After a call, parallel or publish step started: a job on an event
    /// loop lets go of its loop while it waits — unless the step already
    /// ended (an answer at once) and the job went on holding it. (The
    /// test of the job as it was is inlined, which a thread-pool job
    /// pays, and the give-back on loops that cover the connections, a
    /// few instructions with no replica; the others' is not.)
    #[inline(always)]
    pub(super) fn yield_loop(&mut self, j: JobId, at_step: Job) {
        if at_step.mode & super::records::ON_LOOP != 0 {
            if at_step.mode & super::records::ROOMY_JOB != 0 {
                self.yield_roomy_loop(j, at_step);
            } else {
                self.yield_held_loop(j, at_step.generation, at_step.step);
            }
        }
    }

    #[inline(never)]
    fn yield_held_loop(&mut self, j: JobId, generation: u32, step: u32) {
        let now = &self.jobs[j];
        if now.generation == generation
            && now.step == step
            && now.mode & super::records::ON_LOOP != 0
        {
            self.let_go_of_loop(j);
        }
    }

    pub(super) fn call_from_job(&mut self, j: JobId, spec: u32) {
        let job = self.jobs[j];
        let caller = Caller::Job {
            job: j,
            generation: job.generation,
        };
        let call = self.alloc_call(caller, spec, job.replica, job.deadline, job.class);
        self.start_call(call);
    }

    /// A call of job `j`, sent at `sent`, ended with `outcome` (the caller
    /// is still waiting): the job goes on when its last pending call ends,
    /// or fails.
    pub(super) fn call_ended(&mut self, j: JobId, generation: u32, outcome: Outcome, sent: Nanos) {
        if self.at_saga(j) {
            return self.saga_call_ended(j, generation, outcome);
        }
        let job = &mut self.jobs[j];
        if job.generation != generation || job.state != JobState::Running {
            return; // the caller already answered (crash, or a failed sibling)
        }
        job.pending -= 1;
        if !outcome.is_success() {
            job.failed = true;
        }
        job.degraded |= outcome == Outcome::Degraded;
        if job.pending == 0 {
            if !job.failed {
                job.step += 1;
                // `proceed`, with the job at hand: a thread-pool job (or
                // one on its loop) goes on; one answering on roomy loops
                // answers (the common way back on an event loop).
                if job.mode & (super::records::OFF_LOOP | super::records::GC_JOB) == 0 {
                    if job.step == job.end_step {
                        // Its last step was the call: it answers, as
                        // `run_steps` would first thing (65 instructions
                        // fewer a request on M2).
                        let outcome = job.answer_outcome();
                        self.complete_job(j, outcome);
                    } else {
                        self.run_steps(j);
                    }
                } else if job.mode == super::records::LENT {
                    // Its fresh loop lent to the call (the common way back
                    // on an event loop): it answers, or goes on after the
                    // loop's give-back.
                    if job.step == job.end_step {
                        let (s, outcome, t_start) =
                            (job.service.index(), job.answer_outcome(), job.t_start);
                        self.answer_after_lent_loop(j, s, outcome, t_start, sent);
                    } else {
                        self.settle_lent_loop(j, sent);
                        self.proceed_runtime(j);
                    }
                } else if super::records::answers_on_roomy_loop(job) {
                    let (s, outcome) = (job.service.index(), job.answer_outcome());
                    self.answer_on_roomy_loop(j, s, outcome);
                } else {
                    self.proceed_runtime(j);
                }
            } else if job.mode == 0 {
                self.complete_job(j, Outcome::Error);
            } else {
                // The failure answer needs a loop, or waits for a GC
                // pause to end.
                if job.mode == super::records::LENT {
                    self.settle_lent_loop(j, sent);
                }
                self.proceed_runtime(j);
            }
        }
    }

    /// The job answers: its thread goes to the next queued request, and the
    /// answer travels back to the caller.
    pub(super) fn complete_job(&mut self, j: JobId, mut outcome: Outcome) {
        let job = self.jobs[j];
        if job.filling {
            self.abandon_fill(j, job);
        }
        let s = job.service.index();
        if outcome.is_success()
            && self.rt[s] & super::RT_FAULTED != 0
            && self.inject_error(s, job.replica, job.end_step)
        {
            outcome = Outcome::Error;
            self.rec.services[s].injected_errors += 1;
        }
        let orphan = !self.parent_waits(job.parent);
        self.rec.record_done(
            s,
            (job.t_arrive, job.t_start, self.now),
            orphan,
            job.abandoned_at,
        );
        let replica = job.replica as usize;
        let rep = &mut self.replicas[s][replica];
        let inflight = rep.busy + rep.queued();
        if let Some(l) = &mut rep.limiter {
            l.on_sample(
                self.now,
                self.now - job.t_arrive,
                inflight,
                !outcome.is_success(),
            );
        }
        // Its loop given back (the job is freed next: its mode need not
        // change): on loops that cover the connections to its service,
        // inline (a few instructions); else to its replica.
        if job.mode & super::records::ON_LOOP != 0 {
            if job.mode & super::records::ROOMY_JOB != 0 {
                self.give_back_roomy_loop(s, job.mode, job.t_start);
            } else {
                self.give_back_answered_loop(job.service, job.replica);
            }
        }
        self.trace_job_end(j, outcome);
        self.jobs.free(j);
        self.release_thread(s, replica);
        self.answer(job, outcome);
    }

    /// What outlier detection and zones see of an answer, kept out of
    /// `answer`'s inlined path; whether the answer went across zones
    /// (and is delivered there).
    #[inline(never)]
    fn answer_observed(&mut self, job: Job, outcome: Outcome) -> bool {
        if !self.outliers.is_empty() {
            self.outlier_answer(job, outcome);
        }
        self.zoning.is_some() && self.answer_across_zones(job, outcome)
    }

    /// The balancer sees the answers it still waits for (a timed-out
    /// attempt was counted when it timed out); a consumer's are not its.
    #[cold]
    fn outlier_answer(&mut self, job: Job, outcome: Outcome) {
        if !matches!(job.parent, Parent::Message { .. } | Parent::Detached { .. })
            && self.parent_waits(job.parent)
        {
            self.outlier_result(job.service.index(), job.replica as usize, outcome);
        }
    }

    /// Whether whoever sent a job still waits for its answer.
    #[inline]
    pub(super) fn parent_waits(&self, parent: Parent) -> bool {
        match parent {
            Parent::Message { msg, generation } => self.msg.is_in_flight(msg, generation),
            Parent::Record { member, generation } => self.logs.is_current(member, generation),
            Parent::Client {
                attempt,
                generation,
            }
            | Parent::Call {
                attempt,
                generation,
                ..
            } => {
                let a = self.attempts[attempt];
                let c = &self.calls[a.call];
                a.live && a.generation == generation && c.pending && c.generation == a.call_gen
            }
            // Nobody waits for an answer, but the work is wanted.
            Parent::Detached { .. } => true,
            // A client without a timeout waits as long as it takes.
            Parent::Source { .. } => true,
        }
    }

    /// A thread is free: the next queued request takes it (shedding those
    /// that waited too long), or it goes idle.
    fn release_thread(&mut self, s: usize, r: usize) {
        let now = self.now;
        let threads = self.doors[s].threads;
        loop {
            let rep = &mut self.replicas[s][r];
            let next = if rep.busy + rep.lost > threads {
                None
            } else {
                rep.dequeue()
            };
            match next {
                Some(next) => {
                    self.rec.add_queued(s, now, -1);
                    let next_job = &self.jobs[next];
                    // Read only when a job is taken: most completions find
                    // the queue empty, and the queue times reach into the
                    // service's second cache line in the model.
                    let shed_after = &self.m.services[s].admission.shed_queue_time;
                    if let Some(limit) = shed_after[next_job.class.index()]
                        && now - next_job.t_arrive > limit
                    {
                        self.rec.services[s].shed += 1;
                        self.refuse(next, Outcome::Rejected);
                        continue;
                    }
                    self.memory_changed(s, r);
                    self.start_job(next);
                }
                None => {
                    rep.busy -= 1;
                    self.rec.add_busy(s, now, -1);
                    self.memory_changed(s, r);
                    self.pull(s, r as u32);
                    if self.rt[s] & super::RT_SCALE != 0 {
                        self.drained_if_idle(s, r);
                    }
                }
            }
            return;
        }
    }

    /// Starts queued requests while the replica has free threads.
    pub(super) fn refill(&mut self, s: usize, r: usize) {
        let threads = self.doors[s].threads;
        loop {
            let rep = &mut self.replicas[s][r];
            if rep.busy + rep.lost >= threads {
                return;
            }
            let Some(next) = rep.dequeue() else {
                return self.pull(s, r as u32);
            };
            rep.busy += 1;
            let now = self.now;
            self.rec.add_queued(s, now, -1);
            self.rec.add_busy(s, now, 1);
            self.jobs[next].state = JobState::Running;
            if self.memory_changed(s, r) {
                return; // killed, with `next`
            }
            self.start_job(next);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Replica;
    use std::mem::offset_of;

    #[test]
    fn what_admission_and_a_release_read_is_on_a_replicas_first_line() {
        for end in [
            offset_of!(Replica, busy) + 4,
            offset_of!(Replica, lost) + 4,
            offset_of!(Replica, paused_until) + 8,
            offset_of!(Replica, slowdown) + 8,
            offset_of!(Replica, cpu) + 8,
            offset_of!(Replica, waiting) + 4,
        ] {
            assert!(end <= 64, "a hot field ends at byte {end}");
        }
        assert!(offset_of!(Replica, queue) >= 64);
    }
}
