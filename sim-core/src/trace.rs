//! Simulated traces: the plain record of the requests `cascade run --trace`
//! sampled at their entry — every call, attempt, visit to a service and
//! timed step of each sampled request tree, as spans.
//!
//! Owns the span types only. The engine (`engine/trace.rs`) fills a
//! [`TraceLog`]; `reports::trace` writes it as Perfetto and OTLP JSON.
//! Must not import anything of the crate but `time` and `outcome`, nor
//! know any file format.

use crate::model::ServiceId;
use crate::outcome::Outcome;
use crate::time::Nanos;

/// Which requests to trace: each root request (a workload source's
/// request) is sampled with probability `sample`; of those, a uniform
/// sample of at most `max_traces` over the whole run is kept (a
/// reservoir).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TraceOptions {
    pub sample: f64,
    pub max_traces: u32,
}

/// A span's index in [`TraceLog::spans`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SpanId(pub u32);

/// A kept root request, numbered from 0 in the order they entered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TraceId(pub u32);

/// Where a span ran.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place {
    /// A workload source's clients (`TraceLog::sources`).
    Source(u32),
    /// A replica of a service (`TraceLog::services`).
    Replica { service: ServiceId, replica: u32 },
}

/// A timed step of a job.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepKind {
    /// CPU work (or an event loop's blocking work).
    Work,
    /// An I/O wait: the worker is held, no core used.
    Wait,
    /// A publish to `TraceLog::publishes[publish]`: from the offer to the
    /// broker's acknowledgement. The consumers' handling of its messages
    /// are its children.
    Publish { publish: u32 },
    /// A read of `TraceLog::stores[store]`: the `version` it saw
    /// (`unavailable`: the store was down, the read failed its request).
    StoreRead {
        store: u32,
        version: u32,
        unavailable: bool,
    },
    /// A write of `TraceLog::stores[store]`: the `version` it committed,
    /// or for a conditional write that found the version moved
    /// (`conflict`), the version it found; `unavailable`: the store was
    /// down, the write failed its request.
    StoreWrite {
        store: u32,
        version: u32,
        conditional: bool,
        conflict: bool,
        unavailable: bool,
    },
}

/// What a span records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum What {
    /// A caller's wait for an answer from `op` (`TraceLog::ops`): a job's
    /// call step or parallel branch, or a source's request. Its attempts
    /// are its children.
    Call { op: u32 },
    /// One request sent for a call: `number` counts from 1 (retries and
    /// hedges add more); `sent` says whether it left the caller (a breaker,
    /// rate limit or bulkhead may refuse it first).
    Attempt {
        op: u32,
        number: u16,
        hedged: bool,
        sent: bool,
    },
    /// A request's visit to a replica of `op`'s service (under the attempt
    /// that sent it, or the publish step whose message it consumes):
    /// `arrived` at its
    /// door (None: it never did — lost on the way), `started` on a worker
    /// (None: it never got one). `cut_off`: a crash or a kill ended it.
    Job {
        op: u32,
        arrived: Option<Nanos>,
        started: Option<Nanos>,
        cut_off: bool,
    },
    /// A timed step of the job that is its parent.
    Step { kind: StepKind },
}

/// One span of a sampled request.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Span {
    pub trace: TraceId,
    pub parent: Option<SpanId>,
    pub place: Place,
    pub what: What,
    /// For a job, when it was sent (its arrival is in `What::Job`).
    pub start: Nanos,
    /// None: still open when the run ended (`TraceLog::end`).
    pub end: Option<Nanos>,
    /// How it ended (None while open, and for steps).
    pub outcome: Option<Outcome>,
}

/// An operation's name and its service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpName {
    pub service: ServiceId,
    pub name: String,
}

/// The sampled requests of one run.
#[derive(Clone, Debug, PartialEq)]
pub struct TraceLog {
    pub options: TraceOptions,
    pub seed: u64,
    /// Names the spans' indices refer to, in the model's order.
    pub services: Vec<String>,
    pub ops: Vec<OpName>,
    pub sources: Vec<String>,
    /// Each publish step's queue or topic, as written.
    pub publishes: Vec<String>,
    /// Per service, its replicas.
    pub replicas: Vec<u32>,
    /// In the order they were opened: a parent before its children.
    pub spans: Vec<Span>,
    /// Root requests kept (sampled, and kept by the reservoir).
    pub traces: u32,
    /// Root requests sampled and not kept: past `max_traces`, the
    /// reservoir keeps a uniform sample of them all.
    pub skipped: u64,
    /// Spans not recorded because the log reached `MAX_SPANS` (their
    /// requests' trees are incomplete).
    pub spans_dropped: u64,
    /// When the run ended: the end of every span still open.
    pub end: Nanos,
    /// The versioned stores' names (`StepKind::StoreRead`, `StoreWrite`).
    pub stores: Vec<String>,
}

/// At most this many spans are kept (about 64 MB), whatever `max_traces`.
pub const MAX_SPANS: usize = 1 << 20;

impl TraceLog {
    /// A span's end, or the run's end for a span still open.
    pub fn end_of(&self, s: &Span) -> Nanos {
        s.end.unwrap_or(self.end)
    }

    /// The service a span ran at, if it ran at one.
    pub fn service_of(&self, s: &Span) -> Option<ServiceId> {
        match s.place {
            Place::Replica { service, .. } => Some(service),
            Place::Source(_) => None,
        }
    }

    /// `service.op` of an operation.
    pub fn op_label(&self, op: u32) -> String {
        let o = &self.ops[op as usize];
        format!("{}.{}", self.services[o.service], o.name)
    }
}

/// An outcome's name in trace attributes.
pub fn outcome_name(o: Outcome) -> &'static str {
    match o {
        Outcome::Ok => "ok",
        Outcome::Error => "error",
        Outcome::Rejected => "rejected",
        Outcome::Timeout => "timeout",
        Outcome::Refused => "refused",
        Outcome::CircuitOpen => "circuit_open",
        Outcome::Degraded => "degraded",
        Outcome::Conflict => "conflict",
        Outcome::Reset => "reset",
    }
}
