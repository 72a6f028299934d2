//! `--out` directories: a run's files never mix with an earlier run's,
//! foreign files are never touched, a directory in use is refused, and the
//! saved scenario.toml reproduces the run.

use std::collections::BTreeSet;
use std::path::Path;

use crate::common::{cascade, temp_dir};
use crate::shell::{GOOD, scenario};

/// Every file under `dir`, relative, except the manifest.
fn files(dir: &Path) -> BTreeSet<String> {
    fn walk(root: &Path, d: &Path, out: &mut BTreeSet<String>) {
        for e in std::fs::read_dir(d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                out.insert(p.strip_prefix(root).unwrap().display().to_string());
            }
        }
    }
    let mut out = BTreeSet::new();
    walk(dir, dir, &mut out);
    out.remove(".cascade-manifest");
    out
}

fn manifest(dir: &Path) -> BTreeSet<String> {
    std::fs::read_to_string(dir.join(".cascade-manifest"))
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(str::to_owned)
        .collect()
}

fn ok(args: &[&str]) {
    let o = cascade(args);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// A scenario with a queue (more charts) and one without, into one
/// directory: after the second, exactly the second's files are there.
#[test]
fn a_second_run_into_a_directory_leaves_none_of_the_first_runs_files() {
    let dir = temp_dir("outdir-mix");
    let out = dir.join("out");
    let o = out.to_str().unwrap();
    let root = crate::common::repo_root();
    let a = root.join("scenarios/checkout-async.toml");
    ok(&["run", a.to_str().unwrap(), "--duration", "40s", "--out", o]);
    let first = files(&out);
    assert_eq!(first, manifest(&out));
    let b = scenario(&dir, "b.toml", GOOD);
    ok(&["run", b.to_str().unwrap(), "--out", o]);
    let second = files(&out);
    assert_eq!(second, manifest(&out), "exactly what the manifest lists");
    assert!(
        first.difference(&second).count() > 0,
        "test setup: the first run must have written charts the second does not"
    );
    // A fresh directory gets the same files as the reused one.
    let fresh = dir.join("fresh");
    ok(&["run", b.to_str().unwrap(), "--out", fresh.to_str().unwrap()]);
    assert_eq!(files(&fresh), second);

    // A sweep with fewer runs into a sweep's directory: no stale run file.
    let sw = dir.join("sweep");
    let s = sw.to_str().unwrap();
    let bp = b.to_str().unwrap();
    ok(&[
        "sweep",
        bp,
        "-L",
        "services.db.threads",
        "1,2,3",
        "--out",
        s,
    ]);
    assert!(sw.join("runs/run-000002.json").is_file());
    ok(&["sweep", bp, "-L", "services.db.threads", "4,5", "--out", s]);
    assert!(!sw.join("runs/run-000002.json").exists());
    assert_eq!(files(&sw), manifest(&sw));
    // And a run into the sweep's directory replaces it whole.
    ok(&["run", bp, "--out", s]);
    assert!(!sw.join("runs").exists() && !sw.join("sweep.csv").exists());
}

#[test]
fn a_directory_with_a_foreign_file_is_refused_and_the_file_untouched() {
    let dir = temp_dir("outdir-foreign");
    let out = dir.join("thesis");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("chapter1.tex"), "precious").unwrap();
    let b = scenario(&dir, "b.toml", GOOD);
    for args in [
        vec!["run", b.to_str().unwrap()],
        vec!["compare", b.to_str().unwrap(), b.to_str().unwrap()],
        vec![
            "sweep",
            b.to_str().unwrap(),
            "-L",
            "services.db.threads",
            "1,2",
        ],
    ] {
        let mut args = args.clone();
        args.extend(["--out", out.to_str().unwrap()]);
        let o = cascade(&args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains("chapter1.tex") && err.contains("not empty"),
            "{err}"
        );
    }
    assert_eq!(files(&out), BTreeSet::from(["chapter1.tex".to_owned()]));
    assert_eq!(
        std::fs::read_to_string(out.join("chapter1.tex")).unwrap(),
        "precious"
    );

    // A file the user adds beside a run's outputs is kept by the next run.
    let ours = dir.join("ours");
    ok(&["run", b.to_str().unwrap(), "--out", ours.to_str().unwrap()]);
    std::fs::write(ours.join("notes.md"), "mine").unwrap();
    ok(&["run", b.to_str().unwrap(), "--out", ours.to_str().unwrap()]);
    assert_eq!(
        std::fs::read_to_string(ours.join("notes.md")).unwrap(),
        "mine"
    );
}

#[test]
fn a_directory_another_cascade_holds_is_refused_and_a_stale_lock_taken_over() {
    let dir = temp_dir("outdir-lock");
    let out = dir.join("out");
    std::fs::create_dir_all(&out).unwrap();
    let b = scenario(&dir, "b.toml", GOOD);
    let mut holder = std::process::Command::new("sleep")
        .arg("60")
        .spawn()
        .unwrap();
    std::fs::write(out.join(".cascade-lock"), format!("{}\n", holder.id())).unwrap();
    let o = cascade(&["run", b.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains(&format!("pid {}", holder.id())), "{err}");
    holder.kill().unwrap();
    holder.wait().unwrap();
    ok(&["run", b.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert!(!out.join(".cascade-lock").exists(), "released at the end");
}

/// The saved scenario.toml is the scenario as run: running it again gives
/// the same summary.json. Its `overrides` then lists nothing (none were
/// given); given the same --set again, it is the same to the byte.
#[test]
fn the_saved_scenario_reproduces_the_run() {
    let dir = temp_dir("outdir-reproduce");
    let b = scenario(&dir, "b.toml", GOOD);
    let (o1, o2, o3) = (dir.join("o1"), dir.join("o2"), dir.join("o3"));
    ok(&[
        "run",
        b.to_str().unwrap(),
        "--set",
        "services.db.threads=1",
        "--seed",
        "9",
        "--duration",
        "3s",
        "--out",
        o1.to_str().unwrap(),
    ]);
    let saved = std::fs::read_to_string(o1.join("scenario.toml")).unwrap();
    assert!(
        saved.starts_with("# The scenario as run by:\n#   cascade run ")
            && saved.contains("--set services.db.threads=1 --seed 9 --duration 3s\n"),
        "{saved}"
    );
    assert!(
        saved.contains("seed = 9") && saved.contains("duration = \"3s\""),
        "{saved}"
    );
    let saved_path = o1.join("scenario.toml");
    let saved_path = saved_path.to_str().unwrap();
    ok(&["run", saved_path, "--out", o2.to_str().unwrap()]);
    ok(&[
        "run",
        saved_path,
        "--set",
        "services.db.threads=1",
        "--duration",
        "3s",
        "--out",
        o3.to_str().unwrap(),
    ]);
    let again = std::fs::read_to_string(o2.join("scenario.toml")).unwrap();
    assert_eq!(
        again.matches("# The scenario as run by:").count(),
        1,
        "one comment, not a stack: {again}"
    );
    let first = std::fs::read(o1.join("summary.json")).unwrap();
    assert_eq!(
        first,
        std::fs::read(o3.join("summary.json")).unwrap(),
        "same overrides again: byte-identical"
    );
    let mut a: serde_json::Value = serde_json::from_slice(&first).unwrap();
    let mut b: serde_json::Value =
        serde_json::from_slice(&std::fs::read(o2.join("summary.json")).unwrap()).unwrap();
    assert_eq!(a["seed"], 9);
    assert_eq!(a["services"]["db"]["threads"], 1);
    assert_eq!(b["overrides"], serde_json::json!([]));
    a["overrides"] = serde_json::json!([]);
    b["overrides"] = serde_json::json!([]);
    assert_eq!(a, b, "the saved file alone reproduces every figure");
    assert_eq!(
        std::fs::read(o1.join("timeseries.csv")).unwrap(),
        std::fs::read(o2.join("timeseries.csv")).unwrap()
    );
}

/// A JSON scenario is saved as TOML that loads to the same scenario.
#[test]
fn a_json_scenario_is_saved_as_equivalent_toml() {
    let dir = temp_dir("outdir-json");
    let json = r#"{"name": "ok", "duration": "5s",
        "workload": {"web": {"target": "api", "rate": 100}},
        "services": {
            "api": {"threads": 4, "queue": 10,
                    "steps": [{"work": "2ms"}, {"call": "db", "timeout": "50ms"}]},
            "db": {"threads": 2, "steps": [{"work": {"dist": "exponential", "mean": "1ms"}}]}}}"#;
    let j = scenario(&dir, "s.json", json);
    let (o1, o2) = (dir.join("o1"), dir.join("o2"));
    let set = ["--set", "services.db.threads=1", "--seed", "5"];
    let mut args = vec!["run", j.to_str().unwrap(), "--out", o1.to_str().unwrap()];
    args.extend(set);
    ok(&args);
    let saved = o1.join("scenario.toml");
    ok(&[
        "run",
        saved.to_str().unwrap(),
        "--set",
        "services.db.threads=1",
        "--out",
        o2.to_str().unwrap(),
    ]);
    assert_eq!(
        std::fs::read(o1.join("summary.json")).unwrap(),
        std::fs::read(o2.join("summary.json")).unwrap()
    );
}
