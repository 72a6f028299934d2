//! Token-bucket rate limiter (Envoy's local rate limit, Guava's bursty
//! `RateLimiter`): tokens accrue at `rate` per second up to `burst`; a
//! request takes one token or is turned away. The bucket starts full, as
//! Envoy's does.
//!
//! Exact in integer time: the rate is held in micro-tokens per second
//! (resolution 0.000001 per second) and the bucket in units of 10⁻¹⁵ token,
//! so `elapsed_ns × rate_micro` is the exact refill; no rounding error ever
//! accumulates, however often the bucket is asked.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{FieldError, err};
use crate::time::{NS_PER_S, Nanos};

/// Units of the bucket per token: 10⁶ (micro-tokens) × 10⁹ (per ns).
const UNITS_PER_TOKEN: u128 = 1_000_000 * NS_PER_S as u128;

/// A rate limit as written in a scenario.
#[derive(Deserialize, Serialize, JsonSchema, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct RateLimitFile {
    /// Requests admitted per second, on average (may be fractional,
    /// e.g. 0.5).
    pub rate: f64,
    /// Requests that may pass at once after a quiet spell (default: one
    /// second's worth, `rate` rounded up, at least 1).
    #[serde(default)]
    pub burst: Option<u32>,
}

/// A validated rate limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimitConfig {
    /// Tokens per second × 10⁶.
    pub rate_micro: u64,
    pub burst: u32,
}

impl RateLimitFile {
    pub fn validate(&self) -> Result<RateLimitConfig, FieldError> {
        let rate = self.rate;
        if !rate.is_finite() || rate <= 0.0 {
            return err(
                "rate",
                format!("must be more than 0 per second, got {rate}"),
            );
        }
        if rate > 1e9 {
            return err(
                "rate",
                format!("must be at most 1e9 per second, got {rate}"),
            );
        }
        let rate_micro = (rate * 1e6).round() as u64;
        if rate_micro == 0 {
            return err(
                "rate",
                format!("must be at least 0.000001 per second, got {rate}"),
            );
        }
        let burst = match self.burst {
            None => (rate.ceil() as u32).max(1),
            Some(0) => return err("burst", "must be at least 1"),
            Some(b) => b,
        };
        Ok(RateLimitConfig { rate_micro, burst })
    }
}

/// One token bucket.
#[derive(Clone, Debug)]
pub struct RateLimiter {
    cfg: RateLimitConfig,
    units: u128,
    capacity: u128,
    last: Nanos,
    admitted: u64,
    limited: u64,
}

impl RateLimiter {
    /// A full bucket at time 0.
    pub fn new(cfg: RateLimitConfig) -> RateLimiter {
        let capacity = u128::from(cfg.burst) * UNITS_PER_TOKEN;
        RateLimiter {
            cfg,
            units: capacity,
            capacity,
            last: 0,
            admitted: 0,
            limited: 0,
        }
    }

    fn refill(&mut self, now: Nanos) {
        if now > self.last {
            let add = u128::from(now - self.last) * u128::from(self.cfg.rate_micro);
            self.units = (self.units + add).min(self.capacity);
            self.last = now;
        }
    }

    /// Takes one token at `now`; `false` = rate limited.
    pub fn try_acquire(&mut self, now: Nanos) -> bool {
        self.refill(now);
        if self.units >= UNITS_PER_TOKEN {
            self.units -= UNITS_PER_TOKEN;
            self.admitted += 1;
            true
        } else {
            self.limited += 1;
            false
        }
    }

    /// Whole tokens in the bucket at `now`.
    pub fn available(&mut self, now: Nanos) -> u32 {
        self.refill(now);
        (self.units / UNITS_PER_TOKEN) as u32
    }

    /// The earliest time, from `now`, at which a token is there.
    pub fn next_token_at(&mut self, now: Nanos) -> Nanos {
        self.refill(now);
        if self.units >= UNITS_PER_TOKEN {
            return now;
        }
        let missing = UNITS_PER_TOKEN - self.units;
        let rate = u128::from(self.cfg.rate_micro);
        let wait = missing.div_ceil(rate);
        now.saturating_add(u64::try_from(wait).unwrap_or(u64::MAX))
    }

    /// (admitted, rate limited) so far.
    pub fn counts(&self) -> (u64, u64) {
        (self.admitted, self.limited)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::NS_PER_MS;

    fn limiter(rate: f64, burst: Option<u32>) -> RateLimiter {
        RateLimiter::new(RateLimitFile { rate, burst }.validate().unwrap())
    }

    #[test]
    fn burst_then_the_rate() {
        let mut l = limiter(10.0, Some(5));
        // Full bucket: 5 pass at once, the 6th does not.
        assert_eq!((0..6).filter(|_| l.try_acquire(0)).count(), 5);
        // One token every 100 ms, exactly.
        assert!(!l.try_acquire(100 * NS_PER_MS - 1));
        assert!(l.try_acquire(100 * NS_PER_MS));
        assert!(!l.try_acquire(100 * NS_PER_MS));
        assert_eq!(l.next_token_at(150 * NS_PER_MS), 200 * NS_PER_MS);
        // Over 10 s of requests every millisecond: 10 per second exactly.
        let mut passed = 0;
        for ms in 101..=10_100 {
            passed += u32::from(l.try_acquire(ms * NS_PER_MS));
        }
        assert_eq!(passed, 100);
        assert_eq!(l.counts().0, 106);
    }

    #[test]
    fn fractional_rates_are_exact_over_time() {
        // 1/3 per second, asked every 9 ms for 9000 s: no token is lost to
        // the cap (burst 2, emptied at 0) and none to rounding, whatever
        // the number of asks.
        let mut l = limiter(1.0 / 3.0, Some(2));
        assert!(l.try_acquire(0) && l.try_acquire(0));
        let mut passed = 0;
        let step = 9 * NS_PER_S / 1_000;
        for i in 1..=1_000_000u64 {
            passed += u64::from(l.try_acquire(i * step));
        }
        // 9000 s × 0.333333 per second (the micro-token resolution)
        // = 2999.997 tokens.
        assert_eq!(passed, 2_999);
        // With a bucket of 1 a token that is complete waits up to 9 ms
        // for the next ask, and that accrual is lost at the cap.
        let mut l = limiter(1.0 / 3.0, Some(1));
        let passed = (1..=1_000_000u64)
            .filter(|i| l.try_acquire(i * step))
            .count();
        assert!(passed < 3_000, "{passed}");
    }

    #[test]
    fn the_bucket_never_holds_more_than_the_burst() {
        let mut l = limiter(1000.0, None);
        assert_eq!(l.available(0), 1000);
        assert_eq!(l.available(3600 * NS_PER_S), 1000);
    }

    #[test]
    fn validation_names_the_field() {
        let bad = |rate, burst| RateLimitFile { rate, burst }.validate().unwrap_err().0;
        assert_eq!(bad(0.0, None), "rate");
        assert_eq!(bad(-5.0, None), "rate");
        assert_eq!(bad(f64::NAN, None), "rate");
        assert_eq!(bad(1e-9, None), "rate");
        assert_eq!(bad(10.0, Some(0)), "burst");
        let c = RateLimitFile {
            rate: 2.5,
            burst: None,
        }
        .validate()
        .unwrap();
        assert_eq!(c.burst, 3);
    }
}
