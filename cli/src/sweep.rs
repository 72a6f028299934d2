//! `cascade sweep` and `cascade merge`: parameter grids run in parallel,
//! reproducible and resumable. (Not built yet.)

use crate::Failure;

#[derive(clap::Args)]
pub struct SweepArgs {
    /// Scenario file.
    pub file: std::path::PathBuf,
}

#[derive(clap::Args)]
pub struct MergeArgs {
    /// Sweep output directories.
    pub dirs: Vec<std::path::PathBuf>,
}

pub fn cmd_sweep(_args: &SweepArgs) -> Result<(), Failure> {
    Err(Failure::Input(
        "error: `cascade sweep` is not built yet".into(),
    ))
}

pub fn cmd_merge(_args: &MergeArgs) -> Result<(), Failure> {
    Err(Failure::Input(
        "error: `cascade merge` is not built yet".into(),
    ))
}
