//! Retry: how many attempts, on which outcomes, and how long to wait
//! between them (Resilience4j's `RetryConfig` and `IntervalFunction`, with
//! the four jitters of the AWS "Exponential Backoff and Jitter" article).
//!
//! Waits, for retry number `n` (1 = the first retry) with
//! `base = initial_interval` and `cap = max_interval`:
//! - backoff `constant`: `v = min(cap, base)`;
//!   backoff `exponential`: `v = min(cap, base · multiplier^(n-1))`, so the
//!   first retry waits `base` as in Resilience4j.
//! - jitter `none`: `v`; `full`: `random(0, v)`; `equal`:
//!   `v/2 + random(0, v/2)`; `decorrelated`: `min(cap, random(base,
//!   previous · 3))` with `previous = base` before the first retry (this
//!   one grows on its own and ignores `backoff` and `multiplier`).
//!
//! `random(a, b)` is uniform over the whole nanoseconds `a..=b`, drawn
//! from the caller's stream.

use crate::rng::Stream;
use rand::RngExt;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::budget::{BudgetConfig, BudgetFile};
use super::failure_gate::{FailureGateConfig, FailureGateFile};
use super::in_flight_budget::{InFlightBudgetConfig, InFlightBudgetFile};
use super::{
    FailureKind, FailureSet, FieldError, at_least, err, finite, nested, positive_duration,
};
use crate::time::{NS_PER_MS, Nanos};

/// Most attempts a retry policy may make (the first included).
pub const MAX_ATTEMPTS: u32 = 1000;

/// How the wait grows from one retry to the next.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Backoff {
    /// The same wait before every retry (Resilience4j's default).
    #[default]
    Constant,
    /// The wait is multiplied by `multiplier` at each retry, up to
    /// `max_interval`.
    Exponential,
    /// No wait: the retry leaves at once, at the same instant (after what
    /// is already due then). `initial_interval` and jitter do not apply.
    None,
}

/// Randomisation of the wait (AWS "Exponential Backoff and Jitter").
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Jitter {
    /// The computed wait itself.
    #[default]
    None,
    /// Uniform between 0 and the computed wait.
    Full,
    /// Half the computed wait, plus uniform up to the other half.
    Equal,
    /// Uniform between `initial_interval` and three times the previous
    /// wait, capped at `max_interval`.
    Decorrelated,
}

/// A retry policy as written in a scenario.
#[derive(Deserialize, Serialize, JsonSchema, Debug, Clone, Default)]
#[serde(deny_unknown_fields)]
pub struct RetryFile {
    /// Attempts in all, counting the first (default 3, as Resilience4j);
    /// 1 never retries.
    #[serde(default)]
    pub max_attempts: Option<u32>,
    /// Outcomes that are retried (default: every failure: "timeout",
    /// "error", "rejected", "refused", "circuit_open", "conflict").
    #[serde(default)]
    pub retry_on: Option<Vec<FailureKind>>,
    /// "constant" (default), "exponential" or "none" (retry at once).
    #[serde(default)]
    pub backoff: Option<Backoff>,
    /// Wait before the first retry (default "500ms", Resilience4j's
    /// waitDuration).
    #[serde(default)]
    pub initial_interval: Option<String>,
    /// Growth factor of exponential backoff, at least 1 (default 2, as the
    /// AWS article and Envoy; Resilience4j's own default is 1.5).
    #[serde(default)]
    pub multiplier: Option<f64>,
    /// Longest wait (default 10 × `initial_interval`, as Envoy's
    /// max_interval).
    #[serde(default)]
    pub max_interval: Option<String>,
    /// "none" (default), "full", "equal" or "decorrelated".
    #[serde(default)]
    pub jitter: Option<Jitter>,
    /// Retry budget shared by the calls of this edge (default: none).
    #[serde(default)]
    pub budget: Option<BudgetFile>,
    /// Retry only while the caller's share of failed attempts on this edge
    /// over `failure_window` is below this, from 0 (exclusive) to 1
    /// (default: no condition). First tries always go out.
    // Absent fields stay out of the canonical form (the scenario hash).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub only_while_failure_rate_below: Option<f64>,
    /// The window of that share, from "1s" to "60s" (default "10s").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_window: Option<String>,
    /// Envoy's retry budget: retries in flight on this edge, per caller
    /// replica, at most `percent` % of the requests in flight there or
    /// `min_in_flight`, whichever is more (default: no such cap).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_flight_budget: Option<InFlightBudgetFile>,
}

/// A validated retry policy.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RetryConfig {
    pub max_attempts: u32,
    pub retry_on: FailureSet,
    pub backoff: Backoff,
    pub initial_interval: Nanos,
    pub multiplier: f64,
    pub max_interval: Nanos,
    pub jitter: Jitter,
    pub budget: Option<BudgetConfig>,
    pub failure_gate: Option<FailureGateConfig>,
    pub in_flight_budget: Option<InFlightBudgetConfig>,
}

impl Default for RetryConfig {
    fn default() -> Self {
        RetryFile::default()
            .validate()
            .expect("the defaults are valid")
    }
}

impl RetryFile {
    pub fn validate(&self) -> Result<RetryConfig, FieldError> {
        let max_attempts = at_least("max_attempts", self.max_attempts, 3, 1)?;
        if max_attempts > MAX_ATTEMPTS {
            // Attempts are counted in u16 per call, and with
            // `backoff = "none"` every retry is at the same instant: an
            // unbounded count would spin a run at one moment.
            return err(
                "max_attempts",
                format!("must be at most {MAX_ATTEMPTS}, got {max_attempts}"),
            );
        }
        let initial_interval = positive_duration(
            "initial_interval",
            self.initial_interval.as_ref(),
            500 * NS_PER_MS,
        )?;
        let multiplier = finite("multiplier", self.multiplier, 2.0)?;
        if multiplier < 1.0 {
            return err(
                "multiplier",
                format!(
                    "must be at least 1 (a wait that shrinks is not a backoff), got {multiplier}"
                ),
            );
        }
        let max_interval = positive_duration(
            "max_interval",
            self.max_interval.as_ref(),
            initial_interval.saturating_mul(10),
        )?;
        if max_interval < initial_interval {
            return err(
                "max_interval",
                "must not be shorter than `initial_interval`",
            );
        }
        if self.backoff == Some(Backoff::None) {
            if self.initial_interval.is_some() || self.max_interval.is_some() {
                return err(
                    "backoff",
                    "\"none\" retries at once: drop `initial_interval` and `max_interval`",
                );
            }
            if self.jitter.is_some_and(|j| j != Jitter::None) {
                return err(
                    "jitter",
                    "there is no wait to jitter with backoff = \"none\"",
                );
            }
        }
        let budget = match &self.budget {
            None => None,
            Some(b) => Some(nested("budget", b.validate())?),
        };
        Ok(RetryConfig {
            max_attempts,
            retry_on: match &self.retry_on {
                None => FailureSet::ALL,
                Some(list) => FailureSet::of(list),
            },
            backoff: self.backoff.unwrap_or_default(),
            initial_interval,
            multiplier,
            max_interval,
            jitter: self.jitter.unwrap_or_default(),
            budget,
            failure_gate: FailureGateFile {
                only_while_failure_rate_below: self.only_while_failure_rate_below,
                failure_window: self.failure_window.clone(),
            }
            .validate()?,
            in_flight_budget: match &self.in_flight_budget {
                None => None,
                Some(b) => Some(nested("in_flight_budget", b.validate())?),
            },
        })
    }
}

/// Uniform whole nanoseconds in `lo..=hi`.
fn uniform(rng: &mut Stream, lo: Nanos, hi: Nanos) -> Nanos {
    if hi <= lo {
        lo
    } else {
        rng.random_range(lo..=hi)
    }
}

impl RetryConfig {
    /// Whether a call that failed with `failure` after `attempts_made`
    /// attempts (counting the first) may try again. The budget, if any, is
    /// asked separately.
    pub fn should_retry(&self, failure: FailureKind, attempts_made: u32) -> bool {
        attempts_made < self.max_attempts && self.retry_on.contains(failure)
    }

    /// The wait before any jitter for retry number `retry_number` (1 = the
    /// first retry).
    pub fn interval(&self, retry_number: u32) -> Nanos {
        let cap = self.max_interval;
        match self.backoff {
            Backoff::None => 0,
            Backoff::Constant => self.initial_interval.min(cap),
            Backoff::Exponential => {
                // Repeated multiplication (not `powf`), so the result is the
                // same IEEE value on every platform.
                let mut v = self.initial_interval as f64;
                for _ in 1..retry_number.max(1) {
                    v *= self.multiplier;
                    if v >= cap as f64 {
                        return cap;
                    }
                }
                (v.round() as Nanos).min(cap)
            }
        }
    }

    /// The wait before retry number `retry_number` (1 = the first retry);
    /// `previous` is the wait this function returned for the retry before
    /// (ignored for the first retry, and used by decorrelated jitter only).
    pub fn backoff(&self, retry_number: u32, previous: Nanos, rng: &mut Stream) -> Nanos {
        if self.backoff == Backoff::None {
            return 0;
        }
        let base = self.initial_interval;
        let cap = self.max_interval;
        match self.jitter {
            Jitter::None => self.interval(retry_number),
            Jitter::Full => uniform(rng, 0, self.interval(retry_number)),
            Jitter::Equal => {
                let v = self.interval(retry_number);
                let half = v / 2;
                half + uniform(rng, 0, v - half)
            }
            Jitter::Decorrelated => {
                let prev = if retry_number <= 1 {
                    base
                } else {
                    previous.max(base)
                };
                uniform(rng, base, prev.saturating_mul(3)).min(cap)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn cfg(f: impl FnOnce(&mut RetryFile)) -> RetryConfig {
        let mut file = RetryFile::default();
        f(&mut file);
        file.validate().unwrap()
    }

    const MS: Nanos = NS_PER_MS;

    #[test]
    fn defaults_are_resilience4j_s_with_aws_multiplier() {
        let c = RetryConfig::default();
        assert_eq!(c.max_attempts, 3);
        assert_eq!(c.retry_on, FailureSet::ALL);
        assert_eq!(c.backoff, Backoff::Constant);
        assert_eq!(c.initial_interval, 500 * MS);
        assert_eq!(c.multiplier, 2.0);
        assert_eq!(c.max_interval, 5_000 * MS);
        assert_eq!(c.jitter, Jitter::None);
        assert_eq!(c.budget, None);
        let mut rng = Stream::seed_from_u64(1);
        for n in 1..5 {
            assert_eq!(c.backoff(n, 0, &mut rng), 500 * MS);
        }
    }

    #[test]
    fn attempts_count_the_first_and_follow_retry_on() {
        let c = cfg(|f| f.retry_on = Some(vec![FailureKind::Timeout, FailureKind::Rejected]));
        assert!(c.should_retry(FailureKind::Timeout, 1));
        assert!(c.should_retry(FailureKind::Timeout, 2));
        assert!(!c.should_retry(FailureKind::Timeout, 3), "3 attempts made");
        assert!(!c.should_retry(FailureKind::Error, 1));
        assert!(!c.should_retry(FailureKind::CircuitOpen, 1));
        let once = cfg(|f| f.max_attempts = Some(1));
        assert!(!once.should_retry(FailureKind::Timeout, 1));
    }

    #[test]
    fn exponential_grows_by_the_multiplier_up_to_the_cap() {
        let c = cfg(|f| {
            f.backoff = Some(Backoff::Exponential);
            f.initial_interval = Some("100ms".into());
            f.max_interval = Some("1s".into());
        });
        let got: Vec<Nanos> = (1..=6).map(|n| c.interval(n)).collect();
        assert_eq!(
            got,
            [100 * MS, 200 * MS, 400 * MS, 800 * MS, 1000 * MS, 1000 * MS]
        );
        let c = cfg(|f| {
            f.backoff = Some(Backoff::Exponential);
            f.initial_interval = Some("100ms".into());
            f.multiplier = Some(1.5);
        });
        assert_eq!(c.interval(3), 225 * MS);
        assert_eq!(c.interval(u32::MAX), 1000 * MS, "default cap 10x");
    }

    /// Draws `n` waits for one retry number and returns (min, max, mean).
    fn draws(c: &RetryConfig, retry: u32, previous: Nanos, n: u32) -> (Nanos, Nanos, f64) {
        let mut rng = Stream::seed_from_u64(42);
        let (mut lo, mut hi, mut sum) = (Nanos::MAX, 0, 0.0);
        for _ in 0..n {
            let w = c.backoff(retry, previous, &mut rng);
            lo = lo.min(w);
            hi = hi.max(w);
            sum += w as f64;
        }
        (lo, hi, sum / f64::from(n))
    }

    const N: u32 = 200_000;

    /// Five standard errors of the mean of N draws of a uniform variable of
    /// width `w` (sd = w / sqrt(12)): a correct formula fails this about
    /// once in 1.7 million seeds, a wrong mean (off by 1 % of w) always.
    fn tolerance(width: f64) -> f64 {
        5.0 * width / 12f64.sqrt() / f64::from(N).sqrt()
    }

    fn exp_cfg(jitter: Jitter) -> RetryConfig {
        cfg(|f| {
            f.backoff = Some(Backoff::Exponential);
            f.initial_interval = Some("100ms".into());
            f.max_interval = Some("10s".into());
            f.jitter = Some(jitter);
        })
    }

    #[test]
    fn full_jitter_is_uniform_between_zero_and_the_interval() {
        let c = exp_cfg(Jitter::Full);
        let v = 400 * MS; // retry 3
        let (lo, hi, mean) = draws(&c, 3, 0, N);
        assert!(hi <= v && lo < v / 1000, "range [{lo}, {hi}]");
        assert!(hi > v - v / 1000, "range [{lo}, {hi}]");
        let want = v as f64 / 2.0;
        assert!(
            (mean - want).abs() < tolerance(v as f64),
            "mean {mean} vs {want}"
        );
    }

    #[test]
    fn equal_jitter_keeps_half_and_randomises_the_other_half() {
        let c = exp_cfg(Jitter::Equal);
        let v = 800 * MS; // retry 4
        let (lo, hi, mean) = draws(&c, 4, 0, N);
        assert!(lo >= v / 2 && lo < v / 2 + v / 1000, "range [{lo}, {hi}]");
        assert!(hi <= v && hi > v - v / 1000, "range [{lo}, {hi}]");
        let want = 0.75 * v as f64;
        assert!(
            (mean - want).abs() < tolerance(v as f64 / 2.0),
            "mean {mean} vs {want}"
        );
    }

    #[test]
    fn decorrelated_jitter_draws_between_base_and_three_times_the_previous() {
        let c = exp_cfg(Jitter::Decorrelated);
        let base = 100 * MS;
        // First retry: previous = base, so [base, 3 base].
        let (lo, hi, mean) = draws(&c, 1, 0, N);
        assert!(lo >= base && lo < base + base / 500, "range [{lo}, {hi}]");
        assert!(
            hi <= 3 * base && hi > 3 * base - base / 500,
            "range [{lo}, {hi}]"
        );
        let want = 2.0 * base as f64;
        assert!((mean - want).abs() < tolerance(2.0 * base as f64));
        // Later retry after a 1 s wait: [base, 3 s].
        let prev = 1_000 * MS;
        let (lo, hi, mean) = draws(&c, 2, prev, N);
        assert!(lo >= base && hi <= 3 * prev);
        let want = (base + 3 * prev) as f64 / 2.0;
        assert!((mean - want).abs() < tolerance((3 * prev - base) as f64));
        // Capped: after a 5 s wait the draw is in [base, 15 s] then capped
        // at 10 s, so about (15 - 10) / (15 - 0.1) of the draws are the cap.
        let mut rng = Stream::seed_from_u64(7);
        let capped = (0..N)
            .filter(|_| {
                let w = c.backoff(3, 5_000 * MS, &mut rng);
                assert!((base..=10_000 * MS).contains(&w));
                w == 10_000 * MS
            })
            .count() as f64
            / f64::from(N);
        let p = 5.0 / 14.9;
        let sd = (p * (1.0 - p) / f64::from(N)).sqrt();
        assert!(
            (capped - p).abs() < 5.0 * sd,
            "capped share {capped} vs {p}"
        );
    }

    #[test]
    fn no_jitter_is_the_interval_and_draws_nothing() {
        let c = exp_cfg(Jitter::None);
        let mut a = Stream::seed_from_u64(3);
        let b = a.clone();
        assert_eq!(c.backoff(2, 0, &mut a), 200 * MS);
        assert_eq!(a, b, "the stream is untouched");
    }

    #[test]
    fn same_seed_same_waits() {
        let c = exp_cfg(Jitter::Full);
        let run = || {
            let mut rng = Stream::seed_from_u64(9);
            (1..=5)
                .map(|n| c.backoff(n, 0, &mut rng))
                .collect::<Vec<_>>()
        };
        assert_eq!(run(), run());
    }

    #[test]
    fn validation_names_the_field() {
        let bad = |f: fn(&mut RetryFile)| {
            let mut file = RetryFile::default();
            f(&mut file);
            file.validate().unwrap_err()
        };
        assert_eq!(bad(|f| f.max_attempts = Some(0)).0, "max_attempts");
        assert_eq!(bad(|f| f.multiplier = Some(0.5)).0, "multiplier");
        assert_eq!(
            bad(|f| f.initial_interval = Some("0".into())).0,
            "initial_interval"
        );
        assert_eq!(
            bad(|f| f.max_interval = Some("10ms".into())).0,
            "max_interval"
        );
        assert_eq!(
            bad(|f| f.budget = Some(BudgetFile {
                ratio: Some(-0.1),
                ..Default::default()
            }))
            .0,
            "budget.ratio"
        );
        let e = toml_edit::de::from_str::<RetryFile>("jitter = \"fulll\"").unwrap_err();
        assert!(e.to_string().contains("unknown variant `fulll`"), "{e}");
        let e = toml_edit::de::from_str::<RetryFile>("attempts = 3").unwrap_err();
        assert!(e.to_string().contains("unknown field `attempts`"), "{e}");
    }

    #[test]
    fn backoff_none_retries_at_once_and_refuses_a_wait() {
        let c = cfg(|f| f.backoff = Some(Backoff::None));
        let mut rng = Stream::seed_from_u64(1);
        for n in 1..5 {
            assert_eq!(c.backoff(n, 0, &mut rng), 0);
        }
        let mut f = RetryFile {
            backoff: Some(Backoff::None),
            initial_interval: Some("10ms".into()),
            ..RetryFile::default()
        };
        assert!(f.validate().is_err());
        f.initial_interval = None;
        f.jitter = Some(Jitter::Full);
        assert!(f.validate().is_err());
    }

    #[test]
    fn attempts_are_bounded() {
        let f = RetryFile {
            max_attempts: Some(MAX_ATTEMPTS + 1),
            ..RetryFile::default()
        };
        assert!(f.validate().is_err());
        let f = RetryFile {
            max_attempts: Some(MAX_ATTEMPTS),
            ..RetryFile::default()
        };
        assert!(f.validate().is_ok());
    }
}
