//! End-to-end tests: the `cascade` binary, and the model against known
//! answers from queueing theory. One integration binary (faster builds).

mod branches;
mod broker;
mod broker_review;
mod caches;
mod chart_labels;
mod cli;
mod common;
mod compare;
mod compare_report;
mod determinism;
mod event_loop;
mod faults;
mod fidelity;
mod fuzz;
mod guard;
mod hardening;
mod interrupt;
mod long_runs;
mod memory;
mod not_reached;
mod outdir;
mod outdir_txn;
mod patterns;
mod primitives;
mod processor_sharing;
mod queueing;
mod report_pages;
mod runtime_everywhere;
mod runtime_stories;
mod shell;
mod slo;
mod sweep;
mod sweep_report;
mod theory;
mod topology;
