//! The master seed as a scenario file writes it: any u64. TOML integers
//! stop at i64::MAX, so a seed above it (a sweep may draw any u64) is also
//! taken as a string of digits, which is what `--set seed=N` gives when N
//! is not a TOML integer.

use serde::de::{self, Deserializer, Visitor};
use std::fmt;

/// `#[serde(deserialize_with)]` for `seed`.
pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = Option<u64>;
        /// JSON's `null` (the canonical form of an absent seed).
        fn visit_unit<E: de::Error>(self) -> Result<Option<u64>, E> {
            Ok(None)
        }
        fn visit_none<E: de::Error>(self) -> Result<Option<u64>, E> {
            Ok(None)
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Option<u64>, D::Error> {
            d.deserialize_any(V)
        }
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            write!(f, "a whole number from 0 to {}", u64::MAX)
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Option<u64>, E> {
            Ok(Some(v))
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Option<u64>, E> {
            u64::try_from(v)
                .map(Some)
                .map_err(|_| E::custom(format!("a seed is 0 or more, got {v}")))
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Option<u64>, E> {
            v.trim().parse::<u64>().map(Some).map_err(|_| {
                E::custom(format!(
                    "a seed is a whole number from 0 to {}, got \"{v}\"",
                    u64::MAX
                ))
            })
        }
    }
    d.deserialize_any(V)
}
