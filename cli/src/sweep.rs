//! `cascade sweep` and `cascade merge`: parameter grids run in parallel,
//! reproducible, resumable and shardable.
//!
//! A sweep is a pure function of (scenario, plan, version): every run's
//! seed comes from its identity (`plan::run_seed`), each run's result is a
//! file of its own written atomically, and the tables are built from those
//! files in canonical order (`files::write_tables`). So `--jobs`, the order
//! runs finish in, a kill and resume, or `--shard` + `merge` never change a
//! byte of the output.

mod files;
pub(crate) mod plan;
mod report;
pub(crate) mod stats;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use sim_core::{Override, Scenario};

use crate::args::{Jobs, Out, Seed, Sets};
use crate::outdir::OutDir;
use crate::runner::Runner;
use crate::{Failure, term};
use files::{Header, Manifest, RunFile};
use plan::{Axis, Plan, Run};

#[derive(clap::Args)]
#[command(after_help = "Example: cascade sweep scenarios/sweep-pool.toml \
    -L services.db.threads 4,6,8 -P workload.api.rate 100 300 -D 100 --reps 5 --out out/pool\n\
    See docs/sweep.md for output files and running shards on Slurm, Kubernetes or GNU parallel.")]
#[command(mut_arg("seed", |a| a.help("Master seed (default: the plan's `seed`, else the scenario's)")))]
#[command(mut_arg("set", |a| a.help(
    "Fixed override for every run: --set duration=60s (repeatable)"
)))]
#[command(mut_arg("jobs", |a| a.help("Runs at once (default: all cores)")))]
#[command(mut_arg("out", |a| a
    .help("Output directory (report.html, runs/, sweep.csv, aggregate.csv, sweep.json, charts)")
    .required_unless_present("list")))]
pub struct SweepArgs {
    /// Scenario file.
    pub file: PathBuf,
    /// Sweep PATH over a list of values: -L services.db.threads 8,16,32
    /// (repeatable: the Cartesian product is run).
    #[arg(short = 'L', long = "parameter-list", num_args = 2, value_names = ["PATH", "VALUES"])]
    pub param_list: Vec<String>,
    /// Sweep PATH over MIN, MIN+STEP, … ≤ MAX (decimal, exact); see -D.
    #[arg(short = 'P', long = "parameter-scan", num_args = 3, value_names = ["PATH", "MIN", "MAX"])]
    pub scan: Vec<String>,
    /// Step of -P (default 1): give it once for every -P, or once per -P.
    #[arg(short = 'D', long = "parameter-step-size", value_name = "STEP")]
    pub step: Vec<String>,
    /// Replications (seeds) per point (default 1, or the plan's `reps`).
    #[arg(long)]
    pub reps: Option<u32>,
    #[command(flatten)]
    pub seed: Seed,
    #[command(flatten)]
    pub set: Sets,
    /// Read the sweep from a TOML file with a [sweep] table (list, range,
    /// reps, seed, set); flags add axes and override reps and seed.
    #[arg(long, value_name = "FILE.toml")]
    pub plan: Option<PathBuf>,
    #[command(flatten)]
    pub jobs: Jobs,
    #[command(flatten)]
    pub out: Out,
    #[command(flatten)]
    pub max_wall: crate::args::MaxWall,
    /// Print the canonical run list (JSON lines: index, point, rep, seed,
    /// params) and exit; with --shard, only that shard's runs.
    #[arg(long)]
    pub list: bool,
    /// Run only runs with index % N == K and write a shard manifest;
    /// combine the shards with `cascade merge`.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<String>,
}

#[derive(clap::Args)]
#[command(mut_arg("out", |a| a.help("Where to write the merged sweep").required(true)))]
pub struct MergeArgs {
    /// Directories holding shard outputs (runs/ and shard-K-of-N.json).
    #[arg(required = true)]
    pub dirs: Vec<PathBuf>,
    #[command(flatten)]
    pub out: Out,
}

/// A point's scenario, loaded with the fixed and swept overrides.
struct Point {
    scenario: Scenario,
    overrides: Vec<Override>,
}

/// Larger sweeps are almost certainly a typo in a range.
const MAX_RUNS: u64 = 10_000_000;

fn input(m: String) -> Failure {
    Failure::Input(m)
}

pub fn cmd_sweep(args: &SweepArgs) -> Result<(), Failure> {
    let plan_file = match &args.plan {
        Some(p) => plan::read_plan_file(p)?,
        None => plan::PlanFile::default(),
    };

    // Fixed overrides: the plan's `set`, then --set.
    let mut set = plan_file.set.clone();
    set.extend(args.set.set.iter().cloned());
    let fixed = crate::args::parse_overrides(&set)?;
    let base = crate::load(&args.file, &fixed)?;

    // Axes: the plan file's, then -L, then -P, each in the order written.
    let mut axes: Vec<Axis> = plan_file.axes;
    for pair in args.param_list.chunks(2) {
        axes.push(plan::list_axis(&pair[0], &pair[1]).map_err(input)?);
    }
    let scans: Vec<&[String]> = args.scan.chunks(3).collect();
    let steps: Vec<&str> = match (args.step.len(), scans.len()) {
        (0, n) => vec!["1"; n],
        (1, n) => vec![args.step[0].as_str(); n],
        (s, n) if s == n => args.step.iter().map(String::as_str).collect(),
        (s, n) => {
            return Err(input(format!(
                "error: -D given {s} times for {n} -P: give one step for all, or one per -P"
            )));
        }
    };
    for (scan, step) in scans.iter().zip(steps) {
        axes.push(plan::range_axis(&scan[0], &scan[1], &scan[2], step).map_err(input)?);
    }
    for (i, a) in axes.iter().enumerate() {
        if let Some(b) = axes[..i].iter().find(|b| b.path == a.path) {
            return Err(input(format!(
                "error: {}: `{}` is already swept by {}",
                a.flag, a.path, b.flag
            )));
        }
        if let Some(o) = fixed.iter().find(|o| o.path == a.path) {
            return Err(input(format!(
                "error: {}: `{}` is also fixed by --set {}={}: drop one",
                a.flag, a.path, o.path, o.value
            )));
        }
    }
    // Each value alone first, so an error names its flag and path.
    for a in &axes {
        for v in &a.values {
            let mut o = fixed.clone();
            o.push(Override {
                path: a.path.clone(),
                value: v.clone(),
            });
            load_text(&base, &args.file, &o).map_err(|e| {
                input(format!(
                    "error: {}: value `{v}`: {}",
                    a.flag,
                    describe(&e, &a.path)
                ))
            })?;
        }
    }

    let reps = args.reps.or(plan_file.reps).unwrap_or(1);
    if reps == 0 {
        return Err(input("error: --reps must be 1 or more".into()));
    }
    let total = axes
        .iter()
        .try_fold(u64::from(reps), |n, a| n.checked_mul(a.values.len() as u64))
        .filter(|n| *n <= MAX_RUNS);
    if total.is_none() {
        return Err(input(format!(
            "error: the sweep has more than {MAX_RUNS} runs: split it into several sweeps"
        )));
    }
    let plan = Plan {
        seed: args.seed.seed.or(plan_file.seed).unwrap_or(base.model.seed),
        reps,
        set,
        params: axes,
    };
    let (shard, shards) = match &args.shard {
        Some(s) => parse_shard(s)?,
        None => (0, 1),
    };
    let header = Header {
        format: files::FORMAT,
        version: sim_core::VERSION.to_owned(),
        scenario: base.file.name.clone(),
        scenario_hash: format!("{:016x}", base.hash),
        points_total: plan.points(),
        runs_total: plan.total_runs(),
        plan,
    };
    let plan = &header.plan;

    let mine: Vec<Run> = (0..header.runs_total)
        .filter(|i| i % shards == shard)
        .map(|i| plan.run(i))
        .collect();

    let runner = Runner::new(args.jobs.threads()?)?;

    // The points these runs need, loaded in parallel (a combination of
    // valid values can still be invalid); the first error in point order.
    let mut needed: Vec<u64> = mine.iter().map(|r| r.point).collect();
    needed.dedup();
    let loaded: Vec<Result<Point, Failure>> =
        runner.map(&needed, |&p| load_point(&base, &args.file, plan, &fixed, p));
    let mut points = BTreeMap::new();
    for (p, l) in needed.iter().zip(loaded) {
        points.insert(*p, l?);
    }

    if args.list {
        return term::with_stdout(|w| {
            for r in &mine {
                let line = serde_json::to_string(r).expect("runs serialise");
                writeln!(w, "{line}")?;
            }
            Ok(())
        });
    }
    let out = args.out.out.as_deref().expect("clap requires --out");
    // Shards may share a directory and run at once: checked, not locked.
    let claimed = if args.shard.is_some() {
        crate::outdir::check_shared(out)?;
        None
    } else {
        Some(OutDir::claim_in_place(out)?)
    };
    let runs_dir = out.join("runs");
    std::fs::create_dir_all(&runs_dir)
        .map_err(|e| Failure::Io(format!("cannot create {}: {e}", runs_dir.display())))?;

    // Resume: keep run files that hold this very run of this scenario.
    let mut pending = Vec::new();
    let mut stale = 0;
    for r in &mine {
        let path = files::run_path(out, r.index);
        match files::read_run(&path) {
            Err(files::BadRunFile::Edited(m)) => return Err(input(m)),
            Ok(Some((f, _)))
                if f.same_run(r)
                    && f.sweep_scenario_hash == header.scenario_hash
                    && f.summary.version == header.version
                    && f.summary.scenario_hash
                        == format!("{:016x}", points[&r.point].scenario.hash) => {}
            Ok(None) => pending.push(r),
            _ => {
                stale += 1;
                pending.push(r);
            }
        }
    }
    remove_temp_files(&runs_dir, &pending);

    let shard_note = if shards > 1 {
        format!(" (shard {shard}/{shards}: {} runs)", mine.len())
    } else {
        String::new()
    };
    term::note(&format!(
        "sweep `{}`: {} runs = {} points × {} reps{shard_note}; {} already done, running {} on {} thread{}{}",
        header.scenario,
        header.runs_total,
        header.points_total,
        plan.reps,
        mine.len() - pending.len(),
        pending.len(),
        runner.busy(pending.len()),
        if runner.busy(pending.len()) > 1 {
            "s"
        } else {
            ""
        },
        if stale > 0 {
            format!(" ({stale} stale result files are rerun)")
        } else {
            String::new()
        }
    ));

    let watch = args.max_wall.arm()?;
    let run_one = |r: &&Run| -> Result<(), Failure> {
        // Stopped (Ctrl-C, --max-wall): no new run starts, and a run cut
        // short is not saved (a resumed sweep runs it again).
        if crate::watch::stopped() {
            return Ok(());
        }
        let p = &points[&r.point];
        let result =
            sim_core::run_scenario_watched(&p.scenario, Some(r.seed), &p.overrides, watch.clone());
        if crate::watch::stopped() && result.summary.partial.is_some() {
            return Ok(());
        }
        let file = RunFile {
            index: r.index,
            point: r.point,
            rep: r.rep,
            seed: r.seed,
            params: r.params.clone(),
            sweep_scenario_hash: header.scenario_hash.clone(),
            summary: result.summary,
        };
        files::write(
            &files::run_path(out, r.index),
            &files::run_file_bytes(&file),
        )
    };
    let results: Vec<Result<(), Failure>> = runner.map_showing(&pending, "runs", run_one);
    if let Some(e) = results.into_iter().find_map(Result::err) {
        return Err(e);
    }
    if crate::watch::stopped() {
        let done = mine
            .iter()
            .filter(|r| files::run_path(out, r.index).is_file())
            .count();
        return Err(Failure::Partial(format!(
            "the sweep was stopped: {}; {done} of its {} runs are saved in {}/runs \
             (no tables were written). Run the same command again to resume: \
             saved runs are kept, the others run",
            crate::watch::reason(),
            mine.len(),
            out.display()
        )));
    }

    if shards > 1 || args.shard.is_some() {
        let manifest = Manifest {
            header: header.clone(),
            shard,
            shards,
            runs: mine.iter().map(|r| r.index).collect(),
        };
        files::write(
            &out.join(files::manifest_name(shard, shards)),
            &files::to_json(&manifest),
        )?;
        term::note(&format!(
            "wrote {} runs and {} into {}",
            mine.len(),
            files::manifest_name(shard, shards),
            out.display()
        ));
        return Ok(());
    }
    let all: Vec<RunFile> = read_back(&header, |_| out.to_path_buf())?
        .into_iter()
        .map(|(f, _)| f)
        .collect();
    let mut written: Vec<PathBuf> = mine.iter().map(|r| files::run_path(out, r.index)).collect();
    written.extend(files::write_tables(out, &header, &all)?);
    if let Some(claimed) = claimed {
        claimed.finish(&written)?;
    }
    term::note(&format!(
        "wrote {}/report.html, sweep.csv, aggregate.csv, sweep.json, charts and runs/",
        out.display()
    ));
    Ok(())
}

/// Loads point `p`'s scenario: fixed overrides, then its swept values.
fn load_point(
    base: &Scenario,
    file: &Path,
    plan: &Plan,
    fixed: &[Override],
    p: u64,
) -> Result<Point, Failure> {
    let params = plan.point_params(p);
    let mut overrides = fixed.to_vec();
    overrides.extend(params.iter().map(|(k, v)| Override {
        path: k.clone(),
        value: v.clone(),
    }));
    let mut scenario = load_text(base, file, &overrides).map_err(|e| {
        let what: Vec<String> = params.iter().map(|(k, v)| format!("{k}={v}")).collect();
        input(format!(
            "error: point {p} ({}): {}",
            what.join(", "),
            describe(&e, "")
        ))
    })?;
    // Every point is loaded before the runs start, and a run reads only
    // the model: a wide scenario's parsed file would be held once a point.
    scenario.forget_file();
    Ok(Point {
        scenario,
        overrides,
    })
}

fn parse_shard(s: &str) -> Result<(u64, u64), Failure> {
    let bad = || {
        input(format!(
            "error: --shard `{s}`: expected K/N with 0 ≤ K < N, e.g. --shard 0/4"
        ))
    };
    let (k, n) = s.split_once('/').ok_or_else(bad)?;
    let k: u64 = k.trim().parse().map_err(|_| bad())?;
    let n: u64 = n.trim().parse().map_err(|_| bad())?;
    if n == 0 || k >= n {
        return Err(bad());
    }
    Ok((k, n))
}

/// Loads the scenario (as `crate::load` read it) with overrides, keeping
/// the structured error.
fn load_text(
    base: &Scenario,
    file: &Path,
    overrides: &[Override],
) -> Result<Scenario, Box<sim_core::ScenarioError>> {
    sim_core::load(&crate::source_name(file), &base.text, overrides)
}

/// A scenario error on one line, naming the key when it is not `path`.
fn describe(e: &sim_core::ScenarioError, path: &str) -> String {
    let mut s = e.message.clone();
    if !e.key.is_empty() && e.key != path {
        s = format!("key `{}`: {s}", e.key);
    }
    if let Some(l) = &e.location {
        s.push_str(&format!(" ({}:{}:{})", e.file, l.line, l.column));
    }
    s
}

/// Removes temporary files a killed run left behind, for runs about to be
/// run again (and only those: other shards may share the directory).
fn remove_temp_files(runs_dir: &Path, pending: &[&Run]) {
    let Ok(entries) = std::fs::read_dir(runs_dir) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(rest) = name.strip_prefix(".run-") else {
            continue;
        };
        let Some((index, tail)) = rest.split_once(".json.") else {
            continue;
        };
        if tail.ends_with(".tmp")
            && let Ok(i) = index.parse::<u64>()
            && pending.iter().any(|r| r.index == i)
        {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

/// Reads every run of the sweep back, checking it is the run the plan
/// names; `dir_of(index)` says which directory holds it. Returns each
/// file parsed and as bytes.
fn read_back(
    header: &Header,
    dir_of: impl Fn(u64) -> PathBuf,
) -> Result<Vec<(RunFile, Vec<u8>)>, Failure> {
    let mut all = Vec::with_capacity(header.runs_total as usize);
    for i in 0..header.runs_total {
        let path = files::run_path(&dir_of(i), i);
        let expected = header.plan.run(i);
        let (f, bytes) = files::read_run(&path)
            .map_err(|e| input(e.to_string()))?
            .ok_or_else(|| input(format!("error: run {i} is missing: no {}", path.display())))?;
        if !f.same_run(&expected) {
            return Err(input(format!(
                "error: {} is not run {i} of this sweep (seed {}, params {:?}; expected seed {}, params {:?})",
                path.display(),
                f.seed,
                f.params,
                expected.seed,
                expected.params
            )));
        }
        if f.sweep_scenario_hash != header.scenario_hash || f.summary.version != header.version {
            return Err(input(format!(
                "error: {} comes from another scenario or version (scenario hash {}, version {}; expected {}, {})",
                path.display(),
                f.sweep_scenario_hash,
                f.summary.version,
                header.scenario_hash,
                header.version
            )));
        }
        all.push((f, bytes));
    }
    Ok(all)
}

pub fn cmd_merge(args: &MergeArgs) -> Result<(), Failure> {
    // Every shard manifest in the given directories.
    let mut found: Vec<(PathBuf, Manifest)> = Vec::new();
    for dir in &args.dirs {
        let entries = std::fs::read_dir(dir)
            .map_err(|e| Failure::Io(format!("cannot read {}: {e}", dir.display())))?;
        let mut names: Vec<String> = entries
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("shard-") && n.ends_with(".json"))
            .collect();
        names.sort();
        if names.is_empty() {
            return Err(input(format!(
                "error: {} holds no shard manifest (shard-K-of-N.json): not a `cascade sweep --shard` output, or the shard has not finished",
                dir.display()
            )));
        }
        for n in names {
            let path = dir.join(&n);
            let text = std::fs::read(&path)
                .map_err(|e| Failure::Io(format!("cannot read {}: {e}", path.display())))?;
            let m: Manifest = serde_json::from_slice(&text).map_err(|e| {
                input(format!(
                    "error: {} is not a shard manifest: {e}",
                    path.display()
                ))
            })?;
            found.push((path, m));
        }
    }
    let (first_path, first) = &found[0];
    let header = first.header.clone();
    let shards = first.shards;
    for (path, m) in &found[1..] {
        let differs = if m.header.version != header.version {
            Some(format!(
                "version {} vs {}",
                m.header.version, header.version
            ))
        } else if m.header.scenario_hash != header.scenario_hash {
            Some(format!(
                "scenario hash {} vs {} (another scenario, or other --set values)",
                m.header.scenario_hash, header.scenario_hash
            ))
        } else if m.header != header {
            Some("the sweep plan (parameters, reps, seed or --set)".into())
        } else if m.shards != shards {
            Some(format!("{} shards vs {shards}", m.shards))
        } else {
            None
        };
        if let Some(d) = differs {
            return Err(input(format!(
                "error: {} and {} belong to different sweeps: {d}",
                path.display(),
                first_path.display()
            )));
        }
    }
    // Each shard exactly once, each with exactly its runs.
    let mut dir_of_shard: Vec<Option<PathBuf>> = vec![None; shards as usize];
    for (path, m) in &found {
        let expected: Vec<u64> = (0..header.runs_total)
            .filter(|i| i % shards == m.shard)
            .collect();
        if m.shard >= shards || m.runs != expected {
            return Err(input(format!(
                "error: {} does not list the runs of shard {}/{shards}",
                path.display(),
                m.shard
            )));
        }
        let slot = &mut dir_of_shard[m.shard as usize];
        if let Some(other) = slot {
            return Err(input(format!(
                "error: shard {}/{shards} appears twice: in {} and {}",
                m.shard,
                other.display(),
                path.parent().unwrap_or(Path::new(".")).display()
            )));
        }
        *slot = Some(path.parent().unwrap_or(Path::new(".")).to_path_buf());
    }
    let missing: Vec<String> = dir_of_shard
        .iter()
        .enumerate()
        .filter(|(_, d)| d.is_none())
        .map(|(k, _)| format!("{k}/{shards}"))
        .collect();
    if !missing.is_empty() {
        return Err(input(format!(
            "error: incomplete sweep: shard {} missing (no finished shard-K-of-{shards}.json in the given directories)",
            missing.join(", ")
        )));
    }
    let dirs: Vec<PathBuf> = dir_of_shard.into_iter().flatten().collect();
    // Everything checked before anything is written.
    let all = read_back(&header, |i| dirs[(i % shards) as usize].clone())?;
    let out = args.out.out.as_deref().expect("clap requires --out");
    let claimed = OutDir::claim_in_place(out)?;
    std::fs::create_dir_all(out.join("runs"))
        .map_err(|e| Failure::Io(format!("cannot create {}/runs: {e}", out.display())))?;
    let mut runs = Vec::with_capacity(all.len());
    let mut written = Vec::with_capacity(all.len());
    for (f, bytes) in all {
        let path = files::run_path(out, f.index);
        files::write(&path, &bytes)?;
        written.push(path);
        runs.push(f);
    }
    written.extend(files::write_tables(out, &header, &runs)?);
    claimed.finish(&written)?;
    term::note(&format!(
        "merged {} shards ({} runs) into {}: report.html, sweep.csv, aggregate.csv, sweep.json, charts and runs/",
        shards,
        header.runs_total,
        out.display()
    ));
    Ok(())
}
