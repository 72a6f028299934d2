//! Event-loop servers: a replica's `loops` threads and the one FIFO run
//! queue of ready continuations they share.
//!
//! A request holds a *connection* from acceptance to answer (the pool's
//! `busy`, limited by `max_connections`), but a *loop* only while it runs:
//! from the moment it is ready (accepted, or a call, publish or delivery
//! came back) until it yields (a `call`, `parallel` or `publish`) or
//! answers. Its `work` steps run on the loop; a `blocking` work step holds
//! the loop the same way but stands for a wait, not CPU. A continuation
//! that finds every loop busy waits in the run queue; a freed loop goes to
//! the queue's head through a `LoopFree` event at the same instant (not by
//! recursion: a long run queue must not deepen the stack).
//!
//! Cheap on purpose (the event-loop M2 must simulate as fast as the
//! thread one): the rare paths (`wait_for_loop`, `hand_loop_over`) are
//! cold, and a continuation that answers at once on a free loop is not
//! counted on it. Whether a job holds a loop is a bit of its `mode`, the
//! byte `proceed` tests anyway: a job whose work step ended on its loop
//! goes on as a thread-pool job does, with no look at the loops; a new
//! job takes its loop inside `start_job`, which has it at hand (it is off
//! its loop, not failed, at its first step). On a service whose loops
//! cover its connections (`RT_ROOMY`: `loops` ≥ `max_connections`) a
//! loop is always free, so a continuation that answers at once does not
//! look at its replica, and neither does any take or release of a loop
//! there: no continuation ever waits, so a replica's free loops decide
//! nothing, and the busy loops, their lazy area and the zero run-queue
//! waits are kept per service (`World::roomy`, `RoomyLoops`, a job's
//! `ROOMY_JOB` bit telling which): a new job's take is a bit of its mode
//! (`FRESH`, taken at its `t_start`), its give-back one add, and every
//! other take or give-back an increment and an add. On the
//! other event loops they live in the replica, not in the service's
//! runtime figures: the free loops beside what admission reads
//! (`Replica::loops_free`), and the busy loops' lazy area and the zero
//! run-queue waits in `Loops`. `sync_loop_figures` adds both up into the
//! figures (`metrics/runtime.rs`) before anything reads them — a
//! window's close, the warm-up's end, the summary (which counts the
//! fresh loops still held, read from the jobs); a crash gives back
//! the per-service loops of the jobs it cuts off (`release_cut_off_loop`)
//! where it resets a replica's (`reset_loops`).
//!
//! Invariant: continuations wait in the run queue only while no loop is
//! free (a loop is freed only when none waits, and a handed-over loop
//! stays taken), so a take asks `loops_free` alone.
//!
//! Owns the loops and the run queue; must not decide what a step does
//! (that is `service`).

use std::collections::VecDeque;

use super::World;
use super::event::Ev;
use super::ids::JobId;
use super::records::{FRESH, GC_JOB, JobState, LENT, NEVER, OFF_LOOP, ON_LOOP, ROOMY_JOB};
use crate::model::ServiceId;
use crate::outcome::Outcome;

/// A replica's event-loop state past `Replica::loops_free`: one cache
/// line, touched by a take or a release only for the busy loops' area.
#[derive(Default)]
#[repr(C)]
pub(super) struct Loops {
    /// Ready continuations (job, generation) waiting for a loop.
    run_queue: VecDeque<(JobId, u32)>,
    /// `LoopFree` events pending (loops handed to the run queue's head).
    handoffs: u32,
    /// Continuations that found a loop free, since the last sync (the
    /// runtime figures keep those after the warm-up).
    zero_waits: u64,
    /// The busy loops' lazy area (`metrics/lazy_level.rs`): the area up to
    /// `t` is `area + busy × t`, busy being `loops − loops_free`; a take
    /// at `now` subtracts `now`, a release adds it.
    area: i128,
}

/// The loops of a service whose loops cover its connections (`RT_ROOMY`),
/// kept per service: a continuation never waits there, so which replica
/// a busy loop belongs to decides nothing and no replica is read. Its
/// replicas' `loops_free` and `Loops` stay idle.
///
/// A new job (without GC) takes its loop by a bit of its mode alone
/// (`FRESH`: the take's time is its `t_start`), so the common take writes
/// nothing here; the give-back of such a loop adds its whole interval.
/// A sync (`sync_loops_now`) counts the fresh loops still held as taken
/// at their `t_start` (they are fresh no more). Every other take (a job
/// going on after a call, or with GC) is counted when it happens.
/// Counters only go up: the busy loops and the continuations (every one
/// a zero wait) are differences of them.
#[derive(Default, Clone, Copy)]
#[repr(C, align(64))]
pub(super) struct RoomyLoops {
    /// The lazy area of the busy loops counted here (at a sync, every
    /// busy one): the area up to `t` is `area + busy × t`, where a
    /// counted take at `t0` subtracts `t0`, its give-back at `now` adds
    /// `now`, and a fresh loop's give-back adds `now − t_start`.
    area: i128,
    /// Counted takes (not fresh; fresh ones counted by a sync included).
    takes: u64,
    /// Give-backs of counted loops.
    gives: u64,
    /// Continuations with no counted take: fresh loops, each counted at
    /// its give-back (its take was the job's start), and continuations
    /// that answered at once, with no take at all. (One counter: a lent
    /// loop's give-back and the answer after it are one add.)
    untaken: u64,
    /// Continuations up to the last sync (its zero waits are the
    /// difference).
    counted: u64,
}

impl RoomyLoops {
    /// A counted take at `t`.
    #[inline(always)]
    fn take_at(&mut self, t: crate::time::Nanos) {
        self.takes += 1;
        self.area -= i128::from(t);
    }

    /// The give-back at `at` of a fresh loop, taken at `t_start` (a take
    /// counted nowhere): one continuation, and its whole interval.
    #[inline(always)]
    fn give_back_fresh(&mut self, t_start: crate::time::Nanos, at: crate::time::Nanos) {
        self.untaken += 1;
        self.area += i128::from(at - t_start);
    }
}

/// No job (`World::lending` when no loop is lent).
pub(super) const NO_JOB: JobId = JobId(u32::MAX);

/// A loop of a replica (its `loops_free` and `loops`) is given back at
/// `now`: free again, or — when continuations wait, none being free —
/// `false`, and the caller hands it to the run queue's head
/// (`World::hand_loop_over`).
#[inline(always)]
pub(super) fn give_back_loop(
    loops_free: &mut u32,
    loops: &mut Loops,
    now: crate::time::Nanos,
) -> bool {
    if *loops_free == 0 && !loops.run_queue.is_empty() {
        return false;
    }
    *loops_free += 1;
    loops.area += i128::from(now);
    true
}

impl World<'_> {
    /// Job `j` (holding its connection) is ready to go on: on a thread
    /// pool, at once; on an event loop, on a free loop or after the
    /// continuations already waiting; in a GC pause of its replica, when
    /// the pause ends (`stw`). One test of the job's `mode`: a thread-pool
    /// job and an event-loop job already on its loop (a work step ended)
    /// go straight on.
    #[inline(always)]
    pub(super) fn proceed(&mut self, j: JobId) {
        if self.jobs[j].mode & (OFF_LOOP | GC_JOB) == 0 {
            self.run_steps(j);
        } else {
            self.proceed_runtime(j);
        }
    }

    /// `proceed` past its test, and the way on of a job whose call failed
    /// on an event loop or with GC (it answers its error, on a loop).
    #[inline(never)]
    pub(super) fn proceed_runtime(&mut self, j: JobId) {
        if self.jobs[j].mode & GC_JOB == 0 {
            self.proceed_on_loop(j);
        } else {
            self.proceed_with_gc(j);
        }
    }

    /// `proceed` on a service with GC: set aside in a pause; a thread-pool
    /// job whose call failed comes here too and answers its error.
    #[inline(never)]
    fn proceed_with_gc(&mut self, j: JobId) {
        if self.set_aside_in_pause(j) {
            return;
        }
        if self.jobs[j].mode & (ON_LOOP | OFF_LOOP) != 0 {
            self.proceed_on_loop(j);
        } else if self.jobs[j].failed {
            self.complete_job(j, Outcome::Error);
        } else {
            self.run_steps(j);
        }
    }

    /// `proceed` on an event loop: a job on its loop goes on; another
    /// takes a free loop, or joins the run queue when none is free.
    ///
    /// A job that answers at once (its steps are done, or a call it waited
    /// on failed) runs without being counted on the loop: it would take
    /// the loop and give it back at the same instant, which changes no
    /// figure (busy loops are an integral over time) and no decision (the
    /// loop is free again before anything else runs), so neither is done;
    /// it answers straight away (what `run_steps` would do first). Where
    /// the loops cover the connections a loop is surely free, so such a
    /// job does not look at its replica at all.
    #[inline(always)]
    fn proceed_on_loop(&mut self, j: JobId) {
        let now = self.now;
        let job = &mut self.jobs[j];
        if job.mode & ON_LOOP == 0 {
            let answers = job.step == job.end_step || job.failed;
            if job.mode & ROOMY_JOB != 0 {
                let s = job.service.index();
                if answers {
                    let outcome = job.answer_outcome();
                    return self.answer_on_roomy_loop(j, s, outcome);
                }
                job.mode ^= OFF_LOOP | ON_LOOP;
                self.take_roomy_loop(s);
                return self.run_steps(j);
            }
            let rep = &mut self.replicas[job.service.index()][job.replica as usize];
            if rep.loops_free == 0 {
                return self.wait_for_loop(j);
            }
            rep.loops.zero_waits += 1;
            if answers {
                let outcome = job.answer_outcome();
                return self.complete_job(j, outcome);
            }
            job.mode ^= OFF_LOOP | ON_LOOP;
            rep.loops_free -= 1;
            rep.loops.area -= i128::from(now);
        } else if job.failed {
            return self.complete_job(j, Outcome::Error);
        }
        self.run_steps(j)
    }

    /// Job `j` of service `s`, off its loop on loops that cover the
    /// connections, answers `outcome` at once: a loop is surely free (see
    /// `RT_ROOMY`), so its zero wait is counted without its replica and
    /// it answers without taking the loop (see `proceed_on_loop`).
    #[inline(always)]
    pub(super) fn answer_on_roomy_loop(&mut self, j: JobId, s: usize, outcome: Outcome) {
        debug_assert!(self.roomy_loop_free(s));
        self.roomy[s].untaken += 1;
        self.complete_job(j, outcome)
    }

    /// A continuation of service `s` (loops covering its connections)
    /// takes a loop, counted (not fresh): one is surely free (`RT_ROOMY`).
    #[inline(always)]
    fn take_roomy_loop(&mut self, s: usize) {
        debug_assert!(self.roomy_loop_free(s));
        let now = self.now;
        self.roomy[s].take_at(now);
    }

    /// A loop of service `s` (loops covering its connections) is given
    /// back by a job of mode `mode` that started at `t_start`: nobody
    /// waits for it. A fresh loop (`FRESH`) was taken at `t_start`.
    #[inline(always)]
    pub(super) fn give_back_roomy_loop(&mut self, s: usize, mode: u8, t_start: crate::time::Nanos) {
        let now = self.now;
        let l = &mut self.roomy[s];
        if mode & FRESH != 0 {
            l.give_back_fresh(t_start, now);
        } else {
            l.gives += 1;
            l.area += i128::from(now);
        }
    }

    /// The fresh loop just given back on service `s` (loops covering its
    /// connections) was taken and given back at one instant by a job
    /// dropped as it started: no continuation.
    #[cold]
    pub(super) fn not_a_continuation(&mut self, s: usize) {
        self.roomy[s].untaken -= 1;
    }

    /// Whether a loop of service `s` may be free, for the debug checks of
    /// the roomy paths: fewer counted loops busy than the loops of its
    /// replicas (the fresh ones are not counted: reading the jobs at each
    /// take would make debug runs quadratic).
    fn roomy_loop_free(&self, s: usize) -> bool {
        let loops = self.m.services[s].loops().unwrap_or(0);
        let all = u64::from(loops) * self.replicas[s].len() as u64;
        let l = &self.roomy[s];
        l.takes - l.gives < all
    }

    /// A new event-loop job (without GC, on loops that do not cover the
    /// connections: `start_job` gives a roomy job its fresh loop itself)
    /// starts: it takes a free loop, or joins the run queue when none is
    /// free. (`proceed_on_loop` for a job known off its loop and at its
    /// first step: a job with no steps takes the loop and gives it back
    /// at one instant, which changes nothing, see there.) Inlined into
    /// `start_job`, which has the job at hand.
    #[inline(always)]
    pub(super) fn start_on_loop(&mut self, j: JobId) {
        let now = self.now;
        let job = &mut self.jobs[j];
        debug_assert!(job.mode & ROOMY_JOB == 0, "a roomy job starts fresh");
        let rep = &mut self.replicas[job.service.index()][job.replica as usize];
        if rep.loops_free == 0 {
            return self.wait_for_loop(j);
        }
        rep.loops.zero_waits += 1;
        job.mode ^= OFF_LOOP | ON_LOOP;
        rep.loops_free -= 1;
        rep.loops.area -= i128::from(now);
        self.run_steps(j)
    }

    /// No loop of job `j`'s replica is free: it joins the run queue.
    #[cold]
    #[inline(never)]
    fn wait_for_loop(&mut self, j: JobId) {
        let job = &self.jobs[j];
        let (s, r, generation) = (job.service.index(), job.replica as usize, job.generation);
        let now = self.now;
        self.replicas[s][r]
            .loops
            .run_queue
            .push_back((j, generation));
        self.rec.runtime[s]
            .as_mut()
            .expect("event loops are measured")
            .add_run_queue(now, 1);
        *self.mark(j) = now;
    }

    /// Job `j`, on its loop (`at_step`, as it stands at its call step),
    /// starts call `spec`. A fresh loop (`FRESH`, on loops that cover the
    /// connections) is *lent*: the job is off it while the call is out,
    /// and its give-back is counted when the call ends, with the call's
    /// `t_sent` for the instant (`answer_after_lent_loop`,
    /// `settle_lent_loop`), or by a sync or a cut-off before that
    /// (`lent_at`). The job in hand, no second look at it after the call
    /// (`yield_loop`): a call that ends at once finds the job in
    /// `lending`, and it goes on as if it never left its loop (as it did
    /// not). Any other loop is yielded after the call (`yield_loop`).
    #[inline(always)]
    pub(super) fn call_from_loop(&mut self, j: JobId, at_step: super::records::Job, spec: u32) {
        if at_step.mode & FRESH != 0 {
            debug_assert!(at_step.mode & (ON_LOOP | ROOMY_JOB | GC_JOB) == ON_LOOP | ROOMY_JOB);
            self.jobs[j].mode = LENT;
            self.lending = j;
            self.call_from_job(j, spec);
            self.lending = NO_JOB;
        } else {
            self.call_from_job(j, spec);
            self.yield_loop(j, at_step);
        }
    }

    /// Job `j` of service `s`, started at `t_start`, whose fresh loop was
    /// lent to the call it sent at `sent` (`call_from_loop`), answers
    /// `outcome` now that the call ended: the lent loop's give-back (at
    /// `sent`) and the continuation that answers at once are counted
    /// together — unless the call ended as it started, when the job
    /// answers on the loop it never left.
    #[inline(always)]
    pub(super) fn answer_after_lent_loop(
        &mut self,
        j: JobId,
        s: usize,
        outcome: Outcome,
        t_start: crate::time::Nanos,
        sent: crate::time::Nanos,
    ) {
        if !self.back_on_loop_never_left(j) {
            debug_assert!(self.roomy_loop_free(s));
            let l = &mut self.roomy[s];
            l.give_back_fresh(t_start, sent);
            l.untaken += 1; // the answer
        }
        self.complete_job(j, outcome)
    }

    /// Job `j`, whose fresh loop was lent to the call it sent at `sent`,
    /// is off its loop as a yield leaves it (the give-back counted at
    /// `sent`), or — its call ended as it started — back on the loop it
    /// never left.
    #[inline(never)]
    pub(super) fn settle_lent_loop(&mut self, j: JobId, sent: crate::time::Nanos) {
        debug_assert!(self.jobs[j].mode == LENT);
        if self.back_on_loop_never_left(j) {
            return;
        }
        let job = &mut self.jobs[j];
        job.mode &= !FRESH;
        let (s, t_start) = (job.service.index(), job.t_start);
        self.roomy[s].give_back_fresh(t_start, sent);
    }

    /// Whether job `j`, which lent its fresh loop, is the one whose call is
    /// starting (`lending`): its call ended as it started, so it never left
    /// the loop, and it is put back on it.
    #[inline(always)]
    fn back_on_loop_never_left(&mut self, j: JobId) -> bool {
        let never_left = self.lending == j;
        if never_left {
            self.jobs[j].mode ^= OFF_LOOP | ON_LOOP;
        }
        never_left
    }

    /// When job `j` lent its fresh loop: its pending call's `t_sent` (the
    /// calls of a `parallel` step are sent at one instant). For a sync or
    /// a cut-off only: a walk over the calls.
    #[cold]
    fn lent_at(&self, j: JobId) -> crate::time::Nanos {
        let caller = super::records::Caller::Job {
            job: j,
            generation: self.jobs[j].generation,
        };
        self.calls
            .iter()
            .find(|c| c.pending && c.caller == caller)
            .expect("a job that lent its loop waits on a call")
            .t_sent
    }

    /// Job `j`, on loops that cover the connections, was `at_step` when
    /// its call, publish or wait step started: unless the step already
    /// ended and the job went on (it is at another step, or answered),
    /// it gives its loop back to its service while it waits.
    #[inline(always)]
    pub(super) fn yield_roomy_loop(&mut self, j: JobId, at_step: super::records::Job) {
        let job = &mut self.jobs[j];
        let mode = job.mode;
        if job.generation == at_step.generation && job.step == at_step.step && mode & ON_LOOP != 0 {
            job.mode = (mode ^ (OFF_LOOP | ON_LOOP)) & !FRESH;
            self.give_back_roomy_loop(at_step.service.index(), mode, at_step.t_start);
        }
    }

    /// A job of replica `r` of `s`, answering, gives back the loop it
    /// holds to its replica (or to the run queue's head); on loops that
    /// cover the connections `complete_job` gives it to its service
    /// itself (`give_back_roomy_loop`). Out of `complete_job`, which a
    /// thread-pool job runs without it.
    #[inline(never)]
    pub(super) fn give_back_answered_loop(&mut self, s: ServiceId, r: u32) {
        let rep = &mut self.replicas[s][r as usize];
        if !give_back_loop(&mut rep.loops_free, &mut rep.loops, self.now) {
            self.hand_loop_over(s, r);
        }
    }

    /// Job `j`, on its loop (not roomy: see `yield_roomy_loop`), yields
    /// it while it waits on a call, a publish or a wait (`yield_loop`,
    /// which has just read the job; an answering job gives its loop back
    /// in `complete_job`).
    #[inline(always)]
    pub(super) fn let_go_of_loop(&mut self, j: JobId) {
        let now = self.now;
        let job = &mut self.jobs[j];
        debug_assert!(job.mode & ON_LOOP != 0, "released a loop it does not hold");
        debug_assert!(job.mode & ROOMY_JOB == 0, "a roomy loop is its service's");
        job.mode ^= OFF_LOOP | ON_LOOP;
        let (s, r) = (job.service, job.replica);
        let rep = &mut self.replicas[s][r as usize];
        if !give_back_loop(&mut rep.loops_free, &mut rep.loops, now) {
            self.hand_loop_over(s, r);
        }
    }

    /// A loop freed while continuations wait: it stays taken (it is the
    /// head's), handed over by a `LoopFree` at the same instant.
    #[cold]
    #[inline(never)]
    pub(super) fn hand_loop_over(&mut self, s: ServiceId, r: u32) {
        self.replicas[s][r as usize].loops.handoffs += 1;
        self.schedule(
            self.now,
            Ev::LoopFree {
                service: s,
                replica: r,
            },
        );
    }

    /// A loop handed over: the run queue's head runs on it.
    pub(super) fn on_loop_free(&mut self, s: usize, r: usize) {
        let now = self.now;
        let rep = &mut self.replicas[s][r];
        if rep.loops.handoffs == 0 {
            return; // the replica was killed meanwhile
        }
        rep.loops.handoffs -= 1;
        while let Some((j, generation)) = self.replicas[s][r].loops.run_queue.pop_front() {
            let stats = self.rec.runtime[s]
                .as_mut()
                .expect("event loops are measured");
            stats.add_run_queue(now, -1);
            if self.jobs[j].generation != generation {
                continue;
            }
            let ready = *self.mark(j);
            let stats = self.rec.runtime[s]
                .as_mut()
                .expect("event loops are measured");
            stats.record_run_wait(ready, now);
            self.jobs[j].mode ^= OFF_LOOP | ON_LOOP;
            // (`proceed` already set aside a job that became ready in a
            // pause; one handed a loop in a pause keeps it, frozen.)
            if self.rt[s] & super::RT_GC != 0 && self.set_aside_in_pause(j) {
                return;
            }
            if self.jobs[j].failed {
                self.complete_job(j, Outcome::Error);
            } else {
                self.run_steps(j);
            }
            return;
        }
        let rep = &mut self.replicas[s][r];
        rep.loops_free += 1;
        rep.loops.area += i128::from(now);
    }

    /// Job `j`, cut off by a crash or an OOM kill, gives back the loop it
    /// holds, if it is kept per service (`RoomyLoops`); a replica's own
    /// loops are reset at once (`reset_loops`).
    pub(super) fn release_cut_off_loop(&mut self, j: JobId) {
        let job = &self.jobs[j];
        if lends_loop(job) {
            // Off its loop since its call's instant; or (a kill as the
            // call starts) back on it, given back below.
            let sent = if self.lending == j {
                self.now
            } else {
                self.lent_at(j)
            };
            self.settle_lent_loop(j, sent);
        }
        let job = &self.jobs[j];
        // (A request job killed as it took its place never started: it
        // holds the fresh loop it starts with only from its `t_start`.)
        if job.mode & (ON_LOOP | ROOMY_JOB) == ON_LOOP | ROOMY_JOB && job.t_start != NEVER {
            let (s, mode, t_start) = (job.service.index(), job.mode, job.t_start);
            self.give_back_roomy_loop(s, mode, t_start);
        }
    }

    /// A crash or an OOM kill empties the replica's loops and run queue
    /// (its jobs are already cut off; on loops that cover the connections
    /// they gave theirs back, and the replica's are idle).
    pub(super) fn reset_loops(&mut self, s: usize, r: usize) {
        let now = self.now;
        let loops = self.m.services[s].loops().unwrap_or(0);
        let rep = &mut self.replicas[s][r];
        let (busy, queued) = (loops - rep.loops_free, rep.loops.run_queue.len());
        rep.loops_free = loops;
        rep.loops.area += i128::from(busy) * i128::from(now);
        rep.loops.handoffs = 0;
        rep.loops.run_queue.clear();
        if let Some(stats) = &mut self.rec.runtime[s] {
            stats.add_run_queue(now, -(queued as i64));
        }
    }

    /// Adds the replicas' busy loops and zero run-queue waits up into
    /// each event-loop service's figures; called before they are read (a
    /// window's close, the warm-up's end, the summary). Nothing to do
    /// without event loops.
    #[inline]
    pub(super) fn sync_loop_figures(&mut self) {
        if self.loops_on {
            self.sync_loops_now();
        }
    }

    #[inline(never)]
    fn sync_loops_now(&mut self) {
        // The fresh loops held now, read from the jobs once per sync (a
        // window's close, the warm-up's end, the summary), are counted as
        // taken at their `t_start`: fresh no more.
        if self.rt.iter().any(|f| f & super::RT_ROOMY != 0) {
            // A lent loop's give-back is counted now, at its instant (its
            // call's; the calls of a `parallel` step share it, and the
            // first settles it).
            for i in 0..self.calls.len() {
                let c = &self.calls[super::ids::CallId(i as u32)];
                if let (true, super::records::Caller::Job { job, generation }) =
                    (c.pending, c.caller)
                    && self.jobs[job].generation == generation
                    && lends_loop(&self.jobs[job])
                {
                    self.settle_lent_loop(job, c.t_sent);
                }
            }
            for i in 0..self.jobs.len() {
                let job = &mut self.jobs[JobId(i as u32)];
                if holds_fresh_loop(job) {
                    job.mode &= !FRESH;
                    self.roomy[job.service.index()].take_at(job.t_start);
                }
            }
        }
        for s in 0..self.rt.len() {
            if self.rt[s] & super::RT_LOOP == 0 {
                continue;
            }
            let loops = self.m.services[s].loops().unwrap_or(0);
            // The per-service loops of roomy loops (idle otherwise), then
            // the replicas' (idle on roomy loops). Busy: the counted takes
            // not given back (no fresh loop is held now). Every
            // continuation took a loop (fresh or counted) or answered at
            // once, finding one free.
            let l = &mut self.roomy[s];
            let mut busy = i128::from(l.takes - l.gives);
            let mut area = l.area;
            let continuations = l.takes + l.untaken;
            let mut zero_waits = continuations - l.counted;
            l.counted = continuations;
            for rep in &mut self.replicas[s] {
                busy += i128::from(loops - rep.loops_free);
                area += rep.loops.area;
                zero_waits += std::mem::take(&mut rep.loops.zero_waits);
            }
            if let Some(stats) = &mut self.rec.runtime[s] {
                stats.sync_loops(busy, area, zero_waits);
            }
        }
    }
}

/// Whether `job` lent its fresh loop to the call it waits on, the
/// give-back not counted yet (`World::call_from_loop`).
#[inline]
fn lends_loop(job: &super::records::Job) -> bool {
    job.state == JobState::Running && job.mode == LENT
}

/// Whether `job` holds a fresh loop: one of loops that cover the
/// connections, taken when it started and counted nowhere yet (`FRESH`).
/// A freed job's mode is stale: only a running job holds a loop, and a
/// request job only once it started (see `records::with_start_mode`).
#[inline]
fn holds_fresh_loop(job: &super::records::Job) -> bool {
    job.state == JobState::Running
        && job.mode & (ON_LOOP | FRESH) == ON_LOOP | FRESH
        && job.t_start != NEVER
}

#[cfg(test)]
mod tests {
    use super::super::records::with_start_mode;
    use super::super::{RT_ROOMY, World};
    use crate::options::RunOptions;

    /// A chain of event loops whose loops cover their connections, with a
    /// warm-up, calls that time out and callees that refuse: continuations
    /// that answer at once, with and without a failure, before and after
    /// the warm-up, and that take a loop again (`a`'s work after its
    /// call); loops taken fresh at a job's start and held across window
    /// closes and the warm-up's end (`b`'s work); fresh loops lent to a
    /// call across window closes and the warm-up's end, given back when it
    /// ends (with the job answering, or going on), and calls that end as
    /// they start on an open breaker (with a fallback: the job goes on,
    /// `a`, or answers, `d`, holding its loop; without: it fails, `e`);
    /// and a crash of
    /// one of `b`'s replicas, OOM kills of `b`'s replicas and a crash of
    /// `a`, which cut off jobs holding their loops, fresh or not, or
    /// lending them.
    /// The breaker of `a`'s, `d`'s and `e`'s calls (`$BREAKER` in `ROOMY`).
    const BREAKER: &str = "breaker = { sliding_window_size = 10, minimum_number_of_calls = 5, \
        failure_rate_threshold = 30, wait_duration_in_open_state = \"20ms\", \
        permitted_number_of_calls_in_half_open_state = 2 }";

    const ROOMY: &str = r#"
        name = "roomy"
        duration = "20s"
        warmup = "2s"
        seed = 3
        [network]
        latency = "0.5ms"
        [workload.w]
        target = "a"
        rate = 400
        [services.a]
        model = "event_loop"
        loops = 4
        max_connections = 4
        queue = 10
        steps = [
            { work = { dist = "exponential", mean = "1ms" } },
            { call = "b", timeout = "8ms", fallback = true, $BREAKER },
            { work = { dist = "exponential", mean = "0.5ms" } },
            { call = "b", timeout = "8ms", $BREAKER },
        ]
        [workload.wd]
        target = "d"
        rate = 150
        [services.d]
        model = "event_loop"
        loops = 3
        max_connections = 3
        queue = 10
        steps = [
            { work = { dist = "exponential", mean = "1ms" } },
            { call = "b", timeout = "8ms", fallback = true, $BREAKER },
        ]
        [workload.we]
        target = "e"
        rate = 150
        [services.e]
        model = "event_loop"
        loops = 3
        max_connections = 3
        queue = 10
        steps = [
            { work = { dist = "exponential", mean = "1ms" } },
            { call = "b", timeout = "8ms", $BREAKER },
        ]
        [services.b]
        model = "event_loop"
        replicas = 2
        loops = 2
        max_connections = 2
        queue = 2
        memory = { limit = "97MiB", base = "90MiB", per_request = "2MiB", per_queued = "2MiB" }
        restart = { delay = "100ms", max_delay = "100ms" }
        steps = [{ work = { dist = "exponential", mean = "3ms" } }]
        [[fault]]
        target = "b"
        replica = 1
        crash = true
        at = "5s"
        for = "1s"
        [[fault]]
        target = "a"
        crash = true
        at = "9s"
        for = "0.5s"
    "#;

    /// The run's results and each service's run-queue waits counted
    /// (zeros included), with the roomy shortcut or without it.
    fn run(roomy: bool) -> (String, Vec<u64>) {
        let text = ROOMY.replace("$BREAKER", BREAKER);
        let s = crate::scenario::load("t.toml", &text, &[]).expect("scenario loads");
        let opts = RunOptions::default();
        let mut w = World::new(&s.model, &opts);
        assert!(w.rt.iter().all(|f| f & RT_ROOMY != 0));
        assert_eq!(w.jobs.live(), 0, "no job has read its service's flags yet");
        if !roomy {
            for f in &mut w.rt {
                *f = with_start_mode(*f & !RT_ROOMY);
            }
        }
        w.run_loop(&opts.watch);
        w.sync_loop_figures();
        let waits = w
            .rec
            .runtime
            .iter()
            .flatten()
            .map(|r| r.run_waits())
            .collect();
        let result = w.finish(&opts);
        (serde_json::to_string(&result).expect("serialises"), waits)
    }

    /// Loops that cover the connections let a continuation that answers
    /// at once skip its replica (`RT_ROOMY`): the results are those of the
    /// same run where every continuation asks its replica, byte for byte,
    /// and so is the count of run-queue waits (all zero here, so the
    /// summary alone would not show a miscount).
    #[test]
    fn loops_that_cover_connections_skip_the_replica_and_change_nothing() {
        let (with, with_waits) = run(true);
        let (without, without_waits) = run(false);
        assert!(with.contains("\"rejected\"") && with_waits.iter().all(|&n| n > 1000));
        assert!(with.contains("\"oom_kills\":") && !with.contains("\"oom_kills\":0"));
        // Calls that end as they start (an open breaker), with a fallback
        // and without: the job never left the loop it lent.
        for key in ["\"circuit_open\":", "\"fallbacks\":"] {
            assert!(with.matches(key).count() > with.matches(&format!("{key}0,")).count());
        }
        assert_eq!(with_waits, without_waits);
        assert!(with == without, "the shortcut changed the results");
    }
}
