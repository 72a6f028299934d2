//! Shell manners of the binary: a closed or full stdout/stderr never
//! panics; `--quiet`; stdin as `-`; completions, man page, version.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use crate::common::temp_dir;

pub const GOOD: &str = r#"name = "ok"
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

pub fn scenario(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_cascade"));
    c.env("NO_COLOR", "1");
    c
}

/// A pipe whose reader is already closed: every write to it fails with
/// EPIPE (the Rust runtime ignores SIGPIPE).
fn closed_pipe() -> Stdio {
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    Stdio::from(writer)
}

/// `args` with stdout into a closed pipe; stderr captured.
fn stdout_closed(args: &[&str]) -> Output {
    bin()
        .args(args)
        .stdout(closed_pipe())
        .stderr(Stdio::piped())
        .output()
        .expect("cascade runs")
}

fn no_panic(o: &Output) {
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !err.contains("panicked") && !err.contains("RUST_BACKTRACE"),
        "{err}"
    );
}

#[test]
fn a_closed_stdout_ends_each_command_quietly_with_status_0() {
    let dir = temp_dir("closed-stdout");
    let p = scenario(&dir, "ok.toml", GOOD);
    let p = p.to_str().unwrap();
    for args in [
        vec!["sweep", p, "-L", "services.db.threads", "1,2,3", "--list"],
        vec!["schema"],
        vec!["validate", p],
        vec!["run", p],
        vec!["run", p, "--json"],
        vec!["--help"],
        vec!["man"],
        vec!["completions", "bash"],
    ] {
        let o = stdout_closed(&args);
        no_panic(&o);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {o:?}");
        assert_eq!(
            String::from_utf8_lossy(&o.stderr),
            "",
            "{args:?}: nothing on stderr"
        );
    }
}

#[test]
fn a_closed_stdout_still_lets_a_run_write_its_files() {
    let dir = temp_dir("closed-stdout-files");
    let p = scenario(&dir, "ok.toml", GOOD);
    let out = dir.join("out");
    let o = stdout_closed(&["run", p.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    no_panic(&o);
    assert_eq!(o.status.code(), Some(0), "{o:?}");
    for f in [
        "summary.json",
        "timeseries.csv",
        "report.html",
        "scenario.toml",
    ] {
        assert!(out.join(f).is_file(), "{f} not written");
    }
}

#[test]
fn a_closed_stderr_keeps_the_exit_code_of_the_failure() {
    let dir = temp_dir("closed-stderr");
    let p = scenario(&dir, "bad.toml", &GOOD.replace("threads = 4", "thread = 4"));
    let o = bin()
        .args(["validate", p.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(closed_pipe())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{o:?}");
    // Both closed, as in `cascade validate BAD 2>&1 | head -0`.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let o = bin()
        .args(["validate", p.to_str().unwrap()])
        .stdout(Stdio::from(writer.try_clone().unwrap()))
        .stderr(Stdio::from(writer))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{o:?}");
}

#[test]
fn a_full_stdout_is_one_error_line_and_exit_1() {
    let full = std::fs::OpenOptions::new().write(true).open("/dev/full");
    let Ok(full) = full else {
        return; // not Linux
    };
    let o = bin()
        .arg("schema")
        .stdout(Stdio::from(full))
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("error: cannot write to standard output: No space left"),
        "{err}"
    );
}

/// Runs `args` with `input` on stdin.
pub fn with_stdin(args: &[&str], input: &str) -> Output {
    let mut child = bin()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(input.as_bytes()).unwrap();
    drop(stdin);
    child.wait_with_output().unwrap()
}

fn ok(o: &Output) -> String {
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("cascade runs")
}

#[test]
fn a_scenario_comes_from_stdin_as_dash_and_errors_name_stdin() {
    let o = with_stdin(&["validate", "-"], GOOD);
    assert!(
        ok(&o).starts_with("-: ok") || ok(&o).contains("ok"),
        "{o:?}"
    );
    let o = with_stdin(&["run", "-", "--json"], GOOD);
    let v: serde_json::Value = serde_json::from_str(&ok(&o)).unwrap();
    assert_eq!(v["scenario"], "ok");
    let o = with_stdin(
        &["validate", "-"],
        &GOOD.replace("threads = 4", "thread = 4"),
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("<stdin>:9:1:"), "{err}");
}

#[test]
fn version_names_the_commit() {
    let v = ok(&run(&["--version"]));
    assert!(v.starts_with("cascade 0."), "{v}");
    let commit = v
        .split("(commit ")
        .nth(1)
        .and_then(|r| r.split(')').next())
        .unwrap_or_else(|| panic!("no commit in {v}"));
    assert!(
        commit == "unknown" || (commit.len() >= 7 && commit.chars().all(|c| c.is_ascii_hexdigit())),
        "{v}"
    );
}

#[test]
fn completions_and_man_page_cover_every_subcommand() {
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let script = ok(&run(&["completions", shell]));
        for sub in ["run", "sweep", "compare", "blast", "validate"] {
            assert!(script.contains(sub), "{shell}: no {sub}");
        }
        assert!(script.contains("parameter-list"), "{shell}");
    }
    let man = ok(&run(&["man"]));
    assert!(
        man.starts_with(".ie") || man.contains(".TH cascade"),
        "{man}"
    );
    for section in ["CASCADE RUN", "CASCADE SWEEP", "CASCADE COMPARE"] {
        assert!(man.contains(section), "no {section}");
    }
    assert!(
        man.contains("parameter\\-list"),
        "sweep's flags are in the man page"
    );
    let bad = run(&["completions", "tcsh"]);
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn quiet_prints_nothing_but_errors_and_asked_for_data() {
    let dir = temp_dir("quiet");
    let p = scenario(&dir, "ok.toml", GOOD);
    let p = p.to_str().unwrap();
    let out = dir.join("out");
    let o = run(&["run", p, "--quiet", "--out", out.to_str().unwrap()]);
    assert_eq!(ok(&o), "");
    assert_eq!(String::from_utf8_lossy(&o.stderr), "");
    assert!(out.join("summary.json").is_file());
    let o = run(&[
        "-q",
        "sweep",
        p,
        "-L",
        "services.db.threads",
        "1,2",
        "--out",
        dir.join("sw").to_str().unwrap(),
    ]);
    assert_eq!(ok(&o), "");
    assert_eq!(
        String::from_utf8_lossy(&o.stderr),
        "",
        "no notes under --quiet"
    );
    let o = run(&["run", p, "-q", "--json"]);
    assert!(ok(&o).starts_with('{'), "--json is data: printed");
    let o = run(&["-q", "validate", "/nonexistent.toml"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("cannot read"));
}

#[test]
fn jobs_are_one_or_more_and_at_most_a_few_per_core() {
    let dir = temp_dir("jobs");
    let p = scenario(&dir, "ok.toml", GOOD);
    let p = p.to_str().unwrap();
    for jobs in ["0", "100000"] {
        let o = run(&[
            "sweep",
            p,
            "-L",
            "services.db.threads",
            "1,2",
            "--jobs",
            jobs,
            "--out",
            dir.join("o").to_str().unwrap(),
        ]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "--jobs {jobs}: {err}");
        assert!(err.starts_with("error: --jobs"), "{err}");
    }
}

#[test]
fn a_duration_without_unit_asks_for_one() {
    let dir = temp_dir("duration-unit");
    let p = scenario(&dir, "ok.toml", GOOD);
    let o = run(&["run", p.to_str().unwrap(), "--duration", "60"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("--duration") && err.contains("e.g. 60s"),
        "{err}"
    );
    assert!(!err.contains("--set"), "{err}");
}
