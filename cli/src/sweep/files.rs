//! Files a sweep writes: one result file per run (`runs/run-NNNNNN.json`),
//! shard manifests, and the tables built from the run files
//! (`sweep.csv`, `aggregate.csv`, `sweep.json`; the charts and
//! `report.html` through `report`).
//!
//! Each run file carries a checksum of its own text (`"checksum"`, its
//! second line: FNV-1a of the file without that line), so a run file
//! edited by hand or by another tool is refused by name on resume and on
//! merge instead of being counted.
//!
//! The tables are built only from run files read back from disk, in
//! canonical run order, by the same code for `sweep` and `merge`: that is
//! what makes a merged output byte-identical to an unsharded one.

use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use sim_core::output::Summary;

use super::plan::{Plan, Run};
use super::stats::mean_ci95;

/// Version of the sweep file formats.
pub const FORMAT: u32 = 1;

/// One run's result file: its identity and its summary.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunFile {
    pub index: u64,
    pub point: u64,
    pub rep: u32,
    pub seed: u64,
    pub params: IndexMap<String, String>,
    /// Hash of the sweep's base scenario (fixed overrides applied, no
    /// swept value); `summary.scenario_hash` is this run's own scenario.
    pub sweep_scenario_hash: String,
    pub summary: Summary,
}

impl RunFile {
    pub fn same_run(&self, r: &Run) -> bool {
        self.index == r.index
            && self.point == r.point
            && self.rep == r.rep
            && self.seed == r.seed
            && self.params == r.params
    }
}

/// What every manifest and `sweep.json` state about the sweep.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Header {
    pub format: u32,
    pub version: String,
    pub scenario: String,
    /// Hash of the base scenario (fixed overrides applied).
    pub scenario_hash: String,
    pub plan: Plan,
    pub points_total: u64,
    pub runs_total: u64,
}

/// `shard-K-of-N.json`: written when shard K of N has all its runs.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    #[serde(flatten)]
    pub header: Header,
    pub shard: u64,
    pub shards: u64,
    /// Indices of the shard's runs, all present under `runs/`.
    pub runs: Vec<u64>,
}

pub fn run_path(dir: &Path, index: u64) -> PathBuf {
    dir.join("runs").join(format!("run-{index:06}.json"))
}

pub fn manifest_name(shard: u64, shards: u64) -> String {
    format!("shard-{shard}-of-{shards}.json")
}

pub fn to_json<T: Serialize>(v: &T) -> Vec<u8> {
    let mut s = serde_json::to_string_pretty(v).expect("sweep types serialise");
    s.push('\n');
    s.into_bytes()
}

pub fn write(path: &Path, bytes: &[u8]) -> Result<(), crate::Failure> {
    reports::atomic_write(path, bytes)
        .map_err(|e| crate::Failure::Io(format!("cannot write {}: {e}", path.display())))
}

/// The checksum line's start: it follows the opening `{` line.
const CHECKSUM_KEY: &str = "  \"checksum\": \"fnv1a64:";

/// A run file's text: its JSON with the checksum of the rest inserted as
/// the second line.
pub fn run_file_bytes(file: &RunFile) -> Vec<u8> {
    let text = String::from_utf8(to_json(file)).expect("JSON is UTF-8");
    let sum = sim_core::rng::stream_id(&text);
    let (open, rest) = text.split_once('\n').expect("pretty JSON has lines");
    format!("{open}\n{CHECKSUM_KEY}{sum:016x}\",\n{rest}").into_bytes()
}

/// Whether `text` carries the checksum of the rest of it.
fn checksum_holds(text: &str) -> bool {
    let Some((open, rest)) = text.split_once('\n') else {
        return false;
    };
    let Some((line, body)) = rest.split_once('\n') else {
        return false;
    };
    let Some(hex) = line
        .strip_prefix(CHECKSUM_KEY)
        .and_then(|h| h.strip_suffix("\","))
    else {
        return false;
    };
    let sum = sim_core::rng::stream_id(&format!("{open}\n{body}"));
    hex == format!("{sum:016x}")
}

/// Why a run file cannot be used.
#[derive(Debug)]
pub enum BadRunFile {
    /// Unreadable or not a run file (a resumed sweep runs it again).
    Unreadable(String),
    /// Parsed, but not the text cascade wrote: someone changed it.
    Edited(String),
}

impl std::fmt::Display for BadRunFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BadRunFile::Unreadable(m) | BadRunFile::Edited(m) => f.write_str(m),
        }
    }
}

/// Reads a run file and checks its checksum; `Ok(None)` when absent.
pub fn read_run(path: &Path) -> Result<Option<(RunFile, Vec<u8>)>, BadRunFile> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(BadRunFile::Unreadable(format!(
                "cannot read {}: {e}",
                path.display()
            )));
        }
    };
    let f = serde_json::from_slice(&bytes).map_err(|e| {
        BadRunFile::Unreadable(format!("{} is not a sweep run file: {e}", path.display()))
    })?;
    if !std::str::from_utf8(&bytes).is_ok_and(checksum_holds) {
        return Err(BadRunFile::Edited(format!(
            "error: {} was changed after cascade wrote it (its checksum does not match): \
             delete it and run the sweep again to redo that run",
            path.display()
        )));
    }
    Ok(Some((f, bytes)))
}

type Getter = Box<dyn Fn(&Summary) -> Option<f64>>;

/// A headline metric: a column name and its value in one summary.
struct Metric {
    column: String,
    get: Getter,
    integer: bool,
}

/// The headline metrics, from the first run's entries and services (in
/// scenario order).
fn metrics(first: &Summary) -> Vec<Metric> {
    type Get = fn(&sim_core::output::EntrySummary) -> f64;
    let entry: [(&str, Get, bool); 7] = [
        ("requests", |e| e.requests as f64, true),
        ("ok", |e| e.ok as f64, true),
        ("error_rate", |e| e.error_rate, false),
        ("goodput_rps", |e| e.goodput_rps, false),
        ("p50_ms", |e| e.latency_ms.p50, false),
        ("p99_ms", |e| e.latency_ms.p99, false),
        ("p999_ms", |e| e.latency_ms.p999, false),
    ];
    let mut out = Vec::new();
    for name in first.entries.keys() {
        for (m, get, integer) in entry {
            let name = name.clone();
            out.push(Metric {
                column: format!("entry.{name}.{m}"),
                get: Box::new(move |s: &Summary| s.entries.get(&name).map(get)),
                integer,
            });
        }
    }
    for name in first.services.keys() {
        let n = name.clone();
        out.push(Metric {
            column: format!("service.{name}.utilization"),
            get: Box::new(move |s: &Summary| s.services.get(&n).map(|v| v.utilization)),
            integer: false,
        });
    }
    type GetQueue = fn(&sim_core::output::QueueSummary) -> f64;
    let queue: [(&str, GetQueue, bool); 6] = [
        ("lag_p99_ms", |q| q.latency_ms.p99, false),
        ("depth_max", |q| q.depth_max as f64, true),
        ("oldest_age_max_s", |q| q.oldest_age_max_s, false),
        ("duplicates", |q| q.duplicates as f64, true),
        ("dead_lettered", |q| q.dead_lettered as f64, true),
        ("publish_failed", |q| q.publish_failed as f64, true),
    ];
    for name in first.queues.keys() {
        for (m, get, integer) in queue {
            let name = name.clone();
            out.push(Metric {
                column: format!("queue.{name}.{m}"),
                get: Box::new(move |s: &Summary| s.queues.get(&name).map(get)),
                integer,
            });
        }
    }
    out
}

fn cell(v: Option<f64>, integer: bool) -> String {
    match v {
        Some(x) if integer => format!("{}", x as u64),
        Some(x) => format!("{x}"),
        None => String::new(),
    }
}

fn csv_bytes(header: Vec<String>, rows: Vec<Vec<String>>) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(&header).expect("in-memory write");
    for r in rows {
        w.write_record(&r).expect("in-memory write");
    }
    w.into_inner().expect("in-memory write")
}

#[derive(Serialize)]
struct SweepJson<'a> {
    #[serde(flatten)]
    header: &'a Header,
    /// Column names of `metrics` in `runs` and `points`.
    metrics: Vec<&'a str>,
    runs: Vec<RunRow<'a>>,
    points: Vec<PointRow<'a>>,
}

#[derive(Serialize)]
struct RunRow<'a> {
    index: u64,
    point: u64,
    rep: u32,
    seed: u64,
    params: &'a IndexMap<String, String>,
    scenario_hash: &'a str,
    metrics: Vec<Option<f64>>,
}

#[derive(Serialize)]
struct PointRow<'a> {
    point: u64,
    params: &'a IndexMap<String, String>,
    runs: usize,
    mean: Vec<Option<f64>>,
    /// Half-width of the 95 % confidence interval of the mean (Student t).
    ci95: Vec<Option<f64>>,
}

/// Writes `sweep.csv`, `aggregate.csv`, `sweep.json`, the charts and
/// `report.html` from every run of the sweep, in canonical order; returns
/// the paths written.
pub fn write_tables(
    out: &Path,
    header: &Header,
    runs: &[RunFile],
) -> Result<Vec<PathBuf>, crate::Failure> {
    let Some(first) = runs.first() else {
        return Ok(Vec::new());
    };
    let metrics = metrics(&first.summary);
    let params: Vec<&str> = header.plan.params.iter().map(|a| a.path.as_str()).collect();
    let values: Vec<Vec<Option<f64>>> = runs
        .iter()
        .map(|r| metrics.iter().map(|m| (m.get)(&r.summary)).collect())
        .collect();

    // sweep.csv
    let mut cols: Vec<String> = ["run", "point", "rep", "seed"].map(String::from).to_vec();
    cols.extend(params.iter().map(|p| format!("param_{p}")));
    cols.extend(metrics.iter().map(|m| m.column.clone()));
    let rows = runs
        .iter()
        .zip(&values)
        .map(|(r, vals)| {
            let mut row = vec![
                r.index.to_string(),
                r.point.to_string(),
                r.rep.to_string(),
                r.seed.to_string(),
            ];
            row.extend(params.iter().map(|p| r.params[*p].clone()));
            row.extend(metrics.iter().zip(vals).map(|(m, v)| cell(*v, m.integer)));
            row
        })
        .collect();
    let mut written = vec![out.join("sweep.csv")];
    write(&written[0], &csv_bytes(cols, rows))?;

    // aggregate.csv: runs are grouped by point (index = point * reps + rep).
    let mut points = Vec::new();
    let mut i = 0;
    while i < runs.len() {
        let p = runs[i].point;
        let mut j = i;
        while j < runs.len() && runs[j].point == p {
            j += 1;
        }
        let mut mean = Vec::new();
        let mut ci = Vec::new();
        for k in 0..metrics.len() {
            let xs: Vec<f64> = values[i..j].iter().filter_map(|v| v[k]).collect();
            if xs.is_empty() {
                mean.push(None);
                ci.push(None);
            } else {
                let (m, c) = mean_ci95(&xs);
                mean.push(Some(m));
                ci.push(c);
            }
        }
        points.push(PointRow {
            point: p,
            params: &runs[i].params,
            runs: j - i,
            mean,
            ci95: ci,
        });
        i = j;
    }
    let mut cols: Vec<String> = ["point", "runs"].map(String::from).to_vec();
    cols.extend(params.iter().map(|p| format!("param_{p}")));
    for m in &metrics {
        cols.push(format!("{}_mean", m.column));
        cols.push(format!("{}_ci95", m.column));
    }
    let rows = points
        .iter()
        .map(|pt| {
            let mut row = vec![pt.point.to_string(), pt.runs.to_string()];
            row.extend(params.iter().map(|p| pt.params[*p].clone()));
            for (m, c) in pt.mean.iter().zip(&pt.ci95) {
                row.push(cell(*m, false));
                row.push(cell(*c, false));
            }
            row
        })
        .collect();
    written.push(out.join("aggregate.csv"));
    write(&out.join("aggregate.csv"), &csv_bytes(cols, rows))?;
    let columns: Vec<String> = metrics.iter().map(|m| m.column.clone()).collect();
    let report_points = points
        .iter()
        .map(|pt| reports::sweep::SweepPoint {
            point: pt.point,
            params: params.iter().map(|p| pt.params[*p].clone()).collect(),
            runs: pt.runs,
            mean: pt.mean.clone(),
            ci95: pt.ci95.clone(),
        })
        .collect();
    let plan = &header.plan;
    let table = reports::sweep::SweepTable {
        scenario: header.scenario.clone(),
        scenario_hash: header.scenario_hash.clone(),
        version: header.version.clone(),
        seed: plan.seed,
        reps: plan.reps,
        set: plan.set.clone(),
        params: plan.params.iter().map(|a| a.path.clone()).collect(),
        runs_total: header.runs_total,
        columns,
        points: report_points,
    };
    written.extend(super::report::write(out, &table)?);

    // sweep.json
    let json = SweepJson {
        header,
        metrics: metrics.iter().map(|m| m.column.as_str()).collect(),
        runs: runs
            .iter()
            .zip(values)
            .map(|(r, metrics)| RunRow {
                index: r.index,
                point: r.point,
                rep: r.rep,
                seed: r.seed,
                params: &r.params,
                scenario_hash: &r.summary.scenario_hash,
                metrics,
            })
            .collect(),
        points,
    };
    written.push(out.join("sweep.json"));
    write(&out.join("sweep.json"), &to_json(&json))?;
    Ok(written)
}
