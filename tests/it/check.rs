//! `cascade check` against the simulator: its ρ per service agrees with the
//! utilisation a run measures on every shipped scenario with stationary
//! load, and the command gates CI (exit 3 on a certain overload).

use std::path::{Path, PathBuf};

use sim_core::Override;
use sim_core::model::Shape;

use crate::common::{cascade, repo_root};

/// Shipped scenarios left out, and why. Every other scenario whose sources
/// all have a constant rate is compared.
const LEFT_OUT: &[(&str, &str)] = &[
    (
        "two-hop-rule-accepted.toml",
        "its status service's only load is the clients' polls, which check does not count (README: Not built yet)",
    ),
    (
        "jitter.toml",
        "its load is retries by design (8 attempts on rejection into a queue of 2 at ρ 0.8); check's base figure leaves retries out",
    ),
    (
        "gc-death-spiral.toml",
        "its GC pauses hold threads (what it shows); check leaves GC out and says so",
    ),
    (
        "cache-stampede.toml",
        "check counts a warm cache (hit ratio 0.71); a run's cache of 100,000 Zipf keys is still warming for its first 30 s, so its database is busier",
    ),
    (
        "cache-stampede-fixed.toml",
        "as cache-stampede.toml: a cache still warming",
    ),
    (
        "cache-expiry-stampede.toml",
        "check counts a warm cache and leaves its TTL out; each expiry of its one hot key sends every request of 200 ms to the database, which never catches up (what it shows)",
    ),
    (
        "kafka-hot-key.toml",
        "check spreads a log's records evenly over its partitions; the hot key's partition saturates its member and the others idle, so the run's consumers are less busy than check's even load",
    ),
    (
        "kafka-poison-record.toml",
        "retry in place stops a partition behind its poison record (what it shows); check's group load is fault-free",
    ),
    (
        "kafka-poison-record-fixed.toml",
        "as kafka-poison-record.toml: its poison records fail and move, which check leaves out",
    ),
    (
        "kafka-rebalance-storm.toml",
        "its rebalances stop the whole group (what it shows); check leaves rebalances out",
    ),
    (
        "kafka-rebalance-storm-fixed.toml",
        "as kafka-rebalance-storm.toml: rebalances after a crash",
    ),
    (
        "kafka-batching.toml",
        "check counts a batch cost as a bulk server's (each record polled alone until a member is busy all the time): an upper bound; a run's members idle now and then (96 % busy) between batches",
    ),
    (
        "retention-loss.toml",
        "its consumer is down for a long outage (what it shows); check's group load is fault-free",
    ),
];

fn shipped() -> Vec<PathBuf> {
    let dir = repo_root().join("scenarios");
    let mut files = Vec::new();
    for d in [
        dir.clone(),
        dir.join("bench"),
        dir.join("blocking-vs-nonblocking"),
    ] {
        for e in std::fs::read_dir(&d).expect("scenarios/") {
            let p = e.expect("entry").path();
            if p.extension().is_some_and(|x| x == "toml") {
                files.push(p);
            }
        }
    }
    files.sort();
    files
}

fn set(path: &str, value: &str) -> Override {
    Override {
        path: path.into(),
        value: value.into(),
    }
}

/// ρ from `check` and the run's utilisation, per service, for one scenario
/// run 60 s past its warm-up with its fault moved out of the run; `None`
/// when its load is not stationary.
fn compare(file: &Path) -> Option<Vec<String>> {
    let text = std::fs::read_to_string(file).expect("readable");
    let name = file.display().to_string();
    let plain = sim_core::load(&name, &text, &[]).expect("shipped scenarios load");
    let stationary = plain
        .model
        .sources
        .iter()
        .all(|s| s.shape == Shape::Constant && s.closed.is_none());
    if !stationary {
        return None;
    }
    let warmup = plain.model.warmup / 1_000_000_000;
    let mut overrides = vec![set("duration", &format!("{}s", warmup + 60))];
    // The file's faults (a zone fault stands for several in the model).
    let faults = text.lines().filter(|l| l.trim() == "[[fault]]").count();
    for i in 0..faults {
        overrides.push(set(&format!("fault.{i}.at"), "100000s"));
    }
    let s = sim_core::load(&name, &text, &overrides).expect("overrides apply");
    let check = sim_core::check::analyze(&s.model);
    let run = sim_core::run_scenario(&s, None, &[]).summary;
    let mut failures = Vec::new();
    for svc in &check.services {
        let sim = &run.services[&svc.name];
        // The summary's utilisation is over [warm-up, end of drain]; the
        // load ran over [warm-up, duration].
        let simulated = sim.utilization * (run.end_time_s - run.warmup_s) / run.sim_duration_s;
        // 3σ of a busy-time average: ρ·√(1 + cv²)/√n for n arrivals whose
        // holding times have a CV of at most 2 (the heaviest lognormals
        // shipped), plus 0.003 for the few requests in flight at either
        // end of the measured period.
        let n = sim.arrivals.max(1) as f64;
        let tolerance = 0.003 + 3.0 * simulated * 5f64.sqrt() / n.sqrt();
        let line = format!(
            "{} {}: check ρ {:.4}, simulated {:.4} (±{:.4}, {} arrivals)",
            file.file_name().unwrap().to_string_lossy(),
            svc.name,
            svc.rho,
            simulated,
            tolerance,
            sim.arrivals
        );
        eprintln!("{line}");
        if (svc.rho - simulated).abs() > tolerance {
            failures.push(line);
        }
    }
    Some(failures)
}

#[test]
fn rho_agrees_with_the_simulated_utilisation_on_stationary_scenarios() {
    let files: Vec<PathBuf> = shipped()
        .into_iter()
        .filter(|f| {
            let n = f.file_name().unwrap().to_string_lossy();
            !LEFT_OUT.iter().any(|(left, _)| *left == n)
        })
        .collect();
    // Two at a time: the machine's cores are shared.
    let results: Vec<(PathBuf, Option<Vec<String>>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = files
            .chunks(files.len().div_ceil(2))
            .map(|chunk| {
                scope.spawn(move || {
                    chunk
                        .iter()
                        .map(|f| (f.clone(), compare(f)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("no panic"))
            .collect()
    });
    let compared = results.iter().filter(|(_, r)| r.is_some()).count();
    assert!(compared >= 20, "only {compared} scenarios compared");
    let failures: Vec<&String> = results
        .iter()
        .flat_map(|(_, r)| r.iter().flatten())
        .collect();
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn a_certain_overload_exits_3_naming_the_service_and_the_time() {
    // The posting spree at 60 s takes the notifier past its threads.
    let file = repo_root().join("scenarios/notify-followers.toml");
    let out = cascade(&["check", file.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains("notifier saturates at 60.0s"), "{err}");
    // The same scenario without the spree passes.
    let out = cascade(&[
        "check",
        file.to_str().unwrap(),
        "--set",
        "workload.post.shape.spike.rate=40",
        "--json",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(json["overloaded"], false);
    assert_eq!(json["services"][2]["name"], "notifier");
    assert!(json["services"][2]["rho"].as_f64().unwrap() < 1.0);
}

#[test]
fn a_bad_scenario_is_a_usage_error() {
    let dir = crate::common::temp_dir("check-bad");
    let p = dir.join("bad.toml");
    std::fs::write(&p, "name = \"x\"\nduration = \"ten\"\n").unwrap();
    let out = cascade(&["check", p.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("bad.toml") && !err.contains("panicked"),
        "{err}"
    );
}
