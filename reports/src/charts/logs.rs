//! The partitioned logs' chart: per consumer group, a heat strip of lag
//! per partition over time (one row per partition, or per range of
//! partitions past 64), so a hot partition reads as one bright row.
//!
//! Owns which series it claims (`partition` lag); the group series stay
//! in "More series". Must not draw.

use super::shared::{Run, TIME};
use crate::plot::{Chart, Fmt, HeatStrip};

/// One heat strip per group with partition series, in summary order:
/// (group name, chart).
pub(super) fn partition_lag(run: &Run) -> Vec<(String, Chart)> {
    let ts = run.ts;
    let mut out = Vec::new();
    if ts.window_start_s.is_empty() {
        return out;
    }
    for (log_name, log) in &run.s.logs {
        for (group, g) in &log.groups {
            let prefix = format!("{group}/p");
            let rows: Vec<(String, Vec<f64>)> = ts
                .series
                .iter()
                .filter(|s| s.scope == "partition" && s.name.starts_with(&prefix))
                .map(|s| (s.name[group.len() + 1..].to_owned(), s.values.clone()))
                .collect();
            if rows.is_empty() {
                continue;
            }
            let max = rows
                .iter()
                .flat_map(|(_, v)| v.iter().copied())
                .fold(0.0, f64::max)
                .max(1.0);
            out.push((
                group.clone(),
                Chart::Heat(HeatStrip {
                    title: format!("Lag per partition: group {group} on log {log_name}"),
                    subtitle: format!(
                        "records appended and not yet committed, at each window's end; \
                         one row per partition: a hot partition is the bright row \
                         ({} rebalances, {} lost to retention)",
                        g.rebalances, g.lost_to_retention
                    ),
                    x_label: TIME.into(),
                    value_label: "lag (records)".into(),
                    starts: ts.window_start_s.clone(),
                    ends: ts.window_end_s.clone(),
                    rows,
                    max,
                    value_fmt: Fmt::Number,
                    bands: run.bands.clone(),
                }),
            ));
        }
    }
    out
}
