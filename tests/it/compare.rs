//! `cascade compare` end to end: common random numbers make identical
//! scenarios differ by exactly nothing and tighten the differences of
//! different ones; one rep reproduces `cascade run`; `--jobs` changes no
//! byte; bad input exits 2.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::common::{cascade, repo_root, temp_dir};

fn scenario(name: &str) -> String {
    repo_root()
        .join("scenarios")
        .join(name)
        .display()
        .to_string()
}

/// Runs cascade, asserts success, returns stdout.
fn ok(args: &[&str]) -> String {
    let out = cascade(args);
    assert!(
        out.status.success(),
        "cascade {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).expect("valid JSON")
}

fn metrics(j: &Value) -> &serde_json::Map<String, Value> {
    j["metrics"].as_object().expect("metrics is an object")
}

/// checkout.toml with inventory's work 20 % slower (median 5 → 6 ms):
/// the same services, sources and stream names, a genuinely different
/// system.
fn slow_inventory(dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string(scenario("checkout.toml")).unwrap();
    let from = r#"median = "5ms", p99 = "40ms""#;
    assert!(
        text.contains(from),
        "checkout.toml changed: update this test"
    );
    let text = text
        .replace(from, r#"median = "6ms", p99 = "48ms""#)
        .replace("name = \"checkout\"", "name = \"checkout-slow-inventory\"");
    let path = dir.join("slow-inventory.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn identical_scenarios_differ_by_exactly_zero() {
    let dir = temp_dir("compare-identical");
    let out = dir.join("out");
    let a = scenario("checkout.toml");
    // The fault inside a short run, so the differences are of a system
    // under stress, not only of a quiet one.
    ok(&[
        "compare",
        &a,
        &a,
        "--reps",
        "3",
        "--duration",
        "30s",
        "--set",
        "fault.0.at=12s",
        "--set",
        "fault.0.for=10s",
        "--out",
        out.to_str().unwrap(),
    ]);
    let j = read_json(&out.join("compare.json"));
    assert_eq!(j["reps"], 3);
    assert_eq!(j["common_random_numbers"], true);
    let m = metrics(&j);
    assert!(m.contains_key("entries.checkout.goodput_rps"), "{m:?}");
    assert!(m.contains_key("services.inventory.utilization"), "{m:?}");
    let mut nonzero_values = 0;
    for (key, metric) in m {
        let values = metric["scenarios"][0]["values"].as_array().unwrap();
        assert_eq!(values.len(), 3, "{key}");
        nonzero_values += values.iter().filter(|v| v.as_f64() != Some(0.0)).count();
        let pair = &metric["pairs"][0];
        for d in pair["differences"].as_array().unwrap() {
            assert_eq!(d.as_f64(), Some(0.0), "{key}: {pair}");
        }
        assert_eq!(pair["mean"].as_f64(), Some(0.0), "{key}");
        assert_eq!(pair["ci95"].as_f64(), Some(0.0), "{key}");
        assert_eq!(pair["sd"].as_f64(), Some(0.0), "{key}");
        assert_eq!(pair["ci_excludes_zero"], false, "{key}");
    }
    // Not vacuous: the runs did measure something.
    assert!(nonzero_values > 20, "{nonzero_values}");
    assert!(out.join("compare-latency.png").exists());
    assert!(out.join("compare-latency.svg").exists());
    assert!(
        !out.join("compare-lag.png").exists(),
        "no queue, no lag chart"
    );
}

/// The same holds for the queue figures of a broker scenario, and the lag
/// overlay is drawn.
#[test]
fn identical_broker_scenarios_differ_by_exactly_zero() {
    let dir = temp_dir("compare-identical-broker");
    let out = dir.join("out");
    let a = scenario("checkout-async.toml");
    ok(&[
        "compare",
        &a,
        &a,
        "--reps",
        "2",
        "--duration",
        "80s",
        "--out",
        out.to_str().unwrap(),
    ]);
    let j = read_json(&out.join("compare.json"));
    let m = metrics(&j);
    let key = "queues.inventory-updates.duplicates";
    assert!(m.contains_key(key), "{m:?}");
    assert!(m[key]["scenarios"][0]["mean"].as_f64().unwrap() > 0.0);
    for (key, metric) in m.iter().filter(|(k, _)| k.starts_with("queues.")) {
        for d in metric["pairs"][0]["differences"].as_array().unwrap() {
            assert_eq!(d.as_f64(), Some(0.0), "{key}");
        }
    }
    assert!(out.join("compare-lag.png").exists());
}

/// The sd of the per-seed differences of checkout's mean latency.
fn latency_sd(a: &str, b: &str, independent: bool) -> (f64, f64) {
    let mut args = vec![
        "compare",
        a,
        b,
        "--reps",
        "8",
        // Before the fault (at 30 s): a steady system, 15 s measured.
        "--duration",
        "25s",
        "--json",
    ];
    if independent {
        args.push("--independent");
    }
    let j: Value = serde_json::from_str(&ok(&args)).unwrap();
    assert_eq!(j["common_random_numbers"], !independent);
    let pair = &j["metrics"]["entries.checkout.latency_ms.mean"]["pairs"][0];
    (pair["mean"].as_f64().unwrap(), pair["sd"].as_f64().unwrap())
}

#[test]
fn common_random_numbers_tighten_paired_differences() {
    let dir = temp_dir("compare-crn");
    let a = scenario("checkout.toml");
    let b = slow_inventory(&dir);
    let b = b.to_str().unwrap();
    let (crn_mean, crn_sd) = latency_sd(&a, b, false);
    let (ind_mean, ind_sd) = latency_sd(&a, b, true);
    println!(
        "mean latency, slow inventory − checkout, 8 reps: \
         CRN {crn_mean:.3} ms (sd {crn_sd:.4}), independent {ind_mean:.3} ms (sd {ind_sd:.4}), \
         sd ratio {:.1}",
        ind_sd / crn_sd
    );
    // Measured (master seeds 42, 1, 2, 3; 8 reps): CRN sd 0.016–0.035 ms,
    // independent 0.41–0.95 ms — 15× to 50× smaller. Both runs of a pair
    // see the same arrivals and the same work draws (scaled by 1.2 at
    // inventory), so the difference carries almost none of the run-to-run
    // noise. The sd of 8 differences is itself uncertain (7 degrees of
    // freedom: a factor of about 2 either way at 95 %), so a margin of 5
    // leaves room for engine changes while failing at once if the pairs
    // stop sharing their streams (ratio ≈ 1).
    assert!(
        crn_sd * 5.0 < ind_sd,
        "CRN sd {crn_sd} not well below independent sd {ind_sd}"
    );
    // Both estimate the same true difference (inventory's extra 1 ms+).
    assert!(crn_mean > 1.0 && crn_mean < 2.5, "{crn_mean}");
}

#[test]
fn one_rep_reproduces_cascade_run() {
    let a = scenario("checkout.toml");
    let b = scenario("circuit-breaker.toml");
    let common = ["--duration", "30s", "--set", "fault.0.at=12s"];
    let mut args = vec!["compare", a.as_str(), b.as_str(), "--json"];
    args.extend(common);
    let j: Value = serde_json::from_str(&ok(&args)).unwrap();
    assert_eq!(j["seeds"], serde_json::json!([42]));
    let mut checked = 0;
    for (k, file) in [&a, &b].iter().enumerate() {
        let mut args = vec!["run", file.as_str(), "--json"];
        args.extend(common);
        let run: Value = serde_json::from_str(&ok(&args)).unwrap();
        assert_eq!(run["seed"], 42);
        assert_eq!(
            j["scenarios"][k]["scenario_hash"], run["scenario_hash"],
            "{file}"
        );
        for (key, m) in metrics(&j) {
            let mut v = &run[m["section"].as_str().unwrap()][m["name"].as_str().unwrap()];
            for part in m["field"].as_str().unwrap().split('.') {
                v = &v[part];
            }
            let got = &m["scenarios"][k];
            assert_eq!(got["values"][0].as_f64(), v.as_f64(), "{file}: {key}");
            assert_eq!(got["mean"].as_f64(), v.as_f64(), "{file}: {key}");
            checked += 1;
        }
    }
    assert!(checked >= 2 * 19, "{checked}");
}

#[test]
fn jobs_do_not_change_a_byte() {
    let dir = temp_dir("compare-jobs");
    let a = scenario("checkout.toml");
    let b = scenario("circuit-breaker.toml");
    let run = |jobs: &str| {
        let out = dir.join(format!("j{jobs}"));
        ok(&[
            "compare",
            &a,
            &b,
            "--reps",
            "3",
            "--duration",
            "30s",
            "--set",
            "fault.0.at=12s",
            "--jobs",
            jobs,
            "--out",
            out.to_str().unwrap(),
        ]);
        out
    };
    let (one, two) = (run("1"), run("2"));
    for f in ["compare.json", "compare-latency.svg", "compare-latency.png"] {
        let (x, y) = (
            std::fs::read(one.join(f)).unwrap(),
            std::fs::read(two.join(f)).unwrap(),
        );
        assert!(x == y, "{f} differs between --jobs 1 and --jobs 2");
    }
}

#[test]
fn bad_input_exits_2() {
    let dir = temp_dir("compare-bad");
    let bad = dir.join("bad.toml");
    std::fs::write(
        &bad,
        "name = \"bad\"\nduration = \"10s\"\n[services.a]\nthreads = \"many\"\n",
    )
    .unwrap();
    let a = scenario("checkout.toml");
    let out = cascade(&["compare", &a, bad.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("bad.toml:4:11:"), "{err}");
    assert!(err.contains("services.a.threads"), "{err}");

    let out = cascade(&["compare", &a]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("2 values required"), "{err}");

    // An output directory that cannot be created: exit 1, before any run.
    let file = dir.join("a-file");
    std::fs::write(&file, "").unwrap();
    let target = file.join("out");
    let out = cascade(&["compare", &a, &a, "--out", target.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
