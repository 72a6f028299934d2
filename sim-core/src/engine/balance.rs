//! Load balancing: which replica of a service a request goes to (round
//! robin, random, least outstanding, power of two), skipping replicas
//! that are down, not ready yet or ejected by outlier detection.
//!
//! Owns the pick only; must not admit, queue or start a job (that is
//! `service`), nor decide ejections (`outlier`) or readiness (`memory`).

use super::World;
use crate::model::Balancer;

impl World<'_> {
    /// The balancer's pick; a replica that is down or not ready yet is
    /// skipped for the next ready one (Kubernetes takes it out of the
    /// endpoints), if any, and an ejected one (outlier detection) for the
    /// balancer's next pick.
    #[inline(always)]
    pub(super) fn pick_replica(&mut self, s: usize) -> u32 {
        if self.rt[s] & super::RT_SCALE == 0 && self.doors[s].replicas == 1 {
            // Down, not ready or ejected, a lone replica is still the one
            // every path of `pick_among` returns (and none of them draws).
            return 0;
        }
        self.pick_among(s)
    }

    /// `pick_replica` of an autoscaled service or of several replicas.
    #[inline(never)]
    fn pick_among(&mut self, s: usize) -> u32 {
        if self.rt[s] & super::RT_SCALE != 0 {
            return self.pick_scaled(s);
        }
        let r = self.balance(s);
        if self.rt[s] & super::RT_MEMORY == 0 && self.outliers.is_empty() {
            return r;
        }
        self.pick_usable(s, r)
    }

    /// `pick_replica` past its first pick: readiness and ejection (kept
    /// out of line so the common path holds one inlined balancer).
    #[inline(never)]
    fn pick_usable(&mut self, s: usize, r: u32) -> u32 {
        let ejecting =
            !self.outliers.is_empty() && self.outliers[s].as_ref().is_some_and(|o| o.honoured());
        if !ejecting && (self.rt[s] & super::RT_MEMORY == 0 || self.is_ready(s, r as usize)) {
            return r;
        }
        // Skip to the next replica that is ready and not ejected, if any.
        let usable = |w: &World, x: u32| {
            (w.rt[s] & super::RT_MEMORY == 0 || w.is_ready(s, x as usize))
                && !(ejecting
                    && w.outliers[s]
                        .as_ref()
                        .is_some_and(|o| o.is_ejected(x as usize)))
        };
        let n = self.doors[s].replicas;
        if ejecting {
            if self.doors[s].balancer == Balancer::LeastOutstanding {
                // An ejected replica is idle, so least outstanding would
                // choose it again and again: the least outstanding of the
                // usable ones (ties to the first after the pick).
                return (0..n)
                    .map(|k| (r + k) % n)
                    .filter(|&x| usable(self, x))
                    .min_by_key(|&x| self.outstanding(s, x))
                    .unwrap_or(r);
            }
            // Ask the balancer again, so the ejected replica's share is
            // spread over the others as a balancer that left it out would
            // (not all on its neighbour).
            let mut pick = r;
            for _ in 0..n {
                if usable(self, pick) {
                    return pick;
                }
                pick = self.balance(s);
            }
            // A random draw may miss every usable replica n times: the
            // first usable one after the last pick, never an ejected one.
            return (0..n)
                .map(|k| (pick + k) % n)
                .find(|&x| usable(self, x))
                .unwrap_or(r);
        }
        (0..n)
            .map(|k| (r + k) % n)
            .find(|&x| usable(self, x))
            .unwrap_or(r)
    }

    /// Requests replica `r` of service `s` holds or queues: what least
    /// outstanding and power of two compare.
    #[inline(always)]
    fn outstanding(&self, s: usize, r: u32) -> usize {
        let rep = &self.replicas[s][r as usize];
        rep.busy as usize + rep.queued() as usize
    }

    #[inline(always)]
    fn balance(&mut self, s: usize) -> u32 {
        self.balance_in(s, self.doors[s].replicas, |_, k| k)
    }

    /// The balancer's pick among `n` replicas, the `k`-th being
    /// `replica(k)` (every replica for a fixed service; the serving ones
    /// for an autoscaled one). Round robin's position must be below `n`.
    #[inline(always)]
    pub(super) fn balance_in(
        &mut self,
        s: usize,
        n: u32,
        replica: impl Fn(&World, u32) -> u32,
    ) -> u32 {
        if n == 1 {
            return replica(self, 0);
        }
        let outstanding = |w: &World, k: u32| w.outstanding(s, replica(w, k));
        let k = match self.doors[s].balancer {
            Balancer::RoundRobin => {
                let r = self.rr[s];
                self.rr[s] = (r + 1) % n;
                r
            }
            Balancer::Random => rand::RngExt::random_range(&mut self.lb_rng[s], 0..n),
            Balancer::LeastOutstanding => {
                // Ties go round robin, so an idle system still spreads.
                let start = self.rr[s];
                self.rr[s] = (start + 1) % n;
                (0..n)
                    .map(|k| (start + k) % n)
                    .min_by_key(|k| outstanding(self, *k))
                    .expect("n > 1")
            }
            Balancer::PowerOfTwo => {
                let a = rand::RngExt::random_range(&mut self.lb_rng[s], 0..n);
                let b = (a + rand::RngExt::random_range(&mut self.lb_rng[s], 1..n)) % n;
                if outstanding(self, b) < outstanding(self, a) {
                    b
                } else {
                    a
                }
            }
        };
        replica(self, k)
    }
}
