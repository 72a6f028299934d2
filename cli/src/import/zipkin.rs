//! Zipkin v2 JSON: an array of spans (`traceId`, `id`, `parentId`, `kind`,
//! `timestamp` and `duration` in µs, `localEndpoint.serviceName`,
//! `remoteEndpoint.serviceName`, `tags`). A server span that shares its
//! client's id (`shared`) becomes the client's child, and the spans of the
//! server's own process under that id become the server's children.
//!
//! Owns only the mapping of one document to spans.

use indexmap::IndexMap;
use serde::Deserialize;

use super::span::{At, Collector, Kind, RawSpan};

pub type Document = Vec<ZipkinSpan>;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ZipkinSpan {
    trace_id: String,
    id: String,
    #[serde(default)]
    parent_id: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    timestamp: Option<u64>,
    #[serde(default)]
    duration: Option<u64>,
    #[serde(default)]
    local_endpoint: Option<Endpoint>,
    #[serde(default)]
    remote_endpoint: Option<Endpoint>,
    #[serde(default)]
    tags: IndexMap<String, String>,
    #[serde(default)]
    shared: Option<bool>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Endpoint {
    #[serde(default)]
    service_name: Option<String>,
}

fn service(s: &ZipkinSpan) -> &str {
    s.local_endpoint
        .as_ref()
        .and_then(|e| e.service_name.as_deref())
        .unwrap_or("unknown")
}

/// The id a shared server span gets: its own, with the top bit flipped
/// (Zipkin ids are random; a collision is as unlikely as any other).
fn server_id(id: &str) -> String {
    match super::span::parse_hex(id, 16) {
        Some(v) => format!("{:016x}", (v as u64) ^ (1 << 63)),
        None => id.to_owned(),
    }
}

pub fn read(doc: &Document, at: &At, out: &mut Collector) -> Result<(), String> {
    // Shared server spans: (trace, id) → the server's service.
    let shared: Vec<(&str, &str, &str)> = doc
        .iter()
        .filter(|s| s.shared == Some(true) && s.kind.as_deref() == Some("SERVER"))
        .map(|s| (s.trace_id.as_str(), s.id.as_str(), service(s)))
        .collect();
    for s in doc {
        let name = s.name.as_deref().unwrap_or("");
        let (Some(start), Some(dur)) = (s.timestamp, s.duration) else {
            out.dropped.push(format!(
                "{} (document {}): span {} ({name:?}): no timestamp or duration (an incomplete span)",
                at.file, at.document, s.id
            ));
            continue;
        };
        let kind = match s.kind.as_deref() {
            Some("SERVER") => Kind::Server,
            Some("CLIENT") => Kind::Client,
            Some("PRODUCER") => Kind::Producer,
            Some("CONSUMER") => Kind::Consumer,
            _ => Kind::Internal,
        };
        let is_shared_server = kind == Kind::Server && s.shared == Some(true);
        let (id, parent) = if is_shared_server {
            (server_id(&s.id), Some(s.id.clone()))
        } else {
            let parent = s.parent_id.clone().map(|p| {
                let under_shared = shared
                    .iter()
                    .any(|(t, i, svc)| *t == s.trace_id && *i == p && *svc == service(s));
                if under_shared { server_id(&p) } else { p }
            });
            (s.id.clone(), parent)
        };
        let destination = s.tags.get("messaging.destination.name").map(String::as_str);
        let peer = s
            .remote_endpoint
            .as_ref()
            .and_then(|e| e.service_name.as_deref())
            .or_else(|| s.tags.get("peer.service").map(String::as_str))
            .or_else(|| s.tags.get("db.system").map(String::as_str))
            .or(destination);
        out.push(
            at,
            RawSpan {
                trace: &s.trace_id,
                id: &id,
                parent: parent.as_deref(),
                service: service(s),
                name,
                kind,
                start: start.saturating_mul(1000),
                end: start.saturating_add(dur).saturating_mul(1000),
                error: s.tags.contains_key("error"),
                peer,
                destination,
                // Zipkin v2 has no links.
                links: Vec::new(),
            },
        )?;
    }
    Ok(())
}
