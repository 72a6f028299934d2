//! Workload sources: open-loop arrivals (Poisson or deterministic, with
//! rate shapes by thinning and surges by a rate factor, or replayed
//! arrival times) and closed-loop
//! users who think between requests. Each source's request is a client
//! call into the world.
//!
//! Owns each source's arrival state; must not touch services or calls
//! beyond opening the client call.
//!
//! A *direct* source sends its requests straight to a job at its entry
//! service, without the call and attempt records of a client call: when
//! the client side has nothing those records serve (no pattern, no hop,
//! no deadline, no polls, no zones, no tracing, no retry budget), the
//! records only repeat what the job knows. Every counter, draw and event
//! is the same as through a call; the books keep the requests in flight
//! (`SourceState::direct_in_flight`, `World::direct_pending`).

use crate::rng::Stream;

use super::World;
use super::event::Ev;
use super::records::{Caller, NEVER, Parent};
use crate::dist::Dist;
use crate::model::{Arrivals, NO_POLICY, Shape, Source};
use crate::outcome::Outcome;
use crate::patterns::Criticality;
use crate::rng::stream;
use crate::streams;
use crate::time::Nanos;

pub(super) struct SourceState {
    rng: Stream,
    /// Draws of the hop between the clients and the entry service.
    hop_rng: Stream,
    interarrival: Dist,
    pub sent: u64,
    /// Time of the last arrival.
    pub last: Nanos,
    /// Rate × this factor (traffic surges).
    pub factor: f64,
    /// Deterministic arrivals are spaced from this (time, count) anchor,
    /// reset whenever the factor changes, so gaps never drift.
    pub anchor: (Nanos, u64),
    /// Closed loop: users whose next request would come after `duration`.
    stopped_users: u32,
    /// Requests go straight to a job (see the module docs).
    direct: bool,
    /// Direct requests sent after the warm-up and not answered yet.
    direct_in_flight: u64,
}

pub(super) fn state(s: &Source, seed: u64) -> SourceState {
    SourceState {
        rng: stream(seed, &streams::arrivals(s)),
        hop_rng: stream(seed, &streams::source_network(s)),
        // Shaped sources draw at their peak rate and thin.
        interarrival: Dist::exponential(((1e9 / s.shape.max_rate(s.rate)).round() as Nanos).max(1))
            .expect("rate is positive"),
        sent: 0,
        last: 0,
        factor: 1.0,
        anchor: (0, 0),
        stopped_users: 0,
        direct: false,
        direct_in_flight: 0,
    }
}

impl World<'_> {
    /// Schedules a source's first request (each closed-loop user's after a
    /// first think time).
    pub(super) fn start_source(&mut self, i: usize) {
        match self.m.sources[i].closed {
            Some((users, _)) => {
                for _ in 0..users {
                    self.schedule_think(i);
                }
            }
            None => self.schedule_next_arrival(i),
        }
    }

    fn schedule_next_arrival(&mut self, i: usize) {
        let src = &self.m.sources[i];
        let st = &mut self.sources[i];
        if src.limit.is_some_and(|l| st.sent >= l) {
            let last = st.last;
            self.source_stopped(last);
            return;
        }
        let t = match src.arrivals {
            Arrivals::Poisson if src.shape != Shape::Constant => {
                // Thinning (Lewis & Shedler): candidates at the peak rate,
                // each kept with probability rate(t) / peak.
                let peak = src.shape.max_rate(src.rate);
                let mut t = st.last;
                loop {
                    let gap = st.interarrival.sample(&mut st.rng) as f64 / st.factor;
                    t = t.saturating_add(gap.round() as Nanos);
                    let u: f64 = rand::RngExt::random(&mut st.rng);
                    if t >= self.duration || u * peak < src.shape.rate_at(src.rate, t) {
                        break t;
                    }
                }
            }
            Arrivals::Poisson if st.factor == 1.0 => {
                st.last.saturating_add(st.interarrival.sample(&mut st.rng))
            }
            Arrivals::Poisson => {
                let gap = st.interarrival.sample(&mut st.rng) as f64 / st.factor;
                st.last.saturating_add(gap.round() as Nanos)
            }
            Arrivals::Deterministic if src.shape != Shape::Constant => {
                let r = src.shape.rate_at(src.rate, st.last) * st.factor;
                let gap = if r > 0.0 { 1e9 / r } else { 1e9 };
                st.last.saturating_add(gap.round() as Nanos)
            }
            Arrivals::Replay => match src.replayed.get(st.sent as usize) {
                Some(&t) => t,
                None => {
                    let last = st.last;
                    self.source_stopped(last);
                    return;
                }
            },
            // Computed from the index, not summed, so gaps never drift.
            Arrivals::Deterministic => {
                let (t0, n0) = st.anchor;
                t0.saturating_add(
                    ((st.sent + 1 - n0) as f64 * 1e9 / (src.rate * st.factor)).round() as Nanos,
                )
            }
        };
        st.last = t;
        if t < self.duration {
            self.schedule(t, Ev::SourceArrival { source: i as u32 });
        } else {
            self.source_stopped(self.duration);
        }
    }

    /// A closed-loop user thinks, then sends its next request (if before
    /// `duration`).
    pub(super) fn schedule_think(&mut self, i: usize) {
        let (_, think) = self.m.sources[i].closed.expect("closed-loop source");
        let think = self.m.dists[think as usize].sample(&mut self.sources[i].rng);
        let t = self.at(think);
        if t < self.duration {
            self.schedule(t, Ev::SourceArrival { source: i as u32 });
        } else {
            self.closed_users_stopped(i, self.duration);
        }
    }

    /// A closed-loop user sends no more (its next request would come after
    /// `duration`, or the source has sent its `requests`); the source stops
    /// with its last user.
    fn closed_users_stopped(&mut self, i: usize, at: Nanos) {
        let st = &mut self.sources[i];
        st.stopped_users += 1;
        let (users, _) = self.m.sources[i].closed.expect("closed-loop source");
        if st.stopped_users == users {
            self.source_stopped(at);
        }
    }

    fn source_stopped(&mut self, at: Nanos) {
        self.active_sources -= 1;
        self.sources_end = self.sources_end.max(at);
    }

    /// One crossing of source `i`'s hop (0 when it has none).
    #[inline]
    pub(super) fn source_hop(&mut self, i: usize) -> Option<Nanos> {
        let d = self.m.sources[i].latency?;
        Some(self.m.dists[d as usize].sample(&mut self.sources[i].hop_rng))
    }

    pub(super) fn on_source_arrival(&mut self, i: usize) {
        let src = &self.m.sources[i];
        if src.closed.is_some() && src.limit.is_some_and(|l| self.sources[i].sent >= l) {
            // The closed loop has sent its `requests`: this user is done.
            return self.closed_users_stopped(i, self.now);
        }
        self.sources[i].sent += 1;
        if self.m.sources[i].closed.is_none() {
            self.schedule_next_arrival(i);
        }
        if self.prefetching
            && let Some(next) = self.queue.next_source()
        {
            self.prefetch_source(next as usize);
        }
        let src = &self.m.sources[i];
        let deadline = match (src.propagate_deadline, src.timeout) {
            (true, Some(t)) => self.at(t),
            _ => NEVER,
        };
        let spec = src.call;
        self.rec.entry_arrival(i, self.now);
        let class = src.criticality;
        if self.sources[i].direct && self.tracer.is_none() {
            return self.send_direct(i, spec, class);
        }
        let call = self.alloc_call(Caller::Source(i as u32), spec, 0, deadline, class);
        self.start_call(call);
    }

    /// Marks the sources whose requests can go straight to a job: nothing
    /// on their client side needs a call's or an attempt's record.
    pub(super) fn mark_direct_sources(&mut self) {
        let client_side_plain =
            !self.accepted.on && !self.retry_in_flight.on && self.zoning.is_none();
        for (src, st) in self.m.sources.iter().zip(&mut self.sources) {
            let spec = &self.m.calls[src.call as usize];
            st.direct = client_side_plain
                && spec.policy == NO_POLICY
                && spec.edge.is_none()
                && spec.layer_count == 0
                && !spec.split_timeout
                && src.timeout.is_none()
                && src.latency.is_none()
                && src.poll.is_none();
        }
    }

    /// What `start_call` → `start_attempt` → `send_attempt` do for a
    /// call with no pattern, no edge and no hop: count the attempt and
    /// its sending, and the job arrives at once.
    fn send_direct(&mut self, i: usize, spec: u32, class: Criticality) {
        let client = &mut self.rec.clients[i];
        client.attempts += 1;
        client.sent += 1;
        self.direct_pending += 1;
        if self.now >= self.m.warmup {
            self.sources[i].direct_in_flight += 1;
        }
        let op = self.m.calls[spec as usize].op;
        let to = self.m.ops[op as usize].service;
        let parent = Parent::Source {
            source: i as u32,
            sent: self.now,
        };
        let job = self.alloc_job(to, op, parent, NEVER, class);
        self.on_arrive(job);
    }

    /// A direct request's answer: what `end_attempt` → `finish_call` →
    /// `deliver` do for a call with no pattern.
    pub(super) fn direct_answered(&mut self, i: u32, sent: Nanos, outcome: Outcome) {
        let i = i as usize;
        self.direct_pending -= 1;
        if sent >= self.m.warmup {
            self.sources[i].direct_in_flight -= 1;
        }
        self.request_answered(i, sent, outcome);
    }

    /// Source `i`'s request sent at `sent` has its one outcome (through a
    /// call or direct): the entry counts it, and a closed-loop user
    /// thinks before its next.
    pub(super) fn request_answered(&mut self, i: usize, sent: Nanos, outcome: Outcome) {
        self.rec.entry_done(i, sent, self.now, outcome);
        if self.m.sources[i].closed.is_some() {
            self.schedule_think(i);
        }
    }

    /// Each source's direct requests sent after the warm-up and still in
    /// flight (added to its calls').
    pub(super) fn direct_in_flight(&self, in_flight: &mut [u64]) {
        for (n, st) in in_flight.iter_mut().zip(&self.sources) {
            *n += st.direct_in_flight;
        }
    }
}
