//! Partitioned-log figures: records produced per log and partition; per
//! consumer group, what was consumed, committed, lost to retention,
//! dead-lettered or moved, duplicates, rebalances, evictions and
//! head-of-line blocked time; lag as series of scope `group` (records,
//! oldest age, records consumed per second, rebalance pause) and of scope
//! `partition` (lag in records per partition, or per range of partitions
//! when a group has more than its share of `NAMES_PER_SCOPE`).
//!
//! Counts over the whole run (warm-up included) so the no-record-lost
//! invariant adds up from the summary. Owns the counting; must not change
//! a log (the engine does and tells it what happened).

use super::histogram::Histogram;
use super::series::{NAMES_PER_SCOPE, SeriesWriter};
use crate::model::{Model, OnFailure, Step};
use crate::output::{GroupSummary, LogSummary};
use crate::time::{Nanos, secs};

const GROUP_METRICS: &[&str] = &["lag_records", "lag_s", "consumed_rps", "rebalancing"];

/// One consumer group's counters, bumped by the engine.
#[derive(Clone, Debug, Default)]
pub struct GroupStats {
    pub consumed: u64,
    pub committed: u64,
    pub lost_to_retention: u64,
    pub dead_lettered: u64,
    pub moved_to_retry: u64,
    pub failures: u64,
    pub duplicates: u64,
    pub late: u64,
    pub rebalances: u64,
    pub rebalancing_ns: Nanos,
    pub evictions: u64,
    pub hol_blocked_ns: Nanos,
    wait_sum_ns: u128,
    waits: u64,
    consumed_at_window: u64,
    /// Per partition: lag at the last sample.
    lag: Vec<u64>,
    age: Nanos,
    paused: bool,
    lag_sum: f64,
    lag_samples: u64,
    lag_max: u64,
    /// The lag at each window's end, for its p99.
    lag_windows: Histogram,
    age_max: Nanos,
    /// The first series of scope `group`, and of scope `partition` with
    /// how many partitions each of its series sums.
    slots: u32,
    partition_slots: u32,
    per_bucket: usize,
    /// Poll batches that paid the group's `batch_cost` (`log_batches.rs`).
    pub poll_batches: super::log_batches::PollBatchStats,
}

pub struct LogStats {
    /// Per log, per partition: records appended.
    produced: Vec<Vec<u64>>,
    pub groups: Vec<GroupStats>,
    /// Per log: producer batches sent (`log_batches.rs`).
    pub producer_batches: Vec<super::log_batches::ProducerBatchStats>,
}

impl LogStats {
    #[inline]
    pub fn produced(&mut self, l: usize, p: usize) {
        self.produced[l][p] += 1;
    }

    /// A record's first processing starts `wait` after it was produced.
    pub fn waited(&mut self, g: usize, wait: Nanos) {
        let st = &mut self.groups[g];
        st.wait_sum_ns += u128::from(wait);
        st.waits += 1;
    }

    pub fn lost(&mut self, g: usize, n: u64) {
        self.groups[g].lost_to_retention += n;
    }

    pub fn set_lag(&mut self, g: usize, p: usize, lag: u64) {
        self.groups[g].lag[p] = lag;
    }

    pub fn set_age(&mut self, g: usize, age: Nanos, paused: bool) {
        let st = &mut self.groups[g];
        st.age = age;
        st.paused = paused;
    }

    pub fn close_window(&mut self, series: &mut SeriesWriter, per_s: f64) {
        for st in &mut self.groups {
            let lag: u64 = st.lag.iter().sum();
            st.lag_sum += lag as f64;
            st.lag_samples += 1;
            st.lag_max = st.lag_max.max(lag);
            st.lag_windows.record(lag);
            st.age_max = st.age_max.max(st.age);
            let consumed = st.consumed - st.consumed_at_window;
            st.consumed_at_window = st.consumed;
            series.put_at(
                st.slots,
                &[
                    lag as f64,
                    secs(st.age),
                    consumed as f64 * per_s,
                    f64::from(u8::from(st.paused)),
                ],
            );
            for (k, chunk) in st.lag.chunks(st.per_bucket).enumerate() {
                let v: u64 = chunk.iter().sum();
                series.put_at(st.partition_slots + k as u32, &[v as f64]);
            }
        }
    }

    /// `in_log[g]`: records group g had not handled at the end.
    pub fn summary(
        &self,
        m: &Model,
        in_log: &[u64],
        measured_s: f64,
    ) -> indexmap::IndexMap<String, LogSummary> {
        m.logs
            .iter()
            .enumerate()
            .map(|(l, log)| {
                let produced: u64 = self.produced[l].iter().sum();
                let groups = (0..m.groups.len())
                    .filter(|&g| m.groups[g].log == l as u32)
                    .map(|g| {
                        let grp = &m.groups[g];
                        let st = &self.groups[g];
                        let svc = &m.services[grp.service];
                        let consumer = if svc.ops.len() == 1 {
                            svc.name.clone()
                        } else {
                            format!("{}.{}", svc.name, m.ops[grp.consumer as usize].name)
                        };
                        let (worst, worst_lag) =
                            st.lag.iter().enumerate().fold((0, 0), |(bp, bl), (p, &x)| {
                                if x > bl { (p, x) } else { (bp, bl) }
                            });
                        let summary = GroupSummary {
                            consumer,
                            members: grp.members,
                            consumed: st.consumed,
                            committed: st.committed,
                            in_log_at_end: in_log[g],
                            lost_to_retention: st.lost_to_retention,
                            dead_lettered: st.dead_lettered,
                            moved_to_retry: st.moved_to_retry,
                            failures: st.failures,
                            duplicates: st.duplicates,
                            late_processings: st.late,
                            rebalances: st.rebalances,
                            rebalancing_s: secs(st.rebalancing_ns),
                            evictions: st.evictions,
                            hol_blocked_s: secs(st.hol_blocked_ns),
                            throughput_rps: if measured_s > 0.0 {
                                st.committed as f64 / measured_s
                            } else {
                                0.0
                            },
                            lag_records_mean: if st.lag_samples == 0 {
                                0.0
                            } else {
                                st.lag_sum / st.lag_samples as f64
                            },
                            lag_records_max: st.lag_max,
                            wait_ms_mean: if st.waits == 0 {
                                0.0
                            } else {
                                st.wait_sum_ns as f64 / st.waits as f64 / 1e6
                            },
                            lag_s_max: secs(st.age_max),
                            worst_partition: worst as u32,
                            worst_partition_lag: worst_lag,
                            lag_records_p99: st.lag_windows.value_at_quantile(0.99),
                            failure_log: match grp.on_failure {
                                OnFailure::RetryLog(to) | OnFailure::DeadLetter(Some(to)) => {
                                    Some(m.logs[to as usize].name.clone())
                                }
                                _ => None,
                            },
                            poll_batches: st.poll_batches.summary(grp),
                            scaling: None,
                        };
                        debug_assert_eq!(
                            produced,
                            summary.committed
                                + summary.in_log_at_end
                                + summary.lost_to_retention
                                + summary.dead_lettered,
                            "group {}: a record was lost or counted twice",
                            grp.name
                        );
                        (grp.name.clone(), summary)
                    })
                    .collect();
                (
                    log.name.clone(),
                    LogSummary {
                        partitions: log.partitions,
                        produced,
                        produced_max_partition: self.produced[l].iter().copied().max().unwrap_or(0),
                        produced_mean_partition: produced as f64 / f64::from(log.partitions),
                        groups,
                        producers: producers_of(m, l as u32),
                        broker: m.brokers[log.broker as usize].name.clone(),
                        producer_batches: self.producer_batches[l].summary(),
                    },
                )
            })
            .collect()
    }
}

/// The services with a `publish` step to log `l`, in file order.
fn producers_of(m: &Model, l: u32) -> Vec<String> {
    m.services
        .iter()
        .filter(|svc| {
            svc.ops.iter().any(|&op| {
                m.op_steps(op).iter().any(
                    |st| matches!(st, Step::Publish(p) if m.publishes[*p as usize].log == Some(l)),
                )
            })
        })
        .map(|svc| svc.name.clone())
        .collect()
}

/// The logs' counters of `m`, with their series after every other.
pub fn for_model(m: &Model, series: &mut SeriesWriter) -> LogStats {
    let share = (NAMES_PER_SCOPE / m.groups.len().max(1)).max(1);
    let groups = m
        .groups
        .iter()
        .map(|g| {
            let partitions = m.logs[g.log as usize].partitions as usize;
            let slots = series.add_series("group", &g.name, GROUP_METRICS);
            let per_bucket = partitions.div_ceil(share);
            let mut partition_slots = u32::MAX;
            for (k, first) in (0..partitions).step_by(per_bucket).enumerate() {
                let last = (first + per_bucket).min(partitions) - 1;
                let name = if per_bucket == 1 {
                    format!("{}/p{first}", g.name)
                } else {
                    format!("{}/p{first}-{last}", g.name)
                };
                let slot = series.add_series("partition", &name, &["lag_records"]);
                if k == 0 {
                    partition_slots = slot;
                }
            }
            GroupStats {
                lag: vec![0; partitions],
                slots,
                partition_slots,
                per_bucket,
                ..GroupStats::default()
            }
        })
        .collect();
    LogStats {
        produced: m
            .logs
            .iter()
            .map(|l| vec![0; l.partitions as usize])
            .collect(),
        groups,
        producer_batches: vec![Default::default(); m.logs.len()],
    }
}
