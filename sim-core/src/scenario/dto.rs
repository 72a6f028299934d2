//! The scenario file as written: serde types for TOML and JSON, and the JSON
//! Schema derived from them (`cascade schema`).
//!
//! Owns the *syntax* only. Values stay as text here (durations, targets);
//! `build` checks their meaning and turns them into the engine's `Model`.
//! Every struct denies unknown fields so a typo is an error, not a silent
//! default.
//!
//! Past 900 lines because the doc comments here are the JSON Schema's
//! descriptions (one per key, as users read them); split it by section
//! (services, workload, faults, messaging, caches) like `scenario/slo.rs`
//! when it grows again.

use indexmap::IndexMap;

pub use super::keys::CacheKeysFile;
pub use super::zone_routing::{CrossZoneEntry, CrossZoneFile, ZoneAwareFile, ZoneRuleFile};
use crate::patterns::{
    AdmissionFile, BreakerFile, BulkheadFile, FallbackFile, HedgeFile, Layer, RateLimitFile,
    RetryFile,
};
use crate::patterns::{Criticality, OutlierDetectionFile};
use schemars::JsonSchema;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A whole scenario file. (`Default`, an empty file, is what
/// `Scenario::forget_file` leaves.)
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFile {
    /// Scenario name, printed in every output.
    pub name: String,
    /// What the scenario shows, in a sentence or two.
    #[serde(default)]
    pub description: Option<String>,
    /// Simulated time during which the workload sends requests, e.g. "120s".
    pub duration: String,
    /// Initial period excluded from the totals (default "0").
    #[serde(default)]
    pub warmup: Option<String>,
    /// Longest time after `duration` to let requests in flight finish
    /// (default "60s"); requests still unfinished are counted as in flight.
    #[serde(default)]
    pub drain: Option<String>,
    /// Master seed of every random stream (default 1; `--seed` overrides).
    /// Any u64; above i64::MAX, TOML needs it as a string of digits.
    #[serde(default, deserialize_with = "super::seed::deserialize")]
    pub seed: Option<u64>,
    /// The overload guard: the run stops (exit 4, results marked partial)
    /// when requests in flight, messages and pending events together
    /// exceed this (default 4,000,000: about 1.5 GB).
    // Absent fields stay out of the canonical form (the scenario hash).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_in_flight: Option<u64>,
    /// Width of a time-series window (default "1s").
    #[serde(default)]
    pub window: Option<String>,
    /// Network latency of every hop.
    #[serde(default)]
    pub network: Option<NetworkFile>,
    /// Workload sources, keyed by entry name.
    #[serde(default)]
    pub workload: IndexMap<String, SourceFile>,
    /// Services, keyed by name.
    pub services: IndexMap<String, ServiceFile>,
    /// Machines whose cores the services placed on them share
    /// (`node = "NAME"` on a service): `[nodes.host1] cores = 2`.
    // Absent fields stay out of the canonical form (the scenario hash).
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub nodes: IndexMap<String, NodeFile>,
    /// Message brokers, keyed by name. Without any, queues and topics live
    /// on one default broker named "broker".
    #[serde(default)]
    pub brokers: IndexMap<String, BrokerFile>,
    /// Message queues (point-to-point, or a topic's subscriptions), keyed
    /// by name.
    #[serde(default)]
    pub queues: IndexMap<String, MessageQueueFile>,
    /// Topics: every message published is copied into each subscription.
    #[serde(default)]
    pub topics: IndexMap<String, TopicFile>,
    /// Caches, keyed by name, looked up by `cache` steps.
    // Absent fields stay out of the canonical form (the scenario hash).
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub caches: IndexMap<String, CacheFile>,
    /// Faults injected on a schedule.
    #[serde(default)]
    pub fault: Vec<FaultFile>,
    /// SLO assertions, e.g. `"checkout.p99" = "< 800ms"`; `cascade run`
    /// exits with code 3 when one fails.
    #[serde(default)]
    pub slo: IndexMap<String, String>,
    /// Partitioned logs (Kafka-style), keyed by name; a `publish` step may
    /// name one.
    // Absent fields stay out of the canonical form (the scenario hash).
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub logs: IndexMap<String, super::logs::LogFile>,
    /// Consumer groups on the logs, keyed by name.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub groups: IndexMap<String, super::logs::GroupFile>,
    /// Sagas, keyed by name: ordered steps with compensations, run by the
    /// service whose operation has a `{ saga = "NAME" }` step.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub sagas: IndexMap<String, SagaFile>,
    /// Versioned stores (optimistic concurrency), keyed by name: `read`
    /// steps take a key's version, conditional `write` steps fail with a
    /// `conflict` if it moved.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub stores: IndexMap<String, StoreFile>,
}

/// Latency of network hops: one default and per-edge overrides.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NetworkFile {
    /// Latency of every hop (request and response) without an override
    /// (default "0").
    #[serde(default)]
    pub latency: Option<DistFile>,
    /// Per-edge overrides keyed by "caller->callee".
    #[serde(default)]
    pub edges: IndexMap<String, DistFile>,
    /// Added each way to a call between replicas (or a zoned source and a
    /// replica) in different zones (default "0"): one duration, or per
    /// pair of zones `{ default = "1ms", a = { c = "5ms" } }` (the same
    /// both ways unless given both ways).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cross_zone: Option<CrossZoneFile>,
}

/// A load shape: exactly one of its keys. Rates are per second; `rate`
/// on the source is the level the shape starts from.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ShapeFile {
    /// Steps: from each `at`, the rate becomes `rate`.
    #[serde(default)]
    pub steps: Option<Vec<StepRateFile>>,
    /// A linear ramp from the source's `rate` to `to`, from `at` for `for`.
    #[serde(default)]
    pub ramp: Option<RampFile>,
    /// A spike: `rate` from `at` for `for`, the source's `rate` otherwise.
    #[serde(default)]
    pub spike: Option<SpikeFile>,
    /// A diurnal sine: rate × (1 + amplitude × sin(2π t / period)).
    #[serde(default)]
    pub sine: Option<SineFile>,
    /// A rate given at points in time, `[["0s", 40], ["25s", 80], ["75s",
    /// 0]]`: linear between them (or held until the next with
    /// `interpolate = "step"`), the first rate before the first point and
    /// the last after the last. With `points` the source's `rate` may be
    /// left out.
    // Absent fields stay out of the canonical form (the scenario hash).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub points: Option<Vec<(String, f64)>>,
    /// With `points`: "linear" (default) or "step".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interpolate: Option<Interpolate>,
}

/// How a `points` shape goes from one point to the next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Interpolate {
    Linear,
    Step,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StepRateFile {
    pub at: String,
    pub rate: f64,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RampFile {
    pub to: f64,
    pub at: String,
    #[serde(rename = "for")]
    pub length: String,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SpikeFile {
    pub rate: f64,
    pub at: String,
    #[serde(rename = "for")]
    pub length: String,
}

#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SineFile {
    /// Relative amplitude, 0 ≤ amplitude ≤ 1.
    pub amplitude: f64,
    pub period: String,
}

/// How arrivals are spaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ArrivalProcess {
    /// Exponential gaps (the default).
    Poisson,
    /// Equal gaps of 1/rate.
    Deterministic,
}

/// An open-loop workload source.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SourceFile {
    /// "service" (its first operation) or "service.operation".
    pub target: String,
    /// Arrivals per second (open loop). Leave out with `users`.
    #[serde(default)]
    pub rate: Option<f64>,
    /// Closed loop: this many users, each sending a request, waiting for
    /// its outcome, thinking for `think`, and sending again.
    #[serde(default)]
    pub users: Option<u32>,
    /// Closed loop: a user's think time between an answer and the next
    /// request (default "0").
    #[serde(default)]
    pub think: Option<DistFile>,
    /// "poisson" (default) or "deterministic".
    #[serde(default)]
    pub arrivals: Option<ArrivalProcess>,
    /// The client gives up after this long (default: never).
    #[serde(default)]
    pub timeout: Option<TimeoutFile>,
    /// Stop after this many arrivals (default: send until `duration`).
    #[serde(default)]
    pub requests: Option<u64>,
    /// The client's own retries (impatient users retrying are part of
    /// every retry storm).
    #[serde(default)]
    pub retry: Option<RetryFile>,
    /// How the rate changes over the run (default: constant `rate`).
    #[serde(default)]
    pub shape: Option<ShapeFile>,
    /// Deadline propagation: the client's timeout travels with the request
    /// as a deadline; a service drops a dequeued request whose deadline has
    /// passed and stops before each step once it is gone.
    #[serde(default)]
    pub propagate_deadline: Option<bool>,
    /// The network hop between the clients and the entry service, each
    /// way (default: the network's default latency).
    // Absent fields stay out of the canonical form (the scenario hash).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency: Option<DistFile>,
    /// A connection dropped by a full backlog is sent again this many
    /// times (default 6, Linux's `tcp_syn_retries`), then fails as a
    /// connect timeout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connect_retries: Option<u32>,
    /// The first wait before a dropped connection is sent again (default
    /// "1s"); it doubles after each retry: tries at 0, 1, 3, 7 s...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connect_backoff: Option<String>,
    /// How important these requests are: `critical`, `default` (the
    /// default) or `sheddable`. Every call made to serve one inherits it;
    /// services with a priority queue or per-class shedding use it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub criticality: Option<Criticality>,
    /// Load captured elsewhere, replayed: a CSV of per-second rates or of
    /// arrival timestamps (paths relative to the scenario file).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replay: Option<ReplayFile>,
    /// After an answer `accepted` (a `{ respond = "accepted" }` step of the
    /// target), poll a status operation until the work is done:
    /// `{ status = "orders.status", every = "500ms", max = 60 }`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub poll: Option<PollFile>,
    /// The zone the source's clients are in (one some service lists in
    /// `zones`): a zone-aware entry service serves them from that zone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone: Option<String>,
}

/// A source's polling after an accepted answer (`engine/accepted.rs`).
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PollFile {
    /// The status operation, "service" or "service.operation".
    pub status: String,
    /// The wait after the accepted answer and after each poll's answer.
    pub every: String,
    /// Polls before the client gives up (a timeout); default 60.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<u32>,
    /// Each poll's own timeout (default: the source's `timeout`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
}

/// What a `respond` step answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RespondFile {
    /// 202 Accepted: the caller is answered, the operation goes on.
    Accepted,
}

/// A replayed workload: exactly one of its keys.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplayFile {
    /// A CSV whose rows are requests per second, one row per second from
    /// 0 s (`rate`, or `second,rate` with whole seconds increasing); Poisson
    /// arrivals at that rate within each second, none after the last row.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rates: Option<String>,
    /// A CSV whose rows are arrival times in seconds from the start (first
    /// column), never going back: one request at each.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arrivals: Option<String>,
}

/// A caller's timeout: a total ("2s": from sending an attempt to its
/// answer), or split as common HTTP clients do it: `{ connect = "1s",
/// read = "5s" }`.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum TimeoutFile {
    Total(String),
    Split(SplitTimeoutFile),
}

/// A timeout in two parts; either may be left out (no limit on it).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SplitTimeoutFile {
    /// From sending an attempt until the callee accepts its connection (a
    /// free worker or an accept-queue slot).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connect: Option<String>,
    /// From the acceptance until the answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read: Option<String>,
}

impl<'de> Deserialize<'de> for TimeoutFile {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = TimeoutFile;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(
                    "a duration with a unit, e.g. \"300ms\", or { connect = \"1s\", read = \"5s\" }",
                )
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<TimeoutFile, E> {
                Ok(TimeoutFile::Total(v.to_owned()))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<TimeoutFile, A::Error> {
                SplitTimeoutFile::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(TimeoutFile::Split)
            }
        }
        d.deserialize_any(V)
    }
}

/// Size of an accept queue: a number of slots, or "unbounded".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum QueueFile {
    Slots(u32),
    /// Only the word "unbounded".
    Unbounded(UnboundedWord),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum UnboundedWord {
    Unbounded,
}

impl<'de> Deserialize<'de> for QueueFile {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = QueueFile;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number of slots (0 or more) or \"unbounded\"")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<QueueFile, E> {
                u32::try_from(v).map(QueueFile::Slots).map_err(|_| {
                    E::custom(format!(
                        "queue of {v} slots is too large: write \"unbounded\""
                    ))
                })
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<QueueFile, E> {
                if v < 0 {
                    return Err(E::custom(format!(
                        "queue must be 0 or more slots, or \"unbounded\", got {v}"
                    )));
                }
                self.visit_u64(v as u64)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<QueueFile, E> {
                if v == "unbounded" {
                    Ok(QueueFile::Unbounded(UnboundedWord::Unbounded))
                } else {
                    Err(E::custom(format!(
                        "queue must be a number of slots or \"unbounded\", got \"{v}\""
                    )))
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// A service: replicas, each with a thread pool and an accept queue.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceFile {
    /// Number of replicas (default 1), balanced round robin.
    #[serde(default)]
    pub replicas: Option<u32>,
    /// Worker threads per replica (a thread-pool service).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threads: Option<u32>,
    /// "thread_pool" (default: a thread per request, held through every
    /// downstream wait) or "event_loop" (`loops` threads that move on while
    /// a request waits on a call).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<ServerModel>,
    /// Event loop: the event-loop threads per replica.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loops: Option<u32>,
    /// Event loop: open requests (connections) per replica at most; past
    /// it requests wait in the accept backlog (`queue`), then are refused.
    /// Default: no limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_connections: Option<u32>,
    /// Memory per replica: `{ limit, base, per_request, per_queued }`
    /// ("512MiB", "64KiB", "1GB"), with an OOM kill above `limit`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<MemoryFile>,
    /// Garbage collection driven by the live heap (needs `memory`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gc: Option<GcFile>,
    /// Restart after an OOM kill: `{ delay = "10s", max_delay = "5m",
    /// reset_after = "10m" }` (CrashLoopBackOff).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restart: Option<RestartFile>,
    /// A restarted replica's work is slower by a factor falling linearly
    /// to 1: `{ for = "30s", slowdown = 3 }`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cold_start: Option<ColdStartFile>,
    /// A restarted replica takes traffic only this long after it starts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ready_after: Option<String>,
    /// Load-dependent work: each `work` step's sampled time × (1 + k·n),
    /// n the other requests the replica holds when the step starts
    /// (Brooker's collapse model): `{ per_in_flight = 0.01 }`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub work_law: Option<WorkLawFile>,
    /// Accept-queue slots per replica (default 0), or "unbounded".
    #[serde(default)]
    pub queue: Option<QueueFile>,
    /// What a full accept queue does with a new connection: "reject" it at
    /// once (default) or "drop" it silently, as a full TCP listen backlog
    /// does — the client's stack sends it again after `connect_backoff`,
    /// doubling, up to `connect_retries` times.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when_full: Option<BacklogFull>,
    /// The steps of the service's only operation ("default").
    #[serde(default)]
    pub steps: Option<Vec<StepFile>>,
    /// Named operations, when the service has several.
    #[serde(default)]
    pub operations: IndexMap<String, OperationFile>,
    /// Admission control at the service's door (per replica).
    #[serde(default)]
    pub admission: Option<AdmissionFile>,
    /// How requests are spread over replicas (default round_robin).
    #[serde(default)]
    pub balancer: Option<Balancer>,
    /// Eject replicas that fail in a row from the balancer (Envoy's
    /// outlier detection): `{ consecutive_errors, interval, base_ejection,
    /// max_ejection, max_ejection_percent, panic_threshold }`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outlier_detection: Option<OutlierDetectionFile>,
    /// CPU cores per replica: when more workers are doing `work` than there
    /// are cores, the CPU is shared equally among them (processor sharing),
    /// so work slows down as load grows. Default: no CPU limit.
    #[serde(default)]
    pub cores: Option<u32>,
    /// Place every replica on this node (`[nodes.NAME]`): they share its
    /// cores with everything else on it (instead of `cores`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    /// Replicas added and removed by load, as Kubernetes' HPA: `{ min, max,
    /// target, metric = "threads" | "cpu", period, tolerance,
    /// scale_down_stabilization, startup }`; `replicas` is then the count
    /// at the start (default `min`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub autoscale: Option<crate::patterns::autoscale::AutoscaleFile>,
    /// Zones the replicas are spread over, in turn: replica r is in
    /// `zones[r % zones.len()]`. A fault with `zone` strikes every replica
    /// of every service in that zone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zones: Option<Vec<String>>,
    /// Zone-aware balancing (needs `zones`): `true` serves a caller in
    /// zone z by this service's replicas in z while one of them is usable
    /// (ready, not ejected), by any replica otherwise; `{ spill = true,
    /// min_cluster_size = 6 }` is Envoy's percentage spill-over.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone_aware: Option<ZoneAwareFile>,
}

/// What a full accept queue does with a new connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum BacklogFull {
    Reject,
    Drop,
}

/// A machine: its cores are processor-shared by every `work` step of
/// every replica placed on it.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NodeFile {
    pub cores: u32,
}

/// Work that grows with the requests in flight.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkLawFile {
    /// k: the relative extra work per other request in the replica.
    pub per_in_flight: f64,
}

/// How a service runs its requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ServerModel {
    ThreadPool,
    EventLoop,
}

/// A replica's memory (sizes such as "512MiB", "64KiB", "1GB").
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MemoryFile {
    /// Above this the replica is OOM-killed.
    pub limit: String,
    /// Held always (default 0).
    #[serde(default)]
    pub base: Option<String>,
    /// Held for every request in the replica: running, or waiting on a
    /// downstream call (default 0).
    #[serde(default)]
    pub per_request: Option<String>,
    /// Held for every request waiting in the accept queue (default 0).
    #[serde(default)]
    pub per_queued: Option<String>,
}

/// Stop-the-world garbage collection.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GcFile {
    /// Bytes each request allocates when it starts ("2MiB").
    pub allocation: String,
    /// The fixed part of each pause ("5ms").
    pub young_pause: String,
    /// The pause's part per MiB of live memory ("0.2ms").
    #[serde(default)]
    pub per_live_mib: Option<String>,
}

/// CrashLoopBackOff after an OOM kill.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RestartFile {
    /// The first restart delay (default "10s"); it doubles on every crash.
    #[serde(default)]
    pub delay: Option<String>,
    /// The longest delay (default "5m").
    #[serde(default)]
    pub max_delay: Option<String>,
    /// Up this long, the delay is back to `delay` (default "10m").
    #[serde(default)]
    pub reset_after: Option<String>,
}

/// Slower work after a restart (JIT, cold caches).
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ColdStartFile {
    /// How long the replica stays cold.
    #[serde(rename = "for")]
    pub lasts: String,
    /// The work factor at the restart, falling linearly to 1.
    pub slowdown: f64,
}

/// A message broker.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BrokerFile {
    /// Publish → acknowledgement as the producer sees it (default: the
    /// network's default latency).
    #[serde(default)]
    pub ack: Option<DistFile>,
    /// Broker → consumer (default: the network's default latency).
    #[serde(default)]
    pub delivery: Option<DistFile>,
}

/// What publishing does when a queue is full or the broker is down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum WhenFullFile {
    /// The publish fails at once (the producer's step fails).
    Fail,
    /// The producer's worker waits for space, at most `max_block`
    /// (backpressure).
    Block,
}

/// A queue with at-least-once delivery to a consumer.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MessageQueueFile {
    /// The broker holding it (default: the only broker).
    #[serde(default)]
    pub broker: Option<String>,
    /// Unacknowledged messages it holds at most, or "unbounded" (default).
    #[serde(default)]
    pub capacity: Option<QueueFile>,
    /// "fail" (default) or "block" when full or the broker is down.
    #[serde(default)]
    pub when_full: Option<WhenFullFile>,
    /// With `when_full = "block"`: the longest a producer waits (default
    /// "60s", Kafka's max.block.ms).
    #[serde(default)]
    pub max_block: Option<String>,
    /// The consumer: "service" or "service.operation".
    pub consumer: String,
    /// Messages processed at once per replica of the consumer service; each
    /// takes one of the service's threads (default 1).
    #[serde(default)]
    pub concurrency: Option<u32>,
    /// Whether processing a message twice is harmless (default false).
    #[serde(default)]
    pub idempotent: Option<bool>,
    /// A delivered message not acknowledged within this is delivered again
    /// (default "30s").
    #[serde(default)]
    pub visibility_timeout: Option<String>,
    /// Deliveries before a failing message goes to the dead-letter queue
    /// (default: redeliver for ever).
    #[serde(default)]
    pub max_deliveries: Option<u32>,
    /// Wait before a failed or expired message is delivered again (default
    /// "1s"); with `redelivery_backoff_max`, it doubles on every delivery
    /// up to that.
    #[serde(default)]
    pub redelivery_backoff: Option<String>,
    #[serde(default)]
    pub redelivery_backoff_max: Option<String>,
    /// A queue that receives the dead-lettered messages (with a consumer of
    /// its own, as an SQS redrive target); default: they are only counted.
    #[serde(default)]
    pub dead_letter: Option<String>,
    /// An idempotency store (`{ ttl = "10m" }`): a duplicate processed
    /// within the TTL of the message's first success is a no-op.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotency: Option<IdempotencyFile>,
}

/// A topic and its subscriptions (each a queue of `queues`).
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TopicFile {
    /// The broker holding it (default: the only broker).
    #[serde(default)]
    pub broker: Option<String>,
    /// Names of the queues subscribed.
    pub subscriptions: Vec<String>,
    /// "fail" (default) or "block" when a subscription is full or the
    /// broker is down.
    #[serde(default)]
    pub when_full: Option<WhenFullFile>,
    /// With `when_full = "block"`: the longest a producer waits (default "60s").
    #[serde(default)]
    pub max_block: Option<String>,
}

/// A load-balancing policy across a service's replicas.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Balancer {
    RoundRobin,
    Random,
    /// The replica with the fewest requests (running + queued).
    LeastOutstanding,
    /// Two replicas at random; the one with fewer outstanding requests.
    PowerOfTwo,
}

/// A named operation of a service.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OperationFile {
    pub steps: Vec<StepFile>,
}

/// Defines a struct with the call-pattern fields appended: `call` steps
/// and `parallel` branches take the same patterns, and serde's `flatten`
/// cannot be combined with `deny_unknown_fields`.
macro_rules! with_call_patterns {
    ($(#[$meta:meta])* pub struct $name:ident { $($body:tt)* }) => {
        $(#[$meta])*
        pub struct $name {
            $($body)*
            /// Retries of this call (Resilience4j Retry).
            #[serde(default)]
            pub retry: Option<RetryFile>,
            /// A circuit breaker per caller replica (Resilience4j CircuitBreaker).
            #[serde(default)]
            pub breaker: Option<BreakerFile>,
            /// At most N concurrent calls per caller replica (Resilience4j Bulkhead).
            #[serde(default)]
            pub bulkhead: Option<BulkheadFile>,
            /// A token bucket on outgoing calls per caller replica.
            #[serde(default)]
            pub rate_limit: Option<RateLimitFile>,
            /// Hedged attempts (gRPC hedging policy).
            #[serde(default)]
            pub hedge: Option<HedgeFile>,
            /// A failure becomes a degraded success: `true` or `{ latency, on }`.
            #[serde(default)]
            pub fallback: Option<FallbackFile>,
            /// Overall deadline of the call, covering every attempt, backoff and
            /// hedge (Envoy's route timeout, a gRPC deadline).
            #[serde(default)]
            pub deadline: Option<String>,
            /// The order in which the patterns wrap the call, outermost first
            /// (default: fallback, retry, hedge, breaker, throttle, rate_limit, timeout,
            /// bulkhead — Resilience4j's aspect order).
            #[serde(default)]
            pub order: Option<Vec<Layer>>,
            /// Client-side adaptive throttling (Google SRE): the caller turns
            /// an attempt away with probability max(0, (requests − k ×
            /// accepts) / (requests + 1)) over `window`: `{ k = 2, window =
            /// "120s" }`.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub throttle: Option<crate::patterns::throttle::ThrottleFile>,
        }
    };
}

with_call_patterns! {
/// One step of an operation: exactly one of `work`, `wait`, `call`,
/// `parallel`, `publish` or `branch`.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StepFile {
    /// Publish a message to a queue or topic; the worker waits only for the
    /// broker's acknowledgement.
    #[serde(default)]
    pub publish: Option<String>,
    /// With `publish`: the probability that a message is poison (every
    /// delivery of it fails), default 0.
    #[serde(default)]
    pub poison: Option<f64>,
    /// Hold the worker for a sampled CPU time.
    #[serde(default)]
    pub work: Option<DistFile>,
    /// Hold the worker for a sampled I/O wait: no core is used, a
    /// service-wide `slowdown` does not stretch it (a fault scoped to this
    /// step does), and on an event loop the loop moves on meanwhile.
    // Absent fields stay out of the canonical form (the scenario hash).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wait: Option<DistFile>,
    /// A name for this step, unique in its operation, so a fault can
    /// target it (`steps = ["query"]` on the fault).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Call "service" or "service.operation" synchronously; the worker is
    /// held until the answer or the timeout.
    #[serde(default)]
    pub call: Option<String>,
    /// Caller-side timeout of the call (default: wait for ever).
    #[serde(default)]
    pub timeout: Option<TimeoutFile>,
    /// Several calls at once; wait for all.
    #[serde(default)]
    pub parallel: Option<Vec<CallFile>>,
    /// With `call`: make the call with this probability only (skip it
    /// otherwise), e.g. `{ call = "fraud", p = 0.3 }`.
    // Absent fields stay out of the canonical form (the scenario hash).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p: Option<f64>,
    /// A connection dropped by a full backlog is sent again this many
    /// times (default 6, Linux's `tcp_syn_retries`), then fails as a
    /// connect timeout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connect_retries: Option<u32>,
    /// The first wait before a dropped connection is sent again (default
    /// "1s"); it doubles after each retry: tries at 0, 1, 3, 7 s...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connect_backoff: Option<String>,
    /// Take exactly one of several step lists, each with its probability
    /// (summing to 1): `[{ p = 0.8, steps = [...] }, { p = 0.2, steps = [...] }]`.
    // Absent fields stay out of the canonical form (the scenario hash).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<Vec<BranchFile>>,
    /// Look a key up in a cache (`[caches.NAME]`); on a miss run `miss`,
    /// then fill the key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache: Option<String>,
    /// With `cache`: the steps of a miss (e.g. the database call).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub miss: Option<Vec<StepFile>>,
    /// Run the saga `[sagas.NAME]` (this service orchestrates it): its
    /// steps' calls in order, compensated in reverse when one fails; the
    /// operation fails when the saga does not complete.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub saga: Option<String>,
    /// With `publish`: write the message to the service's transactional
    /// outbox (no broker round trip) and let a relay per replica send it:
    /// `outbox = { every = "100ms", batch = 50 }`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outbox: Option<OutboxFile>,
    /// `respond = "accepted"`: answer the caller now (202 Accepted) and run
    /// the remaining steps asynchronously, still holding the worker.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub respond: Option<RespondFile>,
    /// Read a key of the store `[stores.NAME]`: the job keeps its version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read: Option<String>,
    /// Write a key of the store `[stores.NAME]` (the key this step list
    /// read, if it read one), bumping its version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub write: Option<String>,
    /// With `write`: fail with a `conflict` if the key's version moved
    /// since this step list's read of the store (default false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conditional: Option<bool>,
    /// With `publish` to a log: a record waits up to this long in its
    /// producer's batch (one per replica and partition) before the batch
    /// is sent, e.g. "5ms" (Kafka's `linger.ms`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub linger: Option<String>,
    /// With `linger`: a batch is sent as soon as it holds this many
    /// records (default 100).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch: Option<u32>,
}
}

/// A publish step's outbox relay: at most `batch` records every `every`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OutboxFile {
    /// How often the relay polls the outbox, e.g. "100ms".
    pub every: String,
    /// Records sent per poll at most (default 100).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch: Option<u32>,
}

/// One arm of a `branch` step.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BranchFile {
    /// The probability of taking this arm.
    pub p: f64,
    /// The steps of this arm (at least one), then the operation goes on
    /// after the branch.
    pub steps: Vec<StepFile>,
}

with_call_patterns! {
/// One call inside `parallel`.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CallFile {
    pub call: String,
    #[serde(default)]
    pub timeout: Option<TimeoutFile>,
    /// A connection dropped by a full backlog is sent again this many
    /// times (default 6, Linux's `tcp_syn_retries`), then fails as a
    /// connect timeout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connect_retries: Option<u32>,
    /// The first wait before a dropped connection is sent again (default
    /// "1s"); it doubles after each retry: tries at 0, 1, 3, 7 s...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connect_backoff: Option<String>,
}
}

/// A fault window: a target, a start, a length and exactly one kind.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FaultFile {
    /// A service ("inventory") or, for `slowdown` and `errors`, one
    /// operation of it ("db.query"); for `latency` and `partition`, an edge
    /// ("cart->inventory") or a service (every edge into it); for `surge`, a
    /// workload source; for `outage` and `slowdown`, a broker or a cache;
    /// for `flush`, a cache. Left out for a `zone` fault.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub target: String,
    /// When the fault starts, e.g. "30s".
    pub at: String,
    /// How long it lasts, e.g. "20s".
    #[serde(rename = "for")]
    pub length: String,
    /// Only this replica (0-based); default all.
    #[serde(default)]
    pub replica: Option<u32>,
    /// A `slowdown` of only these named steps of the target (a service or
    /// "service.operation"): `steps = ["query"]`.
    // Absent fields stay out of the canonical form (the scenario hash).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub steps: Option<Vec<String>>,
    /// Work takes this many times longer (on a broker: acknowledgements do).
    #[serde(default)]
    pub slowdown: Option<f64>,
    /// The broker is down: publishes fail (or block), nothing is delivered,
    /// acknowledgements are lost.
    #[serde(default)]
    pub outage: Option<bool>,
    /// Extra latency on each hop of the edge (or every edge into the service).
    #[serde(default)]
    pub latency: Option<DistFile>,
    /// Probability that an answer is an error.
    #[serde(default)]
    pub errors: Option<f64>,
    /// The service refuses every request at once; work in progress is lost.
    #[serde(default)]
    pub crash: Option<bool>,
    /// The service hangs: it accepts requests and never answers them (a
    /// black hole until the callers' timeouts).
    #[serde(default)]
    pub hang: Option<bool>,
    /// Lost capacity: this many threads per replica are gone.
    #[serde(default)]
    pub lost_threads: Option<u32>,
    /// Stop-the-world pause (a GC pause): no work progresses; work due
    /// during the pause finishes when it ends.
    #[serde(default)]
    pub pause: Option<bool>,
    /// Network partition of an edge ("a->b") or of every edge into a
    /// service: requests and answers along it are lost.
    #[serde(default)]
    pub partition: Option<bool>,
    /// Traffic surge: the targeted workload source's rate × this factor.
    #[serde(default)]
    pub surge: Option<f64>,
    /// On a cache: every key is gone at `at` (a deploy, a restart, a
    /// failover): the stampede.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flush: Option<bool>,
    /// With `outage` on a cache: a lookup during it is a "miss" (default:
    /// the miss steps run, their fill keeps nothing) or "fail"s its request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_error: Option<CacheOnError>,
    /// Instead of `target`: every replica of every service placed in this
    /// zone (`zones` on the services); `crash`, `hang`, `slowdown`,
    /// `errors`, `lost_threads` or `pause`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone: Option<String>,
    /// Instead of `target`: a versioned store (`[stores]`), with `outage =
    /// true` (its reads and writes fail their requests) or `slowdown = X`
    /// (they take X times longer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store: Option<String>,
}

impl FaultFile {
    /// Each fault kind's key and whether this fault gives it, in the
    /// order errors name them (a service fault has exactly one; a store
    /// fault only `outage` or `slowdown`).
    pub fn kinds_given(&self) -> [(&'static str, bool); 11] {
        [
            ("slowdown", self.slowdown.is_some()),
            ("latency", self.latency.is_some()),
            ("errors", self.errors.is_some()),
            ("crash", self.crash.is_some()),
            ("hang", self.hang.is_some()),
            ("lost_threads", self.lost_threads.is_some()),
            ("pause", self.pause.is_some()),
            ("partition", self.partition.is_some()),
            ("surge", self.surge.is_some()),
            ("outage", self.outage.is_some()),
            ("flush", self.flush.is_some()),
        ]
    }
}

/// What a lookup does while its cache is down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum CacheOnError {
    Miss,
    Fail,
}

/// A cache: exact LRU over `capacity` items with an optional TTL per key.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CacheFile {
    /// Items held at most (per replica when `local`).
    pub capacity: u32,
    /// A key filled this long ago is gone (default: never).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<String>,
    /// The keys requests look up.
    pub keys: CacheKeysFile,
    /// One lookup, there and back (default "0").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lookup: Option<DistFile>,
    /// One cache per replica of the service that looks it up (in-process;
    /// empty after a crash or a restart) instead of one shared cache.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local: Option<bool>,
    /// Single-flight: a miss on a key whose fill is already under way
    /// waits for that fill instead of running its own miss steps (and
    /// shares its failure).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coalesce: Option<bool>,
    /// Stale-while-revalidate (needs `ttl`): a key expired less than this
    /// long ago is answered from the cache at once (a stale hit) and
    /// refilled in the background — one refill per key at a time, the
    /// `miss` steps run by the replica on a thread of its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stale_while_revalidate: Option<String>,
}

/// A distribution of durations: a constant ("2ms") or a table naming `dist`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum DistFile {
    Constant(String),
    Table(Box<DistTable>),
}

/// The parameters of a named distribution; which ones apply depends on `dist`.
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DistTable {
    /// constant | uniform | exponential | normal | lognormal | pareto |
    /// empirical | mixture
    pub dist: DistKind,
    /// A part of a mixture's `of`: the probability of this part.
    // Absent fields stay out of the canonical form (the scenario hash).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p: Option<f64>,
    /// A connection dropped by a full backlog is sent again this many
    /// times (default 6, Linux's `tcp_syn_retries`), then fails as a
    /// connect timeout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connect_retries: Option<u32>,
    /// The first wait before a dropped connection is sent again (default
    /// "1s"); it doubles after each retry: tries at 0, 1, 3, 7 s...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connect_backoff: Option<String>,
    /// mixture: the parts, each a distribution table with its `p`; the
    /// probabilities sum to 1.
    // Absent fields stay out of the canonical form (the scenario hash).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub of: Option<Vec<DistTable>>,
    /// constant: the value.
    #[serde(default)]
    pub value: Option<String>,
    /// exponential, normal, lognormal (with cv): the mean.
    #[serde(default)]
    pub mean: Option<String>,
    /// uniform: lower bound.
    #[serde(default)]
    pub min: Option<String>,
    /// uniform: upper bound.
    #[serde(default)]
    pub max: Option<String>,
    /// normal: standard deviation.
    #[serde(default)]
    pub sd: Option<String>,
    /// lognormal: the median (with p99).
    #[serde(default)]
    pub median: Option<String>,
    /// lognormal: the 99th percentile (with median).
    #[serde(default)]
    pub p99: Option<String>,
    /// lognormal: coefficient of variation, sd / mean (with mean).
    #[serde(default)]
    pub cv: Option<f64>,
    /// pareto: the minimum value.
    #[serde(default)]
    pub scale: Option<String>,
    /// pareto: the tail index (alpha).
    #[serde(default)]
    pub shape: Option<f64>,
    /// empirical: the values.
    #[serde(default)]
    pub values: Option<Vec<String>>,
    /// empirical: one weight per value.
    #[serde(default)]
    pub weights: Option<Vec<f64>>,
    /// A `work` step on an event-loop service: the work holds its loop
    /// without using the CPU (a synchronous driver call in an async
    /// server), freezing every other request on that loop.
    // Absent fields stay out of the canonical form (the scenario hash).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blocking: Option<bool>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum DistKind {
    #[default]
    Constant,
    Uniform,
    Exponential,
    Normal,
    Lognormal,
    Pareto,
    Empirical,
    Mixture,
}

impl<'de> Deserialize<'de> for DistFile {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // Hand-written rather than `untagged`, so errors inside the table keep
        // their own key and position.
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = DistFile;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a duration such as \"2ms\" or a table such as { dist = \"exponential\", mean = \"2ms\" }")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<DistFile, E> {
                Ok(DistFile::Constant(v.to_owned()))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<DistFile, A::Error> {
                DistTable::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(|t| DistFile::Table(Box::new(t)))
            }
        }
        d.deserialize_any(V)
    }
}

/// An idempotency store in front of a consumer: the message id is the key.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IdempotencyFile {
    /// How long a key stays after the first successful processing, e.g.
    /// "10m": a duplicate within it is a no-op (acknowledged, no side
    /// effect); after it, the side effect happens again.
    pub ttl: String,
}

/// A saga: steps run in order by the service whose operation has a
/// `{ saga = "NAME" }` step (the orchestrator); when a step fails, the
/// `undo`s of the steps already done run in reverse order.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SagaFile {
    /// `[{ do = "inventory.reserve", undo = "inventory.release" }, ...]`.
    pub steps: Vec<SagaStepFile>,
    /// What the orchestrator's operation does once a saga is fully
    /// compensated: "fail" (default: it answers an error, as to a shopper
    /// whose card was declined) or "succeed" (the outcome is handled: a
    /// consumer acknowledges its message instead of having it redelivered).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when_compensated: Option<WhenCompensatedFile>,
    /// "orchestrated" (default: a `{ saga = "NAME" }` step runs it) or
    /// "choreographed" (each step runs as the consumer of the queue its
    /// `via` names; a message on the first step's queue starts a saga).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<SagaModeFile>,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum SagaModeFile {
    Orchestrated,
    Choreographed,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum WhenCompensatedFile {
    Fail,
    Succeed,
}

/// One saga step: its action and the action that compensates it.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SagaStepFile {
    /// The step's call: "service.operation", or a table like a `parallel`
    /// branch's (`{ call = "payment.charge", timeout = "2s", retry = {...} }`).
    #[serde(rename = "do")]
    pub action: SagaCallFile,
    /// The compensating call, same forms; leave it out for a step with
    /// nothing to undo. An undo that fails past its retries leaves the
    /// saga stuck.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub undo: Option<SagaCallFile>,
    /// Choreographed sagas only: the queue whose messages trigger this
    /// step (its consumer is the step's `do`; compensation messages on the
    /// same queue run its `undo`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
}

/// A saga call: a target, or a call with its own timeout and patterns.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum SagaCallFile {
    Target(String),
    Call(Box<CallFile>),
}

impl SagaCallFile {
    pub fn target(&self) -> &str {
        match self {
            SagaCallFile::Target(t) => t,
            SagaCallFile::Call(c) => &c.call,
        }
    }
}

/// A versioned store: every key has a version that each committed write
/// bumps; a conditional write fails with a `conflict` if the version
/// moved since the job's read.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StoreFile {
    /// The keys requests read and write: `{ count = 1000, zipf = 1.1 }`
    /// (leave out `zipf` for equally popular keys).
    pub keys: CacheKeysFile,
    /// One read, there and back (default "0"); the version returned is
    /// the one at the read's start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_latency: Option<DistFile>,
    /// One write, there and back (default "0"); the write is checked and
    /// applied at its start, its answer comes back after this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub write_latency: Option<DistFile>,
}
