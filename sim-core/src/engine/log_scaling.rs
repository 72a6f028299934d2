//! Consumer groups on an autoscaled service (a child module of `log.rs`):
//! every replica slot has the same members, alive only while their
//! replica serves and is up, so an autoscaler that adds or removes a
//! replica changes the group's membership — a rebalance, the same pause
//! and reassignment as a crash's (Kafka's eager protocol). A removed
//! replica's members leave gracefully: they commit what they finished and
//! give the rest of their batch back; the record in progress runs on (its
//! replica drains) but no longer counts, so the next owner processes it
//! again (a duplicate, counted).
//!
//! Owns the layout of such a group's members over the slots and its
//! membership figures; the membership change itself is `log_membership`'s.
//! Must not decide when replicas come or go (that is `autoscale`).

use super::super::World;
use super::Logs;
use crate::model::{Group, Model};
use crate::output::GroupScalingSummary;

/// A group's members over its consumer's replicas: (replica slots, members
/// over them, replicas up at the start). Member i lives on slot i mod
/// slots, so each slot has `members / replicas at the start` of them.
pub(super) fn layout(m: &Model, grp: &Group) -> (u32, u32, u32) {
    let svc = &m.services[grp.service];
    match svc.autoscale {
        None => (svc.replicas, grp.members, svc.replicas),
        // Checked: `members` is a multiple of the replicas at the start.
        Some(a) => (
            svc.replicas,
            grp.members / a.initial * svc.replicas,
            a.initial,
        ),
    }
}

/// The membership figures of a group whose consumer autoscales.
#[derive(Clone, Debug)]
pub(super) struct GroupScaling {
    summary: GroupScalingSummary,
}

impl GroupScaling {
    /// Per group: figures if its consumer autoscales (empty when none
    /// does).
    pub fn for_model(m: &Model) -> Vec<Option<GroupScaling>> {
        if m.services.iter().all(|s| s.autoscale.is_none()) {
            return Vec::new();
        }
        m.groups
            .iter()
            .map(|g| {
                m.services[g.service].autoscale.map(|a| {
                    let per = g.members / a.initial;
                    let n = per * a.initial;
                    GroupScaling {
                        summary: GroupScalingSummary {
                            members_per_replica: per,
                            members_at_start: n,
                            members_min: n,
                            members_max: n,
                            members_at_end: n,
                            ..GroupScalingSummary::default()
                        },
                    }
                })
            })
            .collect()
    }
}

impl Logs {
    /// Members of group `g` alive now.
    fn alive_in(&self, g: usize) -> u32 {
        self.group_members(g)
            .filter(|&i| self.members[i].alive)
            .count() as u32
    }
}

impl World<'_> {
    /// Autoscaled `s` added or removed a replica: its members join or
    /// leave their groups (a rebalance per group that changed).
    pub(in crate::engine) fn scaled_membership(&mut self, s: usize) {
        let before: Vec<u32> = (0..self.logs.scaling.len())
            .map(|g| {
                self.logs.scaling[g]
                    .as_ref()
                    .map_or(0, |x| x.summary.members_at_end)
            })
            .collect();
        self.log_membership(s);
        for (g, was) in before.into_iter().enumerate() {
            let Some(x) = self.logs.scaling[g].as_mut() else {
                continue;
            };
            let now = x.summary.members_at_end;
            if now > was {
                x.summary.joined += u64::from(now - was);
                x.summary.rebalances += 1;
            } else if now < was {
                x.summary.left += u64::from(was - now);
                x.summary.rebalances += 1;
            }
        }
    }

    /// After a membership change on autoscaled `s`: its groups' counts.
    pub(super) fn count_members(&mut self, s: usize) {
        for g in 0..self.logs.scaling.len() {
            if self.m.groups[g].service.index() != s {
                continue;
            }
            let n = self.logs.alive_in(g);
            if let Some(x) = self.logs.scaling[g].as_mut() {
                x.summary.members_at_end = n;
                x.summary.members_min = x.summary.members_min.min(n);
                x.summary.members_max = x.summary.members_max.max(n);
            }
        }
    }

    /// The membership figures of each group whose consumer autoscales, by
    /// group index.
    pub(in crate::engine) fn group_scaling_summaries(&self) -> Vec<(usize, GroupScalingSummary)> {
        self.logs
            .scaling
            .iter()
            .enumerate()
            .filter_map(|(g, x)| x.as_ref().map(|x| (g, x.summary.clone())))
            .collect()
    }
}
