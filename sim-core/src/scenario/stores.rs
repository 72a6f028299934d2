//! The `[stores]` table: versioned key–value stores for optimistic
//! concurrency (a key space like a cache's, and the latency of one read
//! and one write): the checks of its key space (its syntax, `StoreFile`,
//! is in `dto.rs` with the other tables').
//!
//! Owns the key space's checks; must not place
//! `read` / `write` steps (that is `build/stores.rs`) or run anything.

use super::KeyError;
use super::dto::StoreFile;

/// Most keys a store may have: it holds a 4-byte version per key.
pub(super) const MAX_KEYS: u32 = 100_000_000;

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
