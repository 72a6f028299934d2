//! Resilience patterns as pure, deterministic state machines: circuit
//! breaker, retry with backoff and jitter, retry budget, bulkhead, rate
//! limiter, adaptive concurrency limits, hedging delay and deadlines.
//!
//! Owns the *meaning* of each pattern and its configuration, in three
//! layers per pattern: a `*File` struct as written in a scenario (serde,
//! JSON Schema, durations as text, every field optional), a validated
//! `*Config` in integer nanoseconds, and the state machine. Must not read a
//! clock, create a random generator or use hash maps: the engine passes
//! `now` and its own ChaCha8 stream (`rng::Stream`), so a run stays a pure function of
//! (scenario, seed, version). State machines allocate when built, never per
//! call.
//!
//! # Where the names and defaults come from
//!
//! Parameters keep the name (in snake case) and the default of the library
//! people deploy, so a setting can be copied from production:
//!
//! | pattern | library | cascade key = library parameter (default) |
//! |---|---|---|
//! | circuit breaker | Resilience4j `CircuitBreakerConfig` | `sliding_window_type` = slidingWindowType (count_based), `sliding_window_size` = slidingWindowSize (100 calls, or seconds when time based), `minimum_number_of_calls` (100), `failure_rate_threshold` (50 %), `slow_call_rate_threshold` (100 %), `slow_call_duration_threshold` (60 s), `wait_duration_in_open_state` (60 s), `permitted_number_of_calls_in_half_open_state` (10), `max_wait_duration_in_half_open_state` (0 = unlimited), `automatic_transition_from_open_to_half_open_enabled` (false), `record_outcomes` = recordExceptions (every failure) |
//! | retry | Resilience4j `RetryConfig` / `IntervalFunction` | `max_attempts` = maxAttempts (3, counting the first), `initial_interval` = waitDuration / initialInterval (500 ms), `multiplier` = exponentialBackoffMultiplier (**2**, as the AWS article and Envoy; Resilience4j's own default is 1.5), `max_interval` = exponentialMaxWaitDuration (default 10 × `initial_interval` as Envoy's `max_interval`; Resilience4j leaves it unbounded), `retry_on` = retryExceptions (every failure) |
//! | jitter | AWS Architecture Blog, "Exponential Backoff and Jitter" (2015) | `none`, `full`, `equal`, `decorrelated` |
//! | retry budget | Finagle `RetryBudget` | `ratio` = percentCanRetry (0.2), `min_retries_per_second` = minRetriesPerSec (10), `ttl` (10 s) |
//! | in-flight retry budget (`retry.in_flight_budget`) | Envoy `retry_budget` | `percent` = budget_percent (20 %), `min_in_flight` = min_retry_concurrency (3) |
//! | bulkhead | Resilience4j `BulkheadConfig` (semaphore, fair) | `max_concurrent_calls` (25), `max_wait_duration` (0 = reject at once) |
//! | rate limiter | token bucket as Envoy's local rate limit / Guava's `RateLimiter` | `rate` (per second, required), `burst` (one second's worth, as Guava's bursty limiter) |
//! | concurrency limit | Netflix concurrency-limits `AIMDLimit`, `Gradient2Limit`, `WindowedLimit` | `initial_limit` (20), `min_limit` (20), `max_limit` = maxLimit / maxConcurrency (200), `backoff_ratio` (0.9), `timeout` (5 s), `smoothing` (0.2), `rtt_tolerance` (1.5), `long_window` (600), `queue_size` (4), `window_size` (10), `min_window_time` (1 s), `max_window_time` (1 s), `min_rtt_threshold` (100 µs) |
//! | hedging | gRPC `hedgingPolicy` (gRFC A6) | `max_attempts` (2, at most 5), `hedging_delay` (0), `non_fatal_outcomes` = nonFatalStatusCodes (none); plus `percentile` of recent latencies (as "The Tail at Scale") |
//!
//! # In a scenario
//!
//! The patterns of one `call` step, with their nesting made explicit
//! ([`CallPolicyFile`]; `order` is outermost first, see [`policy`]):
//!
//! ```toml
//! { call = "inventory", timeout = "800ms",
//!   order = ["fallback", "retry", "breaker", "timeout", "bulkhead"],
//!   deadline = "2s",
//!   retry = { max_attempts = 4, retry_on = ["timeout", "rejected"], backoff = "exponential",
//!             initial_interval = "25ms", max_interval = "1s", jitter = "full",
//!             budget = { ratio = 0.1 } },
//!   breaker = { sliding_window_size = 50, minimum_number_of_calls = 20,
//!               failure_rate_threshold = 50, wait_duration_in_open_state = "5s" },
//!   bulkhead = { max_concurrent_calls = 32, max_wait_duration = "10ms" },
//!   fallback = { latency = "1ms" } }
//! ```
//!
//! and a service's ingress ([`AdmissionFile`]):
//!
//! ```toml
//! [services.inventory.admission]
//! rate_limit = { rate = 500, burst = 50 }
//! shed_queue_time = "200ms"
//! concurrency_limit = { algorithm = "gradient2", min_limit = 4, max_limit = 64 }
//! ```
//!
//! # Failure kinds
//!
//! Lists of outcomes (`retry_on`, `record_outcomes`, `non_fatal_outcomes`)
//! name [`FailureKind`]s: `error`, `rejected`, `timeout`, `refused`,
//! `circuit_open`, `conflict`, `reset`. The engine maps its own outcomes onto them (a local
//! bulkhead or rate limiter that turns a call away counts as `rejected`).

pub mod autoscale;
pub mod breaker;
pub mod budget;
pub mod bulkhead;
pub mod concurrency_limit;
pub mod deadline;
pub mod failure_gate;
pub mod hedge;
pub mod in_flight_budget;
pub mod outlier;
pub mod policy;
pub mod priority;
pub mod rate_limit;
pub mod retry;
pub mod throttle;
pub mod window;

pub use breaker::{
    Breaker, BreakerConfig, BreakerFile, BreakerState, BreakerStats, Permit, SlidingWindowType,
};
pub use budget::{BudgetConfig, BudgetFile, BudgetStats, RetryBudget};
pub use bulkhead::{Bulkhead, BulkheadConfig, BulkheadEntry, BulkheadFile, BulkheadStats};
pub use concurrency_limit::{
    ConcurrencyLimitConfig, ConcurrencyLimitFile, ConcurrencyLimiter, LimitAlgorithm,
};
pub use deadline::{DeadlineConfig, DeadlineFile};
pub use failure_gate::{FailureGate, FailureGateConfig};
pub use hedge::{Hedge, HedgeConfig, HedgeDelay, HedgeFile};
pub use outlier::{OutlierDetection, OutlierDetectionFile};
pub use policy::{
    Admission, AdmissionFile, CallPolicy, CallPolicyFile, FallbackConfig, FallbackFile,
    FallbackTable, Layer,
};
pub use priority::Criticality;
pub use rate_limit::{RateLimitConfig, RateLimitFile, RateLimiter};
pub use retry::{Backoff, Jitter, RetryConfig, RetryFile};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::time::{Nanos, parse_duration};

/// A validation error: (field name, message). The field is relative to the
/// pattern's table (`failure_rate_threshold`, `retry.budget.ratio`); the
/// scenario loader prefixes the path of the table itself.
pub type FieldError = (String, String);

/// A way a call can fail, as named in the lists of a scenario.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    /// The callee answered with an error.
    Error,
    /// The call was turned away because a queue, bulkhead or limit was full.
    Rejected,
    /// The caller's timeout fired first.
    Timeout,
    /// The callee refused the connection (crashed).
    Refused,
    /// A circuit breaker failed the call fast without sending it.
    CircuitOpen,
    /// A conditional write found the key's version moved since the read
    /// (a versioned store's optimistic concurrency).
    Conflict,
    /// The connection was reset: the callee's process died holding the
    /// request (an OOM kill).
    Reset,
}

impl FailureKind {
    /// Every kind, in declaration order.
    pub const ALL: [FailureKind; 7] = [
        FailureKind::Error,
        FailureKind::Rejected,
        FailureKind::Timeout,
        FailureKind::Refused,
        FailureKind::CircuitOpen,
        FailureKind::Conflict,
        FailureKind::Reset,
    ];

    /// The name used in scenario files.
    pub fn name(self) -> &'static str {
        match self {
            FailureKind::Error => "error",
            FailureKind::Rejected => "rejected",
            FailureKind::Timeout => "timeout",
            FailureKind::Refused => "refused",
            FailureKind::CircuitOpen => "circuit_open",
            FailureKind::Conflict => "conflict",
            FailureKind::Reset => "reset",
        }
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

/// A set of [`FailureKind`]s, as a bit mask (`Copy`, no allocation).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FailureSet(u8);

impl FailureSet {
    /// No kind.
    pub const NONE: FailureSet = FailureSet(0);
    /// Every kind.
    pub const ALL: FailureSet = FailureSet(0b111_1111);

    /// The set of the listed kinds (duplicates are harmless).
    pub fn of(kinds: &[FailureKind]) -> FailureSet {
        FailureSet(kinds.iter().fold(0, |m, k| m | k.bit()))
    }

    pub fn contains(self, kind: FailureKind) -> bool {
        self.0 & kind.bit() != 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The kinds in the set, in declaration order.
    pub fn kinds(self) -> impl Iterator<Item = FailureKind> {
        FailureKind::ALL
            .into_iter()
            .filter(move |k| self.contains(*k))
    }
}

// ---------------------------------------------------------------------------
// Validation helpers shared by the patterns.

pub(crate) fn err<T>(field: &str, message: impl Into<String>) -> Result<T, FieldError> {
    Err((field.to_owned(), message.into()))
}

/// Prefixes the field of an error from a nested table: `budget` + `ratio`
/// gives `budget.ratio`.
pub(crate) fn nested<T>(prefix: &str, r: Result<T, FieldError>) -> Result<T, FieldError> {
    r.map_err(|(f, m)| (format!("{prefix}.{f}"), m))
}

/// A duration that may be zero; `default` when absent.
pub(crate) fn duration(
    field: &str,
    text: Option<&String>,
    default: Nanos,
) -> Result<Nanos, FieldError> {
    match text {
        None => Ok(default),
        Some(t) => parse_duration(t).map_err(|m| (field.to_owned(), m)),
    }
}

/// A duration that must be longer than zero; `default` when absent.
pub(crate) fn positive_duration(
    field: &str,
    text: Option<&String>,
    default: Nanos,
) -> Result<Nanos, FieldError> {
    let d = duration(field, text, default)?;
    if d == 0 {
        return err(field, "must be longer than zero");
    }
    Ok(d)
}

/// A finite number; `default` when absent.
pub(crate) fn finite(field: &str, v: Option<f64>, default: f64) -> Result<f64, FieldError> {
    let v = v.unwrap_or(default);
    if !v.is_finite() {
        return err(field, format!("must be a finite number, got {v}"));
    }
    Ok(v)
}

/// A percentage in (0, 100]; `default` when absent.
pub(crate) fn percent(field: &str, v: Option<f64>, default: f64) -> Result<f64, FieldError> {
    let v = finite(field, v, default)?;
    if !(v > 0.0 && v <= 100.0) {
        return err(
            field,
            format!("is a percentage: must be more than 0 and at most 100, got {v}"),
        );
    }
    Ok(v)
}

/// A count of at least `min`; `default` when absent.
pub(crate) fn at_least(
    field: &str,
    v: Option<u32>,
    default: u32,
    min: u32,
) -> Result<u32, FieldError> {
    let v = v.unwrap_or(default);
    if v < min {
        return err(field, format!("must be at least {min}, got {v}"));
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failure_sets_hold_what_they_are_given() {
        let s = FailureSet::of(&[FailureKind::Timeout, FailureKind::CircuitOpen]);
        assert!(s.contains(FailureKind::Timeout));
        assert!(s.contains(FailureKind::CircuitOpen));
        assert!(!s.contains(FailureKind::Error));
        assert_eq!(
            s.kinds().collect::<Vec<_>>(),
            vec![FailureKind::Timeout, FailureKind::CircuitOpen]
        );
        assert_eq!(FailureSet::of(&FailureKind::ALL), FailureSet::ALL);
        assert!(FailureSet::NONE.is_empty());
    }

    #[test]
    fn helpers_name_the_field() {
        assert_eq!(
            percent("failure_rate_threshold", Some(120.0), 50.0)
                .unwrap_err()
                .0,
            "failure_rate_threshold"
        );
        assert!(percent("x", Some(0.0), 50.0).is_err());
        assert!(percent("x", Some(f64::NAN), 50.0).is_err());
        assert_eq!(percent("x", None, 50.0), Ok(50.0));
        let e = positive_duration("wait", Some(&"0".to_owned()), 1).unwrap_err();
        assert_eq!(e.0, "wait");
        assert!(e.1.contains("longer than zero"));
        let e = duration("wait", Some(&"-5ms".to_owned()), 1).unwrap_err();
        assert_eq!(e.0, "wait");
        assert_eq!(
            nested("budget", err::<()>("ratio", "bad")).unwrap_err().0,
            "budget.ratio"
        );
    }
}
