//! The binary end to end: commands, exit codes, and error messages that
//! name the file, line, column and key.

use crate::common::{cascade, repo_root, temp_dir};
use std::path::PathBuf;

const GOOD: &str = r#"name = "ok"
duration = "5s"

[workload.web]
target = "api"
rate = 100

[services.api]
threads = 4
queue = 10
steps = [{ work = "2ms" }, { call = "db", timeout = "50ms" }]

[services.db]
threads = 2
steps = [{ work = { dist = "exponential", mean = "1ms" } }]
"#;

fn write(name: &str, text: &str) -> PathBuf {
    let dir = temp_dir(name);
    let p = dir.join(format!("{name}.toml"));
    std::fs::write(&p, text).unwrap();
    p
}

/// Runs `validate` on `text` with `old` replaced by `new`, expects exit 2
/// and returns stderr.
fn bad(name: &str, old: &str, new: &str) -> String {
    assert!(
        GOOD.contains(old),
        "test setup: `{old}` not in the good scenario"
    );
    let p = write(name, &GOOD.replacen(old, new, 1));
    let out = cascade(&["validate", p.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "expected exit 2, stderr: {err}");
    assert!(
        !err.contains("panicked") && !err.contains("RUST_BACKTRACE"),
        "{err}"
    );
    assert!(
        err.contains(&format!("{name}.toml:")),
        "no file name in: {err}"
    );
    err
}

#[test]
fn a_good_scenario_validates_and_runs() {
    let p = write("good", GOOD);
    let out = cascade(&["validate", p.to_str().unwrap()]);
    assert!(out.status.success());
    let out = cascade(&["run", p.to_str().unwrap()]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("web") && text.contains("api") && text.contains("api->db"),
        "{text}"
    );
}

#[test]
fn unknown_key_names_line_column_and_key() {
    let err = bad("unknownkey", "threads = 4", "thread = 4");
    assert!(err.contains(":9:1:"), "{err}");
    assert!(err.contains("services.api.thread"), "{err}");
    assert!(err.contains("unknown field `thread`"), "{err}");
}

#[test]
fn unknown_service_names_the_call() {
    let err = bad("unknownsvc", "call = \"db\"", "call = \"dbb\"");
    assert!(err.contains(":11:"), "{err}");
    assert!(err.contains("services.api.steps.1.call"), "{err}");
    assert!(err.contains("unknown service `dbb`"), "{err}");
}

#[test]
fn bad_duration_names_the_unit() {
    let err = bad("baddur", "timeout = \"50ms\"", "timeout = \"50 milis\"");
    assert!(err.contains(":11:"), "{err}");
    assert!(err.contains("services.api.steps.1.timeout"), "{err}");
    assert!(err.contains("unknown time unit `milis`"), "{err}");
}

#[test]
fn non_positive_rate_is_refused() {
    let err = bad("badrate", "rate = 100", "rate = -5");
    assert!(err.contains(":6:8:"), "{err}");
    assert!(err.contains("workload.web.rate"), "{err}");
}

#[test]
fn zero_threads_is_refused() {
    let err = bad("zerothreads", "threads = 4", "threads = 0");
    assert!(err.contains(":9:11:"), "{err}");
    assert!(
        err.contains("services.api.threads") && err.contains("at least 1"),
        "{err}"
    );
}

#[test]
fn negative_threads_is_a_type_error_with_its_key() {
    let err = bad("negthreads", "threads = 4", "threads = -4");
    assert!(err.contains(":9:"), "{err}");
    assert!(err.contains("services.api.threads"), "{err}");
}

#[test]
fn synchronous_call_cycle_is_refused() {
    let err = bad(
        "cycle",
        "steps = [{ work = { dist = \"exponential\", mean = \"1ms\" } }]",
        "steps = [{ call = \"api\" }]",
    );
    assert!(
        err.contains("synchronous call cycle: api -> db -> api"),
        "{err}"
    );
    assert!(err.contains(":15:10:"), "{err}");
    assert!(err.contains("services.db.steps.0"), "{err}");
}

#[test]
fn toml_syntax_error_has_a_position() {
    let err = bad("syntax", "rate = 100", "rate = = 100");
    assert!(err.contains(":6:"), "{err}");
}

#[test]
fn a_bad_set_path_or_value_names_the_override() {
    let p = write("badset", GOOD);
    let out = cascade(&[
        "run",
        p.to_str().unwrap(),
        "--set",
        "services.nope.threads=3",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("services.nope"), "{err}");
    let out = cascade(&[
        "run",
        p.to_str().unwrap(),
        "--set",
        "services.api.threads=0",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("services.api.threads") && err.contains("--set services.api.threads=0"),
        "{err}"
    );
}

#[test]
fn set_overrides_change_the_run() {
    let p = write("setok", GOOD);
    let out = cascade(&[
        "run",
        p.to_str().unwrap(),
        "--json",
        "--set",
        "services.db.threads=7",
    ]);
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["services"]["db"]["threads"], 7);
    assert_eq!(v["overrides"][0], "services.db.threads=7");
}

#[test]
fn missing_file_is_an_io_error() {
    let out = cascade(&["run", "/nonexistent/x.toml"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read /nonexistent/x.toml"));
}

#[test]
fn run_out_writes_whole_files_and_unwritable_out_fails_cleanly() {
    let p = write("outok", GOOD);
    let dir = temp_dir("outdir");
    let out = cascade(&["run", p.to_str().unwrap(), "--out", dir.to_str().unwrap()]);
    assert!(out.status.success());
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("summary.json")).unwrap()).unwrap();
    for key in [
        "scenario",
        "seed",
        "version",
        "sim_duration_s",
        "entries",
        "services",
    ] {
        assert!(summary.get(key).is_some(), "summary.json lacks {key}");
    }
    let csv = std::fs::read_to_string(dir.join("timeseries.csv")).unwrap();
    assert!(csv.starts_with("window_start_s,window_end_s,scope,name,metric,value\n"));
    assert!(
        !std::fs::read_dir(&dir).unwrap().any(|e| e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .ends_with(".tmp"))
    );
    // A file where the directory should be: exit 1, nothing half-written.
    let blocker = temp_dir("blocked").join("out");
    std::fs::write(&blocker, "not a directory").unwrap();
    let out = cascade(&[
        "run",
        p.to_str().unwrap(),
        "--out",
        blocker.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        std::fs::read_to_string(&blocker).unwrap(),
        "not a directory"
    );
}

#[test]
fn schema_is_json_schema_with_the_top_level_keys() {
    let out = cascade(&["schema"]);
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let props = &v["properties"];
    for key in [
        "name", "duration", "services", "workload", "fault", "network",
    ] {
        assert!(props.get(key).is_some(), "schema lacks {key}");
    }
}

#[test]
fn every_shipped_scenario_validates() {
    let mut n = 0;
    for dir in [
        "scenarios",
        "scenarios/bench",
        "scenarios/blocking-vs-nonblocking",
    ] {
        for e in std::fs::read_dir(repo_root().join(dir)).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "toml") {
                let out = cascade(&["validate", p.to_str().unwrap()]);
                assert!(
                    out.status.success(),
                    "{}: {}",
                    p.display(),
                    String::from_utf8_lossy(&out.stderr)
                );
                n += 1;
            }
        }
    }
    assert!(n >= 3);
}
