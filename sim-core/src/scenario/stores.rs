//! The `[stores]` table: versioned key–value stores for optimistic
//! concurrency (a key space like a cache's, and the latency of one read
//! and one write), as written and checked.
//!
//! Owns these keys' syntax and the key space's checks; must not place
//! `read` / `write` steps (that is `build/stores.rs`) or run anything.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::KeyError;
use super::dto::DistFile;
use super::keys::CacheKeysFile;

/// Most keys a store may have: it holds a 4-byte version per key.
pub(super) const MAX_KEYS: u32 = 100_000_000;

/// A versioned store: every key has a version that each committed write
/// bumps; a conditional write fails with a `conflict` if the version
/// moved since the job's read.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StoreFile {
    /// The keys requests read and write: `{ count = 1000, zipf = 1.1 }`
    /// (leave out `zipf` for equally popular keys).
    pub keys: CacheKeysFile,
    /// One read, there and back (default "0"); the version returned is
    /// the one at the read's start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_latency: Option<DistFile>,
    /// One write, there and back (default "0"); the write is checked and
    /// applied at its start, its answer comes back after this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub write_latency: Option<DistFile>,
}

/// The key space of store `name`: (count, zipf exponent).
pub(super) fn key_space(name: &str, s: &StoreFile) -> Result<(u32, Option<f64>), KeyError> {
    let key = format!("stores.{name}.keys");
    if s.keys.count == 0 || s.keys.count > MAX_KEYS {
        return Err(KeyError::new(
            format!("{key}.count"),
            format!("must be 1..={MAX_KEYS} keys, got {}", s.keys.count),
        ));
    }
    if let Some(z) = s.keys.zipf
        && !(z.is_finite() && z > 0.0 && z <= 10.0)
    {
        return Err(KeyError::new(
            format!("{key}.zipf"),
            format!("must be an exponent in (0, 10], got {z} (leave it out for uniform keys)"),
        ));
    }
    Ok((s.keys.count, s.keys.zipf))
}
