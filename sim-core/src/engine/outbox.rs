//! Transactional outboxes: a `publish` step with `outbox = { every, batch }`
//! writes its message into the producing service's outbox (a local table,
//! committed with the service's own data: no broker round trip, the step
//! takes no time) and goes on; a relay per replica polls that outbox on a
//! grid of `every`, sends at most `batch` records in order, waits for the
//! broker's acknowledgement and then marks them sent (deletes them).
//!
//! Semantics:
//! - the outbox is durable: a crash or an OOM kill of the replica loses
//!   nothing written; its relay stops while the replica is down and goes
//!   on after the restart;
//! - a relay has one batch in flight at a time; while the broker is down
//!   or a target queue is full it stops at the record refused, and the
//!   rest stay, in order, for the next poll (no record lost);
//! - a crash between a batch's send and its mark loses the mark: after the
//!   restart the relay sends those records again — each one a duplicate,
//!   counted exactly (`duplicates` equals the records whose mark was lost,
//!   once they have been sent again);
//! - a relay is its replica's own process: a poll that falls in a GC pause
//!   of the replica is made at the pause's end (`stw.rs`), while the other
//!   replicas' relays keep the grid.
//!
//! Owns each outbox's records and its relays; must not decide how a
//! message travels once the broker has it (`broker.rs`).

use std::collections::VecDeque;

use crate::rng::Stream;

use super::World;
use super::event::Ev;
use super::ids::JobId;
use crate::rng::stream;
use crate::streams;
use crate::time::Nanos;

/// One message written to an outbox.
#[derive(Clone, Copy, Debug)]
struct Record {
    /// The publish step that wrote it (its target queues or log).
    publish: u32,
    poison: bool,
    written: Nanos,
}

/// One replica's share of an outbox and its relay.
#[derive(Default)]
struct Relay {
    records: VecDeque<Record>,
    /// Records at the front sent in the batch awaiting its mark.
    in_flight: u32,
    /// Records at the front sent before a crash lost their mark: sending
    /// them again makes duplicates.
    resend: u32,
    /// Bumped by a crash, so the mark of a batch sent before it is lost.
    epoch: u32,
    /// A poll of it is set aside until its replica's GC pause ends.
    polls_at_pause_end: bool,
}

#[derive(Default)]
pub(super) struct Outboxes {
    /// The model has outboxes: checked before any outbox work.
    pub on: bool,
    /// Per outbox, per replica of its service.
    relays: Vec<Vec<Relay>>,
    /// Per outbox: a relay poll is scheduled.
    armed: Vec<bool>,
    /// Per outbox: the broker's acknowledgement latencies of its batches.
    ack_rng: Vec<Stream>,
    /// Records in every outbox (a run does not end before they are sent).
    pub pending: u64,
    /// Every record sent, in order: (outbox, replica, publish step,
    /// written, sent).
    #[cfg(test)]
    pub sent: Vec<(u32, u32, u32, Nanos, Nanos)>,
    /// The records in flight of each relay a crash cut off.
    #[cfg(test)]
    pub lost: Vec<u32>,
}

impl Outboxes {
    pub fn new(m: &crate::model::Model, seed: u64) -> Outboxes {
        Outboxes {
            on: !m.outboxes.is_empty(),
            relays: m
                .outboxes
                .iter()
                .map(|o| {
                    let n = m.services[o.service].replicas;
                    (0..n).map(|_| Relay::default()).collect()
                })
                .collect(),
            armed: vec![false; m.outboxes.len()],
            ack_rng: m
                .outboxes
                .iter()
                .map(|o| stream(seed, &streams::outbox_ack(&m.services[o.service])))
                .collect(),
            pending: 0,
            #[cfg(test)]
            sent: Vec::new(),
            #[cfg(test)]
            lost: Vec::new(),
        }
    }
}

impl World<'_> {
    /// Job `j` at publish step `p` writes its message to outbox `o` and
    /// goes on at once.
    pub(super) fn outbox_write(&mut self, j: JobId, p: u32, o: u32) {
        let poison = self.draw_poison(p);
        let (now, replica, generation) = {
            let job = &self.jobs[j];
            (self.now, job.replica, job.generation)
        };
        self.outbox.relays[o as usize][replica as usize]
            .records
            .push_back(Record {
                publish: p,
                poison,
                written: now,
            });
        self.outbox.pending += 1;
        self.rec.outboxes[o as usize].written(now);
        self.arm_relay(o);
        self.schedule(now, Ev::WorkDone { job: j, generation });
    }

    /// Schedules outbox `o`'s next poll on its grid, unless one is.
    fn arm_relay(&mut self, o: u32) {
        if self.outbox.armed[o as usize] {
            return;
        }
        self.outbox.armed[o as usize] = true;
        let every = self.m.outboxes[o as usize].every;
        let next = (self.now / every + 1).saturating_mul(every);
        self.schedule(next, Ev::OutboxRelay { outbox: o });
    }

    /// Outbox `o`'s relays poll: each replica that is up and has no batch
    /// in flight sends the oldest records it may.
    pub(super) fn on_outbox_relay(&mut self, o: u32) {
        self.outbox.armed[o as usize] = false;
        let mut waiting = false;
        for r in 0..self.outbox.relays[o as usize].len() {
            if self.outbox.relays[o as usize][r].records.is_empty() {
                continue;
            }
            waiting = true;
            self.relay_poll(o, r);
        }
        if waiting {
            self.arm_relay(o);
        }
    }

    /// Replica `r`'s relay of outbox `o` (with records) polls: if its
    /// replica is up and it has no batch in flight, it sends — at once, or,
    /// in a GC pause of its replica, when the pause ends (`stw`).
    fn relay_poll(&mut self, o: u32, r: usize) {
        let (service, batch) = {
            let ob = &self.m.outboxes[o as usize];
            (ob.service.index(), ob.batch)
        };
        let rep = &self.replicas[service][r];
        let relay = &self.outbox.relays[o as usize][r];
        if rep.crashed > 0 || rep.life.down || relay.in_flight > 0 {
            return;
        }
        if self.replica_in_pause(service, r) {
            if !relay.polls_at_pause_end {
                self.outbox.relays[o as usize][r].polls_at_pause_end = true;
                let ev = Ev::RelayPoll {
                    outbox: o,
                    replica: r as u32,
                };
                self.set_aside_until_pause_end(service, r, ev);
            }
            return;
        }
        self.relay_send(o, r, batch);
    }

    /// Replica `r`'s relay of outbox `o` makes the poll a GC pause of its
    /// replica held back (the grid goes on meanwhile: `on_outbox_relay`
    /// re-arms it while any record waits).
    pub(super) fn on_relay_poll(&mut self, o: u32, r: usize) {
        let relay = &mut self.outbox.relays[o as usize][r];
        relay.polls_at_pause_end = false;
        if !relay.records.is_empty() {
            self.relay_poll(o, r);
        }
    }

    /// Replica `r`'s relay of outbox `o` sends up to `batch` records, in
    /// order, stopping at the first the broker refuses.
    fn relay_send(&mut self, o: u32, r: usize, batch: u32) {
        let now = self.now;
        let mut sent = 0;
        let mut first_publish = None;
        while sent < batch {
            let relay = &self.outbox.relays[o as usize][r];
            let Some(&rec) = relay.records.get(sent as usize) else {
                break;
            };
            if !self.relay_offer(rec.publish, rec.poison) {
                break;
            }
            let relay = &self.outbox.relays[o as usize][r];
            let again = sent < relay.resend;
            first_publish.get_or_insert(rec.publish);
            self.rec.outboxes[o as usize].sent(now.saturating_sub(rec.written), again);
            #[cfg(test)]
            self.outbox
                .sent
                .push((o, r as u32, rec.publish, rec.written, now));
            sent += 1;
        }
        let Some(p) = first_publish else {
            return;
        };
        let relay = &mut self.outbox.relays[o as usize][r];
        relay.in_flight = sent;
        let epoch = relay.epoch;
        let broker = self.m.publishes[p as usize].broker as usize;
        let ack = self.m.dists[self.m.brokers[broker].ack as usize]
            .sample(&mut self.outbox.ack_rng[o as usize]);
        self.schedule(
            self.at(ack),
            Ev::OutboxMark {
                outbox: o,
                replica: r as u32,
                epoch,
            },
        );
    }

    /// The broker acknowledged replica `r`'s batch: its records are
    /// deleted from the outbox — unless a crash came first (`epoch`).
    pub(super) fn on_outbox_mark(&mut self, o: u32, r: u32, epoch: u32) {
        let relay = &mut self.outbox.relays[o as usize][r as usize];
        if relay.epoch != epoch {
            return; // the mark died with the process
        }
        let n = relay.in_flight;
        relay.records.drain(..n as usize);
        relay.resend = relay.resend.saturating_sub(n);
        relay.in_flight = 0;
        self.outbox.pending -= u64::from(n);
        self.rec.outboxes[o as usize].marked(self.now, n);
    }

    /// Replicas of service `s` crashed (all, or `only`): their relays'
    /// batches in flight lose their marks and will be sent again.
    pub(super) fn outbox_crash(&mut self, s: usize, only: Option<u32>) {
        for o in 0..self.m.outboxes.len() {
            if self.m.outboxes[o].service.index() != s {
                continue;
            }
            for (r, relay) in self.outbox.relays[o].iter_mut().enumerate() {
                if only.is_some_and(|x| x as usize != r) || relay.in_flight == 0 {
                    continue;
                }
                relay.epoch = relay.epoch.wrapping_add(1);
                relay.resend = relay.resend.max(relay.in_flight);
                self.rec.outboxes[o].marks_lost(relay.in_flight);
                #[cfg(test)]
                self.outbox.lost.push(relay.in_flight);
                relay.in_flight = 0;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::World;
    use crate::options::RunOptions;
    use crate::output::RunResult;

    /// 400 orders at 200/s, each writing to the outbox of `api` (one
    /// replica); the relay sends 20 records every 10 ms and the broker
    /// acknowledges in 30 ms; then `faults`.
    /// The records sent (outbox, replica, publish step, written), in order.
    type Sent = Vec<(u32, u32, u32, u64, u64)>;

    fn run(faults: &str) -> (RunResult, Sent, Vec<u32>) {
        let text = format!(
            r#"
name = "outbox"
duration = "5s"
window = "100ms"

[workload.orders]
target = "api"
rate = 200
arrivals = "deterministic"
requests = 400

[services.api]
threads = 16
steps = [{{ work = "1ms" }}, {{ publish = "jobs", outbox = {{ every = "10ms", batch = 20 }} }}]

[services.worker]
threads = 16
steps = [{{ work = "1ms" }}]

[brokers.bus]
ack = "30ms"

[queues.jobs]
consumer = "worker"
concurrency = 16
{faults}
"#
        );
        run_text(&text)
    }

    fn run_text(text: &str) -> (RunResult, Sent, Vec<u32>) {
        let s = crate::load("t.toml", text, &[]).expect("loads");
        let opts = RunOptions::default();
        let mut w = World::new(&s.model, &opts);
        w.run_loop(&opts.watch);
        let (sent, lost) = (w.outbox.sent.clone(), w.outbox.lost.clone());
        (w.finish(&opts), sent, lost)
    }

    #[test]
    fn a_broker_outage_grows_the_outbox_and_loses_nothing_in_order() {
        let (r, sent, lost) = run(r#"
[[fault]]
target = "bus"
outage = true
at = "500ms"
for = "500ms"
"#);
        assert!(lost.is_empty());
        let o = &r.summary.outboxes["api"];
        assert_eq!((o.written, o.sent, o.marked), (400, 400, 400), "{o:#?}");
        assert_eq!((o.duplicates, o.depth_at_end), (0, 0));
        // About 100 records are written during the outage and wait.
        assert!((95..=130).contains(&o.depth_max), "{o:#?}");
        assert!(o.relay_delay_ms.max >= 450.0, "{o:#?}");
        assert_eq!(r.summary.queues["jobs"].published, 400);
        assert_eq!(r.summary.queues["jobs"].acked, 400);
        let written: Vec<u64> = sent.iter().map(|x| x.3).collect();
        assert!(
            written.windows(2).all(|w| w[0] < w[1]),
            "sent in write order"
        );
    }

    #[test]
    fn a_crash_between_send_and_mark_sends_the_batch_again() {
        let (r, sent, lost) = run(r#"
[[fault]]
target = "api"
crash = true
at = "1005ms"
for = "200ms"
"#);
        let o = &r.summary.outboxes["api"];
        let in_flight: u64 = lost.iter().map(|&n| u64::from(n)).sum();
        assert!(in_flight > 0, "the crash cut off a batch in flight");
        assert_eq!(o.marks_lost, in_flight);
        assert_eq!(o.duplicates, in_flight, "{o:#?}");
        assert_eq!(o.sent, o.written + o.duplicates);
        assert_eq!((o.marked, o.depth_at_end), (o.written, 0));
        assert_eq!(r.summary.queues["jobs"].published, o.sent);
        assert_eq!(sent.len() as u64, o.sent);
        // Orders the crash refused wrote nothing.
        assert!(o.written < 400);
    }

    /// Two replicas of `api` (round robin: replica 0 takes the requests
    /// at 50, 150, … ms, replica 1 those at 100, 200, …), each request
    /// working 1 ms then writing to the outbox; every second allocation of
    /// a replica fills its free heap (1.5 MiB) and begins an 80 ms pause:
    /// replica 0 pauses over [150, 230), [350, 430), [550, 630) ms,
    /// replica 1 over [200, 280), [400, 480). The relays poll every 120 ms.
    const GC_RELAYS: &str = r#"
name = "outbox-gc"
duration = "2s"

[workload.orders]
target = "api"
rate = 20
arrivals = "deterministic"
requests = 11

[services.api]
replicas = 2
threads = 4
memory = { limit = "10.5MiB", base = "9MiB" }
gc = { allocation = "1MiB", young_pause = "80ms" }
steps = [{ work = "1ms" }, { publish = "jobs", outbox = { every = "120ms", batch = 20 } }]

[services.worker]
threads = 16
steps = [{ work = "1ms" }]

[brokers.bus]
ack = "30ms"

[queues.jobs]
consumer = "worker"
concurrency = 16
"#;

    /// A relay is its replica's own process. At 360 ms replica 0 is in
    /// its pause [350, 430) with the record written at 251 waiting: it
    /// sends it at 430, the pause's end, not at 360 (as it did before GC
    /// froze relays), while replica 1's relay sends its own two at 360, on
    /// the grid. Every send is on the grid or at its replica's pause's end,
    /// to the nanosecond, and every record is sent, marked and delivered
    /// exactly once.
    #[test]
    fn a_relay_whose_poll_falls_in_a_gc_pause_polls_at_its_end() {
        let (r, sent, lost) = run_text(GC_RELAYS);
        const MS: u64 = 1_000_000;
        // (replica, written, sent) in ms.
        let expected = [
            (0, 51, 120),
            (1, 101, 120),
            (0, 231, 240),
            (1, 281, 360),
            (1, 301, 360),
            (0, 251, 430),
            (0, 431, 480),
            (0, 451, 480),
            (1, 481, 600),
            (1, 501, 600),
            (0, 631, 720),
        ];
        let got: Vec<(u32, u64, u64)> = sent.iter().map(|x| (x.1, x.3, x.4)).collect();
        let expected: Vec<(u32, u64, u64)> = expected
            .iter()
            .map(|&(r, w, s)| (r, w * MS, s * MS))
            .collect();
        assert_eq!(got, expected);
        assert!(lost.is_empty());
        let o = &r.summary.outboxes["api"];
        assert_eq!((o.written, o.sent, o.marked), (11, 11, 11), "{o:#?}");
        assert_eq!((o.duplicates, o.depth_at_end), (0, 0));
        assert_eq!(r.summary.queues["jobs"].acked, 11);
        let api = r.summary.services["api"].memory.as_ref().expect("memory");
        assert_eq!(api.gc_pauses, 5);
    }
}
