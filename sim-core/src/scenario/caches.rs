//! The `[caches]` table: capacity, TTL, key space and lookup latency of
//! each cache, checked and compiled into `model::Cache`; faults aimed at a
//! cache's lookups (`outage`, `slowdown`).
//!
//! Owns the cache keys' checks; must not place cache steps (that is
//! `build`, which also decides which service a local cache belongs to).

use super::KeyError;
use super::dto::{DistFile, ScenarioFile};
use super::values::positive_duration;
use crate::model::{Cache, ServiceId};

/// Most keys a cache may have: its index holds 4 bytes per key.
const MAX_KEYS: u32 = 100_000_000;

/// A local cache's owner until `build` meets the service that looks it up.
pub(super) const LOCAL_OWNER_UNKNOWN: ServiceId = ServiceId(u32::MAX);

/// Each cache of `file` with its lookup latency as written, if any (the
/// caller compiles it, adds it to the model and sets `Cache::lookup`).
pub(super) fn caches(file: &ScenarioFile) -> Result<Vec<(Cache, Option<&DistFile>)>, KeyError> {
    let mut out = Vec::new();
    for (name, c) in &file.caches {
        let key = format!("caches.{name}");
        if c.capacity == 0 {
            return Err(KeyError::new(
                format!("{key}.capacity"),
                "must be at least 1 item",
            ));
        }
        if c.keys.count == 0 || c.keys.count > MAX_KEYS {
            return Err(KeyError::new(
                format!("{key}.keys.count"),
                format!("must be 1..={MAX_KEYS} keys, got {}", c.keys.count),
            ));
        }
        if let Some(s) = c.keys.zipf
            && !(s.is_finite() && s > 0.0 && s <= 10.0)
        {
            return Err(KeyError::new(
                format!("{key}.keys.zipf"),
                format!("must be an exponent in (0, 10], got {s} (leave it out for uniform keys)"),
            ));
        }
        let ttl = match &c.ttl {
            Some(t) => Some(positive_duration(&format!("{key}.ttl"), t)?),
            None => None,
        };
        let stale = match &c.stale_while_revalidate {
            Some(t) => {
                let k = format!("{key}.stale_while_revalidate");
                let d = positive_duration(&k, t)?;
                if ttl.is_none() {
                    return Err(KeyError::new(
                        k,
                        "a key goes stale only after its TTL: give the cache a `ttl`",
                    ));
                }
                d
            }
            None => 0,
        };
        out.push((
            Cache {
                name: name.clone(),
                capacity: c.capacity,
                ttl,
                keys: c.keys.count,
                zipf: c.keys.zipf,
                lookup: 0,
                // Set by `build` to the one service whose steps look it up.
                local: c.local.unwrap_or(false).then_some(LOCAL_OWNER_UNKNOWN),
                coalesce: c.coalesce.unwrap_or(false),
                stale,
            },
            c.lookup.as_ref(),
        ));
    }
    Ok(out)
}

/// A fault aimed at a cache by name: `outage` (with `on_error`) or
/// `slowdown` of its lookups. `None` when `f` is not one (a flush is
/// compiled by `build`).
pub(super) fn cache_fault(
    m: &crate::model::Model,
    key: &str,
    f: &super::dto::FaultFile,
    start: crate::time::Nanos,
    length: crate::time::Nanos,
) -> Result<Option<crate::model::Fault>, KeyError> {
    use super::dto::CacheOnError;
    use crate::model::{Fault, FaultKind};
    let Some(c) = m.caches.iter().position(|c| c.name == f.target) else {
        return Ok(None);
    };
    // A service or broker of the same name keeps its faults.
    if m.service_id(&f.target).is_some() || m.brokers.iter().any(|b| b.name == f.target) {
        return Ok(None);
    }
    let kind = match (f.outage, f.slowdown) {
        (Some(true), None) => FaultKind::CacheOutage {
            fail: f.on_error == Some(CacheOnError::Fail),
        },
        (Some(_), None) => {
            return Err(KeyError::new(
                format!("{key}.outage"),
                "write `outage = true` (or remove the fault)",
            ));
        }
        (None, Some(x)) if x.is_finite() && x >= 1.0 => FaultKind::CacheSlowdown(x),
        (None, Some(x)) => {
            return Err(KeyError::new(
                format!("{key}.slowdown"),
                format!("must be a factor ≥ 1 on the cache's lookup latency, got {x}"),
            ));
        }
        _ => return Ok(None),
    };
    if f.on_error.is_some() && !matches!(kind, FaultKind::CacheOutage { .. }) {
        return Err(KeyError::new(
            format!("{key}.on_error"),
            "`on_error` belongs to an `outage` of a cache",
        ));
    }
    for (name, given) in [
        ("replica", f.replica.is_some()),
        ("steps", f.steps.is_some()),
    ] {
        if given {
            return Err(KeyError::new(
                format!("{key}.{name}"),
                "a cache outage or slowdown hits the whole cache: leave out `replica` and `steps`",
            ));
        }
    }
    let stream = crate::streams::fault(&f.target, kind.label(), &f.at);
    Ok(Some(Fault {
        cache: Some(c as u32),
        ..Fault::new(
            kind,
            f.target.clone(),
            stream,
            start,
            start.saturating_add(length),
        )
    }))
}
