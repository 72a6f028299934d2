//! Sweeps end to end: outputs independent of --jobs, sharding + merge,
//! kill and resume, and the errors users see.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::common::{cascade, repo_root, temp_dir};

fn scenario() -> String {
    repo_root()
        .join("scenarios/sweep-pool.toml")
        .display()
        .to_string()
}

/// A small sweep: 2 × 2 points × 2 reps = 8 short runs.
fn small(extra: &[&str]) -> Vec<String> {
    let mut a: Vec<String> = [
        "sweep",
        &scenario(),
        "-L",
        "services.db.threads",
        "4,8",
        "-P",
        "workload.api.rate",
        "200",
        "300",
        "-D",
        "100",
        "--reps",
        "2",
        "--seed",
        "11",
        "--set",
        "duration=4s",
        "--set",
        "warmup=1s",
    ]
    .map(String::from)
    .to_vec();
    a.extend(extra.iter().map(|s| s.to_string()));
    a
}

fn run_ok(args: &[String]) -> String {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = cascade(&args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "cascade {args:?} failed: {stderr}");
    stderr
}

/// Every file under `dir`, relative path → bytes.
fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, d: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for e in std::fs::read_dir(d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                let rel = p.strip_prefix(root).unwrap().display().to_string();
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

fn assert_same_tree(a: &Path, b: &Path) {
    let (ta, tb) = (tree(a), tree(b));
    assert_eq!(
        ta.keys().collect::<Vec<_>>(),
        tb.keys().collect::<Vec<_>>(),
        "{} and {} hold different files",
        a.display(),
        b.display()
    );
    for (k, v) in &ta {
        assert!(
            v == &tb[k],
            "{k} differs between {} and {}",
            a.display(),
            b.display()
        );
    }
}

fn s(p: &Path) -> String {
    p.display().to_string()
}

#[test]
fn jobs_do_not_change_a_byte() {
    let d = temp_dir("sweep-jobs");
    let (j1, j2) = (d.join("j1"), d.join("j2"));
    run_ok(&small(&["--jobs", "1", "--out", &s(&j1)]));
    run_ok(&small(&["--jobs", "2", "--out", &s(&j2)]));
    assert_same_tree(&j1, &j2);

    let csv = std::fs::read_to_string(j1.join("sweep.csv")).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 1 + 8, "{csv}");
    assert!(lines[0].starts_with(
        "run,point,rep,seed,param_services.db.threads,param_workload.api.rate,entry.api.requests,"
    ));
    assert!(lines[0].contains("entry.api.p999_ms") && lines[0].ends_with("service.db.utilization"));
    assert!(lines[1].starts_with("0,0,0,"));
    let agg = std::fs::read_to_string(j1.join("aggregate.csv")).unwrap();
    assert_eq!(agg.lines().count(), 1 + 4, "{agg}");
    assert!(
        agg.lines()
            .next()
            .unwrap()
            .contains("entry.api.p99_ms_mean,entry.api.p99_ms_ci95")
    );
    assert_eq!(std::fs::read_dir(j1.join("runs")).unwrap().count(), 8);

    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(j1.join("sweep.json")).unwrap()).unwrap();
    assert_eq!(json["runs_total"], 8);
    assert_eq!(json["points_total"], 4);
    assert_eq!(json["plan"]["seed"], 11);
    assert_eq!(json["runs"].as_array().unwrap().len(), 8);
    assert_eq!(json["points"].as_array().unwrap().len(), 4);
}

#[test]
fn shards_merge_to_the_unsharded_bytes() {
    let d = temp_dir("sweep-shards");
    let whole = d.join("whole");
    run_ok(&small(&["--out", &s(&whole)]));
    let mut dirs = Vec::new();
    for k in 0..3 {
        let dir = d.join(format!("shard{k}"));
        let err = run_ok(&small(&[
            "--jobs",
            "1",
            "--shard",
            &format!("{k}/3"),
            "--out",
            &s(&dir),
        ]));
        assert!(err.contains(&format!("shard {k}/3")), "{err}");
        assert!(dir.join(format!("shard-{k}-of-3.json")).exists());
        assert!(!dir.join("sweep.csv").exists());
        dirs.push(s(&dir));
    }
    let merged = d.join("merged");
    let mut args: Vec<String> = vec!["merge".into()];
    args.extend(dirs.iter().rev().cloned()); // any order
    args.extend(["--out".into(), s(&merged)]);
    run_ok(&args);
    assert_same_tree(&whole, &merged);

    // The run list is the same whatever the shard: shards partition it.
    let list = |extra: &[&str]| {
        let args = small(&[&["--list"], extra].concat());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = cascade(&args);
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap()
    };
    let all = list(&[]);
    assert_eq!(all.lines().count(), 8);
    assert!(
        all.lines()
            .next()
            .unwrap()
            .starts_with(r#"{"index":0,"point":0,"rep":0,"seed":"#)
    );
    let mut parts: Vec<String> = (0..3)
        .flat_map(|k| {
            list(&["--shard", &format!("{k}/3")])
                .lines()
                .map(String::from)
                .collect::<Vec<_>>()
        })
        .collect();
    parts.sort_by_key(|l| {
        let i = &l[r#"{"index":"#.len()..];
        i[..i.find(',').unwrap()].parse::<u64>().unwrap()
    });
    assert_eq!(parts.join("\n") + "\n", all);
}

#[test]
fn plan_file_is_the_same_sweep_as_flags() {
    let d = temp_dir("sweep-plan");
    let plan = d.join("plan.toml");
    std::fs::write(
        &plan,
        r#"[sweep]
# The same sweep as -L services.db.threads 4,8 -P workload.api.rate 200 300 -D 100
list = { "services.db.threads" = [4, 8] }
range = { "workload.api.rate" = { min = 200, max = 300, step = 100 } }
reps = 2
seed = 11
set = { duration = "4s", warmup = "1s" }
"#,
    )
    .unwrap();
    let (flags, file) = (d.join("flags"), d.join("file"));
    run_ok(&small(&["--out", &s(&flags)]));
    run_ok(&[
        "sweep".into(),
        scenario(),
        "--plan".into(),
        s(&plan),
        "--out".into(),
        s(&file),
    ]);
    for f in ["sweep.csv", "aggregate.csv"] {
        assert_eq!(
            std::fs::read(flags.join(f)).unwrap(),
            std::fs::read(file.join(f)).unwrap(),
            "{f}"
        );
    }
}

#[test]
fn a_killed_sweep_resumes_with_only_the_missing_runs() {
    let d = temp_dir("sweep-kill");
    let out = d.join("out");
    // 24 longer runs, one at a time, so the kill lands midway.
    let args = [
        "sweep",
        &scenario(),
        "-L",
        "services.db.threads",
        "4,6,8,12",
        "--reps",
        "6",
        "--set",
        "duration=20s",
        "--jobs",
        "1",
        "--out",
        &s(&out),
    ];
    let total = 24;
    let mut child = Command::new(env!("CARGO_BIN_EXE_cascade"))
        .args(args)
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("cascade starts");
    let runs = out.join("runs");
    let count = || -> usize {
        std::fs::read_dir(&runs).map_or(0, |d| {
            d.flatten()
                .filter(|e| e.file_name().to_string_lossy().starts_with("run-"))
                .count()
        })
    };
    let t0 = Instant::now();
    while count() < 2 {
        assert!(t0.elapsed() < Duration::from_secs(120), "no run finished");
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let before = inodes(&runs);
    let done = before.len();
    assert!(
        (2..total).contains(&done),
        "kill landed after {done} of {total} runs"
    );
    assert!(!out.join("sweep.csv").exists());

    let err = run_ok(&args.map(String::from));
    assert!(
        err.contains(&format!("{done} already done, running {}", total - done)),
        "{err}"
    );
    let after = inodes(&runs);
    assert_eq!(after.len(), total);
    for (name, ino) in &before {
        assert_eq!(after[name], *ino, "{name} was written again");
    }
    let csv = std::fs::read_to_string(out.join("sweep.csv")).unwrap();
    assert_eq!(csv.lines().count(), 1 + total);

    // And it is the sweep an uninterrupted run gives.
    let clean = d.join("clean");
    let mut again = args.map(String::from);
    again[10] = "2".into();
    again[12] = s(&clean);
    run_ok(&again);
    assert_same_tree(&clean, &out);
}

/// File name → inode: a rewritten file (temp + rename) gets a new inode.
fn inodes(dir: &PathBuf) -> BTreeMap<String, u64> {
    use std::os::unix::fs::MetadataExt;
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("run-"))
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                e.metadata().unwrap().ino(),
            )
        })
        .collect()
}

fn fails(args: &[&str]) -> String {
    let out = cascade(args);
    assert_eq!(out.status.code(), Some(2), "{args:?} should fail with 2");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn bad_sweeps_name_the_flag_and_the_path() {
    let d = temp_dir("sweep-bad");
    let o = s(&d.join("o"));
    let f = scenario();
    let e = fails(&[
        "sweep",
        &f,
        "-L",
        "services.dbb.threads",
        "4,8",
        "--out",
        &o,
    ]);
    assert!(
        e.contains("-L services.dbb.threads") && e.contains("no `services.dbb`"),
        "{e}"
    );
    let e = fails(&[
        "sweep",
        &f,
        "-L",
        "services.db.threads",
        "4,lots",
        "--out",
        &o,
    ]);
    assert!(e.contains("-L services.db.threads: value `lots`"), "{e}");
    let e = fails(&[
        "sweep",
        &f,
        "-P",
        "services.db.threads",
        "0",
        "4",
        "--out",
        &o,
    ]);
    assert!(e.contains("-P services.db.threads: value `0`"), "{e}");
    let e = fails(&[
        "sweep",
        &f,
        "-P",
        "workload.api.rate",
        "300",
        "100",
        "--out",
        &o,
    ]);
    assert!(
        e.contains("-P workload.api.rate: MIN 300 is more than MAX 100"),
        "{e}"
    );
    let e = fails(&[
        "sweep",
        &f,
        "-P",
        "workload.api.rate",
        "1",
        "2",
        "-D",
        "1e2",
        "--out",
        &o,
    ]);
    assert!(e.contains("-P workload.api.rate: STEP `1e2`"), "{e}");
    let e = fails(&[
        "sweep",
        &f,
        "-L",
        "services.db.threads",
        "4",
        "--shard",
        "2/2",
        "--out",
        &o,
    ]);
    assert!(e.contains("--shard `2/2`"), "{e}");
    let plan = d.join("p.toml");
    std::fs::write(&plan, "[sweep]\nlist = { \"workload.api.rte\" = [1, 2] }\n").unwrap();
    let e = fails(&["sweep", &f, "--plan", &s(&plan), "--out", &o]);
    assert!(
        e.contains("[sweep] list \"workload.api.rte\"") && e.contains("value `1`"),
        "{e}"
    );
    assert!(!d.join("o").exists(), "nothing is written for a bad sweep");
}

#[test]
fn merge_refuses_incomplete_or_mismatched_shards() {
    let d = temp_dir("sweep-merge-bad");
    let shard = |k: u32, n: u32, extra: &[&str]| -> String {
        let dir = d.join(format!(
            "s{k}of{n}{}",
            extra.join("").replace(['=', '.'], "")
        ));
        let shard = format!("{k}/{n}");
        let mut args = small(&["--shard", &shard, "--out", &s(&dir)]);
        args.extend(extra.iter().map(|s| s.to_string()));
        run_ok(&args);
        s(&dir)
    };
    let (a, b) = (shard(0, 2, &[]), shard(1, 2, &[]));
    let out = s(&d.join("merged"));

    let e = fails(&["merge", &a, "--out", &out]);
    assert!(
        e.contains("incomplete") && e.contains("shard 1/2 missing"),
        "{e}"
    );
    let e = fails(&["merge", &a, &a, &b, "--out", &out]);
    assert!(e.contains("shard 0/2 appears twice"), "{e}");
    let other = shard(1, 2, &["--set", "services.api.threads=99"]);
    let e = fails(&["merge", &a, &other, "--out", &out]);
    assert!(
        e.contains("different sweeps") && e.contains("scenario hash"),
        "{e}"
    );
    let three = shard(1, 3, &[]);
    let e = fails(&["merge", &a, &three, "--out", &out]);
    assert!(e.contains("different sweeps"), "{e}");

    // A run file lost after the shard finished.
    std::fs::remove_file(Path::new(&b).join("runs/run-000003.json")).unwrap();
    let e = fails(&["merge", &a, &b, "--out", &out]);
    assert!(e.contains("run 3 is missing"), "{e}");
    assert!(!Path::new(&out).join("sweep.csv").exists());
    let e = fails(&["merge", &s(&d), "--out", &out]);
    assert!(e.contains("no shard manifest"), "{e}");
}
