//! The records of the synchronous world — jobs, calls, attempts — and
//! their allocation in the world's arenas.
//!
//! Owns the records' fields and how a new one starts; must not decide
//! anything about what happens to them (that is `service` and `call`).

use super::World;
use super::arena::Slot;
use super::ids::{AttemptId, CallId, JobId, MemberId, MsgId, TicketId};
use crate::model::{EdgeId, OpId, ServiceId};
use crate::outcome::Outcome;
use crate::patterns::{Criticality, Permit};
use crate::time::Nanos;

/// No deadline.
pub(super) const NEVER: Nanos = Nanos::MAX;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum JobState {
    Free,
    /// On the network towards its service.
    InFlight,
    Queued,
    /// Holding a thread (working, or waiting on calls).
    Running,
}

/// Whom a job answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Parent {
    /// A workload source's attempt: answered at once, no hop.
    Client { attempt: AttemptId, generation: u32 },
    /// A workload source's request sent straight to its entry service,
    /// with no call or attempt records (`source::direct`): nothing on the
    /// client's side (a pattern, a hop, a deadline, a poll) needs them.
    Source { source: u32, sent: Nanos },
    /// A caller's attempt along `edge`: the answer travels back along it
    /// even if the attempt's slot was reused meanwhile.
    Call {
        attempt: AttemptId,
        generation: u32,
        edge: EdgeId,
    },
    /// A broker's delivery of a message (a consumer job).
    Message { msg: MsgId, generation: u32 },
    /// A log record processed by a group member, in the member's batch of
    /// that generation (`log.rs`).
    Record { member: MemberId, generation: u32 },
    /// Nobody: the job answered `accepted` and goes on; its end settles
    /// the ticket its client polls, if any (`accepted.rs`).
    Detached { ticket: TicketId, generation: u32 },
}

/// One request's visit to one service replica.
#[derive(Clone, Copy, Debug)]
pub(super) struct Job {
    pub generation: u32,
    pub state: JobState,
    pub failed: bool,
    /// A call of this job was answered by a fallback.
    pub degraded: bool,
    pub service: ServiceId,
    pub replica: u32,
    /// Absolute index into `model.steps` of the current step.
    pub step: u32,
    pub end_step: u32,
    /// Calls still awaited by the current step.
    pub pending: u32,
    pub parent: Parent,
    pub t_arrive: Nanos,
    pub t_start: Nanos,
    /// Propagated deadline (`NEVER` when the request carries none).
    pub deadline: Nanos,
    /// When the caller's attempt timed out while this job was alive.
    pub abandoned_at: Nanos,
    /// Waiting at a `publish` step for queue space or for the broker.
    pub blocked: bool,
    /// What `proceed` must look at before the job goes on (`event_loop`'s
    /// `ON_LOOP`, `OFF_LOOP` and `GC_JOB` bits; `ROOMY_JOB` and `FRESH`
    /// say where its loop is counted): 0 for a thread-pool job
    /// without GC, which goes on at once; `ON_LOOP` alone for an
    /// event-loop job holding one of its replica's loops, which does too.
    /// Kept in the job, which every continuation reads anyway, so
    /// neither asks its service's flags.
    pub mode: u8,
    /// Times its connection was dropped by a full backlog (and sent again).
    pub syn: u8,
    /// Its caller has a split timeout: the callee's acceptance voids the
    /// connect timer and starts the read timer.
    pub connecting: bool,
    /// Its miss is the one a coalescing cache's other misses on the key
    /// wait for: its end without a fill fails them.
    pub filling: bool,
    /// The criticality of the request it serves.
    pub class: Criticality,
}

impl Slot for Job {
    fn generation(&self) -> u32 {
        self.generation
    }
    fn with_generation(self, generation: u32) -> Self {
        Job { generation, ..self }
    }
    fn retire(&mut self) {
        self.generation = self.generation.wrapping_add(1);
        self.state = JobState::Free;
    }
}

/// Who waits on a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Caller {
    /// A workload source (its index): a client request.
    Source(u32),
    /// A job's call step or parallel branch.
    Job { job: JobId, generation: u32 },
    /// A client's poll of the status of an accepted request.
    Poll { ticket: TicketId, generation: u32 },
}

/// A caller waiting on an answer: a job's call step, or a client request.
#[derive(Clone, Copy, Debug)]
pub(super) struct Call {
    pub generation: u32,
    pub pending: bool,
    pub caller: Caller,
    /// `model.calls[spec]`.
    pub spec: u32,
    /// Index of this call's pattern state (per call spec and caller replica).
    pub slot: u32,
    pub t_sent: Nanos,
    /// When the current try's first (unhedged) attempt started: a hedged
    /// call's latency as it would be without hedging is measured from here.
    pub try_started: Nanos,
    /// Deadline the caller's request carries (`NEVER` if none).
    pub deadline: Nanos,
    pub attempts: u16,
    pub in_flight: u16,
    pub retries: u16,
    /// Where the call-level layers stopped (a bulkhead wait).
    pub stage: u8,
    pub holds_bulkhead: bool,
    pub breaker_permit: Option<Permit>,
    pub last_backoff: Nanos,
    /// The criticality of the request it serves (its callee inherits it).
    pub class: Criticality,
}

impl Slot for Call {
    fn generation(&self) -> u32 {
        self.generation
    }
    fn with_generation(self, generation: u32) -> Self {
        Call { generation, ..self }
    }
    fn retire(&mut self) {
        self.pending = false;
        self.generation = self.generation.wrapping_add(1);
    }
}

/// One request sent for a call.
#[derive(Clone, Copy, Debug)]
pub(super) struct Attempt {
    pub generation: u32,
    pub live: bool,
    pub call: CallId,
    pub call_gen: u32,
    pub t_start: Nanos,
    /// Where the attempt-level layers stopped (a bulkhead wait).
    pub stage: u8,
    pub holds_bulkhead: bool,
    pub breaker_permit: Option<Permit>,
    pub hedged: bool,
    /// The request left: a job exists at the callee.
    pub sent: bool,
    /// The attempt's own timeout, if armed (the callee's deadline).
    pub expires: Nanos,
    /// The callee's job, once sent.
    pub job: Option<(JobId, u32)>,
    /// The callee accepted the connection (split timeouts only).
    pub accepted: bool,
}

impl Slot for Attempt {
    fn generation(&self) -> u32 {
        self.generation
    }
    fn with_generation(self, generation: u32) -> Self {
        Attempt { generation, ..self }
    }
    fn retire(&mut self) {
        self.live = false;
        self.generation = self.generation.wrapping_add(1);
    }
}

impl World<'_> {
    /// Job `j`'s mark, kept beside the job (not in it, so the services
    /// without an event loop or GC copy no more bytes per job): when it
    /// entered an event loop's run queue, or the replica's stop-the-world
    /// time when its work step (re)started. A job is never in both at once.
    pub(super) fn mark(&mut self, j: JobId) -> &mut Nanos {
        let i = j.0 as usize;
        if self.marks.len() <= i {
            self.marks.resize(self.jobs.len().max(i + 1), 0);
        }
        &mut self.marks[i]
    }

    #[inline]
    pub(super) fn alloc_job(
        &mut self,
        service: ServiceId,
        op: OpId,
        parent: Parent,
        deadline: Nanos,
        class: Criticality,
    ) -> JobId {
        let o = &self.m.ops[op as usize];
        let id = self.jobs.alloc(Job {
            generation: 0,
            state: JobState::InFlight,
            failed: false,
            degraded: false,
            service,
            replica: 0,
            step: o.first_step,
            end_step: o.first_step + o.step_count,
            pending: 0,
            parent,
            t_arrive: 0,
            // Not started (`NEVER`): what tells a job killed as it took
            // its place from a started one.
            t_start: NEVER,
            deadline,
            abandoned_at: NEVER,
            blocked: false,
            mode: start_mode(self.rt[service]),
            syn: 0,
            connecting: false,
            filling: false,
            class,
        });
        self.trace_job(id, op);
        id
    }

    /// A consumer's job (a broker's delivery, a log record): it runs when
    /// delivered (`proceed`), not through `start_job`, so on loops that
    /// cover the connections it starts off its loop, not on a fresh one.
    #[inline]
    pub(super) fn alloc_consumer_job(
        &mut self,
        service: ServiceId,
        op: OpId,
        parent: Parent,
        class: Criticality,
    ) -> JobId {
        let j = self.alloc_job(service, op, parent, NEVER, class);
        self.jobs[j].mode = job_mode(self.rt[service]);
        j
    }

    pub(super) fn alloc_call(
        &mut self,
        caller: Caller,
        spec: u32,
        caller_replica: u32,
        deadline: Nanos,
        class: Criticality,
    ) -> CallId {
        let slot = self.pattern_base[spec as usize] + caller_replica;
        let id = self.calls.alloc(Call {
            generation: 0,
            pending: true,
            caller,
            spec,
            slot,
            t_sent: self.now,
            try_started: self.now,
            deadline,
            attempts: 0,
            in_flight: 0,
            retries: 0,
            stage: 0,
            holds_bulkhead: false,
            breaker_permit: None,
            last_backoff: 0,
            class,
        });
        self.trace_call(id);
        id
    }

    pub(super) fn alloc_attempt(&mut self, call: CallId, hedged: bool) -> AttemptId {
        let call_gen = self.calls[call].generation;
        let id = self.attempts.alloc(Attempt {
            generation: 0,
            live: true,
            call,
            call_gen,
            t_start: self.now,
            stage: 0,
            holds_bulkhead: false,
            breaker_permit: None,
            hedged,
            sent: false,
            expires: NEVER,
            job: None,
            accepted: false,
        });
        self.trace_attempt(id);
        id
    }
}

/// `Job::mode`: an event-loop job holding no loop (the service flag's
/// value, so a new job's mode is its service's flags masked).
pub(super) const OFF_LOOP: u8 = super::RT_LOOP as u8;
/// `Job::mode`: an event-loop job holding one of its replica's loops.
pub(super) const ON_LOOP: u8 = 2;
/// `Job::mode`: its service has GC pauses (`stw` may set it aside).
pub(super) const GC_JOB: u8 = super::RT_GC as u8;
/// `Job::mode`: its event loop's loops cover its connections (`RT_ROOMY`).
pub(super) const ROOMY_JOB: u8 = super::RT_ROOMY as u8;
/// `Job::mode`: a job on loops that cover the connections (without GC)
/// holding the loop it took when it started, a take counted nowhere: its
/// time is the job's `t_start` (`event_loop`'s `RoomyLoops`). Set with
/// `ON_LOOP`, or with `OFF_LOOP` while the loop is lent to a call (`LENT`);
/// cleared when that loop's give-back is counted.
pub(super) const FRESH: u8 = 8;
/// `Job::mode` of a job that lent its fresh loop to the call it waits on
/// (`World::call_from_loop`), the loop's give-back not counted yet: off
/// its loop, on loops that cover the connections (without GC), `FRESH`
/// kept. (`FRESH` goes with `ON_LOOP` otherwise.)
pub(super) const LENT: u8 = ROOMY_JOB | OFF_LOOP | FRESH;
const _: () = assert!(
    ON_LOOP & (OFF_LOOP | GC_JOB | ROOMY_JOB | FRESH) == 0
        && OFF_LOOP & (GC_JOB | ROOMY_JOB | FRESH) == 0
        && GC_JOB & (ROOMY_JOB | FRESH) == 0
        && ROOMY_JOB & FRESH == 0
        && super::RT_LOOP < 0x100
        && super::RT_GC < 0x100
        && super::RT_ROOMY < 0x100
);

/// A new job's `mode` from its service's runtime flags: off its loop on
/// an event loop (roomy or not), marked on a service with GC, 0
/// otherwise.
#[inline(always)]
pub(super) fn job_mode(rt: u16) -> u8 {
    // (The three flags are in the low byte: the cast keeps them all.)
    (rt & u16::from(OFF_LOOP | GC_JOB | ROOMY_JOB)) as u8
}

/// Where a service's flags (`World::rt`) keep the `mode` a new request
/// job starts with (`start_mode`): above the flags themselves.
const START_SHIFT: u32 = 9;
const _: () = assert!(
    super::RT_ALL < 1 << START_SHIFT
        && (OFF_LOOP | ON_LOOP | GC_JOB | ROOMY_JOB | FRESH) as u16 >> (16 - START_SHIFT) == 0
);

/// A service's flags `rt` with the `mode` its request jobs start with
/// (`start_mode`) set above them: `job_mode`, except on loops that cover
/// the connections (without GC), where the job holds the fresh loop it
/// takes when it starts (`FRESH`) from the outset, so that `start_job`
/// tests one bit of it, as on a thread pool. (Until it starts, the loop
/// counts nowhere: nothing but `start_job` reads a request job's mode
/// before it runs, and a sync or a crash reads only started jobs'.)
pub(super) fn with_start_mode(rt: u16) -> u16 {
    let rt = rt & ((1 << START_SHIFT) - 1);
    let mut mode = job_mode(rt);
    if mode & (GC_JOB | ROOMY_JOB) == ROOMY_JOB {
        mode ^= OFF_LOOP | ON_LOOP | FRESH;
    }
    rt | u16::from(mode) << START_SHIFT
}

/// The `mode` a new request job of a service with flags `rt` starts with
/// (`with_start_mode`): as cheap as `job_mode`.
#[inline(always)]
pub(super) fn start_mode(rt: u16) -> u8 {
    (rt >> START_SHIFT) as u8
}

impl Job {
    /// What the job answers when it ends now, on an event loop: an error
    /// if a call of it failed, else degraded if a fallback answered one,
    /// else ok.
    #[inline(always)]
    pub fn answer_outcome(&self) -> Outcome {
        if self.failed {
            Outcome::Error
        } else if self.degraded {
            Outcome::Degraded
        } else {
            Outcome::Ok
        }
    }
}

/// Whether job `job`, ready to go on, is off its loop on loops that
/// cover the connections (no GC) with its steps done: it answers at once
/// (`World::answer_on_roomy_loop`).
#[inline(always)]
pub(super) fn answers_on_roomy_loop(job: &Job) -> bool {
    job.mode & (ROOMY_JOB | GC_JOB | ON_LOOP) == ROOMY_JOB && job.step == job.end_step
}
