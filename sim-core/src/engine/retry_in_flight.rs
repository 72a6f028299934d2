//! Envoy's retry budget in the engine (`retry.in_flight_budget`, the
//! arithmetic in `patterns::in_flight_budget`): per edge and caller
//! replica — Envoy's upstream cluster in one caller's proxy — the attempts
//! in flight and the retries in flight, and the gate a retry passes.
//!
//! - An attempt counts from its start (`start_attempt`) until it ends or
//!   its call ends: Envoy's requests active and pending on the cluster,
//!   which a downstream request's end resets.
//! - A retry holds a place from its decision (its backoff included) until
//!   the next outcome of its call or the call's end, as Envoy's
//!   `RetryStateImpl` holds `retries()` until the next `shouldRetry` or its
//!   destruction; the place is given back before the next retry is asked
//!   for, as Envoy's `resetRetry()` precedes `canCreate()`.
//!
//! Every call spec on the edge counts (a call without a retry is still a
//! request in flight on the cluster); each spec's retries are held to its
//! own policy's cap. A client's calls (no caller replica) count per source.
//! Nothing is counted unless some policy declares the budget (`on`).
//!
//! Owns the counters; must not decide a call's outcome (that is `call`).

use std::collections::BTreeMap;

use super::World;
use super::ids::{ArenaId, CallId};
use crate::model::{EdgeId, Model};

/// No call holds a retry place in this call slot.
const NONE: u32 = u32::MAX;

/// What one edge and caller replica has in flight.
#[derive(Clone, Copy, Debug, Default)]
struct InFlight {
    /// Attempts the caller still waits on.
    requests: u32,
    /// Retries holding a place.
    retries: u32,
}

/// The in-flight counts of every edge and caller replica.
#[derive(Default)]
pub(super) struct RetryInFlight {
    /// Some call's retry declares an in-flight budget.
    pub on: bool,
    /// Per pattern slot (call spec × caller replica), its counters' index.
    counter_of_slot: Vec<u32>,
    counters: Vec<InFlight>,
    /// Per call slot, the generation of the call holding a retry place
    /// there (`NONE`: none).
    holder: Vec<u32>,
}

/// Where an edge's callers are counted: by edge and caller replica, or a
/// client's calls by their call spec.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Key {
    Edge(EdgeId, u32),
    Client(u32),
}

impl RetryInFlight {
    /// The counters for `m`, given each call spec's first pattern slot
    /// (`layers::pattern_states`); empty and off when no retry declares
    /// an in-flight budget.
    pub(super) fn new(m: &Model, pattern_base: &[u32], slots: usize) -> RetryInFlight {
        let on = m
            .policies
            .iter()
            .any(|p| p.retry.is_some_and(|r| r.in_flight_budget.is_some()));
        if !on {
            return RetryInFlight::default();
        }
        let mut index: BTreeMap<Key, u32> = BTreeMap::new();
        let mut counter_of_slot = vec![0; slots];
        for (spec, call) in m.calls.iter().enumerate() {
            let first = pattern_base[spec] as usize;
            let end = pattern_base.get(spec + 1).map_or(slots, |b| *b as usize);
            for (replica, slot) in (first..end).enumerate() {
                let key = match call.edge {
                    None => Key::Client(spec as u32),
                    Some(edge) => Key::Edge(edge, replica as u32),
                };
                let next = index.len() as u32;
                counter_of_slot[slot] = *index.entry(key).or_insert(next);
            }
        }
        RetryInFlight {
            on,
            counter_of_slot,
            counters: vec![InFlight::default(); index.len()],
            holder: Vec::new(),
        }
    }

    fn at(&mut self, slot: u32) -> &mut InFlight {
        &mut self.counters[self.counter_of_slot[slot as usize] as usize]
    }
}

impl World<'_> {
    /// An attempt of `call` starts: one more request in flight.
    pub(super) fn in_flight_attempt_started(&mut self, call: CallId) {
        let slot = self.calls[call].slot;
        self.retry_in_flight.at(slot).requests += 1;
    }

    /// An attempt of the live `call` ended: one request fewer, and the
    /// call's retry place, if it held one, is given back.
    pub(super) fn in_flight_attempt_ended(&mut self, call: CallId) {
        let slot = self.calls[call].slot;
        self.retry_in_flight.at(slot).requests -= 1;
        self.give_back_retry_place(call);
    }

    /// `call` ends: its attempts still out stop counting (Envoy resets
    /// them with the downstream request), and its retry place is given
    /// back.
    pub(super) fn in_flight_call_ended(&mut self, call: CallId) {
        let c = self.calls[call];
        self.retry_in_flight.at(c.slot).requests -= u32::from(c.in_flight);
        self.give_back_retry_place(call);
    }

    /// Whether a retry of `call` may start under its policy's in-flight
    /// budget (always, without one).
    pub(super) fn in_flight_budget_allows(&mut self, call: CallId) -> bool {
        let c = self.calls[call];
        let policy = self.m.calls[c.spec as usize].policy as usize;
        let Some(b) = self.m.policies[policy]
            .retry
            .and_then(|r| r.in_flight_budget)
        else {
            return true;
        };
        let n = *self.retry_in_flight.at(c.slot);
        b.allows(u64::from(n.retries), u64::from(n.requests))
    }

    /// A retry of `call` was decided: it holds a place until the call's
    /// next outcome or its end.
    pub(super) fn take_retry_place(&mut self, call: CallId) {
        let c = self.calls[call];
        let r = &mut self.retry_in_flight;
        let i = call.index();
        if r.holder.len() <= i {
            r.holder.resize(self.calls.len().max(i + 1), NONE);
        }
        debug_assert_ne!(r.holder[i], c.generation, "a call holds one place");
        r.holder[i] = c.generation;
        r.at(c.slot).retries += 1;
    }

    fn give_back_retry_place(&mut self, call: CallId) {
        let c = self.calls[call];
        let r = &mut self.retry_in_flight;
        if r.holder.get(call.index()) == Some(&c.generation) {
            r.holder[call.index()] = NONE;
            r.at(c.slot).retries -= 1;
        }
    }
}
