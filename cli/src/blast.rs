//! `cascade blast`: the same fault injected into each service in turn, one
//! run per service in parallel, and a matrix of which entries break.
//! (Not built yet.)

use crate::Failure;

#[derive(clap::Args)]
pub struct BlastArgs {
    /// Scenario file.
    pub file: std::path::PathBuf,
}

pub fn cmd_blast(_args: &BlastArgs) -> Result<(), Failure> {
    Err(Failure::Input(
        "error: `cascade blast` is not built yet".into(),
    ))
}
