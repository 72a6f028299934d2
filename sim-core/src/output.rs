//! What a run hands to the outside world: the summary and the time series.
//!
//! Plain serialisable data with stable, documented keys (README, "Outputs").
//! `reports` and `cli` read these types and nothing else of the engine.
//! Maps keep the scenario file's order, so outputs are byte-identical for
//! the same scenario and seed.
//!
//! Past 900 lines: this is the whole `summary.json` schema in one place
//! (every key's type with the doc comment the README's "Outputs" follows);
//! split by feature it would scatter one file format over many modules.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

/// Everything one run produced.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RunResult {
    pub summary: Summary,
    pub timeseries: TimeSeries,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Summary {
    pub scenario: String,
    pub seed: u64,
    /// cascade's version: outputs are reproducible for the same scenario,
    /// seed and version.
    pub version: String,
    /// FNV-1a of the scenario (after overrides), hex.
    pub scenario_hash: String,
    /// `--set` overrides applied, as typed.
    pub overrides: Vec<String>,
    /// Measured period: `duration - warmup`, seconds.
    pub sim_duration_s: f64,
    pub warmup_s: f64,
    /// Simulated time when the run stopped (after draining), seconds.
    pub end_time_s: f64,
    /// Events processed (including stale timers skipped).
    pub events: u64,
    /// Why the run stopped early (the overload guard), when it did: its
    /// figures cover the run up to then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partial: Option<String>,
    pub entries: IndexMap<String, EntrySummary>,
    pub services: IndexMap<String, ServiceSummary>,
    pub edges: IndexMap<String, EdgeSummary>,
    /// Per source with a retry policy: its own attempts and retries.
    #[serde(default)]
    pub clients: IndexMap<String, EdgeSummary>,
    /// Retry amplification: arrivals at each service ÷ entry requests.
    #[serde(default)]
    pub amplification: IndexMap<String, f64>,
    /// Per message queue (a topic's subscriptions included), in file order.
    #[serde(default)]
    pub queues: IndexMap<String, QueueSummary>,
    /// Per cache, in file order (absent without caches).
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub caches: IndexMap<String, CacheSummary>,
    /// Per criticality (`critical`, `default`, `sheddable`): the entries of
    /// that class added up; only when the scenario uses criticality.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub classes: IndexMap<String, ClassSummary>,
    pub faults: Vec<FaultWindow>,
    /// Per fault window and entry: baseline, recovery time, verdict
    /// (`recovery::analyze`).
    #[serde(default)]
    pub recovery: Vec<Recovery>,
    /// The scenario's SLO assertions and their verdicts (`slo::check`).
    #[serde(default)]
    pub slo: Vec<SloResult>,
    /// Per partitioned log, in file order (absent without logs).
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub logs: IndexMap<String, LogSummary>,
    /// Per saga, in file order (absent without sagas).
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub sagas: IndexMap<String, SagaSummary>,
    /// Per producing service with an outbox (absent without outboxes).
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub outboxes: IndexMap<String, OutboxSummary>,
    /// Per source that polls after an accepted answer, in file order
    /// (absent without polling): its entry's latency is time to result.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub polls: IndexMap<String, PollSummary>,
    /// Per versioned store, in file order (absent without stores).
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub stores: IndexMap<String, StoreSummary>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Latency {
    pub mean: f64,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Failed {
    /// The client's timeout fired first.
    pub timeout: u64,
    /// The entry service refused the request (accept queue full, or
    /// crashed), or an OOM kill reset it.
    pub rejected: u64,
    /// An error answer (injected, or a failure further down the chain).
    pub error: u64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct EntrySummary {
    pub target: String,
    /// Requests that arrived in the measured period.
    pub requests: u64,
    pub ok: u64,
    /// Answered by a fallback somewhere along the way (counted apart from
    /// `ok`; part of goodput).
    #[serde(default)]
    pub degraded: u64,
    pub failed: Failed,
    /// Requests with no outcome when the run stopped.
    pub in_flight_at_end: u64,
    /// (ok + failed) / sim_duration_s.
    pub throughput_rps: f64,
    /// (ok + degraded) / sim_duration_s.
    pub goodput_rps: f64,
    /// failed / (ok + failed).
    pub error_rate: f64,
    /// Of successful requests, from arrival to answer, ms.
    pub latency_ms: Latency,
    /// Of every request with an outcome (failures included), ms.
    pub latency_all_ms: Latency,
    /// The distribution of successful latencies: `[quantile, ms]` pairs at
    /// fixed quantiles (0.01 … 0.99, 0.995, 0.999, 0.9999, 1), for CDF charts.
    pub latency_cdf_ms: Vec<[f64; 2]>,
}

/// The entries of one criticality, added up.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ClassSummary {
    /// The workload sources of this class.
    pub entries: Vec<String>,
    pub requests: u64,
    pub ok: u64,
    pub degraded: u64,
    pub failed: Failed,
    /// (ok + degraded) / sim_duration_s.
    pub goodput_rps: f64,
    /// failed / (ok + degraded + failed).
    pub error_rate: f64,
    /// Of successful requests, ms.
    pub latency_ms: Latency,
    /// Of every request with an outcome, ms.
    pub latency_all_ms: Latency,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ServiceSummary {
    pub replicas: u32,
    /// Threads per replica.
    pub threads: u32,
    /// Accept-queue slots per replica; null when unbounded.
    pub queue_capacity: Option<u32>,
    /// Requests that reached the service (accepted or not).
    pub arrivals: u64,
    /// Requests that arrived after the warm-up and ran to an answer.
    pub completed: u64,
    /// Refused because the accept queue was full.
    pub rejected: u64,
    /// Refused because the replica was crashed, down or not ready, or cut
    /// off by a `crash` fault.
    pub refused: u64,
    /// Answers turned into errors by an `errors` fault.
    pub injected_errors: u64,
    /// Refused by the admission token bucket.
    #[serde(default)]
    pub rate_limited: u64,
    /// Refused by the adaptive concurrency limit.
    #[serde(default)]
    pub concurrency_limited: u64,
    /// Dropped from the queue after waiting longer than `shed_queue_time`.
    #[serde(default)]
    pub shed: u64,
    /// Dropped because their propagated deadline had passed (when taken
    /// from the queue, or before a step).
    #[serde(default)]
    pub deadline_dropped: u64,
    /// Accepted and never answered while the replica hung.
    #[serde(default)]
    pub blackholed: u64,
    /// Connections a full backlog dropped (`when_full = "drop"`) that the
    /// client sent again.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub connect_retries: u64,
    /// Connections that failed as a connect timeout: dropped after their
    /// last retransmission, or past the caller's connect timeout.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub connect_timeouts: u64,
    /// Time-weighted busy threads ÷ (threads × replicas).
    pub utilization: f64,
    pub busy_threads_mean: f64,
    pub queue_len_mean: f64,
    pub queue_len_max: u64,
    /// Time-weighted requests in the service (queued + holding a thread).
    pub in_system_mean: f64,
    pub queue_wait_ms: Latency,
    /// From arrival at the service to its answer, ms.
    pub sojourn_ms: Latency,
    /// Thread-seconds spent on requests whose answer nobody awaited any
    /// more (their whole time holding a thread).
    pub orphaned_work_s: f64,
    /// Of that, thread-seconds spent after the caller's timeout fired: the
    /// work deadline propagation removes.
    #[serde(default)]
    pub work_after_giveup_s: f64,
    pub orphaned_requests: u64,
    /// orphaned thread time ÷ all busy thread time.
    pub wasted_work_ratio: f64,
    /// An event-loop service's loops, run queue and connections (absent
    /// for a thread pool). Its `threads` is then its connection limit
    /// (4294967295 when unbounded) and `utilization` its loops'.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_loop: Option<EventLoopSummary>,
    /// Memory, OOM kills, restarts and GC (absent without `memory`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<MemorySummary>,
    /// Arrivals ÷ entry requests (absent unless the model branches: a
    /// `branch` or an optional call).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visits_per_request: Option<f64>,
    /// Outlier ejection on the service's balancer (absent without
    /// `outlier_detection`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outlier: Option<OutlierSummary>,
    /// The autoscaler's replicas (absent without `autoscale`); `replicas`
    /// is then the count at the start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub autoscale: Option<AutoscaleSummary>,
    /// Its conditional writes that found the version moved (absent unless
    /// the service writes a store conditionally).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conflicts: Option<u64>,
    /// Arrivals from callers in the replica's zone and from other zones
    /// (absent unless the scenario routes by zone or has a cross-zone
    /// latency, and the service lists `zones`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zones: Option<ZoneSummary>,
    /// Requests cut off by an OOM kill while the replica held them (their
    /// callers hear `reset`; the entries and edges count them `rejected`,
    /// as they count `refused`). Absent unless the service declares
    /// `memory`: only an OOM kill resets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reset: Option<u64>,
}

/// Where a zoned service's requests came from, over the measured period.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ZoneSummary {
    /// Its balancer prefers the caller's zone.
    pub zone_aware: bool,
    /// Arrivals from a caller in the picked replica's zone.
    pub local: u64,
    /// Arrivals from a caller in another zone (each paid `cross_zone`
    /// both ways). Callers without a zone count in neither.
    pub cross_zone: u64,
}

/// An autoscaled service's replicas over the measured period.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct AutoscaleSummary {
    pub min: u32,
    pub max: u32,
    /// The metric's target per pod.
    pub target: f64,
    /// Replicas existing (starting, serving or draining) at the end.
    pub replicas_at_end: u32,
    /// Of those, serving at the end.
    pub ready_at_end: u32,
    /// The most replicas existing at once.
    pub replicas_max: u32,
    /// Replicas existing, on average.
    pub replicas_mean: f64,
    /// Replicas serving, on average.
    pub ready_mean: f64,
    /// Replicas existing × seconds (what the scale cost).
    pub replica_seconds: f64,
    /// Replicas the autoscaler created.
    pub created: u64,
    /// Replicas it removed (starting ones dropped, serving ones drained).
    pub removed: u64,
    /// Decisions that raised / lowered the replica count.
    pub scale_ups: u64,
    pub scale_downs: u64,
}

/// Outlier ejection over the measured period.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct OutlierSummary {
    /// Replicas ejected (each ejection once).
    pub ejections: u64,
    /// The most replicas ejected at once.
    pub ejected_max: u32,
    /// Replica-seconds spent ejected.
    pub ejected_replica_s: f64,
}

/// An event-loop service over the measured period.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct EventLoopSummary {
    /// Event-loop threads per replica.
    pub loops: u32,
    /// Time-weighted busy loops ÷ (loops × replicas).
    pub loop_utilization: f64,
    /// Ready continuations waiting for a loop (all replicas).
    pub run_queue_mean: f64,
    pub run_queue_max: u64,
    /// From ready to running on a loop, ms.
    pub run_queue_wait_ms: Latency,
    /// Open requests (accepted, not yet answered), all replicas.
    pub connections_mean: f64,
    pub connections_max: u64,
    /// Per replica; null when unbounded.
    pub max_connections: Option<u32>,
    /// Loop-seconds spent in `blocking` work.
    pub blocking_s: f64,
}

/// A service's memory over the measured period (per replica, MiB).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct MemorySummary {
    pub limit_mib: f64,
    /// Time-weighted mean over replicas that are up.
    pub mean_mib: f64,
    /// Time-weighted 99th percentile of a replica's gauge.
    pub p99_mib: f64,
    pub max_mib: f64,
    pub oom_kills: u64,
    pub restarts: u64,
    /// Replica-seconds down after an OOM kill.
    pub down_s: f64,
    /// Replica-seconds cold after a restart.
    pub cold_s: f64,
    pub gc_pauses: u64,
    pub gc_pause_s: f64,
    /// GC pause time ÷ (replicas × measured time).
    pub gc_pause_share: f64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct EdgeSummary {
    /// Requests sent over the network (every attempt that left).
    pub calls: u64,
    /// Calls (not attempts) by outcome as their caller saw it.
    pub ok: u64,
    #[serde(default)]
    pub degraded: u64,
    pub errors: u64,
    pub rejected: u64,
    /// Timeouts fired (per attempt, and call-level deadlines).
    pub timeouts: u64,
    /// Answers that arrived after the caller had given up.
    pub late_replies: u64,
    /// Attempts started: first tries, retries and hedges.
    #[serde(default)]
    pub attempts: u64,
    #[serde(default)]
    pub retries: u64,
    #[serde(default)]
    pub retries_refused_by_budget: u64,
    /// Attempts failed fast by an open breaker.
    #[serde(default)]
    pub circuit_open: u64,
    #[serde(default)]
    pub rate_limited: u64,
    #[serde(default)]
    pub bulkhead_rejected: u64,
    #[serde(default)]
    pub hedges: u64,
    #[serde(default)]
    pub hedges_won: u64,
    #[serde(default)]
    pub fallbacks: u64,
    /// Requests and answers lost to a partition.
    #[serde(default)]
    pub lost_to_partition: u64,
    #[serde(default)]
    pub breaker_state_changes: u64,
    #[serde(default)]
    pub breaker_times_opened: u64,
    /// Seconds spent open, summed over caller replicas.
    #[serde(default)]
    pub breaker_open_s: f64,
    #[serde(default)]
    pub breaker_half_open_s: f64,
    /// Expected calls over this edge per request at the caller, from the
    /// model's branch and optional-call probabilities (absent when no
    /// branch decides them, or a cache's hit ratio does).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call_probability: Option<f64>,
    /// Of `attempts`, those that left the caller: the load the callee saw
    /// (absent when every attempt was sent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempts_sent: Option<u64>,
    /// Of `attempts`, those that ended before leaving the caller: refused
    /// by a breaker, rate limit or bulkhead around the attempt, or timed out
    /// waiting for the bulkhead. (Refusals by layers outside the retry and
    /// retries refused by a budget never became attempts.)
    #[serde(default, skip_serializing_if = "is_zero")]
    pub attempts_refused_locally: u64,
    /// Retries not sent because the caller's recent failure ratio on this
    /// edge was at or above `only_while_failure_rate_below`.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub retries_suppressed: u64,
    /// Attempts the caller's adaptive throttling turned away (`throttle`;
    /// also in `attempts_refused_locally`).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub throttled: u64,
}

/// One message queue over the measured period. Counters satisfy
/// `published + queued_at_start = acked + dead_lettered + queued_at_end`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct QueueSummary {
    pub broker: String,
    /// The topic it subscribes to, if any.
    pub topic: Option<String>,
    /// Services that publish to it (directly or through its topic, or as
    /// the previous step of a choreographed saga).
    #[serde(default)]
    pub producers: Vec<String>,
    /// "service" or "service.operation".
    pub consumer: String,
    /// Consumer workers per replica.
    pub concurrency: u32,
    pub idempotent: bool,
    /// null when unbounded.
    pub capacity: Option<u32>,
    /// The queue its dead letters move to, if any.
    #[serde(default)]
    pub dead_letter: Option<String>,
    /// Unacknowledged messages when measuring started, and when the run
    /// stopped.
    pub queued_at_start: u64,
    pub queued_at_end: u64,
    /// Messages accepted into the queue.
    pub published: u64,
    /// Publishes refused: queue full (fail) or broker down, or a blocked
    /// producer's wait ran out.
    pub publish_failed: u64,
    /// Publishes that had to wait for space or for the broker.
    pub publish_blocked: u64,
    /// Deliveries to a consumer (first ones and redeliveries).
    pub delivered: u64,
    pub redelivered: u64,
    pub acked: u64,
    pub dead_lettered: u64,
    /// Successful processings of a message already processed before.
    pub duplicates: u64,
    /// Of those, at a consumer that is not idempotent and not absorbed by
    /// an idempotency store.
    pub duplicate_side_effects: u64,
    /// Deliveries not acknowledged within the visibility timeout.
    pub visibility_expired: u64,
    /// Processings that finished after their delivery had expired (their
    /// acknowledgement no longer counts).
    pub late_acks: u64,
    /// Acknowledgements lost because the broker was down.
    pub acks_lost: u64,
    /// Messages waiting to be delivered (time-weighted mean, max).
    pub depth_mean: f64,
    pub depth_max: u64,
    /// Unacknowledged messages (waiting, being processed, or waiting for
    /// redelivery): what `capacity` bounds.
    pub unacked_mean: f64,
    pub unacked_max: u64,
    /// Age of the oldest unacknowledged message, seconds.
    pub oldest_age_mean_s: f64,
    pub oldest_age_max_s: f64,
    /// From the deepest moment to the first empty queue after it, seconds
    /// (null if it never emptied).
    pub drain_s: Option<f64>,
    /// Busy consumer workers ÷ (concurrency × replicas), time-weighted.
    pub consumer_utilization: f64,
    /// Publish → first delivery, ms.
    pub wait_ms: Latency,
    /// Publish → acknowledgement (end to end), of acknowledged messages, ms.
    pub latency_ms: Latency,
    /// The idempotency store's TTL, seconds (absent without a store).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotency_ttl_s: Option<f64>,
    /// Duplicates the store turned into no-ops (absent when none).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub duplicates_absorbed: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FaultWindow {
    pub kind: String,
    pub target: String,
    pub replica: Option<u32>,
    pub start_s: f64,
    pub end_s: f64,
}

/// What happened to one entry after one fault.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Goodput came back into the band and stayed there.
    Recovered,
    /// Goodput never left the band.
    NotAffected,
    /// Goodput was still out of the band when the run's arrivals stopped.
    #[default]
    DidNotRecover,
    /// The next fault started before goodput came back.
    Interrupted,
    /// No window to compute a baseline from.
    NoBaseline,
    /// The fault starts at or after the end of the run's arrivals: it never
    /// happened within the run.
    NotReached,
    /// Goodput came back, then fell below the band again and stayed there
    /// until the evidence ended (a relapse; see `recovery.rs`).
    Relapsed,
}

impl Verdict {
    /// Human words for tables.
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Recovered => "recovered",
            Verdict::NotAffected => "not affected",
            Verdict::DidNotRecover => "did not recover",
            Verdict::Interrupted => "interrupted by the next fault",
            Verdict::NoBaseline => "no baseline",
            Verdict::NotReached => "not reached: the run ended before the fault",
            Verdict::Relapsed => "relapsed",
        }
    }

    /// Whether the entry is back (or never left, or the fault never came).
    pub fn ok(self) -> bool {
        matches!(
            self,
            Verdict::Recovered | Verdict::NotAffected | Verdict::NotReached
        )
    }
}

/// One entry's recovery from one fault window.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Recovery {
    /// Index of the fault in the scenario's `fault` list.
    pub fault: usize,
    pub entry: String,
    pub verdict: Verdict,
    /// From `measured_from_s` to the start of the first window of the
    /// sustained run in band; null unless `recovered`.
    pub recovery_time_s: Option<f64>,
    /// Simulated time at which goodput was back; null unless `recovered`.
    pub recovered_at_s: Option<f64>,
    /// When the recovery clock started: the fault's end, or the last end of
    /// the faults overlapping it.
    pub measured_from_s: f64,
    /// Other faults overlapping this one (indices); the clock waits for them.
    pub overlaps: Vec<usize>,
    /// "windows" (clean windows before the fault), "offered_load" (the
    /// entry's arrival rate, when there were none) or "none".
    pub baseline_source: String,
    /// Windows the baseline was computed from, and their span.
    pub baseline_windows: usize,
    pub baseline_from_s: Option<f64>,
    pub baseline_to_s: Option<f64>,
    pub baseline_goodput_rps: f64,
    /// Median of the baseline windows' p99; null for the offered-load
    /// fallback.
    pub baseline_p99_ms: Option<f64>,
    /// Half-width of the band for one window, req/s.
    pub band_rps: f64,
    /// Width of a window: the resolution of `recovery_time_s` (0 means
    /// back within the first window after the fault).
    pub window_s: f64,
    /// Lowest window goodput from the fault's start to recovery (or the end
    /// of the evidence).
    pub min_goodput_rps: f64,
    /// Highest window p99 over the same span (windows with successes only).
    pub peak_p99_ms: f64,
    /// Why the verdict is what it is, when that needs saying.
    pub note: Option<String>,
    /// Relapses: times goodput fell below the band again after being back.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub relapses: u64,
    /// The first recovery, when relapses followed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_recovered_at_s: Option<f64>,
    /// When the last relapse began; set for `relapsed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relapsed_at_s: Option<f64>,
    /// Highest window goodput above the band's top after the clock started
    /// (the catch-up of queued and retried work); null when none was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overshoot_peak_rps: Option<f64>,
}

/// The verdict on one assertion.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct SloResult {
    /// The key as written, e.g. "checkout.p99".
    pub key: String,
    /// The condition as written, e.g. "< 800ms".
    pub condition: String,
    pub pass: bool,
    /// "entry", "service" or "queue"; empty when the key could not be
    /// understood.
    pub scope: String,
    /// The entry's, service's or queue's name.
    pub name: String,
    /// The metric, e.g. "p99", "error_rate", "recovered".
    pub metric: String,
    /// The observed value in the threshold's unit: ms for latencies, percent
    /// when the threshold is written with `%` (else a fraction), per second
    /// for rates, seconds for `recovered` (the slowest recovery). Null when
    /// nothing could be measured.
    pub observed: Option<f64>,
    /// The threshold in the same unit as `observed`.
    pub threshold: Option<f64>,
    /// `observed` for people, with its unit ("712ms", "0.42%", "did not
    /// recover after fault 0").
    pub observed_text: String,
    /// Why the assertion failed when it is not a plain comparison (a
    /// malformed condition, no successful request, no recovery).
    pub message: Option<String>,
}

/// Windowed series, column by column: `series[i].values[w]` belongs to
/// window `w`.
///
/// Every entry, service, edge and queue has its series, up to 64 names per
/// scope (`metrics::NAMES_PER_SCOPE`). A scope with more keeps the names
/// its faults and SLOs target, then the first in file order, and adds an
/// aggregate over all its names (scope `entries`, `services`, `edges` or
/// `queues`, name `all`): sums, except utilisation (all busy threads ÷ all
/// threads), error rate and latency quantiles (of all requests or
/// messages), `*_max` and oldest age (the largest of any) and
/// `breaker_open` (the mean over edges). With faults, every entry keeps
/// `arrivals_rps`, `goodput_rps` and `p99_ms` (what `recovery` reads).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct TimeSeries {
    pub window_s: f64,
    pub window_start_s: Vec<f64>,
    pub window_end_s: Vec<f64>,
    pub series: Vec<Series>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Series {
    /// "entry", "service", "edge" or "queue"; for an aggregate over every
    /// name of a scope (name "all"), "entries", "services", "edges" or
    /// "queues".
    pub scope: String,
    pub name: String,
    /// e.g. "throughput_rps", "p99_ms", "busy_threads".
    pub metric: String,
    pub values: Vec<f64>,
}

impl TimeSeries {
    pub fn get(&self, scope: &str, name: &str, metric: &str) -> Option<&Series> {
        self.series
            .iter()
            .find(|s| s.scope == scope && s.name == name && s.metric == metric)
    }
}

/// Counters that only some models have stay out of the file at zero, so
/// the files of models without them do not change.
fn is_zero(x: &u64) -> bool {
    *x == 0
}

/// A cache's figures over the measured period (a local cache's replicas
/// summed).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct CacheSummary {
    /// The services whose steps look it up.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub services: Vec<String>,
    /// Items held at most (per replica when local).
    pub capacity: u32,
    /// Keys in the key space.
    pub keys: u32,
    pub lookups: u64,
    pub hits: u64,
    /// Lookups that found nothing (or an expired key).
    pub misses: u64,
    /// Of the misses, keys found past their TTL.
    pub expired: u64,
    /// hits / lookups.
    pub hit_ratio: f64,
    /// Keys put in after a miss.
    pub fills: u64,
    /// Keys pushed out by a fill into a full cache.
    pub evictions: u64,
    /// `flush` faults, and the keys they removed.
    pub flushes: u64,
    pub flushed_keys: u64,
    pub keys_resident_at_end: u64,
    /// Misses that waited for another miss's fill of their key
    /// (`coalesce`), instead of running their own.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub coalesced: u64,
    /// Lookups while the cache was down (`outage` fault): misses, or
    /// failed requests with `on_error = "fail"`.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub outage_lookups: u64,
    /// Of the hits, keys past their TTL but within
    /// `stale_while_revalidate`: answered stale.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub stale_hits: u64,
    /// Background refills the stale hits started (at most one per key at
    /// a time; each also counts as a fill when it completes).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub refills: u64,
}

/// A partitioned log's figures over the whole run (warm-up included, so
/// that per group `produced = committed + in_log_at_end +
/// lost_to_retention + dead_lettered` adds up exactly).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct LogSummary {
    pub partitions: u32,
    /// Records appended (by publish steps, retry and dead-letter moves).
    pub produced: u64,
    /// Records appended to the busiest partition, and the mean over
    /// partitions: a hot key shows as max ≫ mean.
    pub produced_max_partition: u64,
    pub produced_mean_partition: f64,
    /// Per consumer group on this log, in file order.
    pub groups: IndexMap<String, GroupSummary>,
    /// The services whose `publish` steps append to it, in file order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub producers: Vec<String>,
    /// The broker whose acks and outages its publishes see.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub broker: String,
    /// Producer batching (publishes with `linger`): absent without it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub producer_batches: Option<ProducerBatchSummary>,
}

/// Producer batches sent to one log over the whole run.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ProducerBatchSummary {
    /// Batches sent (full, or at the end of their linger).
    pub batches: u64,
    /// Records appended by them (records whose producer was cut off
    /// before the batch left are not).
    pub records: u64,
    /// records / batches.
    pub records_per_batch_mean: f64,
    /// Records of batches sent while the broker was down: their publishes
    /// failed.
    pub failed_records: u64,
}

/// Poll batches of a group with a `batch_cost`, over the whole run.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct PollBatchSummary {
    /// Batches whose cost was paid (a batch polled again after a
    /// rebalance pays again).
    pub batches: u64,
    /// Records in those batches.
    pub records: u64,
    pub records_per_batch_mean: f64,
    /// Thread time spent on batch costs, seconds.
    pub cost_s: f64,
}

/// One consumer group's figures over the whole run.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct GroupSummary {
    /// "service" or "service.operation".
    pub consumer: String,
    pub members: u32,
    /// Records whose processing succeeded in a batch that still counted.
    pub consumed: u64,
    /// Records whose offsets were committed (moves to a retry log among
    /// them).
    pub committed: u64,
    /// Records neither committed, lost nor dead-lettered when the run
    /// stopped.
    pub in_log_at_end: u64,
    /// Records retention deleted before the group fetched them.
    pub lost_to_retention: u64,
    pub dead_lettered: u64,
    /// Failed records appended to the retry log.
    pub moved_to_retry: u64,
    /// Processings that failed (each retry in place counts).
    pub failures: u64,
    /// Successful processings of a record the group had already handled
    /// (after a crash, an eviction or a rebalance).
    pub duplicates: u64,
    /// Successful processings whose batch no longer counted (an evicted
    /// or rebalanced member's record that ran on).
    pub late_processings: u64,
    pub rebalances: u64,
    /// Time the group stood still in rebalances, seconds.
    pub rebalancing_s: f64,
    /// Members evicted for a batch longer than `max_poll_interval`.
    pub evictions: u64,
    /// Time partitions stood behind a failing record (retry in place),
    /// summed over partitions, seconds.
    pub hol_blocked_s: f64,
    /// committed / measured seconds.
    pub throughput_rps: f64,
    /// Records not yet consumed, sampled at each window's end: mean and
    /// max over windows (sum over partitions).
    pub lag_records_mean: f64,
    pub lag_records_max: u64,
    /// From a record's append to the start of its first processing, ms.
    pub wait_ms_mean: f64,
    /// The age of the oldest record not yet consumed, at window ends: the
    /// largest, seconds.
    pub lag_s_max: f64,
    /// The partition with the most lag at the end, and that lag.
    pub worst_partition: u32,
    pub worst_partition_lag: u64,
    /// Records not yet consumed at window ends (sum over partitions): the
    /// 99th percentile over windows.
    #[serde(default)]
    pub lag_records_p99: u64,
    /// The log failed records go to (`retry_log`, or `dead_letter` with a
    /// log named).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_log: Option<String>,
    /// With a `batch_cost`: the poll batches that paid it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub poll_batches: Option<PollBatchSummary>,
    /// With an autoscaled consumer: members joining and leaving with its
    /// replicas.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scaling: Option<GroupScalingSummary>,
}

/// A consumer group whose consumer service autoscales, over the whole run:
/// every replica runs `members_per_replica` members, which join when the
/// replica is ready and leave when it is removed (each a rebalance).
/// Members count while their replica serves and is up (a crash takes
/// them out too).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct GroupScalingSummary {
    pub members_per_replica: u32,
    pub members_at_start: u32,
    pub members_min: u32,
    pub members_max: u32,
    pub members_at_end: u32,
    /// Members that joined, and left, because their replica was added or
    /// removed.
    pub joined: u64,
    pub left: u64,
    /// Rebalances those joins and leaves caused (of `rebalances`).
    pub rebalances: u64,
}

/// One saga over the measured period. Counts satisfy `started +
/// running_at_start = completed + compensated + stuck + running_at_end`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct SagaSummary {
    /// The services that run it (orchestrators).
    pub orchestrators: Vec<String>,
    pub running_at_start: u64,
    pub started: u64,
    /// Every step's `do` succeeded.
    pub completed: u64,
    /// A step failed and the undos of the steps done before it all
    /// succeeded (none when it was the first).
    pub compensated: u64,
    /// An undo failed past its retries, or the orchestrator was lost to a
    /// crash mid-saga: side effects left without compensation.
    pub stuck: u64,
    /// Of `stuck`, cut off by a crash of the orchestrator.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub orchestrators_lost: u64,
    pub running_at_end: u64,
    /// Start → completion, of completed sagas, ms.
    pub time_to_completion_ms: Latency,
    /// First side effect (the first `do` answered) → completion or full
    /// compensation, ms: how long other readers could see a half-done
    /// saga.
    pub time_inconsistent_ms: Latency,
    /// Per step, in order.
    pub steps: Vec<SagaStepSummary>,
    /// Run by messages (`mode = "choreographed"`): no orchestrators.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub choreographed: bool,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct SagaStepSummary {
    /// The `do` target as written.
    pub name: String,
    /// Its `do` failed (past its retries): the saga compensated from here.
    pub failures: u64,
    /// Its `undo` failed past its retries: the saga is stuck here.
    pub undo_failures: u64,
    /// A choreographed saga's step: the queue that triggers it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
}

/// One service's transactional outbox over the measured period. Counts
/// satisfy `written + depth_at_start = marked + depth_at_end`, and `sent =
/// marked + duplicates + in flight at the end` up to the records sent
/// again.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct OutboxSummary {
    /// The relay's poll period, ms, and records per poll at most.
    pub every_ms: f64,
    pub batch: u32,
    pub depth_at_start: u64,
    /// Records written by the service's outbox publishes.
    pub written: u64,
    /// Records handed to the broker, duplicates included.
    pub sent: u64,
    /// Records the broker acknowledged and the relay deleted.
    pub marked: u64,
    /// Records sent again because a crash lost their batch's mark.
    pub duplicates: u64,
    /// Records whose batch's mark a crash lost (each is sent again).
    pub marks_lost: u64,
    /// Records in the outbox: time-weighted mean, maximum, at the end.
    pub depth_mean: f64,
    pub depth_max: u64,
    pub depth_at_end: u64,
    /// Written → first handed to the broker, ms (the outbox's lag).
    pub relay_delay_ms: Latency,
}

/// A polling source over the measured period (requests that arrived after
/// the warm-up). Its entry's outcomes and latency are the results: from
/// the first send to the poll that saw the work done. Of `accepted`
/// requests, `ok + degraded + async_failed + gave_up + still polling at
/// the end` add up.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct PollSummary {
    /// The status operation polled ("service" or "service.operation").
    pub status: String,
    /// The wait after the accepted answer and after each poll's answer, ms.
    pub every_ms: f64,
    /// Requests answered `accepted` (the rest were answered at once, or
    /// failed before an answer).
    pub accepted: u64,
    /// Polls sent.
    pub polls: u64,
    /// Polls per accepted request.
    pub polls_per_request: f64,
    /// Polls per second of the measured period: the status operation's
    /// extra load.
    pub poll_rps: f64,
    /// Polls that failed or timed out (the client polled again).
    pub polls_failed: u64,
    /// Requests whose client gave up after `max` polls (counted as
    /// timeouts of the entry).
    pub gave_up: u64,
    /// Requests whose asynchronous work failed after the accepted answer
    /// (counted as errors of the entry).
    pub async_failed: u64,
    /// From the first send to the accepted answer, ms.
    pub accepted_ms: Latency,
    /// From the accepted answer to the end of the asynchronous work, of
    /// the requests whose result was seen, ms.
    pub work_ms: Latency,
}

/// A versioned store's figures over the measured period.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct StoreSummary {
    /// Keys in the key space.
    pub keys: u32,
    pub reads: u64,
    /// Writes that committed (bumped a version).
    pub writes: u64,
    /// Conditional writes tried (committed or not).
    pub conditional_writes: u64,
    /// Conditional writes that found the version moved since their read.
    pub conflicts: u64,
    /// conflicts / conditional_writes (0 without any).
    pub conflict_ratio: f64,
    /// Keys written at least once (over the whole run).
    pub keys_written: u64,
    /// Reads and writes a store outage failed (their requests failed).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub failed: u64,
}
