//! Retry budget, Finagle's `RetryBudget` (the same idea as gRPC's retry
//! throttling and Envoy's retry budgets): over any `ttl`, retries may not
//! exceed `ratio` × first attempts plus `min_retries_per_second` × `ttl`.
//!
//! Token arithmetic exactly as Finagle's `TokenRetryBudget`, in integers:
//! each request deposits 1000 tokens, a retry withdraws `1000 / ratio`
//! tokens (rounded to the nearest whole token rather than truncated), and a
//! constant reserve of `min_retries_per_second × ttl × cost` tokens is
//! always counted in. Deposits *and* withdrawals expire after `ttl`: they
//! sit in a ring of 10 time slices of `ttl / 10` (Finagle's
//! `WindowedAdder`), and the balance is the sum of the current slice and
//! the 9 before it, plus the reserve. A retry is allowed when the balance
//! covers its cost.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{FieldError, err, finite, positive_duration};
use crate::time::{NS_PER_S, Nanos};

/// Tokens deposited per request (Finagle's `ScaleFactor`).
const DEPOSIT: i64 = 1000;
/// Slices of the expiry window (Finagle's `WindowedAdder`).
const SLICES: usize = 10;

/// A retry budget as written in a scenario (Finagle's parameters).
#[derive(Deserialize, Serialize, JsonSchema, Debug, Clone, Default)]
#[serde(deny_unknown_fields)]
pub struct BudgetFile {
    /// Retries allowed per first attempt, e.g. 0.1 for 10 % (default 0.2,
    /// Finagle's percentCanRetry); from 0 to 1000.
    #[serde(default)]
    pub ratio: Option<f64>,
    /// Retries always allowed per second, whatever the traffic (default 10).
    #[serde(default)]
    pub min_retries_per_second: Option<u32>,
    /// How long a deposit or a withdrawal counts, from "1s" to "60s"
    /// (default "10s").
    #[serde(default)]
    pub ttl: Option<String>,
    /// Retries' worth of tokens present at the start, before any traffic
    /// (default 0); they expire after `ttl` like any deposit.
    #[serde(default)]
    pub initial: Option<u32>,
}

/// A validated retry budget, in integer tokens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BudgetConfig {
    /// Tokens deposited by each first attempt (0 when the ratio is 0).
    pub deposit: i64,
    /// Tokens one retry costs.
    pub cost: i64,
    /// Tokens always present.
    pub reserve: i64,
    pub ttl: Nanos,
    /// Tokens deposited at time 0.
    pub initial: i64,
}

impl Default for BudgetConfig {
    fn default() -> Self {
        BudgetFile::default()
            .validate()
            .expect("the defaults are valid")
    }
}

impl BudgetFile {
    pub fn validate(&self) -> Result<BudgetConfig, FieldError> {
        let ratio = finite("ratio", self.ratio, 0.2)?;
        if !(0.0..=1000.0).contains(&ratio) {
            return err(
                "ratio",
                format!("is retries per request: must be from 0 to 1000, got {ratio}"),
            );
        }
        let min = self.min_retries_per_second.unwrap_or(10);
        let ttl = positive_duration("ttl", self.ttl.as_ref(), 10 * NS_PER_S)?;
        if !(NS_PER_S..=60 * NS_PER_S).contains(&ttl) {
            return err("ttl", "must be from 1s to 60s (as Finagle's)");
        }
        let (deposit, cost) = if ratio == 0.0 {
            (0, 1)
        } else {
            (DEPOSIT, ((DEPOSIT as f64 / ratio).round() as i64).max(1))
        };
        let reserve = i128::from(min) * i128::from(ttl) * i128::from(cost) / i128::from(NS_PER_S);
        Ok(BudgetConfig {
            deposit,
            cost,
            reserve: i64::try_from(reserve).unwrap_or(i64::MAX),
            ttl,
            initial: i64::from(self.initial.unwrap_or(0)).saturating_mul(cost),
        })
    }
}

/// Counters of one budget.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BudgetStats {
    pub requests: u64,
    pub retries_allowed: u64,
    pub retries_refused: u64,
}

/// One retry budget (per caller and edge, as a Finagle client's).
#[derive(Clone, Debug)]
pub struct RetryBudget {
    cfg: BudgetConfig,
    slice_len: Nanos,
    /// `(slice number, net tokens)`; slice `k` lives at `k % SLICES`.
    slices: [(u64, i64); SLICES],
    stats: BudgetStats,
}

impl RetryBudget {
    pub fn new(cfg: BudgetConfig) -> RetryBudget {
        let mut slices = [(0, 0); SLICES];
        // The initial tokens sit in slice 0: they expire with it.
        slices[0].1 = cfg.initial;
        RetryBudget {
            slice_len: (cfg.ttl / SLICES as u64).max(1),
            cfg,
            slices,
            stats: BudgetStats::default(),
        }
    }

    /// The current slice at `now`, emptied if it held an expired one.
    fn current(&mut self, now: Nanos) -> &mut i64 {
        let k = now / self.slice_len;
        let s = &mut self.slices[(k % SLICES as u64) as usize];
        if s.0 != k {
            *s = (k, 0);
        }
        &mut s.1
    }

    /// Tokens present at `now`: the last `SLICES` slices plus the reserve.
    fn tokens(&self, now: Nanos) -> i64 {
        let k = now / self.slice_len;
        let live = self
            .slices
            .iter()
            .filter(|(slice, _)| *slice <= k && k - *slice < SLICES as u64)
            .map(|(_, t)| *t)
            .sum::<i64>();
        live + self.cfg.reserve
    }

    /// A first attempt was sent at `now`: deposit.
    pub fn on_request(&mut self, now: Nanos) {
        self.stats.requests += 1;
        let d = self.cfg.deposit;
        *self.current(now) += d;
    }

    /// Asks for one retry at `now`: `true` withdraws its cost, `false`
    /// refuses the retry (the call fails with its last outcome).
    pub fn try_withdraw(&mut self, now: Nanos) -> bool {
        if self.tokens(now) >= self.cfg.cost {
            let c = self.cfg.cost;
            *self.current(now) -= c;
            self.stats.retries_allowed += 1;
            true
        } else {
            self.stats.retries_refused += 1;
            false
        }
    }

    /// Retries the budget would allow at `now` (Finagle's `balance`).
    pub fn balance(&self, now: Nanos) -> i64 {
        self.tokens(now).max(0) / self.cfg.cost
    }

    pub fn stats(&self) -> BudgetStats {
        self.stats
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::NS_PER_MS;

    fn budget(ratio: f64, min: u32, ttl: &str) -> RetryBudget {
        RetryBudget::new(
            BudgetFile {
                ratio: Some(ratio),
                min_retries_per_second: Some(min),
                ttl: Some(ttl.into()),
                initial: None,
            }
            .validate()
            .unwrap(),
        )
    }

    /// `requests` first attempts spread over one second, each followed by
    /// as many retries as the caller wants (`want` per request); returns
    /// the retries allowed.
    fn storm(b: &mut RetryBudget, start: Nanos, requests: u64, want: u32) -> u64 {
        let mut allowed = 0;
        for i in 0..requests {
            let t = start + i * NS_PER_S / requests;
            b.on_request(t);
            for _ in 0..want {
                allowed += u64::from(b.try_withdraw(t));
            }
        }
        allowed
    }

    #[test]
    fn defaults_are_finagle_s() {
        let c = BudgetConfig::default();
        assert_eq!(c.deposit, 1000);
        assert_eq!(c.cost, 5000, "ratio 0.2");
        assert_eq!(c.reserve, 10 * 10 * 5000, "10 per second over 10 s");
        assert_eq!(c.ttl, 10 * NS_PER_S);
    }

    #[test]
    fn retries_are_held_to_the_ratio() {
        // 1000 requests that all want to retry twice, ratio 0.1, no minimum:
        // exactly 100 retries.
        let mut b = budget(0.1, 0, "10s");
        assert_eq!(storm(&mut b, 0, 1000, 2), 100);
        let s = b.stats();
        assert_eq!(s.requests, 1000);
        assert_eq!(s.retries_allowed, 100);
        assert_eq!(s.retries_refused, 1900);
    }

    #[test]
    fn the_minimum_adds_a_reserve_over_the_ttl() {
        // Ratio 0.1 plus 10 retries per second over 10 s = 100 + 100.
        let mut b = budget(0.1, 10, "10s");
        assert_eq!(b.balance(0), 100);
        assert_eq!(storm(&mut b, 0, 1000, 2), 200);
        // Only the minimum with no traffic at all: 10/s × 10 s, then none.
        let mut b = budget(0.0, 10, "10s");
        let got = (0..150).filter(|_| b.try_withdraw(0)).count();
        assert_eq!(got, 100);
    }

    #[test]
    fn deposits_and_withdrawals_expire_after_the_ttl() {
        let mut b = budget(0.5, 0, "1s");
        for _ in 0..10 {
            b.on_request(0);
        }
        assert_eq!(b.balance(0), 5);
        // Still there in the last slice of the window (0.9 s + change)...
        assert_eq!(b.balance(999 * NS_PER_MS), 5);
        // ...gone at 1 s.
        assert_eq!(b.balance(NS_PER_S), 0);
        assert!(!b.try_withdraw(NS_PER_S));
        // A withdrawal expires too: deposit 10 at 2 s, spend them all at
        // 2.5 s, deposit 4 more at 3.2 s. At 3.4 s the spend still counts
        // (4000 - 10000 + ... < cost); at 3.5 s it has expired with the
        // 2 s deposits, leaving the 3.2 s ones.
        for _ in 0..10 {
            b.on_request(2 * NS_PER_S);
        }
        let spent = (0..10)
            .filter(|_| b.try_withdraw(2_500 * NS_PER_MS))
            .count();
        assert_eq!(spent, 5);
        assert_eq!(b.balance(2_500 * NS_PER_MS), 0);
        for _ in 0..4 {
            b.on_request(3_200 * NS_PER_MS);
        }
        assert_eq!(b.balance(3_400 * NS_PER_MS), 0);
        assert_eq!(b.balance(3_500 * NS_PER_MS), 2);
    }

    #[test]
    fn a_steady_storm_is_held_to_ratio_times_rate_plus_the_minimum() {
        // 100 requests per second for 60 s, each wanting 3 retries; ratio
        // 0.2, minimum 5/s, ttl 10 s (1 s slices). In every 10 s window the
        // withdrawals cannot exceed its deposits plus the reserve (200 + 50
        // retries), and since the callers always want more, the balance left
        // after each request is below one retry: at least 249 per window.
        // Six disjoint windows: between 6 × 249 and 6 × 250.
        let mut b = budget(0.2, 5, "10s");
        let mut allowed = 0;
        for s in 0..60 {
            allowed += storm(&mut b, s * NS_PER_S, 100, 3);
        }
        assert!((6 * 249..=6 * 250).contains(&allowed), "{allowed}");
    }

    #[test]
    fn validation_names_the_field() {
        let bad = |f: BudgetFile| f.validate().unwrap_err().0;
        assert_eq!(
            bad(BudgetFile {
                ratio: Some(-1.0),
                ..Default::default()
            }),
            "ratio"
        );
        assert_eq!(
            bad(BudgetFile {
                ratio: Some(f64::INFINITY),
                ..Default::default()
            }),
            "ratio"
        );
        assert_eq!(
            bad(BudgetFile {
                ttl: Some("0".into()),
                ..Default::default()
            }),
            "ttl"
        );
        assert_eq!(
            bad(BudgetFile {
                ttl: Some("2m".into()),
                ..Default::default()
            }),
            "ttl"
        );
    }

    #[test]
    fn initial_tokens_allow_retries_before_any_traffic_then_expire() {
        let cfg = BudgetFile {
            ratio: Some(0.1),
            min_retries_per_second: Some(0),
            ttl: Some("10s".into()),
            initial: Some(3),
        }
        .validate()
        .unwrap();
        let mut b = RetryBudget::new(cfg);
        assert_eq!(b.balance(0), 3);
        assert!((0..3).all(|_| b.try_withdraw(NS_PER_S)));
        assert!(!b.try_withdraw(NS_PER_S), "three, then none");
        let mut late = RetryBudget::new(cfg);
        assert_eq!(late.balance(11 * NS_PER_S), 0, "expired with the ttl");
        assert!(!late.try_withdraw(11 * NS_PER_S));
    }
}
