//! SLO assertions, recovery verdicts and blast radius end to end.

use crate::common::{cascade, repo_root, run_toml, temp_dir};
use sim_core::recovery::{Recovery, Verdict};
use std::path::PathBuf;

/// Entry `main` → `a` (10 threads, 10 ms constant work: 1000 req/s of
/// capacity, unbounded queue) at RATE; entry `side` → `b`, untouched. `a`
/// is 4× slower from 20 s to 30 s: capacity 250 req/s, so a backlog builds
/// that must drain at (1000 − RATE) req/s once the fault ends.
const FLOOD: &str = r#"name = "flood"
duration = "60s"
warmup = "5s"
seed = 7

[workload.main]
target = "a"
rate = RATE
timeout = "2s"

[workload.side]
target = "b"
rate = 100

[services.a]
threads = 10
queue = "unbounded"
steps = [{ work = "10ms" }]

[services.b]
threads = 4
steps = [{ work = "5ms" }]

[[fault]]
target = "a"
slowdown = 4
at = "20s"
for = "10s"
"#;

fn flood(rate: u32) -> String {
    FLOOD.replace("RATE", &rate.to_string())
}

fn write(name: &str, text: &str) -> PathBuf {
    let p = temp_dir(name).join(format!("{name}.toml"));
    std::fs::write(&p, text).unwrap();
    p
}

fn recovery<'a>(rs: &'a [Recovery], entry: &str) -> &'a Recovery {
    rs.iter()
        .find(|r| r.entry == entry)
        .unwrap_or_else(|| panic!("no recovery for {entry}: {rs:?}"))
}

#[test]
fn a_backlog_that_drains_recovers_in_seconds() {
    // ρ = 0.5 after the fault: a 2 500-request backlog drains in ~5 s.
    let r = run_toml(&flood(500), 7);
    let main = recovery(&r.summary.recovery, "main");
    assert_eq!(main.verdict, Verdict::Recovered, "{main:?}");
    let t = main.recovery_time_s.unwrap();
    assert!((2.0..=12.0).contains(&t), "recovery time {t}");
    assert!((main.baseline_goodput_rps - 500.0).abs() < 25.0, "{main:?}");
    assert_eq!(main.baseline_windows, 10);
    assert!(main.min_goodput_rps < 100.0);
    assert_eq!(main.measured_from_s, 30.0);
}

#[test]
fn a_backlog_that_cannot_drain_did_not_recover_and_others_are_not_affected() {
    // ρ = 0.95: a 7 000-request backlog drains at 50 req/s — longer than
    // the run. Every request behind it waits past the client's timeout.
    let r = run_toml(&flood(950), 7);
    let main = recovery(&r.summary.recovery, "main");
    assert_eq!(main.verdict, Verdict::DidNotRecover, "{main:?}");
    assert_eq!(main.recovery_time_s, None);
    let side = recovery(&r.summary.recovery, "side");
    assert_eq!(side.verdict, Verdict::NotAffected, "{side:?}");
    // Serialised under `recovery`.
    let json = serde_json::to_value(&r.summary).unwrap();
    assert_eq!(json["recovery"][0]["verdict"], "did_not_recover");
    assert_eq!(json["recovery"][1]["verdict"], "not_affected");
}

#[test]
fn a_fault_lasting_to_the_end_did_not_recover() {
    let text = flood(500).replace("for = \"10s\"", "for = \"40s\"");
    let r = run_toml(&text, 7);
    let main = recovery(&r.summary.recovery, "main");
    assert_eq!(main.verdict, Verdict::DidNotRecover);
    assert!(main.note.as_deref().unwrap().contains("end of the run"));
}

#[test]
fn run_prints_the_recovery_table_and_passing_slos_exit_0() {
    let text = flood(500)
        + r#"
[slo]
"main.recovered" = "within 20s"
"side.recovered" = "within 1s"
"side.p50" = "< 10ms"
"side.p90" = "<= 0.01s"
"side.p99" = "< 20"
"side.p999" = "< 50ms"
"side.max" = "< 1s"
"side.mean" = "< 6ms"
"side.error_rate" = "< 1%"
"side.availability" = ">= 99%"
"side.goodput" = "> 90/s"
"side.throughput" = ">= 90"
"service.b.utilization" = "< 50%"
"#;
    let p = write("slo-pass", &text);
    let out = cascade(&["run", p.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("recovered in"), "{stdout}");
    assert!(stdout.contains("not affected"), "{stdout}");
    assert!(stdout.contains("SLOs: 13 of 13 passed"), "{stdout}");
    assert!(stdout.contains("✓ side.p99 < 20"), "{stdout}");
    assert!(!stdout.contains('✗'), "{stdout}");
}

#[test]
fn failing_slos_exit_3_with_observed_values() {
    let text = flood(950)
        + r#"
[slo]
"main.recovered" = "within 20s"
"main.p99" = "< 1ms"
"main.error_rate" = "<= 0.01"
"main.availability" = "> 99.9%"
"main.goodput" = "> 2000"
"side.goodput" = "> 90"
"service.a.utilization" = "< 50%"
"#;
    let p = write("slo-fail", &text);
    let out = cascade(&["run", p.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(3), "{stdout}");
    assert!(stdout.contains("SLOs: 1 of 7 passed"), "{stdout}");
    assert!(
        stdout.contains("✗ main.recovered within 20s") && stdout.contains("did not recover"),
        "{stdout}"
    );
    assert!(stdout.contains("✗ main.p99 < 1ms"), "{stdout}");
    assert!(stdout.contains("✓ side.goodput > 90"), "{stdout}");
    // Observed value in the threshold's unit.
    let json = cascade(&["run", p.to_str().unwrap(), "--json"]);
    assert_eq!(json.status.code(), Some(3));
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let util = &v["slo"][6];
    assert_eq!(util["key"], "service.a.utilization");
    assert_eq!(util["threshold"], 50.0);
    assert!(util["observed"].as_f64().unwrap() > 90.0, "{util}");
    assert_eq!(v["slo"][2]["threshold"], 0.01);
}

#[test]
fn a_malformed_condition_is_an_error_naming_the_key() {
    let text = flood(500) + "\n[slo]\n\"main.p99\" = \"fast\"\n";
    let p = write("slo-bad", &text);
    let out = cascade(&["run", p.to_str().unwrap()]);
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // The loader compiles the assertions: a bad one is a bad scenario.
    assert_eq!(out.status.code(), Some(2), "{all}");
    assert!(
        all.contains("main.p99") && all.contains("starts with <"),
        "{all}"
    );
    assert!(!all.contains("panicked"), "{all}");
    let e = sim_core::load("slo-bad.toml", &text, &[]).unwrap_err();
    assert_eq!(e.key, "slo.main.p99");
    assert!(e.message.contains("starts with <"), "{}", e.message);
}

/// gateway → b → c; 200 req/s; b and c hold few threads.
const CHAIN: &str = r#"name = "chain"
duration = "30s"
warmup = "2s"
seed = 3

[workload.web]
target = "gateway"
rate = 200
timeout = "1s"

[services.gateway]
threads = 100
queue = 50
steps = [{ work = "5ms" }, { call = "b", timeout = "800ms" }]

[services.b]
threads = 12
queue = 20
steps = [{ work = "5ms" }, { call = "c", timeout = "500ms" }]

[services.c]
threads = 12
queue = 20
steps = [{ work = "5ms" }]

[[fault]]
target = "c"
crash = true
at = "1s"
for = "1s"
"#;

#[test]
fn blast_shows_who_takes_the_entry_down_whatever_the_jobs() {
    let p = write("blast", CHAIN);
    let dir = temp_dir("blast-out");
    let run = |jobs: &str| {
        let out = cascade(&[
            "blast",
            p.to_str().unwrap(),
            "--fault",
            "slowdown=20,at=10s,for=10s",
            "--jobs",
            jobs,
            "--json",
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    };
    let one = run("1");
    assert_eq!(one, run("2"), "results depend on --jobs");
    let v: serde_json::Value = serde_json::from_slice(&one).unwrap();
    let down = |target: &str| {
        let row = v["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["target"] == target)
            .unwrap();
        row["entries"][0]["down"].as_bool().unwrap()
    };
    assert!(!down("gateway"), "{v:#}");
    assert!(down("b"), "{v:#}");
    assert!(down("c"), "{v:#}");
    // The scenario's own crash is not in the baseline.
    assert!(v["baseline"][0]["goodput_during_rps"].as_f64().unwrap() > 180.0);

    let out = cascade(&[
        "blast",
        p.to_str().unwrap(),
        "--fault",
        "slowdown=20,at=10s,for=10s",
        "--out",
        dir.to_str().unwrap(),
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(
        text.contains("✗ DOWN") && text.contains("✓ holds"),
        "{text}"
    );
    let csv = std::fs::read_to_string(dir.join("blast.csv")).unwrap();
    assert_eq!(csv.lines().count(), 4, "{csv}");
    assert!(dir.join("blast.json").exists());
}

#[test]
fn blast_explains_a_bad_template() {
    let p = write("blast-bad", CHAIN);
    for (template, says) in [
        ("slowdown=20,for=10s", "`at` is missing"),
        ("slowdwn=20,at=1s,for=1s", "unknown key `slowdwn`"),
        ("slowdown=20,at=soon,for=1s", "`at`"),
        ("at=1s,for=1s", "exactly one"),
    ] {
        let out = cascade(&["blast", p.to_str().unwrap(), "--fault", template]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{template}: {err}");
        assert!(err.contains(says), "{template}: {err}");
    }
}

#[test]
fn the_slo_demo_scenario_loads() {
    let p = repo_root().join("scenarios/slo-demo.toml");
    let out = cascade(&["validate", p.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
