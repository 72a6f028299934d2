//! Processor sharing on a CPU — a replica's own cores (`cores = N`) or a
//! node's, shared by every replica placed on it: every job in a
//! work step shares the cores equally (egalitarian processor sharing).
//!
//! Each job's finish is fixed in *virtual* time when its work starts, and
//! virtual time runs at `min(1, cores / active)`. The active jobs sit in a
//! heap on virtual finish, so an event costs O(log active) — a replica with
//! a thousand cores costs about what one with ten does. Jobs finishing at
//! the same moment go on in the order their work started.
//!
//! Owns the CPU schedule of each replica; must not run steps itself (it
//! hands finished jobs back to `service`).

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use super::World;
use super::event::Ev;
use super::ids::JobId;
use crate::time::Nanos;

/// A job in a work step on a processor-sharing replica.
#[derive(Clone, Copy, Debug)]
struct Running {
    /// Virtual time at which its work is done.
    finish: f64,
    /// Order its work started in (ties in `finish` go by this).
    order: u64,
    job: JobId,
    generation: u32,
}

impl PartialEq for Running {
    fn eq(&self, o: &Self) -> bool {
        self.cmp(o) == Ordering::Equal
    }
}
impl Eq for Running {}
impl PartialOrd for Running {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Running {
    /// Reversed: the max-heap's top is the earliest finish.
    fn cmp(&self, o: &Self) -> Ordering {
        o.finish
            .total_cmp(&self.finish)
            .then(o.order.cmp(&self.order))
    }
}

/// A job taken off a CPU by a stop-the-world pause of its replica: the
/// virtual work it has left, kept until the pause ends.
#[derive(Clone, Copy, Debug)]
pub(super) struct Suspended {
    pub left: f64,
    pub order: u64,
    pub job: JobId,
    pub generation: u32,
}

/// Egalitarian processor sharing on one replica's cores.
pub(super) struct Cpu {
    cores: u32,
    /// Virtual nanoseconds of work done per job so far.
    vclock: f64,
    /// Cores busy × time, ns.
    busy_core_ns: f64,
    last: Nanos,
    active: BinaryHeap<Running>,
    started: u64,
    /// Bumped whenever the next completion is re-armed: older `CpuDone`
    /// events are stale.
    generation: u32,
}

impl Cpu {
    pub(super) fn new(cores: u32) -> Cpu {
        Cpu {
            cores,
            vclock: 0.0,
            busy_core_ns: 0.0,
            last: 0,
            active: BinaryHeap::new(),
            started: 0,
            generation: 0,
        }
    }

    pub(super) fn generation(&self) -> u32 {
        self.generation
    }

    fn rate(&self) -> f64 {
        let n = self.active.len() as f64;
        if n <= f64::from(self.cores) {
            1.0
        } else {
            f64::from(self.cores) / n
        }
    }

    fn advance(&mut self, now: Nanos) {
        let dt = (now - self.last) as f64;
        self.vclock += dt * self.rate();
        self.busy_core_ns += dt * (self.active.len() as f64).min(f64::from(self.cores));
        self.last = now;
    }

    /// Core-nanoseconds spent on work since the start (an autoscaler's
    /// CPU metric).
    pub(super) fn busy_core_time(&mut self, now: Nanos) -> f64 {
        self.advance(now);
        self.busy_core_ns
    }

    /// When the next job finishes, in real time.
    fn next_done(&self, now: Nanos) -> Option<Nanos> {
        self.active.peek().map(|r| {
            let wait = ((r.finish - self.vclock).max(0.0) / self.rate()).ceil();
            now.saturating_add(wait as Nanos)
        })
    }

    /// A job starts `work` nanoseconds of work.
    fn start(&mut self, now: Nanos, job: JobId, generation: u32, work: Nanos) {
        self.advance(now);
        self.active.push(Running {
            finish: self.vclock + work as f64,
            order: self.started,
            job,
            generation,
        });
        self.started += 1;
    }

    /// Takes a job off the CPU (its replica crashed).
    pub(super) fn remove(&mut self, now: Nanos, job: JobId) {
        self.advance(now);
        self.active.retain(|r| r.job != job);
    }

    /// Takes off the CPU the jobs `pick` selects (their replica stopped
    /// the world), each with the work it has left, into `out`.
    pub(super) fn suspend(
        &mut self,
        now: Nanos,
        pick: impl Fn(JobId) -> bool,
        out: &mut Vec<Suspended>,
    ) {
        self.advance(now);
        let vclock = self.vclock;
        let mut kept = Vec::with_capacity(self.active.len());
        for r in std::mem::take(&mut self.active).into_vec() {
            if pick(r.job) {
                out.push(Suspended {
                    left: (r.finish - vclock).max(0.0),
                    order: r.order,
                    job: r.job,
                    generation: r.generation,
                });
            } else {
                kept.push(r);
            }
        }
        self.active = BinaryHeap::from(kept);
    }

    /// A suspended job (or one whose work starts in a pause: `left` its
    /// whole work, `order` from `next_order`) shares the cores again.
    pub(super) fn resume(&mut self, now: Nanos, s: Suspended) {
        self.advance(now);
        self.active.push(Running {
            finish: self.vclock + s.left,
            order: s.order,
            job: s.job,
            generation: s.generation,
        });
    }

    /// The start order of a work step that does not join the CPU yet.
    pub(super) fn next_order(&mut self) -> u64 {
        self.started += 1;
        self.started - 1
    }

    /// Moves the jobs whose work is done into `done`, in the order their
    /// work started.
    fn take_done(&mut self, now: Nanos, done: &mut Vec<(u64, JobId, u32)>) {
        self.advance(now);
        // Half a nanosecond of slack: completion times are rounded up.
        let v = self.vclock + 0.5;
        while let Some(r) = self.active.peek()
            && r.finish <= v
        {
            let r = self.active.pop().expect("peeked");
            done.push((r.order, r.job, r.generation));
        }
        done.sort_unstable_by_key(|d| d.0);
    }
}

impl World<'_> {
    /// A job on a processor-sharing CPU starts a work step.
    pub(super) fn start_cpu_work(&mut self, cpu: usize, job: JobId, work: Nanos) {
        if self.rt[self.jobs[job].service] & super::RT_GC != 0
            && self.work_waits_for_pause(cpu, job, work)
        {
            return;
        }
        let generation = self.jobs[job].generation;
        self.cpus[cpu].start(self.now, job, generation, work);
        self.reschedule_cpu(cpu);
    }

    /// Arms the CPU's next processor-sharing completion (older ones
    /// become stale).
    pub(super) fn reschedule_cpu(&mut self, c: usize) {
        let now = self.now;
        let cpu = &mut self.cpus[c];
        cpu.generation = cpu.generation.wrapping_add(1);
        if let Some(t) = cpu.next_done(now) {
            let generation = cpu.generation;
            self.schedule(
                t,
                Ev::CpuDone {
                    cpu: c as u32,
                    generation,
                },
            );
        }
    }

    /// Jobs whose work is done leave the CPU and go on to their next step
    /// (on a node, jobs of several services).
    pub(super) fn on_cpu_done(&mut self, c: usize) {
        let mut done = std::mem::take(&mut self.cpu_done);
        self.cpus[c].take_done(self.now, &mut done);
        self.reschedule_cpu(c);
        for &(_, j, g) in &done {
            if self.jobs[j].generation == g {
                self.trace_step_end(j);
                self.jobs[j].step += 1;
                self.run_steps(j);
            }
        }
        done.clear();
        self.cpu_done = done;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_share_the_cores_and_leave_in_finish_then_start_order() {
        let mut cpu = Cpu::new(2);
        // Four jobs of 10, 20, 10 and 30 ns at time 0 on 2 cores: rate 1/2.
        for (k, w) in [10, 20, 10, 30].into_iter().enumerate() {
            cpu.start(0, JobId(k as u32), 0, w);
        }
        assert_eq!(cpu.next_done(0), Some(20), "10 ns of work at half speed");
        let mut done = Vec::new();
        cpu.take_done(20, &mut done);
        let ids: Vec<u32> = done.iter().map(|d| d.1.0).collect();
        assert_eq!(ids, [0, 2], "equal finishes leave in start order");
        // Two left (10 and 20 ns to go) on 2 cores: full speed.
        assert_eq!(cpu.next_done(20), Some(30));
        done.clear();
        cpu.take_done(30, &mut done);
        assert_eq!(done.iter().map(|d| d.1.0).collect::<Vec<_>>(), [1]);
        assert_eq!(cpu.next_done(30), Some(40));
    }
}
