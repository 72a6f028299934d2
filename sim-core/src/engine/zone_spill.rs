//! Envoy's zone-aware routing with its percentage spill-over
//! (`zone_aware = { spill = true, min_cluster_size }`).
//!
//! For a caller in zone z, with `up[i]` each zone's share of the
//! service's healthy (usable) replicas and `lo[i]` its share of the
//! callers, both in units of 1/10,000 and rounded down as Envoy does:
//! everything stays in z when `up[z] ≥ lo[z]` (and `up[z] > 0`);
//! otherwise a request stays with probability `up[z] / lo[z]` (Envoy's
//! `local_percent_to_route`, `up[z] × 10000 / lo[z]` of 10,000) and
//! otherwise crosses to a zone i ≠ z drawn in proportion to its residual
//! capacity `max(0, up[i] − lo[i])` (uniformly over the service's zones
//! when every residual is 0, as Envoy does on rounding). The rule is off —
//! the service's ordinary balancer over every replica — when the service
//! has fewer than `min_cluster_size` healthy replicas, when it lists fewer
//! than two zones, when the callers are in fewer than two zones, or when
//! the caller's own zone has no caller weight.
//!
//! The callers of a request are its caller's service (weighted per zone
//! by that service's usable replicas, as Envoy weighs its local cluster's
//! healthy hosts) or, for a client request, every zoned source whose
//! requests enter this service (weighted by `rate`, a closed loop's by its
//! users, a replay's by its arrivals). Both shares are taken at each
//! pick (O(replicas of the service and of the caller)), so an ejection, a
//! readiness change or a crash the balancer knows of moves them at once
//! (Envoy recomputes on each host-set change). Draws come from the
//! service's own stream (`streams::zone_spill`).
//!
//! Owns the rule and its draws; must not pick a replica within a zone
//! (that is `zoning::pick_in_zone`) nor know the file syntax.

use crate::rng::Stream;

use super::World;
use crate::model::{Model, ServiceId};
use crate::rng::stream;

/// No zone (a caller or a replica that has none). Here, below `zoning.rs`,
/// which uses it too, so that neither module imports the other both ways.
pub(super) const NO_ZONE: u16 = u16::MAX;

/// Envoy's percentages are parts of 10,000.
const PARTS: u64 = 10_000;

/// Who sent a request, as the spill-over weighs callers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Origin {
    /// A consumer, a poll, or a caller that is gone.
    Nobody,
    /// A workload source's client.
    Source,
    /// A job of this service.
    Service(ServiceId),
}

/// One service's spill-over state.
pub(super) struct Spill {
    min_cluster_size: u32,
    /// Per zone index (every zone named): the weight of the zoned sources
    /// whose requests enter this service.
    source_weight: Vec<u64>,
    rng: Stream,
    /// Scratch, per zone of this service: healthy replicas and callers.
    healthy: Vec<u64>,
    callers: Vec<u64>,
}

/// The spill-over state of each service (`None` where it is not asked
/// for); `zone_of_source` is each source's zone index or `None`.
pub(super) fn states(
    m: &Model,
    seed: u64,
    zone_of_source: &[Option<usize>],
    zones: usize,
) -> Vec<Option<Box<Spill>>> {
    let Some(z) = m.zoning.as_ref() else {
        return Vec::new();
    };
    m.services
        .iter()
        .enumerate()
        .map(|(s, svc)| {
            let min_cluster_size = z.spill.get(s).copied().flatten()?;
            let mut source_weight = vec![0; zones];
            for (i, src) in m.sources.iter().enumerate() {
                let Some(zone) = zone_of_source[i] else {
                    continue;
                };
                if (m.ops[src.op as usize].service).index() != s {
                    continue;
                }
                source_weight[zone] += source_weight_of(src);
            }
            Some(Box::new(Spill {
                min_cluster_size,
                source_weight,
                rng: stream(seed, &crate::streams::zone_spill(svc)),
                healthy: vec![0; svc.zones.len()],
                callers: vec![0; svc.zones.len()],
            }))
        })
        .collect()
}

/// A source's weight among the callers: its rate in thousandths of a
/// request per second (an integer, as Envoy counts hosts), a closed
/// loop's users, a replay's arrivals.
fn source_weight_of(src: &crate::model::Source) -> u64 {
    if src.rate > 0.0 {
        (src.rate * 1000.0).round() as u64
    } else if let Some((users, _)) = src.closed {
        u64::from(users)
    } else {
        src.replayed.len() as u64
    }
    .max(1)
}

/// Envoy's choice for a caller in zone `local` (an index into the
/// service's zones; `None` when the service has no replica there):
/// `healthy[i]` and `callers[i]` per zone of the service, `callers_total`
/// over every zone (callers may be where the service is not); `draw(n)`
/// a uniform integer in `0..n`. Returns the index of the zone to serve
/// from.
pub(super) fn choose(
    healthy: &[u64],
    callers: &[u64],
    callers_total: u64,
    local: Option<usize>,
    mut draw: impl FnMut(u64) -> u64,
) -> usize {
    let healthy_total: u64 = healthy.iter().sum();
    let up = |i: usize| PARTS * healthy[i] / healthy_total.max(1);
    let lo = |i: usize| PARTS * callers[i] / callers_total.max(1);
    if let Some(l) = local
        && up(l) > 0
        && up(l) >= lo(l)
    {
        return l; // LocalityDirect
    }
    // LocalityResidual: the part that can stay, then the rest by the
    // other zones' spare capacity.
    let to_route = match local {
        Some(l) if lo(l) > 0 => up(l) * PARTS / lo(l),
        _ => 0,
    };
    if let Some(l) = local
        && draw(PARTS) < to_route
    {
        return l;
    }
    let residual = |i: usize| {
        if Some(i) == local {
            0
        } else {
            up(i).saturating_sub(lo(i))
        }
    };
    let total: u64 = (0..healthy.len()).map(residual).sum();
    if total == 0 {
        // Rounding left no spare capacity anywhere: any zone.
        return draw(healthy.len() as u64) as usize;
    }
    let mut threshold = draw(total);
    for i in 0..healthy.len() {
        let r = residual(i);
        if threshold < r {
            return i;
        }
        threshold -= r;
    }
    unreachable!("the threshold is below the total")
}

impl World<'_> {
    /// The zone (an index among every zone named) that serves a request
    /// to service `s` from a caller in zone `from` sent by `origin`, or
    /// `None` when the spill-over is off for it (the ordinary pick).
    pub(super) fn spill_zone(&mut self, s: usize, origin: Origin, from: u16) -> Option<u16> {
        let z = self.zoning.as_deref_mut().expect("zoned model");
        let mut sp = z.spill[s].take().expect("a spill-over service");
        let zone = self.spill_zone_with(&mut sp, s, origin, from);
        self.zoning.as_deref_mut().expect("zoned model").spill[s] = Some(sp);
        zone
    }

    fn spill_zone_with(
        &mut self,
        sp: &mut Spill,
        s: usize,
        origin: Origin,
        from: u16,
    ) -> Option<u16> {
        let zones = self.m.services[s].zones.len();
        if zones < 2 {
            return None;
        }
        let z = self.zoning.as_deref().expect("zoned model");
        let position = |zone: u16| z.position[s].get(zone as usize).copied();
        sp.healthy.iter_mut().for_each(|h| *h = 0);
        sp.callers.iter_mut().for_each(|c| *c = 0);
        let replicas = self.m.services[s].replicas;
        for r in 0..replicas {
            if self.usable(s, r) {
                sp.healthy[r as usize % zones] += 1;
            }
        }
        if sp.healthy.iter().sum::<u64>() < u64::from(sp.min_cluster_size) {
            return None;
        }
        let (mut total, mut own, mut caller_zones) = (0u64, 0u64, 0u32);
        match origin {
            Origin::Nobody => return None,
            Origin::Source => {
                for (zone, &w) in sp.source_weight.iter().enumerate() {
                    if w == 0 {
                        continue;
                    }
                    total += w;
                    caller_zones += 1;
                    if zone == from as usize {
                        own = w;
                    }
                    if let Some(p) = position(zone as u16).filter(|&p| p != NO_ZONE) {
                        sp.callers[p as usize] += w;
                    }
                }
            }
            Origin::Service(x) => {
                let x = x.index();
                caller_zones = self.m.services[x].zones.len() as u32;
                for r in 0..self.m.services[x].replicas {
                    if !self.usable(x, r) {
                        continue;
                    }
                    let zone = z.replica_zone[x][r as usize];
                    total += 1;
                    own += u64::from(zone == from);
                    if let Some(p) = position(zone).filter(|&p| p != NO_ZONE) {
                        sp.callers[p as usize] += 1;
                    }
                }
            }
        }
        if caller_zones < 2 || own == 0 {
            return None;
        }
        let local = position(from).filter(|&p| p != NO_ZONE).map(usize::from);
        let rng = &mut sp.rng;
        let i = choose(&sp.healthy, &sp.callers, total, local, |n| {
            rand::RngExt::random_range(rng, 0..n)
        });
        // Back from the service's zone position to the zone's index.
        z.position[s]
            .iter()
            .position(|&p| usize::from(p) == i)
            .map(|zone| zone as u16)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shares `choose` gives each zone, exactly: every value of the
    /// first draw (local or across), then every value of the second
    /// (which zone across).
    fn shares(healthy: &[u64], callers: &[u64], local: usize) -> Vec<f64> {
        let total: u64 = callers.iter().sum();
        let pick = |first: u64, second: u64| {
            let mut n_draws = 0;
            choose(healthy, callers, total, Some(local), |n| {
                n_draws += 1;
                if n_draws == 1 {
                    first.min(n - 1)
                } else {
                    second.min(n - 1)
                }
            })
        };
        let mut out = vec![0.0; healthy.len()];
        let mut drew = false;
        let direct = choose(healthy, callers, total, Some(local), |_| {
            drew = true;
            0
        });
        if !drew {
            out[direct] = 1.0;
            return out;
        }
        let stay = (0..PARTS).filter(|&d| pick(d, 0) == local).count();
        let p_stay = stay as f64 / PARTS as f64;
        out[local] = p_stay;
        let mut range = 0;
        choose(healthy, callers, total, Some(local), |n| {
            if n != PARTS {
                range = n;
            }
            n - 1
        });
        for t in 0..range {
            out[pick(PARTS - 1, t)] += (1.0 - p_stay) / range as f64;
        }
        out
    }

    #[test]
    fn envoy_sends_all_local_while_the_zone_has_its_share() {
        // Callers 1/3 per zone, healthy 2/1/1: zone a has half the
        // replicas and a third of the callers.
        let s = shares(&[2, 1, 1], &[1, 1, 1], 0);
        assert_eq!(s, vec![1.0, 0.0, 0.0]);
    }

    #[test]
    fn envoy_spills_the_shortfall_to_the_zones_with_spare_capacity() {
        // From zone b: up 2500, lo 3333; 2500 × 10000 / 3333 = 7500 of
        // 10,000 stay; the rest goes to a (residual 1667), none to c
        // (residual 0).
        let s = shares(&[2, 1, 1], &[1, 1, 1], 1);
        assert!(
            (s[0] - 0.25).abs() < 1e-9 && s[1] == 0.75 && s[2] == 0.0,
            "{s:?}"
        );
        // Envoy's own example: local 40/40/20 %, upstream 25/50/25 %,
        // from zone a: 25 / 40 = 62.5 % stay, the rest to b (10,000) and
        // c (5,000) in proportion 2:1.
        let s = shares(&[1, 2, 1], &[2, 2, 1], 0);
        assert!((s[0] - 0.625).abs() < 1e-9, "{s:?}");
        assert!((s[1] - 0.375 * 2.0 / 3.0).abs() < 1e-9, "{s:?}");
        assert!((s[2] - 0.375 / 3.0).abs() < 1e-9, "{s:?}");
    }

    #[test]
    fn a_zone_without_healthy_replicas_sends_everything_across() {
        let mut draws = Vec::new();
        let i = choose(&[0, 1, 1], &[1, 1, 1], 3, Some(0), |n| {
            draws.push(n);
            n - 1
        });
        assert_eq!(i, 2);
        // Nothing stays (to_route = 0); b and c each have 5000 − 3333.
        assert_eq!(draws, vec![PARTS, 2 * (5000 - 3333)]);
    }
}
