//! Connections, the client's side of TCP: a full backlog that drops a
//! connection (`when_full = "drop"`) and the caller's stack sending it
//! again with a doubling backoff until the connect fails; and split
//! timeouts, whose connect part ends when the callee accepts.
//!
//! Owns the retransmissions and the acceptance of connections; must not
//! admit a job (that is `service`) or decide what an answer does (that is
//! `call`).

use super::World;
use super::event::Ev;
use super::ids::{AttemptId, JobId};
use super::records::{JobState, Parent};
use crate::outcome::Outcome;

impl World<'_> {
    /// A full backlog drops the connection without a word: the client's
    /// TCP stack sends it again after its backoff (doubling each time) to
    /// the same replica, and after the last retransmission's wait the
    /// connect fails. A broker's delivery is not a connection: refused.
    #[cold]
    pub(super) fn drop_connection(&mut self, j: JobId) {
        let job = self.jobs[j];
        let s = job.service.index();
        let spec = match job.parent {
            Parent::Call { attempt, .. } | Parent::Client { attempt, .. } => {
                self.calls[self.attempts[attempt].call].spec
            }
            Parent::Source { source, .. } => self.m.sources[source as usize].call,
            Parent::Message { .. } | Parent::Record { .. } | Parent::Detached { .. } => {
                self.rec.count_rejected(s, false);
                return self.refuse(j, Outcome::Rejected);
            }
        };
        let connect = self.m.connects[spec as usize];
        let tries = u32::from(job.syn);
        let wait = connect.backoff.saturating_mul(1 << tries.min(40));
        let job = &mut self.jobs[j];
        job.syn += 1;
        job.state = JobState::InFlight;
        let generation = job.generation;
        let ev = if tries < connect.retries {
            self.rec.services[s].connect_retries += 1;
            Ev::Syn { job: j, generation }
        } else {
            Ev::ConnectFailed { job: j, generation }
        };
        self.schedule(self.at(wait), ev);
    }

    /// The callee accepted the connection of job `j`, whose caller has a
    /// split timeout: its connect timer is void, its read timer starts.
    #[cold]
    pub(super) fn connected(&mut self, j: JobId) {
        let (Parent::Call {
            attempt,
            generation,
            ..
        }
        | Parent::Client {
            attempt,
            generation,
        }) = self.jobs[j].parent
        else {
            return;
        };
        let a = &mut self.attempts[attempt];
        if !(a.live && a.generation == generation) || a.accepted {
            return;
        }
        a.accepted = true;
        let spec = self.calls[a.call].spec as usize;
        if let Some(read) = self.m.connects[spec].read {
            self.attempts[attempt].expires = self.at(read);
            self.schedule_after(
                read,
                Ev::AttemptTimeout {
                    attempt,
                    generation,
                },
            );
        }
    }

    /// A connect timer fired: the attempt times out unless the callee
    /// accepted its connection meanwhile.
    pub(super) fn on_connect_timeout(&mut self, attempt: AttemptId) {
        if self.attempts[attempt].accepted {
            return;
        }
        let spec = self.calls[self.attempts[attempt].call].spec;
        let callee = self.m.ops[self.m.calls[spec as usize].op as usize].service;
        self.rec.services[callee].connect_timeouts += 1;
        self.count_timeout(spec);
        self.end_attempt(attempt, Outcome::Timeout);
    }

    /// A dropped connection is sent again, unless its caller gave up (the
    /// client closed the socket: its stack stops sending).
    pub(super) fn on_syn(&mut self, j: JobId) {
        if self.parent_waits(self.jobs[j].parent) {
            self.admit(j);
        } else {
            self.jobs.free(j);
        }
    }

    /// The connect of a dropped connection times out.
    pub(super) fn on_connect_failed(&mut self, j: JobId) {
        if self.parent_waits(self.jobs[j].parent) {
            let s = self.jobs[j].service.index();
            self.rec.services[s].connect_timeouts += 1;
            self.refuse(j, Outcome::Timeout);
        } else {
            self.jobs.free(j);
        }
    }
}
