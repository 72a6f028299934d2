//! What a stop-the-world GC pause freezes besides the work steps in
//! progress (those owe the pause through `memory`'s `stw_owed`):
//!
//! - the replica's processor-shared work: at the pause its jobs leave the
//!   CPU, each with the virtual work it has left, and come back at the
//!   pause's end (a job alone on its cores ends exactly a pause later;
//!   the replicas sharing a node's cores share them without it meanwhile);
//!   a work step that would start in a pause joins the CPU at its end;
//! - every continuation of the replica's jobs: a job that would go on
//!   during a pause (a call answered or failed, a wait over, a request
//!   accepted or delivered, a loop handed to it) is set aside and goes on
//!   when the pause ends, in the order it became ready. So a call step
//!   reached in a pause is sent when it ends.
//!
//! - the replica's own timers and the answers it hears: an event that
//!   would wake the replica's application during a pause — an answer to a
//!   call it sent (`Reply`), its caller-side timers (an attempt's or a
//!   call's timeout, a split timeout's connect part, a retry's backoff, a
//!   hedge, a fallback's latency, a bulkhead wait), a connect its stack
//!   gave up on, a blocked publish's wait, a store's conflict or failure,
//!   a failed cache fill of its jobs, the linger of a log producer
//!   batch it holds, and a consumer group member's retry-in-place backoff
//!   and `max_poll_interval` timer — is set aside too, and takes
//!   effect when the pause ends, in its original order among the
//!   continuations set aside. So a retry or a hedge never leaves during a
//!   pause, and of a timeout and an answer that both fell in it, the one
//!   due first wins (a timeout due at 50 ms beats an answer landing at
//!   70 ms: the answer is then late).
//! - the replica's own polls: an outbox relay's poll on its outbox's grid
//!   and a consumer group member's poll (after a rebalance, a new record,
//!   a commit) are made by shared events or by another replica's doing,
//!   so there is no event of the replica to set aside; the poller asks
//!   `replica_in_pause`, and if so puts an event of its own (`RelayPoll`,
//!   `MemberPoll`) aside with `set_aside_until_pause_end`, once per pause
//!   (its flag), to poll at the pause's end in its order among the rest.
//!
//! Not frozen: what is not the replica's application — the callee's work
//! on calls it sent (orphaned or not), the network, brokers and their
//! visibility timers, its clients' timers, a dropped connection's SYN
//! retransmissions by the kernel, a group's rebalance pause — and, of its
//! own but not yet, the mark of an outbox relay's batch when the broker's
//! acknowledgement lands (`OutboxMark`: it names an outbox and a replica,
//! two fields where `pause_kinds!` reads one). An event due at the very
//! nanosecond the pause ends is not set aside (the pause is over).
//!
//! When anything but continuations was set aside, the pause's end puts
//! all it set aside back into the event queue at that instant, in order
//! (a continuation as `StwResume`), so that events run from the loop
//! only; such an event counts twice in the run's `events`.
//!
//! Costs nothing without a pause in force: `handle` asks `defer_in_pause`
//! only while some replica's pause has not yet ended (`Stopped::pauses`).
//!
//! Owns the jobs and events set aside during pauses; must not decide what
//! a step does (`service`) or when a pause starts (`memory`).

use super::World;
use super::cpu::Suspended;
use super::event::Ev;
use super::ids::{AttemptId, CallId, Holder, JobId, MemberId};
use super::records::{Caller, Parent};
use crate::model::ServiceId;

/// Through what an event that a pause may set aside reaches the replica
/// it wakes.
#[derive(Clone, Copy, Debug)]
enum Waker {
    /// An attempt of a call: its caller's replica.
    Attempt(AttemptId),
    /// A call: its caller's replica.
    Call(CallId),
    /// A bulkhead wait's holder (a call or an attempt of one).
    Holder(Holder),
    /// A callee's job that never connected: its caller hears it.
    Callee(JobId),
    /// A job of the replica itself.
    Job(JobId),
    /// A log producer's open batch (its slot): its producer replica.
    Linger(u32),
    /// A consumer group's member: its replica.
    Member(MemberId),
}

/// The one list of the event kinds a GC pause may set aside, each with
/// the field that leads to the replica it wakes. It writes both
/// `pause_wakes!()`, the pattern `handle` guards with (so kinds a pause
/// never touches pay nothing), and `waker`, which `woken_replica` reads:
/// a kind cannot be in one and not the other.
macro_rules! pause_kinds {
    ($($kind:ident . $field:ident => $waker:ident,)+) => {
        /// The event kinds a GC pause may set aside (a pattern).
        macro_rules! pause_wakes {
            () => { $(Ev::$kind { .. })|+ };
        }
        pub(super) use pause_wakes;

        /// How `ev`, if of a kind a pause may set aside, reaches its
        /// replica.
        #[inline(always)]
        fn waker(ev: Ev) -> Option<Waker> {
            match ev {
                $(Ev::$kind { $field, .. } => Some(Waker::$waker($field)),)+
                _ => None,
            }
        }
    };
}

pause_kinds! {
    Reply.attempt => Attempt,
    AttemptTimeout.attempt => Attempt,
    ConnectTimeout.attempt => Attempt,
    ConnectFailed.job => Callee,
    CallTimeout.call => Call,
    Retry.call => Call,
    Hedge.call => Call,
    Fallback.call => Call,
    BulkheadTimeout.holder => Holder,
    PublishTimeout.job => Job,
    WriteConflict.job => Job,
    StoreFailed.job => Job,
    FillFailed.job => Job,
    LingerExpired.slot => Linger,
    LogRetry.member => Member,
    LogPollTimeout.member => Member,
}

/// What a pause set aside: a job's going on, or an event of the replica.
#[derive(Clone, Copy, Debug)]
enum Deferred {
    /// A job (of that generation) ready to go on.
    Job(JobId, u32),
    /// An event that woke the paused replica's application.
    Event(Ev),
}

/// Jobs and events set aside by GC pauses, each with its replica.
#[derive(Default)]
pub(super) struct Stopped {
    /// Pauses begun whose `GcEnd` has not run yet: while 0, no event is
    /// looked at (the only cost without `gc`).
    pub pauses: u32,
    /// Taken off a processor-sharing CPU (`cpu` indexes `World::cpus`).
    cpu: Vec<(ServiceId, u32, u32, Suspended)>,
    /// Ready to go on, or due, in the order they became so.
    ready: Vec<(ServiceId, u32, Deferred)>,
    /// Scratch: a CPU's suspended jobs, and the continuations due.
    scratch: Vec<Suspended>,
    due: Vec<Deferred>,
}

impl World<'_> {
    /// Whether replica `r` of `s` is in a GC pause now.
    #[inline]
    fn in_pause(&self, s: usize, r: usize) -> bool {
        self.replicas[s][r].life.stw_until > self.now
    }

    /// A pause of replica `r` of `s` starts: events are watched until
    /// its `GcEnd`, and its jobs leave its processor-sharing CPU (if it
    /// has one).
    pub(super) fn stw_begin(&mut self, s: usize, r: usize) {
        self.stw.pauses += 1;
        let Some(cpu) = self.replicas[s][r].cpu else {
            return;
        };
        let now = self.now;
        let jobs = &self.jobs;
        self.cpus[cpu as usize].suspend(
            now,
            |j| jobs[j].service.index() == s && jobs[j].replica as usize == r,
            &mut self.stw.scratch,
        );
        for x in self.stw.scratch.drain(..) {
            self.stw.cpu.push((ServiceId::at(s), r as u32, cpu, x));
        }
        self.reschedule_cpu(cpu as usize);
    }

    /// Job `j` starts `work` on `cpu`: in a pause of its replica it waits
    /// off the CPU for the pause's end (returns whether it does).
    pub(super) fn work_waits_for_pause(&mut self, cpu: usize, j: JobId, work: u64) -> bool {
        let job = &self.jobs[j];
        let (s, r, generation) = (job.service.index(), job.replica as usize, job.generation);
        if !self.in_pause(s, r) {
            return false;
        }
        let order = self.cpus[cpu].next_order();
        self.stw.cpu.push((
            ServiceId::at(s),
            r as u32,
            cpu as u32,
            Suspended {
                left: work as f64,
                order,
                job: j,
                generation,
            },
        ));
        true
    }

    /// Job `j` would go on now: in a pause of its replica it is set aside
    /// until the pause's end (returns whether it is).
    #[inline]
    pub(super) fn set_aside_in_pause(&mut self, j: JobId) -> bool {
        let job = &self.jobs[j];
        let (s, r, generation) = (job.service.index(), job.replica as usize, job.generation);
        if !self.in_pause(s, r) {
            return false;
        }
        self.stw
            .ready
            .push((ServiceId::at(s), r as u32, Deferred::Job(j, generation)));
        true
    }

    /// Whether replica `r` of `s` is in a GC pause now: what a poller of
    /// the replica asks (one load while no pause is in force).
    #[inline]
    pub(super) fn replica_in_pause(&self, s: usize, r: usize) -> bool {
        self.stw.pauses != 0 && self.in_pause(s, r)
    }

    /// Replica `r` of `s`, in a pause, would poll now (its outbox relay,
    /// a group member of it): `ev`, its own poll, is set aside until the
    /// pause's end, in order with the rest. The caller sets it aside once
    /// per pause.
    pub(super) fn set_aside_until_pause_end(&mut self, s: usize, r: usize, ev: Ev) {
        debug_assert!(self.in_pause(s, r));
        self.stw
            .ready
            .push((ServiceId::at(s), r as u32, Deferred::Event(ev)));
    }

    /// A `GcEnd` ran (whether or not its pause was still in force).
    pub(super) fn stw_gc_end_seen(&mut self) {
        self.stw.pauses -= 1;
    }

    /// Event `ev` (live) is about to run while some pause is in force: if
    /// it wakes a paused replica's application, it is set aside until the
    /// pause's end (returns whether it is). `handle` asks for the kinds
    /// `pause_wakes!` lists. Inlined: a call would make `handle` keep
    /// every event in memory for its address, a cost on every event.
    #[inline(always)]
    pub(super) fn defer_in_pause(&mut self, ev: Ev) -> bool {
        let Some((s, r)) = self.woken_replica(ev) else {
            return false;
        };
        if !self.in_pause(s, r) {
            return false;
        }
        self.stw
            .ready
            .push((ServiceId::at(s), r as u32, Deferred::Event(ev)));
        true
    }

    /// The replica whose application `ev` wakes, if it is one that a
    /// pause freezes (the kinds `pause_wakes!` lists).
    #[inline(always)]
    fn woken_replica(&self, ev: Ev) -> Option<(usize, usize)> {
        match waker(ev)? {
            Waker::Attempt(attempt) => self.caller_replica(self.attempts[attempt].call),
            Waker::Call(call) => self.caller_replica(call),
            Waker::Holder(holder) => self.caller_replica(match holder {
                Holder::Call(call) => call,
                Holder::Attempt(a) => self.attempts[a].call,
            }),
            // The callee's job that never connected: its caller hears it.
            Waker::Callee(job) => match self.jobs[job].parent {
                Parent::Call { attempt, .. } => self.caller_replica(self.attempts[attempt].call),
                _ => None,
            },
            Waker::Job(job) => {
                let j = &self.jobs[job];
                Some((j.service.index(), j.replica as usize))
            }
            Waker::Linger(slot) => Some(self.logs.producer.producer_of(slot)),
            Waker::Member(member) => Some(self.member_replica(member)),
        }
    }

    /// The replica of the job waiting on `call`, if a job (of the
    /// generation it had) waits on it.
    #[inline(always)]
    fn caller_replica(&self, call: CallId) -> Option<(usize, usize)> {
        match self.calls[call].caller {
            Caller::Job { job, generation } => {
                let j = &self.jobs[job];
                (j.generation == generation).then(|| (j.service.index(), j.replica as usize))
            }
            Caller::Source(_) | Caller::Poll { .. } => None,
        }
    }

    /// The pause of replica `r` of `s` is over (or died with its process):
    /// its CPU jobs share the cores again, then the continuations and
    /// events set aside go on in order.
    pub(super) fn stw_end(&mut self, s: usize, r: usize) {
        let now = self.now;
        let (sid, rid) = (ServiceId::at(s), r as u32);
        let mut cpu_back = None;
        let (jobs, cpus) = (&self.jobs, &mut self.cpus);
        self.stw.cpu.retain(|&(s2, r2, cpu, x)| {
            if (s2, r2) != (sid, rid) {
                return true;
            }
            // A job cut off meanwhile (a kill) does not come back.
            if jobs[x.job].generation == x.generation {
                cpus[cpu as usize].resume(now, x);
                cpu_back = Some(cpu);
            }
            false
        });
        if let Some(cpu) = cpu_back {
            self.reschedule_cpu(cpu as usize);
        }
        let mut due = std::mem::take(&mut self.stw.due);
        self.stw.ready.retain(|&(s2, r2, d)| {
            if (s2, r2) != (sid, rid) {
                return true;
            }
            due.push(d);
            false
        });
        if due.iter().all(|d| matches!(d, Deferred::Job(..))) {
            for &d in &due {
                // Each goes on as it would have: a new pause (one of them
                // allocating) sets the rest aside again, in order.
                if let Deferred::Job(j, generation) = d
                    && self.jobs[j].generation == generation
                {
                    self.proceed(j);
                }
            }
        } else {
            // Events among them: all go back into the queue at this
            // instant, in their order (events run only from the loop).
            for &d in &due {
                let ev = match d {
                    Deferred::Job(job, generation) => Ev::StwResume { job, generation },
                    Deferred::Event(ev) => ev,
                };
                self.schedule(now, ev);
            }
        }
        due.clear();
        self.stw.due = due;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::EdgeId;
    use crate::outcome::Outcome;

    /// `handle`'s guard (`pause_wakes!`) and `waker` come from one list:
    /// each listed kind has its way to a replica, and no other kind has.
    #[test]
    fn the_guard_and_the_waker_name_the_same_kinds() {
        let (job, attempt, call, generation) = (JobId(3), AttemptId(5), CallId(7), 1);
        let listed = [
            Ev::Reply {
                attempt,
                generation,
                edge: EdgeId::at(0),
                outcome: Outcome::Ok,
            },
            Ev::AttemptTimeout {
                attempt,
                generation,
            },
            Ev::ConnectTimeout {
                attempt,
                generation,
            },
            Ev::ConnectFailed { job, generation },
            Ev::CallTimeout { call, generation },
            Ev::Retry { call, generation },
            Ev::Hedge { call, generation },
            Ev::Fallback { call, generation },
            Ev::BulkheadTimeout {
                holder: Holder::Call(call),
                generation,
            },
            Ev::PublishTimeout {
                job,
                generation,
                step: 0,
            },
            Ev::WriteConflict { job, generation },
            Ev::StoreFailed { job, generation },
            Ev::FillFailed { job, generation },
            Ev::LingerExpired {
                slot: 0,
                generation,
            },
            Ev::LogRetry {
                member: MemberId(2),
                generation,
            },
            Ev::LogPollTimeout {
                member: MemberId(2),
                generation,
            },
        ];
        for ev in listed {
            assert!(matches!(ev, pause_wakes!()), "{ev:?}");
            assert!(waker(ev).is_some(), "{ev:?}");
        }
        let not_listed = [
            Ev::WorkDone { job, generation },
            Ev::Arrive { job, generation },
            Ev::ClientReply {
                attempt,
                generation,
                outcome: Outcome::Ok,
            },
            Ev::LoopFree {
                service: ServiceId::at(0),
                replica: 0,
            },
            // Set aside by their pollers, never by `handle`.
            Ev::RelayPoll {
                outbox: 0,
                replica: 0,
            },
            Ev::MemberPoll {
                member: MemberId(2),
            },
        ];
        for ev in not_listed {
            assert!(!matches!(ev, pause_wakes!()), "{ev:?}");
            assert!(waker(ev).is_none(), "{ev:?}");
        }
    }
}
