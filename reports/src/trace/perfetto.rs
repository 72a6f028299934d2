//! `trace.perfetto.json`: the sampled requests as Chrome trace-event JSON
//! (the "Trace Event Format" that ui.perfetto.dev and chrome://tracing
//! open).
//!
//! Layout: a process per service (and one per workload source, for its
//! clients); in a service, a thread track per replica and *lane*: a lane
//! is one traced request's handling on a worker (a thread, or an event
//! loop's connection) from its start to its answer, with its work, wait
//! and publish steps nested in it. The engine does not name threads, so
//! lanes are numbered per replica among the traced requests only (the
//! first lane free when one starts). Time in the accept queue is an async
//! slice ("queued") in the service's process; each call and each of its
//! attempts is an async slice in the caller's process, and an arrow (a
//! flow, bound by `bind_id` with `flow_out` on the attempt and `flow_in` on
//! the callee's handling: bound to the slices themselves, not to whichever
//! slice encloses a timestamp) goes from the attempt to the callee; and
//! from a publish step to the first handling of its message (one flow
//! leaves a slice: a topic's other copies and redeliveries have none).
//! Counter tracks per service (`queue_len`, `busy_threads`, `memory_mib`)
//! and per call edge (`breaker_open`, in the caller's process) are the
//! run's time series, one value per window at the window's start: every
//! request's, not only the traced ones'.
//!
//! Events are sorted by time (ties in the order written: a slice before
//! the slices nested in it), so timestamps never go back on a track. Must
//! not decide what is sampled; reads only the log and the time series.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use sim_core::output::TimeSeries;
use sim_core::trace::{Place, Span, SpanId, StepKind, TraceLog, What, outcome_name};

use super::{children, ms, started};

/// Microseconds, the format's unit, from nanoseconds.
fn us(ns: u64) -> f64 {
    ns as f64 / 1e3
}

/// Process ids: services first (from 1), then sources.
fn pid(log: &TraceLog, place: Place) -> u32 {
    match place {
        Place::Replica { service, .. } => service.0 + 1,
        Place::Source(src) => log.services.len() as u32 + 1 + src,
    }
}

struct Events {
    /// (time ns, order written, event).
    list: Vec<(u64, usize, Value)>,
}

impl Events {
    fn push(&mut self, t: u64, ev: Value) {
        let n = self.list.len();
        self.list.push((t, n, ev));
    }
}

/// The whole file.
pub fn render(log: &TraceLog, series: &TimeSeries) -> String {
    let kids = children(log);
    let lanes = lanes(log);
    let mut ev = Events { list: Vec::new() };
    // Per attempt or publish step: the first handling under it that got
    // a worker, the other end of its flow.
    let mut flows = vec![None; log.spans.len()];
    for (i, s) in log.spans.iter().enumerate() {
        if let (Some(p), Some(_)) = (s.parent, started(s)) {
            flows[p.0 as usize].get_or_insert(SpanId(i as u32));
        }
    }
    for (i, s) in log.spans.iter().enumerate() {
        let id = SpanId(i as u32);
        span_events(log, &lanes, &flows, &kids, id, s, &mut ev);
    }
    counters(log, series, &mut ev);
    ev.list.sort_by_key(|e| (e.0, e.1));
    let mut out = String::from("{\"displayTimeUnit\":\"ms\",\"traceEvents\":[\n");
    let mut first = true;
    for m in metadata(log, &lanes) {
        push_line(&mut out, &mut first, &m);
    }
    for (_, _, e) in &ev.list {
        push_line(&mut out, &mut first, e);
    }
    out.push_str("\n],\"otherData\":");
    out.push_str(
        &json!({
            "generator": format!("cascade {}", sim_core::VERSION),
            "seed": log.seed,
            "traces": log.traces,
            "sample": log.options.sample,
            "max_traces": log.options.max_traces,
            "not_traced_past_max": log.skipped,
            "spans_dropped": log.spans_dropped,
        })
        .to_string(),
    );
    out.push_str("}\n");
    out
}

fn push_line(out: &mut String, first: &mut bool, v: &Value) {
    if !*first {
        out.push_str(",\n");
    }
    *first = false;
    out.push_str(&v.to_string());
}

/// Per job span that got a worker: its (pid, tid); tids numbered per
/// process in (replica, lane) order.
struct Lanes {
    of: Vec<Option<(u32, u32)>>,
    /// Per pid: (replica, lane) → tid.
    tids: BTreeMap<u32, BTreeMap<(u32, u32), u32>>,
}

fn lanes(log: &TraceLog) -> Lanes {
    // Per (service, replica): jobs by start, each to the first lane free.
    let mut by_replica: BTreeMap<(u32, u32), Vec<usize>> = BTreeMap::new();
    for (i, s) in log.spans.iter().enumerate() {
        if let (Some(_), Place::Replica { service, replica }) = (started(s), s.place) {
            by_replica.entry((service.0, replica)).or_default().push(i);
        }
    }
    let mut lane_of = vec![None; log.spans.len()];
    let mut used: BTreeMap<(u32, u32), u32> = BTreeMap::new();
    for ((service, replica), mut jobs) in by_replica {
        jobs.sort_by_key(|&i| (started(&log.spans[i]), i));
        let mut free_at: Vec<u64> = Vec::new();
        for i in jobs {
            let s = &log.spans[i];
            let start = started(s).expect("started");
            let lane = match free_at.iter().position(|&t| t <= start) {
                Some(l) => l,
                None => {
                    free_at.push(0);
                    free_at.len() - 1
                }
            };
            free_at[lane] = log.end_of(s).max(start);
            lane_of[i] = Some((service, replica, lane as u32));
            used.insert((service, replica), free_at.len() as u32);
        }
    }
    let mut tids: BTreeMap<u32, BTreeMap<(u32, u32), u32>> = BTreeMap::new();
    for (&(service, replica), &n) in &used {
        let p = service + 1;
        let t = tids.entry(p).or_default();
        for lane in 0..n {
            let next = t.len() as u32 + 1;
            t.insert((replica, lane), next);
        }
    }
    let of = lane_of
        .into_iter()
        .map(|x| {
            x.map(|(service, replica, lane)| {
                let p = service + 1;
                (p, tids[&p][&(replica, lane)])
            })
        })
        .collect();
    Lanes { of, tids }
}

fn metadata(log: &TraceLog, lanes: &Lanes) -> Vec<Value> {
    let mut out = Vec::new();
    for (s, name) in log.services.iter().enumerate() {
        out.push(
            json!({"ph": "M", "name": "process_name", "pid": s + 1, "tid": 0,
            "args": {"name": name}}),
        );
    }
    for (i, name) in log.sources.iter().enumerate() {
        let p = pid(log, Place::Source(i as u32));
        out.push(
            json!({"ph": "M", "name": "process_name", "pid": p, "tid": 0,
            "args": {"name": format!("{name} (clients)")}}),
        );
    }
    for (p, t) in &lanes.tids {
        for (&(replica, lane), tid) in t {
            out.push(
                json!({"ph": "M", "name": "thread_name", "pid": p, "tid": tid,
                "args": {"name": format!("replica {replica} · lane {lane}")}}),
            );
        }
    }
    out
}

fn hex(id: SpanId) -> String {
    format!("0x{:x}", u64::from(id.0) + 1)
}

fn outcome_of(s: &Span) -> &'static str {
    match s.outcome {
        Some(o) => outcome_name(o),
        None if s.end.is_none() => "unfinished",
        None => "",
    }
}

/// An async slice: a `b` at `start` and an `e` at `end` with the same
/// pid, category and id.
#[allow(clippy::too_many_arguments)]
fn async_slice(
    ev: &mut Events,
    pid: u32,
    cat: &str,
    name: &str,
    id: SpanId,
    start: u64,
    end: u64,
    args: Value,
    flow_out: bool,
) {
    let mut b = json!({"ph": "b", "cat": cat, "name": name, "id": hex(id), "pid": pid,
        "tid": 0, "ts": us(start), "args": args});
    if flow_out {
        b["bind_id"] = Value::String(hex(id));
        b["flow_out"] = Value::Bool(true);
    }
    ev.push(start, b);
    ev.push(
        end,
        json!({"ph": "e", "cat": cat, "name": name, "id": hex(id), "pid": pid, "tid": 0,
            "ts": us(end)}),
    );
}

fn span_events(
    log: &TraceLog,
    lanes: &Lanes,
    flows: &[Option<SpanId>],
    kids: &[Vec<SpanId>],
    id: SpanId,
    s: &Span,
    ev: &mut Events,
) {
    let end = log.end_of(s).max(s.start);
    let p = pid(log, s.place);
    let trace = s.trace.0;
    match s.what {
        What::Call { op } => {
            let attempts = kids[id.0 as usize].len();
            async_slice(
                ev,
                p,
                "call",
                &format!("call {}", log.op_label(op)),
                id,
                s.start,
                end,
                json!({"trace": trace, "outcome": outcome_of(s), "attempts": attempts}),
                false,
            );
        }
        What::Attempt {
            op,
            number,
            hedged,
            sent,
        } => {
            let mut name = format!("attempt {number} {}", log.op_label(op));
            if hedged {
                name.push_str(" (hedge)");
            }
            if !sent {
                name.push_str(" (not sent)");
            }
            async_slice(
                ev,
                p,
                "attempt",
                &name,
                id,
                s.start,
                end,
                json!({"trace": trace, "outcome": outcome_of(s)}),
                flows[id.0 as usize].is_some(),
            );
        }
        What::Job {
            op,
            arrived,
            started,
            cut_off,
        } => {
            let Some(arrived) = arrived else { return };
            let until = started.unwrap_or(end);
            if until > arrived || started.is_none() {
                async_slice(
                    ev,
                    p,
                    "queue",
                    &format!("queued {}", log.op_label(op)),
                    id,
                    arrived,
                    until,
                    json!({"trace": trace}),
                    false,
                );
            }
            let (Some(started), Some((pid, tid))) = (started, lanes.of[id.0 as usize]) else {
                return;
            };
            let mut x = json!({"ph": "X", "cat": "request", "name": log.op_label(op),
                "pid": pid, "tid": tid, "ts": us(started), "dur": us(end - started.min(end)),
                "args": {"trace": trace, "outcome": outcome_of(s),
                    "queued_ms": ms(started - arrived), "cut_off": cut_off}});
            if let Some(parent) = s.parent.filter(|p| flows[p.0 as usize] == Some(id)) {
                x["bind_id"] = Value::String(hex(parent));
                x["flow_in"] = Value::Bool(true);
            }
            ev.push(started, x);
        }
        What::Step { kind } => {
            let Some(parent) = s.parent else { return };
            let Some((pid, tid)) = lanes.of[parent.0 as usize] else {
                return;
            };
            let name = match kind {
                StepKind::Work => "work".to_owned(),
                StepKind::Wait => "wait".to_owned(),
                StepKind::Publish { publish } => {
                    format!("publish {}", log.publishes[publish as usize])
                }
                StepKind::StoreRead { .. } | StepKind::StoreWrite { .. } => {
                    super::store_spans::name(log, kind)
                }
            };
            let mut x = json!({"ph": "X", "cat": "step", "name": name, "pid": pid, "tid": tid,
                "ts": us(s.start), "dur": us(end - s.start), "args": {"trace": trace}});
            super::store_spans::perfetto_args(kind, &mut x["args"]);
            if flows[id.0 as usize].is_some() {
                x["bind_id"] = Value::String(hex(id));
                x["flow_out"] = Value::Bool(true);
            }
            ev.push(s.start, x);
        }
    }
}

/// The run's gauges as counter tracks, one value per window.
fn counters(log: &TraceLog, series: &TimeSeries, ev: &mut Events) {
    let at = |w: usize| (series.window_start_s[w] * 1e9).round() as u64;
    for s in &series.series {
        let (service, name) = match (s.scope.as_str(), s.metric.as_str()) {
            ("service", m @ ("queue_len" | "busy_threads" | "memory_mib")) => {
                (s.name.as_str(), m.to_owned())
            }
            ("edge", "breaker_open") => match s.name.split_once("->") {
                Some((from, to)) if s.values.iter().any(|v| *v > 0.0) => {
                    (from, format!("breaker open → {to}"))
                }
                _ => continue,
            },
            _ => continue,
        };
        let Some(svc) = log.services.iter().position(|n| n == service) else {
            continue;
        };
        for (w, v) in s.values.iter().enumerate() {
            if w < series.window_start_s.len() && v.is_finite() {
                ev.push(
                    at(w),
                    json!({"ph": "C", "name": name, "pid": svc + 1, "tid": 0,
                        "ts": us(at(w)), "args": {"value": v}}),
                );
            }
        }
    }
}
