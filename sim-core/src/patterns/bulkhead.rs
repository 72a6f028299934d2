//! Bulkhead, Resilience4j's `SemaphoreBulkhead` with fair call handling:
//! at most `max_concurrent_calls` calls from this caller to this callee at
//! once. A call that finds every permit taken is rejected at once when
//! `max_wait_duration` is 0 (the default), or waits in a FIFO for at most
//! `max_wait_duration` (the engine schedules that timeout and calls
//! [`Bulkhead::remove_waiter`] when it fires). A released permit goes
//! straight to the oldest waiter, so a newcomer never overtakes a waiter.

use std::collections::VecDeque;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{FieldError, at_least, duration};
use crate::time::Nanos;

/// A bulkhead as written in a scenario (Resilience4j's parameters).
#[derive(Deserialize, Serialize, JsonSchema, Debug, Clone, Default)]
#[serde(deny_unknown_fields)]
pub struct BulkheadFile {
    /// Calls allowed at once (default 25).
    #[serde(default)]
    pub max_concurrent_calls: Option<u32>,
    /// Longest wait for a permit; "0" rejects at once (default "0").
    #[serde(default)]
    pub max_wait_duration: Option<String>,
}

/// A validated bulkhead.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BulkheadConfig {
    pub max_concurrent_calls: u32,
    /// 0: no waiting.
    pub max_wait_duration: Nanos,
}

impl Default for BulkheadConfig {
    fn default() -> Self {
        BulkheadFile::default()
            .validate()
            .expect("the defaults are valid")
    }
}

impl BulkheadFile {
    pub fn validate(&self) -> Result<BulkheadConfig, FieldError> {
        Ok(BulkheadConfig {
            max_concurrent_calls: at_least(
                "max_concurrent_calls",
                self.max_concurrent_calls,
                25,
                1,
            )?,
            max_wait_duration: duration("max_wait_duration", self.max_wait_duration.as_ref(), 0)?,
        })
    }
}

/// What became of a call that asked to enter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BulkheadEntry {
    /// Holds a permit: send the call, then `release`.
    Entered,
    /// Queued: wait for `release` to name it, or time it out after
    /// `max_wait_duration` with `remove_waiter`.
    Waiting,
    /// Full and no waiting allowed: fail the call as rejected.
    Rejected,
}

/// Counters of one bulkhead.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BulkheadStats {
    /// Calls that got a permit at once.
    pub entered: u64,
    /// Calls that got a permit after waiting.
    pub entered_after_wait: u64,
    /// Calls that found every permit taken (rejected or queued).
    pub full: u64,
    /// Calls queued.
    pub queued: u64,
    /// Queued calls that gave up (timed out) before a permit came.
    pub timed_out: u64,
    pub max_in_use: u32,
    pub max_waiting: u32,
}

impl BulkheadStats {
    /// Calls turned away: at once, or after waiting in vain.
    pub fn rejected(&self) -> u64 {
        self.full - self.queued + self.timed_out
    }
}

/// One bulkhead: permits in use and the FIFO of waiting calls (ids given
/// by the engine).
#[derive(Clone, Debug)]
pub struct Bulkhead {
    cfg: BulkheadConfig,
    in_use: u32,
    waiters: VecDeque<u32>,
    stats: BulkheadStats,
}

impl Bulkhead {
    pub fn new(cfg: BulkheadConfig) -> Bulkhead {
        let cap = if cfg.max_wait_duration > 0 {
            cfg.max_concurrent_calls.min(4096) as usize
        } else {
            0
        };
        Bulkhead {
            cfg,
            in_use: 0,
            waiters: VecDeque::with_capacity(cap),
            stats: BulkheadStats::default(),
        }
    }

    pub fn config(&self) -> &BulkheadConfig {
        &self.cfg
    }

    pub fn in_use(&self) -> u32 {
        self.in_use
    }

    pub fn waiting(&self) -> usize {
        self.waiters.len()
    }

    /// Takes a permit if one is free and nobody waits before this call.
    pub fn try_enter(&mut self) -> bool {
        if self.in_use < self.cfg.max_concurrent_calls && self.waiters.is_empty() {
            self.in_use += 1;
            self.stats.entered += 1;
            self.stats.max_in_use = self.stats.max_in_use.max(self.in_use);
            true
        } else {
            self.stats.full += 1;
            false
        }
    }

    /// Queues call `id` after a failed `try_enter`.
    pub fn enqueue(&mut self, id: u32) {
        self.waiters.push_back(id);
        self.stats.queued += 1;
        self.stats.max_waiting = self.stats.max_waiting.max(self.waiters.len() as u32);
    }

    /// `try_enter`, then queue `id` if waiting is allowed.
    pub fn enter(&mut self, id: u32) -> BulkheadEntry {
        if self.try_enter() {
            BulkheadEntry::Entered
        } else if self.cfg.max_wait_duration > 0 {
            self.enqueue(id);
            BulkheadEntry::Waiting
        } else {
            BulkheadEntry::Rejected
        }
    }

    /// A call holding a permit finished. The permit passes to the oldest
    /// waiter, whose id is returned (the engine sends that call now and
    /// cancels its wait timeout); with nobody waiting it is freed.
    pub fn release(&mut self) -> Option<u32> {
        debug_assert!(self.in_use > 0, "release without a permit");
        match self.waiters.pop_front() {
            Some(id) => {
                self.stats.entered_after_wait += 1;
                Some(id)
            }
            None => {
                self.in_use = self.in_use.saturating_sub(1);
                None
            }
        }
    }

    /// Waiter `id` gives up (its wait timed out, or its caller went away).
    /// `false` if it was not waiting (already admitted or removed).
    pub fn remove_waiter(&mut self, id: u32) -> bool {
        match self.waiters.iter().position(|w| *w == id) {
            Some(i) => {
                self.waiters.remove(i);
                self.stats.timed_out += 1;
                true
            }
            None => false,
        }
    }

    pub fn stats(&self) -> BulkheadStats {
        self.stats
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::NS_PER_MS;

    fn bulkhead(max: u32, wait: &str) -> Bulkhead {
        Bulkhead::new(
            BulkheadFile {
                max_concurrent_calls: Some(max),
                max_wait_duration: Some(wait.into()),
            }
            .validate()
            .unwrap(),
        )
    }

    #[test]
    fn defaults_are_resilience4j_s() {
        let c = BulkheadConfig::default();
        assert_eq!(c.max_concurrent_calls, 25);
        assert_eq!(c.max_wait_duration, 0);
    }

    #[test]
    fn rejects_at_once_beyond_the_limit_without_waiting() {
        let mut b = bulkhead(2, "0");
        assert_eq!(b.enter(1), BulkheadEntry::Entered);
        assert_eq!(b.enter(2), BulkheadEntry::Entered);
        assert_eq!(b.enter(3), BulkheadEntry::Rejected);
        assert_eq!(b.waiting(), 0);
        assert_eq!(b.release(), None);
        assert_eq!(b.in_use(), 1);
        assert_eq!(b.enter(4), BulkheadEntry::Entered);
        let s = b.stats();
        assert_eq!(
            (s.entered, s.full, s.rejected(), s.max_in_use),
            (3, 1, 1, 2)
        );
    }

    #[test]
    fn hands_permits_to_waiters_in_fifo_order() {
        let mut b = bulkhead(2, "100ms");
        assert_eq!(b.config().max_wait_duration, 100 * NS_PER_MS);
        assert!(b.try_enter());
        assert!(b.try_enter());
        for id in [10, 11, 12] {
            assert_eq!(b.enter(id), BulkheadEntry::Waiting);
        }
        assert_eq!(b.release(), Some(10));
        assert_eq!(b.in_use(), 2, "the permit passed on");
        // A newcomer does not overtake 11 and 12, even with a permit
        // about to be freed.
        assert_eq!(b.enter(13), BulkheadEntry::Waiting);
        assert_eq!(b.release(), Some(11));
        assert_eq!(b.release(), Some(12));
        assert_eq!(b.release(), Some(13));
        assert_eq!(b.release(), None);
        assert_eq!(b.release(), None);
        assert_eq!(b.in_use(), 0);
        let s = b.stats();
        assert_eq!(s.entered_after_wait, 4);
        assert_eq!(s.max_waiting, 3);
        assert_eq!(s.rejected(), 0);
    }

    #[test]
    fn a_timed_out_waiter_leaves_the_queue() {
        let mut b = bulkhead(1, "50ms");
        assert!(b.try_enter());
        for id in [1, 2, 3] {
            b.enter(id);
        }
        assert!(b.remove_waiter(2));
        assert!(!b.remove_waiter(2), "already gone");
        assert_eq!(b.release(), Some(1));
        assert!(!b.remove_waiter(1), "admitted, not waiting");
        assert_eq!(b.release(), Some(3));
        assert_eq!(b.release(), None);
        let s = b.stats();
        assert_eq!((s.queued, s.timed_out, s.rejected()), (3, 1, 1));
    }

    #[test]
    fn validation_names_the_field() {
        let e = BulkheadFile {
            max_concurrent_calls: Some(0),
            ..Default::default()
        }
        .validate()
        .unwrap_err();
        assert_eq!(e.0, "max_concurrent_calls");
        let e = BulkheadFile {
            max_wait_duration: Some("5 parsecs".into()),
            ..Default::default()
        }
        .validate()
        .unwrap_err();
        assert_eq!(e.0, "max_wait_duration");
    }
}
