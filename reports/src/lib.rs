//! Turns run results into files people read: `summary.json`,
//! `timeseries.csv`, charts (`*.svg` and `*.png`) and `report.html`.
//!
//! Modules: `charts` decides what to draw from a run (data-driven), `plot`
//! draws it (the only module that knows plotters), `html` assembles the
//! report, `numbers` decides how every number reads (here and on the
//! terminal: the cli formats with it too), `timeseries` writes and reads
//! the time series file; `compare` and `sweep` are the plain results of
//! `cascade compare` and `cascade sweep` (filled by the cli), which their
//! reports read.
//!
//! Reads only `sim_core::output` types; never runs a simulation. Every file
//! is written whole or not at all: into a temporary file in the same
//! directory, flushed, then renamed over the target.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use sim_core::output::{RunResult, Summary, TimeSeries};

pub mod charts;
pub mod compare;
pub mod html;
pub mod numbers;
pub mod plot;
pub mod sweep;
#[cfg(test)]
mod test_summary;
pub mod timeseries;
pub mod trace;

pub use charts::{Figure, Figures, Section};
pub use plot::{Band, BandKind, Chart, Dash, Fmt, Line, LineChart, Rgb, Scale};
use rayon::prelude::*;

/// Writes `bytes` to `path` atomically (temp file + rename).
pub fn atomic_write(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// The summary as pretty JSON with a trailing newline.
pub fn summary_json(s: &Summary) -> String {
    let mut out = serde_json::to_string_pretty(s).expect("summary serialises");
    out.push('\n');
    out
}

/// One row per window per series:
/// `window_start_s,window_end_s,scope,name,metric,value`.
pub fn timeseries_csv(ts: &TimeSeries) -> String {
    timeseries::to_csv(ts)
}

/// Name of the scenario copy kept beside the results, so a report can be
/// rendered again without the original file.
pub const SCENARIO_COPY: &str = "scenario.toml";

/// Writes every output of a run into `dir` (created if missing):
/// `summary.json`, `timeseries.csv` (`.csv.gz` when large: see
/// `timeseries`), a copy of the scenario text, and the
/// rendered views (`render`). Returns the paths written.
pub fn write_run(dir: &Path, r: &RunResult, scenario_text: &str) -> std::io::Result<Vec<PathBuf>> {
    fs::create_dir_all(dir)?;
    // The time series file takes longest to build (and, when large, to
    // compress): on a thread of its own while the charts are drawn.
    let (ts_file, views) = std::thread::scope(|scope| {
        let ts_file = scope.spawn(|| timeseries::file(&r.timeseries));
        let views = (|| {
            let summary = dir.join("summary.json");
            atomic_write(&summary, summary_json(&r.summary).as_bytes())?;
            let sc = dir.join(SCENARIO_COPY);
            atomic_write(&sc, scenario_text.as_bytes())?;
            let mut written = vec![summary, sc];
            written.extend(render(dir, r, scenario_text)?);
            Ok::<_, std::io::Error>(written)
        })();
        let ts_file = ts_file
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (ts_file, views)
    });
    let (name, bytes) = ts_file;
    let ts = dir.join(name);
    atomic_write(&ts, &bytes)?;
    // A file of the other kind is an older run's: it must not be read back.
    let stale = if name == timeseries::CSV {
        timeseries::CSV_GZ
    } else {
        timeseries::CSV
    };
    match fs::remove_file(dir.join(stale)) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    let mut written = views?;
    written.insert(1, ts);
    Ok(written)
}

/// Name of the report page among a run's files.
pub const REPORT: &str = "report.html";

/// Renders the views of a run into `dir`: every chart of
/// `charts::figures` as `<stem>.svg` and `<stem>.png`, then `report.html`
/// with the same charts inline. Returns the paths written, report last.
/// Output is a function of the inputs alone: same run, same bytes.
pub fn render(dir: &Path, r: &RunResult, scenario_text: &str) -> std::io::Result<Vec<PathBuf>> {
    fs::create_dir_all(dir)?;
    let charts::Figures {
        figures,
        omitted,
        notes,
    } = charts::figures(r);
    // Drawn in parallel, collected in the figures' order.
    let charts: Vec<_> = figures
        .into_par_iter()
        .map(|f| write_chart(dir, &f.stem, &f.chart).map(|files| (f, files)))
        .collect::<std::io::Result<_>>()?;
    let mut written = Vec::with_capacity(2 * charts.len() + 1);
    let mut drawn = Vec::with_capacity(charts.len());
    for (f, ((svg_path, svg), png)) in charts {
        written.push(svg_path);
        written.push(png);
        drawn.push((f, svg));
    }
    let page = html::report(&r.summary, &drawn, &omitted, &notes, scenario_text);
    let report = dir.join(REPORT);
    atomic_write(&report, page.as_bytes())?;
    written.push(report);
    Ok(written)
}

/// Writes `chart` as `<stem>.svg` and `<stem>.png` in `dir`; returns the
/// SVG's path and text, and the PNG's path. For charts made elsewhere,
/// e.g. overlays of several runs (`LineChart` takes any number of named
/// series).
pub fn write_chart(
    dir: &Path,
    stem: &str,
    chart: &Chart,
) -> std::io::Result<((PathBuf, String), PathBuf)> {
    let svg = plot::svg(chart)?;
    let svg_path = dir.join(format!("{stem}.svg"));
    atomic_write(&svg_path, svg.as_bytes())?;
    let png_path = dir.join(format!("{stem}.png"));
    atomic_write(&png_path, &plot::png(chart)?)?;
    Ok(((svg_path, svg), png_path))
}

/// Writes a comparison's charts and page into `dir`: the overlays of
/// every scenario's first replication (`compare-latency`, and
/// `compare-lag` when there are queues, as SVG and PNG), then
/// `report.html` with `c`'s headline differences, those overlays, and each
/// scenario's key charts next to each other (inline only). `runs` pairs
/// each scenario's label with its first replication, in `c`'s order.
/// Returns the overlays' stems and every path written, the page last.
pub fn write_compare(
    dir: &Path,
    c: &compare::Comparison,
    runs: &[(&str, &RunResult)],
) -> std::io::Result<(Vec<&'static str>, Vec<PathBuf>)> {
    let mut stems = Vec::new();
    let mut written = Vec::new();
    let mut overlays = Vec::new();
    for (stem, what) in [
        ("compare-latency", &charts::ENTRY_P99),
        ("compare-lag", &charts::QUEUE_LAG),
    ] {
        if let Some(chart) = charts::overlay(runs, what) {
            let ((svg_path, svg), png) = write_chart(dir, stem, &chart)?;
            written.extend([svg_path, png]);
            stems.push(stem);
            overlays.push(html::Drawn {
                stem: stem.to_string(),
                title: chart.title().to_string(),
                svg,
                saved: true,
            });
        }
    }
    let mut sides = Vec::with_capacity(runs.len());
    for (_, r) in runs {
        sides.push(key_charts(r)?);
    }
    let path = dir.join(REPORT);
    atomic_write(&path, html::compare_report(c, &overlays, &sides).as_bytes())?;
    written.push(path);
    Ok((stems, written))
}

/// A run's charts that a comparison puts side by side: its topology, its
/// entries' (not the zoomed copies around each fault: the runs' faults
/// may differ) and its services'.
fn key_charts(r: &RunResult) -> std::io::Result<Vec<html::Drawn>> {
    let mut out = Vec::new();
    for f in charts::figures(r).figures {
        let key = matches!(
            f.section,
            Section::Topology | Section::Entries | Section::Services
        ) && !f.stem.contains("-fault-");
        if key {
            out.push(html::Drawn {
                title: f.chart.title().to_string(),
                svg: plot::svg(&f.chart)?,
                stem: f.stem,
                saved: false,
            });
        }
    }
    Ok(out)
}

/// Writes a sweep's charts (`sweep-*.svg`, `.png`) and its `report.html`
/// into `dir`. Returns the paths written, the page last.
pub fn write_sweep_report(dir: &Path, t: &sweep::SweepTable) -> std::io::Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    let mut drawn = Vec::new();
    for (stem, chart) in charts::sweep_charts(t) {
        let ((svg_path, svg), png) = write_chart(dir, &stem, &chart)?;
        written.extend([svg_path, png]);
        drawn.push(html::Drawn {
            title: chart.title().to_string(),
            stem,
            svg,
            saved: true,
        });
    }
    let path = dir.join(REPORT);
    atomic_write(&path, html::sweep_report(t, &drawn).as_bytes())?;
    written.push(path);
    Ok(written)
}

/// A line chart of several named series as SVG text (for overlays of runs).
pub fn line_chart_svg(chart: &LineChart) -> std::io::Result<String> {
    plot::svg(&Chart::Lines(chart.clone()))
}

/// A line chart of several named series as PNG bytes.
pub fn line_chart_png(chart: &LineChart) -> std::io::Result<Vec<u8>> {
    plot::png(&Chart::Lines(chart.clone()))
}

/// Reads a run's saved results back from `dir` (`cascade report`).
pub fn read_run(dir: &Path) -> Result<(RunResult, String), String> {
    let read = |name: &str| {
        fs::read_to_string(dir.join(name))
            .map_err(|e| format!("cannot read {}: {e}", dir.join(name).display()))
    };
    let summary: sim_core::output::Summary = serde_json::from_str(&read("summary.json")?)
        .map_err(|e| format!("{}: {e}", dir.join("summary.json").display()))?;
    let ts_path = if dir.join(timeseries::CSV).exists() || !dir.join(timeseries::CSV_GZ).exists() {
        dir.join(timeseries::CSV)
    } else {
        dir.join(timeseries::CSV_GZ)
    };
    let timeseries = timeseries::read_file(&ts_path)?;
    let scenario = read(SCENARIO_COPY).unwrap_or_default();
    Ok((
        RunResult {
            summary,
            timeseries,
        },
        scenario,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim_core::output::Series;

    #[test]
    fn csv_round_trips() {
        let ts = TimeSeries {
            window_s: 1.0,
            window_start_s: vec![0.0, 1.0],
            window_end_s: vec![1.0, 2.0],
            series: vec![
                Series {
                    scope: "entry".into(),
                    name: "a".into(),
                    metric: "p99_ms".into(),
                    values: vec![1.5, 0.1 + 0.2],
                },
                Series {
                    scope: "service".into(),
                    name: "b".into(),
                    metric: "queue_len".into(),
                    values: vec![0.0, 3.0],
                },
            ],
        };
        let text = timeseries_csv(&ts);
        assert!(text.starts_with(
            "window_start_s,window_end_s,scope,name,metric,value\n0,1,entry,a,p99_ms,1.5\n"
        ));
        assert_eq!(timeseries::parse(&text, 1.0).unwrap(), ts);
    }

    #[test]
    fn atomic_write_leaves_no_temp_file() {
        let dir = std::env::temp_dir().join(format!("cascade-aw-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let p = dir.join("x.json");
        atomic_write(&p, b"hello").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"hello");
        let names: Vec<_> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1);
        fs::remove_dir_all(&dir).unwrap();
    }
}
