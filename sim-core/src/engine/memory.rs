//! Memory: each replica's exact gauge, the OOM kill above its limit, the
//! restart after it (CrashLoopBackOff, cold start, readiness), and garbage
//! collection driven by the live heap.
//!
//! The gauge is `base + per_request × busy + per_queued × queued`, where
//! `busy` counts every request the replica holds (a thread, or an open
//! event-loop connection, or a consumer's message) and `queued` its accept
//! queue; it is 0 while the replica is down. Every change of either goes
//! through `memory_changed`, which kills the replica when the gauge passes
//! the limit.
//!
//! A GC pause stops the world: work steps make no progress during it
//! (`stw_total` counts the replica's paused time, and a work step finishes
//! only once it has run its length outside pauses); processor-shared work
//! and the jobs' continuations wait for its end (`stw`). It starts when the
//! allocation since the last collection reaches the free heap, `limit -
//! live`, and lasts `young_pause + per_live_mib × live MiB`.
//!
//! Owns the replica's lifecycle state; must not run steps.

use super::World;
use super::event::Ev;
use super::ids::JobId;
use crate::model::ServiceId;
use crate::time::Nanos;

/// A replica's memory and lifecycle. All zero for a service without memory.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Life {
    /// Killed, waiting for its restart.
    pub down: bool,
    /// Takes traffic from this moment (after a restart's `ready_after`).
    pub ready_at: Nanos,
    /// Started (or restarted) at.
    pub started: Nanos,
    /// Work is slowed until then after a restart.
    pub cold_until: Nanos,
    /// The next restart delay (CrashLoopBackOff).
    pub backoff: Nanos,
    /// Bytes allocated since the last collection.
    pub allocated: u64,
    /// Total stop-the-world time, counting the current pause whole.
    pub stw_total: Nanos,
    /// End of the current (or last) pause.
    pub stw_until: Nanos,
}

impl Life {
    /// The replica's paused time up to `now` (within or after the last
    /// pause).
    #[inline]
    pub fn paused_by(&self, now: Nanos) -> Nanos {
        self.stw_total - self.stw_until.saturating_sub(now)
    }
}

impl World<'_> {
    /// Replica `r` of `s` holds more or fewer requests: its gauge moves,
    /// and above the limit it is killed. Returns whether it was.
    #[inline(always)]
    pub(super) fn memory_changed(&mut self, s: usize, r: usize) -> bool {
        self.rt[s] & super::RT_MEMORY != 0 && self.memory_moved(s, r)
    }

    fn memory_moved(&mut self, s: usize, r: usize) -> bool {
        let Some(mem) = self.m.services[s].memory else {
            return false;
        };
        let rep = &self.replicas[s][r];
        if rep.life.down {
            return false;
        }
        let bytes = mem
            .base
            .saturating_add(mem.per_request.saturating_mul(u64::from(rep.busy)))
            .saturating_add(mem.per_queued.saturating_mul(u64::from(rep.queued())));
        let now = self.now;
        let stats = self.rec.runtime[s].as_mut().expect("memory is measured");
        stats.set_memory(now, r, bytes);
        if bytes > mem.limit {
            self.oom_kill(s, r);
            return true;
        }
        false
    }

    /// Every request in the replica fails at once (its callers hear
    /// `reset` a hop later), and it restarts after its CrashLoopBackOff
    /// delay.
    fn oom_kill(&mut self, s: usize, r: usize) {
        let now = self.now;
        let life = self.m.services[s].lifecycle;
        {
            let rep = &mut self.replicas[s][r];
            rep.life.down = true;
            if now.saturating_sub(rep.life.started) >= life.reset_after || rep.life.backoff == 0 {
                rep.life.backoff = life.delay;
            }
        }
        let cold_left = self.replicas[s][r].life.cold_until.saturating_sub(now);
        self.replicas[s][r].life.cold_until = 0;
        let stats = self.rec.runtime[s].as_mut().expect("memory is measured");
        stats.oom_kill(now, r, cold_left);
        stats.set_memory(now, r, 0);
        self.crash(s, Some(r as u32), crate::outcome::Outcome::Reset);
        if self.logs.consumes(s) {
            self.log_membership(s);
        }
        let rep = &mut self.replicas[s][r];
        let delay = rep.life.backoff;
        rep.life.backoff = delay.saturating_mul(2).min(life.max_delay);
        let in_pause = rep.life.stw_until > now;
        if in_pause {
            // The pause dies with the process.
            rep.life.stw_total -= rep.life.stw_until - now;
            rep.life.stw_until = now;
        }
        rep.life.allocated = 0;
        self.schedule(
            self.at(delay),
            Ev::Restart {
                service: ServiceId::at(s),
                replica: r as u32,
            },
        );
        if in_pause {
            // What it set aside is let go now (its jobs are gone).
            self.stw_end(s, r);
        }
    }

    /// A killed replica starts again: cold, and ready after its delay.
    pub(super) fn on_restart(&mut self, s: usize, r: usize) {
        if self.rt[s] & super::RT_SCALE != 0 && !self.restarts_in_place(s, r) {
            return; // removed by its autoscaler since
        }
        let now = self.now;
        let life = self.m.services[s].lifecycle;
        let base = self.m.services[s].memory.map_or(0, |m| m.base);
        let ready_at = self.at(life.ready_after);
        let cold_until = if life.cold_slowdown > 1.0 {
            self.at(life.cold_for)
        } else {
            0
        };
        let rep = &mut self.replicas[s][r];
        rep.life.down = false;
        rep.life.started = now;
        rep.life.ready_at = ready_at;
        rep.life.cold_until = cold_until;
        let stats = self.rec.runtime[s].as_mut().expect("memory is measured");
        stats.restart(
            now,
            r,
            if life.cold_slowdown > 1.0 {
                life.cold_for
            } else {
                0
            },
        );
        stats.set_memory(now, r, base);
        if self.logs.consumes(s) {
            self.log_membership(s);
        }
        self.refill(s, r);
    }

    /// Whether replica `r` of `s` takes traffic now.
    #[inline]
    pub(super) fn is_ready(&self, s: usize, r: usize) -> bool {
        let life = &self.replicas[s][r].life;
        !life.down && life.ready_at <= self.now
    }

    /// The cold-start factor of replica `r`'s work: from `cold_slowdown`
    /// at the restart down to 1 at its end.
    #[inline]
    pub(super) fn cold_factor(&self, s: usize, r: usize) -> f64 {
        let life = &self.replicas[s][r].life;
        if life.cold_until <= self.now {
            return 1.0;
        }
        let l = &self.m.services[s].lifecycle;
        let left = (life.cold_until - self.now) as f64 / l.cold_for.max(1) as f64;
        1.0 + (l.cold_slowdown - 1.0) * left
    }

    /// A request starts on replica `r`: it allocates, and a collection
    /// starts when the allocation since the last one reaches the free heap.
    pub(super) fn allocate(&mut self, s: usize, r: usize) {
        let Some(gc) = self.m.services[s].memory.and_then(|m| m.gc) else {
            return;
        };
        let limit = self.m.services[s].memory.map_or(0, |m| m.limit);
        let now = self.now;
        let live = self.rec.runtime[s]
            .as_ref()
            .expect("memory is measured")
            .memory_of(r);
        let life = &mut self.replicas[s][r].life;
        life.allocated = life.allocated.saturating_add(gc.allocation);
        if life.down || life.stw_until > now || life.allocated < limit.saturating_sub(live) {
            return;
        }
        let mib = live as f64 / (1024.0 * 1024.0);
        let pause = gc
            .young_pause
            .saturating_add((gc.per_live_mib * mib).round() as Nanos);
        life.allocated = 0;
        life.stw_total = life.stw_total.saturating_add(pause);
        life.stw_until = now.saturating_add(pause);
        self.rec.runtime[s]
            .as_mut()
            .expect("memory is measured")
            .gc_start(now, pause);
        self.schedule(
            self.at(pause),
            Ev::GcEnd {
                service: ServiceId::at(s),
                replica: r as u32,
            },
        );
        self.stw_begin(s, r);
    }

    /// A request cut off by an OOM kill of `s`: counted for the summary
    /// and the memory series.
    pub(super) fn reset_counted(&mut self, s: usize) {
        self.rec.services[s].reset += 1;
        if let Some(stats) = self.rec.runtime[s].as_mut() {
            stats.reset();
        }
    }

    pub(super) fn on_gc_end(&mut self, s: usize, r: usize) {
        let now = self.now;
        self.rec.runtime[s]
            .as_mut()
            .expect("memory is measured")
            .gc_end(now);
        self.stw_gc_end_seen();
        // Unless a kill ended it early and a later pause is in force.
        if self.replicas[s][r].life.stw_until <= now {
            self.stw_end(s, r);
        }
    }

    /// Marks the start of job `j`'s work step on a replica with GC.
    #[inline]
    pub(super) fn mark_work_start(&mut self, j: JobId, s: usize, r: usize) {
        let now = self.now;
        let paused = self.replicas[s][r].life.paused_by(now);
        *self.mark(j) = paused;
    }

    /// When job `j`'s work step, due now, must still make up for the
    /// pauses it sat through: the moment it really ends, or `None` if now.
    pub(super) fn stw_owed(&mut self, j: JobId, s: usize, r: usize) -> Option<Nanos> {
        let now = self.now;
        let life = self.replicas[s][r].life;
        let owed = life.paused_by(now).saturating_sub(*self.mark(j));
        if owed == 0 {
            return None;
        }
        // Runs again only after the pause in force, for what it owes.
        let resume = life.stw_until.max(now);
        *self.mark(j) = life.stw_total;
        Some(resume.saturating_add(owed))
    }
}
