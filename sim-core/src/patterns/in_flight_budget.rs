//! Envoy's retry budget (`circuit_breakers.thresholds[].retry_budget`,
//! Istio's `retryBudget`): a cap on retries *in flight*, where Finagle's
//! budget (`budget.rs`) caps retries per request over a window.
//!
//! As Envoy's `ResourceManagerImpl::RetryBudgetImpl` (with
//! `budget_interval` unset): a retry may start only while the retries in
//! flight are fewer than
//! `max(min_in_flight, ⌊percent ⁄ 100 × requests in flight⌋)`, where the
//! requests in flight are every attempt (first tries, retries and hedges)
//! the caller is waiting on, on the same edge from the same caller replica
//! (Envoy's cluster in one Envoy). A retry holds its place from the moment
//! it is decided (its backoff included) until its own outcome is known or
//! its call ends, as Envoy's `RetryStateImpl` holds its `retries()`
//! resource until the next `shouldRetry` or the request's end.
//!
//! This module is the arithmetic only; the counting is the engine's
//! (`engine/retry_in_flight.rs`). Must not read a clock.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{FieldError, err, finite};

/// Envoy's default `budget_percent`.
pub const DEFAULT_PERCENT: f64 = 20.0;
/// Envoy's default `min_retry_concurrency`.
pub const DEFAULT_MIN_IN_FLIGHT: u32 = 3;

/// An in-flight retry budget as written in a scenario (Envoy's names in
/// the comments).
#[derive(Deserialize, Serialize, JsonSchema, Debug, Clone, Default)]
#[serde(deny_unknown_fields)]
pub struct InFlightBudgetFile {
    /// Retries in flight allowed, as a percentage of the requests in
    /// flight on the edge (retries included), from 0 to 100 (default 20,
    /// Envoy's `budget_percent`).
    #[serde(default)]
    pub percent: Option<f64>,
    /// Retries in flight always allowed, whatever the traffic (default 3,
    /// Envoy's `min_retry_concurrency`).
    #[serde(default)]
    pub min_in_flight: Option<u32>,
}

/// A validated in-flight retry budget.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct InFlightBudgetConfig {
    /// 0 to 100.
    pub percent: f64,
    pub min_in_flight: u32,
}

impl Default for InFlightBudgetConfig {
    fn default() -> Self {
        InFlightBudgetConfig {
            percent: DEFAULT_PERCENT,
            min_in_flight: DEFAULT_MIN_IN_FLIGHT,
        }
    }
}

impl InFlightBudgetFile {
    pub fn validate(&self) -> Result<InFlightBudgetConfig, FieldError> {
        let percent = finite("percent", self.percent, DEFAULT_PERCENT)?;
        if !(0.0..=100.0).contains(&percent) {
            return err(
                "percent",
                format!(
                    "is a share of the requests in flight: must be from 0 to 100, got {percent}"
                ),
            );
        }
        Ok(InFlightBudgetConfig {
            percent,
            min_in_flight: self.min_in_flight.unwrap_or(DEFAULT_MIN_IN_FLIGHT),
        })
    }
}

impl InFlightBudgetConfig {
    /// Most retries in flight with `requests` requests in flight: Envoy's
    /// `max()`, the percentage truncated to a whole number as its
    /// conversion to `uint64_t` does.
    pub fn cap(&self, requests: u64) -> u64 {
        let share = (self.percent / 100.0 * requests as f64) as u64;
        share.max(u64::from(self.min_in_flight))
    }

    /// Whether one more retry may start (Envoy's `canCreate()`).
    pub fn allows(&self, retries_in_flight: u64, requests_in_flight: u64) -> bool {
        retries_in_flight < self.cap(requests_in_flight)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(percent: f64, min: u32) -> InFlightBudgetConfig {
        InFlightBudgetFile {
            percent: Some(percent),
            min_in_flight: Some(min),
        }
        .validate()
        .unwrap()
    }

    #[test]
    fn defaults_are_envoys() {
        let c = InFlightBudgetFile::default().validate().unwrap();
        assert_eq!(c, InFlightBudgetConfig::default());
        assert_eq!((c.percent, c.min_in_flight), (20.0, 3));
    }

    #[test]
    fn the_cap_is_the_percentage_truncated_or_the_floor() {
        let c = cfg(20.0, 3);
        // 20 % of 10 is 2, below the floor of 3.
        assert_eq!(c.cap(10), 3);
        // 20 % of 24 is 4.8: truncated to 4, as Envoy's uint64 conversion.
        assert_eq!(c.cap(24), 4);
        assert_eq!(c.cap(25), 5);
        assert!(c.allows(4, 25));
        assert!(!c.allows(5, 25));
        // No floor: no request in flight, no retry.
        let none = cfg(50.0, 0);
        assert!(!none.allows(0, 0));
        assert!(none.allows(0, 2));
        // A zero percentage leaves the floor only.
        let floor = cfg(0.0, 2);
        assert!(floor.allows(1, 1_000_000));
        assert!(!floor.allows(2, 1_000_000));
    }

    #[test]
    fn validation_names_the_field() {
        for p in [-1.0, 100.5, f64::NAN] {
            let e = InFlightBudgetFile {
                percent: Some(p),
                ..Default::default()
            }
            .validate()
            .unwrap_err();
            assert_eq!(e.0, "percent", "{p}");
        }
        let e =
            toml_edit::de::from_str::<InFlightBudgetFile>("min_retry_concurrency = 3").unwrap_err();
        assert!(e.to_string().contains("unknown field"), "{e}");
    }
}
