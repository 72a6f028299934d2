//! What an autoscaled replica joining or leaving means to the features
//! around it (the autoscaler itself is `autoscale`'s):
//!
//! - **created** (a new pod): with `memory`, a fresh process — base
//!   memory, no restart backoff, no GC debt, its own gauge from now;
//! - **joined** (ready, in the balancer's list): outlier detection counts
//!   it in the pool its max ejection share and panic threshold are of; a
//!   queue's consumer workers on it pull; its consumer-group members join
//!   (a rebalance);
//! - **left** (removed, draining): outlier detection forgets it (never
//!   picked again, no longer ejected); its queue workers pull nothing new
//!   and finish what they hold; its group members leave (a rebalance);
//! - **gone** (off: drained, or removed while starting): its memory
//!   series ends (0 bytes, not counted up).
//!
//! A replica on a `node` keeps running on the node's cores: the node does
//! not grow with the service (no cluster autoscaler). A zone-aware
//! service's replica slot r is in zone `zones[r % len]`, as the fixed
//! ones are.
//!
//! Owns these hooks and the balancer's pick among usable serving
//! replicas; must not decide scaling (`patterns::autoscale`) nor change a
//! replica's slot (`autoscale`).

use super::World;

impl World<'_> {
    /// Whether replica `r` of `s` is in the balancer's list: always for
    /// a fixed service, only when serving for an autoscaled one.
    #[inline]
    pub(super) fn in_service(&self, s: usize, r: usize) -> bool {
        self.scalers
            .get(s)
            .and_then(|x| x.as_deref())
            .is_none_or(|sc| sc.in_service(r))
    }

    /// Whether the balancer of autoscaled `s` may send to serving replica
    /// `r`: ready (memory's restart) and not ejected while ejection is
    /// honoured.
    fn scaled_usable(&self, s: usize, r: u32) -> bool {
        let ready = self.rt[s] & super::RT_MEMORY == 0 || self.is_ready(s, r as usize);
        let ejected = !self.outliers.is_empty()
            && self.outliers[s]
                .as_ref()
                .is_some_and(|o| o.honoured() && o.is_ejected(r as usize));
        ready && !ejected
    }

    /// `pick_scaled` past a first pick that may be unusable: the least
    /// outstanding usable replica (least outstanding), or the balancer
    /// asked again up to `n` times, then the first usable one; the pick
    /// itself if none is usable.
    #[inline(never)]
    pub(super) fn pick_scaled_usable(&mut self, s: usize, n: u32, pick: u32) -> u32 {
        if self.scaled_usable(s, pick) {
            return pick;
        }
        let serving =
            |w: &World, k: u32| w.scalers[s].as_ref().expect("autoscaled").serving[k as usize];
        if self.m.services[s].balancer == crate::model::Balancer::LeastOutstanding {
            return (0..n)
                .map(|k| serving(self, k))
                .filter(|&r| self.scaled_usable(s, r))
                .min_by_key(|&r| {
                    let rep = &self.replicas[s][r as usize];
                    rep.busy as usize + rep.queued() as usize
                })
                .unwrap_or(pick);
        }
        let mut again = pick;
        for _ in 0..n {
            again = self.balance_in(s, n, serving);
            if self.scaled_usable(s, again) {
                return again;
            }
        }
        (0..n)
            .map(|k| serving(self, k))
            .find(|&r| self.scaled_usable(s, r))
            .unwrap_or(again)
    }

    /// A new replica of `s` was created in slot `r`.
    pub(super) fn replica_created(&mut self, s: usize, r: usize) {
        if self.rec.runtime[s].is_none() {
            return;
        }
        let now = self.now;
        let base = self.m.services[s].memory.map_or(0, |m| m.base);
        self.replicas[s][r].life = super::memory::Life::default();
        self.rec.runtime[s]
            .as_mut()
            .expect("checked")
            .replica_up(now, r, base);
    }

    /// Replica `r` of `s` is ready: in the balancer's list from now.
    pub(super) fn replica_joined(&mut self, s: usize, r: usize) {
        if !self.outliers.is_empty() {
            self.outlier_joined(s, r);
        }
        if self.logs.consumes(s) {
            self.scaled_membership(s);
        }
        self.pull(s, r as u32);
    }

    /// Replica `r` of `s` was removed: it drains from now.
    pub(super) fn replica_left(&mut self, s: usize, r: usize) {
        if !self.outliers.is_empty() {
            self.outlier_left(s, r);
        }
        if self.logs.consumes(s) {
            self.scaled_membership(s);
        }
    }

    /// Replica `r` of `s` is off: its gauges end.
    pub(super) fn replica_gone(&mut self, s: usize, r: usize) {
        if self.rec.runtime[s].is_none() {
            return;
        }
        let now = self.now;
        let down = self.replicas[s][r].life.down;
        self.rec.runtime[s]
            .as_mut()
            .expect("checked")
            .replica_off(now, r, down);
    }

    /// Whether a pending restart of replica `r` of `s` still applies: not
    /// to a replica removed since it was killed (or created afresh).
    #[inline]
    pub(super) fn restarts_in_place(&self, s: usize, r: usize) -> bool {
        self.replicas[s][r].life.down
            && self
                .scalers
                .get(s)
                .and_then(|x| x.as_deref())
                .is_none_or(|sc| sc.exists(r))
    }
}
