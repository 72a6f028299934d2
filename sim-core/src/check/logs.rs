//! `check` for partitioned logs: records appended per second to each log
//! (from the visits of its producers' publish steps) and, per consumer
//! group, the load of its members: every record is processed once by each
//! group, one record at a time per member, and a member serves at most
//! its share of the partitions, so a group's capacity is min(members,
//! partitions) ÷ the consumer's holding time. Spread over partitions is
//! taken as even (a Zipf key space is hotter on one partition).
//!
//! The consumer operation's visits also count in its service's load
//! (`walk.rs`). Must not run anything.

use super::Analysis;
use super::types::{GroupLoad, LogLoad};

impl Analysis<'_> {
    pub(super) fn log_loads(&mut self) -> Vec<LogLoad> {
        let m = self.m;
        let mut out = Vec::with_capacity(m.logs.len());
        for (l, log) in m.logs.iter().enumerate() {
            let rate: f64 = self
                .visits
                .iter()
                .zip(&self.rates)
                .map(|(v, r)| r * v.logs[l])
                .sum();
            let mut groups = Vec::new();
            for g in m.groups.iter().filter(|g| g.log == l as u32) {
                let hold_ms = self.op_hold(g.consumer) / 1e6;
                let active = g.members.min(log.partitions);
                let capacity = if hold_ms > 0.0 {
                    f64::from(active) * 1e3 / hold_ms
                } else {
                    f64::INFINITY
                };
                groups.push(GroupLoad {
                    name: g.name.clone(),
                    consumer: m.services[g.service as usize].name.clone(),
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
