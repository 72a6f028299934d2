//! The `[caches]` table: capacity, TTL, key space and lookup latency of
//! each cache, checked and compiled into `model::Cache`.
//!
//! Owns the cache keys' checks; must not place cache steps (that is
//! `build`, which also decides which service a local cache belongs to).

use super::KeyError;
use super::dto::{DistFile, ScenarioFile};
use super::values::positive_duration;
use crate::model::Cache;

/// Most keys a cache may have: its index holds 4 bytes per key.
const MAX_KEYS: u32 = 100_000_000;

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
        out.push((
            Cache {
                name: name.clone(),
                capacity: c.capacity,
                ttl,
                keys: c.keys.count,
                zipf: c.keys.zipf,
                lookup: 0,
                // Set by `build` to the one service whose steps look it up.
                local: c
                    .local
                    .unwrap_or(false)
                    .then_some(crate::model::ServiceId::MAX),
                coalesce: c.coalesce.unwrap_or(false),
            },
            c.lookup.as_ref(),
        ));
    }
    Ok(out)
}
