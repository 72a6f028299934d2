//! Stopping long work: `--max-wall` and Ctrl-C (SIGINT) or SIGTERM stop
//! a run where it is, write its results whole and marked partial, exit 4
//! and say how to go on; a stopped sweep keeps its finished runs and
//! resumes.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{cascade, repo_root, temp_dir};

/// A run that takes long: M/M/8 for 100,000 simulated seconds
/// (in 10 s windows: the time series has a limit).
fn endless(out: &Path, extra: &[&str]) -> Vec<String> {
    let mut a: Vec<String> = vec![
        "run".into(),
        repo_root().join("scenarios/mmc.toml").display().to_string(),
        "--duration".into(),
        "100000s".into(),
        "--set".into(),
        "window=10s".into(),
        "--out".into(),
        out.display().to_string(),
    ];
    a.extend(extra.iter().map(|s| s.to_string()));
    a
}

fn summary(out: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap()
}

/// Every file under `dir` (relative), except the manifest, and the
/// manifest's list: equal when the directory is whole.
fn files_and_manifest(dir: &Path) -> (Vec<String>, Vec<String>) {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            if e.path().is_dir() {
                stack.push(e.path());
            } else {
                let rel = e.path().strip_prefix(dir).unwrap().display().to_string();
                if rel != ".cascade-manifest" {
                    files.push(rel);
                }
            }
        }
    }
    files.sort();
    let manifest = std::fs::read_to_string(dir.join(".cascade-manifest"))
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(str::to_owned)
        .collect();
    (files, manifest)
}

/// The run's results are whole (exactly what the manifest lists, no lock,
/// no temporary file), marked partial with `why`, and no staging
/// directory is left beside them.
fn assert_whole_and_partial(out: &Path, why: &str) {
    let (files, manifest) = files_and_manifest(out);
    assert_eq!(files, manifest, "exactly the files the manifest lists");
    let partial = summary(out)["partial"]
        .as_str()
        .expect("marked partial")
        .to_owned();
    assert!(partial.contains(why), "{partial}");
    assert!(
        std::fs::read_to_string(out.join("report.html"))
            .unwrap()
            .contains("PARTIAL RESULTS")
    );
    let end = summary(out)["end_time_s"].as_f64().unwrap();
    assert!(end > 0.0 && end < 100_000.0, "stopped early: {end}");
    let leftovers: Vec<PathBuf> = std::fs::read_dir(out.parent().unwrap())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn max_wall_stops_a_long_run_with_partial_results_and_exit_4() {
    let dir = temp_dir("max-wall");
    let out = dir.join("out");
    let t0 = Instant::now();
    let args = endless(&out, &["--max-wall", "1s"]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = cascade(&args);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(4), "{err}");
    assert!(
        t0.elapsed() < Duration::from_secs(60),
        "took {:?}",
        t0.elapsed()
    );
    assert!(
        err.contains("--max-wall 1s") && err.contains("partial"),
        "{err}"
    );
    assert!(err.contains("run the command again"), "{err}");
    assert_whole_and_partial(&out, "the wall-clock budget --max-wall 1s ran out");

    // A bad budget is a usage error, before anything runs.
    let o = cascade(&[
        "run",
        repo_root().join("scenarios/mmc.toml").to_str().unwrap(),
        "--max-wall",
        "10",
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("--max-wall") && err.contains("e.g. 10m"),
        "{err}"
    );
}

/// Starts `args`, waits until its run is under way (its staging directory
/// exists, and a moment more for the handler), and sends `signal` (`-0`:
/// none, only a check that it lives).
fn start_and_signal(args: &[String], out: &Path, signal: &str) -> Child {
    let mut child = Command::new(env!("CARGO_BIN_EXE_cascade"))
        .args(args)
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cascade starts");
    let staging = out.with_file_name(format!(
        ".{}.cascade-{}.tmp",
        out.file_name().unwrap().to_string_lossy(),
        child.id()
    ));
    let t0 = Instant::now();
    while !staging.exists() {
        assert!(
            t0.elapsed() < Duration::from_secs(60),
            "the run never started"
        );
        if let Some(status) = child.try_wait().unwrap() {
            let mut err = String::new();
            let _ = std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err);
            panic!("the run ended before its signal ({status}): {err}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    std::thread::sleep(Duration::from_millis(700));
    let status = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    child
}

fn wait_with_timeout(child: Child) -> (Option<i32>, String) {
    let t0 = Instant::now();
    let pid = child.id();
    let out = std::thread::spawn(move || child.wait_with_output().unwrap());
    while !out.is_finished() {
        if t0.elapsed() > Duration::from_secs(60) {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
            panic!("the signalled run did not stop");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let o = out.join().unwrap();
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn ctrl_c_and_sigterm_stop_a_run_whole_and_marked_partial() {
    let dir = temp_dir("sigint");
    for signal in ["-INT", "-TERM"] {
        let out = dir.join(format!("out{signal}"));
        let child = start_and_signal(&endless(&out, &[]), &out, signal);
        let (code, err) = wait_with_timeout(child);
        assert_eq!(code, Some(4), "{signal}: {err}");
        assert!(err.contains("interrupted"), "{err}");
        assert!(err.contains("run the command again"), "{err}");
        assert_whole_and_partial(&out, "interrupted (Ctrl-C or SIGTERM)");
    }
}

#[test]
fn a_stopped_sweep_keeps_its_finished_runs_and_resumes() {
    let d = temp_dir("sweep-max-wall");
    let out = d.join("out");
    let o = out.display().to_string();
    let sweep = |extra: &[&str]| {
        let mut a = vec![
            "sweep".to_owned(),
            repo_root()
                .join("scenarios/sweep-pool.toml")
                .display()
                .to_string(),
        ];
        a.extend(
            [
                "-L",
                "services.db.threads",
                "4,6,8,12",
                "--reps",
                "6",
                "--set",
                "duration=200s",
                "--jobs",
                "1",
                "--out",
                &o,
            ]
            .map(String::from),
        );
        a.extend(extra.iter().map(|s| s.to_string()));
        let args: Vec<&str> = a.iter().map(String::as_str).collect();
        cascade(&args)
    };
    let stopped = sweep(&["--max-wall", "1s"]);
    let err = String::from_utf8_lossy(&stopped.stderr);
    assert_eq!(stopped.status.code(), Some(4), "{err}");
    assert!(
        err.contains("Run the same command again to resume"),
        "{err}"
    );
    let done = std::fs::read_dir(out.join("runs")).map_or(0, |d| {
        d.flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with("run-"))
            .count()
    });
    assert!(done < 24, "stopped before the end: {done}");
    assert!(
        err.contains(&format!("{done} of its 24 runs are saved")),
        "{err}"
    );
    assert!(!out.join("sweep.csv").exists());

    let resumed = sweep(&[]);
    let err = String::from_utf8_lossy(&resumed.stderr);
    assert_eq!(resumed.status.code(), Some(0), "{err}");
    assert!(
        err.contains(&format!("{done} already done, running {}", 24 - done)),
        "{err}"
    );
    let csv = std::fs::read_to_string(out.join("sweep.csv")).unwrap();
    assert_eq!(csv.lines().count(), 25);
}

#[test]
fn a_stopped_comparison_writes_nothing_and_says_so() {
    let dir = temp_dir("compare-max-wall");
    let out = dir.join("out");
    let mmc = repo_root().join("scenarios/mmc.toml").display().to_string();
    let o = cascade(&[
        "compare",
        &mmc,
        &mmc,
        "--duration",
        "100000s",
        "--set",
        "window=10s",
        "--max-wall",
        "1s",
        "--out",
        out.to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(4), "{err}");
    assert!(
        err.contains("compare was stopped: the wall-clock budget --max-wall 1s ran out"),
        "{err}"
    );
    assert!(err.contains("nothing was written"), "{err}");
    assert!(!out.join("compare.json").exists());
    let leftovers: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn a_stopped_comparison_keeps_the_reps_every_scenario_finished() {
    let dir = temp_dir("compare-partial");
    let out = dir.join("out");
    let mmc = repo_root().join("scenarios/mmc.toml").display().to_string();
    // Each run takes milliseconds; 2 x 2,000 of them take far longer than
    // the 2 s budget, which stops the comparison midway.
    let o = cascade(&[
        "compare",
        &mmc,
        &mmc,
        "--reps",
        "2000",
        "--duration",
        "60s",
        "--max-wall",
        "2s",
        "--out",
        out.to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(4), "{err}");
    assert!(err.contains("compare was stopped"), "{err}");
    assert!(err.contains("marked partial"), "{err}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("compare.json")).unwrap()).unwrap();
    let reps = json["reps"].as_u64().unwrap();
    assert!((1..2000).contains(&reps), "{reps} reps kept");
    assert_eq!(json["partial"]["reps_planned"], 2000);
    assert!(
        json["partial"]["reason"]
            .as_str()
            .unwrap()
            .contains("--max-wall")
    );
    for s in json["scenarios"].as_array().unwrap() {
        assert_eq!(s["seeds"].as_array().unwrap().len() as u64, reps);
    }
    let page = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(page.contains("Partial:"), "the report says it is partial");
}

#[test]
fn a_second_run_into_a_directory_in_use_is_refused_naming_the_holder() {
    let dir = temp_dir("outdir-busy");
    let out = dir.join("out");
    let first = start_and_signal(&endless(&out, &[]), &out, "-0");
    let holder = first.id();
    let second = cascade(&[
        "run",
        repo_root().join("scenarios/mmc.toml").to_str().unwrap(),
        "--duration",
        "30s",
        "--out",
        out.to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&second.stderr);
    assert_eq!(second.status.code(), Some(2), "{err}");
    assert!(
        err.contains(&format!("another cascade (pid {holder}) is writing there")),
        "{err}"
    );
    // The holder is stopped (Ctrl-C) and finishes its own results.
    let status = Command::new("kill")
        .args(["-INT", &holder.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let (code, err) = wait_with_timeout(first);
    assert_eq!(code, Some(4), "{err}");
    assert_whole_and_partial(&out, "interrupted");
}

/// `bench` follows each run's simulated time on a terminal only: in a
/// pipe its stderr holds the timings and nothing drawn.
#[test]
fn bench_prints_a_row_per_file_and_no_progress_in_a_pipe() {
    let mmc = repo_root().join("scenarios/mmc.toml").display().to_string();
    let o = cascade(&["bench", &mmc, "--runs", "2", "--set", "duration=30s"]);
    let (out, err) = (
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr),
    );
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert_eq!(out.lines().count(), 2, "{out}");
    assert!(out.lines().nth(1).unwrap().starts_with("mmc "), "{out}");
    assert!(
        err.contains("(load ") && !err.contains("simulated"),
        "{err}"
    );
    assert!(!err.contains('\r') && !err.contains('\u{1b}'), "{err:?}");
}

/// A stopped blast keeps the targets that ran, marks the rest, and names
/// them for `--targets`.
#[test]
fn a_stopped_blast_writes_the_targets_that_ran_marked_partial() {
    let dir = temp_dir("blast-max-wall");
    let out = dir.join("out");
    let o = cascade(&[
        "blast",
        repo_root()
            .join("scenarios/checkout.toml")
            .to_str()
            .unwrap(),
        "--fault",
        "slowdown=10,at=30s,for=30s",
        "--set",
        "duration=100000s",
        "--set",
        "window=10s",
        "--jobs",
        "1",
        "--max-wall",
        "1s",
        "--out",
        out.to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(4), "{err}");
    // The baseline itself is cut short at 1 s here: nothing is written.
    assert!(err.contains("nothing was written"), "{err}");
    assert!(!out.join("blast.json").exists());
}

#[test]
fn a_blast_stopped_after_its_baseline_keeps_the_targets_that_ran() {
    let dir = temp_dir("blast-partial");
    let out = dir.join("out");
    let checkout = repo_root().join("scenarios/checkout.toml");
    let checkout = checkout.to_str().unwrap();
    // One run's time here, to stop the blast (baseline first, one run at
    // a time) after its baseline and before its last target.
    let t0 = Instant::now();
    let one = cascade(&["run", checkout, "--set", "duration=1200s", "--json"]);
    assert!(one.status.success());
    let run = t0.elapsed().as_secs_f64();
    // A loaded machine may stretch one target past the budget: a larger
    // budget is tried until the blast stops between its first and last
    // targets (what this test is about).
    for times in [3.0, 5.0, 8.0, 13.0] {
        let budget = format!("{}ms", (run * times * 1000.0) as u64);
        let _ = std::fs::remove_dir_all(&out);
        let o = cascade(&[
            "blast",
            checkout,
            "--fault",
            "slowdown=10,at=30s,for=30s",
            "--set",
            "duration=1200s",
            "--jobs",
            "1",
            "--max-wall",
            &budget,
            "--out",
            out.to_str().unwrap(),
        ]);
        let err = String::from_utf8_lossy(&o.stderr);
        if o.status.code() == Some(0) {
            panic!("the blast finished within {budget}: {err}");
        }
        assert_eq!(o.status.code(), Some(4), "{err}");
        assert!(
            err.contains("marked partial") && err.contains("run the same command with --targets "),
            "{err}"
        );
        let blast: serde_json::Value =
            serde_json::from_slice(&std::fs::read(out.join("blast.json")).unwrap()).unwrap();
        let partial = blast["partial"].as_str().expect("marked partial");
        assert!(partial.contains("--max-wall"), "{partial}");
        let rows = blast["rows"].as_array().unwrap();
        let not_run: Vec<&str> = rows
            .iter()
            .filter(|r| r["skipped"] == "not run (stopped)")
            .map(|r| r["target"].as_str().unwrap())
            .collect();
        assert!(!not_run.is_empty(), "{rows:?}");
        if not_run.len() == rows.len() {
            continue; // stopped before its first target: a larger budget
        }
        assert!(err.contains(&not_run.join(",")), "{err}");
        return;
    }
    panic!("no budget stopped the blast between its first and last targets");
}
