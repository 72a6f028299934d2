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
//! thread one): the paths taken per continuation are tail calls with no
//! stack frame, the rare ones (`wait_for_loop`, `hand_loop_over`) are
//! cold, and a continuation that answers at once on a free loop is not
//! counted on it. What a continuation touches lives in its replica, not
//! in the service's runtime figures: the free loops beside what admission
//! reads (`Replica::loops_free`), and the busy loops' lazy area and the
//! zero run-queue waits in `Loops`; `sync_loop_figures` adds them up into
//! the figures (`metrics/runtime.rs`) before anything reads them — a
//! window's close, the warm-up's end, the summary.
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

/// A replica's event-loop state past `Replica::loops_free`: one cache
/// line, touched by a take or a release only for the busy loops' area.
#[derive(Default)]
#[repr(C)]
pub(super) struct Loops {
    /// Ready continuations (job, generation) waiting for a loop.
    run_queue: VecDeque<(JobId, u32)>,
    /// `LoopFree` events pending (loops handed to the run queue's head).
    handoffs: u32,
    /// Continuations that found a loop free, since the last sync (only
    /// those ready after the warm-up).
    zero_waits: u64,
    /// The busy loops' lazy area (`metrics/lazy_level.rs`): the area up to
    /// `t` is `area + busy × t`, busy being `loops − loops_free`; a take
    /// at `now` subtracts `now`, a release adds it.
    area: i128,
}

impl World<'_> {
    /// Job `j` (holding its connection) is ready to go on: on a thread
    /// pool, at once; on an event loop, on a free loop or after the
    /// continuations already waiting.
    /// In a GC pause of its replica it goes on when the pause ends
    /// (`stw`).
    #[inline(always)]
    pub(super) fn proceed(&mut self, j: JobId) {
        let rt = self.rt[self.jobs[j].service];
        if rt & (super::RT_LOOP | super::RT_GC) == 0 {
            self.run_steps(j);
        } else if rt & super::RT_GC == 0 {
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
        if self.rt[self.jobs[j].service] & super::RT_LOOP != 0 {
            self.proceed_on_loop(j);
        } else if self.jobs[j].failed {
            self.complete_job(j, crate::outcome::Outcome::Error);
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
    /// loop is free again before anything else runs), so neither is done.
    /// (Only tail calls, so the common paths need no stack frame.)
    #[inline(never)]
    fn proceed_on_loop(&mut self, j: JobId) {
        let now = self.now;
        let job = &mut self.jobs[j];
        if !job.on_loop {
            let rep = &mut self.replicas[job.service.index()][job.replica as usize];
            if rep.loops_free == 0 {
                return self.wait_for_loop(j);
            }
            if now >= self.m.warmup {
                rep.loops.zero_waits += 1;
            }
            if job.step != job.end_step && !job.failed {
                job.on_loop = true;
                rep.loops_free -= 1;
                rep.loops.area -= i128::from(now);
            }
        }
        if job.failed {
            self.complete_job(j, crate::outcome::Outcome::Error);
        } else {
            self.run_steps(j);
        }
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

    /// Job `j` yields its loop (it waits on a call, a publish, or it
    /// answered).
    #[inline(never)]
    pub(super) fn release_loop(&mut self, j: JobId) {
        let now = self.now;
        let job = &mut self.jobs[j];
        if !job.on_loop {
            return;
        }
        job.on_loop = false;
        let (s, r) = (job.service, job.replica);
        let rep = &mut self.replicas[s][r as usize];
        if rep.loops_free == 0 && !rep.loops.run_queue.is_empty() {
            return self.hand_loop_over(s, r);
        }
        rep.loops_free += 1;
        rep.loops.area += i128::from(now);
    }

    /// A loop freed while continuations wait: it stays taken (it is the
    /// head's), handed over by a `LoopFree` at the same instant.
    #[cold]
    #[inline(never)]
    fn hand_loop_over(&mut self, s: crate::model::ServiceId, r: u32) {
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
            self.jobs[j].on_loop = true;
            // (`proceed` already set aside a job that became ready in a
            // pause; one handed a loop in a pause keeps it, frozen.)
            if self.rt[s] & super::RT_GC != 0 && self.set_aside_in_pause(j) {
                return;
            }
            if self.jobs[j].failed {
                self.complete_job(j, crate::outcome::Outcome::Error);
            } else {
                self.run_steps(j);
            }
            return;
        }
        let rep = &mut self.replicas[s][r];
        rep.loops_free += 1;
        rep.loops.area += i128::from(now);
    }

    /// A crash or an OOM kill empties the replica's loops and run queue
    /// (its jobs are already cut off).
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
        for s in 0..self.rt.len() {
            if self.rt[s] & super::RT_LOOP == 0 {
                continue;
            }
            let loops = self.m.services[s].loops().unwrap_or(0);
            let (mut busy, mut area, mut zero_waits) = (0i128, 0i128, 0u64);
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
