//! The syntax and checks of workflow keys: a queue's idempotency store
//! (`[queues.X] idempotency = { ttl = "10m" }`) and, in `sagas.rs`, the
//! `[sagas]` table.
//!
//! Owns these keys' checks; must not know how the engine runs them (it
//! sees only `model::Queue::idempotency_ttl` and `model::Saga`).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::KeyError;
use super::values::positive_duration;
use crate::time::Nanos;

/// An idempotency store in front of a consumer: the message id is the key.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IdempotencyFile {
    /// How long a key stays after the first successful processing, e.g.
    /// "10m": a duplicate within it is a no-op (acknowledged, no side
    /// effect); after it, the side effect happens again.
    pub ttl: String,
}

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

/// A saga: steps run in order by the service whose operation has a
/// `{ saga = "NAME" }` step (the orchestrator); when a step fails, the
/// `undo`s of the steps already done run in reverse order.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SagaFile {
    /// `[{ do = "inventory.reserve", undo = "inventory.release" }, ...]`.
    pub steps: Vec<SagaStepFile>,
    /// What the orchestrator's operation does once a saga is fully
    /// compensated: "fail" (default: it answers an error, as to a shopper
    /// whose card was declined) or "succeed" (the outcome is handled: a
    /// consumer acknowledges its message instead of having it redelivered).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when_compensated: Option<WhenCompensatedFile>,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum WhenCompensatedFile {
    Fail,
    Succeed,
}

/// One saga step: its action and the action that compensates it.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SagaStepFile {
    /// The step's call: "service.operation", or a table like a `parallel`
    /// branch's (`{ call = "payment.charge", timeout = "2s", retry = {...} }`).
    #[serde(rename = "do")]
    pub action: SagaCallFile,
    /// The compensating call, same forms; leave it out for a step with
    /// nothing to undo. An undo that fails past its retries leaves the
    /// saga stuck.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub undo: Option<SagaCallFile>,
}

/// A saga call: a target, or a call with its own timeout and patterns.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum SagaCallFile {
    Target(String),
    Call(Box<super::dto::CallFile>),
}

impl SagaCallFile {
    pub(super) fn target(&self) -> &str {
        match self {
            SagaCallFile::Target(t) => t,
            SagaCallFile::Call(c) => &c.call,
        }
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
