//! Scenario-level SLO assertions (`[slo]`): parsed from the scenario and
//! checked against a run's summary. (Not built yet.)

use serde::{Deserialize, Serialize};

use crate::output::RunResult;
use crate::scenario::ScenarioFile;

/// The verdict on one assertion.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct SloResult {
    /// The key as written, e.g. "checkout.p99".
    pub key: String,
    /// The condition as written, e.g. "< 800ms".
    pub condition: String,
    pub pass: bool,
}

/// Checks every assertion of `file` against `run`.
pub fn check(_file: &ScenarioFile, _run: &RunResult) -> Vec<SloResult> {
    Vec::new()
}
