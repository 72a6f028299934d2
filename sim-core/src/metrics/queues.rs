//! Measuring message queues: counters, depth and age levels, publish →
//! ack latencies, and the per-window values of the `queue` time series.
//!
//! Owns only numbers: the engine's broker tells it of every change and it
//! never touches a message.

use super::pending::{Pending, WindowLatencies};
use super::{Histogram, TimeWeighted, latency_of};
use crate::model::{Model, ServiceId, UNBOUNDED};
use crate::output::QueueSummary;
use crate::time::{Nanos, millis, secs};

/// Counters of one queue since the start of the run.
#[derive(Clone, Copy, Debug, Default)]
pub struct QueueCounters {
    pub published: u64,
    pub publish_failed: u64,
    pub publish_blocked: u64,
    pub delivered: u64,
    pub redelivered: u64,
    pub acked: u64,
    pub dead_lettered: u64,
    pub duplicates: u64,
    pub duplicate_side_effects: u64,
    pub visibility_expired: u64,
    pub late_acks: u64,
    pub acks_lost: u64,
    /// Duplicates an idempotency store turned into no-ops.
    pub duplicates_absorbed: u64,
}

impl QueueCounters {
    fn plus(&self, o: &QueueCounters) -> QueueCounters {
        QueueCounters {
            published: self.published + o.published,
            publish_failed: self.publish_failed + o.publish_failed,
            publish_blocked: self.publish_blocked + o.publish_blocked,
            delivered: self.delivered + o.delivered,
            redelivered: self.redelivered + o.redelivered,
            acked: self.acked + o.acked,
            dead_lettered: self.dead_lettered + o.dead_lettered,
            duplicates: self.duplicates + o.duplicates,
            duplicate_side_effects: self.duplicate_side_effects + o.duplicate_side_effects,
            visibility_expired: self.visibility_expired + o.visibility_expired,
            late_acks: self.late_acks + o.late_acks,
            acks_lost: self.acks_lost + o.acks_lost,
            duplicates_absorbed: self.duplicates_absorbed + o.duplicates_absorbed,
        }
    }

    fn minus(&self, o: &QueueCounters) -> QueueCounters {
        QueueCounters {
            published: self.published - o.published,
            publish_failed: self.publish_failed - o.publish_failed,
            publish_blocked: self.publish_blocked - o.publish_blocked,
            delivered: self.delivered - o.delivered,
            redelivered: self.redelivered - o.redelivered,
            acked: self.acked - o.acked,
            dead_lettered: self.dead_lettered - o.dead_lettered,
            duplicates: self.duplicates - o.duplicates,
            duplicate_side_effects: self.duplicate_side_effects - o.duplicate_side_effects,
            visibility_expired: self.visibility_expired - o.visibility_expired,
            late_acks: self.late_acks - o.late_acks,
            acks_lost: self.acks_lost - o.acks_lost,
            duplicates_absorbed: self.duplicates_absorbed - o.duplicates_absorbed,
        }
    }
}

/// The age of the oldest unacknowledged message: it grows at one second per
/// second between changes, so its integral is exact piece by piece.
#[derive(Clone, Debug, Default)]
struct AgeGauge {
    /// Publish time of the oldest message, if any.
    oldest: Option<Nanos>,
    last: Nanos,
    /// Integral of the age, in second².
    area: f64,
    window_area: f64,
    max: Nanos,
    window_max: Nanos,
}

impl AgeGauge {
    fn age(&self, now: Nanos) -> Nanos {
        self.oldest.map_or(0, |p| now - p)
    }

    fn flush(&mut self, now: Nanos) {
        if let Some(p) = self.oldest {
            let (a, b) = (secs(self.last - p), secs(now - p));
            let part = (b * b - a * a) / 2.0;
            self.area += part;
            self.window_area += part;
            let age = now - p;
            self.max = self.max.max(age);
            self.window_max = self.window_max.max(age);
        }
        self.last = now;
    }

    fn set(&mut self, now: Nanos, oldest: Option<Nanos>) {
        self.flush(now);
        self.oldest = oldest;
    }

    fn restart(&mut self, now: Nanos) {
        self.flush(now);
        self.area = 0.0;
        self.max = self.age(now);
    }

    /// (mean, max) age over the window ending at `now`, in seconds.
    fn close_window(&mut self, now: Nanos, len: Nanos) -> (f64, f64) {
        self.flush(now);
        let mean = if len == 0 {
            0.0
        } else {
            self.window_area / secs(len)
        };
        let max = secs(self.window_max);
        self.window_area = 0.0;
        self.window_max = self.age(now);
        (mean, max)
    }
}

pub struct QueueStats {
    pub c: QueueCounters,
    at_warmup: QueueCounters,
    at_window: QueueCounters,
    warmup: Nanos,
    /// Messages waiting for delivery.
    depth: TimeWeighted,
    unacked: TimeWeighted,
    consumers: TimeWeighted,
    age: AgeGauge,
    queued_at_start: u64,
    /// The deepest moment since measuring began, and the first empty queue
    /// after it.
    peak: (u64, Nanos),
    emptied_at: Option<Nanos>,
    pub(super) wait: Histogram,
    wait_sum: u128,
    pub(super) latency: Histogram,
    latency_sum: u128,
    /// Waits and latencies not yet in `wait` and `latency` (`pending.rs`;
    /// a wide model's go through its latency log instead). Drained before
    /// the summary reads them.
    pub(super) wait_pending: Pending,
    pub(super) latency_pending: Pending,
    /// Publish → ack of the messages acknowledged in this window,
    /// through a buffer (`WindowLatencies`: at 500 queues each
    /// acknowledgement missed on the histogram's list).
    pub(super) window_latency: WindowLatencies,
    /// Consumer workers over all replicas.
    workers: u64,
}

impl std::ops::Deref for QueueStats {
    type Target = QueueCounters;
    fn deref(&self) -> &QueueCounters {
        &self.c
    }
}
impl std::ops::DerefMut for QueueStats {
    fn deref_mut(&mut self) -> &mut QueueCounters {
        &mut self.c
    }
}

/// A queue's figures over one window (or the sum over queues).
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct QueueWindow {
    depth: f64,
    depth_max: u64,
    unacked: f64,
    age_max: f64,
    d: QueueCounters,
    consumers: f64,
}

impl QueueWindow {
    /// Adds `o`; the deepest queue and the oldest message are those of
    /// either.
    pub(super) fn merge(&mut self, o: &QueueWindow) {
        self.depth += o.depth;
        self.depth_max = self.depth_max.max(o.depth_max);
        self.unacked += o.unacked;
        self.age_max = self.age_max.max(o.age_max);
        self.d = self.d.plus(&o.d);
        self.consumers += o.consumers;
    }

    /// The window's `QUEUE_METRICS`, given its publish → ack latencies.
    pub(super) fn row(&self, lag: &Histogram, per_s: f64) -> [f64; QUEUE_METRICS.len()] {
        let d = &self.d;
        let p99 = if lag.is_empty() {
            0.0
        } else {
            millis(lag.value_at_quantile(0.99))
        };
        [
            self.depth,
            self.depth_max as f64,
            self.unacked,
            self.age_max,
            d.published as f64 * per_s,
            d.acked as f64 * per_s,
            d.redelivered as f64 * per_s,
            d.dead_lettered as f64 * per_s,
            d.publish_failed as f64 * per_s,
            p99,
            self.consumers,
        ]
    }
}

/// The `queue` time series, in the order of `QueueWindow::row`.
pub const QUEUE_METRICS: &[&str] = &[
    "depth",
    "depth_max",
    "unacked",
    "oldest_age_s",
    "published_rps",
    "acked_rps",
    "redelivered_rps",
    "dead_lettered_rps",
    "publish_failed_rps",
    "lag_p99_ms",
    "consumers_busy",
];

impl QueueStats {
    pub fn new(m: &Model, q: usize) -> QueueStats {
        let queue = &m.queues[q];
        QueueStats {
            c: QueueCounters::default(),
            at_warmup: QueueCounters::default(),
            at_window: QueueCounters::default(),
            warmup: m.warmup,
            depth: TimeWeighted::default(),
            unacked: TimeWeighted::default(),
            consumers: TimeWeighted::default(),
            age: AgeGauge::default(),
            queued_at_start: 0,
            // Empty at the start: without a warm-up (no `start_measuring`)
            // a queue that never fills has drained in 0 s, as with one.
            peak: (0, 0),
            emptied_at: Some(0),
            wait: Histogram::new(),
            wait_sum: 0,
            latency: Histogram::new(),
            latency_sum: 0,
            wait_pending: Pending::default(),
            latency_pending: Pending::default(),
            window_latency: WindowLatencies::default(),
            workers: u64::from(queue.concurrency) * u64::from(m.services[queue.service].replicas),
        }
    }

    #[inline]
    pub fn add_depth(&mut self, now: Nanos, delta: i64) {
        self.depth.add(now, delta);
        let d = self.depth.value;
        if d > self.peak.0 {
            self.peak = (d, now);
            self.emptied_at = None;
        } else if d == 0 && self.emptied_at.is_none() {
            self.emptied_at = Some(now);
        }
    }

    #[inline]
    pub fn add_unacked(&mut self, now: Nanos, delta: i64) {
        self.unacked.add(now, delta);
    }

    #[inline]
    pub fn add_consumers(&mut self, now: Nanos, delta: i64) {
        self.consumers.add(now, delta);
    }

    pub fn set_oldest(&mut self, now: Nanos, oldest: Option<Nanos>) {
        self.age.set(now, oldest);
    }

    /// A message's first delivery: its wait for the histogram if it is
    /// measured (`Recorder::record_queue_wait` records it).
    pub(super) fn record_wait(&mut self, published: Nanos, now: Nanos) -> Option<Nanos> {
        let wait = now - published;
        if published < self.warmup {
            return None;
        }
        self.wait_sum += u128::from(wait);
        Some(wait)
    }

    /// A message acknowledged: its latency for the histogram if it is
    /// measured (`Recorder::record_queue_ack` records it).
    pub(super) fn record_ack(&mut self, published: Nanos, now: Nanos) -> Option<Nanos> {
        let lat = now - published;
        self.window_latency.record(lat);
        if published < self.warmup {
            return None;
        }
        self.latency_sum += u128::from(lat);
        Some(lat)
    }

    pub(super) fn start_measuring(&mut self, now: Nanos) {
        self.at_warmup = self.c;
        self.depth.restart(now);
        self.unacked.restart(now);
        self.consumers.restart(now);
        self.age.restart(now);
        self.queued_at_start = self.unacked.value;
        self.peak = (self.depth.value, now);
        self.emptied_at = (self.depth.value == 0).then_some(now);
    }

    /// Ends the window at `end` (of length `len`): its figures. The
    /// caller reads `window_latency`, then resets it.
    pub(super) fn close_window(&mut self, end: Nanos, len: Nanos) -> QueueWindow {
        let (depth, depth_max) = self.depth.close_window(end, len);
        let (unacked, _) = self.unacked.close_window(end, len);
        let (consumers, _) = self.consumers.close_window(end, len);
        let (_, age_max) = self.age.close_window(end, len);
        let d = self.c.minus(&self.at_window);
        self.at_window = self.c;
        QueueWindow {
            depth,
            depth_max,
            unacked,
            age_max,
            d,
            consumers,
        }
    }

    /// `producers`: the services that publish to it
    /// (`Model::producers_by_queue`).
    pub(super) fn summary(
        &mut self,
        m: &Model,
        q: usize,
        producers: &[ServiceId],
        end: Nanos,
    ) -> QueueSummary {
        let queue = &m.queues[q];
        self.wait_pending.drain_into(&mut self.wait);
        self.latency_pending.drain_into(&mut self.latency);
        self.depth.flush(end);
        self.unacked.flush(end);
        self.consumers.flush(end);
        self.age.flush(end);
        let span = end.saturating_sub(m.warmup).max(1);
        let c = self.c.minus(&self.at_warmup);
        let op = &m.ops[queue.consumer as usize];
        let svc = &m.services[queue.service];
        QueueSummary {
            broker: m.brokers[queue.broker as usize].name.clone(),
            topic: queue.topic.map(|t| m.topics[t as usize].name.clone()),
            producers: producers
                .iter()
                .map(|&s| m.services[s].name.clone())
                .collect(),
            consumer: if svc.ops.len() == 1 {
                svc.name.clone()
            } else {
                format!("{}.{}", svc.name, op.name)
            },
            concurrency: queue.concurrency,
            idempotent: queue.idempotent,
            capacity: (queue.capacity != UNBOUNDED).then_some(queue.capacity),
            dead_letter: queue.dead_letter.map(|d| m.queues[d as usize].name.clone()),
            queued_at_start: self.queued_at_start,
            queued_at_end: self.unacked.value,
            published: c.published,
            publish_failed: c.publish_failed,
            publish_blocked: c.publish_blocked,
            delivered: c.delivered,
            redelivered: c.redelivered,
            acked: c.acked,
            dead_lettered: c.dead_lettered,
            duplicates: c.duplicates,
            duplicate_side_effects: c.duplicate_side_effects,
            visibility_expired: c.visibility_expired,
            late_acks: c.late_acks,
            acks_lost: c.acks_lost,
            depth_mean: self.depth.area as f64 / span as f64,
            depth_max: self.depth.max,
            unacked_mean: self.unacked.area as f64 / span as f64,
            unacked_max: self.unacked.max,
            oldest_age_mean_s: self.age.area / secs(span),
            oldest_age_max_s: secs(self.age.max),
            drain_s: self.emptied_at.map(|t| secs(t - self.peak.1)),
            consumer_utilization: if self.workers == 0 {
                0.0
            } else {
                self.consumers.area as f64 / span as f64 / self.workers as f64
            },
            wait_ms: latency_of(&self.wait, self.wait_sum),
            latency_ms: latency_of(&self.latency, self.latency_sum),
            idempotency_ttl_s: queue.idempotency_ttl.map(secs),
            duplicates_absorbed: c.duplicates_absorbed,
        }
    }
}
