//! Choreographed sagas: no orchestrator, only messages. A message entering
//! the first step's queue from anywhere (a `publish` step, an outbox's
//! relay) starts a saga; each step's `do` runs as its queue's consumer,
//! and the step ends when the broker settles its message: acknowledged
//! (the consumer's operation succeeded) or dead-lettered (it failed
//! `max_deliveries` times). An acknowledgement publishes the next step's
//! message; a dead letter publishes the compensation: a message on the
//! queue of the nearest done step with an `undo`, whose consumer runs the
//! undo, and so on down in reverse order. A dead-lettered compensation
//! leaves the saga stuck.
//!
//! The next message goes out with the acknowledgement, as one transaction
//! (the consumer's own outbox, relayed at once): whatever the target
//! queue's capacity, and while its broker is down it waits to be
//! delivered. So an outage, a crash or a slow consumer delays a saga but
//! cannot lose it; redeliveries and duplicates are the queues' (a
//! duplicate processing does not move the saga: only the settlement
//! does).
//!
//! Owns the running sagas, which message carries which saga's step, and
//! the consumer operation a saga message runs; must not decide how a
//! message is delivered, redelivered or settled (`broker.rs`).

use super::World;
use super::ids::MsgId;
use super::records::NEVER;
use crate::model::{Model, OpId};
use crate::time::Nanos;

/// A running choreographed saga: an index into `Choreo::runs`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct SagaRunId(u32);

#[derive(Clone, Copy, Debug)]
struct Run {
    saga: u32,
    /// The step whose `do` (forward) or `undo` (compensating) is in a
    /// message now.
    pos: u32,
    started: Nanos,
    /// When the first step's message was acknowledged (`NEVER` before).
    first_effect: Nanos,
}

/// What a saga message asks its consumer to do.
#[derive(Clone, Copy, Debug)]
pub(super) struct SagaMessage {
    run: SagaRunId,
    step: u32,
    undo: bool,
}

#[derive(Default)]
pub(super) struct Choreo {
    /// The model has choreographed sagas: checked before any saga work.
    pub on: bool,
    runs: Vec<Run>,
    free: Vec<u32>,
    /// Per message slot: the saga step it carries (`None`: an ordinary
    /// message). Written at every enqueue, so a reused slot is never
    /// stale.
    carried: Vec<Option<SagaMessage>>,
    /// Per queue: the (saga, step) its messages trigger.
    step_of_queue: Vec<Option<(u32, u32)>>,
    /// The saga message being published: `enqueue` hands it to the new
    /// message before delivering it.
    publishing: Option<SagaMessage>,
    /// Every step message published, in order: (saga step, is undo).
    #[cfg(test)]
    pub trace: Vec<(u32, bool)>,
}

impl Choreo {
    pub fn new(m: &Model) -> Choreo {
        let mut step_of_queue = vec![None; m.queues.len()];
        for (s, saga) in m.sagas.iter().enumerate() {
            for (k, st) in saga.choreography.iter().enumerate() {
                step_of_queue[st.queue as usize] = Some((s as u32, k as u32));
            }
        }
        Choreo {
            on: m.sagas.iter().any(|s| !s.choreography.is_empty()),
            step_of_queue,
            ..Choreo::default()
        }
    }

    fn start(&mut self, saga: u32, now: Nanos) -> SagaRunId {
        let run = Run {
            saga,
            pos: 0,
            started: now,
            first_effect: NEVER,
        };
        match self.free.pop() {
            Some(i) => {
                self.runs[i as usize] = run;
                SagaRunId(i)
            }
            None => {
                self.runs.push(run);
                SagaRunId((self.runs.len() - 1) as u32)
            }
        }
    }
}

impl World<'_> {
    /// Message `id` was just put in queue `q`: it carries the saga step
    /// being published, starts a saga (the first step's queue), or is an
    /// ordinary message.
    pub(super) fn saga_message_enqueued(&mut self, id: MsgId, q: u32) {
        let carried = match self.choreo.publishing.take() {
            Some(c) => Some(c),
            None => match self.choreo.step_of_queue[q as usize] {
                Some((saga, 0)) => {
                    self.rec.sagas[saga as usize].started();
                    let run = self.choreo.start(saga, self.now);
                    #[cfg(test)]
                    self.choreo.trace.push((0, false));
                    Some(SagaMessage {
                        run,
                        step: 0,
                        undo: false,
                    })
                }
                _ => None,
            },
        };
        let i = id.0 as usize;
        if self.choreo.carried.len() <= i {
            self.choreo.carried.resize(i + 1, None);
        }
        self.choreo.carried[i] = carried;
    }

    /// The operation a delivery of message `id` runs: the step's `undo`
    /// for a compensation message, the queue's consumer otherwise.
    pub(super) fn saga_consumer_op(&self, id: MsgId, consumer: OpId) -> OpId {
        match self.choreo.carried.get(id.0 as usize).copied().flatten() {
            Some(SagaMessage {
                run,
                step,
                undo: true,
            }) => {
                let saga = self.choreo.runs[run.0 as usize].saga as usize;
                self.m.sagas[saga].choreography[step as usize]
                    .undo
                    .expect("compensation messages go only to steps with an undo")
            }
            _ => consumer,
        }
    }

    /// The broker settled message `id` for good: acknowledged (`acked`) or
    /// dead-lettered. A saga message moves its saga on.
    pub(super) fn saga_message_settled(&mut self, id: MsgId, acked: bool) {
        let Some(c) = self
            .choreo
            .carried
            .get_mut(id.0 as usize)
            .and_then(Option::take)
        else {
            return;
        };
        let now = self.now;
        let r = c.run.0 as usize;
        let run = self.choreo.runs[r];
        let saga = run.saga as usize;
        let steps = self.m.sagas[saga].choreography.len() as u32;
        match (c.undo, acked) {
            (false, true) => {
                let first_effect = run.first_effect.min(now);
                if c.step + 1 == steps {
                    self.rec.sagas[saga].completed(run.started, first_effect, now);
                    return self.saga_run_ended(c.run);
                }
                let run = &mut self.choreo.runs[r];
                run.first_effect = first_effect;
                run.pos = c.step + 1;
                self.publish_saga_message(c.run, c.step + 1, false);
            }
            (false, false) => {
                self.rec.sagas[saga].step_failed(c.step as usize);
                self.next_compensation(c.run, c.step);
            }
            (true, true) => self.next_compensation(c.run, c.step),
            (true, false) => {
                self.rec.sagas[saga].undo_failed(c.step as usize);
                self.rec.sagas[saga].stuck(false);
                self.saga_run_ended(c.run);
            }
        }
    }

    /// Compensating from below step `above`: the undo of the nearest done
    /// step with one, or the end of the compensation.
    fn next_compensation(&mut self, run: SagaRunId, above: u32) {
        let r = self.choreo.runs[run.0 as usize];
        let saga = &self.m.sagas[r.saga as usize];
        let next = (0..above)
            .rev()
            .find(|&k| saga.choreography[k as usize].undo.is_some());
        match next {
            Some(k) => {
                self.choreo.runs[run.0 as usize].pos = k;
                self.publish_saga_message(run, k, true);
            }
            None => {
                self.rec.sagas[r.saga as usize].compensated(r.first_effect, self.now);
                self.saga_run_ended(run);
            }
        }
    }

    /// Puts step `step`'s message (its `do`, or its `undo`) in the step's
    /// queue.
    fn publish_saga_message(&mut self, run: SagaRunId, step: u32, undo: bool) {
        #[cfg(test)]
        self.choreo.trace.push((step, undo));
        let saga = self.choreo.runs[run.0 as usize].saga as usize;
        let q = self.m.sagas[saga].choreography[step as usize].queue;
        self.choreo.publishing = Some(SagaMessage { run, step, undo });
        self.enqueue(q, false);
    }

    fn saga_run_ended(&mut self, run: SagaRunId) {
        self.choreo.free.push(run.0);
    }
}

#[cfg(test)]
mod tests {
    use super::super::World;
    use crate::options::RunOptions;

    /// One order by choreography whose fourth step (payment) always
    /// fails: the three steps done before it are compensated in reverse,
    /// skipping the one with no undo, each by a message on its own queue.
    const ONE_ORDER: &str = r#"
name = "choreo-order"
duration = "10s"

[workload.w]
target = "api"
rate = 10
arrivals = "deterministic"
requests = 1

[services.api]
threads = 4
steps = [{ publish = "order-created" }]

[queues.order-created]
consumer = "inventory.reserve"
[queues.reserved]
consumer = "shipping.quote"
[queues.quoted]
consumer = "loyalty.hold"
[queues.held]
consumer = "payment.charge"
max_deliveries = 2
redelivery_backoff = "10ms"

[services.inventory]
threads = 16
[services.inventory.operations.reserve]
steps = [{ work = "1ms" }]
[services.inventory.operations.release]
steps = [{ work = "1ms" }]
[services.shipping]
threads = 16
[services.shipping.operations.quote]
steps = [{ work = "1ms" }]
[services.loyalty]
threads = 16
[services.loyalty.operations.hold]
steps = [{ work = "1ms" }]
[services.loyalty.operations.free]
steps = [{ work = "1ms" }]
[services.payment]
threads = 16
[services.payment.operations.charge]
steps = [{ work = "1ms" }]
[services.payment.operations.refund]
steps = [{ work = "1ms" }]

[sagas.order]
mode = "choreographed"
steps = [
  { via = "order-created", do = "inventory.reserve", undo = "inventory.release" },
  { via = "reserved", do = "shipping.quote" },
  { via = "quoted", do = "loyalty.hold", undo = "loyalty.free" },
  { via = "held", do = "payment.charge", undo = "payment.refund" },
]

[[fault]]
target = "payment.charge"
errors = 1.0
at = "0s"
for = "10s"
"#;

    #[test]
    fn compensations_run_in_reverse_order_after_a_dead_lettered_step() {
        let s = crate::load("t.toml", ONE_ORDER, &[]).expect("loads");
        let opts = RunOptions::default();
        let mut w = World::new(&s.model, &opts);
        w.run_loop(&opts.watch);
        assert_eq!(
            w.choreo.trace,
            [
                (0, false),
                (1, false),
                (2, false),
                (3, false),
                (2, true),
                (0, true)
            ],
            "do 0..3, payment dead-lettered, undo 2 then 0 (1 has nothing to undo)"
        );
        let r = w.finish(&opts);
        let g = &r.summary.sagas["order"];
        assert_eq!(
            (g.started, g.compensated, g.completed, g.stuck),
            (1, 1, 0, 0)
        );
        assert_eq!(g.steps[3].failures, 1);
        // The undos ran as consumers of the steps' own queues.
        let q = &r.summary.queues;
        assert_eq!(q["held"].dead_lettered, 1);
        assert_eq!(q["held"].delivered, 2, "two deliveries, then dead-lettered");
        assert_eq!(q["quoted"].acked, 2, "hold, then free");
        assert_eq!(q["reserved"].acked, 1, "quote only: nothing to undo");
        assert_eq!(q["order-created"].acked, 2, "reserve, then release");
    }
}
