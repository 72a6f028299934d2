//! Many items on one chart: the few that matter, and the rest as one.
//!
//! A chart of thousands of lines, rows or panels is megabytes of ink nobody
//! can read. Past a limit (`LINES`, `ROWS`) a chart keeps the items with
//! the highest *peak* (the largest value in any window: a cascade is a
//! burst, and a peak is where it shows), in their usual order, and draws
//! the rest as one "others" item: their per-window sum where values add up
//! (rates, counts, lengths) or their per-window maximum where they do not
//! (shares, latencies, ages). Ties go to the item listed first. Two
//! charts rank by a *total* instead, the one their titles show: call edges
//! by failed calls (then calls), and entries — which past `FILES` get
//! charts of their own only for the top `TOP_FILES` — by failed requests
//! (then requests). Each limited chart says so in its subtitle. A run with
//! fewer items draws every one, exactly as before.
//!
//! Must not draw or pick series: the chart modules say what an item's
//! score and values are.

use std::borrow::Cow;

use crate::numbers::thousands;
use crate::plot::{Dash, GREY, Line};

/// Lines (or panels) a chart draws in full; past it, `TOP_LINES` and an
/// "others" line.
pub(super) const LINES: usize = 12;
pub(super) const TOP_LINES: usize = 10;
/// Rows of a heat strip in full; past it, `TOP_ROWS` and an "others" row.
pub(super) const ROWS: usize = 24;
pub(super) const TOP_ROWS: usize = 20;
/// Entries that get charts of their own (files); past it, `TOP_FILES`.
pub(super) const FILES: usize = 12;
pub(super) const TOP_FILES: usize = 10;
/// Boxes a topology draws; past it, no topology (it would not be legible).
pub(super) const NODES: usize = 60;
/// Rows a report's table lists in full; past it, the `TABLE_ROWS` that
/// matter most (`html/tables.rs`; the Entries section's note says so).
pub(crate) const TABLE_ROWS: usize = 100;

/// How the items left out combine into "others".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Rest {
    /// Values that add up: rates, counts, queue lengths.
    Sum,
    /// Values that do not: shares, latencies, ages.
    Max,
}

impl Rest {
    fn short(self) -> &'static str {
        match self {
            Rest::Sum => "sum",
            Rest::Max => "max",
        }
    }
}

/// Which items a chart keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Pick {
    /// Indices of the items drawn, in their original order.
    pub(crate) kept: Vec<usize>,
    /// Indices of the items left out, in their original order.
    pub(crate) rest: Vec<usize>,
}

impl Pick {
    pub(crate) fn limited(&self) -> bool {
        !self.rest.is_empty()
    }
}

/// Every item when there are at most `limit`; else the `top` with the
/// highest score (ties: the earlier), in their original order.
pub(super) fn pick(scores: &[f64], limit: usize, top: usize) -> Pick {
    let pairs: Vec<(f64, f64)> = scores.iter().map(|s| (*s, 0.0)).collect();
    pick_by(&pairs, limit, top)
}

/// As `pick`, by a score and a tie-breaker.
pub(crate) fn pick_by(scores: &[(f64, f64)], limit: usize, top: usize) -> Pick {
    if scores.len() <= limit {
        return Pick {
            kept: (0..scores.len()).collect(),
            rest: Vec::new(),
        };
    }
    let mut by_score: Vec<usize> = (0..scores.len()).collect();
    // Stable: equal scores keep their order. A NaN counts as lowest.
    let low = |v: f64| if v.is_nan() { f64::NEG_INFINITY } else { v };
    let key = |i: usize| (low(scores[i].0), low(scores[i].1));
    by_score.sort_by(|&a, &b| {
        let (a, b) = (key(a), key(b));
        b.0.total_cmp(&a.0).then(b.1.total_cmp(&a.1))
    });
    let mut kept: Vec<usize> = by_score[..top.min(scores.len())].to_vec();
    kept.sort_unstable();
    let mut rest: Vec<usize> = by_score[top.min(scores.len())..].to_vec();
    rest.sort_unstable();
    Pick { kept, rest }
}

/// The largest finite value (−∞ when there is none).
pub(super) fn peak(values: &[f64]) -> f64 {
    values
        .iter()
        .copied()
        .filter(|v| v.is_finite())
        .fold(f64::NEG_INFINITY, f64::max)
}

/// Per window, the sum or maximum of the finite values of `series`; NaN
/// in a window where none is finite.
pub(super) fn combine<'v>(series: impl Iterator<Item = &'v [f64]>, how: Rest) -> Vec<f64> {
    let mut out: Vec<f64> = Vec::new();
    for values in series {
        if out.len() < values.len() {
            out.resize(values.len(), f64::NAN);
        }
        for (o, v) in out.iter_mut().zip(values) {
            if !v.is_finite() {
                continue;
            }
            *o = match (o.is_nan(), how) {
                (true, _) => *v,
                (false, Rest::Sum) => *o + v,
                (false, Rest::Max) => o.max(*v),
            };
        }
    }
    out
}

/// The name of the "others" item: `others (4,990, sum)`.
pub(super) fn others(count: usize, how: Rest) -> String {
    format!("others ({}, {})", thousands(count as u64), how.short())
}

/// What a limited chart's subtitle adds (it must stay short: a subtitle
/// is one line): `top 10 of 5,000 by peak; others: sum`.
pub(super) fn note(p: &Pick, by: &str, how: Option<Rest>) -> String {
    let total = p.kept.len() + p.rest.len();
    let mut s = format!(
        "top {} of {} by {by}",
        p.kept.len(),
        thousands(total as u64)
    );
    if let Some(how) = how {
        s.push_str(&format!("; others: {}", how.short()));
    }
    s
}

/// One item of a limited chart: a kept series, or "others".
pub(super) struct Item<'v> {
    pub(super) name: String,
    pub(super) values: Cow<'v, [f64]>,
    pub(super) others: bool,
}

impl Item<'_> {
    /// Its line over `points`, "others" in grey and dashed.
    pub(super) fn line(&self, points: Vec<(f64, f64)>) -> Line {
        let l = Line::new(self.name.clone(), points);
        if self.others {
            l.styled(GREY, Dash::Dashed)
        } else {
            l
        }
    }
}

/// Named value series: every one, or past `LINES` the `TOP_LINES` with
/// the highest peak and one "others" item combining the rest `how`; with
/// the note a limited chart's subtitle adds.
pub(super) fn limit<'v>(
    items: Vec<(String, &'v [f64])>,
    how: Rest,
) -> (Vec<Item<'v>>, Option<String>) {
    let peaks: Vec<f64> = items.iter().map(|(_, v)| peak(v)).collect();
    let p = pick(&peaks, LINES, TOP_LINES);
    let note = p.limited().then(|| note(&p, "peak", Some(how)));
    let mut out: Vec<Item> = p
        .kept
        .iter()
        .map(|&i| Item {
            name: items[i].0.clone(),
            values: Cow::Borrowed(items[i].1),
            others: false,
        })
        .collect();
    if p.limited() {
        out.push(Item {
            name: others(p.rest.len(), how),
            values: Cow::Owned(combine(p.rest.iter().map(|&i| items[i].1), how)),
            others: true,
        });
    }
    (out, note)
}

/// `subtitle`, with a limited chart's note after it.
pub(super) fn subtitle(subtitle: &str, note: Option<&str>) -> String {
    match note {
        Some(n) => format!("{subtitle} · {n}"),
        None => subtitle.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn few_items_are_all_kept() {
        let p = pick(&[1.0, 5.0, 3.0], 3, 2);
        assert_eq!(p.kept, [0, 1, 2]);
        assert!(!p.limited());
    }

    #[test]
    fn many_items_keep_the_highest_in_their_order_ties_to_the_first() {
        let p = pick(&[1.0, 9.0, 3.0, 9.0, f64::NAN, 9.0, 2.0], 4, 3);
        assert_eq!(p.kept, [1, 3, 5]);
        assert_eq!(p.rest, [0, 2, 4, 6]);
        let p = pick_by(&[(1.0, 5.0), (2.0, 1.0), (2.0, 3.0), (0.0, 9.0)], 3, 2);
        assert_eq!(p.kept, [1, 2]);
        let p = pick(&[2.0, 2.0, 2.0, 2.0, 2.0], 3, 2);
        assert_eq!(p.kept, [0, 1]);
        assert_eq!(
            note(&p, "peak", Some(Rest::Sum)),
            "top 2 of 5 by peak; others: sum"
        );
        assert_eq!(others(3, Rest::Max), "others (3, max)");
    }

    #[test]
    fn others_add_up_or_take_the_maximum_skipping_gaps() {
        let a = [1.0, f64::NAN, 2.0];
        let b = [3.0, f64::NAN, 5.0];
        let c = [0.5, f64::NAN];
        let all = || [&a[..], &b[..], &c[..]].into_iter();
        let sum = combine(all(), Rest::Sum);
        assert_eq!((sum[0], sum[2]), (4.5, 7.0));
        assert!(sum[1].is_nan());
        assert_eq!(combine(all(), Rest::Max)[..1], [3.0]);
        assert_eq!(peak(&[f64::NAN, 2.0, f64::INFINITY, 1.0]), 2.0);
    }
}
