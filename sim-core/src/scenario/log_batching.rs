//! A consumer group's `batch_cost = { fixed, per_record }`: what one poll
//! batch costs its member's thread on top of the consumer operation's
//! steps per record.
//!
//! Owns this key's syntax and checks; must not decide when the cost is
//! paid (the engine's `log_batch.rs`).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::KeyError;
use super::values::duration;
use crate::model::BatchCost;

/// The cost of one poll batch of n records: fixed + n × per_record.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchCostFile {
    /// Paid once per batch, e.g. "2ms" (default "0ms").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed: Option<String>,
    /// Paid per record of the batch, e.g. "0.1ms" (default "0ms").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_record: Option<String>,
}

/// The batch cost of group `key` (`groups.NAME`), if it has one.
pub(super) fn batch_cost(
    key: &str,
    file: Option<&BatchCostFile>,
) -> Result<Option<BatchCost>, KeyError> {
    let Some(f) = file else {
        return Ok(None);
    };
    let part = |field: &str, text: &Option<String>| match text {
        Some(t) => duration(&format!("{key}.batch_cost.{field}"), t),
        None => Ok(0),
    };
    let cost = BatchCost {
        fixed: part("fixed", &f.fixed)?,
        per_record: part("per_record", &f.per_record)?,
    };
    if cost.fixed == 0 && cost.per_record == 0 {
        return Err(KeyError::new(
            format!("{key}.batch_cost"),
            "give `fixed`, `per_record` or both a positive duration (leave `batch_cost` out for none)",
        ));
    }
    Ok(Some(cost))
}
