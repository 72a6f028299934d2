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
//! cold, busy loops are a lazy level (`metrics/lazy_level.rs`), and a
//! continuation that answers at once on a free loop is not counted on it.
//!
//! Owns the loops and the run queue; must not decide what a step does
//! (that is `service`).

use super::World;
use super::event::Ev;
use super::ids::JobId;

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
    /// takes a loop or waits in the run queue. (Only tail calls, so the
    /// common paths need no stack frame.)
    #[inline(never)]
    fn proceed_on_loop(&mut self, j: JobId) {
        if self.jobs[j].on_loop {
            self.continue_on_loop(j);
        } else {
            self.take_loop(j);
        }
    }

    /// A job not on a loop is ready: it takes a free loop if no
    /// continuation waits for one, else it joins the run queue.
    ///
    /// A job that answers at once (its steps are done, or a call it waited
    /// on failed) runs without being counted on the loop: it would take
    /// the loop and give it back at the same instant, which changes no
    /// figure (busy loops are an integral over time) and no decision (the
    /// loop is free again before anything else runs), so neither is done.
    #[inline(never)]
    fn take_loop(&mut self, j: JobId) {
        let now = self.now;
        let job = &mut self.jobs[j];
        let (s, r) = (job.service.index(), job.replica as usize);
        let rep = &mut self.replicas[s][r];
        let Some(stats) = self.rec.runtime[s].as_deref_mut() else {
            unreachable!("event loops are measured")
        };
        if rep.loops_busy >= stats.loops() || !rep.run_queue.is_empty() {
            return self.wait_for_loop(j);
        }
        stats.record_no_run_wait(now);
        if job.step == job.end_step || job.failed {
            return self.continue_on_loop(j);
        }
        job.on_loop = true;
        rep.loops_busy += 1;
        stats.loop_taken(now);
        self.run_steps(j);
    }

    /// Every loop of job `j`'s replica is busy, or continuations wait
    /// already: it joins the run queue.
    #[cold]
    #[inline(never)]
    fn wait_for_loop(&mut self, j: JobId) {
        let job = &self.jobs[j];
        let (s, r, generation) = (job.service.index(), job.replica as usize, job.generation);
        let now = self.now;
        self.replicas[s][r].run_queue.push_back((j, generation));
        self.rec.runtime[s]
            .as_mut()
            .expect("event loops are measured")
            .add_run_queue(now, 1);
        *self.mark(j) = now;
    }

    /// The job runs on its loop: its next steps, or its failure answer
    /// when a call it waited on failed.
    #[inline(always)]
    fn continue_on_loop(&mut self, j: JobId) {
        if self.jobs[j].failed {
            self.complete_job(j, crate::outcome::Outcome::Error);
        } else {
            self.run_steps(j);
        }
    }

    /// Job `j` yields its loop (it waits on a call, a publish, or it
    /// answered).
    #[inline(never)]
    pub(super) fn release_loop(&mut self, j: JobId) {
        let job = &mut self.jobs[j];
        if !job.on_loop {
            return;
        }
        job.on_loop = false;
        let (s, r) = (job.service, job.replica);
        let rep = &mut self.replicas[s][r as usize];
        if !rep.run_queue.is_empty() {
            return self.hand_loop_over(s, r);
        }
        rep.loops_busy -= 1;
        let now = self.now;
        if let Some(stats) = &mut self.rec.runtime[s] {
            stats.loop_idle(now);
        }
    }

    /// A loop freed while continuations wait: it stays counted busy (it
    /// is the head's), handed over by a `LoopFree` at the same instant.
    #[cold]
    #[inline(never)]
    fn hand_loop_over(&mut self, s: crate::model::ServiceId, r: u32) {
        self.replicas[s][r as usize].handoffs += 1;
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
        if rep.handoffs == 0 {
            return; // the replica was killed meanwhile
        }
        rep.handoffs -= 1;
        while let Some((j, generation)) = self.replicas[s][r].run_queue.pop_front() {
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
            self.continue_on_loop(j);
            return;
        }
        self.replicas[s][r].loops_busy -= 1;
        if let Some(stats) = &mut self.rec.runtime[s] {
            stats.loop_idle(now);
        }
    }

    /// A crash or an OOM kill empties the replica's loops and run queue
    /// (its jobs are already cut off).
    pub(super) fn reset_loops(&mut self, s: usize, r: usize) {
        let now = self.now;
        let rep = &mut self.replicas[s][r];
        let (busy, queued) = (rep.loops_busy, rep.run_queue.len());
        rep.loops_busy = 0;
        rep.handoffs = 0;
        rep.run_queue.clear();
        if let Some(stats) = &mut self.rec.runtime[s] {
            stats.add_busy_loops(now, -i64::from(busy));
            stats.add_run_queue(now, -(queued as i64));
        }
    }
}
