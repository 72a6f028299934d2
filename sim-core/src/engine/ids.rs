//! Typed ids of the engine's arenas and of the pattern waiters, so a job's
//! index can never be used as a call's, and the meaning of an id never
//! depends on context.

/// An index into an arena. Ids are `u32`: arenas grow with what is in
/// flight, never past four billion slots.
pub(super) trait ArenaId: Copy {
    fn from_index(i: u32) -> Self;
    fn index(self) -> usize;
}

macro_rules! arena_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
        pub(super) struct $name(pub u32);

        impl ArenaId for $name {
            #[inline]
            fn from_index(i: u32) -> Self {
                $name(i)
            }
            #[inline]
            fn index(self) -> usize {
                self.0 as usize
            }
        }
    };
}

arena_id!(
    /// One request's visit to one service replica.
    JobId
);
arena_id!(
    /// A caller's wait on an answer.
    CallId
);
arena_id!(
    /// One request sent for a call.
    AttemptId
);
arena_id!(
    /// A message held by a broker.
    MsgId
);
arena_id!(
    /// A consumer-group member: an index into every group's members, laid
    /// end to end (`log.rs`).
    MemberId
);
arena_id!(
    /// A request answered `accepted` whose result its client still awaits
    /// (`accepted.rs`).
    TicketId
);

/// Who holds a call's pattern permits and waits at its bulkheads: the
/// call itself (layers outside the first retry or hedge) or one of its
/// attempts (layers inside).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Holder {
    Call(CallId),
    Attempt(AttemptId),
}

/// The bulkhead state machine keys its waiters by `u32`; calls carry this
/// bit so the two kinds never collide.
const CALL_BIT: u32 = 1 << 31;

impl Holder {
    pub(super) fn key(self) -> u32 {
        match self {
            Holder::Call(c) => {
                debug_assert!(c.0 < CALL_BIT);
                c.0 | CALL_BIT
            }
            Holder::Attempt(a) => {
                debug_assert!(a.0 < CALL_BIT);
                a.0
            }
        }
    }

    pub(super) fn from_key(key: u32) -> Holder {
        if key & CALL_BIT != 0 {
            Holder::Call(CallId(key & !CALL_BIT))
        } else {
            Holder::Attempt(AttemptId(key))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holder_keys_round_trip_and_never_collide() {
        for i in [0, 1, 7, CALL_BIT - 1] {
            let c = Holder::Call(CallId(i));
            let a = Holder::Attempt(AttemptId(i));
            assert_eq!(Holder::from_key(c.key()), c);
            assert_eq!(Holder::from_key(a.key()), a);
            assert_ne!(c.key(), a.key());
        }
    }
}
