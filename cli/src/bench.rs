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
    // Whole runs take seconds: each shows its simulated time (only on a
    // terminal, after a second: see `watch::follow`), cleared before its
    // row is printed.
    for file in files {
        let started = Instant::now();
        let mut scenario = load(file, &overrides)?;
        // A run reads the model only, as `cascade run` does.
        scenario.forget_file();
        let load_s = started.elapsed().as_secs_f64();
        let mut walls = Vec::new();
        let mut last = None;
        let n = runs.max(1);
        let total = scenario.model.duration.saturating_add(scenario.model.drain);
        for i in 1..=n {
            let mut watch = sim_core::Watch::default();
            let name = file.file_name().map_or_else(
                || crate::source_name(file),
                |n| n.to_string_lossy().into_owned(),
            );
            let label = format!("{name} run {i}/{n}");
            let following = crate::watch::follow(&mut watch, &label, total);
            // Timed with the progress gauge on, as a user runs it: its
            // cost is two atomic stores per 65,536 events.
            let t0 = Instant::now();
            let r = sim_core::run_scenario_watched(&scenario, None, &overrides, watch);
            walls.push(t0.elapsed().as_secs_f64());
            following.done();
            last = Some(r);
        }
        walls.sort_by(f64::total_cmp);
        let wall = walls[walls.len() / 2];
        let r = last.expect("at least one run");
        let requests: u64 = r.summary.entries.values().map(|e| e.requests).sum();
        term::out(&format!(
            "{:<28} {:>10.3} {:>12} {:>12} {:>14.0} {:>14.0}\n",
            r.summary.scenario,
            wall,
            r.summary.events,
            requests,
            r.summary.events as f64 / wall,
            requests as f64 / wall
        ))?;
        term::note(&format!("  (load {load_s:.3}s, runs {walls:?})"));
    }
    Ok(())
}
