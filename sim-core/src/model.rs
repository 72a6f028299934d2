//! The compiled model: what `scenario::build` produces and the engine runs.
//!
//! Plain data indexed by small integers (services, operations, steps,
//! edges, distributions), in the order the scenario file gives them. Owns no
//! behaviour and no random state; it must stay cheap to clone so a sweep can
//! build many worlds from one model.
//!
//! Past 600 (and 900) lines: it is the one vocabulary every other module reads
//! (services and their runtime, steps, calls, sources and shapes, faults,
//! brokers). The SLO conditions and their metric table are in `model/slo.rs`;
//! messaging (brokers, queues, logs, topics) is the next to move out.

use crate::dist::Dist;
use crate::patterns::{Admission, CallPolicy, Criticality, Layer, OutlierDetection};
use crate::time::Nanos;

mod ids;
mod slo;
pub use ids::{EdgeId, ServiceId};
pub use slo::{Slo, SloMetric, SloOp, SloScope, SloUnit};

pub type OpId = u32;
pub type DistId = u32;

/// Queue capacity meaning "no limit".
pub const UNBOUNDED: u32 = u32::MAX;

#[derive(Clone, Debug)]
pub struct Model {
    pub name: String,
    pub seed: u64,
    /// Sources send requests during [0, duration).
    pub duration: Nanos,
    pub warmup: Nanos,
    /// Longest extra time after `duration` for requests in flight.
    pub drain: Nanos,
    pub window: Nanos,
    pub services: Vec<Service>,
    /// Machines whose cores their services' replicas share.
    pub nodes: Vec<Node>,
    pub ops: Vec<Operation>,
    pub steps: Vec<Step>,
    /// Branch points of `Step::Branch` steps.
    pub branches: Vec<Branch>,
    pub caches: Vec<Cache>,
    /// `Step::Cache` and `Step::Fill` steps.
    pub cache_steps: Vec<CacheStep>,
    /// Targets of `call` steps, of `parallel` branches and of sources.
    pub calls: Vec<CallSpec>,
    /// Where each call spec is written (`services.a.steps.1`,
    /// `services.a.steps.2.parallel.0`, `workload.w`): its identity for
    /// random streams and messages.
    pub call_sites: Vec<String>,
    /// How each call spec's connections are sent again after a full
    /// backlog dropped them (beside `calls`).
    pub connects: Vec<Connect>,
    /// Resilience policies of calls (`CallSpec::policy`).
    pub policies: Vec<CallPolicy>,
    pub edges: Vec<Edge>,
    pub dists: Vec<Dist>,
    pub sources: Vec<Source>,
    pub faults: Vec<Fault>,
    /// Message brokers, their queues (a topic's subscriptions included),
    /// topics, and the targets of `publish` steps.
    pub brokers: Vec<Broker>,
    pub queues: Vec<Queue>,
    pub topics: Vec<Topic>,
    pub publishes: Vec<Publish>,
    /// Where each publish step is written (`services.a.steps.3`).
    pub publish_sites: Vec<String>,
    /// The `[slo]` assertions, in file order, checked after the run.
    pub slos: Vec<Slo>,
    /// The overload guard: requests in flight + messages + pending events
    /// past which the run stops, partial.
    pub max_in_flight: u64,
    /// Partitioned logs and their consumer groups (`log.rs` of the engine).
    pub logs: Vec<Log>,
    pub groups: Vec<Group>,
    /// Sagas (`[sagas]`), in file order, and each `saga` step's calls.
    pub sagas: Vec<Saga>,
    pub saga_sites: Vec<SagaSite>,
    /// Transactional outboxes, one per producing service that declares one.
    pub outboxes: Vec<Outbox>,
    /// Versioned stores (`[stores]`) and their `read` / `write` steps.
    pub stores: Vec<Store>,
    pub store_steps: Vec<StoreStep>,
    /// Zone-aware balancing and the cross-zone latency (`None` when the
    /// scenario declares neither).
    pub zoning: Option<Zoning>,
}

/// A service's transactional outbox: `outbox` publishes are written
/// locally and a relay per replica sends at most `batch` of them every
/// `every`.
#[derive(Clone, Debug)]
pub struct Outbox {
    pub service: ServiceId,
    pub every: Nanos,
    pub batch: u32,
}

/// The overload guard's default: about 1.5 GB of simulated state.
pub const DEFAULT_MAX_IN_FLIGHT: u64 = 4_000_000;

/// `repr(C, align(64))`. What every request reads of it (the balancer's
/// and the door's figures) is copied into the engine's dense `Door` table
/// (`engine/door.rs`): at thousands of services a service's model is
/// rarely in cache when a request arrives.
#[derive(Clone, Debug)]
#[repr(C, align(64))]
pub struct Service {
    pub replicas: u32,
    pub threads: u32,
    /// Accept-queue slots per replica, or `UNBOUNDED`.
    pub queue: u32,
    /// A full accept queue drops new connections (the client's TCP stack
    /// sends them again) instead of rejecting them.
    pub drops_when_full: bool,
    pub balancer: Balancer,
    /// Admission control at the door, per replica.
    pub admission: Admission,
    pub name: String,
    /// The service's operations, in file order; the first is the default.
    pub ops: Vec<OpId>,
    /// Ejection of replicas that fail in a row, on the balancer every
    /// caller shares.
    pub outlier: Option<OutlierDetection>,
    /// CPU cores per replica (processor sharing), or none.
    pub cores: Option<u32>,
    /// The node (`Model::nodes`) whose cores every replica shares, instead
    /// of `cores`.
    pub node: Option<u32>,
    /// Thread per request, or an event loop. For an event loop, `threads`
    /// is the connection limit (`max_connections`, `UNBOUNDED` if none):
    /// a request holds a connection from acceptance to answer, as a
    /// thread-pool request holds its thread.
    pub server: Server,
    /// The memory each replica holds, its OOM limit and its GC; none when
    /// the scenario does not model memory.
    pub memory: Option<Memory>,
    /// How a replica killed for memory comes back.
    pub lifecycle: Lifecycle,
    /// Work × (1 + k·n) with n the other requests in the replica when a
    /// work step starts (`work_law.per_in_flight`), if declared.
    pub work_per_in_flight: Option<f64>,
    /// The autoscaler, if any. `replicas` is then the engine's slots
    /// (`Autoscale::slots`); `Service::declared_replicas` the count at the
    /// start.
    pub autoscale: Option<crate::patterns::autoscale::Autoscale>,
    /// The zones replicas are spread over, in turn (empty: none named).
    pub zones: Vec<String>,
}

impl Service {
    /// The replicas as the scenario states them: at the start of the run.
    pub fn declared_replicas(&self) -> u32 {
        self.autoscale.map_or(self.replicas, |a| a.initial)
    }

    /// The zone of replica `r`, if the service names zones.
    pub fn zone_of(&self, r: u32) -> Option<&str> {
        (!self.zones.is_empty()).then(|| self.zones[r as usize % self.zones.len()].as_str())
    }

    /// The most replicas that may serve at once.
    pub fn max_replicas(&self) -> u32 {
        self.autoscale.map_or(self.replicas, |a| a.max)
    }
}

/// A machine: its cores are processor-shared by the work of every replica
/// placed on it.
#[derive(Clone, Debug)]
pub struct Node {
    pub name: String,
    pub cores: u32,
}

/// How a replica runs its requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Server {
    /// A thread per request, held through every downstream wait.
    ThreadPool,
    /// `loops` event-loop threads: work needs a loop, a call releases it;
    /// ready continuations wait in one FIFO run queue.
    EventLoop { loops: u32 },
}

/// A replica's memory, in bytes: `base + per_request × (requests in the
/// replica) + per_queued × (requests in its accept queue)`. Above `limit`
/// the replica is OOM-killed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Memory {
    pub limit: u64,
    pub base: u64,
    pub per_request: u64,
    pub per_queued: u64,
    pub gc: Option<Gc>,
}

/// Stop-the-world collection driven by the live heap: a pause whenever
/// allocation since the last collection reaches `limit - live`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Gc {
    /// Bytes allocated by each request when it starts.
    pub allocation: u64,
    /// The pause's fixed part.
    pub young_pause: Nanos,
    /// The pause's part per MiB of live memory, in ns.
    pub per_live_mib: f64,
}

/// Restart after an OOM kill (Kubernetes' CrashLoopBackOff), then a cold
/// start and a readiness delay.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Lifecycle {
    /// The first restart delay; it doubles on each crash up to
    /// `max_delay`, and is back to `delay` after `reset_after` up.
    pub delay: Nanos,
    pub max_delay: Nanos,
    pub reset_after: Nanos,
    /// Work × a factor falling linearly from `cold_slowdown` to 1 over
    /// `cold_for` after a restart.
    pub cold_for: Nanos,
    pub cold_slowdown: f64,
    /// A restarted replica takes traffic only this long after it starts.
    pub ready_after: Nanos,
}

impl Default for Lifecycle {
    fn default() -> Lifecycle {
        Lifecycle {
            delay: 10_000_000_000,
            max_delay: 300_000_000_000,
            reset_after: 600_000_000_000,
            cold_for: 0,
            cold_slowdown: 1.0,
            ready_after: 0,
        }
    }
}

impl Service {
    /// The event-loop threads, if the service is an event loop.
    pub fn loops(&self) -> Option<u32> {
        match self.server {
            Server::EventLoop { loops } => Some(loops),
            Server::ThreadPool => None,
        }
    }
}

/// How a request picks one of a service's replicas.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Balancer {
    RoundRobin,
    Random,
    /// The replica with the fewest requests (running + queued).
    LeastOutstanding,
    /// Two replicas at random; the one with fewer outstanding requests.
    PowerOfTwo,
}

#[derive(Clone, Debug)]
pub struct Operation {
    pub name: String,
    pub service: ServiceId,
    /// `steps[first .. first + len]`.
    pub first_step: u32,
    pub step_count: u32,
}

#[derive(Clone, Copy, Debug)]
pub enum Step {
    Work(DistId),
    /// Work that holds an event loop without using the CPU (a synchronous
    /// driver call inside an async server).
    Blocking(DistId),
    /// An I/O wait: holds the worker (a thread, or a connection on an
    /// event loop, whose loop moves on), uses no core, and only a fault
    /// scoped to the step stretches it.
    Wait(DistId),
    /// `calls[call]`.
    Call(u32),
    /// `calls[first .. first + count]`, all at once.
    Parallel {
        first: u32,
        count: u32,
    },
    /// Hand a message to a broker: `publishes[i]`.
    Publish(u32),
    /// Go on at one of `branches[i]`'s arms, drawn by probability.
    Branch(u32),
    /// Go on at this absolute step index (the end of a branch's arm jumps
    /// past the other arms).
    Jump(u32),
    /// Look a key up in `cache_steps[i]`'s cache: a hit goes on past its
    /// `Fill`, a miss runs the steps laid out after this one.
    Cache(u32),
    /// The end of `cache_steps[i]`'s miss steps: fill the key.
    Fill(u32),
    /// Run `saga_sites[i]`: its `do` calls in order, the `undo`s of those
    /// done in reverse when one fails.
    Saga(u32),
    /// `{ respond = "accepted" }`: answer the caller now (202 Accepted)
    /// and run the remaining steps without it (`engine/accepted.rs`).
    Accept,
    /// `{ read = "NAME" }`: `store_steps[i]` draws a key and keeps its
    /// version in the job (`engine/store.rs`).
    Read(u32),
    /// `{ write = "NAME" }`: `store_steps[i]` bumps the key's version, or
    /// (conditional) fails with `Outcome::Conflict` if it moved since the
    /// job's read.
    Write(u32),
}

/// A cache: exact LRU over `capacity` items, with a TTL per key.
#[derive(Clone, Debug)]
pub struct Cache {
    pub name: String,
    pub capacity: u32,
    pub ttl: Option<Nanos>,
    /// Keys 0 .. keys; key k drawn with probability ∝ 1 / (k+1)^zipf.
    pub keys: u32,
    pub zipf: Option<f64>,
    pub lookup: DistId,
    /// One per replica of `service` (the only service that looks it up).
    pub local: Option<ServiceId>,
    /// Single-flight: concurrent misses on one key wait for the first's
    /// fill.
    pub coalesce: bool,
    /// Stale-while-revalidate: how long past its TTL a key is still
    /// answered (and refilled in the background); 0 when off.
    pub stale: Nanos,
}

/// A `cache` step: its cache, where its `Fill` is, and where it is written
/// (its key stream's identity).
#[derive(Clone, Debug)]
pub struct CacheStep {
    pub cache: u32,
    pub fill: u32,
    pub site: String,
}

/// A branch point: its arms laid out after it in `steps`, each ending in a
/// `Jump` past the last arm.
#[derive(Clone, Debug)]
pub struct Branch {
    /// Running sums of the arms' probabilities (the last is 1).
    pub cumulative: Vec<f64>,
    /// Absolute index of each arm's first step.
    pub first: Vec<u32>,
    /// Where the branch point is written (`services.a.steps.2`): its
    /// stream's identity.
    pub site: String,
}

/// A message broker: what publishing and delivering cost.
#[derive(Clone, Debug)]
pub struct Broker {
    pub name: String,
    /// Publish → acknowledgement, as the producer waits for it.
    pub ack: DistId,
    /// Broker → consumer, while the consumer's thread waits for it.
    pub delivery: DistId,
}

/// What a publish does when a target queue is full (or the broker is down).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WhenFull {
    /// The publish fails at once.
    Fail,
    /// The producer's worker waits for space, at most this long.
    Block(Nanos),
}

/// A queue with at-least-once delivery to one consumer group: a
/// point-to-point queue, or one subscription of a topic.
#[derive(Clone, Debug)]
pub struct Queue {
    pub name: String,
    pub broker: u32,
    /// The topic this queue subscribes to, if any.
    pub topic: Option<u32>,
    /// Unacknowledged messages it can hold (waiting, being processed, or
    /// waiting for redelivery), or `UNBOUNDED`.
    pub capacity: u32,
    /// For publishes aimed at this queue directly.
    pub when_full: WhenFull,
    /// A delivered message not acknowledged within this is delivered again.
    pub visibility: Nanos,
    /// Past this many deliveries a failed message is dead-lettered
    /// (`u32::MAX`: never).
    pub max_deliveries: u32,
    /// Redelivery waits `backoff × 2^(n-1)`, at most `backoff_max`.
    pub backoff: Nanos,
    pub backoff_max: Nanos,
    /// Where dead-lettered messages go (a queue with its own consumer), if
    /// anywhere; otherwise they are only counted.
    pub dead_letter: Option<u32>,
    /// The consumer: an operation of a service, with `concurrency` workers
    /// per replica taken from the service's threads.
    pub consumer: OpId,
    pub service: ServiceId,
    pub concurrency: u32,
    pub idempotent: bool,
    /// An idempotency store: a duplicate finishing within this of the
    /// message's first success is a no-op.
    pub idempotency_ttl: Option<Nanos>,
}

/// A partitioned log (Kafka-style): a record's key picks its partition by
/// a stable hash; records stay until retention deletes them, consumed or
/// not.
#[derive(Clone, Debug)]
pub struct Log {
    pub name: String,
    /// Whose acknowledgement latency (and outages) publishes see.
    pub broker: u32,
    pub partitions: u32,
    /// A record older than this is deleted.
    pub retention_time: Option<Nanos>,
    /// Records kept per partition at most: the oldest goes first.
    pub retention_count: Option<u32>,
    /// Keys 0 .. keys; key k drawn with probability ∝ 1 / (k+1)^zipf.
    pub keys: u32,
    pub zipf: Option<f64>,
}

/// What a consumer group does with a record whose processing failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnFailure {
    /// Process it again after `backoff`: its partition waits behind it.
    RetryInPlace { backoff: Nanos },
    /// Append it to another log (`Model::logs`) and go on.
    RetryLog(u32),
    /// Count it as dead-lettered (appended to the log, if one is named)
    /// and go on.
    DeadLetter(Option<u32>),
}

/// A consumer group on a log: `members` workers on the consumer service's
/// replicas (member i on replica i mod replicas), at most one per
/// partition.
#[derive(Clone, Debug)]
pub struct Group {
    pub name: String,
    pub log: u32,
    pub consumer: OpId,
    pub service: ServiceId,
    pub members: u32,
    pub max_poll_records: u32,
    /// A member whose batch takes longer is evicted (a rebalance).
    pub max_poll_interval: Nanos,
    /// The stop-the-world pause of every membership change.
    pub rebalance: Nanos,
    pub on_failure: OnFailure,
    /// A poll batch's own cost on the member's thread (`log_batch.rs`).
    pub batch_cost: Option<BatchCost>,
}

/// A poll batch of n records holds its member's thread for `fixed` + n ×
/// `per_record` before its first record's consumer steps run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BatchCost {
    pub fixed: Nanos,
    pub per_record: Nanos,
}

/// A producer's batching of its records to a log (Kafka's `linger.ms`
/// and `batch.size`, counted in records).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProducerBatching {
    pub linger: Nanos,
    pub batch: u32,
}

/// A topic: every publish is copied into each subscription queue.
#[derive(Clone, Debug)]
pub struct Topic {
    pub name: String,
    pub broker: u32,
    pub queues: Vec<u32>,
    pub when_full: WhenFull,
}

/// The target of a `publish` step.
#[derive(Clone, Debug)]
pub struct Publish {
    /// The queue or topic as written.
    pub target: String,
    pub broker: u32,
    /// Queues that receive a copy (one, or a topic's subscriptions):
    /// up to two in the spec itself, not a buffer a publish would miss
    /// on at thousands of services.
    pub queues: smallvec::SmallVec<[u32; 2]>,
    pub when_full: WhenFull,
    /// Probability that a message is poison: every delivery of it fails.
    pub poison: f64,
    /// A publish to a partitioned log (`Model::logs`) instead of queues.
    pub log: Option<u32>,
    /// Written to this outbox (`Model::outboxes`) instead of the broker.
    pub outbox: Option<u32>,
    /// With a log: records wait in a batch per producer replica and
    /// partition (`log_batch.rs`).
    pub batching: Option<ProducerBatching>,
}

/// No resilience policy on a call.
pub const NO_POLICY: u32 = u32::MAX;

/// The client side of a connection a full backlog dropped: sent again
/// after `backoff`, doubling, at most `retries` times; after the last
/// wait the connect fails (a timeout).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Connect {
    pub retries: u32,
    pub backoff: Nanos,
    /// A split timeout's read part: armed when the callee accepts the
    /// connection (its connect part is `CallSpec::timeout`).
    pub read: Option<Nanos>,
}

impl Default for Connect {
    /// Linux's: 6 SYN retransmissions, 1 s initial RTO.
    fn default() -> Connect {
        Connect {
            retries: 6,
            backoff: 1_000_000_000,
            read: None,
        }
    }
}

/// A call as a caller makes it: a `call` step, a `parallel` branch, or a
/// workload source's request. Aligned: a call reads it whole, so it
/// should be one cache line, not two.
#[derive(Clone, Copy, Debug)]
#[repr(align(64))]
pub struct CallSpec {
    /// The edge the call travels, or `None` for a workload source's
    /// request or poll (the client is not a service and has no edge).
    pub edge: Option<EdgeId>,
    pub op: OpId,
    /// Per-attempt timeout.
    pub timeout: Option<Nanos>,
    /// Index into `Model::policies`, or `NO_POLICY`.
    pub policy: u32,
    /// The layers around the call, outermost first; `layers[..split]` apply
    /// once per call, the rest to every attempt (retries and hedges).
    pub layers: [Layer; 8],
    pub layer_count: u8,
    pub split: u8,
    /// The fallback sits inside the retry: each failed attempt is degraded.
    pub fallback_per_attempt: bool,
    /// The timeout is split (`{ connect, read }`): `timeout` is the connect
    /// part, `Model::connects[spec].read` the read part.
    pub split_timeout: bool,
}

impl CallSpec {
    pub fn new(edge: Option<EdgeId>, op: OpId, timeout: Option<Nanos>) -> CallSpec {
        let mut layers = [Layer::Timeout; 8];
        let layer_count = u8::from(timeout.is_some());
        layers[0] = Layer::Timeout;
        CallSpec {
            edge,
            op,
            timeout,
            policy: NO_POLICY,
            layers,
            layer_count,
            split: 0,
            fallback_per_attempt: false,
            split_timeout: false,
        }
    }

    /// Attaches `policy` (stored at `index`), deriving the layer split.
    pub fn with_policy(mut self, index: u32, policy: &CallPolicy) -> CallSpec {
        self.policy = index;
        let order: Vec<Layer> = policy
            .order
            .iter()
            .copied()
            .filter(|l| *l != Layer::Timeout || self.timeout.is_some())
            .collect();
        self.layer_count = order.len() as u8;
        self.layers[..order.len()].copy_from_slice(&order);
        let first_multi = order
            .iter()
            .position(|l| matches!(l, Layer::Retry | Layer::Hedge));
        self.split = first_multi.map_or(0, |p| p as u8);
        let pos = |x: Layer| order.iter().position(|l| *l == x);
        self.fallback_per_attempt =
            matches!((pos(Layer::Fallback), pos(Layer::Retry)), (Some(f), Some(r)) if f > r);
        self
    }

    pub fn layers(&self) -> &[Layer] {
        &self.layers[..self.layer_count as usize]
    }
}

/// A directed caller → callee pair; both hops of a call use its latency.
#[derive(Clone, Debug)]
pub struct Edge {
    pub from: ServiceId,
    pub to: ServiceId,
    pub latency: DistId,
    pub name: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arrivals {
    Poisson,
    Deterministic,
    /// At the times in `Source::replayed`, one request each.
    Replay,
}

/// How a source's rate changes over time (requests per second).
#[derive(Clone, Debug, PartialEq)]
pub enum Shape {
    Constant,
    /// From each time on, the rate; before the first, the source's rate.
    Steps(Vec<(Nanos, f64)>),
    /// Linear from the source's rate to `to` over [start, end).
    Ramp {
        start: Nanos,
        end: Nanos,
        to: f64,
    },
    Spike {
        start: Nanos,
        end: Nanos,
        rate: f64,
    },
    Sine {
        amplitude: f64,
        period: Nanos,
    },
    /// Rates at increasing times: linear between them, or held until the
    /// next; the first before the first point, the last after the last.
    Points {
        points: Vec<(Nanos, f64)>,
        linear: bool,
    },
}

impl Shape {
    /// The rate at `t` for a source of base rate `base`.
    pub fn rate_at(&self, base: f64, t: Nanos) -> f64 {
        match self {
            Shape::Constant => base,
            Shape::Steps(steps) => steps
                .iter()
                .rev()
                .find(|(at, _)| *at <= t)
                .map_or(base, |(_, r)| *r),
            Shape::Ramp { start, end, to } => {
                if t < *start {
                    base
                } else if t >= *end {
                    *to
                } else {
                    base + (to - base) * (t - start) as f64 / (end - start) as f64
                }
            }
            Shape::Spike { start, end, rate } => {
                if *start <= t && t < *end {
                    *rate
                } else {
                    base
                }
            }
            Shape::Sine { amplitude, period } => {
                base * (1.0 + amplitude * (std::f64::consts::TAU * t as f64 / *period as f64).sin())
            }
            Shape::Points { points, linear } => {
                let next = points.partition_point(|(at, _)| *at <= t);
                if next == 0 {
                    return points[0].1;
                }
                let (t0, r0) = points[next - 1];
                match points.get(next) {
                    Some(&(t1, r1)) if *linear => {
                        r0 + (r1 - r0) * (t - t0) as f64 / (t1 - t0) as f64
                    }
                    _ => r0,
                }
            }
        }
    }

    /// An upper bound of the rate over the run (for thinning).
    pub fn max_rate(&self, base: f64) -> f64 {
        match self {
            Shape::Constant => base,
            Shape::Steps(steps) => steps.iter().map(|(_, r)| *r).fold(base, f64::max),
            Shape::Ramp { to, .. } => base.max(*to),
            Shape::Spike { rate, .. } => base.max(*rate),
            Shape::Sine { amplitude, .. } => base * (1.0 + amplitude),
            Shape::Points { points, .. } => points.iter().map(|(_, r)| *r).fold(0.0, f64::max),
        }
    }
}

#[derive(Clone, Debug)]
pub struct Source {
    pub name: String,
    pub op: OpId,
    /// Requests per second (where the shape starts from); 0 when closed.
    pub rate: f64,
    pub shape: Shape,
    /// Closed loop: (users, think-time distribution).
    pub closed: Option<(u32, DistId)>,
    pub arrivals: Arrivals,
    pub timeout: Option<Nanos>,
    pub limit: Option<u64>,
    /// The source's request as a call (`calls[call]`, no edge): its
    /// timeout and retries.
    pub call: u32,
    /// The client's timeout travels with the request as a deadline.
    pub propagate_deadline: bool,
    /// The hop between the clients and the entry service, each way;
    /// `None` when it is always 0 (no event, no draw).
    pub latency: Option<DistId>,
    /// Inherited by every call made to serve its requests.
    pub criticality: Criticality,
    /// `Arrivals::Replay`: arrival times, never going back.
    pub replayed: Vec<Nanos>,
    /// After an accepted answer, poll a status operation until done.
    pub poll: Option<Poll>,
}

/// A source's polling of a status operation after its request was
/// answered `accepted`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Poll {
    /// Each poll as a call (`calls[call]`, no edge).
    pub call: u32,
    /// The wait after an accepted answer, and after each poll's answer.
    pub every: Nanos,
    /// Polls after which the client gives up (a timeout).
    pub max: u32,
}

#[derive(Clone, Debug)]
pub enum FaultKind {
    /// `work` (and `blocking`) steps × factor; with `Fault::steps`, those
    /// steps of any kind.
    Slowdown(f64),
    /// Extra latency on each hop of the targeted edges.
    Latency(DistId),
    /// Probability that an answer is an error.
    Errors(f64),
    /// Refuse every request; work in progress is lost.
    Crash,
    /// Accept requests and never answer them.
    Hang,
    /// This many threads per replica are gone.
    LostThreads(u32),
    /// Stop the world: no work finishes until the pause ends.
    Pause,
    /// Requests and answers along the targeted edges are lost.
    Partition,
    /// The targeted source's rate × factor.
    Surge(f64),
    /// The broker is down: publishes fail or block, nothing is delivered,
    /// acknowledgements are lost.
    Outage,
    /// The broker's acknowledgements take this many times longer.
    SlowBroker(f64),
    /// Every key of the targeted cache is gone (at the fault's start).
    Flush,
    /// The targeted cache answers no lookup and takes no fill: a lookup
    /// is a miss (`fail: false`) or fails its request (`fail: true`).
    CacheOutage { fail: bool },
    /// The targeted cache's lookups take this many times longer.
    CacheSlowdown(f64),
    /// Every read and write of the store fails its request (an error).
    StoreOutage { store: u32 },
    /// The store's reads and writes take `factor` times longer.
    StoreSlowdown { store: u32, factor: f64 },
}

impl FaultKind {
    pub fn label(&self) -> &'static str {
        match self {
            FaultKind::Slowdown(_) => "slowdown",
            FaultKind::Latency(_) => "latency",
            FaultKind::Errors(_) => "errors",
            FaultKind::Crash => "crash",
            FaultKind::Hang => "hang",
            FaultKind::LostThreads(_) => "lost_threads",
            FaultKind::Pause => "pause",
            FaultKind::Partition => "partition",
            FaultKind::Surge(_) => "surge",
            FaultKind::Outage => "outage",
            FaultKind::SlowBroker(_) => "slow_broker",
            FaultKind::Flush => "flush",
            FaultKind::CacheOutage { .. } => "cache_outage",
            FaultKind::CacheSlowdown(_) => "cache_slowdown",
            FaultKind::StoreOutage { .. } => "store_outage",
            FaultKind::StoreSlowdown { .. } => "store_slowdown",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Fault {
    pub kind: FaultKind,
    /// The target as written, for outputs.
    pub target: String,
    /// The cache of a `flush`, a cache outage or a cache slowdown.
    pub cache: Option<u32>,
    /// Services hit (for latency faults: the edges below instead).
    pub service: Option<ServiceId>,
    /// The workload source of a surge.
    pub source: Option<u32>,
    /// The broker of an outage or a slow broker.
    pub broker: Option<u32>,
    pub edges: Vec<EdgeId>,
    /// Only this replica, or all.
    pub replica: Option<u32>,
    /// An `errors` fault of one operation of `service`, or a slowdown's
    /// (with `steps`).
    pub op: Option<OpId>,
    /// A slowdown of only these steps (absolute indices into
    /// `Model::steps`, sorted); `None`: every `work` step of the service.
    pub steps: Option<Vec<u32>>,
    pub start: Nanos,
    pub end: Nanos,
    /// Stream of the fault's own draws (error coin flips, latency samples).
    pub stream: String,
}

impl Fault {
    /// A fault of `kind` on `target` over [`start`, `end`) that strikes
    /// nothing narrower yet (no service, source, broker, cache, edge,
    /// replica, operation or steps): the caller sets what it strikes.
    /// `stream` names its random stream.
    pub fn new(kind: FaultKind, target: String, stream: String, start: Nanos, end: Nanos) -> Fault {
        Fault {
            kind,
            target,
            cache: None,
            service: None,
            source: None,
            broker: None,
            edges: Vec::new(),
            replica: None,
            op: None,
            steps: None,
            start,
            end,
            stream,
        }
    }
}

impl Model {
    pub fn service_id(&self, name: &str) -> Option<ServiceId> {
        self.services
            .iter()
            .position(|s| s.name == name)
            .map(ServiceId::at)
    }

    /// Per queue, the services with an operation that publishes to it
    /// (directly or through its topic) or that consume the step before it
    /// in a choreographed saga (their acknowledgements publish into it),
    /// in file order. One pass over the services, not one per queue (at
    /// thousands of services and queues that was most of the summary).
    pub fn producers_by_queue(&self) -> Vec<Vec<ServiceId>> {
        let mut feeds: Vec<Vec<u32>> = vec![Vec::new(); self.services.len()];
        for g in &self.sagas {
            for w in g.choreography.windows(2) {
                feeds[self.ops[w[0].act as usize].service.index()].push(w[1].queue);
            }
        }
        let mut by_queue = vec![Vec::new(); self.queues.len()];
        for (s, svc) in self.services.iter().enumerate() {
            let mut queues = std::mem::take(&mut feeds[s]);
            for &op in &svc.ops {
                for st in self.op_steps(op) {
                    if let Step::Publish(p) = st {
                        queues.extend(&self.publishes[*p as usize].queues);
                    }
                }
            }
            queues.sort_unstable();
            queues.dedup();
            for q in queues {
                by_queue[q as usize].push(ServiceId::at(s));
            }
        }
        by_queue
    }

    pub fn op_steps(&self, op: OpId) -> &[Step] {
        let o = &self.ops[op as usize];
        &self.steps[o.first_step as usize..(o.first_step + o.step_count) as usize]
    }

    /// Services in call-graph order: entry targets first, then breadth first
    /// along calls and publishes (producer before consumer), then anything
    /// unreached in file order.
    pub fn services_in_call_order(&self) -> Vec<ServiceId> {
        let mut order: Vec<ServiceId> = Vec::new();
        let push = |s: ServiceId, order: &mut Vec<ServiceId>| {
            if !order.contains(&s) {
                order.push(s);
            }
        };
        for src in &self.sources {
            push(self.ops[src.op as usize].service, &mut order);
        }
        let mut i = 0;
        while i < order.len() {
            let s = order[i];
            for e in &self.edges {
                if e.from == s {
                    push(e.to, &mut order);
                }
            }
            // Consumers of what `s` publishes come after it.
            for &op in &self.services[s].ops {
                for step in self.op_steps(op) {
                    if let Step::Publish(p) = step {
                        for &q in &self.publishes[*p as usize].queues {
                            push(self.queues[q as usize].service, &mut order);
                        }
                    }
                }
            }
            i += 1;
        }
        for s in (0..self.services.len()).map(ServiceId::at) {
            push(s, &mut order);
        }
        order
    }
}

/// A saga as declared: its name and a label per step (the `do` target),
/// for its figures.
#[derive(Clone, Debug)]
pub struct Saga {
    pub name: String,
    pub steps: Vec<String>,
    /// A fully compensated saga lets its orchestrator's operation go on
    /// (otherwise the operation fails).
    pub compensated_succeeds: bool,
    /// A choreographed saga's steps, each triggered by a queue (empty for
    /// an orchestrated one).
    pub choreography: Vec<ChoreoStep>,
}

/// A choreographed saga step: a message on `queue` runs `act` (the queue's
/// consumer); a compensation message on the same queue runs `undo`.
#[derive(Clone, Copy, Debug)]
pub struct ChoreoStep {
    pub queue: u32,
    pub act: OpId,
    pub undo: Option<OpId>,
}

/// A `saga` step, compiled for the service that runs it (the
/// orchestrator): one (`do`, `undo`) pair of call specs per saga step.
#[derive(Clone, Debug)]
pub struct SagaSite {
    pub saga: u32,
    pub calls: Vec<SagaCalls>,
}

/// A saga step's calls (`Model::calls` indices); no undo when nothing
/// needs compensating (a read, a quote).
#[derive(Clone, Copy, Debug)]
pub struct SagaCalls {
    pub act: u32,
    pub undo: Option<u32>,
}

/// A versioned store (optimistic concurrency): keys `0..keys`, each with a
/// version that every committed write bumps.
#[derive(Clone, Debug)]
pub struct Store {
    pub name: String,
    /// Key k drawn with probability ∝ 1 / (k+1)^zipf (uniform without).
    pub keys: u32,
    pub zipf: Option<f64>,
    /// One read, and one write, there and back.
    pub read: DistId,
    pub write: DistId,
}

/// A `read` or `write` step of a store.
#[derive(Clone, Debug)]
pub struct StoreStep {
    pub store: u32,
    /// A write that fails with a conflict if the version moved since the
    /// job's read of the store (always false for a read).
    pub conditional: bool,
    /// A write after a read of the same store in its step list writes the
    /// key that read drew; otherwise the step draws its own key.
    pub after_read: bool,
    /// Where the step is written (`services.a.steps.1`): its key stream's
    /// identity.
    pub site: String,
}

impl Model {
    /// The latency distribution of a `Read(i)` or `Write(i)` step.
    pub fn store_latency(&self, step: Step, i: u32) -> DistId {
        let store = &self.stores[self.store_steps[i as usize].store as usize];
        match step {
            Step::Read(_) => store.read,
            _ => store.write,
        }
    }
}

/// Where callers are and what crossing zones costs. Replica `r` of a
/// service is in `Service::zone_of(r)`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Zoning {
    /// Added each way to a call whose caller and callee are in different
    /// zones (0: none).
    pub cross_zone: Nanos,
    /// Per service: its balancer prefers the caller's zone.
    pub aware: Vec<bool>,
    /// Per source: the zone its clients are in, if declared.
    pub source_zone: Vec<Option<String>>,
    /// Latencies of pairs of zones other than `cross_zone`, one way each.
    pub pairs: Vec<ZonePair>,
    /// Per service, with Envoy's percentage spill-over: its
    /// `min_cluster_size` (`aware` is true too).
    pub spill: Vec<Option<u32>>,
}

/// The latency from one zone to another (`[network] cross_zone` table).
#[derive(Clone, Debug, PartialEq)]
pub struct ZonePair {
    pub from: String,
    pub to: String,
    pub latency: Nanos,
}
