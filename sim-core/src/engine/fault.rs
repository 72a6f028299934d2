//! Faults: the start and end of each fault window and its effect on
//! replicas (slowdown, crash, hang, lost threads, pause, injected errors),
//! edges (latency, partition), sources (surges), brokers and caches.
//!
//! Owns the bookkeeping of which faults are in force; must not schedule
//! fault windows (the world does at start) or draw from another process's
//! stream.

use super::World;
use super::ids::JobId;
use super::records::JobState;
use crate::model::{FaultKind, ServiceId};
use crate::outcome::Outcome;

impl World<'_> {
    pub(super) fn on_fault(&mut self, f: usize, starting: bool) {
        let fault = &self.m.faults[f];
        match fault.kind {
            FaultKind::Latency(_) => {
                for &e in &fault.edges {
                    let list = &mut self.edge_faults[e];
                    if starting {
                        list.push(f as u32);
                    } else {
                        list.retain(|x| *x != f as u32);
                    }
                    self.edge_net[e].latency_faults = list.len() as u32;
                }
            }
            FaultKind::Partition => {
                for &e in &fault.edges {
                    if starting {
                        self.edge_net[e].partitions += 1;
                    } else {
                        self.edge_net[e].partitions -= 1;
                    }
                }
            }
            FaultKind::Flush => {
                if starting {
                    self.flush_cache(
                        fault.cache.expect("a flush names a cache") as usize,
                        fault.replica,
                    );
                }
            }
            FaultKind::CacheOutage { .. } | FaultKind::CacheSlowdown(_) => {
                self.cache_fault(fault.cache.expect("cache faults name a cache") as usize);
            }
            FaultKind::StoreOutage { store } | FaultKind::StoreSlowdown { store, .. } => {
                self.store_fault(store as usize);
            }
            FaultKind::Outage | FaultKind::SlowBroker(_) => {
                self.broker_fault(fault.broker.expect("broker faults name a broker") as usize);
            }
            FaultKind::Surge(_) => {
                let src = fault.source.expect("a surge names a source") as usize;
                let factor: f64 = (0..self.m.faults.len())
                    .filter(|&g| {
                        let other = &self.m.faults[g];
                        other.source == Some(src as u32)
                            && other.start <= self.now
                            && self.now < other.end
                            && (g != f || starting)
                    })
                    .map(|g| match self.m.faults[g].kind {
                        FaultKind::Surge(x) => x,
                        _ => 1.0,
                    })
                    .product();
                // The arrival already scheduled at `last` is number
                // `sent + 1`: the new spacing counts from it.
                let st = &mut self.sources[src];
                st.anchor = (st.last, st.sent + 1);
                st.factor = factor;
            }
            FaultKind::Slowdown(_) if fault.steps.is_some() => {
                let s = (fault.service.expect("a scoped slowdown names a service")).index();
                if starting {
                    self.scoped.push(f as u32);
                } else {
                    self.scoped.retain(|x| *x != f as u32);
                }
                let any = self
                    .scoped
                    .iter()
                    .any(|&g| self.m.faults[g as usize].service == Some(ServiceId::at(s)));
                if any {
                    self.rt[s] |= super::RT_SCOPED;
                } else {
                    self.rt[s] &= !super::RT_SCOPED;
                }
            }
            FaultKind::Slowdown(_)
            | FaultKind::Errors(_)
            | FaultKind::Crash
            | FaultKind::Hang
            | FaultKind::LostThreads(_)
            | FaultKind::Pause => {
                let s = (fault.service.expect("service faults name a service")).index();
                if starting {
                    self.svc_faults[s].push(f as u32);
                } else {
                    self.svc_faults[s].retain(|x| *x != f as u32);
                }
                if self.svc_faults[s].is_empty() {
                    self.rt[s] &= !super::RT_FAULTED;
                } else {
                    self.rt[s] |= super::RT_FAULTED;
                }
                self.recompute_replicas(s);
                if starting && matches!(fault.kind, FaultKind::Crash) {
                    self.crash(s, fault.replica, Outcome::Refused);
                }
                if !starting {
                    // Capacity is back: queued requests and consumers take
                    // the threads.
                    for r in 0..self.replicas[s].len() {
                        self.refill(s, r);
                    }
                }
                if self.logs.consumes(s) {
                    self.log_membership(s);
                }
            }
        }
    }

    fn recompute_replicas(&mut self, s: usize) {
        for (r, rep) in self.replicas[s].iter_mut().enumerate() {
            rep.slowdown = 1.0;
            rep.crashed = 0;
            rep.hung = 0;
            rep.lost = 0;
            rep.paused_until = 0;
            for &f in &self.svc_faults[s] {
                let fault = &self.m.faults[f as usize];
                if fault.replica.is_some_and(|x| x as usize != r) {
                    continue;
                }
                match fault.kind {
                    FaultKind::Slowdown(x) => rep.slowdown *= x,
                    FaultKind::Crash => rep.crashed += 1,
                    FaultKind::Hang => rep.hung += 1,
                    FaultKind::LostThreads(n) => {
                        rep.lost = (rep.lost + n).min(self.m.services[s].threads)
                    }
                    FaultKind::Pause => rep.paused_until = rep.paused_until.max(fault.end),
                    _ => {}
                }
            }
        }
    }

    /// A crash loses the work in progress: queued and running jobs of the
    /// replicas hit are cut off and their callers told at once (a hop away)
    /// with `cut_off`: `Refused` for a `crash` fault (DESIGN: a crash
    /// refuses), `Reset` for an OOM kill (the process died holding them).
    pub(super) fn crash(&mut self, s: usize, only: Option<u32>, cut_off: Outcome) {
        for i in 0..self.jobs.len() as u32 {
            let j = JobId(i);
            let job = self.jobs[j];
            if job.service.index() != s
                || only.is_some_and(|r| r != job.replica)
                || !matches!(job.state, JobState::Queued | JobState::Running)
            {
                continue;
            }
            if job.filling {
                self.abandon_fill(j, job);
            }
            let now = self.now;
            if job.state == JobState::Queued {
                self.rec.add_queued(s, now, -1);
            } else {
                self.release_cut_off_loop(j);
                self.rec.add_busy(s, now, -1);
                let rep = &mut self.replicas[s][job.replica as usize];
                rep.busy -= 1;
                if let Some(cpu) = rep.cpu {
                    self.cpus[cpu as usize].remove(now, j);
                }
            }
            if self.sagas.on {
                self.saga_cut_off(j);
            }
            if cut_off == Outcome::Reset {
                self.reset_counted(s);
            } else {
                self.rec.count_rejected(s, true);
            }
            self.refuse(j, cut_off);
        }
        for (r, rep) in self.replicas[s].iter_mut().enumerate() {
            if only.is_none_or(|x| x as usize == r) {
                rep.clear_queue();
            }
        }
        if self.rt[s] & super::RT_SCALE != 0 {
            self.drained_after_crash(s);
        }
        if !self.caches.is_empty() {
            self.crash_local_caches(s, only);
        }
        if self.outbox.on {
            self.outbox_crash(s, only);
        }
        for r in 0..self.replicas[s].len() {
            if let Some(cpu) = self.replicas[s][r].cpu {
                self.reschedule_cpu(cpu as usize);
            }
            if only.is_none_or(|x| x as usize == r) && self.m.services[s].loops().is_some() {
                self.reset_loops(s, r);
            }
        }
    }

    /// The product of the slowdowns scoped to `step` in force on `replica`.
    pub(super) fn scoped_slowdown(&self, step: u32, replica: u32) -> f64 {
        let mut f = 1.0;
        for &g in &self.scoped {
            let fault = &self.m.faults[g as usize];
            if let (FaultKind::Slowdown(x), Some(steps)) = (&fault.kind, &fault.steps)
                && fault.replica.is_none_or(|r| r == replica)
                && steps.binary_search(&step).is_ok()
            {
                f *= x;
            }
        }
        f
    }

    /// Whether an injected-errors fault in force turns this answer into an
    /// error. A job's operation is known by its steps' end (`end_step`).
    pub(super) fn inject_error(&mut self, s: usize, replica: u32, end_step: u32) -> bool {
        let mut hit = false;
        for k in 0..self.svc_faults[s].len() {
            let f = self.svc_faults[s][k] as usize;
            let fault = &self.m.faults[f];
            if let FaultKind::Errors(p) = fault.kind
                && fault.replica.is_none_or(|r| r == replica)
                && fault.op.is_none_or(|o| {
                    let op = &self.m.ops[o as usize];
                    op.first_step + op.step_count == end_step
                })
            {
                let u: f64 = rand::RngExt::random(&mut self.fault_rng[f]);
                hit |= u < p;
            }
        }
        hit
    }
}
