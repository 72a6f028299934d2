//! The retry condition on the caller's own recent failure ratio (a "retry
//! circuit breaker", as in the AWS SDKs' adaptive retry and Brooker's
//! "retry only while the failure rate is low"): first tries always go out;
//! a retry goes out only while the share of failed attempts this caller
//! saw over the last `window` is below `threshold`.
//!
//! One gate per caller replica and call edge (beside that edge's retry
//! budget). Outcomes are counted per attempt (first tries, retries and
//! hedges alike, success or failure as their caller saw it), in a ring of
//! 10 time slices of `window / 10`, like the retry budget's: an outcome
//! counts for between 0.9 and 1 × `window`. An empty window has ratio 0.
//! Owns the counting and the decision; must not know about calls or events.

use super::window::WindowCounts;
use super::{FieldError, err, positive_duration};
use crate::time::{NS_PER_S, Nanos};

/// A validated gate.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FailureGateConfig {
    /// Retries go out only while the failure ratio is below this.
    pub threshold: f64,
    pub window: Nanos,
}

/// The two keys of `retry` that make the gate, as written (they sit in
/// `RetryFile`, whose unknown-key check rules out a flattened table).
#[derive(Debug, Clone, Default)]
pub struct FailureGateFile {
    pub only_while_failure_rate_below: Option<f64>,
    pub failure_window: Option<String>,
}

impl FailureGateFile {
    pub fn validate(&self) -> Result<Option<FailureGateConfig>, FieldError> {
        let Some(threshold) = self.only_while_failure_rate_below else {
            if self.failure_window.is_some() {
                return err(
                    "failure_window",
                    "needs `only_while_failure_rate_below` (the ratio it is the window of)",
                );
            }
            return Ok(None);
        };
        if !(threshold > 0.0 && threshold <= 1.0) {
            return err(
                "only_while_failure_rate_below",
                format!(
                    "is a share of failed attempts: must be above 0 and at most 1, got {threshold}"
                ),
            );
        }
        let window = positive_duration(
            "failure_window",
            self.failure_window.as_ref(),
            10 * NS_PER_S,
        )?;
        if !(NS_PER_S..=60 * NS_PER_S).contains(&window) {
            return err("failure_window", "must be from 1s to 60s");
        }
        Ok(Some(FailureGateConfig { threshold, window }))
    }
}

/// The live gate of one caller replica on one edge.
#[derive(Clone, Debug)]
pub struct FailureGate {
    cfg: FailureGateConfig,
    /// (attempts, failures) over the window.
    counts: WindowCounts,
}

impl FailureGate {
    pub fn new(cfg: FailureGateConfig) -> FailureGate {
        FailureGate {
            counts: WindowCounts::new(cfg.window),
            cfg,
        }
    }

    /// An attempt ended at `now`, failed or not.
    pub fn record(&mut self, now: Nanos, failed: bool) {
        self.counts.add(now, 1, u32::from(failed));
    }

    /// The failure ratio over the window at `now` (0 when it is empty).
    pub fn ratio(&self, now: Nanos) -> f64 {
        let (n, f) = self.counts.sums(now);
        if n == 0 { 0.0 } else { f as f64 / n as f64 }
    }

    /// Whether a retry may go out at `now`.
    pub fn allows_retry(&self, now: Nanos) -> bool {
        self.ratio(now) < self.cfg.threshold
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gate(threshold: f64) -> FailureGate {
        FailureGate::new(FailureGateConfig {
            threshold,
            window: 10 * NS_PER_S,
        })
    }

    #[test]
    fn retries_stop_above_the_ratio_and_resume_when_failures_expire() {
        let mut g = gate(0.1);
        assert!(g.allows_retry(0), "an empty window allows");
        for i in 0..95 {
            g.record(i, false);
        }
        for i in 0..5 {
            g.record(100 + i, true);
        }
        assert!((g.ratio(200) - 0.05).abs() < 1e-12);
        assert!(g.allows_retry(200));
        for i in 0..10 {
            g.record(300 + i, true);
        }
        assert!(!g.allows_retry(400), "15 of 110 failed");
        // Ten seconds on, every outcome has expired.
        assert!(g.allows_retry(11 * NS_PER_S));
        assert_eq!(g.ratio(11 * NS_PER_S), 0.0);
    }

    #[test]
    fn bad_values_are_refused() {
        let bad = |t: Option<f64>, w: Option<&str>| {
            FailureGateFile {
                only_while_failure_rate_below: t,
                failure_window: w.map(str::to_owned),
            }
            .validate()
            .unwrap_err()
            .0
        };
        assert_eq!(bad(Some(0.0), None), "only_while_failure_rate_below");
        assert_eq!(bad(Some(1.5), None), "only_while_failure_rate_below");
        assert_eq!(bad(Some(0.1), Some("100ms")), "failure_window");
        assert_eq!(bad(None, Some("5s")), "failure_window");
        assert!(FailureGateFile::default().validate().unwrap().is_none());
    }
}
