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
mod check;
mod compare;
mod errors;
mod huge_pages;
mod import;
mod outdir;
mod runner;
mod sweep;
mod table;
mod term;
mod trace;
mod verdicts;
mod watch;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};
use sim_core::{Override, Scenario};

use outdir::OutDir;

/// `cascade --version`: the package version and the commit it was built
/// from (`build.rs`; "unknown" outside a git checkout).
const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("CASCADE_GIT_COMMIT"),
    ")"
);

/// What `cascade -` reads, and how its errors name it.
const STDIN_PATH: &str = "-";
const STDIN_NAME: &str = "<stdin>";

#[derive(Parser)]
#[command(
    name = "cascade",
    version = VERSION,
    about = "Simulate cascading failures in distributed systems, deterministically",
    after_help = "A scenario file given as - is read (as TOML) from standard input.\n\
        Exit status: 0 ok, 1 a file could not be read or written, 2 bad scenario or usage, \
        3 an SLO assertion failed (check: a certain overload), 4 stopped early (overload guard, --max-wall, Ctrl-C) \
        with partial results written."
)]
struct Cli {
    /// Print nothing but errors and the data asked for (--json, --list,
    /// schema, completions, man): no tables, notes or progress.
    #[arg(long, short = 'q', global = true)]
    quiet: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a scenario and print its summary.
    #[command(mut_arg("out", |a| a.help(
        "Write summary.json, timeseries.csv, scenario.toml (the scenario as run, after \
         --set, --seed and --duration), charts (*.svg, *.png) and report.html into this \
         directory"
    )))]
    Run {
        /// Scenario file (.toml, or .json with the same schema; - for stdin).
        file: PathBuf,
        #[command(flatten)]
        seed: args::Seed,
        #[command(flatten)]
        duration: args::Duration,
        #[command(flatten)]
        out: args::Out,
        #[command(flatten)]
        set: args::Sets,
        #[command(flatten)]
        max_wall: args::MaxWall,
        /// Print the summary as JSON instead of tables.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        trace: trace::TraceArgs,
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
    #[command(mut_arg("set", |a| a.help(
        "Check the scenario with this value overridden: --set services.db.threads=16 (repeatable)"
    )))]
    Validate {
        /// Scenario file (.toml, or .json with the same schema; - for stdin).
        file: PathBuf,
        #[command(flatten)]
        set: args::Sets,
    },
    /// Analyse a scenario without running it: load and utilisation per
    /// service, Erlang-C waits, saturation, short timeouts, retry
    /// amplification, memory. Exit 3 on a certain overload.
    Check(check::CheckArgs),
    /// Build a scenario from real systems: `import traces FILES…`.
    Import(import::ImportArgs),
    /// Print the JSON Schema of scenario files (for editors).
    Schema,
    /// Time whole runs and report events/s and simulated requests/s.
    #[command(mut_arg("set", |a| a.help(
        "Override a value in every file timed: --set duration=60s (repeatable)"
    )))]
    Bench {
        /// Scenario files to time.
        files: Vec<PathBuf>,
        /// Runs per file; the median is reported.
        #[arg(long, default_value_t = 3)]
        runs: u32,
        #[command(flatten)]
        set: args::Sets,
    },
    /// Print a shell completion script, e.g.
    /// `cascade completions bash > ~/.local/share/bash-completion/completions/cascade`.
    Completions {
        /// The shell to complete in.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), e.g. `cascade man > cascade.1; man ./cascade.1`.
    Man,
}

/// Why the command failed, and which exit code that means.
pub enum Failure {
    /// The user must fix the scenario or the command line (exit 2).
    Input(String),
    /// A file could not be read or written (exit 1).
    Io(String),
    /// The run finished but an SLO assertion failed (exit 3).
    SloFailed,
    /// The run stopped early (the overload guard, `--max-wall`, Ctrl-C or
    /// SIGTERM); its partial results were written (exit 4). The message
    /// says why and how to go on.
    Partial(String),
    /// Stdout was closed by its reader (`cascade … | head`): stop quietly
    /// with exit 0, as Unix tools do.
    Closed,
}

impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Self {
        Failure::Io(e.to_string())
    }
}

fn main() -> ExitCode {
    huge_pages::ask_for_huge_pages();
    let cli = Cli::parse();
    term::set_quiet(cli.quiet);
    let result = match cli.command {
        Command::Run {
            file,
            seed,
            duration,
            out,
            set,
            max_wall,
            json,
            trace,
        } => cmd_run(
            &file, seed, &duration, out.out, &set, &max_wall, json, &trace,
        ),
        Command::Validate { file, set } => cmd_validate(&file, &set),
        Command::Check(args) => check::cmd_check(&args),
        Command::Import(args) => import::cmd_import(&args),
        Command::Report { dir } => cmd_report(&dir),
        Command::Sweep(args) => sweep::cmd_sweep(&args),
        Command::Merge(args) => sweep::cmd_merge(&args),
        Command::Compare(args) => compare::cmd_compare(&args),
        Command::Blast(args) => blast::cmd_blast(&args),
        Command::Schema => {
            let schema = schemars::schema_for!(sim_core::scenario::ScenarioFile);
            let mut text = serde_json::to_string_pretty(&schema).expect("schema serialises");
            text.push('\n');
            term::data(&text)
        }
        Command::Bench { files, runs, set } => bench::cmd_bench(&files, runs, &set),
        Command::Completions { shell } => {
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "cascade", &mut script);
            term::data(&String::from_utf8_lossy(&script))
        }
        Command::Man => term::data(&man_page()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Input(m)) => {
            term::error(&m);
            ExitCode::from(2)
        }
        Err(Failure::Io(m)) => {
            term::error(&format!("error: {m}"));
            ExitCode::from(1)
        }
        Err(Failure::SloFailed) => ExitCode::from(3),
        Err(Failure::Partial(m)) => {
            term::error(&format!("error: {m}"));
            ExitCode::from(4)
        }
        Err(Failure::Closed) => ExitCode::SUCCESS,
    }
}

/// How messages name `file`: `<stdin>` for `-`.
pub fn source_name(file: &Path) -> String {
    if file == Path::new(STDIN_PATH) {
        STDIN_NAME.to_owned()
    } else {
        file.display().to_string()
    }
}

/// The text of a scenario file, or of stdin for `-` (readable once).
pub fn read_source(file: &Path) -> Result<Vec<u8>, Failure> {
    use std::io::Read;
    use std::sync::atomic::{AtomicBool, Ordering};
    static STDIN_TAKEN: AtomicBool = AtomicBool::new(false);
    if file != Path::new(STDIN_PATH) {
        return std::fs::read(file)
            .map_err(|e| Failure::Io(format!("cannot read {}: {e}", file.display())));
    }
    if STDIN_TAKEN.swap(true, Ordering::Relaxed) {
        return Err(Failure::Input(
            "error: - (standard input) can be given only once".into(),
        ));
    }
    let mut bytes = Vec::new();
    std::io::stdin()
        .read_to_end(&mut bytes)
        .map_err(|e| Failure::Io(format!("cannot read {STDIN_NAME}: {e}")))?;
    Ok(bytes)
}

/// Reads and checks a scenario file, rendering any error for the terminal.
pub fn load(file: &Path, overrides: &[Override]) -> Result<Scenario, Failure> {
    let bytes = read_source(file)?;
    sim_core::scenario::load_bytes(&source_name(file), &bytes, overrides)
        .map_err(|e| Failure::Input(errors::render(&e)))
}

/// `warning: FILE: key: message` on stderr, one a line.
fn print_warnings(s: &Scenario) {
    for w in &s.warnings {
        term::note(&format!("warning: {w}"));
    }
}

/// The man page: the top-level command, then a section per subcommand
/// (its synopsis, description and options as subsections), all from the
/// clap definitions.
fn man_page() -> String {
    let cmd = Cli::command();
    let mut page = Vec::new();
    // Writing into a Vec cannot fail.
    let _ = clap_mangen::Man::new(cmd.clone()).render(&mut page);
    let mut text = String::from_utf8_lossy(&page).into_owned();
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        let name = sub.get_name();
        let man = clap_mangen::Man::new(sub.clone().bin_name(format!("cascade {name}")));
        let mut part = Vec::new();
        let _ = man.render_synopsis_section(&mut part);
        let _ = man.render_description_section(&mut part);
        let _ = man.render_options_section(&mut part);
        text.push_str(&format!(".SH \"CASCADE {}\"\n", name.to_uppercase()));
        for line in String::from_utf8_lossy(&part).lines() {
            match line.strip_prefix(".SH ") {
                Some(heading) => text.push_str(&format!(".SS {heading}\n")),
                None => {
                    text.push_str(line);
                    text.push('\n');
                }
            }
        }
    }
    text
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
    term::out(&format!(
        "{}: ok — scenario `{}`: {} services, {} sources, {} faults, {} call edges{messaging}\n",
        file.display(),
        m.name,
        m.services.len(),
        m.sources.len(),
        m.faults.len(),
        m.edges.len()
    ))
}

#[allow(clippy::too_many_arguments)] // one per flag group of `run`
fn cmd_run(
    file: &Path,
    seed: args::Seed,
    duration: &args::Duration,
    out: Option<PathBuf>,
    set: &args::Sets,
    max_wall: &args::MaxWall,
    json: bool,
    tracing: &trace::TraceArgs,
) -> Result<(), Failure> {
    let overrides = args::overrides(set, duration)?;
    // --seed is part of the scenario as run: loaded as one more override,
    // so the scenario hash is that of the saved scenario.toml (running it
    // reproduces this run), but not listed among the summary's overrides.
    // Any u64 is a seed (past i64::MAX the loader reads it as digits).
    let mut applied = overrides.clone();
    if let Some(n) = seed.seed {
        applied.push(Override {
            path: "seed".into(),
            value: n.to_string(),
        });
    }
    let bytes = read_source(file)?;
    let name = source_name(file);
    let mut scenario = sim_core::scenario::load_bytes(&name, &bytes, &applied)
        .map_err(|e| Failure::Input(errors::render(&e)))?;
    scenario.forget_file();
    print_warnings(&scenario);
    // The loader checked the text is UTF-8.
    let text = String::from_utf8_lossy(&bytes).into_owned();
    // Claimed before running: a directory we may not write fails at once.
    let out = out.as_deref().map(OutDir::claim).transpose()?;
    let mut watch = max_wall.arm()?;
    let following = watch::follow(
        &mut watch,
        "",
        scenario.model.duration.saturating_add(scenario.model.drain),
    );
    let (result, traced) = match tracing.options() {
        None => (
            sim_core::run_scenario_watched(&scenario, seed.seed, &overrides, watch),
            None,
        ),
        Some(t) => {
            let (r, log) =
                sim_core::run_scenario_traced(&scenario, seed.seed, &overrides, watch, t);
            (r, Some(log))
        }
    };
    following.done();
    let target = out.as_ref().map(|o| o.target().to_path_buf());
    if let Some(out) = out {
        let dir = out.path().to_path_buf();
        let effective = sim_core::scenario::effective_toml(&name, &text, &applied)
            .map_err(|m| Failure::Io(format!("cannot render the scenario as run: {m}")))?;
        let saved = format!(
            "{}{}",
            provenance(&file.display().to_string(), set, seed, duration),
            without_provenance(&effective)
        );
        let written = reports::write_run(&dir, &result, &saved)
            .map_err(|e| Failure::Io(format!("cannot write to {}: {e}", dir.display())))?;
        let shown = out.target().display().to_string();
        out.finish(&written)?;
        if !json {
            let mut text = table::render(&result.summary);
            text.push_str(&verdicts::render(&result.summary));
            text.push_str(&format!(
                "wrote {shown}/summary.json, timeseries.csv, scenario.toml, charts (*.svg, *.png) and {shown}/report.html\n"
            ));
            term::out(&text)?;
        }
    } else if !json {
        let mut text = table::render(&result.summary);
        text.push_str(&verdicts::render(&result.summary));
        term::out(&text)?;
    }
    if json {
        term::data(&reports::summary_json(&result.summary))?;
    }
    if let (Some(log), Some(dir)) = (&traced, &tracing.trace) {
        trace::write(dir, log, &result.timeseries, json)?;
    }
    if let Some(why) = &result.summary.partial {
        return Err(partial_run(why, target.as_deref()));
    }
    if result.summary.slo.iter().any(|s| !s.pass) {
        return Err(Failure::SloFailed);
    }
    Ok(())
}

/// Why a run stopped early, what it wrote, how to go on.
fn partial_run(why: &str, out: Option<&Path>) -> Failure {
    let written = out.map_or_else(String::new, |d| format!(" in {}", d.display()));
    if watch::stopped() {
        Failure::Partial(format!(
            "the run was stopped: {why}; its results{written} cover the run up to then and \
             are marked partial. A run cannot resume midway: run the command again to \
             finish it (with a larger --max-wall, or none)"
        ))
    } else {
        Failure::Partial(format!(
            "the run was stopped by the overload guard; its results{written} cover the run \
             up to then and are marked partial: {why}"
        ))
    }
}

/// The comment at the top of a saved scenario.toml: the command that made
/// it (only what shapes the scenario: not --out, so two runs into two
/// directories save the same bytes).
fn provenance(file: &str, set: &args::Sets, seed: args::Seed, duration: &args::Duration) -> String {
    let mut line = vec!["cascade".to_owned(), "run".to_owned(), shell_quote(file)];
    for s in &set.set {
        line.push("--set".into());
        line.push(shell_quote(s));
    }
    if let Some(n) = seed.seed {
        line.push(format!("--seed {n}"));
    }
    if let Some(d) = &duration.duration {
        line.push(format!("--duration {}", shell_quote(d)));
    }
    format!(
        "{PROVENANCE_FIRST_LINE}#   {}\n# with its --set, --seed and --duration already applied below:\n\
         # `cascade run` of this file reproduces the run.\n\n",
        line.join(" ")
    )
}

const PROVENANCE_FIRST_LINE: &str = "# The scenario as run by:\n";

/// `text` without the comment `provenance` put at its top, if it has one:
/// a saved scenario run again gets one comment, its own, not a stack.
fn without_provenance(text: &str) -> &str {
    match text.strip_prefix(PROVENANCE_FIRST_LINE) {
        Some(rest) => rest.split_once("\n\n").map_or(text, |(_, body)| body),
        None => text,
    }
}

/// `s` as one shell word (single-quoted when needed), on one line.
fn shell_quote(s: &str) -> String {
    let one_line = s.replace('\n', "\\n").replace('\r', "\\r");
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-./=:,+@%".contains(c));
    if plain {
        one_line
    } else {
        format!("'{}'", one_line.replace('\'', "'\\''"))
    }
}

fn cmd_report(dir: &Path) -> Result<(), Failure> {
    let (result, scenario) = reports::read_run(dir).map_err(Failure::Io)?;
    let out = OutDir::claim(dir)?;
    let mut written = reports::render(out.path(), &result, &scenario)
        .map_err(|e| Failure::Io(format!("cannot write to {}: {e}", dir.display())))?;
    let rendered = written.len();
    // The run's own files stay: `report` only redraws the views.
    written.extend(out.keep(&[
        "summary.json",
        "timeseries.csv",
        "timeseries.csv.gz",
        reports::SCENARIO_COPY,
    ])?);
    out.finish(&written)?;
    term::out(&format!(
        "rendered {rendered} files into {}\n",
        dir.display()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn every_subcommand_and_every_flag_has_help() {
        fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
            for arg in cmd.get_arguments() {
                let id = arg.get_id().as_str();
                if id == "help" || id == "version" || arg.is_hide_set() {
                    continue;
                }
                if arg
                    .get_help()
                    .is_none_or(|h| h.to_string().trim().is_empty())
                {
                    missing.push(format!("{path} {id}"));
                }
            }
            for sub in cmd.get_subcommands() {
                let name = format!("{path} {}", sub.get_name());
                if sub.get_about().is_none() {
                    missing.push(name.clone());
                }
                walk(sub, &name, missing);
            }
        }
        let mut missing = Vec::new();
        walk(&Cli::command(), "cascade", &mut missing);
        assert!(missing.is_empty(), "no help text: {missing:?}");
    }

    #[test]
    fn shell_words_are_quoted_only_when_needed() {
        assert_eq!(
            shell_quote("services.db.threads=7"),
            "services.db.threads=7"
        );
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
        assert_eq!(shell_quote("x\ny"), "'x\\ny'");
    }

    #[test]
    fn the_provenance_comment_names_what_shaped_the_scenario() {
        let sets = args::Sets {
            set: vec!["services.db.threads=7".into()],
        };
        let text = provenance(
            "s.toml",
            &sets,
            args::Seed { seed: Some(9) },
            &args::Duration {
                duration: Some("3s".into()),
            },
        );
        assert!(
            text.contains(
                "#   cascade run s.toml --set services.db.threads=7 --seed 9 --duration 3s\n"
            ),
            "{text}"
        );
        assert!(text.lines().all(|l| l.is_empty() || l.starts_with('#')));
        let saved = format!("{text}name = \"x\"\n");
        assert_eq!(without_provenance(&saved), "name = \"x\"\n");
        assert_eq!(
            without_provenance("# mine\nname = 1\n"),
            "# mine\nname = 1\n"
        );
    }
}
