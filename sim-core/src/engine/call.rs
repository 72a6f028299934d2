//! Calls and attempts: a *call* is a caller's wait on an answer, an
//! *attempt* one request sent for it. One walk over a call spec's pattern
//! layers (outermost first) serves both: the layers before the first retry
//! or hedge are entered once per call, the rest by every attempt.
//!
//! Owns the life of calls and attempts — layers entered, attempts sent,
//! retried, hedged, timed out, the call finished and delivered to its
//! caller. Must not touch a callee's job once sent (a caller's timeout
//! never touches the callee: orphaned work runs on).

use super::World;
use super::event::Ev;
use super::ids::{AttemptId, CallId, Holder};
use super::records::{Caller, NEVER, Parent};
use crate::metrics::EdgeCount;
use crate::model::{CallSpec, NO_POLICY};
use crate::outcome::Outcome;
use crate::patterns::{BulkheadEntry, Layer};

impl<'m> World<'m> {
    fn layers(&self, spec: u32) -> &'m [Layer] {
        self.m.calls[spec as usize].layers()
    }

    /// A new call: the budget learns of it, its deadline is armed, and its
    /// call-level layers are entered.
    pub(super) fn start_call(&mut self, call: CallId) {
        let c = self.calls[call];
        let spec = self.m.calls[c.spec as usize];
        if spec.policy != NO_POLICY {
            let p = &self.m.policies[spec.policy as usize];
            if let Some(b) = &mut self.patterns[c.slot as usize].budget {
                b.on_request(self.now);
            }
            if let Some(d) = p.deadline {
                self.calls[call].deadline = c.deadline.min(self.at(d));
                let generation = c.generation;
                self.schedule_after(d, Ev::CallTimeout { call, generation });
            }
        }
        if spec.split == 0 {
            // No call-level layer: the walk would enter none.
            return self.start_attempt(call, false);
        }
        self.enter_layers(Holder::Call(call), 0);
    }

    /// Enters the layers of `holder` from layer `from` on: the call-level
    /// layers for a call (then its first attempt starts), the
    /// attempt-level ones for an attempt (then it is sent). Stops at a
    /// bulkhead wait (resumed from the next layer) or a refusal.
    pub(super) fn enter_layers(&mut self, holder: Holder, from: usize) {
        let (call, generation) = match holder {
            Holder::Call(c) => (c, self.calls[c].generation),
            Holder::Attempt(a) => (self.attempts[a].call, self.attempts[a].generation),
        };
        let c = self.calls[call];
        let spec = self.m.calls[c.spec as usize];
        let layers = self.layers(c.spec);
        let end = match holder {
            Holder::Call(_) => spec.split as usize,
            Holder::Attempt(_) => layers.len(),
        };
        for (i, layer) in layers.iter().enumerate().take(end).skip(from) {
            match layer {
                Layer::Fallback | Layer::Retry | Layer::Hedge => {}
                Layer::Breaker => match self.breaker_acquire(c.slot, c.spec) {
                    Some(p) => match holder {
                        Holder::Call(c) => self.calls[c].breaker_permit = Some(p),
                        Holder::Attempt(a) => self.attempts[a].breaker_permit = Some(p),
                    },
                    None => return self.fail_layers(holder, Outcome::CircuitOpen),
                },
                Layer::Throttle => {
                    if !self.throttle_admit(c.slot, c.spec) {
                        return self.fail_layers(holder, Outcome::Rejected);
                    }
                }
                Layer::RateLimit => {
                    if !self.rate_acquire(c.slot, c.spec) {
                        return self.fail_layers(holder, Outcome::Rejected);
                    }
                }
                Layer::Timeout => {
                    let t = spec
                        .timeout
                        .expect("timeout layers exist only with a timeout");
                    let expires = self.at(t);
                    let ev = match holder {
                        Holder::Call(call) => {
                            let cm = &mut self.calls[call];
                            cm.deadline = cm.deadline.min(expires);
                            Ev::CallTimeout { call, generation }
                        }
                        // A split timeout's connect part is no deadline
                        // for the callee's work.
                        Holder::Attempt(attempt) if spec.split_timeout => Ev::ConnectTimeout {
                            attempt,
                            generation,
                        },
                        Holder::Attempt(attempt) => {
                            self.attempts[attempt].expires = expires;
                            Ev::AttemptTimeout {
                                attempt,
                                generation,
                            }
                        }
                    };
                    self.schedule_after(t, ev);
                }
                Layer::Bulkhead => match self.bulkhead_enter(c.slot, c.spec, holder, generation) {
                    BulkheadEntry::Entered => self.set_holds_bulkhead(holder),
                    BulkheadEntry::Waiting => {
                        match holder {
                            Holder::Call(c) => self.calls[c].stage = i as u8,
                            Holder::Attempt(a) => self.attempts[a].stage = i as u8,
                        }
                        return;
                    }
                    BulkheadEntry::Rejected => {
                        return self.fail_layers(holder, Outcome::Rejected);
                    }
                },
            }
        }
        match holder {
            Holder::Call(c) => self.start_attempt(c, false),
            Holder::Attempt(a) => self.send_attempt(a),
        }
    }

    /// A layer refused: the call finishes, or the attempt ends.
    fn fail_layers(&mut self, holder: Holder, outcome: Outcome) {
        match holder {
            Holder::Call(c) => self.finish_call(c, outcome),
            Holder::Attempt(a) => self.end_attempt(a, outcome),
        }
    }

    /// Sends a new attempt (a first try, a retry, or a hedge).
    pub(super) fn start_attempt(&mut self, call: CallId, hedged: bool) {
        let att = self.alloc_attempt(call, hedged);
        let c = &mut self.calls[call];
        if !hedged {
            c.try_started = self.now;
        }
        c.attempts += 1;
        c.in_flight += 1;
        let (spec, slot, attempts, generation) = (c.spec, c.slot, c.attempts, c.generation);
        if self.retry_in_flight.on {
            self.in_flight_attempt_started(call);
        }
        self.count_on_spec(spec, EdgeCount::Attempts);
        if self.m.calls[spec as usize].policy != NO_POLICY
            && let Some(h) = &self.patterns[slot as usize].hedge
            && u32::from(attempts) < h.max_attempts()
        {
            let delay = h.delay();
            self.schedule(self.at(delay), Ev::Hedge { call, generation });
        }
        let spec = &self.m.calls[spec as usize];
        if spec.split == spec.layer_count {
            // No attempt-level layer: the walk would enter none.
            return self.send_attempt(att);
        }
        self.enter_layers(Holder::Attempt(att), usize::from(spec.split));
    }

    pub(super) fn on_hedge_timer(&mut self, call: CallId) {
        let c = self.calls[call];
        let max = self.patterns[c.slot as usize]
            .hedge
            .as_ref()
            .map_or(0, |h| h.max_attempts());
        if c.in_flight > 0 && u32::from(c.attempts) < max {
            self.edge_stat(c.spec, |e| e.hedges += 1);
            self.start_attempt(call, true);
        }
    }

    /// The attempt's request leaves: a job at the callee, a hop away (at
    /// once for a client's request).
    fn send_attempt(&mut self, att: AttemptId) {
        let a = self.attempts[att];
        self.attempts[att].sent = true;
        let c = self.calls[a.call];
        self.edge_stat(c.spec, |e| e.sent += 1);
        let spec = self.m.calls[c.spec as usize];
        let to = self.m.ops[spec.op as usize].service;
        let deadline = if c.deadline == NEVER {
            NEVER
        } else {
            c.deadline.min(a.expires)
        };
        let parent = match spec.edge {
            None => Parent::Client {
                attempt: att,
                generation: a.generation,
            },
            Some(edge) => Parent::Call {
                attempt: att,
                generation: a.generation,
                edge,
            },
        };
        let class = self.calls[a.call].class;
        let job = self.alloc_job(to, spec.op, parent, deadline, class);
        if spec.split_timeout {
            self.jobs[job].connecting = true;
        }
        let job_gen = self.jobs[job].generation;
        self.attempts[att].job = Some((job, job_gen));
        if let Some(edge) = spec.edge {
            self.send_job(edge, job);
        } else {
            let hop = if self.source_hops {
                self.source_hop(self.client_of[c.spec as usize] as usize)
            } else {
                None
            };
            match hop {
                None => self.on_arrive(job),
                Some(hop) => {
                    self.schedule(
                        self.at(hop),
                        Ev::Arrive {
                            job,
                            generation: job_gen,
                        },
                    );
                }
            }
        }
    }

    /// An attempt ended with `outcome`: its attempt-level permits are
    /// returned, then the call succeeds, waits for its other hedges,
    /// retries, or fails.
    pub(super) fn end_attempt(&mut self, att: AttemptId, mut outcome: Outcome) {
        self.trace_attempt_end(att, outcome);
        let a = self.attempts[att];
        self.attempts.free(att);
        let spec = self.calls[a.call].spec;
        let (edge, policy) = {
            let s = &self.m.calls[spec as usize];
            (s.edge, s.policy)
        };
        if a.sent {
            if let Some(edge) = edge {
                self.in_flight[edge] -= 1;
            }
        } else {
            self.edge_stat(spec, |e| e.refused_locally += 1);
        }
        if outcome == Outcome::Timeout
            && let Some((j, g)) = a.job
            && self.jobs[j].generation == g
        {
            self.jobs[j].abandoned_at = self.now;
        }
        let c = self.calls[a.call];
        let call_live = c.pending && c.generation == a.call_gen;
        if a.holds_bulkhead {
            self.bulkhead_release(c.slot);
        }
        if let Some(p) = a.breaker_permit {
            self.breaker_result(c.slot, p, outcome, self.now - a.t_start);
        }
        // Without a policy the pattern state is empty: not read (at
        // thousands of call specs it is rarely in cache).
        if policy != NO_POLICY {
            if let Some(g) = &mut self.patterns[c.slot as usize].failure_gate {
                g.record(self.now, !outcome.is_success());
            }
            if a.sent
                && outcome.is_success()
                && let Some(t) = &mut self.patterns[c.slot as usize].throttle
            {
                t.accepted(self.now);
            }
        }
        if !call_live {
            return; // a hedge that lost, or the call's deadline passed
        }
        let call = a.call;
        self.calls[call].in_flight -= 1;
        if self.retry_in_flight.on {
            self.in_flight_attempt_ended(call);
        }
        let spec = self.m.calls[c.spec as usize];
        if spec.policy == NO_POLICY {
            return self.finish_call(call, outcome);
        }
        if outcome == Outcome::Ok
            && let Some(h) = &mut self.patterns[c.slot as usize].hedge
        {
            // The latency the call would have had without hedging, from
            // its first attempt: a winning hedge's own (short) time would
            // pull the percentile down and hedge ever more often.
            h.record_latency(self.now - c.try_started);
        }
        if !outcome.is_success() && spec.fallback_per_attempt && self.fallback_covers(spec, outcome)
        {
            self.edge_stat(c.spec, |e| e.fallbacks += 1);
            outcome = Outcome::Degraded;
        }
        if outcome.is_success() {
            if a.hedged {
                self.edge_stat(c.spec, |e| e.hedges_won += 1);
            }
            return self.finish_call(call, outcome);
        }
        let in_flight = self.calls[call].in_flight;
        let kind = outcome.failure_kind().expect("failures have a kind");
        let patterns = &self.patterns[c.slot as usize];
        if in_flight > 0
            && patterns
                .hedge
                .as_ref()
                .is_some_and(|h| h.is_non_fatal(kind))
        {
            return; // another hedged attempt may still win
        }
        if let Some(retry) = &self.m.policies[spec.policy as usize].retry
            && retry.should_retry(kind, u32::from(c.attempts))
        {
            let gate_ok = self.patterns[c.slot as usize]
                .failure_gate
                .as_ref()
                .is_none_or(|g| g.allows_retry(self.now));
            // Envoy's cap is only asked (it takes a place below, once the
            // retry is sure); Finagle's budget withdraws as it answers.
            let budget_ok = gate_ok
                && (!self.retry_in_flight.on || self.in_flight_budget_allows(call))
                && match &mut self.patterns[c.slot as usize].budget {
                    Some(b) => b.try_withdraw(self.now),
                    None => true,
                };
            if !gate_ok {
                self.edge_stat(c.spec, |e| e.retries_suppressed += 1);
            } else if !budget_ok {
                self.edge_stat(c.spec, |e| e.retries_refused += 1);
            } else {
                let n = u32::from(c.retries) + 1;
                let wait = retry.backoff(n, c.last_backoff, &mut self.retry_rng[c.spec as usize]);
                if self.now.saturating_add(wait) < c.deadline {
                    let cm = &mut self.calls[call];
                    cm.retries += 1;
                    cm.last_backoff = wait;
                    self.count_on_spec(c.spec, EdgeCount::Retries);
                    if self.retry_in_flight.on {
                        self.take_retry_place(call);
                    }
                    let generation = c.generation;
                    self.schedule(self.at(wait), Ev::Retry { call, generation });
                    return;
                }
            }
        }
        self.finish_call(call, outcome);
    }

    fn fallback_covers(&self, spec: CallSpec, outcome: Outcome) -> bool {
        let p = &self.m.policies[spec.policy as usize];
        match (p.fallback, outcome.failure_kind()) {
            (Some(f), Some(k)) => f.on.contains(k),
            _ => false,
        }
    }

    /// The call ends: call-level permits are returned, a call-level
    /// fallback may turn a failure into a degraded answer, and the caller
    /// is told.
    pub(super) fn finish_call(&mut self, call: CallId, outcome: Outcome) {
        let c = self.calls[call];
        if c.holds_bulkhead {
            self.calls[call].holds_bulkhead = false;
            self.bulkhead_release(c.slot);
        }
        if let Some(p) = c.breaker_permit {
            self.calls[call].breaker_permit = None;
            self.breaker_result(c.slot, p, outcome, self.now - c.t_sent);
        }
        let spec = self.m.calls[c.spec as usize];
        if !outcome.is_success()
            && !spec.fallback_per_attempt
            && spec.policy != NO_POLICY
            && self.fallback_covers(spec, outcome)
        {
            self.edge_stat(c.spec, |e| e.fallbacks += 1);
            let latency = self.m.policies[spec.policy as usize]
                .fallback
                .map_or(0, |f| f.latency);
            if latency > 0 {
                // Still pending: the caller waits for the fallback's answer.
                let generation = c.generation;
                self.schedule_after(latency, Ev::Fallback { call, generation });
                return;
            }
            return self.deliver(call, Outcome::Degraded);
        }
        self.deliver(call, outcome);
    }

    /// The caller (a job or a client) stops waiting on `call`.
    pub(super) fn deliver(&mut self, call: CallId, outcome: Outcome) {
        self.trace_call_end(call, outcome);
        if self.retry_in_flight.on {
            self.in_flight_call_ended(call);
        }
        let c = self.calls[call];
        self.calls.free(call);
        match c.caller {
            Caller::Source(src) => {
                if self.accepted.on && self.submit_answered(call, c.generation, outcome) {
                    return; // answered `accepted`: the result is polled for
                }
                self.request_answered(src as usize, c.t_sent, outcome);
            }
            Caller::Job { job, generation } => {
                // A job's call always has an edge (only sources' have none).
                let Some(edge) = self.m.calls[c.spec as usize].edge else {
                    unreachable!("a job's call spec without an edge")
                };
                match outcome {
                    Outcome::Ok => self.rec.edges[edge].ok += 1,
                    Outcome::Degraded => self.rec.edges[edge].degraded += 1,
                    Outcome::Error | Outcome::CircuitOpen | Outcome::Conflict => {
                        self.rec.count_on_edge(edge, EdgeCount::Errors);
                    }
                    Outcome::Rejected | Outcome::Refused | Outcome::Reset => {
                        self.rec.count_on_edge(edge, EdgeCount::Rejected);
                    }
                    Outcome::Timeout => {}
                }
                self.call_ended(job, generation, outcome, c.t_sent);
            }
            Caller::Poll { ticket, generation } => self.poll_answered(ticket, generation, outcome),
        }
    }

    pub(super) fn count_timeout(&mut self, spec: u32) {
        let edge = self.m.calls[spec as usize].edge;
        if let Some(edge) = edge {
            self.rec.count_on_edge(edge, EdgeCount::Timeouts);
        }
    }

    /// Row counter `what` of a call spec's edge (through the recorder,
    /// which keeps the edge pool's sums), or of its source's client
    /// figures. (The client's way is `edge_stat`'s, written out: through
    /// `edge_stat` every attempt of M2 took three instructions more.)
    #[inline(always)]
    pub(super) fn count_on_spec(&mut self, spec: u32, what: EdgeCount) {
        match self.m.calls[spec as usize].edge {
            Some(edge) => self.rec.count_on_edge(edge, what),
            None => {
                let src = self.client_of[spec as usize] as usize;
                self.rec.clients[src].count(what);
            }
        }
    }

    /// The counters of a call spec's edge (or its source's, for a client):
    /// not a row counter (`count_on_spec`).
    pub(super) fn edge_stat(&mut self, spec: u32, f: impl FnOnce(&mut crate::metrics::EdgeStats)) {
        let edge = self.m.calls[spec as usize].edge;
        match edge {
            Some(edge) => f(&mut self.rec.edges[edge]),
            None => {
                let src = self.client_of[spec as usize] as usize;
                f(&mut self.rec.clients[src]);
            }
        }
    }
}
