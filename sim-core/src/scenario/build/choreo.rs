//! Compiling choreographed sagas (`[sagas.NAME] mode = "choreographed"`):
//! each step's `via` queue, its `do` (the queue's consumer) and its `undo`
//! (an operation of the same consumer service, run by compensation
//! messages on the same queue), into `model::Saga::choreography`.
//!
//! Owns these cross-checks (they need the queues and the publish steps,
//! so they run after the services' steps are compiled); the keys each mode
//! allows are checked with the `[sagas]` table in `scenario/workflows.rs`.
//! Must not decide how a saga runs (the engine's `choreo.rs`).

use super::{Builder, R};
use crate::model::ChoreoStep;
use crate::scenario::KeyError;
use crate::scenario::workflows::is_choreographed;

impl Builder<'_> {
    /// Every choreographed saga's steps, checked against the queues.
    pub(super) fn choreographed_sagas(&mut self) -> R<()> {
        let file = self.file;
        // Which step each queue triggers already, as written.
        let mut used: Vec<Option<String>> = vec![None; self.m.queues.len()];
        for (si, (name, saga)) in file.sagas.iter().enumerate() {
            if !is_choreographed(saga) {
                continue;
            }
            let mut steps = Vec::with_capacity(saga.steps.len());
            for (i, st) in saga.steps.iter().enumerate() {
                let key = format!("sagas.{name}.steps.{i}");
                let Some(via) = &st.via else {
                    return Err(KeyError::new(
                        &key,
                        "a step of a choreographed saga needs `via`",
                    ));
                };
                let via_key = format!("{key}.via");
                let q = self.queue_id(&via_key, via)?;
                let queue = &self.m.queues[q as usize];
                let act = self.resolve_target(&format!("{key}.do"), st.action.target())?;
                if queue.consumer != act {
                    let consumer = self.op_label(queue.consumer);
                    return Err(KeyError::new(
                        format!("{key}.do"),
                        format!(
                            "a choreographed step runs as its queue's consumer: queue `{via}` is consumed by `{consumer}`, so `do` must be `{consumer}` (or `via` a queue consumed by `{}`)",
                            st.action.target()
                        ),
                    ));
                }
                let undo = match &st.undo {
                    None => None,
                    Some(u) => {
                        let undo_key = format!("{key}.undo");
                        let op = self.resolve_target(&undo_key, u.target())?;
                        if self.m.ops[op as usize].service != queue.service {
                            let svc = &self.m.services[queue.service].name;
                            return Err(KeyError::new(
                                undo_key,
                                format!(
                                    "the undo runs on the step's queue `{via}`, whose consumer is `{svc}`: name an operation of `{svc}`"
                                ),
                            ));
                        }
                        Some(op)
                    }
                };
                if let Some(other) = &used[q as usize] {
                    return Err(KeyError::new(
                        via_key,
                        format!("queue `{via}` already triggers {other}: one queue per saga step"),
                    ));
                }
                used[q as usize] = Some(key.clone());
                if let Some(from) = self.m.queues.iter().find(|o| o.dead_letter == Some(q)) {
                    return Err(KeyError::new(
                        via_key,
                        format!(
                            "queue `{via}` is the dead-letter queue of `{}`: a saga's queue carries only its own messages",
                            from.name
                        ),
                    ));
                }
                let published = self.m.publishes.iter().any(|p| p.queues.contains(&q));
                if i > 0 && published {
                    return Err(KeyError::new(
                        via_key,
                        format!(
                            "a `publish` step sends to queue `{via}` (directly or through a topic): only the saga publishes to its later steps' queues; a message from elsewhere can only start a saga, on the first step's queue"
                        ),
                    ));
                }
                steps.push(ChoreoStep {
                    queue: q,
                    act,
                    undo,
                });
            }
            self.m.sagas[si].choreography = steps;
        }
        Ok(())
    }

    fn op_label(&self, op: u32) -> String {
        let o = &self.m.ops[op as usize];
        format!("{}.{}", self.m.services[o.service].name, o.name)
    }
}
