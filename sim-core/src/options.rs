//! Per-run options that are not part of the scenario (seed and duration
//! overrides, the scenario's identity stamped on the summary).

use crate::time::Nanos;

/// Per-run options that are not part of the scenario.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Overrides the scenario's seed.
    pub seed: Option<u64>,
    /// Overrides the scenario's duration.
    pub duration: Option<Nanos>,
    /// Scenario hash and overrides, copied into the summary.
    pub scenario_hash: u64,
    pub overrides: Vec<String>,
}
