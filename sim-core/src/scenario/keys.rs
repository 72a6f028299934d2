//! A key space as written (`keys = { count, zipf }`), shared by caches and
//! partitioned logs: a leaf, so the tables that use it need not import
//! the whole syntax.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The key space of a cache: `count` keys, equally popular or by Zipf's
/// law (key k drawn with probability ∝ 1 / k^zipf).
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CacheKeysFile {
    pub count: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zipf: Option<f64>,
}
