//! Helpers shared by the end-to-end tests.

use std::path::PathBuf;
use std::process::{Command, Output};

use sim_core::output::RunResult;

/// Runs the scenario text (TOML) with `seed` in-process.
pub fn run_toml(text: &str, seed: u64) -> RunResult {
    let s = sim_core::load("test.toml", text, &[])
        .unwrap_or_else(|e| panic!("scenario does not load: {e}"));
    sim_core::run_scenario(&s, Some(seed), &[])
}

pub fn cascade(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cascade"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("cascade runs")
}

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// A fresh temporary directory for one test.
pub fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("cascade-it-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

/// `cascade validate` refuses each `(scenario text, message, key)` case
/// with exit 2 and an error naming the message, the key and the file's
/// line and column, without a panic.
pub fn assert_each_rejected(dir_name: &str, cases: &[(String, &str, &str)]) {
    let dir = temp_dir(dir_name);
    for (i, (text, message, key)) in cases.iter().enumerate() {
        let p = dir.join(format!("bad{i}.toml"));
        std::fs::write(&p, text).unwrap();
        let out = cascade(&["validate", p.to_str().unwrap()]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "case {i}: {err}");
        assert!(err.contains(message), "case {i}: no `{message}` in {err}");
        assert!(err.contains(key), "case {i}: no key `{key}` in {err}");
        assert!(
            err.contains(&format!("bad{i}.toml:")),
            "case {i}: no file:line:column in {err}"
        );
        assert!(!err.contains("panicked"), "{err}");
    }
}

/// The books every run keeps: each entry's requests have exactly one
/// outcome (or are in flight at the end), utilisation is in [0, 1], and no
/// queue loses or invents a message. `name` labels the failure.
pub fn assert_books(name: &str, s: &sim_core::output::Summary) {
    for (entry, e) in &s.entries {
        assert_eq!(
            e.requests,
            e.ok + e.degraded
                + e.failed.timeout
                + e.failed.rejected
                + e.failed.error
                + e.in_flight_at_end,
            "{name}: entry {entry}"
        );
    }
    for (svc, v) in &s.services {
        assert!(
            (0.0..=1.0 + 1e-9).contains(&v.utilization),
            "{name}: {svc} utilisation {}",
            v.utilization
        );
    }
    for (q, v) in &s.queues {
        assert_eq!(
            v.published + v.queued_at_start,
            v.acked + v.dead_lettered + v.queued_at_end,
            "{name}: queue {q}"
        );
    }
}
