//! End-to-end tests: the `cascade` binary, and the model against known
//! answers from queueing theory. One integration binary (faster builds).

mod branches;
mod broker;
mod broker_review;
mod chart_labels;
mod cli;
mod common;
mod compare;
mod determinism;
mod faults;
mod hardening;
mod long_runs;
mod not_reached;
mod patterns;
mod processor_sharing;
mod queueing;
mod slo;
mod sweep;
mod theory;
mod topology;
