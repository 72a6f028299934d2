//! Accepted and poll: a `{ respond = "accepted" }` step answers the
//! caller at once (202 Accepted) and the job goes on with its remaining
//! steps, still holding its worker (the held-thread rule), answering
//! nobody. A source with `poll` then polls a status operation: `every`
//! after the accepted answer and after each poll's answer, until a poll
//! sees the work done, or `max` polls.
//!
//! The books, per request of a polling source — exactly one outcome:
//! - answered at once (its operation never reached the step), or failed
//!   before the accepted answer reached the client: the outcome of that
//!   answer, as for any request;
//! - accepted: a *ticket* follows it. The entry's outcome waits for the
//!   poll that sees the work done — `ok`/`degraded` as the work ended, an
//!   `error` if the work failed (`async_failed`) — or for the `max`-th
//!   poll without it: a `timeout` (`gave_up`). A poll that fails or times
//!   out tells nothing: the client polls again (`polls_failed`).
//!
//! The entry's latency is the time to result, from the first send. A poll
//! sees the work done when it had ended by the time the poll's answer
//! reaches the client (the client's hop back, a fraction of a
//! millisecond, is not taken off). The remaining steps carry no deadline
//! (nobody waits on them); a crash cuts them off like any job, and the
//! work has then failed.
//!
//! An accepted answer deeper in the call tree answers that caller at once;
//! only a source's own request gets a ticket. A consumer's job (a message
//! or a log record) ignores the step: its broker is answered at its end.
//!
//! Owns the tickets and the polling; must not decide how a call runs
//! (`call.rs`) or how a job goes on (`service.rs`).

use super::World;
use super::arena::{Arena, Slot};
use super::event::Ev;
use super::ids::{ArenaId, CallId, JobId, TicketId};
use super::records::{Caller, NEVER, Parent};
use crate::outcome::Outcome;
use crate::time::Nanos;

/// A request answered `accepted` whose result its client awaits.
#[derive(Clone, Copy, Debug)]
pub(super) struct Ticket {
    generation: u32,
    live: bool,
    source: u32,
    /// The first send (the entry's clock).
    sent: Nanos,
    /// The accepted answer reached the client (`NEVER` while it travels).
    accepted: Nanos,
    /// The work ended (`NEVER` while it runs), and how.
    done: Nanos,
    result: Outcome,
    polls: u32,
    class: crate::patterns::Criticality,
}

impl Slot for Ticket {
    fn generation(&self) -> u32 {
        self.generation
    }
    fn with_generation(self, generation: u32) -> Self {
        Ticket { generation, ..self }
    }
    fn retire(&mut self) {
        self.live = false;
        self.generation = self.generation.wrapping_add(1);
    }
}

pub(super) struct Accepted {
    /// The model has a `respond` step: checked before any of this.
    pub on: bool,
    tickets: Arena<TicketId, Ticket>,
    /// Per call slot: the ticket of a source's request whose accepted
    /// answer travels to its client, with the call's generation.
    by_call: Vec<Option<(u32, TicketId)>>,
}

impl Accepted {
    pub fn new(m: &crate::model::Model) -> Accepted {
        Accepted {
            on: m
                .steps
                .iter()
                .any(|s| matches!(s, crate::model::Step::Accept)),
            tickets: Arena::with_capacity(0),
            by_call: Vec::new(),
        }
    }

    /// Tickets whose result is still awaited: the run goes on for them.
    #[inline]
    pub fn waiting(&self) -> u32 {
        self.tickets.live()
    }

    pub fn is_current(&self, t: TicketId, generation: u32) -> bool {
        let k = &self.tickets[t];
        k.live && k.generation == generation
    }
}

impl World<'_> {
    /// Job `j` reaches `{ respond = "accepted" }`: its caller is answered
    /// now and the job goes on detached. Returns whether it may go on (a
    /// crash set off by the answer could have cut it off).
    pub(super) fn accept_step(&mut self, j: JobId) -> bool {
        let job = self.jobs[j];
        if matches!(
            job.parent,
            Parent::Message { .. } | Parent::Record { .. } | Parent::Detached { .. }
        ) {
            // A consumer's broker is answered at the end; a job already
            // detached has nobody left to answer.
            self.jobs[j].step += 1;
            return true;
        }
        let ticket = self.ticket_for(job.parent);
        let generation = ticket.map_or(0, |t| self.accepted.tickets[t].generation);
        let detached = &mut self.jobs[j];
        detached.parent = Parent::Detached {
            ticket: ticket.unwrap_or(TicketId(u32::MAX)),
            generation,
        };
        // Nobody waits on the rest: no deadline cuts it short.
        detached.deadline = NEVER;
        detached.step += 1;
        let outcome = if job.degraded {
            Outcome::Degraded
        } else {
            Outcome::Ok
        };
        self.answer(job, outcome);
        self.jobs[j].generation == job.generation
    }

    /// A ticket for the request `parent` serves, when it is a polling
    /// source's own request whose client still waits.
    fn ticket_for(&mut self, parent: Parent) -> Option<TicketId> {
        let Parent::Client {
            attempt,
            generation,
        } = parent
        else {
            return None;
        };
        if !self.parent_waits(parent) {
            return None;
        }
        let a = self.attempts[attempt];
        debug_assert_eq!(a.generation, generation);
        let c = self.calls[a.call];
        let Caller::Source(source) = c.caller else {
            return None; // a poll's own job
        };
        self.m.sources[source as usize].poll?;
        let t = self.accepted.tickets.alloc(Ticket {
            generation: 0,
            live: true,
            source,
            sent: c.t_sent,
            accepted: NEVER,
            done: NEVER,
            result: Outcome::Ok,
            polls: 0,
            class: c.class,
        });
        let i = a.call.index();
        if self.accepted.by_call.len() <= i {
            self.accepted
                .by_call
                .resize(self.calls.len().max(i + 1), None);
        }
        self.accepted.by_call[i] = Some((c.generation, t));
        Some(t)
    }

    /// A source's request `call` (of `generation`) ends with `outcome`:
    /// when it was answered `accepted`, polling starts and the entry's
    /// outcome waits (returns true).
    pub(super) fn submit_answered(
        &mut self,
        call: CallId,
        generation: u32,
        outcome: Outcome,
    ) -> bool {
        let i = call.index();
        let Some(Some((g, t))) = self.accepted.by_call.get(i).copied() else {
            return false;
        };
        if g != generation {
            return false;
        }
        self.accepted.by_call[i] = None;
        if !outcome.is_success() {
            // The client gave up before the accepted answer reached it:
            // its outcome is that failure; the work goes on unwatched.
            self.accepted.tickets.free(t);
            return false;
        }
        let k = &mut self.accepted.tickets[t];
        k.accepted = self.now;
        let (sent, source, ticket_gen) = (k.sent, k.source as usize, k.generation);
        if sent >= self.m.warmup {
            self.rec.polls[source].accepted(self.now - sent);
        }
        let every = self.m.sources[source].poll.expect("a polling source").every;
        self.schedule_after(
            every,
            Ev::Poll {
                ticket: t,
                generation: ticket_gen,
            },
        );
        true
    }

    /// The detached job of ticket `t` ended with `outcome`.
    pub(super) fn detached_done(&mut self, t: TicketId, generation: u32, outcome: Outcome) {
        if t.0 == u32::MAX || !self.accepted.is_current(t, generation) {
            return; // nobody polls for it (any more)
        }
        let k = &mut self.accepted.tickets[t];
        k.done = self.now;
        k.result = outcome;
    }

    /// Time for the client of ticket `t` to poll.
    pub(super) fn on_poll(&mut self, t: TicketId) {
        let k = &mut self.accepted.tickets[t];
        k.polls += 1;
        let (source, generation, class) = (k.source as usize, k.generation, k.class);
        if k.sent >= self.m.warmup {
            self.rec.polls[source].poll_sent();
        }
        let spec = self.m.sources[source].poll.expect("a polling source").call;
        let caller = Caller::Poll {
            ticket: t,
            generation,
        };
        let call = self.alloc_call(caller, spec, 0, NEVER, class);
        self.start_call(call);
    }

    /// A poll of ticket `t` ended with `outcome`: the result is known, or
    /// the client polls again, or gives up.
    pub(super) fn poll_answered(&mut self, t: TicketId, generation: u32, outcome: Outcome) {
        if !self.accepted.is_current(t, generation) {
            return;
        }
        let k = self.accepted.tickets[t];
        let source = k.source as usize;
        let measured = k.sent >= self.m.warmup;
        let poll = self.m.sources[source].poll.expect("a polling source");
        if !outcome.is_success() {
            if measured {
                self.rec.polls[source].poll_failed();
            }
        } else if k.done <= self.now {
            let failed = !k.result.is_success();
            if measured {
                let work = k.done.saturating_sub(k.accepted);
                self.rec.polls[source].result_seen(work, failed);
            }
            let result = if failed { Outcome::Error } else { k.result };
            return self.settle_ticket(t, result);
        }
        if k.polls >= poll.max {
            if measured {
                self.rec.polls[source].gave_up();
            }
            return self.settle_ticket(t, Outcome::Timeout);
        }
        self.schedule_after(
            poll.every,
            Ev::Poll {
                ticket: t,
                generation,
            },
        );
    }

    /// The request of ticket `t` has its outcome.
    fn settle_ticket(&mut self, t: TicketId, outcome: Outcome) {
        let k = self.accepted.tickets[t];
        self.accepted.tickets.free(t);
        let source = k.source as usize;
        self.rec.entry_done(source, k.sent, self.now, outcome);
        if self.m.sources[source].closed.is_some() {
            self.schedule_think(source);
        }
    }

    /// Adds the accepted requests still polling at the end to their
    /// sources' `in_flight` (those whose answer still travels are counted
    /// with their call).
    pub(super) fn tickets_in_flight(&self, in_flight: &mut [u64]) {
        for k in self.accepted.tickets.iter() {
            if k.live && k.accepted != NEVER && k.sent >= self.m.warmup {
                in_flight[k.source as usize] += 1;
            }
        }
    }
}
