//! Following span links: a span that starts its trace (no parent) and
//! links to a span of the input — OTLP `links`, a Jaeger reference into
//! another trace — continues that span's request asynchronously (a
//! consumer's trace linked to its producer's). Its whole trace is joined
//! to the linked span's trace, under the linked span, so the derivation
//! sees the producer → consumer hand-off as it does inside one trace
//! (→ a queue), and the consumer's trace is no longer an entry of its own.
//!
//! Only a span's first link is followed (a batch consumer linked to
//! several producers stays under the first one present); a link from a
//! span that has a parent is not followed (it is not a hand-off that
//! starts the trace); a link to a span not in the input is dangling. All
//! three are counted for `import-report.md`.
//!
//! Must not derive anything else; runs before the traces are grouped.

use super::span::Span;

/// What following the links did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LinkCounts {
    /// Links whose span became a child of the linked span.
    pub followed: u64,
    /// Links to a span not in the input.
    pub dangling: u64,
    /// Links not followed: from a span with a parent, past a span's first,
    /// or one that would join a trace to itself in a loop.
    pub not_followed: u64,
}

/// Re-parents each root span with a resolvable link under the linked span
/// and moves its trace into the linked span's trace (transitively).
pub fn follow(spans: &mut [Span]) -> LinkCounts {
    let mut n = LinkCounts::default();
    if spans.iter().all(|s| s.link.is_none()) {
        return n;
    }
    let mut present: Vec<(u128, u64)> = spans.iter().map(|s| (s.trace, s.id)).collect();
    present.sort_unstable();
    // Trace → the trace it joins; sorted, searched by trace.
    let mut joins: Vec<(u128, u128)> = Vec::new();
    for s in spans.iter_mut() {
        n.not_followed += u64::from(s.more_links);
        let Some((trace, id)) = s.link else { continue };
        if present.binary_search(&(trace, id)).is_err() {
            n.dangling += 1;
        } else if s.parent.is_some() || (trace == s.trace && id == s.id) {
            n.not_followed += 1;
        } else {
            s.parent = Some(id);
            if trace != s.trace {
                joins.push((s.trace, trace));
            }
            n.followed += 1;
        }
    }
    if joins.is_empty() {
        return n;
    }
    joins.sort_unstable();
    // A trace with several linked roots joins the first trace named.
    joins.dedup_by_key(|j| j.0);
    let step = |t: u128| {
        joins
            .binary_search_by_key(&t, |j| j.0)
            .ok()
            .map(|k| joins[k].1)
    };
    for s in spans.iter_mut() {
        // Follow the chain of joins (a consumer that produces again);
        // a loop (traces linked into each other) stops where it started.
        let start = s.trace;
        let mut t = start;
        for _ in 0..joins.len() {
            match step(t) {
                Some(next) if next != start => t = next,
                _ => break,
            }
        }
        s.trace = t;
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::span::Kind;

    fn span(trace: u128, id: u64, parent: Option<u64>, link: Option<(u128, u64)>) -> Span {
        Span {
            trace,
            id,
            parent,
            service: 0,
            name: 0,
            kind: Kind::Internal,
            start: 0,
            end: 1,
            error: false,
            peer: None,
            destination: None,
            link,
            more_links: 0,
        }
    }

    #[test]
    fn a_linked_root_and_its_trace_join_the_linked_span_and_chains_are_followed() {
        let mut spans = vec![
            span(1, 10, None, None),
            span(2, 20, None, Some((1, 10))),
            span(2, 21, Some(20), None),
            span(3, 30, None, Some((2, 21))),
            span(4, 40, None, Some((9, 99))),
            span(4, 41, Some(40), Some((1, 10))),
        ];
        let n = follow(&mut spans);
        assert_eq!(
            n,
            LinkCounts {
                followed: 2,
                dangling: 1,
                not_followed: 1
            }
        );
        let traces: Vec<u128> = spans.iter().map(|s| s.trace).collect();
        assert_eq!(traces, [1, 1, 1, 1, 4, 4]);
        assert_eq!(spans[1].parent, Some(10));
        assert_eq!(spans[3].parent, Some(21));
    }

    #[test]
    fn traces_linked_into_each_other_stop_without_looping() {
        let mut spans = vec![
            span(1, 10, None, Some((2, 20))),
            span(2, 20, None, Some((1, 10))),
        ];
        let n = follow(&mut spans);
        assert_eq!(n.followed, 2);
        // Each stops before coming back to itself.
        assert!(spans.iter().all(|s| s.trace == 1 || s.trace == 2));
    }
}
