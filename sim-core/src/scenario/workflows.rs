//! The checks of workflow keys (their syntax is in `dto`): a queue's idempotency store
//! (`[queues.X] idempotency = { ttl = "10m" }`) and, in `sagas.rs`, the
//! `[sagas]` table.
//!
//! Owns these keys' checks; must not know how the engine runs them (it
//! sees only `model::Queue::idempotency_ttl` and `model::Saga`).

use super::KeyError;
use super::dto::{IdempotencyFile, SagaCallFile, SagaFile, SagaModeFile, WhenCompensatedFile};
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
        mode_checks(name, saga)?;
        out.push(crate::model::Saga {
            name: name.clone(),
            steps: saga
                .steps
                .iter()
                .map(|s| s.action.target().to_string())
                .collect(),
            compensated_succeeds: saga.when_compensated == Some(WhenCompensatedFile::Succeed),
            choreography: Vec::new(), // filled once the queues exist (`build/choreo.rs`)
        });
    }
    Ok(out)
}

/// Steps of one saga at most (its position fits a `u16` with room).
const MAX_SAGA_STEPS: usize = 1000;

/// Whether saga `saga` is choreographed (`mode = "choreographed"`).
pub(super) fn is_choreographed(saga: &SagaFile) -> bool {
    saga.mode == Some(SagaModeFile::Choreographed)
}

/// The keys one mode has and the other has not: `via` only in a
/// choreographed saga, and there on every step, with plain targets (a
/// queue's redeliveries are its retries, its visibility timeout its
/// timeout).
fn mode_checks(name: &str, saga: &SagaFile) -> Result<(), KeyError> {
    let choreographed = is_choreographed(saga);
    for (i, st) in saga.steps.iter().enumerate() {
        let key = format!("sagas.{name}.steps.{i}");
        match (&st.via, choreographed) {
            (Some(_), false) => {
                return Err(KeyError::new(
                    format!("{key}.via"),
                    "`via` names the queue that triggers a step of a choreographed saga: add `mode = \"choreographed\"` to the saga, or leave `via` out (an orchestrator calls the steps)",
                ));
            }
            (None, true) => {
                return Err(KeyError::new(
                    &key,
                    "a step of a choreographed saga needs `via`: the queue whose messages trigger it",
                ));
            }
            _ => {}
        }
        if !choreographed {
            continue;
        }
        if saga.when_compensated.is_some() {
            return Err(KeyError::new(
                format!("sagas.{name}.when_compensated"),
                "a choreographed saga has no orchestrator whose operation could fail or succeed: leave `when_compensated` out",
            ));
        }
        for (field, call) in [("do", Some(&st.action)), ("undo", st.undo.as_ref())] {
            if let Some(SagaCallFile::Call(_)) = call {
                return Err(KeyError::new(
                    format!("{key}.{field}"),
                    "in a choreographed saga a step runs as its queue's consumer: write \"service.operation\" (its retries are the queue's `max_deliveries`, its timeout the queue's `visibility_timeout`)",
                ));
            }
        }
    }
    Ok(())
}
