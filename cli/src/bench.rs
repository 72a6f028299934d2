//! `cascade bench`: whole runs timed in-process, reported as events/s and
//! simulated requests/s (the median of several runs). A benchmark, not a
//! test: it asserts nothing about time.

use std::path::PathBuf;
use std::time::Instant;

use crate::args::Sets;
use crate::{Failure, load, term};

pub fn cmd_bench(files: &[PathBuf], runs: u32, set: &Sets) -> Result<(), Failure> {
    if files.is_empty() {
        return Err(Failure::Input(
            "error: give at least one scenario file".into(),
        ));
    }
    let overrides = set.overrides()?;
    term::out(&format!(
        "{:<28} {:>10} {:>12} {:>12} {:>14} {:>14}\n",
        "scenario", "wall s", "events", "requests", "events/s", "requests/s"
    ))?;
    // Whole runs take seconds: a bar over every run of every file (shown
    // only on a terminal, see `term::progress`), paused for each row.
    let progress = term::progress(files.len() as u64 * u64::from(runs.max(1)), "runs");
    for file in files {
        let started = Instant::now();
        let scenario = load(file, &overrides)?;
        let load_s = started.elapsed().as_secs_f64();
        let mut walls = Vec::new();
        let mut last = None;
        for _ in 0..runs.max(1) {
            let t0 = Instant::now();
            let r = sim_core::run_scenario(&scenario, None, &overrides);
            walls.push(t0.elapsed().as_secs_f64());
            last = Some(r);
            progress.inc(1);
        }
        walls.sort_by(f64::total_cmp);
        let wall = walls[walls.len() / 2];
        let r = last.expect("at least one run");
        let requests: u64 = r.summary.entries.values().map(|e| e.requests).sum();
        progress.suspend(|| {
            term::out(&format!(
                "{:<28} {:>10.3} {:>12} {:>12} {:>14.0} {:>14.0}\n",
                r.summary.scenario,
                wall,
                r.summary.events,
                requests,
                r.summary.events as f64 / wall,
                requests as f64 / wall
            ))
        })?;
        progress.suspend(|| term::note(&format!("  (load {load_s:.3}s, runs {walls:?})")));
    }
    progress.finish_and_clear();
    Ok(())
}
