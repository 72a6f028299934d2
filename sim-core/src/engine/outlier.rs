//! Outlier detection on a service's balancer, as Envoy's: a replica that
//! answers `consecutive_errors` failures in a row is ejected (gets no new
//! requests) for `base_ejection` × the times it has been ejected, at most
//! `max_ejection_percent` of the replicas at once (but always one); it comes
//! back at the first sweep (every `interval`) after its time is up, and
//! each sweep that finds a replica in service lowers its multiplier. When
//! fewer than `panic_threshold` % of the replicas are in service, the
//! balancer ignores ejection (Envoy's panic mode) and spreads over all.
//!
//! One balancer per service, shared by every caller (a front proxy), not
//! one per caller replica as sidecars have.
//!
//! Owns the detection state and which replicas are ejected; must not pick a
//! replica (that is `service`'s balancer, which asks `is_ejected`).

use super::World;
use super::event::Ev;
use crate::model::ServiceId;
use crate::outcome::Outcome;
use crate::output::OutlierSummary;
use crate::patterns::OutlierDetection;
use crate::time::Nanos;

/// A service's detection state.
pub(super) struct Outlier {
    cfg: OutlierDetection,
    /// Failures in a row, per replica.
    errors: Vec<u32>,
    /// The ejection multiplier, per replica.
    times: Vec<u32>,
    /// When an ejected replica may come back (`None`: in service).
    until: Vec<Option<Nanos>>,
    ejected: u32,
    /// Replicas in the balancer's list: all of them, or an autoscaled
    /// service's serving ones (the max share and panic mode are of these).
    pool: u32,
    /// Measured-period figures.
    pub ejections: u64,
    pub ejected_max: u32,
    /// Replica-nanoseconds ejected, and since when the current count holds.
    ejected_area: u128,
    since: Nanos,
}

impl Outlier {
    fn new(cfg: OutlierDetection, replicas: u32) -> Outlier {
        let n = replicas as usize;
        Outlier {
            cfg,
            errors: vec![0; n],
            times: vec![0; n],
            until: vec![None; n],
            ejected: 0,
            pool: replicas,
            ejections: 0,
            ejected_max: 0,
            ejected_area: 0,
            since: 0,
        }
    }

    #[inline]
    pub fn is_ejected(&self, r: usize) -> bool {
        self.until[r].is_some()
    }

    /// Whether the balancer honours ejection now: not in panic.
    #[inline]
    pub fn honoured(&self) -> bool {
        let n = u64::from(self.pool);
        self.ejected > 0
            && (n - u64::from(self.ejected)) * 100 >= u64::from(self.cfg.panic_threshold) * n
    }

    fn set_count(&mut self, now: Nanos, warmup: Nanos, ejected: u32) {
        let from = self.since.max(warmup);
        if now > from {
            self.ejected_area += u128::from(self.ejected) * u128::from(now - from);
        }
        if now >= warmup {
            // The count that held until now, and the new one.
            self.ejected_max = self.ejected_max.max(self.ejected).max(ejected);
        }
        self.since = now;
        self.ejected = ejected;
    }

    fn summary(&mut self, end: Nanos, warmup: Nanos) -> OutlierSummary {
        self.set_count(end, warmup, self.ejected);
        OutlierSummary {
            ejections: self.ejections,
            ejected_max: self.ejected_max,
            ejected_replica_s: self.ejected_area as f64 / 1e9,
        }
    }
}

/// Each service's state (`None` without `outlier_detection`); empty when
/// no service declares it, so a model without it pays one length check.
pub(super) fn states(m: &crate::model::Model) -> Vec<Option<Box<Outlier>>> {
    if m.services.iter().all(|s| s.outlier.is_none()) {
        return Vec::new();
    }
    m.services
        .iter()
        .map(|s| {
            s.outlier.map(|cfg| {
                let mut o = Outlier::new(cfg, s.replicas);
                o.pool = s.declared_replicas();
                Box::new(o)
            })
        })
        .collect()
}

impl World<'_> {
    /// Schedules each detecting service's first sweep.
    pub(super) fn start_outlier_sweeps(&mut self) {
        for s in 0..self.outliers.len() {
            if let Some(o) = &self.outliers[s] {
                let t = self.at(o.cfg.interval);
                self.schedule(
                    t,
                    Ev::OutlierSweep {
                        service: ServiceId::at(s),
                    },
                );
            }
        }
    }

    /// A replica of `s` answered (or an attempt on it timed out).
    #[inline]
    pub(super) fn outlier_result(&mut self, s: usize, r: usize, outcome: Outcome) {
        let (now, warmup) = (self.now, self.m.warmup);
        // A draining autoscaled replica is out of the balancer's list.
        let listed = self.rt[s] & super::RT_SCALE == 0 || self.in_service(s, r);
        let Some(o) = self.outliers.get_mut(s).and_then(|o| o.as_deref_mut()) else {
            return;
        };
        let failed = matches!(
            outcome,
            Outcome::Error
                | Outcome::Timeout
                | Outcome::Rejected
                | Outcome::Refused
                | Outcome::Reset
        );
        if !failed {
            o.errors[r] = 0;
            return;
        }
        o.errors[r] += 1;
        if o.errors[r] < o.cfg.consecutive_errors || o.until[r].is_some() || !listed {
            return;
        }
        let n = u64::from(o.pool);
        let allowed = o.ejected == 0
            || (u64::from(o.ejected) + 1) * 100 <= u64::from(o.cfg.max_ejection_percent) * n;
        if !allowed {
            return;
        }
        o.errors[r] = 0;
        o.times[r] += 1;
        let out_for = o
            .cfg
            .base_ejection
            .saturating_mul(u64::from(o.times[r]))
            .min(o.cfg.max_ejection.max(o.cfg.base_ejection));
        o.until[r] = Some(now.saturating_add(out_for));
        if now >= warmup {
            o.ejections += 1;
        }
        let count = o.ejected + 1;
        o.set_count(now, warmup, count);
        self.rec.ejected_changed(s, now, count);
    }

    /// An attempt timed out: a failure of the replica its request went to,
    /// if that request is still there.
    pub(super) fn outlier_timeout(&mut self, attempt: super::ids::AttemptId) {
        if let Some((j, generation)) = self.attempts[attempt].job
            && self.jobs[j].generation == generation
        {
            let job = self.jobs[j];
            self.outlier_result(job.service.index(), job.replica as usize, Outcome::Timeout);
        }
    }

    /// Every `interval`: replicas whose time is up come back; those in
    /// service see their multiplier lowered.
    pub(super) fn on_outlier_sweep(&mut self, s: usize) {
        let (now, warmup) = (self.now, self.m.warmup);
        let Some(o) = self.outliers[s].as_deref_mut() else {
            return;
        };
        let mut count = o.ejected;
        for r in 0..o.until.len() {
            match o.until[r] {
                Some(t) if t <= now => {
                    o.until[r] = None;
                    o.errors[r] = 0;
                    count -= 1;
                }
                Some(_) => {}
                None => o.times[r] = o.times[r].saturating_sub(1),
            }
        }
        o.set_count(now, warmup, count);
        let next = now.saturating_add(o.cfg.interval);
        self.rec.ejected_changed(s, now, count);
        self.schedule(
            next,
            Ev::OutlierSweep {
                service: ServiceId::at(s),
            },
        );
    }

    /// Autoscaled `s`'s replica `r` joined the balancer's list, with a
    /// clean record.
    pub(super) fn outlier_joined(&mut self, s: usize, r: usize) {
        if let Some(o) = self.outliers.get_mut(s).and_then(|o| o.as_deref_mut()) {
            o.pool += 1;
            o.errors[r] = 0;
            o.times[r] = 0;
        }
    }

    /// Autoscaled `s`'s replica `r` left the balancer's list: it is never
    /// picked again, so it no longer counts as ejected.
    pub(super) fn outlier_left(&mut self, s: usize, r: usize) {
        let (now, warmup) = (self.now, self.m.warmup);
        let Some(o) = self.outliers.get_mut(s).and_then(|o| o.as_deref_mut()) else {
            return;
        };
        o.pool -= 1;
        o.errors[r] = 0;
        o.times[r] = 0;
        if o.until[r].take().is_some() {
            let count = o.ejected - 1;
            o.set_count(now, warmup, count);
            self.rec.ejected_changed(s, now, count);
        }
    }

    /// The measured figures of each detecting service, by service index.
    pub(super) fn outlier_summaries(&mut self) -> Vec<(usize, OutlierSummary)> {
        let (end, warmup) = (self.now, self.m.warmup);
        self.outliers
            .iter_mut()
            .enumerate()
            .filter_map(|(s, o)| o.as_deref_mut().map(|o| (s, o.summary(end, warmup))))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> OutlierDetection {
        OutlierDetection {
            consecutive_errors: 2,
            interval: 10,
            base_ejection: 30,
            max_ejection: 300,
            max_ejection_percent: 50,
            panic_threshold: 50,
        }
    }

    #[test]
    fn panic_mode_ignores_ejection_below_the_threshold() {
        let mut o = Outlier::new(cfg(), 4);
        assert!(!o.honoured(), "nothing ejected: nothing to honour");
        o.until[0] = Some(5);
        o.ejected = 1;
        assert!(o.honoured(), "3 of 4 in service");
        o.until[1] = Some(5);
        o.ejected = 2;
        assert!(o.honoured(), "2 of 4 in service: exactly the threshold");
        o.until[2] = Some(5);
        o.ejected = 3;
        assert!(!o.honoured(), "1 of 4 in service: panic");
    }

    #[test]
    fn ejected_time_is_measured_after_the_warmup() {
        let mut o = Outlier::new(cfg(), 2);
        o.set_count(10, 20, 1);
        o.set_count(30, 20, 0);
        let s = o.summary(50, 20);
        assert_eq!(o.ejected_area, 10);
        assert_eq!(s.ejected_max, 1);
    }
}
