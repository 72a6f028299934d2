//! cascade's engine: a deterministic discrete-event simulator of services,
//! thread pools, queues, networks and faults.
//!
//! A run is a pure function of (scenario, seed, version): integer
//! nanosecond time, events ordered by (time, sequence), one random stream
//! per named process. This crate does no I/O beyond reading a scenario
//! string, reads no clock and draws no OS entropy; it prints nothing.
//!
//! Flow: `scenario::load` (text → `ScenarioFile` → `Model`) then
//! `engine::run` (Model → `RunResult`: summary + time series).

pub mod check;
pub mod dist;
pub mod engine;
pub mod metrics;
pub mod model;
pub mod options;
pub mod outcome;
pub mod output;
pub mod patterns;
pub mod recovery;
pub mod rng;
pub mod scenario;
pub mod slo;
pub mod streams;
pub mod time;
pub mod trace;

pub use engine::run;
pub use options::{Progress, RunOptions, StopSignal, Watch};
pub use outcome::Outcome;
pub use output::RunResult;
pub use scenario::{Override, Scenario, ScenarioError, load};
pub use trace::{TraceLog, TraceOptions};

/// The version stamped on every output.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Loads nothing, runs a loaded scenario with its own hash and overrides
/// stamped on the summary.
pub fn run_scenario(s: &Scenario, seed: Option<u64>, overrides: &[Override]) -> RunResult {
    run_scenario_watched(s, seed, overrides, Watch::default())
}

/// As [`run_scenario`], stoppable and followed through `watch`.
pub fn run_scenario_watched(
    s: &Scenario,
    seed: Option<u64>,
    overrides: &[Override],
    watch: Watch,
) -> RunResult {
    let mut result = run(&s.model, &run_options(s, seed, overrides, watch));
    analyse(s, &mut result);
    result
}

/// As [`run_scenario_watched`], tracing the requests `trace` samples
/// (`cascade run --trace`): the results are byte-identical to an untraced
/// run's.
pub fn run_scenario_traced(
    s: &Scenario,
    seed: Option<u64>,
    overrides: &[Override],
    watch: Watch,
    trace: trace::TraceOptions,
) -> (RunResult, trace::TraceLog) {
    let opts = run_options(s, seed, overrides, watch);
    let (mut result, log) = engine::run_traced(&s.model, &opts, trace);
    analyse(s, &mut result);
    (result, log)
}

fn run_options(
    s: &Scenario,
    seed: Option<u64>,
    overrides: &[Override],
    watch: Watch,
) -> RunOptions {
    RunOptions {
        watch,
        seed,
        duration: None,
        scenario_hash: s.hash,
        overrides: overrides
            .iter()
            .map(|o| format!("{}={}", o.path, o.value))
            .collect(),
    }
}

/// The post-run analyses: recovery after faults, SLO verdicts.
fn analyse(s: &Scenario, result: &mut RunResult) {
    result.summary.recovery = recovery::analyze(&s.model, result);
    result.summary.slo = slo::check(&s.model.slos, result);
}
