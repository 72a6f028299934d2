//! Following span links: a span that starts its trace (no parent) and
//! links to spans of the input — OTLP `links`, Jaeger references into
//! other traces — continues those spans' requests asynchronously (a
//! consumer's trace linked to its producers'). Its whole trace is joined
//! to the first linked span present, under it, so the derivation sees the
//! producer → consumer hand-off as it does inside one trace (→ a queue),
//! and the consumer's trace is no longer an entry of its own.
//!
//! A batch consumer linked to several producers: every other linked
//! PRODUCER span present hands its message to the same consumer too
//! (`Span::hands_to`), so each producer's edge to the consumer's queue
//! counts, and the consumer span handles that many messages
//! (`Span::batch`): the derivation shares its work and its calls among
//! them. A link from a span that has a parent is not followed (it is not a
//! hand-off that starts the trace), nor an extra link to a span that is not
//! a producer or already hands to a consumer; a link to a span not in the
//! input is dangling. All are counted for `import-report.md`.
//!
//! Must not derive anything else; runs before the traces are grouped.

use super::span::{ExtraLink, Kind, Span};

/// What following the links did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LinkCounts {
    /// Links followed: a span became a child of the linked span, or a
    /// batch consumer's further producer hands to it.
    pub followed: u64,
    /// Links to a span not in the input.
    pub dangling: u64,
    /// Links not followed: from a span with a parent, a further link to a
    /// span that is no producer (or hands to another consumer already), or
    /// one that would join a trace to itself.
    pub not_followed: u64,
}

/// Re-parents each root span with a resolvable link under the first
/// linked span present, moves its trace into that span's trace
/// (transitively), and marks its further linked producers as handing to
/// it. `extra` may be in any order.
pub fn follow(spans: &mut [Span], extra: &[ExtraLink]) -> LinkCounts {
    let mut n = LinkCounts::default();
    if spans.iter().all(|s| s.link.is_none()) {
        return n;
    }
    let mut present: Vec<((u128, u64), usize)> = spans
        .iter()
        .enumerate()
        .map(|(i, s)| ((s.trace, s.id), i))
        .collect();
    present.sort_unstable();
    let find = |key: (u128, u64)| {
        present
            .binary_search_by_key(&key, |p| p.0)
            .ok()
            .map(|k| present[k].1)
    };
    // Each span's further links together, in the file's order.
    let mut extra = extra.to_vec();
    extra.sort_by_key(|e| e.0);
    // Trace → the trace it joins; sorted, searched by trace.
    let mut joins: Vec<(u128, u128)> = Vec::new();
    for i in 0..spans.len() {
        let Some(first) = spans[i].link else { continue };
        let key = (spans[i].trace, spans[i].id);
        let from = extra.partition_point(|e| e.0 < key);
        let to = extra.partition_point(|e| e.0 <= key);
        let links = std::iter::once(first).chain(extra[from..to].iter().map(|e| e.1));
        // Whether the span had a parent before a link gave it one.
        let in_trace = spans[i].parent.is_some();
        let mut joined = false;
        for link in links {
            let Some(p) = find(link) else {
                n.dangling += 1;
                continue;
            };
            if in_trace || p == i {
                n.not_followed += 1;
            } else if !joined {
                spans[i].parent = Some(spans[p].id);
                if spans[p].trace != spans[i].trace {
                    joins.push((spans[i].trace, spans[p].trace));
                }
                joined = true;
                n.followed += 1;
            } else if spans[p].kind == Kind::Producer && spans[p].hands_to.is_none() {
                spans[p].hands_to = Some((spans[i].service, spans[i].name));
                spans[i].batch += 1;
                n.followed += 1;
            } else {
                n.not_followed += 1;
            }
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
            batch: 1,
            hands_to: None,
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
        let n = follow(&mut spans, &[]);
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
        let n = follow(&mut spans, &[]);
        assert_eq!(n.followed, 2);
        // Each stops before coming back to itself.
        assert!(spans.iter().all(|s| s.trace == 1 || s.trace == 2));
    }

    #[test]
    fn a_batch_consumer_joins_its_first_present_producer_and_the_others_hand_to_it() {
        let producer = |trace, id| Span {
            kind: Kind::Producer,
            ..span(trace, id, None, None)
        };
        let mut spans = vec![
            producer(1, 10),
            producer(2, 20),
            producer(3, 30),
            span(4, 40, None, None),
            Span {
                kind: Kind::Consumer,
                service: 7,
                name: 8,
                // The first link's producer is not in the input.
                ..span(5, 50, None, Some((9, 99)))
            },
        ];
        let extra = [
            ((5, 50), (3, 30)),
            ((5, 50), (2, 20)),
            ((5, 50), (4, 40)),
            ((5, 50), (1, 10)),
        ];
        let n = follow(&mut spans, &extra);
        // In the file's order: 3/30, the first present, is the parent;
        // 2/20 and 1/10 hand to the consumer; 4/40 is no producer.
        assert_eq!(
            n,
            LinkCounts {
                followed: 3,
                dangling: 1,
                not_followed: 1
            }
        );
        assert_eq!((spans[4].parent, spans[4].trace), (Some(30), 3));
        assert_eq!(spans[4].batch, 3);
        assert_eq!(spans[0].hands_to, Some((7, 8)));
        assert_eq!(spans[1].hands_to, Some((7, 8)));
        assert_eq!(spans[2].hands_to, None, "the parent hands by its child");
        assert_eq!(spans[3].hands_to, None);
    }
}
