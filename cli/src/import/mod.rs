//! `cascade import traces FILES…`: real traces → a scenario to edit; and
//! `cascade import mesh` (`mesh.rs`): Istio resources → its calls' policies.
//!
//! Files are read as a stream of JSON documents (one a line, as the
//! collector's file exporter writes them, or one per file, or several
//! concatenated): one document in memory at a time, each span kept as a
//! compact record (`span.rs`), samples in bounded reservoirs
//! (`derive.rs`). One file per format (`otlp.rs`, `jaeger.rs`,
//! `zipkin.rs`), the derivation, and the writer of the scenario and of
//! `import-report.md` (`writer.rs`).
//!
//! Errors name the file, the document (and its line and column for JSON
//! syntax) and the span; nothing here panics on input.

mod derive;
mod jaeger;
mod links;
mod mesh;
mod mesh_budget;
mod otlp;
mod span;
mod writer;
mod zipkin;

use std::io::BufReader;
use std::path::{Path, PathBuf};

use crate::{Failure, term};
use span::{At, Collector};

#[derive(clap::Args)]
pub struct ImportArgs {
    #[command(subcommand)]
    pub what: ImportCommand,
}

#[derive(clap::Subcommand)]
pub enum ImportCommand {
    /// Derive a scenario from traces (OTLP JSON, Jaeger JSON, Zipkin v2
    /// JSON): services, calls, work, network, queues, rates. Writes
    /// import-report.md beside the scenario.
    Traces(TracesArgs),
    /// Apply Istio VirtualService and DestinationRule resources (timeouts,
    /// retries, connection pools) to the calls of a scenario, in place;
    /// list what is not understood.
    Mesh(mesh::MeshArgs),
}

#[derive(Clone, Copy, PartialEq, Eq, Debug, clap::ValueEnum)]
pub enum Format {
    Otlp,
    Jaeger,
    Zipkin,
}

#[derive(clap::Args)]
pub struct TracesArgs {
    /// Trace files (JSON; several documents per file are read in turn).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// The files' format (default: recognised from each file's first
    /// document).
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Write the scenario here (and import-report.md beside it) instead of
    /// printing the scenario on stdout and the report on stderr.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

pub fn cmd_import(a: &ImportArgs) -> Result<(), Failure> {
    match &a.what {
        ImportCommand::Traces(t) => cmd_traces(t),
        ImportCommand::Mesh(m) => mesh::cmd_mesh(m),
    }
}

fn cmd_traces(a: &TracesArgs) -> Result<(), Failure> {
    let mut spans = Collector::default();
    let names: Vec<String> = a.files.iter().map(|f| f.display().to_string()).collect();
    for (file, name) in a.files.iter().zip(&names) {
        read_file(file, name, a.format, &mut spans)?;
    }
    let dropped = std::mem::take(&mut spans.dropped);
    let derived = derive::derive(spans);
    if derived.spans == 0 {
        return Err(Failure::Input(format!(
            "error: no spans in {}",
            names.join(", ")
        )));
    }
    let scenario = writer::scenario(&derived, &names);
    let report = writer::report(&derived, &names, &dropped);
    match &a.out {
        Some(out) => {
            let report_path = out
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new("."))
                .join("import-report.md");
            write(out, &scenario)?;
            write(&report_path, &report)?;
            term::out(&format!(
                "wrote {} ({} services from {} spans in {} traces) and {}\n",
                out.display(),
                derived.services.len(),
                derived.spans,
                derived.traces,
                report_path.display()
            ))
        }
        None => {
            term::note(&report);
            term::data(&scenario)
        }
    }
}

fn write(path: &Path, text: &str) -> Result<(), Failure> {
    std::fs::write(path, text)
        .map_err(|e| Failure::Io(format!("cannot write {}: {e}", path.display())))
}

/// Every document of one file into `spans`.
fn read_file(
    file: &Path,
    name: &str,
    format: Option<Format>,
    spans: &mut Collector,
) -> Result<(), Failure> {
    let f = std::fs::File::open(file)
        .map_err(|e| Failure::Io(format!("cannot read {}: {e}", file.display())))?;
    let format = match format {
        Some(f) => f,
        None => detect(file)?,
    };
    let reader = BufReader::new(f);
    let bad = |e: serde_json::Error, document: usize| {
        Failure::Input(format!(
            "error: {name}: document {document}, line {} column {}: not {} JSON: {e}",
            e.line(),
            e.column(),
            match format {
                Format::Otlp => "OTLP",
                Format::Jaeger => "Jaeger",
                Format::Zipkin => "Zipkin v2",
            }
        ))
    };
    let mut document = 0;
    macro_rules! each {
        ($ty:ty, $read:path) => {
            for doc in serde_json::Deserializer::from_reader(reader).into_iter::<$ty>() {
                document += 1;
                let doc = doc.map_err(|e| bad(e, document))?;
                let at = At {
                    file: name,
                    document,
                };
                $read(&doc, &at, spans).map_err(|m| Failure::Input(format!("error: {m}")))?;
            }
        };
    }
    match format {
        Format::Otlp => each!(otlp::Document, otlp::read),
        Format::Jaeger => each!(jaeger::Document, jaeger::read),
        Format::Zipkin => each!(zipkin::Document, zipkin::read),
    }
    Ok(())
}

/// The format of a file from its first bytes: a JSON array is Zipkin v2,
/// an object with `resourceSpans` OTLP, with `data` Jaeger.
fn detect(file: &Path) -> Result<Format, Failure> {
    use std::io::Read;
    let mut head = vec![0u8; 4096];
    let n = std::fs::File::open(file)
        .and_then(|mut f| f.read(&mut head))
        .map_err(|e| Failure::Io(format!("cannot read {}: {e}", file.display())))?;
    let text = String::from_utf8_lossy(&head[..n]);
    let trimmed = text.trim_start();
    if trimmed.starts_with('[') {
        Ok(Format::Zipkin)
    } else if trimmed.contains("\"resourceSpans\"") || trimmed.contains("\"resource_spans\"") {
        Ok(Format::Otlp)
    } else if trimmed.contains("\"data\"") {
        Ok(Format::Jaeger)
    } else {
        Err(Failure::Input(format!(
            "error: {}: not recognised as OTLP (resourceSpans), Jaeger (data) or Zipkin v2 (an array) JSON: give --format",
            file.display()
        )))
    }
}
