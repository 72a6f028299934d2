//! Zoomed views of a long run: when a run has more windows than a line
//! chart draws points (`MAX_POINTS`, past which lines become bucket means),
//! a fault lasting minutes is a sliver of a ten-hour chart. Each fault then
//! gets its entries' charts again over the span from shortly before the
//! fault to the recovery.
//!
//! Owns when a zoom is needed and its span. Must not pick the charts it
//! zooms (`mod.rs` does) nor draw.

use sim_core::output::Verdict;

use super::shared::{Run, fault_label, window_of};
use crate::numbers::short;
use crate::plot::{Chart, MAX_POINTS};

/// Whether the run is long enough for its lines to be bucketed.
pub(super) fn needed(run: &Run) -> bool {
    run.xs.len() > MAX_POINTS
}

/// From shortly before fault `k` to the last of its entries' recoveries
/// (or as long again as the fault after it, when one did not recover), a
/// margin on both sides; `None` for a fault the run never reached.
pub(super) fn span(run: &Run, k: usize) -> Option<(f64, f64)> {
    let s = run.s;
    let f = s.faults.get(k)?;
    let (lo, hi) = run.x_range?;
    if f.start_s >= hi {
        return None;
    }
    let len = (f.end_s - f.start_s).max(0.0);
    let margin = (0.25 * len).max(10.0 * window_of(run.ts));
    let mine: Vec<_> = s.recovery.iter().filter(|r| r.fault == k).collect();
    if mine.iter().all(|r| r.verdict == Verdict::NotReached) && !mine.is_empty() {
        return None;
    }
    let back = mine
        .iter()
        .map(|r| match r.verdict {
            Verdict::Recovered => r.recovered_at_s.unwrap_or(f.end_s),
            Verdict::NotAffected | Verdict::NotReached => f.end_s,
            _ => f.end_s + len,
        })
        .fold(f.end_s, f64::max);
    Some(((f.start_s - margin).max(lo), (back + margin).min(hi)))
}

/// `chart` restricted to `span`, its title naming fault `k`.
pub(super) fn zoom(chart: Chart, run: &Run, k: usize, (a, b): (f64, f64)) -> Chart {
    let name = run
        .s
        .faults
        .get(k)
        .map(|f| fault_label(&f.kind, &f.target, f.replica))
        .unwrap_or_default();
    let title_end = format!(" · around fault {k} ({name})");
    let note = format!(
        "zoom: {}–{} s, from before the fault to the recovery",
        short(a),
        short(b)
    );
    let inside = |x: f64| x >= a && x <= b;
    match chart {
        Chart::Lines(mut c) => {
            c.title.push_str(&title_end);
            c.subtitle = format!("{note}; {}", c.subtitle);
            for l in &mut c.lines {
                l.points.retain(|p| inside(p.0));
            }
            c.x_range = Some((a, b));
            Chart::Lines(c)
        }
        Chart::Stacked(mut c) => {
            c.title.push_str(&title_end);
            c.subtitle = format!("{note}; {}", c.subtitle);
            let keep: Vec<bool> = c.x.iter().map(|&x| inside(x)).collect();
            let pick = |v: &[f64]| -> Vec<f64> {
                v.iter()
                    .zip(&keep)
                    .filter(|(_, k)| **k)
                    .map(|(v, _)| *v)
                    .collect()
            };
            c.x = pick(&c.x);
            for l in &mut c.layers {
                l.values = pick(&l.values);
            }
            for l in &mut c.overlays {
                l.points.retain(|p| inside(p.0));
            }
            c.x_range = Some((a, b));
            Chart::Stacked(c)
        }
        other => other,
    }
}
