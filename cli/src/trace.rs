//! `cascade run --trace DIR [--trace-sample RATE] [--trace-max N]`: the
//! flags, their checks, and the line that says what was written.
//!
//! Owns only the command line of tracing; the engine samples and records
//! (`sim_core::engine`), `reports::trace` writes the files.

use std::path::{Path, PathBuf};

use sim_core::{TraceLog, TraceOptions};

use crate::{Failure, term};

/// Root requests traced when `--trace-sample` is not given.
const DEFAULT_SAMPLE: f64 = 0.01;
/// Traces kept when `--trace-max` is not given.
const DEFAULT_MAX: u32 = 1000;

#[derive(clap::Args, Clone, Debug, Default)]
pub struct TraceArgs {
    /// Write a sample of simulated requests into this directory as
    /// trace.perfetto.json (open it in https://ui.perfetto.dev) and
    /// trace.otlp.json (OTLP JSON: Jaeger, Tempo, `cascade import
    /// traces`). The run's other results are the same with or without it.
    #[arg(long, value_name = "DIR")]
    pub trace: Option<PathBuf>,
    /// The share of requests traced, whole request trees sampled where
    /// they enter (0 < RATE <= 1; default 0.01).
    #[arg(long, value_name = "RATE", requires = "trace", allow_negative_numbers = true,
          value_parser = parse_rate)]
    pub trace_sample: Option<f64>,
    /// Keep at most this many traces: past it, a uniform sample of the
    /// requests sampled over the whole run (a reservoir; default 1000; at
    /// most about a million spans are kept in any case).
    #[arg(long, value_name = "N", requires = "trace", value_parser = clap::value_parser!(u32).range(1..))]
    pub trace_max: Option<u32>,
}

fn parse_rate(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(x) if x > 0.0 && x <= 1.0 => Ok(x),
        _ => Err(format!(
            "the share of requests traced must be a number above 0 and at most 1 (0.01 traces one request in a hundred), not {s:?}"
        )),
    }
}

impl TraceArgs {
    /// The engine's options, when tracing was asked for.
    pub fn options(&self) -> Option<TraceOptions> {
        self.trace.as_ref()?;
        Some(TraceOptions {
            sample: self.trace_sample.unwrap_or(DEFAULT_SAMPLE),
            max_traces: self.trace_max.unwrap_or(DEFAULT_MAX),
        })
    }
}

/// Writes the trace files into `dir` and says what they hold.
pub fn write(
    dir: &Path,
    log: &TraceLog,
    series: &sim_core::output::TimeSeries,
    quiet_table: bool,
) -> Result<(), Failure> {
    reports::trace::write(dir, log, series)
        .map_err(|e| Failure::Io(format!("cannot write traces to {}: {e}", dir.display())))?;
    let mut line = format!(
        "wrote {}/{} and {}: {} request{} traced ({} spans; sample {})",
        dir.display(),
        reports::trace::PERFETTO,
        reports::trace::OTLP,
        log.traces,
        if log.traces == 1 { "" } else { "s" },
        log.spans.len(),
        log.options.sample,
    );
    if log.skipped > 0 {
        line.push_str(&format!(
            "; --trace-max {} reached: a uniform sample of the {} requests sampled over the whole run",
            log.options.max_traces,
            u64::from(log.traces) + log.skipped
        ));
    }
    if log.spans_dropped > 0 {
        line.push_str(&format!(
            "; the span limit was reached: {} spans not recorded, their traces are incomplete",
            log.spans_dropped
        ));
    }
    line.push('\n');
    if quiet_table {
        term::note(&line);
        Ok(())
    } else {
        term::out(&line)
    }
}
