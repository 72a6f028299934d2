//! Output directories are transactions: a run killed at any moment
//! leaves the previous run's files or its own, never a mix and no
//! temporary file; and a sweep's run files carry a checksum, so one edited
//! by hand is refused by name on resume and on merge.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{cascade, repo_root, temp_dir};

/// Every file under `dir`: relative path → bytes, without the lock.
fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(dir).unwrap().display().to_string();
                if rel != ".cascade-lock" {
                    out.insert(rel, std::fs::read(&p).unwrap());
                }
            }
        }
    }
    out
}

fn run_args(seed: u64, out: &Path) -> Vec<String> {
    vec![
        "run".into(),
        repo_root()
            .join("scenarios/checkout.toml")
            .display()
            .to_string(),
        "--duration".into(),
        "40s".into(),
        "--seed".into(),
        seed.to_string(),
        "--out".into(),
        out.display().to_string(),
    ]
}

fn run_ok(args: &[String]) {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = cascade(&args);
    assert!(
        matches!(o.status.code(), Some(0 | 3)),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn a_run_killed_while_writing_leaves_the_old_directory_or_the_new_one() {
    let d = temp_dir("outdir-kill");
    let out = d.join("out");
    // The two possible outcomes, byte for byte (runs are deterministic).
    let (old_ref, new_ref) = (d.join("old"), d.join("new"));
    run_ok(&run_args(1, &old_ref));
    let t0 = Instant::now();
    run_ok(&run_args(2, &new_ref));
    let full = t0.elapsed();
    let (old, new) = (tree(&old_ref), tree(&new_ref));
    assert_ne!(old.get("summary.json"), new.get("summary.json"));

    let mut outcomes = BTreeMap::new();
    let budget = Instant::now();
    for i in 0..16u32 {
        if budget.elapsed() > Duration::from_secs(90) {
            break;
        }
        // The previous run's files: the old run's, whatever the last try
        // left.
        run_ok(&run_args(1, &out));
        // Kill after a spread of delays across the whole run, from its
        // start to past its end (a fixed pseudo-random sequence).
        let fraction = f64::from((i * 7919 + 13) % 97) / 48.0;
        let mut child = Command::new(env!("CARGO_BIN_EXE_cascade"))
            .args(run_args(2, &out))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(full.mul_f64(fraction));
        let _ = child.kill();
        child.wait().unwrap();
        let now = tree(&out);
        let which = if now == old {
            "old"
        } else if now == new {
            "new"
        } else {
            let extra: Vec<&String> = now.keys().filter(|k| !old.contains_key(*k)).collect();
            panic!(
                "try {i} (killed at {fraction:.2} of a run): a mix of two runs; \
                 files not in the old run: {extra:?}"
            );
        };
        *outcomes.entry(which).or_insert(0) += 1;
    }
    assert!(
        outcomes.contains_key("old"),
        "no kill landed before the swap: {outcomes:?}"
    );
    eprintln!("kill outcomes: {outcomes:?}");
    // The next run removes the staging directories killed runs left.
    run_ok(&run_args(2, &out));
    assert_eq!(tree(&out), new);
    let leftovers: Vec<String> = std::fs::read_dir(&d)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".out."))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

fn sweep_args(out: &Path, extra: &[&str]) -> Vec<String> {
    let mut a: Vec<String> = vec![
        "sweep".into(),
        repo_root()
            .join("scenarios/sweep-pool.toml")
            .display()
            .to_string(),
    ];
    a.extend(
        [
            "-L",
            "services.db.threads",
            "4,8",
            "--set",
            "duration=3s",
            "--set",
            "warmup=1s",
            "--out",
        ]
        .map(String::from),
    );
    a.push(out.display().to_string());
    a.extend(extra.iter().map(|s| s.to_string()));
    a
}

/// Changes one digit of the `"events"` count in a run file.
fn edit(run: &Path) {
    let text = std::fs::read_to_string(run).unwrap();
    let at = text.find("\"events\": ").expect("a summary") + "\"events\": ".len();
    let digit = text.as_bytes()[at];
    let other = if digit == b'1' { '2' } else { '1' };
    let mut edited = text.clone();
    edited.replace_range(at..=at, &other.to_string());
    assert_ne!(edited, text);
    std::fs::write(run, edited).unwrap();
}

fn fails_naming(args: &[String], file: &str) {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = cascade(&args);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
    assert!(
        err.contains(file) && err.contains("changed after cascade wrote it"),
        "{err}"
    );
}

#[test]
fn an_edited_sweep_run_file_is_refused_on_resume_and_on_merge() {
    let d = temp_dir("sweep-checksum");
    let out = d.join("whole");
    run_ok(&sweep_args(&out, &[]));
    let run = out.join("runs/run-000001.json");
    let text = std::fs::read_to_string(&run).unwrap();
    assert!(
        text.lines()
            .nth(1)
            .unwrap()
            .contains("\"checksum\": \"fnv1a64:")
    );
    edit(&run);
    fails_naming(&sweep_args(&out, &[]), "run-000001.json");

    let (a, b) = (d.join("a"), d.join("b"));
    run_ok(&sweep_args(&a, &["--shard", "0/2"]));
    run_ok(&sweep_args(&b, &["--shard", "1/2"]));
    edit(&b.join("runs/run-000001.json"));
    let merge: Vec<String> = [
        "merge".to_owned(),
        a.display().to_string(),
        b.display().to_string(),
        "--out".into(),
        d.join("merged").display().to_string(),
    ]
    .to_vec();
    fails_naming(&merge, "run-000001.json");
}
