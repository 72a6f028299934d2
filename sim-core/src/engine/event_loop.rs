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

    fn proceed_on_loop(&mut self, j: JobId) {
        let job = &self.jobs[j];
        let (s, r, on_loop, generation) = (
            job.service.index(),
            job.replica as usize,
            job.on_loop,
            job.generation,
        );
        let loops = self.m.services[s]
            .loops()
            .expect("proceed sends only event loops here");
        if on_loop {
            return self.continue_on_loop(j);
        }
        let now = self.now;
        let rep = &mut self.replicas[s][r];
        let stats = self.rec.runtime[s]
            .as_mut()
            .expect("event loops are measured");
        if rep.loops_busy < loops && rep.run_queue.is_empty() {
            rep.loops_busy += 1;
            stats.add_busy_loops(now, 1);
            stats.record_no_run_wait(now);
            self.jobs[j].on_loop = true;
            self.continue_on_loop(j);
        } else {
            rep.run_queue.push_back((j, generation));
            stats.add_run_queue(now, 1);
            *self.mark(j) = now;
        }
    }

    /// The job runs on its loop: its next steps, or its failure answer
    /// when a call it waited on failed.
    fn continue_on_loop(&mut self, j: JobId) {
        if self.jobs[j].failed {
            self.complete_job(j, crate::outcome::Outcome::Error);
        } else {
            self.run_steps(j);
        }
    }

    /// Job `j` yields its loop (it waits on a call, a publish, or it
    /// answered).
    pub(super) fn release_loop(&mut self, j: JobId) {
        let job = &mut self.jobs[j];
        if !job.on_loop {
            return;
        }
        job.on_loop = false;
        let (s, r) = (job.service, job.replica);
        let rep = &mut self.replicas[s][r as usize];
        if rep.run_queue.is_empty() {
            rep.loops_busy -= 1;
            let now = self.now;
            if let Some(stats) = &mut self.rec.runtime[s] {
                stats.add_busy_loops(now, -1);
            }
        } else {
            // The loop stays counted busy: it is the head's.
            rep.handoffs += 1;
            self.schedule(
                self.now,
                Ev::LoopFree {
                    service: s,
                    replica: r,
                },
            );
        }
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
            stats.add_busy_loops(now, -1);
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
