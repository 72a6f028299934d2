//! Zones on the wire: zone-aware balancing and the cross-zone latency.
//!
//! A caller is in a zone when its replica is (`Service::zone_of`) or when
//! its source declares one; a message's consumer, a poll and a caller
//! without zones are in none. The rule of a zone-aware service's balancer
//! (Envoy's zone-aware routing, reduced to its healthy case): a caller in
//! zone z is served by the service's replicas in z — the service's own
//! balancer over those alone — while at least one of them is *usable*
//! (ready and not ejected, as the balancer knows it: a crash is known only
//! once outlier detection ejects the replica, as everywhere else);
//! otherwise, or when the caller has no zone or the service no replica in
//! z, by the ordinary pick over every replica. A request whose caller and
//! replica are in different zones pays the latency between the two zones
//! (`cross_zone`, or the pair's own) on its way there (the replica is
//! picked when the request reaches the service, as the shared balancer
//! always does, and sees it that much later) and again — the latency of
//! the way back — on the answer's way back. A service with Envoy's
//! spill-over (`zone_spill.rs`) picks the zone by that rule first.
//!
//! Owns the zone tables the engine reads (zone indices per replica and
//! source), the per-zone round-robin positions, and the count of arrivals
//! local and across zones; must not decide admission (that is `service`)
//! nor know the file syntax (the model's `Zoning` is checked already).

use super::World;
use super::event::Ev;
use super::ids::JobId;
use super::records::{Caller, Job, Parent};
use super::zone_spill::{self, NO_ZONE, Origin, Spill};
use crate::model::Model;
use crate::outcome::Outcome;
use crate::output::ZoneSummary;
use crate::time::Nanos;

pub(super) struct Zoning {
    /// From zone i to zone j: `latency[i × zones + j]` (0 within a zone).
    latency: Vec<Nanos>,
    zones: usize,
    /// Some pair of zones has a latency.
    crosses: bool,
    aware: Vec<bool>,
    /// Per service with Envoy's spill-over: its state (`zone_spill.rs`).
    pub(super) spill: Vec<Option<Box<Spill>>>,
    /// Per service and replica: its zone's index among every zone named.
    pub(super) replica_zone: Vec<Vec<u16>>,
    /// Per source: its clients' zone.
    source_zone: Vec<u16>,
    /// Per service and zone index: the zone's position in the service's
    /// `zones` (its replicas are `pos`, `pos + n`, `pos + 2n`, ... of
    /// its `n` zones), or `NO_ZONE`.
    pub(super) position: Vec<Vec<u16>>,
    /// Per service and zone index: round robin's position among the
    /// zone's replicas.
    rr: Vec<Vec<u32>>,
    /// Per service: arrivals from a caller in the replica's zone, and from
    /// one in another zone, after the warm-up.
    local: Vec<u64>,
    crossed: Vec<u64>,
}

/// The engine's zone tables, or `None` when the model declares neither
/// zone-aware balancing nor a cross-zone latency nor a source's zone.
pub(super) fn state(m: &Model, seed: u64) -> Option<Box<Zoning>> {
    let z = m.zoning.as_ref()?;
    let mut names: Vec<&str> = Vec::new();
    for s in &m.services {
        for name in &s.zones {
            if !names.contains(&name.as_str()) {
                names.push(name);
            }
        }
    }
    let index = |name: &str| {
        names
            .iter()
            .position(|n| *n == name)
            .map_or(NO_ZONE, |i| i as u16)
    };
    let n = names.len();
    let mut latency = vec![z.cross_zone; n * n];
    for i in 0..n {
        latency[i * n + i] = 0;
    }
    for p in &z.pairs {
        let (from, to) = (index(&p.from), index(&p.to));
        if from != NO_ZONE && to != NO_ZONE {
            latency[from as usize * n + to as usize] = p.latency;
        }
    }
    let zone_of_source: Vec<Option<usize>> = z
        .source_zone
        .iter()
        .map(|name| {
            name.as_deref()
                .map(index)
                .filter(|&i| i != NO_ZONE)
                .map(usize::from)
        })
        .collect();
    Some(Box::new(Zoning {
        crosses: latency.iter().any(|&t| t > 0),
        latency,
        zones: n,
        spill: zone_spill::states(m, seed, &zone_of_source, n),
        aware: z.aware.clone(),
        replica_zone: m
            .services
            .iter()
            .map(|s| {
                (0..s.replicas)
                    .map(|r| s.zone_of(r).map_or(NO_ZONE, index))
                    .collect()
            })
            .collect(),
        source_zone: z
            .source_zone
            .iter()
            .map(|name| name.as_deref().map_or(NO_ZONE, index))
            .collect(),
        position: m
            .services
            .iter()
            .map(|s| {
                names
                    .iter()
                    .map(|n| {
                        s.zones
                            .iter()
                            .position(|z| z == n)
                            .map_or(NO_ZONE, |p| p as u16)
                    })
                    .collect()
            })
            .collect(),
        rr: m.services.iter().map(|_| vec![0; names.len()]).collect(),
        local: vec![0; m.services.len()],
        crossed: vec![0; m.services.len()],
    }))
}

impl Zoning {
    /// The latency of a call from zone `from` to zone `to` (each a zone
    /// index, neither `NO_ZONE`).
    #[inline]
    fn crossing(&self, from: u16, to: u16) -> Nanos {
        self.latency[from as usize * self.zones + to as usize]
    }
}

impl World<'_> {
    /// The zone of whoever waits for `job`'s answer (`NO_ZONE` if none or
    /// if it is gone).
    fn caller_zone(&self, job: &Job) -> u16 {
        self.caller_place(job).0
    }

    /// The zone of whoever waits for `job`'s answer and who it is
    /// (`NO_ZONE` and `Origin::Nobody` if none or if it is gone).
    fn caller_place(&self, job: &Job) -> (u16, Origin) {
        const NOBODY: (u16, Origin) = (NO_ZONE, Origin::Nobody);
        let Some(z) = self.zoning.as_deref() else {
            return NOBODY;
        };
        let (attempt, generation) = match job.parent {
            Parent::Call {
                attempt,
                generation,
                ..
            }
            | Parent::Client {
                attempt,
                generation,
            } => (attempt, generation),
            _ => return NOBODY,
        };
        let a = &self.attempts[attempt];
        if !(a.live && a.generation == generation) {
            return NOBODY;
        }
        match self.calls[a.call].caller {
            Caller::Source(i) => (z.source_zone[i as usize], Origin::Source),
            Caller::Job { job, generation } => {
                let caller = &self.jobs[job];
                if caller.generation != generation {
                    return NOBODY;
                }
                (
                    z.replica_zone[caller.service][caller.replica as usize],
                    Origin::Service(caller.service),
                )
            }
            Caller::Poll { .. } => NOBODY,
        }
    }

    /// `on_arrive` in a zoned model: the pick (local first for a
    /// zone-aware service, or by Envoy's spill-over), then admission now,
    /// or the zones' latency later when the pick is in another zone than
    /// the caller.
    pub(super) fn arrive_zoned(&mut self, j: JobId) {
        let s = self.jobs[j].service.index();
        let (from, origin) = self.caller_place(&self.jobs[j]);
        let z = self.zoning.as_deref().expect("zoned model");
        let (aware, spill) = (z.aware[s], z.spill.get(s).is_some_and(Option::is_some));
        let r = if from != NO_ZONE && aware {
            if spill {
                match self.spill_zone(s, origin, from) {
                    Some(zone) => self.pick_in_zone(s, zone),
                    None => self.pick_replica(s),
                }
            } else {
                self.pick_in_zone(s, from)
            }
        } else {
            self.pick_replica(s)
        };
        self.jobs[j].replica = r;
        self.rec.count_arrival(s);
        let measuring = self.now >= self.m.warmup;
        let z = self.zoning.as_deref_mut().expect("zoned model");
        let to = z.replica_zone[s][r as usize];
        if from == NO_ZONE || to == NO_ZONE {
            return self.admit(j);
        }
        if measuring {
            if from == to {
                z.local[s] += 1;
            } else {
                z.crossed[s] += 1;
            }
        }
        let cross = z.crossing(from, to);
        if cross == 0 {
            return self.admit(j);
        }
        let (t, generation) = (self.at(cross), self.jobs[j].generation);
        self.schedule(t, Ev::ZoneCrossed { job: j, generation });
    }

    /// Whether the balancer would send to replica `r` of `s`: in service
    /// (autoscaled), ready, and not ejected while ejection is honoured.
    pub(super) fn usable(&self, s: usize, r: u32) -> bool {
        if self.rt[s] & super::RT_SCALE != 0 && !self.in_service(s, r as usize) {
            return false; // an autoscaled replica off, starting or draining
        }
        let ready = self.rt[s] & super::RT_MEMORY == 0 || self.is_ready(s, r as usize);
        let ejected = !self.outliers.is_empty()
            && self.outliers[s]
                .as_ref()
                .is_some_and(|o| o.honoured() && o.is_ejected(r as usize));
        ready && !ejected
    }

    /// The pick for a caller in zone `zone`: among the service's replicas
    /// in that zone while one of them is usable, else over them all.
    fn pick_in_zone(&mut self, s: usize, zone: u16) -> u32 {
        let z = self.zoning.as_deref().expect("zoned model");
        let (pos, zone_rr) = (z.position[s][zone as usize], z.rr[s][zone as usize]);
        let zones = self.m.services[s].zones.len() as u32;
        let replicas = self.m.services[s].replicas;
        if pos == NO_ZONE || u32::from(pos) >= replicas {
            return self.pick_replica(s);
        }
        let pos = u32::from(pos);
        // The zone's replicas: pos, pos + zones, pos + 2 × zones, ...
        let n = (replicas - pos).div_ceil(zones);
        let local = |k: u32| pos + k * zones;
        if !(0..n).any(|k| self.usable(s, local(k))) {
            return self.pick_replica(s);
        }
        // The service's balancer over the zone's replicas alone, with the
        // zone's own round-robin position.
        let saved = self.rr[s];
        self.rr[s] = zone_rr;
        let mut pick = local(0);
        for _ in 0..n {
            pick = self.balance_in(s, n, |_, k| local(k));
            if self.usable(s, pick) {
                break;
            }
        }
        if !self.usable(s, pick) {
            // Unlucky draws: the first usable one.
            pick = (0..n)
                .map(local)
                .find(|&r| self.usable(s, r))
                .unwrap_or(pick);
        }
        let position = self.rr[s];
        self.rr[s] = saved;
        self.zoning.as_deref_mut().expect("zoned model").rr[s][zone as usize] = position;
        pick
    }

    /// The answer of `job`, when it must cross zones on its way back:
    /// sent `cross_zone` later than it would be. Returns whether it was
    /// sent (else `answer` sends it as usual).
    pub(super) fn answer_across_zones(&mut self, job: Job, outcome: Outcome) -> bool {
        let z = self.zoning.as_deref().expect("zoned model");
        let to = z.replica_zone[job.service][job.replica as usize];
        if !z.crosses || to == NO_ZONE {
            return false;
        }
        let from = self.caller_zone(&job);
        if from == NO_ZONE {
            return false;
        }
        // The answer goes back from the replica's zone to the caller's.
        let cross = z.crossing(to, from);
        if cross == 0 {
            return false;
        }
        match job.parent {
            Parent::Call {
                attempt,
                generation,
                edge,
            } => {
                self.reply_after(attempt, generation, edge, outcome, cross);
                true
            }
            Parent::Client {
                attempt,
                generation,
            } => {
                // `caller_zone` found the attempt live.
                let source = self.client_of[self.calls[self.attempts[attempt].call].spec as usize];
                let hop = if self.source_hops {
                    self.source_hop(source as usize).unwrap_or(0)
                } else {
                    0
                };
                self.schedule(
                    self.at(hop.saturating_add(cross)),
                    Ev::ClientReply {
                        attempt,
                        generation,
                        outcome,
                    },
                );
                true
            }
            _ => false,
        }
    }

    /// Arrivals local and across zones, per service placed in zones.
    pub(super) fn zone_summaries(&self) -> Vec<(usize, ZoneSummary)> {
        let Some(z) = self.zoning.as_deref() else {
            return Vec::new();
        };
        (0..self.m.services.len())
            .filter(|&s| !self.m.services[s].zones.is_empty())
            .map(|s| {
                (
                    s,
                    ZoneSummary {
                        zone_aware: z.aware[s],
                        local: z.local[s],
                        cross_zone: z.crossed[s],
                    },
                )
            })
            .collect()
    }
}
