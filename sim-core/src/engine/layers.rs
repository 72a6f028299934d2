//! The live state of the resilience patterns: one `PatternState` per call
//! spec and caller replica (breaker, retry budget, bulkhead, rate limiter,
//! hedge estimate), and the engine's side of using them — acquiring and
//! returning permits, bulkhead waits and their timeouts.
//!
//! The state machines themselves are in `crate::patterns` (pure, no clock);
//! this module owns which instance a call uses and the timers a wait needs.
//! Must not decide a call's outcome (that is `call`).

use super::World;
use super::event::Ev;
use super::ids::Holder;
use crate::metrics::EdgeCount;
use crate::model::{Model, NO_POLICY};
use crate::outcome::Outcome;
use crate::patterns::{Breaker, Bulkhead, BulkheadEntry, Hedge, Permit, RateLimiter, RetryBudget};
use crate::time::Nanos;

/// The live state of one call spec's patterns for one caller replica.
/// Each pattern is boxed: most specs have none or one, and every attempt
/// asks for several (`failure_gate`, `throttle`, `hedge`, `budget`), so
/// the seven answers sit in one cache line instead of the several that
/// the states themselves fill (at thousands of edges that line is rarely
/// in cache). Aligned so that line is one line.
#[repr(align(64))]
pub(super) struct PatternState {
    pub breaker: Option<Box<Breaker>>,
    pub budget: Option<Box<RetryBudget>>,
    pub bulkhead: Option<Box<Bulkhead>>,
    pub rate: Option<Box<RateLimiter>>,
    pub hedge: Option<Box<Hedge>>,
    pub failure_gate: Option<Box<crate::patterns::FailureGate>>,
    pub throttle: Option<Box<crate::patterns::throttle::Throttle>>,
}

/// Every call spec's pattern states, one per caller replica (one for a
/// source), and where each spec's run starts.
pub(super) fn pattern_states(m: &Model) -> (Vec<u32>, Vec<PatternState>) {
    let mut base = Vec::with_capacity(m.calls.len());
    let mut states = Vec::new();
    for spec in &m.calls {
        base.push(states.len() as u32);
        let callers = match spec.edge {
            None => 1,
            Some(edge) => m.services[m.edges[edge].from].replicas,
        };
        let p = (spec.policy != NO_POLICY).then(|| &m.policies[spec.policy as usize]);
        for _ in 0..callers {
            states.push(PatternState {
                breaker: p.and_then(|p| p.breaker).map(|c| Box::new(Breaker::new(c))),
                budget: p
                    .and_then(|p| p.retry.and_then(|r| r.budget))
                    .map(|c| Box::new(RetryBudget::new(c))),
                bulkhead: p
                    .and_then(|p| p.bulkhead)
                    .map(|c| Box::new(Bulkhead::new(c))),
                rate: p
                    .and_then(|p| p.rate_limit)
                    .map(|c| Box::new(RateLimiter::new(c))),
                hedge: p.and_then(|p| p.hedge).map(|c| Box::new(Hedge::new(c))),
                failure_gate: p
                    .and_then(|p| p.retry.and_then(|r| r.failure_gate))
                    .map(|c| Box::new(crate::patterns::FailureGate::new(c))),
                throttle: p
                    .and_then(|p| p.throttle)
                    .map(|c| Box::new(crate::patterns::throttle::Throttle::new(c))),
            });
        }
    }
    (base, states)
}

impl World<'_> {
    /// The pattern states of call spec `spec`, one per caller replica.
    pub(super) fn pattern_slots(&self, spec: usize) -> std::ops::Range<usize> {
        let base = self.pattern_base[spec] as usize;
        let end = self
            .pattern_base
            .get(spec + 1)
            .map_or(self.patterns.len(), |x| *x as usize);
        base..end
    }

    pub(super) fn breaker_acquire(&mut self, slot: u32, spec: u32) -> Option<Permit> {
        let b = self.patterns[slot as usize]
            .breaker
            .as_mut()
            .expect("breaker layer has a breaker");
        let permit = b.try_acquire(self.now);
        if permit.is_none() {
            self.count_on_spec(spec, EdgeCount::CircuitOpen);
        }
        permit
    }

    pub(super) fn breaker_result(
        &mut self,
        slot: u32,
        permit: Permit,
        outcome: Outcome,
        took: Nanos,
    ) {
        let now = self.now;
        let b = self.patterns[slot as usize]
            .breaker
            .as_mut()
            .expect("permits come from a breaker");
        let failed = b.records(outcome.failure_kind());
        b.on_result(now, permit, failed, took);
    }

    /// Adaptive throttling lets an attempt go (or turns it away,
    /// counted as `throttled`).
    pub(super) fn throttle_admit(&mut self, slot: u32, spec: u32) -> bool {
        let now = self.now;
        let p = self.patterns[slot as usize]
            .throttle
            .as_mut()
            .expect("throttle layer has a throttle")
            .request(now);
        if p <= 0.0 {
            return true;
        }
        let u: f64 = rand::RngExt::random(&mut self.throttle_rng[spec as usize]);
        if u < p {
            self.edge_stat(spec, |e| e.throttled += 1);
            return false;
        }
        true
    }

    pub(super) fn rate_acquire(&mut self, slot: u32, spec: u32) -> bool {
        let rl = self.patterns[slot as usize]
            .rate
            .as_mut()
            .expect("rate layer has a limiter");
        let ok = rl.try_acquire(self.now);
        if !ok {
            self.edge_stat(spec, |e| e.rate_limited += 1);
        }
        ok
    }

    pub(super) fn bulkhead_enter(
        &mut self,
        slot: u32,
        spec: u32,
        holder: Holder,
        generation: u32,
    ) -> BulkheadEntry {
        let bh = self.patterns[slot as usize]
            .bulkhead
            .as_mut()
            .expect("bulkhead layer has a bulkhead");
        let wait = bh.config().max_wait_duration;
        let entry = bh.enter(holder.key());
        match entry {
            BulkheadEntry::Waiting => {
                self.schedule_after(wait, Ev::BulkheadTimeout { holder, generation })
            }
            BulkheadEntry::Rejected => self.edge_stat(spec, |e| e.bulkhead_rejected += 1),
            BulkheadEntry::Entered => {}
        }
        entry
    }

    pub(super) fn set_holds_bulkhead(&mut self, holder: Holder) {
        match holder {
            Holder::Call(c) => self.calls[c].holds_bulkhead = true,
            Holder::Attempt(a) => self.attempts[a].holds_bulkhead = true,
        }
    }

    /// Frees a bulkhead permit; the oldest waiter, if any, takes it and
    /// goes on from the layer after the bulkhead.
    pub(super) fn bulkhead_release(&mut self, slot: u32) {
        let bh = self.patterns[slot as usize]
            .bulkhead
            .as_mut()
            .expect("held permits come from a bulkhead");
        if let Some(key) = bh.release() {
            let holder = Holder::from_key(key);
            self.set_holds_bulkhead(holder);
            let stage = match holder {
                Holder::Call(c) => self.calls[c].stage,
                Holder::Attempt(a) => self.attempts[a].stage,
            };
            self.enter_layers(holder, stage as usize + 1);
        }
    }

    pub(super) fn on_bulkhead_timeout(&mut self, holder: Holder, generation: u32) {
        let (slot, live) = match holder {
            Holder::Call(call) => {
                let c = &self.calls[call];
                (
                    c.slot,
                    c.pending && c.generation == generation && !c.holds_bulkhead,
                )
            }
            Holder::Attempt(att) => {
                let a = &self.attempts[att];
                let c = &self.calls[a.call];
                (
                    c.slot,
                    a.live && a.generation == generation && !a.holds_bulkhead,
                )
            }
        };
        if !live {
            return;
        }
        let bh = self.patterns[slot as usize]
            .bulkhead
            .as_mut()
            .expect("waiters wait at a bulkhead");
        if !bh.remove_waiter(holder.key()) {
            return;
        }
        match holder {
            Holder::Call(call) => {
                self.edge_stat(self.calls[call].spec, |e| e.bulkhead_rejected += 1);
                self.finish_call(call, Outcome::Rejected);
            }
            Holder::Attempt(att) => {
                let spec = self.calls[self.attempts[att].call].spec;
                self.edge_stat(spec, |e| e.bulkhead_rejected += 1);
                self.end_attempt(att, Outcome::Rejected);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    /// `call::end_attempt` reads no pattern state for a spec without a
    /// policy: every such state must be empty.
    #[test]
    fn a_spec_without_a_policy_has_empty_pattern_states() {
        let text = "name = \"p\"\nduration = \"1s\"\n[workload.w]\ntarget = \"a\"\nrate = 1\n\
            [services.a]\nthreads = 4\nreplicas = 3\nsteps = [{ call = \"b\", timeout = \"10ms\" }, \
            { call = \"b\", timeout = \"10ms\", retry = { max_attempts = 2, budget = { ratio = 0.1, min_retries_per_second = 10 } } }]\n\
            [services.b]\nthreads = 4\nsteps = [{ work = \"1ms\" }]\n";
        let s = crate::load("p.toml", text, &[]).expect("loads");
        let (base, states) = super::pattern_states(&s.model);
        let mut with_policy = 0;
        for (spec, c) in s.model.calls.iter().enumerate() {
            let end = base.get(spec + 1).map_or(states.len(), |&x| x as usize);
            for p in &states[base[spec] as usize..end] {
                let empty = p.breaker.is_none()
                    && p.budget.is_none()
                    && p.bulkhead.is_none()
                    && p.rate.is_none()
                    && p.hedge.is_none()
                    && p.failure_gate.is_none()
                    && p.throttle.is_none();
                if c.policy == crate::model::NO_POLICY {
                    assert!(empty, "spec {spec} has no policy but a pattern state");
                } else {
                    with_policy += 1;
                }
            }
        }
        assert!(with_policy > 0, "the retry's spec has a policy");
    }
}
