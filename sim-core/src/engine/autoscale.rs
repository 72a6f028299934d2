//! Autoscaling: each autoscaled service's replicas as Kubernetes runs them
//! under a HorizontalPodAutoscaler — created, starting, serving, draining.
//!
//! The service has `Autoscale::slots` replica slots (its model's
//! `replicas`); each is off, starting (created, not ready: no traffic),
//! serving (in the balancer's list) or draining (removed: takes no new
//! request, finishes what it holds and what waits in its queue, then is
//! off). Every `period` the autoscaler measures the usage over the period
//! and asks `patterns::autoscale::Hpa` for the replicas to run; it creates
//! starting replicas in the lowest free slots, or removes the newest ones
//! (starting before serving, as a ReplicaSet deletes unready pods first).
//! A new replica is ready `startup` after it is created, then cold
//! (`cold_start`) like a restarted one. At most `max` replicas drain at
//! once beside those serving: a scale-up that finds no free slot waits for
//! the next period.
//!
//! The usage is the service's busy threads (or its replicas' busy cores)
//! averaged over the period, in pods' worth; draining replicas' work
//! counts in it, as their threads are still busy.
//!
//! What joining and leaving means to memory, outlier detection, queue
//! consumers and consumer groups is `autoscale_join`'s.
//!
//! Owns the replicas' scale states and the balancer's list of serving
//! replicas; must not run steps (`service` does) or decide (`Hpa` does).

use std::collections::VecDeque;

use super::World;
use super::event::Ev;
use crate::model::{Model, ServiceId};
use crate::patterns::autoscale::{Autoscale, Hpa, ScaleMetric};
use crate::time::Nanos;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Slot {
    Off,
    Starting,
    Serving,
    Draining,
}

impl Scaler {
    /// Whether replica `r` is in the balancer's list (serving).
    #[inline]
    pub fn in_service(&self, r: usize) -> bool {
        self.slot[r] == Slot::Serving
    }

    /// Whether replica `r` exists (starting, serving or draining).
    #[inline]
    pub fn exists(&self, r: usize) -> bool {
        self.slot[r] != Slot::Off
    }
}

/// One autoscaled service's replicas and its autoscaler.
pub(super) struct Scaler {
    cfg: Autoscale,
    hpa: Hpa,
    slot: Vec<Slot>,
    /// Bumped when a slot is created again: a stale readiness is ignored.
    generation: Vec<u32>,
    /// The balancer's replicas, oldest first.
    pub serving: Vec<u32>,
    /// Starting replicas, oldest first.
    starting: VecDeque<u32>,
    /// The usage integral (pods' worth × ns) at the last decision.
    last_integral: f64,
    last_sync: Nanos,
}

/// The scalers of `m`'s services (empty when none autoscales).
pub(super) fn scalers(m: &Model) -> Vec<Option<Box<Scaler>>> {
    if m.services.iter().all(|s| s.autoscale.is_none()) {
        return Vec::new();
    }
    m.services
        .iter()
        .map(|s| {
            s.autoscale.map(|cfg| {
                let slots = s.replicas as usize;
                let mut slot = vec![Slot::Off; slots];
                slot[..cfg.initial as usize].fill(Slot::Serving);
                Box::new(Scaler {
                    cfg,
                    hpa: Hpa::new(cfg),
                    slot,
                    generation: vec![0; slots],
                    serving: (0..cfg.initial).collect(),
                    starting: VecDeque::new(),
                    last_integral: 0.0,
                    last_sync: 0,
                })
            })
        })
        .collect()
}

impl World<'_> {
    pub(super) fn start_autoscalers(&mut self) {
        for s in 0..self.scalers.len() {
            if let Some(sc) = &self.scalers[s] {
                let t = self.at(sc.cfg.period);
                self.schedule(
                    t,
                    Ev::AutoscaleSync {
                        service: ServiceId::at(s),
                    },
                );
            }
        }
    }

    /// The balancer's pick among the serving replicas of autoscaled `s`;
    /// with memory or outlier detection, one that is ready and not
    /// ejected if there is one (`pick_scaled_usable`).
    pub(super) fn pick_scaled(&mut self, s: usize) -> u32 {
        let n = self.scalers[s].as_ref().expect("autoscaled").serving.len() as u32;
        if self.rr[s] >= n {
            self.rr[s] = 0;
        }
        let pick = self.balance_in(s, n, |w, k| {
            w.scalers[s].as_ref().expect("autoscaled").serving[k as usize]
        });
        if self.rt[s] & super::RT_MEMORY == 0 && self.outliers.is_empty() {
            return pick;
        }
        self.pick_scaled_usable(s, n, pick)
    }

    /// The autoscaler of `s` measures the last period and scales.
    pub(super) fn on_autoscale_sync(&mut self, s: usize) {
        let now = self.now;
        let integral = self.usage_integral(s);
        let sc = self.scalers[s].as_deref_mut().expect("autoscaled");
        let elapsed = now.saturating_sub(sc.last_sync).max(1) as f64;
        let usage = (integral - sc.last_integral) / elapsed;
        sc.last_integral = integral;
        sc.last_sync = now;
        let current = (sc.serving.len() + sc.starting.len()) as u32;
        let desired = sc.hpa.decide(now, current, usage);
        let period = sc.cfg.period;
        self.rec.autoscale[s]
            .as_mut()
            .expect("autoscale is measured")
            .decided(desired);
        if desired > current {
            for _ in current..desired {
                if !self.create_replica(s) {
                    break;
                }
            }
        } else {
            for _ in desired..current {
                self.remove_replica(s);
            }
        }
        let next = self.at(period);
        self.schedule(
            next,
            Ev::AutoscaleSync {
                service: ServiceId::at(s),
            },
        );
    }

    /// The metric's integral since the start, in pods' worth × ns.
    fn usage_integral(&mut self, s: usize) -> f64 {
        let now = self.now;
        let svc = &self.m.services[s];
        let sc = self.scalers[s].as_deref().expect("autoscaled");
        match sc.cfg.metric {
            // An event loop's `threads` is its `max_connections`, and its
            // busy count its open connections.
            ScaleMetric::Threads | ScaleMetric::Connections => {
                self.rec.services[s].busy_integral(now) as f64 / f64::from(svc.threads)
            }
            ScaleMetric::Cpu => {
                let cores = f64::from(svc.cores.expect("validated: cpu needs cores"));
                let mut busy = 0.0;
                for r in 0..self.replicas[s].len() {
                    if let Some(c) = self.replicas[s][r].cpu {
                        busy += self.cpus[c as usize].busy_core_time(now);
                    }
                }
                busy / cores
            }
        }
    }

    /// Creates a replica in the lowest free slot; false if none is free.
    fn create_replica(&mut self, s: usize) -> bool {
        let now = self.now;
        let sc = self.scalers[s].as_deref_mut().expect("autoscaled");
        let Some(r) = sc.slot.iter().position(|&x| x == Slot::Off) else {
            return false;
        };
        sc.slot[r] = Slot::Starting;
        sc.generation[r] = sc.generation[r].wrapping_add(1);
        sc.starting.push_back(r as u32);
        let (startup, generation) = (sc.cfg.startup, sc.generation[r]);
        let stats = self.rec.autoscale[s]
            .as_mut()
            .expect("autoscale is measured");
        stats.created(now);
        self.replica_created(s, r);
        self.schedule(
            self.at(startup),
            Ev::ReplicaReady {
                service: ServiceId::at(s),
                replica: r as u32,
                generation,
            },
        );
        true
    }

    /// A created replica is ready: it joins the balancer's list, cold.
    pub(super) fn on_replica_ready(&mut self, s: usize, r: usize, generation: u32) {
        let now = self.now;
        let sc = self.scalers[s].as_deref_mut().expect("autoscaled");
        if sc.generation[r] != generation || sc.slot[r] != Slot::Starting {
            return; // removed while it started
        }
        sc.slot[r] = Slot::Serving;
        sc.starting.retain(|&x| x as usize != r);
        sc.serving.push(r as u32);
        let life = self.m.services[s].lifecycle;
        let rep = &mut self.replicas[s][r];
        rep.life.started = now;
        rep.life.cold_until = if life.cold_slowdown > 1.0 {
            now.saturating_add(life.cold_for)
        } else {
            0
        };
        self.rec.autoscale[s]
            .as_mut()
            .expect("autoscale is measured")
            .ready(now);
        self.replica_joined(s, r);
    }

    /// Removes the newest replica: a starting one if any, else the newest
    /// serving one, which drains.
    fn remove_replica(&mut self, s: usize) {
        let now = self.now;
        let sc = self.scalers[s].as_deref_mut().expect("autoscaled");
        let stats = self.rec.autoscale[s]
            .as_mut()
            .expect("autoscale is measured");
        if let Some(r) = sc.starting.pop_back() {
            sc.slot[r as usize] = Slot::Off;
            stats.removed_starting(now);
            self.replica_gone(s, r as usize);
            return;
        }
        if sc.serving.len() <= 1 {
            return; // never below one (min is at least 1)
        }
        let r = sc.serving.pop().expect("more than one") as usize;
        sc.slot[r] = Slot::Draining;
        stats.draining(now);
        self.replica_left(s, r);
        self.drained_if_idle(s, r);
    }

    /// A thread of replica `r` of autoscaled `s` went idle: a draining
    /// replica with nothing left is off.
    #[inline]
    pub(super) fn drained_if_idle(&mut self, s: usize, r: usize) {
        let rep = &self.replicas[s][r];
        if rep.busy > 0 || rep.queued() > 0 {
            return;
        }
        let sc = self.scalers[s].as_deref_mut().expect("autoscaled");
        if sc.slot[r] == Slot::Draining {
            sc.slot[r] = Slot::Off;
            let now = self.now;
            self.rec.autoscale[s]
                .as_mut()
                .expect("autoscale is measured")
                .drained(now);
            self.replica_gone(s, r);
        }
    }

    /// After a crash: draining replicas it emptied are off.
    pub(super) fn drained_after_crash(&mut self, s: usize) {
        for r in 0..self.replicas[s].len() {
            self.drained_if_idle(s, r);
        }
    }
}
