//! Jaeger's JSON (the query API and UI export): `data[]` traces, each with
//! `spans[]` (`references` CHILD_OF/FOLLOWS_FROM, `startTime` and
//! `duration` in µs, `tags`, `processID`) and `processes` (`serviceName`).
//!
//! Owns only the mapping of one document to spans.

use indexmap::IndexMap;
use serde::Deserialize;

use super::span::{At, Collector, Kind, RawSpan};

#[derive(Deserialize)]
pub struct Document {
    #[serde(default)]
    data: Vec<Trace>,
}

#[derive(Deserialize)]
struct Trace {
    #[serde(default)]
    spans: Vec<JaegerSpan>,
    #[serde(default)]
    processes: IndexMap<String, Process>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Process {
    service_name: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct JaegerSpan {
    #[serde(rename = "traceID")]
    trace_id: String,
    #[serde(rename = "spanID")]
    span_id: String,
    #[serde(default)]
    operation_name: String,
    #[serde(default)]
    references: Vec<Reference>,
    start_time: u64,
    duration: u64,
    #[serde(default)]
    tags: Vec<Tag>,
    #[serde(rename = "processID", default)]
    process_id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Reference {
    #[serde(default)]
    ref_type: String,
    #[serde(rename = "spanID")]
    span_id: String,
    /// Absent: the span's own trace.
    #[serde(rename = "traceID", default)]
    trace_id: Option<String>,
}

#[derive(Deserialize)]
struct Tag {
    key: String,
    #[serde(default)]
    value: serde_json::Value,
}

fn tag<'a>(tags: &'a [Tag], key: &str) -> Option<&'a serde_json::Value> {
    tags.iter().find(|t| t.key == key).map(|t| &t.value)
}

fn tag_str<'a>(tags: &'a [Tag], key: &str) -> Option<&'a str> {
    tag(tags, key).and_then(serde_json::Value::as_str)
}

pub fn read(doc: &Document, at: &At, out: &mut Collector) -> Result<(), String> {
    for t in &doc.data {
        for s in &t.spans {
            let service = t
                .processes
                .get(&s.process_id)
                .map_or("unknown", |p| p.service_name.as_str());
            let kind = match tag_str(&s.tags, "span.kind") {
                Some("server") => Kind::Server,
                Some("client") => Kind::Client,
                Some("producer") => Kind::Producer,
                Some("consumer") => Kind::Consumer,
                _ => Kind::Internal,
            };
            // A reference into another trace (a FOLLOWS_FROM hand-off, or
            // a CHILD_OF written across traces) is a link, which
            // `links.rs` follows, not a parent.
            let crosses = |r: &&Reference| {
                r.trace_id
                    .as_deref()
                    .is_some_and(|t| !same_trace(t, &s.trace_id))
            };
            let parent = s
                .references
                .iter()
                .filter(|r| !crosses(r))
                .find(|r| r.ref_type == "CHILD_OF")
                .or_else(|| s.references.iter().find(|r| !crosses(r)))
                .map(|r| r.span_id.as_str());
            let links = s
                .references
                .iter()
                .filter(crosses)
                .map(|r| (r.trace_id.as_deref().unwrap_or(""), r.span_id.as_str()))
                .collect();
            let error = matches!(tag(&s.tags, "error"), Some(v) if v == true || v == "true");
            let destination = tag_str(&s.tags, "messaging.destination.name")
                .or_else(|| tag_str(&s.tags, "message_bus.destination"));
            let peer = tag_str(&s.tags, "peer.service")
                .or_else(|| tag_str(&s.tags, "db.system"))
                .or(destination);
            out.push(
                at,
                RawSpan {
                    trace: &s.trace_id,
                    id: &s.span_id,
                    parent,
                    service,
                    name: &s.operation_name,
                    kind,
                    start: s.start_time.saturating_mul(1000),
                    end: s.start_time.saturating_add(s.duration).saturating_mul(1000),
                    error,
                    peer,
                    destination,
                    links,
                },
            )?;
        }
    }
    Ok(())
}

/// Two trace ids alike but for leading zeros (Jaeger writes 16 or 32
/// digits).
fn same_trace(a: &str, b: &str) -> bool {
    a.trim_start_matches('0')
        .eq_ignore_ascii_case(b.trim_start_matches('0'))
}
