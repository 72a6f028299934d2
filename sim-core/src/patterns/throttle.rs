//! Client-side adaptive throttling (Google's SRE book, "Handling
//! Overload"; Envoy's admission control filter): the caller itself turns
//! an attempt away with probability
//! `max(0, (requests − k × accepts) / (requests + 1))`, where `requests`
//! counts the attempts it meant to send over the last `window` (those it
//! turned away included) and `accepts` those the callee answered with
//! success. A healthy callee (accepts ≥ requests / k) is never throttled;
//! a failing one gets a trickle, so the caller stops spending its own
//! threads and the callee's on work that fails anyway.
//!
//! With a constant offer of `R` attempts a second of which a share `s`
//! succeed when sent, the steady state sends a share
//! `1 / (1 + R × window × (1 − k × s))` of them when `k × s < 1` (none
//! turned away otherwise).
//!
//! Below `min_requests` in the window nothing is turned away (a cold
//! caller). Near `k × s = 1` the throttle settles slowly: a share turned
//! away early feeds itself for several windows.
//!
//! One throttle per caller replica and call edge; counts in a ring of 10
//! time slices of `window / 10` (a count lasts 0.9 to 1 × `window`). Owns
//! the counting and the probability; must not draw (the engine does, from
//! its own stream) or know about calls.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::window::{SLICES, WindowCounts};
use super::{FieldError, err, positive_duration};
use crate::time::{NS_PER_S, Nanos};

#[derive(Deserialize, Serialize, JsonSchema, Debug, Clone, Default)]
#[serde(deny_unknown_fields)]
pub struct ThrottleFile {
    /// The multiplier on accepts: attempts go out freely while
    /// `requests < k × accepts` (default 2, the SRE book's).
    #[serde(default)]
    pub k: Option<f64>,
    /// How far back requests and accepts count (default 120s, the SRE
    /// book's two minutes).
    #[serde(default)]
    pub window: Option<String>,
    /// No attempt is turned away while the window holds fewer requests
    /// than this (default 10), as Envoy's admission control below its
    /// `rps_threshold`: the formula alone would turn away a cold caller's
    /// first attempt with probability 1/2.
    #[serde(default)]
    pub min_requests: Option<u32>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ThrottleConfig {
    pub k: f64,
    pub window: Nanos,
    pub min_requests: u32,
}

impl ThrottleFile {
    pub fn validate(&self) -> Result<ThrottleConfig, FieldError> {
        let k = self.k.unwrap_or(2.0);
        if !(k.is_finite() && (1.0..=100.0).contains(&k)) {
            return err("k", format!("must be a multiplier from 1 to 100, got {k}"));
        }
        let window = positive_duration("window", self.window.as_ref(), 120 * NS_PER_S)?;
        if window < SLICES as Nanos {
            return err("window", "must be at least 10ns");
        }
        Ok(ThrottleConfig {
            k,
            window,
            min_requests: self.min_requests.unwrap_or(10),
        })
    }
}

/// The live throttle of one caller replica on one edge.
#[derive(Clone, Debug)]
pub struct Throttle {
    k: f64,
    min_requests: u64,
    /// (requests, accepts) over the window.
    counts: WindowCounts,
}

impl Throttle {
    pub fn new(cfg: ThrottleConfig) -> Throttle {
        Throttle {
            k: cfg.k,
            min_requests: u64::from(cfg.min_requests),
            counts: WindowCounts::new(cfg.window),
        }
    }

    /// The caller means to send an attempt at `now`: it counts as a
    /// request, and the probability it is turned away is returned.
    pub fn request(&mut self, now: Nanos) -> f64 {
        self.counts.add(now, 1, 0);
        let (req, acc) = self.counts.sums(now);
        if req < self.min_requests {
            return 0.0;
        }
        ((req as f64 - self.k * acc as f64) / (req as f64 + 1.0)).max(0.0)
    }

    /// The callee answered an attempt with success at `now`.
    pub fn accepted(&mut self, now: Nanos) {
        self.counts.add(now, 0, 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn throttle() -> Throttle {
        Throttle::new(
            ThrottleFile {
                window: Some("10s".into()),
                min_requests: Some(0),
                ..Default::default()
            }
            .validate()
            .unwrap(),
        )
    }

    #[test]
    fn the_sre_books_formula() {
        let mut t = throttle();
        // 10 requests, 4 accepted: the 11th is turned away with
        // probability (11 − 2 × 4) / 12.
        for i in 0..10 {
            t.request(i);
            if i < 4 {
                t.accepted(i);
            }
        }
        assert!((t.request(10) - 3.0 / 12.0).abs() < 1e-12);
        // Cold, the formula alone turns the first attempt away half the
        // time; `min_requests` (default 10) holds it off.
        assert_eq!(throttle().request(0), 0.5);
        // Healthy: accepts keep up, never throttled.
        let mut t = Throttle::new(ThrottleFile::default().validate().unwrap());
        for i in 0..100 {
            assert_eq!(t.request(i), 0.0);
            t.accepted(i);
        }
    }

    #[test]
    fn counts_leave_the_window() {
        let mut t = throttle();
        for i in 0..50 {
            t.request(i);
        }
        assert!(t.request(50) > 0.9);
        // 10 s later every count has left: a fresh start.
        assert_eq!(t.request(10 * NS_PER_S + 100), 0.5);
    }

    #[test]
    fn bad_settings_name_their_field() {
        let e = ThrottleFile {
            k: Some(0.5),
            ..Default::default()
        }
        .validate()
        .unwrap_err();
        assert_eq!(e.0, "k");
        let e = ThrottleFile {
            window: Some("0s".into()),
            ..Default::default()
        }
        .validate()
        .unwrap_err();
        assert_eq!(e.0, "window");
    }
}
