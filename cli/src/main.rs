//! The `cascade` binary: parses the command line, loads scenarios, runs
//! them and hands results to `reports`.
//!
//! Owns exit codes and everything printed to the terminal: data to stdout,
//! errors and progress to stderr. Exit 0 on success, 1 when a file cannot be
//! read or written, 2 for a bad scenario or bad usage. Must not contain
//! model logic.

mod args;
mod bench;
mod blast;
mod compare;
mod errors;
mod runner;
mod sweep;
mod table;
mod verdicts;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use sim_core::{Override, Scenario};

#[derive(Parser)]
#[command(
    name = "cascade",
    version,
    about = "Simulate cascading failures in distributed systems, deterministically"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a scenario and print its summary.
    #[command(mut_arg("out", |a| a.help("Write summary.json and timeseries.csv into this directory")))]
    Run {
        /// Scenario file (.toml, or .json with the same schema).
        file: PathBuf,
        #[command(flatten)]
        seed: args::Seed,
        #[command(flatten)]
        duration: args::Duration,
        #[command(flatten)]
        out: args::Out,
        #[command(flatten)]
        set: args::Sets,
        /// Print the summary as JSON instead of tables.
        #[arg(long)]
        json: bool,
    },
    /// Render charts and report.html again from a run's saved results.
    Report {
        /// A directory written by `cascade run --out`.
        dir: PathBuf,
    },
    /// Run a scenario over a grid of parameter values, in parallel.
    Sweep(sweep::SweepArgs),
    /// Run two or more scenarios on common random numbers and show the
    /// differences of their headline metrics.
    Compare(compare::CompareArgs),
    /// Inject a fault into each service in turn and report who takes whom down.
    Blast(blast::BlastArgs),
    /// Merge the outputs of sharded sweeps into one.
    Merge(sweep::MergeArgs),
    /// Check a scenario without running it.
    Validate {
        file: PathBuf,
        #[command(flatten)]
        set: args::Sets,
    },
    /// Print the JSON Schema of scenario files (for editors).
    Schema,
    /// Time whole runs and report events/s and simulated requests/s.
    Bench {
        /// Scenario files to time.
        files: Vec<PathBuf>,
        /// Runs per file; the median is reported.
        #[arg(long, default_value_t = 3)]
        runs: u32,
        #[command(flatten)]
        set: args::Sets,
    },
}

/// Why the command failed, and which exit code that means.
pub enum Failure {
    /// The user must fix the scenario or the command line (exit 2).
    Input(String),
    /// A file could not be read or written (exit 1).
    Io(String),
    /// The run finished but an SLO assertion failed (exit 3).
    SloFailed,
}

impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Self {
        Failure::Io(e.to_string())
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run {
            file,
            seed,
            duration,
            out,
            set,
            json,
        } => cmd_run(&file, seed, &duration, out.out, &set, json),
        Command::Validate { file, set } => cmd_validate(&file, &set),
        Command::Report { dir } => cmd_report(&dir),
        Command::Sweep(args) => sweep::cmd_sweep(&args),
        Command::Merge(args) => sweep::cmd_merge(&args),
        Command::Compare(args) => compare::cmd_compare(&args),
        Command::Blast(args) => blast::cmd_blast(&args),
        Command::Schema => {
            let schema = schemars::schema_for!(sim_core::scenario::ScenarioFile);
            println!(
                "{}",
                serde_json::to_string_pretty(&schema).expect("schema serialises")
            );
            Ok(())
        }
        Command::Bench { files, runs, set } => bench::cmd_bench(&files, runs, &set),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Input(m)) => {
            eprintln!("{m}");
            ExitCode::from(2)
        }
        Err(Failure::Io(m)) => {
            eprintln!("error: {m}");
            ExitCode::from(1)
        }
        Err(Failure::SloFailed) => ExitCode::from(3),
    }
}

/// Reads and checks a scenario file, rendering any error for the terminal.
pub fn load(file: &Path, overrides: &[Override]) -> Result<Scenario, Failure> {
    let bytes = std::fs::read(file)
        .map_err(|e| Failure::Io(format!("cannot read {}: {e}", file.display())))?;
    sim_core::scenario::load_bytes(&file.display().to_string(), &bytes, overrides)
        .map_err(|e| Failure::Input(errors::render(&e)))
}

/// `warning: FILE: key: message` on stderr, one a line.
fn print_warnings(s: &Scenario) {
    for w in &s.warnings {
        eprintln!("warning: {w}");
    }
}

fn cmd_validate(file: &Path, set: &args::Sets) -> Result<(), Failure> {
    let overrides = set.overrides()?;
    let s = load(file, &overrides)?;
    print_warnings(&s);
    let m = &s.model;
    let messaging = if m.queues.is_empty() {
        String::new()
    } else {
        format!(
            ", {} queues, {} topics on {} broker{}",
            m.queues.len(),
            m.topics.len(),
            m.brokers.len(),
            if m.brokers.len() == 1 { "" } else { "s" }
        )
    };
    println!(
        "{}: ok — scenario `{}`: {} services, {} sources, {} faults, {} call edges{messaging}",
        file.display(),
        m.name,
        m.services.len(),
        m.sources.len(),
        m.faults.len(),
        m.edges.len()
    );
    Ok(())
}

fn cmd_run(
    file: &Path,
    seed: args::Seed,
    duration: &args::Duration,
    out: Option<PathBuf>,
    set: &args::Sets,
    json: bool,
) -> Result<(), Failure> {
    let overrides = args::overrides(set, duration)?;
    let scenario = load(file, &overrides)?;
    print_warnings(&scenario);
    let result = sim_core::run_scenario(&scenario, seed.seed, &overrides);
    if let Some(dir) = &out {
        reports::write_run(dir, &result, &scenario.text)
            .map_err(|e| Failure::Io(format!("cannot write to {}: {e}", dir.display())))?;
    }
    if json {
        print!("{}", reports::summary_json(&result.summary));
    } else {
        print!("{}", table::render(&result.summary));
        print!("{}", verdicts::render(&result.summary));
        if let Some(dir) = &out {
            println!(
                "wrote {0}/summary.json, timeseries.csv, charts (*.svg, *.png) and {0}/report.html",
                dir.display()
            );
        }
    }
    if result.summary.slo.iter().any(|s| !s.pass) {
        return Err(Failure::SloFailed);
    }
    Ok(())
}

fn cmd_report(dir: &Path) -> Result<(), Failure> {
    let (result, scenario) = reports::read_run(dir).map_err(Failure::Io)?;
    let written = reports::render(dir, &result, &scenario)
        .map_err(|e| Failure::Io(format!("cannot write to {}: {e}", dir.display())))?;
    println!("rendered {} files into {}", written.len(), dir.display());
    Ok(())
}
