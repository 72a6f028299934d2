//! OTLP JSON, as the OpenTelemetry collector's file exporter writes it
//! (`ExportTraceServiceRequest`: `resourceSpans[].scopeSpans[].spans[]`,
//! hex ids, integer enums, times as decimal strings). Also accepted: the
//! older `instrumentationLibrarySpans`, times as numbers, enums by name.
//!
//! Owns only the mapping of one document to spans.

use serde::Deserialize;

use super::span::{At, Collector, Kind, RawSpan};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Document {
    #[serde(default)]
    resource_spans: Vec<ResourceSpans>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ResourceSpans {
    #[serde(default)]
    resource: Option<Resource>,
    #[serde(default, alias = "instrumentationLibrarySpans")]
    scope_spans: Vec<ScopeSpans>,
}

#[derive(Deserialize)]
struct Resource {
    #[serde(default)]
    attributes: Vec<KeyValue>,
}

#[derive(Deserialize)]
struct ScopeSpans {
    #[serde(default)]
    spans: Vec<OtlpSpan>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OtlpSpan {
    trace_id: String,
    span_id: String,
    #[serde(default)]
    parent_span_id: Option<String>,
    #[serde(default)]
    name: String,
    #[serde(default)]
    kind: Option<Enum>,
    start_time_unix_nano: Number,
    end_time_unix_nano: Number,
    #[serde(default)]
    attributes: Vec<KeyValue>,
    #[serde(default)]
    status: Option<Status>,
    #[serde(default)]
    links: Vec<Link>,
}

/// A span link: the span this one continues, possibly in another trace.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Link {
    trace_id: String,
    span_id: String,
}

#[derive(Deserialize)]
struct Status {
    #[serde(default)]
    code: Option<Enum>,
}

#[derive(Deserialize)]
struct KeyValue {
    key: String,
    #[serde(default)]
    value: Option<AnyValue>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AnyValue {
    #[serde(default)]
    string_value: Option<String>,
}

/// An enum written as its number or its name.
#[derive(Deserialize)]
#[serde(untagged)]
enum Enum {
    Number(i64),
    Name(String),
}

/// A 64-bit integer as JSON writes it for OTLP: a string, or a number.
#[derive(Deserialize)]
#[serde(untagged)]
enum Number {
    Text(String),
    Plain(u64),
}

impl Number {
    fn get(&self) -> Option<u64> {
        match self {
            Number::Plain(n) => Some(*n),
            Number::Text(s) => s.parse().ok(),
        }
    }
}

fn attr<'a>(attrs: &'a [KeyValue], key: &str) -> Option<&'a str> {
    attrs
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref()?.string_value.as_deref())
}

fn kind(k: &Option<Enum>) -> Kind {
    match k {
        Some(Enum::Number(2)) => Kind::Server,
        Some(Enum::Number(3)) => Kind::Client,
        Some(Enum::Number(4)) => Kind::Producer,
        Some(Enum::Number(5)) => Kind::Consumer,
        Some(Enum::Name(n)) => match n.as_str() {
            "SPAN_KIND_SERVER" => Kind::Server,
            "SPAN_KIND_CLIENT" => Kind::Client,
            "SPAN_KIND_PRODUCER" => Kind::Producer,
            "SPAN_KIND_CONSUMER" => Kind::Consumer,
            _ => Kind::Internal,
        },
        _ => Kind::Internal,
    }
}

fn is_error(s: &Option<Status>) -> bool {
    matches!(
        s.as_ref().and_then(|s| s.code.as_ref()),
        Some(Enum::Number(2))
    ) || matches!(s.as_ref().and_then(|s| s.code.as_ref()), Some(Enum::Name(n)) if n == "STATUS_CODE_ERROR")
}

/// Every span of one document into `out`.
pub fn read(doc: &Document, at: &At, out: &mut Collector) -> Result<(), String> {
    for rs in &doc.resource_spans {
        let service = rs
            .resource
            .as_ref()
            .and_then(|r| attr(&r.attributes, "service.name"))
            .unwrap_or("unknown");
        for ss in &rs.scope_spans {
            for s in &ss.spans {
                let time = |n: &Number, what: &str| {
                    n.get().ok_or_else(|| {
                        format!(
                            "{} (document {}): span {} ({:?}): {what} is not a whole number of nanoseconds",
                            at.file, at.document, s.span_id, s.name
                        )
                    })
                };
                let destination = attr(&s.attributes, "messaging.destination.name")
                    .or_else(|| attr(&s.attributes, "messaging.destination"));
                let peer = attr(&s.attributes, "peer.service")
                    .or_else(|| attr(&s.attributes, "db.system"))
                    .or(destination);
                out.push(
                    at,
                    RawSpan {
                        trace: &s.trace_id,
                        id: &s.span_id,
                        parent: s.parent_span_id.as_deref(),
                        service,
                        name: &s.name,
                        kind: kind(&s.kind),
                        start: time(&s.start_time_unix_nano, "startTimeUnixNano")?,
                        end: time(&s.end_time_unix_nano, "endTimeUnixNano")?,
                        error: is_error(&s.status),
                        peer,
                        destination,
                        links: s
                            .links
                            .iter()
                            .map(|l| (l.trace_id.as_str(), l.span_id.as_str()))
                            .collect(),
                    },
                )?;
            }
        }
    }
    Ok(())
}
