//! Sizes a run can afford: a scenario that would make the engine allocate
//! past the machine (a billion replicas, a billion closed-loop users, a
//! billion time-series windows, 10^12 requests) is refused at load time
//! with the key at fault, instead of aborting the process mid-run.
//!
//! Each limit is derived from the memory one item holds (docs/errors.md,
//! "Limits") and set well above real use. Must not change the model.

use crate::model::{FaultKind, Model};
use crate::time::{NS_PER_S, format_duration};

use super::KeyError;

/// Replicas of one service: each holds its state and an accept queue
/// pre-sized to at most 1,024 slots (about 8 KiB), so 10,000 replicas are
/// at most ~80 MiB.
pub const MAX_REPLICAS: u64 = 10_000;
/// Replicas × threads of one service: each busy thread holds a job, its
/// calls, attempts and timers (about 1 KiB), so at most ~1 GiB when all run.
pub const MAX_THREADS: u64 = 1_000_000;
/// Closed-loop users of one source: each is a request in flight or a
/// pending think timer (about 1 KiB), so at most ~1 GiB.
pub const MAX_USERS: u64 = 1_000_000;
/// Time-series windows over duration + drain: each is one row per metric
/// and series (up to ~10 KiB for a large scenario), so at most ~1 GiB; one
/// day at a 1 s window is 86,400.
pub const MAX_WINDOWS: u64 = 100_000;
/// Requests one open-loop source may send (peak rate × duration, or its
/// `requests`): past this a run takes hours, and a backlog of them (an
/// overloaded unbounded queue, ~200 B a request) tens of GiB.
pub const MAX_REQUESTS: f64 = 1e8;

/// Refuses the first size past its limit, naming its key.
pub(super) fn check(m: &Model) -> Result<(), KeyError> {
    for s in &m.services {
        let key = format!("services.{}", s.name);
        let replicas = u64::from(s.replicas);
        if replicas > MAX_REPLICAS {
            return Err(KeyError::new(
                format!("{key}.replicas"),
                format!("{replicas} replicas is more than the limit of {MAX_REPLICAS} per service"),
            ));
        }
        // An event loop's `threads` is its connection limit (unbounded by
        // default; the overload guard bounds what is held): its loops count.
        let (field, per_replica) = match s.loops() {
            Some(loops) => ("loops", loops),
            None => ("threads", s.threads),
        };
        let threads = replicas * u64::from(per_replica);
        if threads > MAX_THREADS {
            return Err(KeyError::new(
                format!("{key}.{field}"),
                format!(
                    "replicas × threads = {threads} is more than the limit of {MAX_THREADS} threads per service"
                ),
            ));
        }
    }
    let horizon = m.duration.saturating_add(m.drain);
    let windows = horizon.div_ceil(m.window.max(1));
    if windows > MAX_WINDOWS {
        return Err(KeyError::new(
            "window",
            format!(
                "(duration + drain) / window = {windows} time-series windows, more than the limit of {MAX_WINDOWS}: use a window of at least {}",
                format_duration(horizon.div_ceil(MAX_WINDOWS))
            ),
        ));
    }
    let seconds = m.duration as f64 / NS_PER_S as f64;
    for (i, src) in m.sources.iter().enumerate() {
        let key = format!("workload.{}", src.name);
        if let Some((users, _)) = src.closed {
            if u64::from(users) > MAX_USERS {
                return Err(KeyError::new(
                    format!("{key}.users"),
                    format!("{users} users is more than the limit of {MAX_USERS} per source"),
                ));
            }
            continue;
        }
        let surge: f64 = m
            .faults
            .iter()
            .filter(|f| f.source == Some(i as u32))
            .filter_map(|f| match f.kind {
                FaultKind::Surge(x) => Some(x.max(1.0)),
                _ => None,
            })
            .product();
        let requests = src.shape.max_rate(src.rate) * surge * seconds;
        let requests = src.limit.map_or(requests, |l| requests.min(l as f64));
        if requests > MAX_REQUESTS {
            return Err(KeyError::new(
                format!("{key}.rate"),
                format!(
                    "up to {requests:.3e} requests in {} (peak rate × duration), more than the limit of {MAX_REQUESTS:.0e} per source: lower the rate or the duration, or set `requests`",
                    format_duration(m.duration)
                ),
            ));
        }
    }
    Ok(())
}
