//! `cascade compare A.toml B.toml [C.toml …]`: two or more scenarios run on
//! common random numbers, and the differences of their headline metrics.
//!
//! Owns: the seeds of a comparison (every scenario runs on the same seeds,
//! so they share every random stream whose name they share, unless
//! `--independent`), picking headline metrics out of summaries serialised
//! to JSON (so fields the engine adds later need no change here), paired
//! differences with 95 % confidence intervals, the terminal tables,
//! `compare.json` (whose types are `reports::compare`'s); the overlay
//! charts and `report.html` are drawn by `reports::write_compare` from the
//! first rep of each scenario.
//!
//! Must not: contain model logic (it only calls `sim_core::run_scenario`),
//! let `--jobs` or the order runs finish in reach any output (results are
//! collected by index and every float is folded sequentially, in index
//! order, by `sweep::stats`).
//!
//! Over 600 lines on purpose: one command's arguments, seeds, metric
//! extraction, `compare.json` and tables read best together, and a sixth of
//! the file is its tests.

use std::path::{Path, PathBuf};

use comfy_table::{Cell, CellAlignment, Table, presets::UTF8_FULL_CONDENSED};
use indexmap::IndexMap;
use reports::compare::{
    Comparison, MetricOut, PairOut, ScenarioOut, Unit, ValuesOut, fmt_diff, fmt_half, fmt_value,
    unit_of,
};
use serde_json::Value;
use sim_core::Scenario;
use sim_core::output::RunResult;

use crate::args::{Duration, Jobs, Out, Seed, Sets};
use crate::outdir::OutDir;
use crate::runner::Runner;
use crate::sweep::stats::{mean_ci95, mean_sd};
use crate::{Failure, term};

#[derive(clap::Args)]
#[command(after_help = "Example: cascade compare scenarios/checkout.toml \
    scenarios/circuit-breaker.toml --reps 8 --out out/cb\n\
    See docs/compare.md for what common random numbers buy and the keys of compare.json.")]
#[command(mut_arg("seed", |a| a.help("Master seed (default: the first scenario's `seed`)")))]
#[command(mut_arg("set", |a| a.help(
    "Override a value in every scenario: --set services.db.threads=16 (repeatable)"
)))]
#[command(mut_arg("duration", |a| a.help("Simulated duration for every scenario, e.g. 60s")))]
#[command(mut_arg("out", |a| a.help(
    "Write compare.json, report.html (the comparison as a page), compare-latency.{svg,png} and, \
     when the scenarios have queues, compare-lag.{svg,png} into this directory"
)))]
pub struct CompareArgs {
    /// Scenario files, two or more; the first (A) is the baseline every
    /// other one is compared with.
    #[arg(required = true, num_args = 2.., value_name = "FILE")]
    pub files: Vec<PathBuf>,
    #[command(flatten)]
    pub seed: Seed,
    /// Replications: rep i runs every scenario on the same seed i
    /// (rep 0 on the master seed itself).
    #[arg(long, default_value_t = 1)]
    pub reps: u32,
    /// Teaching/diagnostic switch: give every scenario after the first
    /// seeds of its own, so the pairs are independent (no common random
    /// numbers). Shows how much noise common random numbers remove.
    #[arg(long)]
    pub independent: bool,
    #[command(flatten)]
    pub set: Sets,
    #[command(flatten)]
    pub duration: Duration,
    #[command(flatten)]
    pub jobs: Jobs,
    #[command(flatten)]
    pub out: Out,
    #[command(flatten)]
    pub max_wall: crate::args::MaxWall,
    /// Print compare.json on stdout instead of tables.
    #[arg(long)]
    pub json: bool,
}

/// Version of the layout of `compare.json`.
const FORMAT: u32 = 1;

/// Headline metrics per section of the summary: (section, what one item
/// is called, fields as dotted paths inside an item).
const SECTIONS: [(&str, &str, &[&str]); 5] = [
    (
        "entries",
        "entry",
        &[
            "goodput_rps",
            "error_rate",
            "latency_ms.mean",
            "latency_ms.p50",
            "latency_ms.p99",
            "latency_all_ms.p99",
            "failed.timeout",
            "failed.rejected",
            "failed.error",
        ],
    ),
    (
        "queues",
        "queue",
        &[
            "latency_ms.p50",
            "latency_ms.p99",
            "depth_max",
            "oldest_age_max_s",
            "drain_s",
            "duplicates",
            "duplicate_side_effects",
            "dead_lettered",
            "publish_failed",
            "queued_at_end",
            "consumer_utilization",
        ],
    ),
    (
        "services",
        "service",
        &[
            "utilization",
            "rejected",
            "refused",
            // Only services with an event loop or memory have these.
            "reset",
            "event_loop.connections_max",
            "event_loop.run_queue_wait_ms.p99",
            "memory.max_mib",
            "memory.oom_kills",
            "memory.down_s",
            "memory.gc_pause_share",
            // Only services that write a store conditionally.
            "conflicts",
        ],
    ),
    // Versioned stores (absent without them): one read per try, so
    // `reads` is the work a contended key costs.
    (
        "stores",
        "store",
        &["reads", "writes", "conflicts", "conflict_ratio"],
    ),
    (
        "sagas",
        "saga",
        &[
            "started",
            "completed",
            "compensated",
            "stuck",
            "running_at_end",
            "time_to_completion_ms.p50",
            "time_to_completion_ms.p99",
            "time_inconsistent_ms.p50",
            "time_inconsistent_ms.p99",
            "time_inconsistent_ms.max",
        ],
    ),
];

/// The seed of rep `rep` of scenario `k`. With common random numbers it
/// does not depend on `k`; rep 0 is the master seed itself, so a one-rep
/// comparison reproduces `cascade run` of each file.
pub fn seed_of(master: u64, rep: u32, k: usize, independent: bool) -> u64 {
    let key = if independent && k > 0 {
        format!("cascade-compare\u{0}seed={master}\u{0}rep={rep}\u{0}scenario={k}")
    } else if rep == 0 {
        return master;
    } else {
        format!("cascade-compare\u{0}seed={master}\u{0}rep={rep}")
    };
    sim_core::rng::mix(sim_core::rng::stream_id(&key))
}

/// Every numeric leaf of `v` as `dotted.path → value` (arrays and
/// non-numbers skipped; `null`, e.g. a NaN, is absent).
fn flatten(v: &Value, prefix: &str, out: &mut IndexMap<String, f64>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(x, &key, out);
            }
        }
        Value::Number(n) => {
            if let Some(f) = n.as_f64() {
                out.insert(prefix.to_owned(), f);
            }
        }
        _ => {}
    }
}

/// One headline metric across every scenario and rep.
struct Metric {
    key: String,
    section: &'static str,
    name: String,
    field: &'static str,
    unit: Unit,
    /// Per scenario: the value of every rep, or `None` when the scenario
    /// lacks it (in any rep).
    values: Vec<Option<Vec<f64>>>,
}

/// Paired differences of scenario `b` against `a`, seed by seed.
struct Pair {
    differences: Vec<f64>,
    mean: f64,
    ci95: Option<f64>,
    sd: Option<f64>,
}

impl Pair {
    fn of(a: &[f64], b: &[f64]) -> Pair {
        let differences: Vec<f64> = a.iter().zip(b).map(|(x, y)| y - x).collect();
        let (mean, ci95) = mean_ci95(&differences);
        let (_, sd) = mean_sd(&differences);
        Pair {
            differences,
            mean,
            ci95,
            sd,
        }
    }

    /// The 95 % interval lies wholly on one side of zero.
    fn excludes_zero(&self) -> Option<bool> {
        self.ci95
            .map(|h| self.mean - h > 0.0 || self.mean + h < 0.0)
    }
}

/// Collects the headline metrics: items matched by name across scenarios
/// (union, in first-seen order); `runs[k][i]` is scenario k's rep i.
fn collect(runs: &[Vec<Value>]) -> Vec<Metric> {
    let mut out = Vec::new();
    for (section, _, fields) in SECTIONS {
        let mut names: Vec<String> = Vec::new();
        for v in runs.iter().flatten() {
            if let Some(Value::Object(m)) = v.get(section) {
                for n in m.keys() {
                    if !names.contains(n) {
                        names.push(n.clone());
                    }
                }
            }
        }
        for name in names {
            // Each run's item, flattened once.
            let flat: Vec<Vec<Option<IndexMap<String, f64>>>> = runs
                .iter()
                .map(|reps| {
                    reps.iter()
                        .map(|v| {
                            let item = v.get(section)?.get(&name)?;
                            let mut m = IndexMap::new();
                            flatten(item, "", &mut m);
                            Some(m)
                        })
                        .collect()
                })
                .collect();
            for field in fields.iter().copied() {
                let values: Vec<Option<Vec<f64>>> = flat
                    .iter()
                    .map(|reps| {
                        reps.iter()
                            .map(|m| m.as_ref()?.get(field).copied())
                            .collect()
                    })
                    .collect();
                if values.iter().all(Option::is_none) {
                    continue;
                }
                out.push(Metric {
                    key: format!("{section}.{name}.{field}"),
                    section,
                    name: name.clone(),
                    field,
                    unit: unit_of(field),
                    values,
                });
            }
        }
    }
    out
}

// ---- compare.json -------------------------------------------------------

// The types of compare.json are `reports::compare`'s: the report reads them.

fn metric_out(m: &Metric) -> MetricOut {
    let scenarios = m
        .values
        .iter()
        .map(|v| ValuesOut {
            mean: v.as_ref().map(|xs| mean_sd(xs).0),
            values: v.clone(),
        })
        .collect();
    let pairs = (1..m.values.len())
        .map(|k| {
            let p = match (&m.values[0], &m.values[k]) {
                (Some(a), Some(b)) => Some(Pair::of(a, b)),
                _ => None,
            };
            PairOut {
                scenario: k,
                baseline: 0,
                mean: p.as_ref().map(|p| p.mean),
                ci95: p.as_ref().and_then(|p| p.ci95),
                sd: p.as_ref().and_then(|p| p.sd),
                ci_excludes_zero: p.as_ref().and_then(Pair::excludes_zero),
                differences: p.map(|p| p.differences),
            }
        })
        .collect();
    MetricOut {
        section: m.section.to_owned(),
        name: m.name.clone(),
        field: m.field.to_owned(),
        unit: m.unit,
        scenarios,
        pairs,
    }
}

fn to_json(f: &Comparison) -> String {
    let mut s = serde_json::to_string_pretty(f).expect("compare.json serialises");
    s.push('\n');
    s
}

// ---- terminal -----------------------------------------------------------

fn render(labels: &[String], reps: u32, metrics: &[Metric]) -> String {
    let mut out = String::new();
    let base = &labels[0];
    for (section, item, _) in SECTIONS {
        let rows: Vec<&Metric> = metrics.iter().filter(|m| m.section == section).collect();
        if rows.is_empty() {
            continue;
        }
        let mut t = Table::new();
        t.load_style(UTF8_FULL_CONDENSED);
        let mut header: Vec<String> = vec![item.to_owned(), "metric".to_owned()];
        header.extend(labels.iter().cloned());
        for l in &labels[1..] {
            header.push(format!("Δ {l} vs {base}"));
        }
        t.set_header(header.iter().map(Cell::new));
        let mut last_name: Option<&str> = None;
        for m in rows {
            let name = if last_name == Some(m.name.as_str()) {
                String::new()
            } else {
                m.name.clone()
            };
            last_name = Some(&m.name);
            let mut row = vec![name, m.field.to_owned()];
            for v in &m.values {
                row.push(match v {
                    Some(xs) => fmt_value(m.unit, mean_sd(xs).0),
                    None => "—".to_owned(),
                });
            }
            for k in 1..m.values.len() {
                row.push(match (&m.values[0], &m.values[k]) {
                    (Some(a), Some(b)) => {
                        let p = Pair::of(a, b);
                        match p.ci95 {
                            None => fmt_diff(m.unit, p.mean),
                            Some(h) => format!(
                                "{} ± {}{}",
                                fmt_diff(m.unit, p.mean),
                                fmt_half(m.unit, p.mean, h),
                                if p.excludes_zero() == Some(true) {
                                    " *"
                                } else {
                                    "  "
                                }
                            ),
                        }
                    }
                    _ => "—".to_owned(),
                });
            }
            t.add_row(row);
        }
        for i in 2..t.column_count() {
            if let Some(c) = t.column_mut(i) {
                c.set_cell_alignment(CellAlignment::Right);
            }
        }
        out.push_str(&format!("{t}\n"));
    }
    if reps >= 2 {
        out.push_str(&format!(
            "values: means over {reps} reps · Δ: mean of the per-seed differences ± 95 % CI half-width · \
             * the interval excludes 0 · rates in %, their differences in percentage points (pp)\n"
        ));
    } else {
        out.push_str(
            "Δ: the difference on the same seed (one rep: no interval; --reps 8 gives 95 % CIs) · \
             rates in %, their differences in percentage points (pp)\n",
        );
    }
    out
}

fn seeds_line(seeds: &[u64]) -> String {
    const SHOWN: usize = 6;
    let mut s: Vec<String> = seeds.iter().take(SHOWN).map(u64::to_string).collect();
    if seeds.len() > SHOWN {
        s.push(format!("… ({} in all)", seeds.len()));
    }
    s.join(", ")
}

// ---- the command --------------------------------------------------------

/// Column headers: file stems, made unique.
fn labels(files: &[PathBuf]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (k, f) in files.iter().enumerate() {
        let stem = f
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| f.display().to_string());
        let label = if out.contains(&stem) {
            format!("{stem} ({})", k + 1)
        } else {
            stem
        };
        out.push(label);
    }
    out
}

pub fn cmd_compare(args: &CompareArgs) -> Result<(), Failure> {
    let overrides = crate::args::overrides(&args.set, &args.duration)?;
    if args.reps == 0 {
        return Err(Failure::Input("error: --reps must be 1 or more".into()));
    }
    let scenarios: Vec<Scenario> = args
        .files
        .iter()
        .map(|f| {
            // The runs read only the model (as `cascade run`'s).
            let mut s = crate::load(f, &overrides)?;
            s.forget_file();
            Ok(s)
        })
        .collect::<Result<_, Failure>>()?;
    let jobs = args.jobs.threads()?;
    let master = args.seed.seed.unwrap_or(scenarios[0].model.seed);
    let reps = args.reps;
    let seeds: Vec<Vec<u64>> = (0..scenarios.len())
        .map(|k| {
            (0..reps)
                .map(|i| seed_of(master, i, k, args.independent))
                .collect()
        })
        .collect();
    let labels = labels(&args.files);

    // Fail before running anything if the output cannot be written.
    let out = args.out.out.as_deref().map(OutDir::claim).transpose()?;
    let runner = Runner::new(jobs)?;
    // Rep by rep (every scenario's rep 0 first): a comparison stopped
    // midway has whole reps to compare.
    let runs: Vec<(usize, u32)> = (0..reps)
        .flat_map(|i| (0..scenarios.len()).map(move |k| (k, i)))
        .collect();
    term::note(&format!(
        "compare: {} scenarios × {reps} rep{} = {} runs on {} thread{}",
        scenarios.len(),
        if reps == 1 { "" } else { "s" },
        runs.len(),
        runner.busy(runs.len()),
        if runner.busy(runs.len()) == 1 {
            ""
        } else {
            "s"
        }
    ));
    let watch = args.max_wall.arm()?;
    let results: Vec<Option<(Value, Option<RunResult>)>> =
        runner.map_showing(&runs, "runs", |&(k, i)| {
            // Stopped (Ctrl-C, --max-wall): no new run starts.
            if crate::watch::stopped() {
                return None;
            }
            let seed = Some(seeds[k][i as usize]);
            let r = sim_core::run_scenario_watched(&scenarios[k], seed, &overrides, watch.clone());
            let v = serde_json::to_value(&r.summary).expect("summary serialises");
            Some((v, (i == 0).then_some(r)))
        });
    let finished = |r: &Option<(Value, Option<RunResult>)>| {
        r.as_ref().is_some_and(|(v, _)| v.get("partial").is_none())
    };
    // The reps every scenario finished (all of them unless stopped).
    let whole: Vec<bool> = (0..reps as usize)
        .map(|i| (0..scenarios.len()).all(|k| finished(&results[i * scenarios.len() + k])))
        .collect();
    let stopped = crate::watch::stopped().then(crate::watch::reason);
    if stopped.is_some() && !whole.first().copied().unwrap_or(false) {
        let done = results.iter().filter(|r| finished(r)).count();
        return Err(crate::watch::stopped_midway("compare", done, runs.len()));
    }
    let kept: Vec<u32> = (0..reps).filter(|&i| whole[i as usize]).collect();
    let mut values: Vec<Vec<Value>> = vec![Vec::new(); scenarios.len()];
    let mut first: Vec<RunResult> = Vec::new();
    for (&(k, i), r) in runs.iter().zip(results) {
        if let Some((v, r)) = r.filter(|_| whole[i as usize]) {
            values[k].push(v);
            first.extend(r);
        }
    }
    let seeds: Vec<Vec<u64>> = seeds
        .iter()
        .map(|sd| kept.iter().map(|&i| sd[i as usize]).collect())
        .collect();
    let metrics = collect(&values);

    let file = Comparison {
        format: FORMAT,
        version: sim_core::VERSION.to_owned(),
        scenarios: scenarios
            .iter()
            .zip(&args.files)
            .zip(&labels)
            .zip(&seeds)
            .map(|(((s, f), l), sd)| ScenarioOut {
                label: l.clone(),
                file: f.display().to_string(),
                name: s.model.name.clone(),
                scenario_hash: format!("{:016x}", s.hash),
                seeds: sd.clone(),
            })
            .collect(),
        overrides: overrides
            .iter()
            .map(|o| format!("{}={}", o.path, o.value))
            .collect(),
        master_seed: master,
        seeds: seeds[0].clone(),
        reps: kept.len() as u32,
        common_random_numbers: !args.independent,
        metrics: metrics
            .iter()
            .map(|m| (m.key.clone(), metric_out(m)))
            .collect(),
        partial: stopped.as_ref().map(|reason| reports::compare::Partial {
            reason: reason.clone(),
            reps_planned: reps,
        }),
    };
    let json = to_json(&file);

    let mut charts = Vec::new();
    if let Some(out) = out {
        let written;
        (charts, written) = write_out(out.path(), &json, &file, &labels, &first)?;
        out.finish(&written)?;
    }
    // A stopped comparison still exits 4, after writing its whole reps.
    let partial = || match &stopped {
        Some(why) => Err(Failure::Partial(format!(
            "compare was stopped: {why}; {} of its {reps} reps had finished for every \
             scenario and are compared{}, marked partial. Run the command again for all \
             {reps} (a comparison does not resume)",
            kept.len(),
            args.out
                .out
                .as_ref()
                .map_or_else(String::new, |d| format!(" ({}/compare.json)", d.display()))
        ))),
        None => Ok(()),
    };
    if args.json {
        term::data(&json)?;
        return partial();
    }
    let mut out = format!("compare · cascade {}\n", sim_core::VERSION);
    for (k, s) in file.scenarios.iter().enumerate() {
        let letter = char::from(b'A' + (k % 26) as u8);
        out.push_str(&format!(
            "  {letter}  {:<20} scenario `{}` · {}\n",
            s.label, s.name, s.file
        ));
    }
    if args.independent {
        out.push_str(&format!(
            "seeds: independent (--independent): {} uses {}; ",
            labels[0],
            seeds_line(&seeds[0])
        ));
        out.push_str("every other scenario has seeds of its own — differences are NOT paired on common random numbers\n");
    } else {
        out.push_str(&format!(
            "seeds: {} — common to all scenarios (common random numbers: each difference is paired on one seed)\n",
            seeds_line(&seeds[0])
        ));
    }
    if !file.overrides.is_empty() {
        out.push_str(&format!(
            "overrides for every scenario: {}\n",
            file.overrides.join(", ")
        ));
    }
    out.push_str(&render(&labels, kept.len() as u32, &metrics));
    if let Some(dir) = &args.out.out {
        out.push_str(&format!(
            "wrote {0}/report.html, {0}/compare.json and {0}/{{{1}}}.svg, .png\n",
            dir.display(),
            charts.join(",")
        ));
    }
    term::out(&out)?;
    partial()
}

/// Writes compare.json, then the overlay charts and `report.html`
/// (`reports::write_compare`); returns the charts' stems and every path
/// written.
fn write_out(
    dir: &Path,
    json: &str,
    file: &Comparison,
    labels: &[String],
    first: &[RunResult],
) -> Result<(Vec<&'static str>, Vec<PathBuf>), Failure> {
    let io = |e: std::io::Error| Failure::Io(format!("cannot write to {}: {e}", dir.display()));
    let mut paths = vec![dir.join("compare.json")];
    reports::atomic_write(&paths[0], json.as_bytes()).map_err(io)?;
    let runs: Vec<(&str, &RunResult)> = labels.iter().map(String::as_str).zip(first).collect();
    let (stems, written) = reports::write_compare(dir, file, &runs).map_err(io)?;
    paths.extend(written);
    Ok((stems, paths))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_are_common_unless_independent() {
        assert_eq!(seed_of(42, 0, 0, false), 42);
        assert_eq!(seed_of(42, 0, 3, false), 42);
        assert_eq!(seed_of(42, 5, 0, false), seed_of(42, 5, 2, false));
        assert_ne!(seed_of(42, 1, 0, false), seed_of(42, 2, 0, false));
        assert_eq!(seed_of(42, 3, 0, true), seed_of(42, 3, 0, false));
        assert_ne!(seed_of(42, 0, 1, true), 42);
        assert_ne!(seed_of(42, 3, 1, true), seed_of(42, 3, 2, true));
    }

    #[test]
    fn queues_appear_when_the_summary_has_them() {
        let a = serde_json::json!({"queues": {"orders": {
            "latency_ms": {"p50": 3.0, "p99": 9.0}, "depth_max": 12, "dead_lettered": 0}}});
        let m = collect(&[vec![a.clone()], vec![a]]);
        let keys: Vec<&str> = m.iter().map(|m| m.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "queues.orders.latency_ms.p50",
                "queues.orders.latency_ms.p99",
                "queues.orders.depth_max",
                "queues.orders.dead_lettered"
            ]
        );
        assert_eq!(m[0].unit, Unit::Ms);
        assert_eq!(m[2].unit, Unit::Count);
    }

    #[test]
    fn items_are_matched_by_name_and_missing_ones_stay_missing() {
        let a = serde_json::json!({"entries": {"x": {"goodput_rps": 1.0}}});
        let b =
            serde_json::json!({"entries": {"y": {"goodput_rps": 2.0}, "x": {"goodput_rps": 3.0}}});
        let m = collect(&[vec![a], vec![b]]);
        let keys: Vec<&str> = m.iter().map(|m| m.key.as_str()).collect();
        assert_eq!(keys, ["entries.x.goodput_rps", "entries.y.goodput_rps"]);
        assert_eq!(m[0].values, vec![Some(vec![1.0]), Some(vec![3.0])]);
        assert_eq!(m[1].values, vec![None, Some(vec![2.0])]);
    }
}
