//! Arguments several commands share, as clap groups flattened into each
//! command (`#[command(flatten)]`), each parsed and validated here once:
//! `--set` ([`Sets`]), `--seed` ([`Seed`]), `--duration` ([`Duration`]),
//! `--jobs` ([`Jobs`]), `--max-wall` ([`MaxWall`]) and `--out` ([`Out`]).
//!
//! A group's doc comment is the help most commands show; a command whose
//! flag means something more specific says so with `mut_arg` on its own
//! definition, so the help of every command reads as before.
//!
//! Must not load scenarios or run anything: commands do, with what these
//! groups return.

use std::path::PathBuf;

use sim_core::Override;

use crate::Failure;

/// `--set PATH=VALUE`, repeatable.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct Sets {
    /// Override a scenario value: --set services.db.threads=16 (repeatable).
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub set: Vec<String>,
}

impl Sets {
    /// The overrides, in the order given.
    pub fn overrides(&self) -> Result<Vec<Override>, Failure> {
        parse_overrides(&self.set)
    }
}

/// Parses `PATH=VALUE` overrides (from `--set`, or a sweep plan's `set`);
/// the first bad one is an input error that names it.
pub fn parse_overrides(set: &[String]) -> Result<Vec<Override>, Failure> {
    set.iter()
        .map(|s| Override::parse(s).map_err(|m| Failure::Input(format!("error: --set {m}"))))
        .collect()
}

/// `--seed N`: the master seed.
#[derive(clap::Args, Debug, Clone, Copy, Default)]
pub struct Seed {
    /// Master seed (overrides the scenario's `seed`).
    #[arg(long)]
    pub seed: Option<u64>,
}

/// `--duration D`: the simulated duration, applied as an override of
/// `duration` after every `--set`.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct Duration {
    /// Simulated duration, e.g. 300s (overrides the scenario's `duration`).
    #[arg(long)]
    pub duration: Option<String>,
}

/// The `--set` overrides followed by `--duration`'s, as a run applies them.
/// A bad `--duration` is blamed on itself, with the unit it lacks.
pub fn overrides(sets: &Sets, duration: &Duration) -> Result<Vec<Override>, Failure> {
    let mut overrides = sets.overrides()?;
    if let Some(d) = &duration.duration {
        if let Err(m) = sim_core::time::parse_duration(d) {
            return Err(Failure::Input(format!(
                "error: --duration {m}: give a duration with a unit, e.g. 60s"
            )));
        }
        overrides.push(Override {
            path: "duration".into(),
            value: d.clone(),
        });
    }
    Ok(overrides)
}

/// `--jobs N` / `-j N`: runs at once.
#[derive(clap::Args, Debug, Clone, Copy, Default)]
pub struct Jobs {
    /// Runs at once (default: all cores; at most 4 × the cores). Outputs do
    /// not depend on it.
    #[arg(long, short = 'j')]
    pub jobs: Option<usize>,
}

/// Threads per core `--jobs` may ask for. Runs are CPU-bound: past one
/// thread per core they only share the cores, and thousands of threads
/// take long to start and may exhaust memory. A few per core leave room
/// for a machine whose core count is under-reported (containers).
pub const JOBS_PER_CORE: usize = 4;

impl Jobs {
    /// The number of threads: as given, or one per core. 0 and more than
    /// [`JOBS_PER_CORE`] × the cores are usage errors (exit 2): a typo is
    /// better caught than silently clamped.
    pub fn threads(&self) -> Result<usize, Failure> {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Self::checked(self.jobs, cores)
    }

    fn checked(jobs: Option<usize>, cores: usize) -> Result<usize, Failure> {
        let most = (JOBS_PER_CORE * cores).max(1);
        match jobs {
            Some(0) => Err(Failure::Input("error: --jobs must be 1 or more".into())),
            Some(j) if j > most => Err(Failure::Input(format!(
                "error: --jobs {j} is more than {JOBS_PER_CORE} × the {cores} core{} here \
                 (at most {most}): runs are CPU-bound, so more threads only share the cores",
                if cores == 1 { "" } else { "s" }
            ))),
            Some(j) => Ok(j),
            None => Ok(cores),
        }
    }
}

/// `--max-wall DURATION`: a wall-clock budget for the whole command.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct MaxWall {
    /// Stop after this much wall-clock time, e.g. 10m: runs in flight end
    /// where they are, their results marked partial (exit 4), as on Ctrl-C.
    #[arg(long, value_name = "DURATION")]
    pub max_wall: Option<String>,
}

impl MaxWall {
    /// Makes the command stoppable by Ctrl-C, SIGTERM and this budget;
    /// the watch to give every run. A bad duration is a usage error.
    pub fn arm(&self) -> Result<sim_core::Watch, Failure> {
        let wall = self
            .max_wall
            .as_deref()
            .map(|text| match sim_core::time::parse_duration(text) {
                Ok(ns) if ns > 0 => Ok(std::time::Duration::from_nanos(ns)),
                Ok(_) => Err("must be more than 0".to_owned()),
                Err(m) => Err(m),
            })
            .transpose()
            .map_err(|m| {
                Failure::Input(format!(
                    "error: --max-wall {m}: give a duration with a unit, e.g. 10m"
                ))
            })?;
        crate::watch::arm(wall, self.max_wall.as_deref())
    }
}

/// `--out DIR`: where a command writes its files.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct Out {
    /// Write the results into this directory.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cmd {
        #[command(flatten)]
        sets: Sets,
        #[command(flatten)]
        duration: Duration,
        #[command(flatten)]
        jobs: Jobs,
    }

    fn parse(args: &[&str]) -> Cmd {
        Cmd::try_parse_from(std::iter::once("x").chain(args.iter().copied())).unwrap()
    }

    #[test]
    fn sets_then_duration_in_order() {
        let c = parse(&["--set", "a.b=1", "--duration", "5s", "--set", "c=x"]);
        let o = overrides(&c.sets, &c.duration).unwrap_or_else(|_| panic!("valid"));
        let got: Vec<(&str, &str)> = o
            .iter()
            .map(|o| (o.path.as_str(), o.value.as_str()))
            .collect();
        assert_eq!(got, [("a.b", "1"), ("c", "x"), ("duration", "5s")]);
    }

    #[test]
    fn a_bad_set_names_itself() {
        let c = parse(&["--set", "nopath"]);
        match c.sets.overrides() {
            Err(Failure::Input(m)) => {
                assert!(m.starts_with("error: --set ") && m.contains("nopath"))
            }
            _ => panic!("`nopath` is not PATH=VALUE"),
        }
    }

    #[test]
    fn jobs_are_capped_at_a_few_per_core() {
        assert_eq!(Jobs::checked(Some(8), 2).ok(), Some(8));
        assert_eq!(Jobs::checked(None, 2).ok(), Some(2));
        assert!(matches!(
            Jobs::checked(Some(100_000), 2),
            Err(Failure::Input(m)) if m.contains("at most 8")
        ));
    }

    #[test]
    fn a_duration_without_unit_is_blamed_on_duration() {
        let c = parse(&["--duration", "60"]);
        match overrides(&c.sets, &c.duration) {
            Err(Failure::Input(m)) => {
                assert!(m.starts_with("error: --duration "), "{m}");
                assert!(m.contains("e.g. 60s") && !m.contains("--set"), "{m}");
            }
            _ => panic!("60 has no unit"),
        }
    }

    #[test]
    fn jobs_are_one_or_more() {
        assert_eq!(parse(&["-j", "3"]).jobs.threads().ok(), Some(3));
        assert!(parse(&[]).jobs.threads().is_ok_and(|n| n >= 1));
        assert!(matches!(
            parse(&["--jobs", "0"]).jobs.threads(),
            Err(Failure::Input(m)) if m == "error: --jobs must be 1 or more"
        ));
    }
}
