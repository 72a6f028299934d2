//! Adaptive concurrency limits, after Netflix's concurrency-limits:
//! the service admits a request while fewer than `limit()` are in flight,
//! and each finished request is a sample (`on_sample`) that moves the limit.
//!
//! - **AIMD** (`AIMDLimit`): a drop (rejected or timed-out request) or an
//!   RTT above `timeout` multiplies the limit by `backoff_ratio` (truncated
//!   to an integer); otherwise the limit grows by 1 when the service is
//!   busy enough (`inflight × 2 >= limit`). Always within
//!   [`min_limit`, `max_limit`].
//! - **Gradient2** (`Gradient2Limit` behind a `WindowedLimit`): samples
//!   shorter than `min_rtt_threshold` are ignored; the rest are gathered in
//!   a short window that closes at the first sample after
//!   `clamp(2 × window min RTT, min_window_time, max_window_time)` from the
//!   last close and counts only if it holds `window_size` samples; its
//!   *average* RTT is the short RTT. The long RTT is an exponential average
//!   over `long_window` windows (a plain mean for the first 10), pulled
//!   down 5 % whenever it is more than twice the short RTT. The limit moves
//!   by `gradient = clamp(rtt_tolerance × long / short, 0.5, 1)`:
//!   `new = limit × gradient + queue_size`, smoothed by `smoothing`, and is
//!   left alone while the service is idle (`max inflight < limit / 2`).
//!
//! All arithmetic is IEEE `f64` additions, multiplications and divisions,
//! so identical on every platform.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{FieldError, at_least, err, finite, positive_duration};
use crate::time::{NS_PER_S, NS_PER_US, Nanos};

/// Which limit algorithm.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum LimitAlgorithm {
    /// Additive increase, multiplicative decrease on drops.
    Aimd,
    /// Gradient of long to short RTT, as Netflix's Gradient2Limit.
    Gradient2,
}

/// An adaptive concurrency limit as written in a scenario. Parameters not
/// used by the chosen algorithm are errors.
#[derive(Deserialize, Serialize, JsonSchema, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct ConcurrencyLimitFile {
    /// "aimd" or "gradient2".
    pub algorithm: LimitAlgorithm,
    /// Limit at the start (default 20).
    #[serde(default)]
    pub initial_limit: Option<u32>,
    /// Lowest limit (default 20, the library's: set it lower, or the limit
    /// can never fall below its start).
    #[serde(default)]
    pub min_limit: Option<u32>,
    /// Highest limit (default 200; Gradient2's maxConcurrency).
    #[serde(default)]
    pub max_limit: Option<u32>,
    /// aimd: factor applied to the limit on a drop, in [0.5, 1) (default 0.9).
    #[serde(default)]
    pub backoff_ratio: Option<f64>,
    /// aimd: an RTT longer than this counts as a drop (default "5s").
    #[serde(default)]
    pub timeout: Option<String>,
    /// gradient2: weight of a new estimate, in (0, 1] (default 0.2).
    #[serde(default)]
    pub smoothing: Option<f64>,
    /// gradient2: how much longer than the long RTT the short RTT may be
    /// before the limit falls, at least 1 (default 1.5).
    #[serde(default)]
    pub rtt_tolerance: Option<f64>,
    /// gradient2: windows averaged into the long RTT (default 600).
    #[serde(default)]
    pub long_window: Option<u32>,
    /// gradient2: extra requests allowed to queue above the estimate
    /// (default 4).
    #[serde(default)]
    pub queue_size: Option<u32>,
    /// gradient2: samples a short window needs to count (default 10).
    #[serde(default)]
    pub window_size: Option<u32>,
    /// gradient2: shortest short window (default "1s").
    #[serde(default)]
    pub min_window_time: Option<String>,
    /// gradient2: longest short window (default "1s").
    #[serde(default)]
    pub max_window_time: Option<String>,
    /// gradient2: samples shorter than this are ignored (default "100us").
    #[serde(default)]
    pub min_rtt_threshold: Option<String>,
}

/// Gradient2's validated parameters.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Gradient2Params {
    pub smoothing: f64,
    pub rtt_tolerance: f64,
    pub long_window: u32,
    pub queue_size: u32,
    pub window_size: u32,
    pub min_window_time: Nanos,
    pub max_window_time: Nanos,
    pub min_rtt_threshold: Nanos,
}

/// The algorithm and its own parameters.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum LimitParams {
    Aimd { backoff_ratio: f64, timeout: Nanos },
    Gradient2(Gradient2Params),
}

/// A validated adaptive limit.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ConcurrencyLimitConfig {
    pub initial_limit: u32,
    pub min_limit: u32,
    pub max_limit: u32,
    pub params: LimitParams,
}

impl ConcurrencyLimitFile {
    pub fn validate(&self) -> Result<ConcurrencyLimitConfig, FieldError> {
        let min_limit = at_least("min_limit", self.min_limit, 20, 1)?;
        let max_limit = at_least("max_limit", self.max_limit, 200, 1)?;
        if max_limit < min_limit {
            return err(
                "max_limit",
                format!("must not be below min_limit ({min_limit}), got {max_limit}"),
            );
        }
        let initial_limit = self.initial_limit.unwrap_or(20);
        if !(min_limit..=max_limit).contains(&initial_limit) {
            return err(
                "initial_limit",
                format!(
                    "must be between min_limit ({min_limit}) and max_limit ({max_limit}), got {initial_limit}"
                ),
            );
        }
        let aimd_only = [
            ("backoff_ratio", self.backoff_ratio.is_some()),
            ("timeout", self.timeout.is_some()),
        ];
        let gradient_only = [
            ("smoothing", self.smoothing.is_some()),
            ("rtt_tolerance", self.rtt_tolerance.is_some()),
            ("long_window", self.long_window.is_some()),
            ("queue_size", self.queue_size.is_some()),
            ("window_size", self.window_size.is_some()),
            ("min_window_time", self.min_window_time.is_some()),
            ("max_window_time", self.max_window_time.is_some()),
            ("min_rtt_threshold", self.min_rtt_threshold.is_some()),
        ];
        let (foreign, name) = match self.algorithm {
            LimitAlgorithm::Aimd => (&gradient_only[..], "gradient2"),
            LimitAlgorithm::Gradient2 => (&aimd_only[..], "aimd"),
        };
        if let Some((field, _)) = foreign.iter().find(|(_, set)| *set) {
            return err(field, format!("applies to algorithm = \"{name}\" only"));
        }
        let params = match self.algorithm {
            LimitAlgorithm::Aimd => {
                let backoff_ratio = finite("backoff_ratio", self.backoff_ratio, 0.9)?;
                if !(0.5..1.0).contains(&backoff_ratio) {
                    return err(
                        "backoff_ratio",
                        format!("must be at least 0.5 and below 1, got {backoff_ratio}"),
                    );
                }
                LimitParams::Aimd {
                    backoff_ratio,
                    timeout: positive_duration("timeout", self.timeout.as_ref(), 5 * NS_PER_S)?,
                }
            }
            LimitAlgorithm::Gradient2 => {
                let smoothing = finite("smoothing", self.smoothing, 0.2)?;
                if !(smoothing > 0.0 && smoothing <= 1.0) {
                    return err(
                        "smoothing",
                        format!("must be more than 0 and at most 1, got {smoothing}"),
                    );
                }
                let rtt_tolerance = finite("rtt_tolerance", self.rtt_tolerance, 1.5)?;
                if rtt_tolerance < 1.0 {
                    return err(
                        "rtt_tolerance",
                        format!("must be at least 1, got {rtt_tolerance}"),
                    );
                }
                let min_window_time =
                    positive_duration("min_window_time", self.min_window_time.as_ref(), NS_PER_S)?;
                let max_window_time =
                    positive_duration("max_window_time", self.max_window_time.as_ref(), NS_PER_S)?;
                if max_window_time < min_window_time {
                    return err(
                        "max_window_time",
                        "must not be shorter than min_window_time",
                    );
                }
                LimitParams::Gradient2(Gradient2Params {
                    smoothing,
                    rtt_tolerance,
                    long_window: at_least("long_window", self.long_window, 600, 1)?,
                    queue_size: self.queue_size.unwrap_or(4),
                    window_size: at_least("window_size", self.window_size, 10, 1)?,
                    min_window_time,
                    max_window_time,
                    min_rtt_threshold: super::duration(
                        "min_rtt_threshold",
                        self.min_rtt_threshold.as_ref(),
                        100 * NS_PER_US,
                    )?,
                })
            }
        };
        Ok(ConcurrencyLimitConfig {
            initial_limit,
            min_limit,
            max_limit,
            params,
        })
    }
}

/// Exponential average with a plain-mean warm-up (Netflix's
/// `ExpAvgMeasurement`).
#[derive(Clone, Copy, Debug)]
struct ExpAvg {
    value: f64,
    sum: f64,
    count: u32,
    factor: f64,
}

const WARMUP: u32 = 10;

impl ExpAvg {
    fn new(window: u32) -> ExpAvg {
        ExpAvg {
            value: 0.0,
            sum: 0.0,
            count: 0,
            factor: 2.0 / (f64::from(window) + 1.0),
        }
    }

    fn add(&mut self, sample: f64) -> f64 {
        if self.count < WARMUP {
            self.count += 1;
            self.sum += sample;
            self.value = self.sum / f64::from(self.count);
        } else {
            self.value = self.value * (1.0 - self.factor) + sample * self.factor;
        }
        self.value
    }
}

/// The short window being gathered (Netflix's average sample window).
#[derive(Clone, Copy, Debug)]
struct SampleWindow {
    min_rtt: Nanos,
    sum: u128,
    max_inflight: u32,
    count: u32,
    dropped: bool,
}

impl SampleWindow {
    const EMPTY: SampleWindow = SampleWindow {
        min_rtt: Nanos::MAX,
        sum: 0,
        max_inflight: 0,
        count: 0,
        dropped: false,
    };
}

#[derive(Clone, Debug)]
enum State {
    Aimd {
        limit: u32,
    },
    Gradient2 {
        estimated: f64,
        long_rtt: ExpAvg,
        window: SampleWindow,
        next_update: Nanos,
    },
}

/// One adaptive limiter (per service replica).
#[derive(Clone, Debug)]
pub struct ConcurrencyLimiter {
    cfg: ConcurrencyLimitConfig,
    state: State,
    samples: u64,
    changes: u64,
}

impl ConcurrencyLimiter {
    pub fn new(cfg: ConcurrencyLimitConfig) -> ConcurrencyLimiter {
        let state = match cfg.params {
            LimitParams::Aimd { .. } => State::Aimd {
                limit: cfg.initial_limit,
            },
            LimitParams::Gradient2(g) => State::Gradient2 {
                estimated: f64::from(cfg.initial_limit),
                long_rtt: ExpAvg::new(g.long_window),
                window: SampleWindow::EMPTY,
                next_update: 0,
            },
        };
        ConcurrencyLimiter {
            cfg,
            state,
            samples: 0,
            changes: 0,
        }
    }

    /// Requests allowed in flight now.
    pub fn limit(&self) -> u32 {
        match &self.state {
            State::Aimd { limit } => *limit,
            // Netflix truncates the estimate to an int.
            State::Gradient2 { estimated, .. } => *estimated as u32,
        }
    }

    /// Whether one more request may start with `inflight` already running.
    pub fn admits(&self, inflight: u32) -> bool {
        inflight < self.limit()
    }

    /// A request finished at `now` after `rtt`, with `inflight` requests in
    /// flight when it started; `dropped` if it was rejected or timed out.
    pub fn on_sample(&mut self, now: Nanos, rtt: Nanos, inflight: u32, dropped: bool) {
        self.samples += 1;
        let before = self.limit();
        let (min, max) = (self.cfg.min_limit, self.cfg.max_limit);
        match (&mut self.state, self.cfg.params) {
            (
                State::Aimd { limit },
                LimitParams::Aimd {
                    backoff_ratio,
                    timeout,
                },
            ) => {
                let mut l = *limit;
                if dropped || rtt > timeout {
                    l = (f64::from(l) * backoff_ratio) as u32;
                } else if u64::from(inflight) * 2 >= u64::from(l) {
                    l += 1;
                }
                *limit = l.clamp(min, max);
            }
            (
                State::Gradient2 {
                    estimated,
                    long_rtt,
                    window,
                    next_update,
                },
                LimitParams::Gradient2(g),
            ) => {
                if rtt < g.min_rtt_threshold {
                    return;
                }
                window.min_rtt = window.min_rtt.min(rtt);
                window.sum += u128::from(rtt);
                window.max_inflight = window.max_inflight.max(inflight);
                window.count += 1;
                window.dropped |= dropped;
                if now <= *next_update {
                    return;
                }
                let w = std::mem::replace(window, SampleWindow::EMPTY);
                *next_update = now.saturating_add(
                    w.min_rtt
                        .saturating_mul(2)
                        .clamp(g.min_window_time, g.max_window_time),
                );
                if w.count < g.window_size {
                    return;
                }
                let short = (w.sum / u128::from(w.count)) as f64;
                *estimated =
                    gradient2_update(*estimated, long_rtt, short, w.max_inflight, &g, min, max);
            }
            _ => unreachable!("state built from the same params"),
        }
        if self.limit() != before {
            self.changes += 1;
        }
    }

    /// (samples seen, limit changes).
    pub fn counts(&self) -> (u64, u64) {
        (self.samples, self.changes)
    }
}

/// One step of Netflix's `Gradient2Limit._update`.
fn gradient2_update(
    estimated: f64,
    long_rtt: &mut ExpAvg,
    short: f64,
    inflight: u32,
    g: &Gradient2Params,
    min: u32,
    max: u32,
) -> f64 {
    let queue = f64::from(g.queue_size);
    let long = long_rtt.add(short);
    if long / short > 2.0 {
        long_rtt.value *= 0.95;
    }
    if f64::from(inflight) < estimated / 2.0 {
        return estimated;
    }
    let gradient = (g.rtt_tolerance * long / short).clamp(0.5, 1.0);
    let new = estimated * gradient + queue;
    let new = estimated * (1.0 - g.smoothing) + new * g.smoothing;
    new.clamp(f64::from(min), f64::from(max))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::NS_PER_MS;

    fn file(algorithm: LimitAlgorithm) -> ConcurrencyLimitFile {
        ConcurrencyLimitFile {
            algorithm,
            initial_limit: None,
            min_limit: None,
            max_limit: None,
            backoff_ratio: None,
            timeout: None,
            smoothing: None,
            rtt_tolerance: None,
            long_window: None,
            queue_size: None,
            window_size: None,
            min_window_time: None,
            max_window_time: None,
            min_rtt_threshold: None,
        }
    }

    fn aimd(initial: u32, min: u32, max: u32) -> ConcurrencyLimiter {
        let mut f = file(LimitAlgorithm::Aimd);
        f.initial_limit = Some(initial);
        f.min_limit = Some(min);
        f.max_limit = Some(max);
        f.backoff_ratio = Some(0.5);
        ConcurrencyLimiter::new(f.validate().unwrap())
    }

    const MS: Nanos = NS_PER_MS;

    #[test]
    fn defaults_are_netflix_s() {
        let c = file(LimitAlgorithm::Aimd).validate().unwrap();
        assert_eq!((c.initial_limit, c.min_limit, c.max_limit), (20, 20, 200));
        assert_eq!(
            c.params,
            LimitParams::Aimd {
                backoff_ratio: 0.9,
                timeout: 5 * NS_PER_S
            }
        );
        let c = file(LimitAlgorithm::Gradient2).validate().unwrap();
        let LimitParams::Gradient2(g) = c.params else {
            panic!("gradient2 params expected")
        };
        assert_eq!(g.smoothing, 0.2);
        assert_eq!(g.rtt_tolerance, 1.5);
        assert_eq!(g.long_window, 600);
        assert_eq!(g.queue_size, 4);
        assert_eq!(g.window_size, 10);
        assert_eq!(g.min_window_time, NS_PER_S);
        assert_eq!(g.max_window_time, NS_PER_S);
        assert_eq!(g.min_rtt_threshold, 100 * NS_PER_US);
    }

    #[test]
    fn aimd_halves_on_a_drop_and_grows_by_one_when_busy() {
        let mut l = aimd(40, 5, 100);
        assert_eq!(l.limit(), 40);
        // Busy (inflight × 2 >= limit): +1 per success.
        l.on_sample(0, MS, 20, false);
        assert_eq!(l.limit(), 41);
        l.on_sample(0, MS, 21, false);
        assert_eq!(l.limit(), 42);
        // Idle (inflight below half the limit): unchanged.
        l.on_sample(0, MS, 20, false);
        assert_eq!(l.limit(), 42);
        // A drop: × 0.5.
        l.on_sample(0, MS, 42, true);
        assert_eq!(l.limit(), 21);
        // An RTT over the timeout (5 s) counts as a drop; 5 s itself not.
        l.on_sample(0, 5 * NS_PER_S, 21, false);
        assert_eq!(l.limit(), 22);
        l.on_sample(0, 5 * NS_PER_S + 1, 21, false);
        assert_eq!(l.limit(), 11);
        // Never below min_limit, never above max_limit.
        for _ in 0..10 {
            l.on_sample(0, MS, 0, true);
        }
        assert_eq!(l.limit(), 5);
        for _ in 0..1000 {
            let cur = l.limit();
            l.on_sample(0, MS, cur, false);
        }
        assert_eq!(l.limit(), 100);
        assert!(l.admits(99) && !l.admits(100));
    }

    #[test]
    fn aimd_truncates_like_the_library() {
        // Netflix: (int) (limit * 0.9); 25 * 0.9 = 22.5 -> 22.
        let mut f = file(LimitAlgorithm::Aimd);
        f.initial_limit = Some(25);
        f.min_limit = Some(1);
        let mut l = ConcurrencyLimiter::new(f.validate().unwrap());
        l.on_sample(0, MS, 25, true);
        assert_eq!(l.limit(), 22);
    }

    fn gradient(initial: u32) -> ConcurrencyLimiter {
        let mut f = file(LimitAlgorithm::Gradient2);
        f.initial_limit = Some(initial);
        f.min_limit = Some(1);
        f.max_limit = Some(1000);
        ConcurrencyLimiter::new(f.validate().unwrap())
    }

    /// One window per second of `n` samples of `rtt` at `inflight`.
    fn feed(l: &mut ConcurrencyLimiter, seconds: std::ops::Range<u64>, rtt: Nanos, inflight: u32) {
        for s in seconds {
            for i in 0..20 {
                l.on_sample(s * NS_PER_S + i * MS + 1, rtt, inflight, false);
            }
        }
    }

    #[test]
    fn gradient2_grows_while_latency_is_steady_and_falls_when_it_rises() {
        let mut l = gradient(50);
        // Steady 10 ms at full use: gradient 1, so each window adds
        // smoothing × queue_size = 0.8 to the estimate.
        feed(&mut l, 0..30, 10 * MS, 1000);
        let grown = l.limit();
        assert!(grown > 60, "grew to {grown}");
        // Latency jumps to 40 ms: long/short falls, gradient hits 0.5, the
        // limit falls.
        feed(&mut l, 30..60, 40 * MS, 1000);
        let fallen = l.limit();
        assert!(fallen < grown / 2, "{grown} -> {fallen}");
        assert!(l.counts().1 > 0);
    }

    #[test]
    fn gradient2_exact_first_steps() {
        let mut l = gradient(50);
        // The first sample closes the (empty) first window at once; it has
        // 1 sample < 10, so it is discarded. Then windows close every 1 s.
        feed(&mut l, 0..1, 10 * MS, 1000);
        assert_eq!(l.limit(), 50);
        // That first close (at 1 ns) set the next for 1 s + 1 ns: a sample
        // at exactly that time does not close the window (Netflix: end
        // time *after* the update time), the next one does, with 21:
        // long = short = 10 ms, gradient min(1, 1.5) = 1, new = 50 + 4,
        // smoothed 50 × 0.8 + 54 × 0.2 = 50.8.
        l.on_sample(NS_PER_S + 1, 10 * MS, 1000, false);
        assert_eq!(l.counts(), (21, 0));
        let State::Gradient2 { estimated, .. } = l.state else {
            panic!("gradient2 state expected")
        };
        assert_eq!(estimated, 50.0);
        l.on_sample(NS_PER_S + 2, 10 * MS, 1000, false);
        let State::Gradient2 { estimated, .. } = l.state else {
            panic!("gradient2 state expected")
        };
        assert_eq!(estimated, 50.0 * (1.0 - 0.2) + (50.0 + 4.0) * 0.2);
        assert_eq!(l.limit(), 50);
    }

    #[test]
    fn gradient2_ignores_idle_windows_and_tiny_rtts() {
        let mut l = gradient(50);
        feed(&mut l, 0..20, 10 * MS, 10); // 10 < 50 / 2: app limited
        assert_eq!(l.limit(), 50);
        let mut l = gradient(50);
        feed(&mut l, 0..20, 50 * NS_PER_US, 1000); // below 100 µs
        assert_eq!(l.limit(), 50);
        assert_eq!(l.counts(), (400, 0));
    }

    #[test]
    fn validation_names_the_field() {
        let mut f = file(LimitAlgorithm::Aimd);
        f.backoff_ratio = Some(1.0);
        assert_eq!(f.validate().unwrap_err().0, "backoff_ratio");
        let mut f = file(LimitAlgorithm::Aimd);
        f.smoothing = Some(0.5);
        let e = f.validate().unwrap_err();
        assert_eq!(e.0, "smoothing");
        assert!(e.1.contains("gradient2"), "{}", e.1);
        let mut f = file(LimitAlgorithm::Gradient2);
        f.rtt_tolerance = Some(0.9);
        assert_eq!(f.validate().unwrap_err().0, "rtt_tolerance");
        let mut f = file(LimitAlgorithm::Gradient2);
        f.smoothing = Some(0.0);
        assert_eq!(f.validate().unwrap_err().0, "smoothing");
        let mut f = file(LimitAlgorithm::Gradient2);
        f.initial_limit = Some(10);
        assert_eq!(f.validate().unwrap_err().0, "initial_limit");
        let mut f = file(LimitAlgorithm::Gradient2);
        f.max_limit = Some(10);
        assert_eq!(f.validate().unwrap_err().0, "max_limit");
        let e =
            toml_edit::de::from_str::<ConcurrencyLimitFile>("algorithm = \"vegas\"").unwrap_err();
        assert!(e.to_string().contains("unknown variant `vegas`"), "{e}");
    }
}
