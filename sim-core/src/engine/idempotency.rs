//! Idempotency stores in front of consumers: the message id is the key,
//! written with the first successful processing and kept for the queue's
//! TTL.
//!
//! Owns the store's one question — is this message's key still there? —
//! asked at delivery (a hit skips the consumer's steps) and at the end of
//! a processing (a hit turns a duplicate into a no-op instead of a second
//! side effect: the store's insert commits with the side effect, so of two
//! concurrent processings only the first commits). Must not settle or
//! redeliver messages (that is `broker`).

use super::World;
use super::ids::MsgId;

impl World<'_> {
    /// Whether `id`'s queue has a store that still holds its key now.
    pub(super) fn in_idempotency_store(&self, id: MsgId) -> bool {
        let msg = self.msg.message(id);
        let Some(ttl) = self.m.queues[msg.queue as usize].idempotency_ttl else {
            return false;
        };
        msg.processed > 0 && self.now.saturating_sub(msg.first_success) <= ttl
    }
}
