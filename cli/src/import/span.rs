//! The one span record every trace format is read into, and the collector
//! that holds them compactly (names interned) until the derivation.
//!
//! Must not know any file format nor derive anything.

use indexmap::IndexSet;

/// A span's link past its first: (its trace, its id) → (the linked
/// span's trace, its id). The collector keeps these beside the spans, so
/// a span with one link (the common case) carries no list.
pub type ExtraLink = ((u128, u64), (u128, u64));

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Internal,
    Server,
    Client,
    Producer,
    Consumer,
}

impl Kind {
    /// A span that is work done by a service for a request (an operation).
    pub fn serves(self) -> bool {
        matches!(self, Kind::Server | Kind::Consumer)
    }
}

/// One span, as the derivation needs it.
#[derive(Clone, Debug)]
pub struct Span {
    pub trace: u128,
    pub id: u64,
    pub parent: Option<u64>,
    /// Interned: `Collector::name`.
    pub service: u32,
    pub name: u32,
    pub kind: Kind,
    pub start: u64,
    pub end: u64,
    pub error: bool,
    /// The callee an uninstrumented call names (`peer.service`,
    /// `db.system`, `messaging.destination.name`), interned.
    pub peer: Option<u32>,
    /// `messaging.destination.name`, interned.
    pub destination: Option<u32>,
    /// The first span link (OTLP `links`, a Jaeger FOLLOWS_FROM into
    /// another trace): (trace, span) of the span this one continues; the
    /// others are `Collector::extra_links`.
    pub link: Option<(u128, u64)>,
    /// Messages this span handles: 1, or a batch consumer's linked
    /// producers followed (`links.rs`).
    pub batch: u32,
    /// A producer whose message a batch consumer linked to it handles
    /// without being its child: that consumer's (service, name).
    pub hands_to: Option<(u32, u32)>,
}

impl Span {
    pub fn duration(&self) -> u64 {
        self.end - self.start
    }
}

/// Where a span came from, for error messages.
pub struct At<'a> {
    pub file: &'a str,
    /// The JSON document's number in the file (1-based).
    pub document: usize,
}

/// All spans read so far, with their names interned.
#[derive(Default)]
pub struct Collector {
    pub spans: Vec<Span>,
    names: IndexSet<String>,
    /// Spans refused (a reason each), with where.
    pub dropped: Vec<String>,
    /// Span links past each span's first (a batch consumer's producers).
    pub extra_links: Vec<ExtraLink>,
}

/// A span as a reader found it, before interning and checks.
pub struct RawSpan<'a> {
    pub trace: &'a str,
    pub id: &'a str,
    pub parent: Option<&'a str>,
    pub service: &'a str,
    pub name: &'a str,
    pub kind: Kind,
    pub start: u64,
    pub end: u64,
    pub error: bool,
    pub peer: Option<&'a str>,
    pub destination: Option<&'a str>,
    /// Span links as (trace id, span id) in hex, in the file's order.
    pub links: Vec<(&'a str, &'a str)>,
}

impl Collector {
    pub fn intern(&mut self, s: &str) -> u32 {
        match self.names.get_index_of(s) {
            Some(i) => i as u32,
            None => self.names.insert_full(s.to_owned()).0 as u32,
        }
    }

    pub fn name(&self, i: u32) -> &str {
        &self.names[i as usize]
    }

    /// Checks and keeps one span; a span that cannot be used is an error
    /// naming the file, the document and the span.
    pub fn push(&mut self, at: &At, raw: RawSpan) -> Result<(), String> {
        let blame = |why: String| {
            format!(
                "{} (document {}): span {} ({:?}): {why}",
                at.file, at.document, raw.id, raw.name
            )
        };
        let trace = parse_hex(raw.trace, 32).ok_or_else(|| {
            blame(format!(
                "trace id {:?} is not 1 to 32 hex digits",
                raw.trace
            ))
        })?;
        let id = parse_hex(raw.id, 16)
            .ok_or_else(|| blame(format!("span id {:?} is not 1 to 16 hex digits", raw.id)))?
            as u64;
        let parent =
            match raw
                .parent
                .filter(|p| !p.is_empty() && p.chars().any(|c| c != '0'))
            {
                Some(p) => Some(parse_hex(p, 16).ok_or_else(|| {
                    blame(format!("parent span id {p:?} is not 1 to 16 hex digits"))
                })? as u64),
                None => None,
            };
        let mut links = Vec::with_capacity(raw.links.len());
        for &(t, sp) in &raw.links {
            links.push((
                parse_hex(t, 32).ok_or_else(|| {
                    blame(format!("link's trace id {t:?} is not 1 to 32 hex digits"))
                })?,
                parse_hex(sp, 16).ok_or_else(|| {
                    blame(format!("link's span id {sp:?} is not 1 to 16 hex digits"))
                })? as u64,
            ));
        }
        let link = links.first().copied();
        for &other in links.iter().skip(1) {
            self.extra_links.push(((trace, id), other));
        }
        if raw.end < raw.start {
            return Err(blame(format!(
                "ends ({} ns) before it starts ({} ns)",
                raw.end, raw.start
            )));
        }
        let service = self.intern(if raw.service.is_empty() {
            "unknown"
        } else {
            raw.service
        });
        let span = Span {
            trace,
            id,
            parent,
            service,
            name: self.intern(raw.name),
            kind: raw.kind,
            start: raw.start,
            end: raw.end,
            error: raw.error,
            peer: raw.peer.map(|p| self.intern(p)),
            destination: raw.destination.map(|d| self.intern(d)),
            link,
            batch: 1,
            hands_to: None,
        };
        self.spans.push(span);
        Ok(())
    }
}

/// Hex digits (at most `max` of them) as a number.
pub fn parse_hex(s: &str, max: usize) -> Option<u128> {
    if s.is_empty() || s.len() > max || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u128::from_str_radix(s, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_ids() {
        assert_eq!(parse_hex("00ff", 16), Some(255));
        assert_eq!(parse_hex("", 16), None);
        assert_eq!(parse_hex("xyz", 16), None);
        assert_eq!(parse_hex(&"f".repeat(17), 16), None);
        assert_eq!(parse_hex(&"f".repeat(32), 32), Some(u128::MAX));
    }
}
