//! `cascade blast`: the same fault injected into each service in turn, one
//! run per service in parallel, and a matrix of which entries break.
//!
//! Each run is the scenario (after `--set`) with its own faults removed and
//! the template fault appended with `target = <service>`, rebuilt through
//! the ordinary loader (as JSON), so every check of a `[[fault]]` applies.
//! A run without the fault is the baseline. All runs use the same seed
//! (common random numbers: the same arrivals and work times), and results
//! are collected by index, so the output does not depend on `--jobs`.
//!
//! Over 600 lines on purpose: one command (its help text on the fault
//! template, its runs, matrix, tables and CSV) and its tests; split, its
//! parts would only call each other.

use std::fmt::Write as _;
use std::path::PathBuf;

use comfy_table::{Cell, CellAlignment, Table, presets::UTF8_FULL_CONDENSED};
use reports::numbers::sig3;
use serde::Serialize;
use sim_core::Scenario;
use sim_core::output::{RunResult, Summary};
use sim_core::recovery::Recovery;
use sim_core::scenario::dto::FaultFile;
use sim_core::time::{Nanos, from_secs_f64};

use crate::args::{Jobs, Out, Seed, Sets};
use crate::outdir::OutDir;
use crate::runner::Runner;
use crate::{Failure, term};

const TEMPLATE_HELP: &str = "\
FAULT TEMPLATE
  A [[fault]] table without its target, as comma-separated key=value pairs:
    at=DURATION       when it starts (required), e.g. at=30s
    for=DURATION      how long it lasts (required), e.g. for=30s
  and exactly one kind:
    slowdown=FACTOR   work takes FACTOR times longer
    latency=DURATION  extra latency on each hop of every call into the service
    errors=P          each answer is an error with probability P (0..1)
    crash[=true]      the service refuses every request
  optionally:
    replica=N         only replica N (0-based)

  The scenario's own faults are removed (keep them with --keep-faults); a run
  without the injected fault is the baseline. An entry is DOWN when its
  goodput during the fault drops by more than --drop (default 10%) from the
  baseline's over the same windows, or when one of its [slo] assertions that
  holds in the baseline fails.

EXAMPLES
  cascade blast scenarios/checkout.toml --fault 'slowdown=10,at=30s,for=30s'
  cascade blast scenarios/checkout.toml --fault 'crash,at=20s,for=10s' --jobs 2 --out blast/";

#[derive(clap::Args)]
#[command(after_help = TEMPLATE_HELP)]
#[command(mut_arg("seed", |a| a.help("Master seed of every run (overrides the scenario's `seed`)")))]
#[command(mut_arg("jobs", |a| a.help(
    "Runs at once (default: one per core). The output does not depend on it"
)))]
#[command(mut_arg("out", |a| a.help(
    "Write blast.json and blast.csv (the matrix) into this directory"
)))]
pub struct BlastArgs {
    /// Scenario file.
    pub file: PathBuf,
    /// The fault to inject into each service in turn, e.g.
    /// 'slowdown=10,at=30s,for=30s' or 'crash,at=20s,for=10s' (see below).
    #[arg(long, value_name = "TEMPLATE")]
    pub fault: String,
    #[command(flatten)]
    pub seed: Seed,
    #[command(flatten)]
    pub set: Sets,
    #[command(flatten)]
    pub jobs: Jobs,
    #[command(flatten)]
    pub out: Out,
    #[command(flatten)]
    pub max_wall: crate::args::MaxWall,
    /// Goodput drop during the fault that counts as taken down, e.g. 10%.
    #[arg(long, default_value = "10%", value_name = "PERCENT")]
    pub drop: String,
    /// Only these services, comma-separated (default: every service).
    #[arg(long, value_delimiter = ',', value_name = "NAMES")]
    pub targets: Vec<String>,
    /// Keep the scenario's own faults in every run, the baseline included.
    #[arg(long)]
    pub keep_faults: bool,
    /// Print the matrix as JSON (what --out writes to blast.json).
    #[arg(long)]
    pub json: bool,
}

/// One entry in one run.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct EntryCell {
    pub entry: String,
    /// Mean goodput over the windows the fault covers (before `duration`).
    pub goodput_during_rps: f64,
    pub baseline_goodput_during_rps: f64,
    /// 100 × (baseline − faulted) ÷ baseline; null when the baseline is 0.
    pub goodput_drop_pct: Option<f64>,
    /// Whole measured period, successful requests.
    pub p99_ms: f64,
    pub baseline_p99_ms: f64,
    /// Whole measured period.
    pub error_rate: f64,
    pub baseline_error_rate: f64,
    /// The entry's recovery from the injected fault.
    pub recovery: Option<Recovery>,
    /// This entry's SLO keys that fail here but hold in the baseline.
    pub slo_broken: Vec<String>,
    pub down: bool,
}

/// One faulted service.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Row {
    pub target: String,
    /// Why this service could not take the fault (e.g. a latency fault on a
    /// service nobody calls); the row is then empty.
    pub skipped: Option<String>,
    pub entries: Vec<EntryCell>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct BaselineEntry {
    pub entry: String,
    pub goodput_rps: f64,
    pub goodput_during_rps: f64,
    pub p99_ms: f64,
    pub error_rate: f64,
    /// SLO keys of this entry that already fail without the fault.
    pub slo_failed: Vec<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Blast {
    pub scenario: String,
    pub version: String,
    pub scenario_hash: String,
    pub seed: u64,
    pub overrides: Vec<String>,
    pub fault: String,
    pub fault_start_s: f64,
    pub fault_end_s: f64,
    pub drop_threshold_pct: f64,
    pub kept_scenario_faults: bool,
    pub baseline: Vec<BaselineEntry>,
    pub rows: Vec<Row>,
    /// Set when the command was stopped (Ctrl-C, `--max-wall`): why; the
    /// targets that did not run are skipped rows saying so.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partial: Option<String>,
    /// The targets not run, for `--targets` when running again.
    #[serde(skip)]
    pub not_run: Vec<String>,
}

/// Parses the template into `[[fault]]` keys and values (target excluded).
pub fn parse_template(text: &str) -> Result<serde_json::Map<String, serde_json::Value>, String> {
    const KEYS: &[&str] = &[
        "at", "for", "slowdown", "latency", "errors", "crash", "replica",
    ];
    let mut map = serde_json::Map::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (k, v) = match part.split_once('=') {
            Some((k, v)) => (k.trim(), v.trim()),
            None if part == "crash" => ("crash", "true"),
            None => return Err(format!("`{part}` is not key=value")),
        };
        if k == "target" {
            return Err(
                "the target is what blast varies: leave it out (restrict with --targets)".into(),
            );
        }
        if !KEYS.contains(&k) {
            return Err(format!(
                "unknown key `{k}` (use at, for, and one of slowdown, latency, errors, crash; optionally replica)"
            ));
        }
        let value = if let Ok(i) = v.parse::<i64>() {
            serde_json::Value::from(i)
        } else if let Ok(f) = v.parse::<f64>() {
            serde_json::Value::from(f)
        } else if v == "true" || v == "false" {
            serde_json::Value::Bool(v == "true")
        } else {
            serde_json::Value::String(v.to_owned())
        };
        if map.insert(k.to_owned(), value).is_some() {
            return Err(format!("`{k}` is given twice"));
        }
    }
    for needed in ["at", "for"] {
        if !map.contains_key(needed) {
            return Err(format!(
                "`{needed}` is missing: write e.g. 'slowdown=10,at=30s,for=30s'"
            ));
        }
    }
    Ok(map)
}

fn fault_for(
    template: &serde_json::Map<String, serde_json::Value>,
    target: &str,
) -> Result<FaultFile, String> {
    let mut m = template.clone();
    m.insert("target".into(), serde_json::Value::from(target));
    serde_json::from_value(serde_json::Value::Object(m)).map_err(|e| e.to_string())
}

/// The scenario rebuilt with `fault` (or none) as its faults.
fn variant(base: &Scenario, fault: Option<FaultFile>, keep: bool) -> Result<Scenario, String> {
    let mut file = base.file.clone();
    if !keep {
        file.fault.clear();
    }
    let index = file.fault.len();
    if let Some(f) = fault {
        file.fault.push(f);
    }
    let text = serde_json::to_string_pretty(&file).expect("scenario types serialise");
    sim_core::load("blast.json", &text, &[]).map_err(|e| {
        let prefix = format!("fault.{index}.");
        match e.key.strip_prefix(&prefix) {
            Some(k) => format!("`{k}`: {}", e.message),
            None if e.key == format!("fault.{index}") => e.message.clone(),
            None => format!("key `{}`: {}", e.key, e.message),
        }
    })
}

/// Mean goodput of `entry` over the windows overlapping [start, end) that end
/// by `duration`; the whole run's goodput when there are none.
fn goodput_during(r: &RunResult, entry: &str, start: Nanos, end: Nanos, duration: Nanos) -> f64 {
    let ts = &r.timeseries;
    let Some(g) = ts.get("entry", entry, "goodput_rps") else {
        return 0.0;
    };
    let mut sum = 0.0;
    let mut n = 0usize;
    for (k, v) in g.values.iter().enumerate() {
        let (Some(&a), Some(&b)) = (ts.window_start_s.get(k), ts.window_end_s.get(k)) else {
            break;
        };
        let (a, b) = (from_secs_f64(a), from_secs_f64(b));
        if a < end && b > start && b <= duration {
            sum += v;
            n += 1;
        }
    }
    if n == 0 {
        r.summary.entries.get(entry).map_or(0.0, |e| e.goodput_rps)
    } else {
        sum / n as f64
    }
}

fn failed_slos(s: &Summary, entry: &str) -> Vec<String> {
    s.slo
        .iter()
        .filter(|x| !x.pass && x.scope == "entry" && x.name == entry)
        .map(|x| x.key.clone())
        .collect()
}

fn parse_drop(text: &str) -> Result<f64, Failure> {
    let t = text.trim().trim_end_matches('%').trim();
    t.parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && *v >= 0.0)
        .ok_or_else(|| {
            Failure::Input(format!(
                "error: --drop `{text}` is not a percentage such as 10%"
            ))
        })
}

/// Runs the whole blast (the work of `cmd_blast` without printing).
pub fn blast(args: &BlastArgs) -> Result<Blast, Failure> {
    let overrides = args.set.overrides()?;
    let jobs = args.jobs.threads()?;
    let drop = parse_drop(&args.drop)?;
    let template = parse_template(&args.fault)
        .map_err(|m| Failure::Input(format!("error: --fault `{}`: {m}", args.fault)))?;
    let base = crate::load(&args.file, &overrides)?;
    let mut targets: Vec<String> = base
        .model
        .services_in_call_order()
        .into_iter()
        .map(|s| base.model.services[s].name.clone())
        .collect();
    if !args.targets.is_empty() {
        for t in &args.targets {
            if !targets.contains(t) {
                return Err(Failure::Input(format!(
                    "error: --targets: unknown service `{t}` (services: {})",
                    targets.join(", ")
                )));
            }
        }
        targets.retain(|t| args.targets.contains(t));
    }
    let baseline = variant(&base, None, args.keep_faults)
        .map_err(|m| Failure::Input(format!("error: the scenario without its faults: {m}")))?;
    let faulted: Vec<Result<Scenario, String>> = targets
        .iter()
        .map(|t| {
            let f = fault_for(&template, t)?;
            variant(&base, Some(f), args.keep_faults)
        })
        .collect();
    if let Some(Err(m)) = faulted.iter().find(|r| r.is_err())
        && faulted.iter().all(Result::is_err)
    {
        return Err(Failure::Input(format!(
            "error: --fault `{}`: {m}",
            args.fault
        )));
    }
    let (start, end) = faulted
        .iter()
        .find_map(|r| r.as_ref().ok())
        .and_then(|s| s.model.faults.last())
        .map_or((0, 0), |f| (f.start, f.end));
    let duration = base.model.duration;

    // Run the baseline and every variant, in parallel, by index.
    let scenarios: Vec<Option<&Scenario>> = std::iter::once(Some(&baseline))
        .chain(faulted.iter().map(|r| r.as_ref().ok()))
        .collect();
    let runner = Runner::new(jobs)?;
    let entries: Vec<String> = base.model.sources.iter().map(|s| s.name.clone()).collect();
    // Per run: the summary and each entry's goodput during the fault.
    let watch = args.max_wall.arm()?;
    let runs: Vec<Option<(Summary, Vec<f64>)>> = runner.map_showing(&scenarios, "runs", |s| {
        // Stopped (Ctrl-C, --max-wall): no new run starts.
        s.filter(|_| !crate::watch::stopped()).map(|s| {
            let r = sim_core::run_scenario_watched(s, args.seed.seed, &overrides, watch.clone());
            let during = entries
                .iter()
                .map(|e| goodput_during(&r, e, start, end, duration))
                .collect();
            (r.summary, during)
        })
    });
    // Stopped: the baseline is needed whole; a variant cut short or never
    // started is a skipped row, and the result is marked partial.
    let stopped = crate::watch::stopped();
    let cut = |run: &Option<(Summary, Vec<f64>)>| {
        stopped && run.as_ref().is_none_or(|(s, _)| s.partial.is_some())
    };
    if cut(&runs[0]) {
        let finished = runs
            .iter()
            .flatten()
            .filter(|(s, _)| s.partial.is_none())
            .count();
        return Err(crate::watch::stopped_midway(
            "blast",
            finished,
            scenarios.len(),
        ));
    }
    let not_run: Vec<String> = targets
        .iter()
        .zip(&faulted)
        .zip(&runs[1..])
        .filter(|((_, scenario), run)| scenario.is_ok() && cut(run))
        .map(|((t, _), _)| t.clone())
        .collect();
    let (bsum, bduring) = runs[0].clone().expect("the baseline runs");
    let baseline_rows: Vec<BaselineEntry> = entries
        .iter()
        .zip(&bduring)
        .map(|(e, &d)| {
            let x = &bsum.entries[e];
            BaselineEntry {
                entry: e.clone(),
                goodput_rps: x.goodput_rps,
                goodput_during_rps: d,
                p99_ms: x.latency_ms.p99,
                error_rate: x.error_rate,
                slo_failed: failed_slos(&bsum, e),
            }
        })
        .collect();
    let injected = if args.keep_faults {
        base.file.fault.len()
    } else {
        0
    };
    let rows = targets
        .iter()
        .zip(&faulted)
        .zip(&runs[1..])
        .map(|((target, scenario), run)| {
            if not_run.contains(target) {
                return Row {
                    target: target.clone(),
                    // Why is in `partial`: the row stays short.
                    skipped: Some("not run (stopped)".to_owned()),
                    entries: Vec::new(),
                };
            }
            let (Ok(_), Some((sum, during))) = (scenario, run) else {
                return Row {
                    target: target.clone(),
                    skipped: scenario.as_ref().err().cloned(),
                    entries: Vec::new(),
                };
            };
            let cells = entries
                .iter()
                .enumerate()
                .map(|(i, e)| {
                    let x = &sum.entries[e];
                    let b = &baseline_rows[i];
                    let drop_pct = (b.goodput_during_rps > 0.0)
                        .then(|| 100.0 * (b.goodput_during_rps - during[i]) / b.goodput_during_rps);
                    let slo_broken: Vec<String> = failed_slos(sum, e)
                        .into_iter()
                        .filter(|k| !b.slo_failed.contains(k))
                        .collect();
                    let down = drop_pct.is_some_and(|d| d > drop) || !slo_broken.is_empty();
                    EntryCell {
                        entry: e.clone(),
                        goodput_during_rps: during[i],
                        baseline_goodput_during_rps: b.goodput_during_rps,
                        goodput_drop_pct: drop_pct,
                        p99_ms: x.latency_ms.p99,
                        baseline_p99_ms: b.p99_ms,
                        error_rate: x.error_rate,
                        baseline_error_rate: b.error_rate,
                        recovery: sum
                            .recovery
                            .iter()
                            .find(|r| r.fault == injected && &r.entry == e)
                            .cloned(),
                        slo_broken,
                        down,
                    }
                })
                .collect();
            Row {
                target: target.clone(),
                skipped: None,
                entries: cells,
            }
        })
        .collect();
    Ok(Blast {
        scenario: bsum.scenario.clone(),
        version: bsum.version.clone(),
        scenario_hash: format!("{:016x}", base.hash),
        seed: bsum.seed,
        overrides: bsum.overrides.clone(),
        fault: args.fault.clone(),
        fault_start_s: sim_core::time::secs(start),
        fault_end_s: sim_core::time::secs(end),
        drop_threshold_pct: drop,
        kept_scenario_faults: args.keep_faults,
        baseline: baseline_rows,
        rows,
        partial: (!not_run.is_empty()).then(|| {
            format!(
                "stopped: {}; {} of {} targets not run",
                crate::watch::reason(),
                not_run.len(),
                targets.len()
            )
        }),
        not_run,
    })
}

fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_style(UTF8_FULL_CONDENSED);
    t.set_header(header.iter().map(Cell::new));
    t
}

/// The matrix for the terminal.
pub fn render(b: &Blast) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "blast radius of `{}` in {} · seed {} · {} runs{}",
        b.fault,
        b.scenario,
        b.seed,
        b.rows.iter().filter(|r| r.skipped.is_none()).count() + 1,
        if b.kept_scenario_faults {
            " · the scenario's own faults kept"
        } else {
            ""
        }
    );
    if let Some(why) = &b.partial {
        let _ = writeln!(out, "PARTIAL RESULTS: {why}");
    }
    let _ = writeln!(
        out,
        "DOWN = goodput during the fault ({}s–{}s) more than {}% below the no-fault baseline, or an SLO broken",
        b.fault_start_s, b.fault_end_s, b.drop_threshold_pct
    );
    if b.baseline.len() > 1 {
        let mut header = vec!["fault in"];
        header.extend(b.baseline.iter().map(|e| e.entry.as_str()));
        let mut t = table(&header);
        for r in &b.rows {
            let mut row = vec![r.target.clone()];
            if r.skipped.is_some() {
                row.extend(b.baseline.iter().map(|_| "skipped".to_owned()));
            } else {
                row.extend(
                    r.entries
                        .iter()
                        .map(|c| if c.down { "✗ DOWN" } else { "✓" }.to_owned()),
                );
            }
            t.add_row(row);
        }
        let _ = writeln!(out, "who takes whom down\n{}", crate::table::shown(&mut t));
    }
    for (i, base) in b.baseline.iter().enumerate() {
        let _ = writeln!(
            out,
            "entry {}: baseline goodput {}/s during the fault's windows, p99 {}ms, errors {:.2}%{}",
            base.entry,
            sig3(base.goodput_during_rps),
            sig3(base.p99_ms),
            base.error_rate * 100.0,
            if base.slo_failed.is_empty() {
                String::new()
            } else {
                format!(
                    " (SLOs failing without any fault: {})",
                    base.slo_failed.join(", ")
                )
            }
        );
        let mut t = table(&[
            "fault in",
            "goodput/s",
            "drop",
            "p99 ms",
            "p99 ×",
            "errors %",
            "recovery",
            "verdict",
        ]);
        for r in &b.rows {
            let Some(c) = r.entries.get(i) else {
                t.add_row(vec![
                    r.target.clone(),
                    "-".into(),
                    "-".into(),
                    "-".into(),
                    "-".into(),
                    "-".into(),
                    "-".into(),
                    format!("skipped: {}", r.skipped.clone().unwrap_or_default()),
                ]);
                continue;
            };
            let verdict = if c.down {
                let mut v = "✗ DOWN".to_owned();
                if !c.slo_broken.is_empty() {
                    v.push_str(&format!(" (SLO {})", c.slo_broken.join(", ")));
                }
                v
            } else {
                "✓ holds".to_owned()
            };
            t.add_row(vec![
                r.target.clone(),
                sig3(c.goodput_during_rps),
                c.goodput_drop_pct
                    .map_or("-".into(), |d| format!("{d:.1}%")),
                sig3(c.p99_ms),
                if c.baseline_p99_ms > 0.0 {
                    format!("{:.1}", c.p99_ms / c.baseline_p99_ms)
                } else {
                    "-".into()
                },
                format!("{:.2}", c.error_rate * 100.0),
                c.recovery
                    .as_ref()
                    .map_or("-".into(), crate::verdicts::recovery_cell),
                verdict,
            ]);
        }
        for k in 1..6 {
            if let Some(col) = t.column_mut(k) {
                col.set_cell_alignment(CellAlignment::Right);
            }
        }
        let _ = writeln!(out, "{}", crate::table::shown(&mut t));
    }
    out
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

/// One row per faulted service × entry.
pub fn to_csv(b: &Blast) -> String {
    let mut out = String::from(
        "target,entry,goodput_during_rps,baseline_goodput_during_rps,goodput_drop_pct,p99_ms,baseline_p99_ms,error_rate,baseline_error_rate,recovery,recovery_time_s,slo_broken,down,skipped\n",
    );
    let opt = |v: Option<f64>| v.map_or(String::new(), |v| v.to_string());
    for r in &b.rows {
        if let Some(why) = &r.skipped {
            let _ = writeln!(
                out,
                "{},,,,,,,,,,,,,{}",
                csv_field(&r.target),
                csv_field(why)
            );
            continue;
        }
        for c in &r.entries {
            let rec = c.recovery.as_ref();
            let verdict = rec.map_or(String::new(), |r| {
                serde_json::to_value(r.verdict)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default()
            });
            let _ = writeln!(
                out,
                "{},{},{},{},{},{},{},{},{},{},{},{},{},",
                csv_field(&r.target),
                csv_field(&c.entry),
                c.goodput_during_rps,
                c.baseline_goodput_during_rps,
                opt(c.goodput_drop_pct),
                c.p99_ms,
                c.baseline_p99_ms,
                c.error_rate,
                c.baseline_error_rate,
                verdict,
                opt(rec.and_then(|r| r.recovery_time_s)),
                csv_field(&c.slo_broken.join(";")),
                c.down
            );
        }
    }
    out
}

pub fn cmd_blast(args: &BlastArgs) -> Result<(), Failure> {
    // Claimed before running: a directory we may not write fails at once.
    let out = args.out.out.as_deref().map(OutDir::claim).transpose()?;
    let b = blast(args)?;
    let json = {
        let mut s = serde_json::to_string_pretty(&b).expect("blast serialises");
        s.push('\n');
        s
    };
    if let Some(out) = out {
        let dir = out.path();
        let io = |e: std::io::Error| Failure::Io(format!("cannot write to {}: {e}", dir.display()));
        let (json_path, csv_path) = (dir.join("blast.json"), dir.join("blast.csv"));
        reports::atomic_write(&json_path, json.as_bytes()).map_err(io)?;
        reports::atomic_write(&csv_path, to_csv(&b).as_bytes()).map_err(io)?;
        out.finish(&[json_path, csv_path])?;
    }
    if args.json {
        term::data(&json)?;
    } else {
        let mut text = render(&b);
        if let Some(dir) = &args.out.out {
            text.push_str(&format!(
                "wrote {}/blast.json and blast.csv\n",
                dir.display()
            ));
        }
        term::out(&text)?;
    }
    match &b.partial {
        Some(why) => Err(Failure::Partial(format!(
            "blast was {why}; the targets that ran are in the results{}, marked partial. \
             To finish, run the same command with --targets {}",
            args.out
                .out
                .as_ref()
                .map_or_else(String::new, |d| format!(" ({}/blast.json)", d.display())),
            b.not_run.join(",")
        ))),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_templates() {
        let m = parse_template("slowdown=10, at=30s,for=30s").unwrap();
        assert_eq!(m["slowdown"], 10);
        assert_eq!(m["at"], "30s");
        let m = parse_template("crash,at=1s,for=2s,replica=0").unwrap();
        assert_eq!(m["crash"], true);
        assert_eq!(m["replica"], 0);
        assert_eq!(
            parse_template("errors=0.5,at=1s,for=1s").unwrap()["errors"],
            0.5
        );
        assert!(
            parse_template("slowdown=2,for=1s")
                .unwrap_err()
                .contains("`at`")
        );
        assert!(
            parse_template("slowdwn=2,at=1s,for=1s")
                .unwrap_err()
                .contains("slowdwn")
        );
        assert!(
            parse_template("target=db,crash,at=1s,for=1s")
                .unwrap_err()
                .contains("varies")
        );
        assert!(
            parse_template("at=1s,at=2s,for=1s")
                .unwrap_err()
                .contains("twice")
        );
        let f = fault_for(&parse_template("latency=20ms,at=1s,for=1s").unwrap(), "db").unwrap();
        assert_eq!(f.target, "db");
        assert!(f.latency.is_some());
    }

    #[test]
    fn csv_quotes_what_needs_it() {
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("plain"), "plain");
    }
}
