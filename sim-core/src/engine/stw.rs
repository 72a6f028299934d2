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
//! What a pause does not freeze: the caller-side timers of calls already
//! sent (a timeout, a retry's backoff, a hedge) fire on time and a retry or
//! hedge attempt leaves at once; only the job's going on waits.
//!
//! Owns the jobs set aside during pauses; must not decide what a step
//! does (`service`) or when a pause starts (`memory`).

use super::World;
use super::cpu::Suspended;
use super::ids::JobId;
use crate::model::ServiceId;

/// Jobs set aside by GC pauses, each with its replica.
#[derive(Default)]
pub(super) struct Stopped {
    /// Taken off a processor-sharing CPU (`cpu` indexes `World::cpus`).
    cpu: Vec<(ServiceId, u32, u32, Suspended)>,
    /// Ready to go on, in the order they became ready.
    ready: Vec<(ServiceId, u32, JobId, u32)>,
    /// Scratch: a CPU's suspended jobs, and the continuations due.
    scratch: Vec<Suspended>,
    due: Vec<(JobId, u32)>,
}

impl World<'_> {
    /// Whether replica `r` of `s` is in a GC pause now.
    #[inline]
    fn in_pause(&self, s: usize, r: usize) -> bool {
        self.replicas[s][r].life.stw_until > self.now
    }

    /// A pause of replica `r` of `s` starts: its jobs leave its
    /// processor-sharing CPU (if it has one).
    pub(super) fn stw_begin(&mut self, s: usize, r: usize) {
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
            .push((ServiceId::at(s), r as u32, j, generation));
        true
    }

    /// The pause of replica `r` of `s` is over: its CPU jobs share the
    /// cores again, then the continuations set aside go on in order.
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
        self.stw.ready.retain(|&(s2, r2, j, generation)| {
            if (s2, r2) != (sid, rid) {
                return true;
            }
            due.push((j, generation));
            false
        });
        for &(j, generation) in &due {
            // Each goes on as it would have: a new pause (one of them
            // allocating) sets the rest aside again, in order.
            if self.jobs[j].generation == generation {
                self.proceed(j);
            }
        }
        due.clear();
        self.stw.due = due;
    }
}
