//! End-to-end tests: the `cascade` binary, and the model against known
//! answers from queueing theory. One integration binary (faster builds).

mod branches;
mod broker;
mod broker_review;
mod chart_labels;
mod check;
mod cli;
mod common;
mod compare;
mod determinism;
mod event_loop;
mod faults;
mod fuzz;
mod guard;
mod hardening;
mod import;
mod long_runs;
mod memory;
mod not_reached;
mod outdir;
mod patterns;
mod primitives;
mod processor_sharing;
mod queueing;
mod runtime_everywhere;
mod runtime_stories;
mod shell;
mod slo;
mod sweep;
mod theory;
mod topology;
