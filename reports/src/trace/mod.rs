//! Simulated traces as files (`cascade run --trace DIR`): the sampled
//! requests of a run's `TraceLog` as `trace.perfetto.json` (Chrome
//! trace-event JSON that ui.perfetto.dev and chrome://tracing open,
//! `perfetto.rs`) and `trace.otlp.json` (OTLP JSON as the OpenTelemetry
//! collector's file exporter writes it, for Jaeger or Tempo and for
//! `cascade import traces`, `otlp.rs`).
//!
//! Owns the two file formats; must not simulate nor decide what is
//! sampled. Output is a function of the log alone: same run, same bytes.

pub mod otlp;
pub mod perfetto;
mod store_spans;

use std::path::{Path, PathBuf};

use sim_core::output::TimeSeries;
use sim_core::trace::{Span, SpanId, TraceLog, What};

use crate::atomic_write;

/// The Perfetto file's name in the trace directory.
pub const PERFETTO: &str = "trace.perfetto.json";
/// The OTLP file's name in the trace directory.
pub const OTLP: &str = "trace.otlp.json";

/// Writes both files into `dir` (created if needed); `series` adds the
/// counter tracks. Returns the paths written.
pub fn write(dir: &Path, log: &TraceLog, series: &TimeSeries) -> std::io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let p = dir.join(PERFETTO);
    atomic_write(&p, perfetto::render(log, series).as_bytes())?;
    let o = dir.join(OTLP);
    atomic_write(&o, otlp::render(log).as_bytes())?;
    Ok(vec![p, o])
}

/// Each span's children, in the log's order (a parent comes before its
/// children there).
pub(crate) fn children(log: &TraceLog) -> Vec<Vec<SpanId>> {
    let mut out = vec![Vec::new(); log.spans.len()];
    for (i, s) in log.spans.iter().enumerate() {
        if let Some(p) = s.parent {
            out[p.0 as usize].push(SpanId(i as u32));
        }
    }
    out
}

/// When a job span's handling on a worker started, if it got one.
pub(crate) fn started(s: &Span) -> Option<u64> {
    match s.what {
        What::Job { started, .. } => started,
        _ => None,
    }
}

/// A span's duration in milliseconds, for the files' arguments.
pub(crate) fn ms(ns: u64) -> f64 {
    ns as f64 / 1e6
}
