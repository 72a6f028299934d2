//! `check` for partitioned logs: records appended per second to each log
//! (from the visits of its producers' publish steps) and, per consumer
//! group, the load of its members: every record is processed once by each
//! group, one record at a time per member, and a member serves at most
//! its share of the partitions, so a group's capacity is min(members,
//! partitions) ÷ the consumer's holding time. Spread over partitions is
//! taken as even (a Zipf key space is hotter on one partition). An
//! autoscaled consumer's members are counted at its `max` replicas.
//!
//! The consumer operation's visits also count in its service's load
//! (`walk.rs`). A group's `batch_cost` adds per_record + fixed ÷
//! `max_poll_records` to the holding time its capacity is counted with:
//! batches taken full, the most a member can take. Its load on the
//! consumer service is counted per active member as a bulk server's:
//! while λ_p × (fixed + per_record + hold) < 1 (λ_p the member's share of
//! records per second) each record is polled alone and pays `fixed`;
//! past that the member is busy all the time and batches grow. Must not
//! run anything.

use super::Analysis;
use super::types::{GroupLoad, LogLoad};

impl Analysis<'_> {
    pub(super) fn log_loads(&mut self) -> Vec<LogLoad> {
        let m = self.m;
        let mut out = Vec::with_capacity(m.logs.len());
        for (l, log) in m.logs.iter().enumerate() {
            let rate = self.log_rate(l);
            let mut groups = Vec::new();
            for g in m.groups.iter().filter(|g| g.log == l as u32) {
                let hold_ms = (self.op_hold(g.consumer) + batch_cost_per_record(g)) / 1e6;
                let active = members_at_max(m, g).min(log.partitions);
                let capacity = if hold_ms > 0.0 {
                    f64::from(active) * 1e3 / hold_ms
                } else {
                    f64::INFINITY
                };
                groups.push(GroupLoad {
                    name: g.name.clone(),
                    consumer: m.services[g.service].name.clone(),
                    active_members: active,
                    hold_ms,
                    capacity_rps: capacity,
                    rho: if capacity.is_finite() {
                        rate / capacity
                    } else {
                        0.0
                    },
                });
            }
            out.push(LogLoad {
                name: log.name.clone(),
                partitions: log.partitions,
                rate,
                groups,
            });
        }
        out
    }
}

/// A group's members with its consumer at its most replicas: an
/// autoscaled consumer runs `members ÷ replicas at the start` on each of
/// `max` replicas (as the service is counted at `max`).
fn members_at_max(m: &crate::model::Model, g: &crate::model::Group) -> u32 {
    match m.services[g.service].autoscale {
        Some(a) => g.members / a.initial * a.max,
        None => g.members,
    }
}

/// A record's share of its group's `batch_cost` with full batches, ns.
fn batch_cost_per_record(g: &crate::model::Group) -> f64 {
    g.batch_cost.map_or(0.0, |c| {
        c.per_record as f64 + c.fixed as f64 / f64::from(g.max_poll_records)
    })
}

impl Analysis<'_> {
    /// Records appended to log `l` per second.
    fn log_rate(&self, l: usize) -> f64 {
        self.visits
            .iter()
            .zip(&self.rates)
            .map(|(v, r)| r * v.logs[l])
            .sum()
    }

    /// Thread time per second (ns) the batch costs of service `s`'s
    /// consumer groups take, beyond the consumer steps' own (already
    /// counted from their visits).
    pub(super) fn batch_cost_busy_ns(&mut self, s: usize) -> f64 {
        let m = self.m;
        let mut busy = 0.0;
        for g in m.groups.iter().filter(|g| g.service.index() == s) {
            let Some(c) = g.batch_cost else {
                continue;
            };
            let active = f64::from(members_at_max(m, g).min(m.logs[g.log as usize].partitions));
            let per_member = self.log_rate(g.log as usize) / active;
            let hold = self.op_hold(g.consumer);
            let single = per_member * (c.fixed as f64 + c.per_record as f64 + hold);
            busy += active * (single.min(1e9) - per_member * hold).max(0.0);
        }
        busy
    }
}
