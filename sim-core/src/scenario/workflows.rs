//! The checks of workflow keys (their syntax is in `dto`): a queue's idempotency store
//! (`[queues.X] idempotency = { ttl = "10m" }`) and, in `sagas.rs`, the
//! `[sagas]` table.
//!
//! Owns these keys' checks; must not know how the engine runs them (it
//! sees only `model::Queue::idempotency_ttl` and `model::Saga`).

use super::KeyError;
use super::dto::{IdempotencyFile, WhenCompensatedFile};
use super::values::positive_duration;
use crate::time::Nanos;

/// The store's TTL, checked.
pub(super) fn idempotency_ttl(
    queue_key: &str,
    store: &Option<IdempotencyFile>,
) -> Result<Option<Nanos>, KeyError> {
    match store {
        None => Ok(None),
        Some(s) => positive_duration(&format!("{queue_key}.idempotency.ttl"), &s.ttl).map(Some),
    }
}

/// The `[sagas]` table: each saga's name and step labels, checked.
pub(super) fn sagas(file: &super::ScenarioFile) -> Result<Vec<crate::model::Saga>, KeyError> {
    let mut out = Vec::new();
    for (name, saga) in &file.sagas {
        if saga.steps.is_empty() {
            return Err(KeyError::new(
                format!("sagas.{name}.steps"),
                "a saga needs at least one step",
            ));
        }
        if saga.steps.len() > MAX_SAGA_STEPS {
            return Err(KeyError::new(
                format!("sagas.{name}.steps"),
                format!("at most {MAX_SAGA_STEPS} steps"),
            ));
        }
        out.push(crate::model::Saga {
            name: name.clone(),
            steps: saga
                .steps
                .iter()
                .map(|s| s.action.target().to_string())
                .collect(),
            compensated_succeeds: saga.when_compensated == Some(WhenCompensatedFile::Succeed),
        });
    }
    Ok(out)
}

/// Steps of one saga at most (its position fits a `u16` with room).
const MAX_SAGA_STEPS: usize = 1000;
