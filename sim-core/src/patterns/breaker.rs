//! Circuit breaker, Resilience4j's model (`CircuitBreakerStateMachine`).
//!
//! States closed, open and half-open:
//! - **closed** admits every call and records each result in a sliding
//!   window: the last `sliding_window_size` calls (count based) or the calls
//!   of the last `sliding_window_size` whole seconds (time based, one bucket
//!   per second of simulated time). After each result, once the window
//!   holds at least `minimum_number_of_calls` (for a count-based window, at
//!   most its size), the breaker opens if the failure rate *reaches*
//!   `failure_rate_threshold` or the slow-call rate reaches
//!   `slow_call_rate_threshold` (Resilience4j compares with `>=`). A call is
//!   slow when it took *longer* than `slow_call_duration_threshold`, failed
//!   or not.
//! - **open** fails every call fast (counted as not permitted) until
//!   `wait_duration_in_open_state` has elapsed; the first call to ask for a
//!   permission at or after that moment moves the breaker to half-open (the
//!   lazy transition of Resilience4j), or, with
//!   `automatic_transition_from_open_to_half_open_enabled`, the breaker is
//!   half-open from that very moment (the engine schedules a wake-up at
//!   [`Breaker::next_transition_at`] and calls [`Breaker::poll`]).
//! - **half-open** admits exactly `permitted_number_of_calls_in_half_open_state`
//!   trial calls and turns the rest away; when all their results are in it
//!   closes (fresh window) or re-opens by the same thresholds. With
//!   `max_wait_duration_in_half_open_state` > 0 it re-opens if the trials
//!   take longer than that.
//!
//! One deliberate difference: Resilience4j records a late result in
//! whatever state the breaker is in when it arrives, so an old call from the
//! closed period can decide a half-open trial. Here each permission carries
//! the state period that granted it ([`Permit`]); a result from an earlier
//! period is counted as *stale* and ignored, so half-open decides on its own
//! trial calls only.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{
    FailureKind, FailureSet, FieldError, at_least, duration, err, percent, positive_duration,
};
use crate::time::{NS_PER_S, Nanos};

/// Count-based or time-based sliding window (Resilience4j `slidingWindowType`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub enum SlidingWindowType {
    /// The last `sliding_window_size` calls.
    #[default]
    #[serde(rename = "count_based", alias = "COUNT_BASED")]
    CountBased,
    /// The calls of the last `sliding_window_size` seconds.
    #[serde(rename = "time_based", alias = "TIME_BASED")]
    TimeBased,
}

/// A circuit breaker as written in a scenario (Resilience4j's parameters,
/// in snake case, with its defaults).
#[derive(Deserialize, Serialize, JsonSchema, Debug, Clone, Default)]
#[serde(deny_unknown_fields)]
pub struct BreakerFile {
    /// "count_based" (default) or "time_based".
    #[serde(default)]
    pub sliding_window_type: Option<SlidingWindowType>,
    /// Calls in a count-based window, or seconds in a time-based one
    /// (default 100).
    #[serde(default)]
    pub sliding_window_size: Option<u32>,
    /// Calls the window must hold before any rate is computed (default 100;
    /// capped at the window size when count based).
    #[serde(default)]
    pub minimum_number_of_calls: Option<u32>,
    /// Failure rate, in percent, at which the breaker opens (default 50).
    #[serde(default)]
    pub failure_rate_threshold: Option<f64>,
    /// Rate of slow calls, in percent, at which the breaker opens
    /// (default 100).
    #[serde(default)]
    pub slow_call_rate_threshold: Option<f64>,
    /// A call that takes longer than this is slow (default "60s").
    #[serde(default)]
    pub slow_call_duration_threshold: Option<String>,
    /// How long the breaker stays open before letting trial calls through
    /// (default "60s").
    #[serde(default)]
    pub wait_duration_in_open_state: Option<String>,
    /// Trial calls admitted in half-open; their failure rate decides
    /// (default 10).
    #[serde(default)]
    pub permitted_number_of_calls_in_half_open_state: Option<u32>,
    /// Longest stay in half-open before opening again; "0" waits for every
    /// trial result (default "0").
    #[serde(default)]
    pub max_wait_duration_in_half_open_state: Option<String>,
    /// Become half-open as soon as the open wait ends, rather than when the
    /// next call asks (default false).
    #[serde(default)]
    pub automatic_transition_from_open_to_half_open_enabled: Option<bool>,
    /// Outcomes recorded as failures; any other outcome counts as a success
    /// (default: every failure kind).
    #[serde(default)]
    pub record_outcomes: Option<Vec<FailureKind>>,
}

/// A validated circuit breaker configuration, in nanoseconds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BreakerConfig {
    pub sliding_window_type: SlidingWindowType,
    /// Calls, or seconds when time based.
    pub sliding_window_size: u32,
    /// Already capped at the window size when count based.
    pub minimum_number_of_calls: u32,
    /// Percent, in (0, 100].
    pub failure_rate_threshold: f64,
    /// Percent, in (0, 100].
    pub slow_call_rate_threshold: f64,
    pub slow_call_duration_threshold: Nanos,
    pub wait_duration_in_open_state: Nanos,
    pub permitted_number_of_calls_in_half_open_state: u32,
    /// `None`: wait for every trial result.
    pub max_wait_duration_in_half_open_state: Option<Nanos>,
    pub automatic_transition: bool,
    pub record_outcomes: FailureSet,
}

impl Default for BreakerConfig {
    /// Resilience4j's defaults.
    fn default() -> Self {
        BreakerFile::default()
            .validate()
            .expect("the defaults are valid")
    }
}

/// Largest window: keeps the preallocated ring bounded.
const MAX_WINDOW: u32 = 1_000_000;

impl BreakerFile {
    pub fn validate(&self) -> Result<BreakerConfig, FieldError> {
        let sliding_window_type = self.sliding_window_type.unwrap_or_default();
        let size = at_least("sliding_window_size", self.sliding_window_size, 100, 1)?;
        if size > MAX_WINDOW {
            return err(
                "sliding_window_size",
                format!("must be at most {MAX_WINDOW}, got {size}"),
            );
        }
        let min_calls = at_least(
            "minimum_number_of_calls",
            self.minimum_number_of_calls,
            100,
            1,
        )?;
        let minimum_number_of_calls = match sliding_window_type {
            SlidingWindowType::CountBased => min_calls.min(size),
            SlidingWindowType::TimeBased => min_calls,
        };
        let permitted = at_least(
            "permitted_number_of_calls_in_half_open_state",
            self.permitted_number_of_calls_in_half_open_state,
            10,
            1,
        )?;
        let max_wait = duration(
            "max_wait_duration_in_half_open_state",
            self.max_wait_duration_in_half_open_state.as_ref(),
            0,
        )?;
        Ok(BreakerConfig {
            sliding_window_type,
            sliding_window_size: size,
            minimum_number_of_calls,
            failure_rate_threshold: percent(
                "failure_rate_threshold",
                self.failure_rate_threshold,
                50.0,
            )?,
            slow_call_rate_threshold: percent(
                "slow_call_rate_threshold",
                self.slow_call_rate_threshold,
                100.0,
            )?,
            slow_call_duration_threshold: positive_duration(
                "slow_call_duration_threshold",
                self.slow_call_duration_threshold.as_ref(),
                60 * NS_PER_S,
            )?,
            wait_duration_in_open_state: positive_duration(
                "wait_duration_in_open_state",
                self.wait_duration_in_open_state.as_ref(),
                60 * NS_PER_S,
            )?,
            permitted_number_of_calls_in_half_open_state: permitted,
            max_wait_duration_in_half_open_state: (max_wait > 0).then_some(max_wait),
            automatic_transition: self
                .automatic_transition_from_open_to_half_open_enabled
                .unwrap_or(false),
            record_outcomes: match &self.record_outcomes {
                None => FailureSet::ALL,
                Some(list) => FailureSet::of(list),
            },
        })
    }
}

/// Where the breaker stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BreakerState {
    Closed,
    Open,
    HalfOpen,
}

/// A permission to send one call, to hand back with its result. It names
/// the state period that granted it, so a late result cannot decide a
/// later period.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Permit(u32);

/// What the engine reports about one breaker.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BreakerStats {
    /// Every transition (closed→open, open→half-open, half-open→closed or
    /// open).
    pub state_changes: u64,
    /// Transitions into open, from closed or half-open.
    pub times_opened: u64,
    /// Calls failed fast: open, or half-open with no trial permit left.
    pub not_permitted: u64,
    /// Simulated time spent open, up to the last `stats(now)`.
    pub time_open: Nanos,
    /// Simulated time spent half-open, up to the last `stats(now)`.
    pub time_half_open: Nanos,
    /// Results recorded as successes / failures, and slow ones among both.
    pub successful: u64,
    pub failed: u64,
    pub slow: u64,
    /// Results of calls admitted in an earlier state period, ignored.
    pub stale_results: u64,
}

/// Counts of one window or bucket.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Totals {
    calls: u32,
    failed: u32,
    slow: u32,
}

impl Totals {
    fn add(&mut self, failed: bool, slow: bool) {
        self.calls += 1;
        self.failed += u32::from(failed);
        self.slow += u32::from(slow);
    }

    fn remove(&mut self, other: Totals) {
        self.calls -= other.calls;
        self.failed -= other.failed;
        self.slow -= other.slow;
    }
}

const FAILED: u8 = 1;
const SLOW: u8 = 2;

/// The closed state's sliding window, preallocated.
#[derive(Clone, Debug)]
enum Window {
    /// Ring of the last `ring.len()` calls (bit FAILED, bit SLOW).
    Count {
        ring: Vec<u8>,
        next: usize,
        len: usize,
        totals: Totals,
    },
    /// One bucket per second; bucket `s % n` holds second `s` when fresh.
    Time {
        buckets: Vec<(u64, Totals)>,
        head_second: u64,
        totals: Totals,
    },
}

impl Window {
    fn new(cfg: &BreakerConfig) -> Window {
        let n = cfg.sliding_window_size as usize;
        match cfg.sliding_window_type {
            SlidingWindowType::CountBased => Window::Count {
                ring: vec![0; n],
                next: 0,
                len: 0,
                totals: Totals::default(),
            },
            SlidingWindowType::TimeBased => Window::Time {
                buckets: vec![(0, Totals::default()); n],
                head_second: 0,
                totals: Totals::default(),
            },
        }
    }

    /// Empties the window, as a fresh closed state does; `now` anchors a
    /// time-based window.
    fn reset(&mut self, now: Nanos) {
        match self {
            Window::Count {
                ring,
                next,
                len,
                totals,
            } => {
                ring.fill(0);
                *next = 0;
                *len = 0;
                *totals = Totals::default();
            }
            Window::Time {
                buckets,
                head_second,
                totals,
            } => {
                buckets.fill((0, Totals::default()));
                *head_second = now / NS_PER_S;
                *totals = Totals::default();
            }
        }
    }

    /// Drops the buckets of seconds that left a time-based window by `now`.
    fn slide(&mut self, now: Nanos) {
        if let Window::Time {
            buckets,
            head_second,
            totals,
        } = self
        {
            let sec = now / NS_PER_S;
            if sec <= *head_second {
                return;
            }
            let n = buckets.len() as u64;
            let first = (*head_second + 1).max(sec.saturating_sub(n - 1));
            for s in first..=sec {
                let b = &mut buckets[(s % n) as usize];
                totals.remove(b.1);
                *b = (s, Totals::default());
            }
            *head_second = sec;
        }
    }

    fn record(&mut self, now: Nanos, failed: bool, slow: bool) -> Totals {
        self.slide(now);
        match self {
            Window::Count {
                ring,
                next,
                len,
                totals,
            } => {
                if *len == ring.len() {
                    let old = ring[*next];
                    totals.remove(Totals {
                        calls: 1,
                        failed: u32::from(old & FAILED != 0),
                        slow: u32::from(old & SLOW != 0),
                    });
                } else {
                    *len += 1;
                }
                ring[*next] = (u8::from(failed) * FAILED) | (u8::from(slow) * SLOW);
                *next = (*next + 1) % ring.len();
                totals.add(failed, slow);
                *totals
            }
            Window::Time {
                buckets,
                head_second,
                totals,
            } => {
                // `slide` made the head bucket the current second's (a time
                // before the head, which the engine never gives, lands there
                // too).
                let n = buckets.len() as u64;
                buckets[(*head_second % n) as usize].1.add(failed, slow);
                totals.add(failed, slow);
                *totals
            }
        }
    }

    fn totals(&mut self, now: Nanos) -> Totals {
        self.slide(now);
        match self {
            Window::Count { totals, .. } | Window::Time { totals, .. } => *totals,
        }
    }
}

/// One circuit breaker (per caller replica and callee, say).
#[derive(Clone, Debug)]
pub struct Breaker {
    cfg: BreakerConfig,
    state: BreakerState,
    /// When the current state began.
    since: Nanos,
    /// State period, bumped at every transition.
    epoch: u32,
    window: Window,
    /// Half-open: trial permits not yet handed out, and the trial results.
    trials_left: u32,
    trials: Totals,
    stats: BreakerStats,
}

impl Breaker {
    /// A closed breaker at time 0.
    pub fn new(cfg: BreakerConfig) -> Breaker {
        Breaker {
            window: Window::new(&cfg),
            cfg,
            state: BreakerState::Closed,
            since: 0,
            epoch: 0,
            trials_left: 0,
            trials: Totals::default(),
            stats: BreakerStats::default(),
        }
    }

    pub fn config(&self) -> &BreakerConfig {
        &self.cfg
    }

    /// The state as of the last call (lazy transitions not yet applied;
    /// see [`Breaker::poll`]).
    pub fn state(&self) -> BreakerState {
        self.state
    }

    /// Asks to send one call at `now`. `None` = fail fast ("circuit open").
    pub fn try_acquire(&mut self, now: Nanos) -> Option<Permit> {
        self.poll(now);
        match self.state {
            BreakerState::Closed => Some(Permit(self.epoch)),
            BreakerState::Open => {
                if now >= self.open_until() {
                    self.transition(BreakerState::HalfOpen, now);
                    self.try_half_open()
                } else {
                    self.stats.not_permitted += 1;
                    None
                }
            }
            BreakerState::HalfOpen => self.try_half_open(),
        }
    }

    fn try_half_open(&mut self) -> Option<Permit> {
        if self.trials_left > 0 {
            self.trials_left -= 1;
            Some(Permit(self.epoch))
        } else {
            self.stats.not_permitted += 1;
            None
        }
    }

    /// Records the result of a permitted call that ended at `now` after
    /// `duration`; `failed` as the engine classified it (see
    /// [`Breaker::records`]).
    pub fn on_result(&mut self, now: Nanos, permit: Permit, failed: bool, duration: Nanos) {
        self.poll(now);
        if permit.0 != self.epoch || self.state == BreakerState::Open {
            self.stats.stale_results += 1;
            return;
        }
        let slow = duration > self.cfg.slow_call_duration_threshold;
        if failed {
            self.stats.failed += 1;
        } else {
            self.stats.successful += 1;
        }
        self.stats.slow += u64::from(slow);
        match self.state {
            BreakerState::Closed => {
                let t = self.window.record(now, failed, slow);
                if t.calls >= self.cfg.minimum_number_of_calls && self.above_thresholds(t) {
                    self.transition(BreakerState::Open, now);
                }
            }
            BreakerState::HalfOpen => {
                self.trials.add(failed, slow);
                if self.trials.calls >= self.cfg.permitted_number_of_calls_in_half_open_state {
                    let next = if self.above_thresholds(self.trials) {
                        BreakerState::Open
                    } else {
                        BreakerState::Closed
                    };
                    self.transition(next, now);
                }
            }
            BreakerState::Open => unreachable!("handled above"),
        }
    }

    /// Whether an outcome counts as a failure for this breaker
    /// (`record_outcomes`); `None` is a success.
    pub fn records(&self, outcome: Option<FailureKind>) -> bool {
        outcome.is_some_and(|k| self.cfg.record_outcomes.contains(k))
    }

    fn above_thresholds(&self, t: Totals) -> bool {
        let calls = f64::from(t.calls);
        f64::from(t.failed) * 100.0 >= self.cfg.failure_rate_threshold * calls
            || f64::from(t.slow) * 100.0 >= self.cfg.slow_call_rate_threshold * calls
    }

    fn open_until(&self) -> Nanos {
        self.since
            .saturating_add(self.cfg.wait_duration_in_open_state)
    }

    /// When a time-driven transition is due, if any: the end of the open
    /// wait with automatic transition, or the end of the half-open limit.
    /// The engine may schedule a wake-up then and call [`Breaker::poll`].
    pub fn next_transition_at(&self) -> Option<Nanos> {
        match self.state {
            BreakerState::Open if self.cfg.automatic_transition => Some(self.open_until()),
            BreakerState::HalfOpen => self
                .cfg
                .max_wait_duration_in_half_open_state
                .map(|w| self.since.saturating_add(w)),
            _ => None,
        }
    }

    /// Applies the time-driven transitions due by `now`, each at its own
    /// due time (so the time spent in each state is exact).
    pub fn poll(&mut self, now: Nanos) {
        while let Some(at) = self.next_transition_at() {
            if at > now {
                break;
            }
            let next = match self.state {
                BreakerState::Open => BreakerState::HalfOpen,
                _ => BreakerState::Open,
            };
            self.transition(next, at);
        }
    }

    fn transition(&mut self, to: BreakerState, at: Nanos) {
        let spent = at.saturating_sub(self.since);
        match self.state {
            BreakerState::Open => self.stats.time_open += spent,
            BreakerState::HalfOpen => self.stats.time_half_open += spent,
            BreakerState::Closed => {}
        }
        self.stats.state_changes += 1;
        self.epoch = self.epoch.wrapping_add(1);
        self.state = to;
        self.since = at;
        match to {
            BreakerState::Open => self.stats.times_opened += 1,
            BreakerState::HalfOpen => {
                self.trials_left = self.cfg.permitted_number_of_calls_in_half_open_state;
                self.trials = Totals::default();
            }
            BreakerState::Closed => self.window.reset(at),
        }
    }

    /// Counters and time spent open and half-open up to `now` (applies the
    /// transitions due by then first).
    pub fn stats(&mut self, now: Nanos) -> BreakerStats {
        self.poll(now);
        let mut s = self.stats;
        let spent = now.saturating_sub(self.since);
        match self.state {
            BreakerState::Open => s.time_open += spent,
            BreakerState::HalfOpen => s.time_half_open += spent,
            BreakerState::Closed => {}
        }
        s
    }

    /// Calls, failures and slow calls in the closed state's window as of
    /// `now` (kept while open, emptied when the breaker closes again).
    pub fn window_counts(&mut self, now: Nanos) -> (u32, u32, u32) {
        let t = self.window.totals(now);
        (t.calls, t.failed, t.slow)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::NS_PER_MS;

    const MS: Nanos = NS_PER_MS;

    fn cfg(f: impl FnOnce(&mut BreakerFile)) -> BreakerConfig {
        let mut file = BreakerFile::default();
        f(&mut file);
        file.validate().unwrap()
    }

    /// A call admitted at `now` and answered at once.
    fn call(b: &mut Breaker, now: Nanos, failed: bool) -> bool {
        match b.try_acquire(now) {
            Some(p) => {
                b.on_result(now, p, failed, MS);
                true
            }
            None => false,
        }
    }

    fn small(window: u32, min_calls: u32) -> BreakerConfig {
        cfg(|f| {
            f.sliding_window_size = Some(window);
            f.minimum_number_of_calls = Some(min_calls);
            f.failure_rate_threshold = Some(50.0);
            f.wait_duration_in_open_state = Some("10s".into());
            f.permitted_number_of_calls_in_half_open_state = Some(4);
        })
    }

    #[test]
    fn defaults_are_resilience4j_s() {
        let c = BreakerConfig::default();
        assert_eq!(c.sliding_window_type, SlidingWindowType::CountBased);
        assert_eq!(c.sliding_window_size, 100);
        assert_eq!(c.minimum_number_of_calls, 100);
        assert_eq!(c.failure_rate_threshold, 50.0);
        assert_eq!(c.slow_call_rate_threshold, 100.0);
        assert_eq!(c.slow_call_duration_threshold, 60 * NS_PER_S);
        assert_eq!(c.wait_duration_in_open_state, 60 * NS_PER_S);
        assert_eq!(c.permitted_number_of_calls_in_half_open_state, 10);
        assert_eq!(c.max_wait_duration_in_half_open_state, None);
        assert!(!c.automatic_transition);
        assert_eq!(c.record_outcomes, FailureSet::ALL);
    }

    #[test]
    fn opens_exactly_when_the_rate_reaches_the_threshold_after_the_minimum() {
        // Window 10, minimum 10: nine straight failures do not open it.
        let mut b = Breaker::new(small(10, 10));
        for i in 0..9 {
            assert!(call(&mut b, i, true));
            assert_eq!(b.state(), BreakerState::Closed, "after {} calls", i + 1);
        }
        // The tenth call, a success, makes 9/10 = 90 % >= 50 %: open.
        assert!(call(&mut b, 9, false));
        assert_eq!(b.state(), BreakerState::Open);

        // 4 failures out of 10 stay closed; the 5th failure (5/10 = 50 %)
        // opens it, since the threshold is reached, not exceeded.
        let mut b = Breaker::new(small(10, 10));
        for i in 0..6 {
            call(&mut b, i, false);
        }
        for i in 6..10 {
            call(&mut b, i, true);
        }
        assert_eq!(b.window_counts(10), (10, 4, 0));
        assert_eq!(b.state(), BreakerState::Closed);
        call(&mut b, 10, true); // evicts a success: 5 failures of 10
        assert_eq!(b.state(), BreakerState::Open);
        assert_eq!(b.stats(10).times_opened, 1);
    }

    #[test]
    fn the_minimum_holds_back_a_rate_of_100_percent() {
        // Window 100, minimum 5: four straight failures are not enough.
        let mut b = Breaker::new(small(100, 5));
        for i in 0..4 {
            call(&mut b, i, true);
        }
        assert_eq!(b.state(), BreakerState::Closed);
        assert_eq!(b.window_counts(4), (4, 4, 0));
        call(&mut b, 4, true);
        assert_eq!(b.state(), BreakerState::Open);
        // Open: the window is kept for reporting, calls fail fast.
        assert_eq!(b.window_counts(5), (5, 5, 0));
        assert!(!call(&mut b, 5, false));
    }

    #[test]
    fn count_window_forgets_the_oldest_call() {
        let mut b = Breaker::new(small(4, 4));
        call(&mut b, 0, true);
        for i in 1..4 {
            call(&mut b, i, false);
        }
        assert_eq!(b.window_counts(4), (4, 1, 0));
        call(&mut b, 4, false);
        assert_eq!(b.window_counts(4), (4, 0, 0));
    }

    #[test]
    fn minimum_is_capped_at_a_count_window_size() {
        let c = cfg(|f| {
            f.sliding_window_size = Some(5);
            f.minimum_number_of_calls = Some(100);
        });
        assert_eq!(c.minimum_number_of_calls, 5);
        let mut b = Breaker::new(c);
        for i in 0..5 {
            call(&mut b, i, true);
        }
        assert_eq!(b.state(), BreakerState::Open);
    }

    #[test]
    fn slow_calls_count_even_when_they_succeed() {
        let c = cfg(|f| {
            f.sliding_window_size = Some(10);
            f.minimum_number_of_calls = Some(10);
            f.slow_call_duration_threshold = Some("100ms".into());
            f.slow_call_rate_threshold = Some(30.0);
        });
        let mut b = Breaker::new(c);
        // 100 ms exactly is not slow (Resilience4j: longer than).
        for i in 0..8 {
            let p = b.try_acquire(i).unwrap();
            b.on_result(i, p, false, 100 * MS);
        }
        let p = b.try_acquire(8).unwrap();
        b.on_result(8, p, false, 100 * MS + 1);
        let p = b.try_acquire(9).unwrap();
        b.on_result(9, p, false, 100 * MS + 1);
        assert_eq!(b.state(), BreakerState::Closed, "2 slow of 10 = 20 %");
        let p = b.try_acquire(10).unwrap();
        b.on_result(10, p, false, 200 * MS);
        assert_eq!(b.state(), BreakerState::Open, "3 slow of 10 = 30 %");
        assert_eq!(b.stats(10).slow, 3);
        assert_eq!(b.stats(10).failed, 0);
    }

    #[test]
    fn time_window_forgets_old_buckets() {
        let c = cfg(|f| {
            f.sliding_window_type = Some(SlidingWindowType::TimeBased);
            f.sliding_window_size = Some(10); // seconds
            f.minimum_number_of_calls = Some(4);
        });
        let mut b = Breaker::new(c);
        let s = NS_PER_S;
        // Three failures in second 0 (below the minimum of 4 calls).
        for _ in 0..3 {
            call(&mut b, 500 * MS, true);
        }
        assert_eq!(b.window_counts(s), (3, 3, 0));
        // Second 9 is still in the window [0, 9]; second 10 is not.
        assert_eq!(b.window_counts(9 * s + 999 * MS), (3, 3, 0));
        assert_eq!(b.window_counts(10 * s), (0, 0, 0));
        // So one more failure at 10 s finds 1 call, not 4: still closed.
        call(&mut b, 10 * s, true);
        assert_eq!(b.state(), BreakerState::Closed);
        assert_eq!(b.window_counts(10 * s), (1, 1, 0));
        // Calls spread over seconds 10..=13 accumulate...
        call(&mut b, 11 * s, false);
        call(&mut b, 12 * s, true);
        assert_eq!(b.state(), BreakerState::Closed);
        call(&mut b, 13 * s, false);
        // ...4 calls, 2 failed = 50 %: open.
        assert_eq!(b.state(), BreakerState::Open);
        // A long silence clears every bucket at once.
        let mut b = Breaker::new(c);
        call(&mut b, 0, true);
        assert_eq!(b.window_counts(1000 * s), (0, 0, 0));
    }

    #[test]
    fn open_fails_fast_for_the_wait_then_half_open_admits_exactly_the_trials() {
        let mut b = Breaker::new(small(4, 4));
        for i in 0..4 {
            call(&mut b, i * MS, true);
        }
        assert_eq!(b.state(), BreakerState::Open);
        let opened = 3 * MS;
        // Rejected throughout the wait.
        assert!(b.try_acquire(opened + 1).is_none());
        assert!(b.try_acquire(opened + 10 * NS_PER_S - 1).is_none());
        assert_eq!(b.state(), BreakerState::Open);
        // At the end of the wait, the first caller moves it to half-open and
        // gets one of the 4 trial permits.
        let t = opened + 10 * NS_PER_S;
        let permits: Vec<_> = (0..6).map(|_| b.try_acquire(t)).collect();
        assert_eq!(b.state(), BreakerState::HalfOpen);
        assert_eq!(permits.iter().filter(|p| p.is_some()).count(), 4);
        assert!(permits[4].is_none() && permits[5].is_none());
        let st = b.stats(t);
        assert_eq!(st.not_permitted, 2 + 2);
        assert_eq!(st.time_open, 10 * NS_PER_S);
        // Three successes, one failure: 25 % < 50 %, closes when the last
        // trial answers, not before.
        let p: Vec<Permit> = permits.into_iter().flatten().collect();
        b.on_result(t + MS, p[0], false, MS);
        b.on_result(t + MS, p[1], true, MS);
        b.on_result(t + MS, p[2], false, MS);
        assert_eq!(b.state(), BreakerState::HalfOpen);
        assert!(b.try_acquire(t + MS).is_none(), "no fifth trial");
        b.on_result(t + 2 * MS, p[3], false, MS);
        assert_eq!(b.state(), BreakerState::Closed);
        let st = b.stats(t + 2 * MS);
        assert_eq!(st.time_half_open, 2 * MS);
        assert_eq!(st.state_changes, 3);
        // A fresh window: 3 more failures do not reopen (minimum 4).
        for i in 0..3 {
            call(&mut b, t + 3 * MS + i, true);
        }
        assert_eq!(b.state(), BreakerState::Closed);
    }

    #[test]
    fn half_open_reopens_on_failed_trials() {
        let mut b = Breaker::new(small(4, 4));
        for i in 0..4 {
            call(&mut b, i, true);
        }
        let t = 3 + 10 * NS_PER_S;
        let p: Vec<Permit> = (0..4).filter_map(|_| b.try_acquire(t)).collect();
        assert_eq!(p.len(), 4);
        for (i, p) in p.into_iter().enumerate() {
            b.on_result(t, p, i < 2, MS); // 2 of 4 = 50 %
        }
        assert_eq!(b.state(), BreakerState::Open);
        let st = b.stats(t);
        assert_eq!(st.times_opened, 2);
        assert_eq!(st.state_changes, 3);
        // Open for another full wait.
        assert!(b.try_acquire(t + 10 * NS_PER_S - 1).is_none());
        assert!(b.try_acquire(t + 10 * NS_PER_S).is_some());
    }

    #[test]
    fn late_results_from_an_earlier_period_are_ignored() {
        let mut b = Breaker::new(small(4, 4));
        let old = b.try_acquire(0).unwrap(); // a call still in flight
        for i in 0..4 {
            call(&mut b, i, true);
        }
        let t = 3 + 10 * NS_PER_S;
        let p = b.try_acquire(t).unwrap();
        assert_eq!(b.state(), BreakerState::HalfOpen);
        b.on_result(t, old, true, MS);
        assert_eq!(b.stats(t).stale_results, 1);
        b.on_result(t, p, false, MS);
        assert_eq!(b.state(), BreakerState::HalfOpen, "1 of 4 trials back");
    }

    #[test]
    fn automatic_transition_and_half_open_limit_happen_on_time() {
        let c = cfg(|f| {
            f.sliding_window_size = Some(2);
            f.minimum_number_of_calls = Some(2);
            f.wait_duration_in_open_state = Some("1s".into());
            f.automatic_transition_from_open_to_half_open_enabled = Some(true);
            f.max_wait_duration_in_half_open_state = Some("500ms".into());
        });
        let mut b = Breaker::new(c);
        call(&mut b, 0, true);
        call(&mut b, 0, true);
        assert_eq!(b.state(), BreakerState::Open);
        assert_eq!(b.next_transition_at(), Some(NS_PER_S));
        b.poll(NS_PER_S);
        assert_eq!(b.state(), BreakerState::HalfOpen);
        assert_eq!(b.next_transition_at(), Some(NS_PER_S + 500 * MS));
        // Nobody calls: at 3.2 s it has been open 1 s, half-open 0.5 s,
        // open 1 s, half-open 0.5 s, and open again since 3 s.
        let st = b.stats(3_200 * MS);
        assert_eq!(b.state(), BreakerState::Open);
        assert_eq!(st.time_open, 2 * NS_PER_S + 200 * MS);
        assert_eq!(st.time_half_open, NS_PER_S);
        assert_eq!(st.state_changes, 5);
    }

    #[test]
    fn recorded_outcomes_follow_the_list() {
        let c = cfg(|f| f.record_outcomes = Some(vec![FailureKind::Timeout]));
        let b = Breaker::new(c);
        assert!(b.records(Some(FailureKind::Timeout)));
        assert!(!b.records(Some(FailureKind::Error)));
        assert!(!b.records(None));
    }

    #[test]
    fn validation_names_the_field() {
        let bad = |f: fn(&mut BreakerFile)| {
            let mut file = BreakerFile::default();
            f(&mut file);
            file.validate().unwrap_err()
        };
        assert_eq!(
            bad(|f| f.failure_rate_threshold = Some(150.0)).0,
            "failure_rate_threshold"
        );
        assert_eq!(
            bad(|f| f.slow_call_rate_threshold = Some(0.0)).0,
            "slow_call_rate_threshold"
        );
        assert_eq!(
            bad(|f| f.sliding_window_size = Some(0)).0,
            "sliding_window_size"
        );
        assert_eq!(
            bad(|f| f.minimum_number_of_calls = Some(0)).0,
            "minimum_number_of_calls"
        );
        assert_eq!(
            bad(|f| f.permitted_number_of_calls_in_half_open_state = Some(0)).0,
            "permitted_number_of_calls_in_half_open_state"
        );
        let (field, msg) = bad(|f| f.wait_duration_in_open_state = Some("0".into()));
        assert_eq!(field, "wait_duration_in_open_state");
        assert!(msg.contains("longer than zero"), "{msg}");
        assert_eq!(
            bad(|f| f.slow_call_duration_threshold = Some("-1s".into())).0,
            "slow_call_duration_threshold"
        );
    }

    #[test]
    fn reads_resilience4j_names_from_toml() {
        let f: BreakerFile = toml_edit::de::from_str(
            r#"
            sliding_window_type = "TIME_BASED"
            sliding_window_size = 30
            failure_rate_threshold = 25
            wait_duration_in_open_state = "5s"
            record_outcomes = ["timeout", "error"]
            "#,
        )
        .unwrap();
        let c = f.validate().unwrap();
        assert_eq!(c.sliding_window_type, SlidingWindowType::TimeBased);
        assert_eq!(c.minimum_number_of_calls, 100, "not capped when time based");
        assert_eq!(c.failure_rate_threshold, 25.0);
        assert_eq!(c.wait_duration_in_open_state, 5 * NS_PER_S);
        let e = toml_edit::de::from_str::<BreakerFile>("failure_rate = 50").unwrap_err();
        assert!(
            e.to_string().contains("unknown field `failure_rate`"),
            "{e}"
        );
        let e = toml_edit::de::from_str::<BreakerFile>("record_outcomes = [\"slow\"]").unwrap_err();
        assert!(e.to_string().contains("unknown variant `slow`"), "{e}");
    }
}
