//! How a call, an attempt or a job ended: the vocabulary shared by the
//! engine (which decides outcomes) and the metrics (which count them).
//!
//! Owns only the enum and its classification; must not know about arenas,
//! events or counters.

use crate::patterns::FailureKind;

/// How a call, an attempt or a job ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    /// An error answer.
    Error,
    /// Turned away: an accept queue, bulkhead or limit was full, or the
    /// request was shed.
    Rejected,
    /// A timeout or deadline fired.
    Timeout,
    /// The callee was crashed.
    Refused,
    /// A circuit breaker failed the call without sending it.
    CircuitOpen,
    /// A failure turned into a success by a fallback.
    Degraded,
    /// A conditional write found the key's version moved since the job's
    /// read (optimistic concurrency; HTTP 409).
    Conflict,
    /// The callee's process died holding the request (an OOM kill): the
    /// caller's connection is reset.
    Reset,
}

impl Outcome {
    pub fn is_success(self) -> bool {
        matches!(self, Outcome::Ok | Outcome::Degraded)
    }

    /// The pattern vocabulary's name for a failure (`None` for a success).
    pub fn failure_kind(self) -> Option<FailureKind> {
        match self {
            Outcome::Ok | Outcome::Degraded => None,
            Outcome::Error => Some(FailureKind::Error),
            Outcome::Rejected => Some(FailureKind::Rejected),
            Outcome::Timeout => Some(FailureKind::Timeout),
            Outcome::Refused => Some(FailureKind::Refused),
            Outcome::CircuitOpen => Some(FailureKind::CircuitOpen),
            Outcome::Conflict => Some(FailureKind::Conflict),
            Outcome::Reset => Some(FailureKind::Reset),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Outcome;

    #[test]
    fn successes_have_no_failure_kind() {
        for o in [
            Outcome::Ok,
            Outcome::Error,
            Outcome::Rejected,
            Outcome::Timeout,
            Outcome::Refused,
            Outcome::CircuitOpen,
            Outcome::Degraded,
            Outcome::Conflict,
            Outcome::Reset,
        ] {
            assert_eq!(o.is_success(), o.failure_kind().is_none(), "{o:?}");
        }
    }
}
