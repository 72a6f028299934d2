//! The sweep's page and charts: `report.html` and `sweep-*.svg`/`.png`,
//! drawn by `reports::write_sweep_report` from the per-point aggregates
//! that `files::write_tables` computed (so `sweep` and `merge` draw the
//! same bytes).
//!
//! Owns only handing the aggregates to `reports`; must not aggregate.

use std::path::{Path, PathBuf};

use reports::sweep::SweepTable;

use crate::Failure;

/// Writes the charts and `report.html` of `table` into `out`; returns
/// their paths.
pub fn write(out: &Path, table: &SweepTable) -> Result<Vec<PathBuf>, Failure> {
    reports::write_sweep_report(out, table).map_err(|e| {
        Failure::Io(format!(
            "cannot write charts and report.html into {}: {e}",
            out.display()
        ))
    })
}
