//! `cascade run --trace` past `--trace-max`: the traces kept are a uniform
//! sample of the requests sampled over the whole run (a reservoir), not
//! its first ones; the same seed keeps the same ones (byte-identical
//! files), and the run's other results do not move.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::common::{cascade, temp_dir};

const SECONDS: f64 = 60.0;
const KEPT: usize = 200;

fn run_ok(args: &[&str]) {
    let out = cascade(args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Each trace's entry time (its earliest span's start), seconds.
fn entry_times(otlp: &std::path::Path) -> Vec<f64> {
    let mut first: BTreeMap<String, u64> = BTreeMap::new();
    for line in std::fs::read_to_string(otlp).unwrap().lines() {
        let doc: Value = serde_json::from_str(line).unwrap();
        for rs in doc["resourceSpans"].as_array().unwrap() {
            for ss in rs["scopeSpans"].as_array().unwrap() {
                for s in ss["spans"].as_array().unwrap() {
                    let start: u64 = s["startTimeUnixNano"].as_str().unwrap().parse().unwrap();
                    let e = first
                        .entry(s["traceId"].as_str().unwrap().to_owned())
                        .or_insert(u64::MAX);
                    *e = (*e).min(start);
                }
            }
        }
    }
    first.values().map(|&t| t as f64 / 1e9).collect()
}

#[test]
fn past_the_cap_the_kept_traces_are_spread_over_the_whole_run() {
    let dir = temp_dir("trace-reservoir");
    let scenario = dir.join("steady.toml");
    // 200 requests a second for 60 s: 12,000 sampled, 200 kept.
    std::fs::write(
        &scenario,
        format!(
            "name = \"steady\"\nduration = \"{SECONDS}s\"\nwarmup = \"0s\"\n\
             [workload.users]\ntarget = \"api\"\nrate = 200\n\
             [services.api]\nthreads = 8\nsteps = [{{ work = \"1ms\" }}, {{ call = \"db\" }}]\n\
             [services.db]\nthreads = 8\nsteps = [{{ work = \"1ms\" }}]\n"
        ),
    )
    .unwrap();
    let sc = scenario.to_str().unwrap();
    let d = |n: &str| dir.join(n).to_str().unwrap().to_owned();
    let max = KEPT.to_string();
    run_ok(&["run", sc, "-q", "--out", &d("plain")]);
    for k in ["a", "b"] {
        run_ok(&[
            "run",
            sc,
            "-q",
            "--out",
            &d(&format!("out-{k}")),
            "--trace",
            &d(&format!("trace-{k}")),
            "--trace-sample",
            "1",
            "--trace-max",
            &max,
        ]);
    }
    let times = entry_times(&dir.join("trace-a/trace.otlp.json"));
    assert_eq!(times.len(), KEPT);
    // A uniform sample of entry times over [0, 60 s]: mean 30 s, σ of the
    // mean 60 ⁄ √(12 × 200) = 1.22 s; within 4σ. The first 200 requests
    // (the old rule) would have a mean near 0.5 s.
    let mean = times.iter().sum::<f64>() / times.len() as f64;
    let sigma = SECONDS / (12.0 * KEPT as f64).sqrt();
    assert!(
        (mean - SECONDS / 2.0).abs() < 4.0 * sigma,
        "mean entry {mean} s, want {} ± {}",
        SECONDS / 2.0,
        4.0 * sigma
    );
    // Both ends of the run are reached: P(no entry in the first or the
    // last tenth) = 0.9^200 each, about 10^-9.
    let (lo, hi) = times
        .iter()
        .fold((f64::MAX, f64::MIN), |(a, b), &t| (a.min(t), b.max(t)));
    assert!(lo < 0.1 * SECONDS && hi > 0.9 * SECONDS, "{lo} .. {hi}");
    for f in ["trace.perfetto.json", "trace.otlp.json"] {
        assert_eq!(
            std::fs::read(dir.join("trace-a").join(f)).unwrap(),
            std::fs::read(dir.join("trace-b").join(f)).unwrap(),
            "{f} differs between two runs of one seed"
        );
    }
    for f in ["summary.json", "timeseries.csv"] {
        assert_eq!(
            std::fs::read(dir.join("plain").join(f)).unwrap(),
            std::fs::read(dir.join("out-a").join(f)).unwrap(),
            "{f} changed by --trace"
        );
    }
}
