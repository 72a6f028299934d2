//! Per-run options that are not part of the scenario (seed and duration
//! overrides, the scenario's identity stamped on the summary), and the
//! [`Watch`] through which whoever started a run may stop it or follow it.
//!
//! Must not read a clock: a deadline is the caller's business (it requests
//! a stop when its time is up), so a run stays a pure function of its
//! scenario and seed up to the moment it is stopped.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use crate::time::Nanos;

/// Per-run options that are not part of the scenario.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Overrides the scenario's seed.
    pub seed: Option<u64>,
    /// Overrides the scenario's duration.
    pub duration: Option<Nanos>,
    /// Scenario hash and overrides, copied into the summary.
    pub scenario_hash: u64,
    pub overrides: Vec<String>,
    /// A stop request and a progress gauge, both optional.
    pub watch: Watch,
}

/// What the caller shares with a running engine. Both are read or written
/// only where the overload guard checks, every 65,536 events, so a run
/// without them pays one branch per check and one with them two atomic
/// operations: nothing measurable either way.
#[derive(Debug, Clone, Default)]
pub struct Watch {
    /// Set it and the run stops at its next check, its summary marked
    /// partial with the signal's reason.
    pub stop: Option<Arc<StopSignal>>,
    /// Updated at each check with the simulated time and events so far.
    pub progress: Option<Arc<Progress>>,
}

/// A request to stop, with why (shared by every run of a command).
#[derive(Debug, Default)]
pub struct StopSignal {
    requested: AtomicBool,
    reason: OnceLock<String>,
}

impl StopSignal {
    /// Asks every run watching this signal to stop; the first reason given
    /// is the one reported.
    pub fn request(&self, reason: impl Into<String>) {
        let _ = self.reason.set(reason.into());
        self.requested.store(true, Ordering::Release);
    }

    pub fn requested(&self) -> bool {
        self.requested.load(Ordering::Acquire)
    }

    /// Why the stop was requested ("" before it was).
    pub fn reason(&self) -> &str {
        self.reason.get().map_or("", String::as_str)
    }
}

/// How far a run has come: simulated nanoseconds and events, as of its
/// last check.
#[derive(Debug, Default)]
pub struct Progress {
    now: AtomicU64,
    events: AtomicU64,
}

impl Progress {
    pub fn record(&self, now: Nanos, events: u64) {
        self.now.store(now, Ordering::Relaxed);
        self.events.store(events, Ordering::Relaxed);
    }

    /// Simulated time reached, ns.
    pub fn now(&self) -> Nanos {
        self.now.load(Ordering::Relaxed)
    }

    pub fn events(&self) -> u64 {
        self.events.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_reason_is_kept() {
        let s = StopSignal::default();
        assert!(!s.requested() && s.reason().is_empty());
        s.request("interrupted");
        s.request("out of time");
        assert!(s.requested());
        assert_eq!(s.reason(), "interrupted");
    }
}
