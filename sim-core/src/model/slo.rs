//! SLO conditions as the model holds them: compiled once by
//! `scenario::build` from the `[slo]` table, read by `slo.rs` (checks) and
//! `recovery.rs`. Each metric's scope and unit live beside it, in one table.
//!
//! Owns the vocabulary only; must not evaluate a condition (that is
//! `crate::slo`'s).

/// One `[slo]` assertion, understood: a metric of an entry, a service or a
/// queue, compared with a threshold.
#[derive(Clone, Debug, PartialEq)]
pub struct Slo {
    /// The key and the condition as written ("checkout.p99", "< 800ms").
    pub key: String,
    pub condition: String,
    /// The entry's, service's or queue's name (`metric.scope()` says which).
    pub name: String,
    pub metric: SloMetric,
    pub op: SloOp,
    /// In the metric's unit (`SloMetric::unit`).
    pub threshold: f64,
    /// A ratio written as a percentage: shown (and compared) × 100.
    pub percent: bool,
    /// Of one criticality's entries added up (`class.<class>.<metric>`):
    /// `name` is the class's name, the metric an entry metric.
    pub class: Option<crate::patterns::Criticality>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SloOp {
    Lt,
    Le,
    Gt,
    Ge,
}

/// What an assertion is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SloScope {
    Entry,
    Service,
    Queue,
}

impl SloScope {
    pub fn label(self) -> &'static str {
        match self {
            SloScope::Entry => "entry",
            SloScope::Service => "service",
            SloScope::Queue => "queue",
        }
    }
}

/// The unit of a metric and of its threshold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SloUnit {
    /// Milliseconds.
    Millis,
    /// A fraction (written as one or as a percentage).
    Ratio,
    PerSecond,
    /// A plain number.
    Count,
    /// Seconds of recovery.
    Seconds,
    /// A size, written with a unit ("900MiB"), compared in MiB.
    Mebibytes,
}

/// A metric an assertion can name. `P999` and `P99Dot9` are the same
/// quantile written two ways; the result names it as written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SloMetric {
    P50,
    P90,
    P99,
    P999,
    P99Dot9,
    Max,
    Mean,
    ErrorRate,
    Availability,
    Goodput,
    Throughput,
    Recovered,
    Utilization,
    WastedWork,
    QueueLen,
    QueueLenMax,
    OomKills,
    Restarts,
    MemoryMax,
    MemoryP99,
    GcPauseShare,
    LoopUtilization,
    ConnectionsMax,
    LagP50,
    LagP99,
    LagMax,
    OldestAgeMax,
    DepthMax,
    DeadLettered,
    Duplicates,
    DuplicateSideEffects,
    PublishFailed,
    QueuedAtEnd,
    /// Requests an OOM kill cut off (`service.<name>.resets`).
    Resets,
}

impl SloMetric {
    pub const ENTRY: &[SloMetric] = &[
        SloMetric::P50,
        SloMetric::P90,
        SloMetric::P99,
        SloMetric::P999,
        SloMetric::P99Dot9,
        SloMetric::Max,
        SloMetric::Mean,
        SloMetric::ErrorRate,
        SloMetric::Availability,
        SloMetric::Goodput,
        SloMetric::Throughput,
        SloMetric::Recovered,
    ];
    pub const SERVICE: &[SloMetric] = &[
        SloMetric::Utilization,
        SloMetric::WastedWork,
        SloMetric::QueueLen,
        SloMetric::QueueLenMax,
        SloMetric::OomKills,
        SloMetric::Restarts,
        SloMetric::MemoryMax,
        SloMetric::MemoryP99,
        SloMetric::GcPauseShare,
        SloMetric::LoopUtilization,
        SloMetric::ConnectionsMax,
        SloMetric::Resets,
    ];
    pub const QUEUE: &[SloMetric] = &[
        SloMetric::LagP50,
        SloMetric::LagP99,
        SloMetric::LagMax,
        SloMetric::OldestAgeMax,
        SloMetric::DepthMax,
        SloMetric::DeadLettered,
        SloMetric::Duplicates,
        SloMetric::DuplicateSideEffects,
        SloMetric::PublishFailed,
        SloMetric::QueuedAtEnd,
    ];

    /// The name in a key (`checkout.p99` → "p99").
    pub fn name(self) -> &'static str {
        match self {
            SloMetric::P50 => "p50",
            SloMetric::P90 => "p90",
            SloMetric::P99 => "p99",
            SloMetric::P999 => "p999",
            SloMetric::P99Dot9 => "p99.9",
            SloMetric::Max => "max",
            SloMetric::Mean => "mean",
            SloMetric::ErrorRate => "error_rate",
            SloMetric::Availability => "availability",
            SloMetric::Goodput => "goodput",
            SloMetric::Throughput => "throughput",
            SloMetric::Recovered => "recovered",
            SloMetric::Utilization => "utilization",
            SloMetric::WastedWork => "wasted_work",
            SloMetric::QueueLen => "queue_len",
            SloMetric::QueueLenMax => "queue_len_max",
            SloMetric::OomKills => "oom_kills",
            SloMetric::Restarts => "restarts",
            SloMetric::MemoryMax => "memory_max",
            SloMetric::MemoryP99 => "memory_p99",
            SloMetric::GcPauseShare => "gc_pause_share",
            SloMetric::LoopUtilization => "loop_utilization",
            SloMetric::ConnectionsMax => "connections_max",
            SloMetric::LagP50 => "lag_p50",
            SloMetric::LagP99 => "lag_p99",
            SloMetric::LagMax => "lag_max",
            SloMetric::OldestAgeMax => "oldest_age_max",
            SloMetric::DepthMax => "depth_max",
            SloMetric::DeadLettered => "dead_lettered",
            SloMetric::Duplicates => "duplicates",
            SloMetric::DuplicateSideEffects => "duplicate_side_effects",
            SloMetric::PublishFailed => "publish_failed",
            SloMetric::QueuedAtEnd => "queued_at_end",
            SloMetric::Resets => "resets",
        }
    }

    pub fn scope(self) -> SloScope {
        if SloMetric::SERVICE.contains(&self) {
            SloScope::Service
        } else if SloMetric::QUEUE.contains(&self) {
            SloScope::Queue
        } else {
            SloScope::Entry
        }
    }

    pub fn unit(self) -> SloUnit {
        use SloMetric::*;
        match self {
            P50 | P90 | P99 | P999 | P99Dot9 | Max | Mean => SloUnit::Millis,
            LagP50 | LagP99 | LagMax | OldestAgeMax => SloUnit::Millis,
            ErrorRate | Availability | Utilization | WastedWork | GcPauseShare
            | LoopUtilization => SloUnit::Ratio,
            MemoryMax | MemoryP99 => SloUnit::Mebibytes,
            Goodput | Throughput => SloUnit::PerSecond,
            Recovered => SloUnit::Seconds,
            QueueLen | QueueLenMax | OomKills | Restarts | ConnectionsMax | DepthMax
            | DeadLettered | Duplicates | DuplicateSideEffects | PublishFailed | QueuedAtEnd
            | Resets => SloUnit::Count,
        }
    }
}
