//! Outlier ejection over time: for each service whose balancer ejects
//! replicas, the replicas ejected, those left in service, and the work
//! (busy threads in replicas' worth) — when the work reaches the replicas
//! left, ejection has overloaded the healthy ones.
//!
//! Owns which series this chart claims (`CLAIMED`); must not draw.

use super::shared::Run;
use crate::plot::{Chart, Dash, Line, series_style};

/// The series this chart shows ("More series" leaves them).
pub(super) const CLAIMED: &[&str] = &["ejected"];

/// Replicas ejected, in service and busy, per detecting service.
pub(super) fn ejection(run: &Run) -> Option<Chart> {
    let mut lines = Vec::new();
    let mut notes = Vec::new();
    let detecting = run
        .order
        .iter()
        .filter(|n| run.get("service", n, "ejected").is_some());
    for (i, name) in detecting.enumerate() {
        // The replicas in one colour, the work in the next: where the two
        // lines meet must be seen.
        let (color, _) = series_style(2 * i);
        let (work, _) = series_style(2 * i + 1);
        let ejected = &run.get("service", name, "ejected")?.values;
        let sv = run.s.services.get(name.as_str())?;
        let replicas = f64::from(sv.replicas);
        lines.push(
            Line::new(format!("{name} ejected"), run.points(ejected)).styled(color, Dash::Solid),
        );
        let left: Vec<f64> = ejected.iter().map(|e| replicas - e).collect();
        lines.push(
            Line::new(format!("{name} in service"), run.points(&left)).styled(color, Dash::Dashed),
        );
        if let Some(busy) = run.get("service", name, "busy_threads")
            && sv.threads > 0
            && sv.autoscale.is_none()
        {
            let worth: Vec<f64> = busy
                .values
                .iter()
                .map(|b| b / f64::from(sv.threads))
                .collect();
            lines.push(
                Line::new(
                    format!("{name} busy (threads ÷ threads per replica)"),
                    run.points(&worth),
                )
                .styled(work, Dash::Dotted),
            );
        }
        if let Some(o) = &sv.outlier {
            notes.push(format!(
                "{name}: {} ejection{}, at most {} of {} out, {:.0} replica-seconds",
                o.ejections,
                if o.ejections == 1 { "" } else { "s" },
                o.ejected_max,
                sv.replicas,
                o.ejected_replica_s
            ));
        }
    }
    if lines.is_empty() {
        return None;
    }
    let subtitle = format!(
        "mean per window; where busy reaches in service, the replicas left are saturated. {}",
        notes.join("; ")
    );
    Some(run.time_chart("Outlier ejection", ("replicas", ""), subtitle, lines, false))
}
