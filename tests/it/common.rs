//! Helpers shared by the end-to-end tests.

use std::path::PathBuf;
use std::process::{Command, Output};

use sim_core::output::RunResult;

/// Runs the scenario text (TOML) with `seed` in-process.
pub fn run_toml(text: &str, seed: u64) -> RunResult {
    let s = sim_core::load("test.toml", text, &[])
        .unwrap_or_else(|e| panic!("scenario does not load: {e}"));
    sim_core::run_scenario(&s, Some(seed), &[])
}

pub fn cascade(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cascade"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("cascade runs")
}

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// A fresh temporary directory for one test.
pub fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("cascade-it-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}
