//! `trace.otlp.json`: the sampled requests as OTLP JSON, one
//! `ExportTraceServiceRequest` per line and per trace, as the OpenTelemetry
//! collector's file exporter writes them (`resourceSpans` per service, hex
//! `traceId`/`spanId`, integer enums, times as decimal strings of
//! nanoseconds since the run's start, read as the Unix epoch).
//!
//! Spans: a job that got a worker is a SERVER span (its time in the accept
//! queue is the attribute `cascade.queued_ns`: a server's instrumentation
//! starts with its handler); each attempt that left its caller is a CLIENT
//! span (`peer.service` names the callee) with the callee's SERVER span
//! under it; work and wait steps are INTERNAL spans; a publish step is a
//! PRODUCER span (`messaging.destination.name`: its queue or topic) with
//! the CONSUMER spans of its messages' handlings under it. A call is an
//! INTERNAL span of its own only when it is more than its one attempt
//! (retries, hedges, a fallback, a deadline); an attempt a breaker, rate
//! limit or bulkhead refused before sending is INTERNAL (nothing went on
//! the wire). Failures carry status ERROR and `cascade.outcome`.
//!
//! Must not decide what is sampled; reads only the log.

use indexmap::IndexMap;
use serde_json::{Value, json};
use sim_core::Outcome;
use sim_core::trace::{Place, Span, SpanId, StepKind, TraceLog, What, outcome_name};

use super::children;

const INTERNAL: i64 = 1;
const SERVER: i64 = 2;
const CLIENT: i64 = 3;
const PRODUCER: i64 = 4;
const CONSUMER: i64 = 5;
const STATUS_ERROR: i64 = 2;

/// The whole file: one line per trace.
pub fn render(log: &TraceLog) -> String {
    let kids = children(log);
    let collapsed: Vec<bool> = log
        .spans
        .iter()
        .enumerate()
        .map(|(i, s)| collapses(log, &kids[i], s))
        .collect();
    let mut by_trace: Vec<Vec<usize>> = vec![Vec::new(); log.traces as usize];
    for (i, s) in log.spans.iter().enumerate() {
        by_trace[s.trace.0 as usize].push(i);
    }
    let mut out = String::new();
    for (t, spans) in by_trace.iter().enumerate() {
        let mut resources: IndexMap<String, Vec<Value>> = IndexMap::new();
        for &i in spans {
            let s = &log.spans[i];
            if collapsed[i] {
                continue;
            }
            let Some(span) = span_json(log, &collapsed, i, t as u32, s) else {
                continue;
            };
            resources.entry(resource(log, s)).or_default().push(span);
        }
        if resources.is_empty() {
            continue;
        }
        let resource_spans: Vec<Value> = resources
            .into_iter()
            .map(|(name, spans)| {
                json!({
                    "resource": {"attributes": [attr_str("service.name", &name)]},
                    "scopeSpans": [{
                        "scope": {"name": "cascade", "version": sim_core::VERSION},
                        "spans": spans,
                    }],
                })
            })
            .collect();
        out.push_str(&json!({ "resourceSpans": resource_spans }).to_string());
        out.push('\n');
    }
    out
}

/// A call that is exactly its one attempt is not written: the attempt
/// stands for it.
fn collapses(log: &TraceLog, kids: &[SpanId], s: &Span) -> bool {
    if !matches!(s.what, What::Call { .. }) {
        return false;
    }
    let attempts: Vec<&Span> = kids
        .iter()
        .map(|k| &log.spans[k.0 as usize])
        .filter(|c| matches!(c.what, What::Attempt { .. }))
        .collect();
    attempts.len() == 1 && attempts[0].outcome == s.outcome && attempts[0].end == s.end
}

/// The service name a span is reported under.
fn resource(log: &TraceLog, s: &Span) -> String {
    match s.place {
        Place::Replica { service, .. } => log.services[service].clone(),
        Place::Source(src) => format!("{} (client)", log.sources[src as usize]),
    }
}

/// The nearest written ancestor.
fn written_parent(log: &TraceLog, collapsed: &[bool], s: &Span) -> Option<SpanId> {
    let mut p = s.parent?;
    while collapsed[p.0 as usize] {
        p = log.spans[p.0 as usize].parent?;
    }
    Some(p)
}

pub fn trace_id(log: &TraceLog, trace: u32) -> String {
    format!("{:016x}{:016x}", log.seed, u64::from(trace) + 1)
}

pub fn span_id(id: SpanId) -> String {
    format!("{:016x}", u64::from(id.0) + 1)
}

fn attr_str(key: &str, v: &str) -> Value {
    json!({"key": key, "value": {"stringValue": v}})
}

fn attr_int(key: &str, v: u64) -> Value {
    json!({"key": key, "value": {"intValue": v.to_string()}})
}

fn attr_bool(key: &str, v: bool) -> Value {
    json!({"key": key, "value": {"boolValue": v}})
}

fn span_json(log: &TraceLog, collapsed: &[bool], i: usize, trace: u32, s: &Span) -> Option<Value> {
    let mut attrs = Vec::new();
    let (kind, name, start) = match s.what {
        What::Call { op } => {
            attrs.push(attr_str("peer.service", &callee(log, op)));
            (INTERNAL, format!("call {}", log.op_label(op)), s.start)
        }
        What::Attempt {
            op,
            number,
            hedged,
            sent,
        } => {
            attrs.push(attr_str("peer.service", &callee(log, op)));
            attrs.push(attr_int("cascade.attempt", u64::from(number)));
            if hedged {
                attrs.push(attr_bool("cascade.hedge", true));
            }
            if sent {
                (CLIENT, log.op_label(op), s.start)
            } else {
                (INTERNAL, format!("not sent: {}", log.op_label(op)), s.start)
            }
        }
        What::Job {
            op,
            arrived,
            started,
            cut_off,
        } => {
            // A job that never got a worker ran no handler: the client span
            // says how its attempt ended.
            let started = started?;
            let Place::Replica { replica, .. } = s.place else {
                return None;
            };
            attrs.push(attr_int("cascade.replica", u64::from(replica)));
            let producer = s.parent.and_then(|p| match log.spans[p.0 as usize].what {
                What::Step {
                    kind: StepKind::Publish { publish },
                } => Some(publish),
                _ => None,
            });
            if let Some(publish) = producer {
                let target = &log.publishes[publish as usize];
                attrs.push(attr_str("messaging.destination.name", target));
            }
            attrs.push(attr_int(
                "cascade.queued_ns",
                started - arrived.unwrap_or(started),
            ));
            if cut_off {
                attrs.push(attr_bool("cascade.cut_off", true));
            }
            let kind = if producer.is_some() { CONSUMER } else { SERVER };
            (kind, log.ops[op as usize].name.clone(), started)
        }
        What::Step { kind } => match kind {
            StepKind::Work => (INTERNAL, "work".to_owned(), s.start),
            StepKind::Wait => (INTERNAL, "wait".to_owned(), s.start),
            StepKind::Publish { publish } => {
                let target = &log.publishes[publish as usize];
                attrs.push(attr_str("messaging.destination.name", target));
                (PRODUCER, format!("publish {target}"), s.start)
            }
            StepKind::StoreRead { .. } | StepKind::StoreWrite { .. } => {
                super::store_spans::otlp(log, kind, &mut attrs, s.start)
            }
        },
    };
    if let Some(o) = s.outcome {
        attrs.push(attr_str("cascade.outcome", outcome_name(o)));
    }
    if s.end.is_none() {
        attrs.push(attr_bool("cascade.unfinished", true));
    }
    let mut span = json!({
        "traceId": trace_id(log, trace),
        "spanId": span_id(SpanId(i as u32)),
        "name": name,
        "kind": kind,
        "startTimeUnixNano": start.to_string(),
        "endTimeUnixNano": log.end_of(s).max(start).to_string(),
        "attributes": attrs,
    });
    if let Some(p) = written_parent(log, collapsed, s) {
        span["parentSpanId"] = Value::String(span_id(p));
    }
    if let What::Step { kind } = s.what
        && let Some(why) = super::store_spans::failure(kind)
    {
        span["status"] = json!({"code": STATUS_ERROR, "message": why});
    } else if let Some(o) = s.outcome.filter(|o| !o.is_success()) {
        span["status"] = json!({"code": STATUS_ERROR, "message": outcome_name(o)});
    } else if s.outcome == Some(Outcome::Degraded) {
        span["status"] = json!({"message": "degraded"});
    }
    Some(span)
}

fn callee(log: &TraceLog, op: u32) -> String {
    log.services[log.ops[op as usize].service].clone()
}
