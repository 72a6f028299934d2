//! Recovery after faults: for every fault window, each entry's pre-fault
//! baseline and how long after the fault ended its goodput came back — or
//! the verdict that it did not (a metastable failure). (Not built yet.)

use serde::{Deserialize, Serialize};

use crate::model::Model;
use crate::output::RunResult;

/// One entry's recovery from one fault window.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Recovery {
    /// Index of the fault in the scenario's `fault` list.
    pub fault: usize,
    pub entry: String,
}

/// Computes the recovery of every entry after every fault window.
pub fn analyze(_model: &Model, _run: &RunResult) -> Vec<Recovery> {
    Vec::new()
}
