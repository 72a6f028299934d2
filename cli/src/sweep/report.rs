//! The sweep's page and charts: `report.html` and `sweep-*.svg`/`.png`,
//! drawn by `reports::write_sweep_report` from the per-point aggregates
//! that `files::write_tables` computed (so `sweep` and `merge` draw the
//! same bytes).
//!
//! Owns only handing the aggregates to `reports`; must not aggregate.

use std::path::{Path, PathBuf};

use reports::sweep::{SweepPoint, SweepTable};

use super::files::Header;
use crate::Failure;

/// Writes the charts and `report.html` into `out`; returns their paths.
pub fn write(
    out: &Path,
    header: &Header,
    columns: Vec<String>,
    points: Vec<SweepPoint>,
) -> Result<Vec<PathBuf>, Failure> {
    let plan = &header.plan;
    let table = SweepTable {
        scenario: header.scenario.clone(),
        scenario_hash: header.scenario_hash.clone(),
        version: header.version.clone(),
        seed: plan.seed,
        reps: plan.reps,
        set: plan.set.clone(),
        params: plan.params.iter().map(|a| a.path.clone()).collect(),
        runs_total: header.runs_total,
        columns,
        points,
    };
    reports::write_sweep_report(out, &table).map_err(|e| {
        Failure::Io(format!(
            "cannot write charts and report.html into {}: {e}",
            out.display()
        ))
    })
}
