//! Results per criticality: the entries of each class (a source tags its
//! requests with one) added up — requests, outcomes and latency — so a
//! scenario with priority shows at once whether critical traffic kept its
//! service level while sheddable traffic was dropped.
//!
//! Owns only the sums; must not record anything (the entries do).

use indexmap::IndexMap;

use super::{EntryStats, OutcomeCounts, latency_of};
use crate::model::Model;
use crate::output::ClassSummary;
use crate::patterns::Criticality;

/// Whether the model speaks of criticality at all (a source tags its
/// requests, or an admission rule reads the tag): otherwise the summary
/// has no `classes`.
pub(super) fn used(m: &Model) -> bool {
    m.sources
        .iter()
        .any(|s| s.criticality != Criticality::Default)
        || m.services.iter().any(|s| s.admission.uses_classes())
}

/// One row per class that has a source, most important first.
pub(super) fn summary(
    m: &Model,
    entries: &[EntryStats],
    measured_s: f64,
) -> IndexMap<String, ClassSummary> {
    let mut out = IndexMap::new();
    if !used(m) {
        return out;
    }
    for class in Criticality::ALL {
        let mut names = Vec::new();
        let mut requests = 0;
        let mut c = OutcomeCounts::default();
        let mut ok_hist = None::<super::Histogram>;
        let mut all_hist = None::<super::Histogram>;
        let (mut ok_sum, mut all_sum) = (0u128, 0u128);
        for (src, e) in m.sources.iter().zip(entries) {
            if src.criticality != class {
                continue;
            }
            names.push(src.name.clone());
            requests += e.requests;
            c = c.plus(&e.measured);
            ok_sum += e.latency_ok_sum;
            all_sum += e.latency_all_sum;
            match &mut ok_hist {
                None => ok_hist = Some(e.latency_ok.clone()),
                Some(h) => h.add(&e.latency_ok),
            }
            match &mut all_hist {
                None => all_hist = Some(e.latency_failed.clone()),
                Some(h) => h.add(&e.latency_failed),
            }
        }
        let (Some(ok_hist), Some(mut all_hist)) = (ok_hist, all_hist) else {
            continue;
        };
        all_hist.add(&ok_hist);
        out.insert(
            class.name().to_owned(),
            ClassSummary {
                entries: names,
                requests,
                ok: c.ok,
                degraded: c.degraded,
                failed: c.failed(),
                goodput_rps: c.good() as f64 / measured_s,
                error_rate: c.error_rate(),
                latency_ms: latency_of(&ok_hist, ok_sum),
                latency_all_ms: latency_of(&all_hist, all_sum),
            },
        );
    }
    out
}
