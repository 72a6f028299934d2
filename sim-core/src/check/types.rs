//! What `check` reports: plain data, serialised as `cascade check --json`
//! prints it. Must not compute anything.

use serde::Serialize;

/// What `check` found, in the model's order.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Check {
    pub scenario: String,
    /// The measured period the mean figures cover, seconds.
    pub warmup_s: f64,
    pub duration_s: f64,
    pub sources: Vec<SourceLoad>,
    pub services: Vec<ServiceLoad>,
    pub timeouts: Vec<TimeoutRisk>,
    pub retries: Vec<RetryPath>,
    /// Approximations and what was left out.
    pub assumptions: Vec<String>,
    /// Figures that could not be derived, and why.
    pub notes: Vec<String>,
    /// A service is certainly overloaded: open-loop load alone takes its
    /// threads, loops or cores to ρ ≥ 1 at some time, or its expected
    /// memory is past its limit. `cascade check` then exits 3.
    pub overloaded: bool,
    /// Per partitioned log, in file order (absent without logs).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub logs: Vec<LogLoad>,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct SourceLoad {
    pub name: String,
    pub target: String,
    /// Mean requests per second over the measured period.
    pub rate: f64,
    pub peak_rate: f64,
    /// Users ÷ (think + response with no waits), for a closed loop.
    pub closed_loop: bool,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ServiceLoad {
    pub name: String,
    /// "threads" or "event_loop".
    pub server: String,
    pub replicas: u32,
    /// Threads (or event loops) per replica.
    pub servers: u32,
    pub cores: Option<u32>,
    /// Requests (and deliveries) per second over the measured period.
    pub arrival_rate: f64,
    /// Mean work per request (CPU and blocking), ms.
    pub work_ms: f64,
    /// Mean time a request holds its thread (an event loop: its loop), ms.
    pub hold_ms: f64,
    /// Busy threads (or loops) on average: rate × hold.
    pub offered: f64,
    /// offered ÷ (servers × replicas): the summary's `utilization`.
    pub rho: f64,
    /// Work ÷ (cores × replicas), with `cores`.
    pub cpu_rho: Option<f64>,
    /// Probability of waiting and mean wait, ms: M/M/c/K with a bounded
    /// accept queue (at any load), else M/M/c (below saturation).
    pub p_wait: Option<f64>,
    pub wait_ms: Option<f64>,
    /// M/M/c/K probability that the accept queue is full (bounded queues).
    pub p_reject: Option<f64>,
    pub peak_rho: f64,
    pub peak_at_s: f64,
    /// The first time its load reaches ρ = 1 (threads, loops or cores).
    pub saturates_at_s: Option<f64>,
    /// Saturated by open-loop load (certain overload), not only by a
    /// closed loop's upper bound.
    pub overloaded: bool,
    pub memory: Option<MemoryLoad>,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct MemoryLoad {
    pub limit_mib: f64,
    /// base + per_request × busy + per_queued × queued, at the mean load.
    pub expected_mib: f64,
    pub busy: f64,
    pub queued: f64,
    pub over_limit: bool,
}

/// A caller's timeout shorter than the mean or p99 of what it wraps.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct TimeoutRisk {
    /// Where the call is written (`services.a.steps.1`, `workload.w`).
    pub site: String,
    pub caller: String,
    pub callee: String,
    pub timeout_ms: f64,
    /// The attempt's response: both hops and the callee (with waits), ms.
    pub mean_ms: f64,
    /// With no queueing anywhere, from draws.
    pub p99_ms: f64,
    /// "mean" (most attempts time out) or "p99" (more than 1 % do).
    pub shorter_than: String,
}

/// A chain of calls from an entry whose retries and hedges multiply.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct RetryPath {
    /// The entry, then each callee.
    pub path: Vec<String>,
    /// Attempts at most per call along the path (1: no retry).
    pub attempts: Vec<u32>,
    /// Their product: requests the last service may get per entry request.
    pub amplification: f64,
}

/// A partitioned log's load: records appended per second and each
/// consumer group's capacity against it.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct LogLoad {
    pub name: String,
    pub partitions: u32,
    /// Records appended per second over the measured period.
    pub rate: f64,
    pub groups: Vec<GroupLoad>,
}

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct GroupLoad {
    pub name: String,
    pub consumer: String,
    /// Members that own a partition: min(members, partitions).
    pub active_members: u32,
    /// Mean time a record holds its member, ms.
    pub hold_ms: f64,
    /// Records per second the group can process: active members ÷ hold.
    pub capacity_rps: f64,
    /// The log's rate ÷ capacity: at or past 1 the lag grows without end.
    pub rho: f64,
}
