//! Hedging, after gRPC's `hedgingPolicy` (gRFC A6): the first attempt goes
//! at once; if no answer has come `hedging_delay` later another attempt
//! goes, and so on up to `max_attempts` in all; the first answer wins and
//! the others are cancelled (their callees keep working: orphaned work).
//! An attempt that fails with a *non-fatal* outcome (`non_fatal_outcomes`)
//! triggers the next hedge at once; any other failure ends the call.
//!
//! The delay is fixed, or — with `percentile` set — the given percentile
//! of the latest `latency_window` latencies the engine records (the
//! "hedged requests" of Dean and Barroso's "The Tail at Scale", sent after
//! the 95th-percentile latency). The estimator is a preallocated ring of
//! latencies; every `latency_window / 10` samples the percentile is
//! recomputed exactly (nearest rank, by selection in a preallocated
//! scratch copy, O(window)), so each sample costs amortised O(10) and no
//! allocation. Until the first recomputation the delay is `hedging_delay`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{FailureKind, FailureSet, FieldError, at_least, duration, err, finite};
use crate::time::Nanos;

/// gRPC caps hedged attempts at 5.
const MAX_ATTEMPTS: u32 = 5;

/// Hedging as written in a scenario (gRPC's `hedgingPolicy`).
#[derive(Deserialize, Serialize, JsonSchema, Debug, Clone, Default)]
#[serde(deny_unknown_fields)]
pub struct HedgeFile {
    /// Attempts in all, counting the first, from 2 to 5 (default 2).
    #[serde(default)]
    pub max_attempts: Option<u32>,
    /// Wait before each further attempt; with `percentile`, the wait used
    /// until enough latencies are known (default "0": all attempts at
    /// once, as gRPC).
    #[serde(default)]
    pub hedging_delay: Option<String>,
    /// Hedge after this percentile of recent latencies, e.g. 95 (default:
    /// fixed `hedging_delay`).
    #[serde(default)]
    pub percentile: Option<f64>,
    /// With `percentile`: latencies remembered (default 1000).
    #[serde(default)]
    pub latency_window: Option<u32>,
    /// Failures after which the next attempt is sent at once instead of
    /// failing the call (default none, as gRPC's nonFatalStatusCodes).
    #[serde(default)]
    pub non_fatal_outcomes: Option<Vec<FailureKind>>,
}

/// How the hedging delay is chosen.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum HedgeDelay {
    Fixed(Nanos),
    Percentile {
        /// In (0, 100].
        percentile: f64,
        window: u32,
        /// Until the first estimate.
        initial: Nanos,
    },
}

/// Validated hedging.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HedgeConfig {
    pub max_attempts: u32,
    pub delay: HedgeDelay,
    pub non_fatal_outcomes: FailureSet,
}

impl Default for HedgeConfig {
    fn default() -> Self {
        HedgeFile::default()
            .validate()
            .expect("the defaults are valid")
    }
}

impl HedgeFile {
    pub fn validate(&self) -> Result<HedgeConfig, FieldError> {
        let max_attempts = at_least("max_attempts", self.max_attempts, 2, 2)?;
        if max_attempts > MAX_ATTEMPTS {
            return err(
                "max_attempts",
                format!("gRPC allows at most {MAX_ATTEMPTS} hedged attempts, got {max_attempts}"),
            );
        }
        let fixed = duration("hedging_delay", self.hedging_delay.as_ref(), 0)?;
        let delay = match self.percentile {
            None => {
                if self.latency_window.is_some() {
                    return err("latency_window", "applies only with `percentile`");
                }
                HedgeDelay::Fixed(fixed)
            }
            Some(p) => {
                let p = finite("percentile", Some(p), 0.0)?;
                if !(p > 0.0 && p <= 100.0) {
                    return err(
                        "percentile",
                        format!("must be more than 0 and at most 100, got {p}"),
                    );
                }
                let window = at_least("latency_window", self.latency_window, 1000, 10)?;
                if window > 1_000_000 {
                    return err(
                        "latency_window",
                        format!("must be at most 1000000, got {window}"),
                    );
                }
                HedgeDelay::Percentile {
                    percentile: p,
                    window,
                    initial: fixed,
                }
            }
        };
        Ok(HedgeConfig {
            max_attempts,
            delay,
            non_fatal_outcomes: match &self.non_fatal_outcomes {
                None => FailureSet::NONE,
                Some(list) => FailureSet::of(list),
            },
        })
    }
}

/// One hedging policy's state: the delay estimator (per caller and edge).
#[derive(Clone, Debug)]
pub struct Hedge {
    cfg: HedgeConfig,
    ring: Vec<Nanos>,
    scratch: Vec<Nanos>,
    next: usize,
    len: usize,
    since_update: u32,
    update_every: u32,
    delay: Nanos,
    estimates: u64,
}

impl Hedge {
    pub fn new(cfg: HedgeConfig) -> Hedge {
        let (window, delay) = match cfg.delay {
            HedgeDelay::Fixed(d) => (0, d),
            HedgeDelay::Percentile {
                window, initial, ..
            } => (window as usize, initial),
        };
        Hedge {
            cfg,
            ring: vec![0; window],
            scratch: Vec::with_capacity(window),
            next: 0,
            len: 0,
            since_update: 0,
            update_every: (window as u32 / 10).max(1),
            delay,
            estimates: 0,
        }
    }

    pub fn config(&self) -> &HedgeConfig {
        &self.cfg
    }

    pub fn max_attempts(&self) -> u32 {
        self.cfg.max_attempts
    }

    /// The wait, after an attempt was sent, before the next one goes.
    pub fn delay(&self) -> Nanos {
        self.delay
    }

    /// Whether a failed attempt lets the next hedge go at once (rather than
    /// failing the call).
    pub fn is_non_fatal(&self, failure: FailureKind) -> bool {
        self.cfg.non_fatal_outcomes.contains(failure)
    }

    /// Records the latency of a completed attempt (the engine records
    /// successful attempts). Does nothing with a fixed delay.
    pub fn record_latency(&mut self, latency: Nanos) {
        let HedgeDelay::Percentile { percentile, .. } = self.cfg.delay else {
            return;
        };
        self.ring[self.next] = latency;
        self.next = (self.next + 1) % self.ring.len();
        self.len = (self.len + 1).min(self.ring.len());
        self.since_update += 1;
        if self.since_update >= self.update_every {
            self.since_update = 0;
            self.delay = self.estimate(percentile);
            self.estimates += 1;
        }
    }

    /// Nearest-rank percentile of the remembered latencies: the smallest
    /// value with at least `p` % of them at or below it.
    fn estimate(&mut self, p: f64) -> Nanos {
        self.scratch.clear();
        self.scratch.extend_from_slice(&self.ring[..self.len]);
        let n = self.len;
        let rank = (p * n as f64 / 100.0).ceil() as usize;
        let i = rank.clamp(1, n) - 1;
        *self.scratch.select_nth_unstable(i).1
    }

    /// Times the delay was re-estimated.
    pub fn estimates(&self) -> u64 {
        self.estimates
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::NS_PER_MS;

    const MS: Nanos = NS_PER_MS;

    fn hedge(f: impl FnOnce(&mut HedgeFile)) -> Hedge {
        let mut file = HedgeFile::default();
        f(&mut file);
        Hedge::new(file.validate().unwrap())
    }

    #[test]
    fn defaults_are_grpc_s() {
        let c = HedgeConfig::default();
        assert_eq!(c.max_attempts, 2);
        assert_eq!(c.delay, HedgeDelay::Fixed(0));
        assert!(c.non_fatal_outcomes.is_empty());
    }

    #[test]
    fn a_fixed_delay_never_moves() {
        let mut h = hedge(|f| f.hedging_delay = Some("20ms".into()));
        for l in [1, 500, 3] {
            h.record_latency(l * MS);
        }
        assert_eq!(h.delay(), 20 * MS);
        assert_eq!(h.estimates(), 0);
    }

    #[test]
    fn percentile_delay_follows_the_recent_latencies() {
        let mut h = hedge(|f| {
            f.percentile = Some(95.0);
            f.latency_window = Some(100);
            f.hedging_delay = Some("50ms".into());
            f.non_fatal_outcomes = Some(vec![FailureKind::Refused]);
        });
        assert!(h.is_non_fatal(FailureKind::Refused));
        assert!(!h.is_non_fatal(FailureKind::Error));
        // Before 10 samples (window / 10), the initial delay.
        for l in 1..=9 {
            h.record_latency(l * MS);
        }
        assert_eq!(h.delay(), 50 * MS);
        // At 10 samples 1..=10 ms: p95 by nearest rank = ceil(9.5) = 10th.
        h.record_latency(10 * MS);
        assert_eq!(h.delay(), 10 * MS);
        // Fill with 1..=100 ms: p95 = the 95th = 95 ms.
        for l in 11..=100 {
            h.record_latency(l * MS);
        }
        assert_eq!(h.delay(), 95 * MS);
        assert_eq!(h.estimates(), 10);
        // Latencies fall to 1 ms: after a full window, p95 = 1 ms. After
        // half a window the old tail still sets it.
        for _ in 0..50 {
            h.record_latency(MS);
        }
        assert_eq!(h.delay(), 95 * MS);
        for _ in 0..50 {
            h.record_latency(MS);
        }
        assert_eq!(h.delay(), MS);
    }

    #[test]
    fn validation_names_the_field() {
        let bad = |f: fn(&mut HedgeFile)| {
            let mut file = HedgeFile::default();
            f(&mut file);
            file.validate().unwrap_err().0
        };
        assert_eq!(bad(|f| f.max_attempts = Some(1)), "max_attempts");
        assert_eq!(bad(|f| f.max_attempts = Some(6)), "max_attempts");
        assert_eq!(bad(|f| f.percentile = Some(0.0)), "percentile");
        assert_eq!(bad(|f| f.percentile = Some(101.0)), "percentile");
        assert_eq!(bad(|f| f.latency_window = Some(100)), "latency_window");
        assert_eq!(
            bad(|f| f.hedging_delay = Some("soon".into())),
            "hedging_delay"
        );
    }
}
