//! The overload guard: a run whose simulated state outgrows
//! `max_in_flight` stops with exit 4, names the saturated service, and
//! writes its results marked partial.

use crate::common::{cascade, temp_dir};

const FLOOD: &str = r#"
name = "overload"
duration = "60s"
[workload.flood]
target = "api"
rate = 100000
[services.api]
threads = 1
queue = "unbounded"
steps = [{ work = "10ms" }]
[services.idle]
threads = 1
steps = [{ work = "1ms" }]
"#;

#[test]
fn an_overloaded_run_stops_at_its_budget_with_partial_results() {
    let dir = temp_dir("guard");
    let file = dir.join("flood.toml");
    std::fs::write(&file, FLOOD).unwrap();
    let out_dir = dir.join("out");
    let out = cascade(&[
        "run",
        file.to_str().unwrap(),
        "--set",
        "max_in_flight=20000",
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{err}");
    assert!(
        err.contains("overload guard") && err.contains("api ("),
        "{err}"
    );
    assert!(
        !err.contains("idle ("),
        "only services holding requests are named: {err}"
    );
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out_dir.join("summary.json")).unwrap()).unwrap();
    let partial = summary["partial"].as_str().expect("marked partial");
    assert!(partial.contains("max_in_flight = 20000"), "{partial}");
    // Stopped early: about 10,000 requests in, not 6 million.
    assert!(summary["end_time_s"].as_f64().unwrap() < 1.0);
    let report = std::fs::read_to_string(out_dir.join("report.html")).unwrap();
    assert!(report.contains("PARTIAL RESULTS"));
    // Within the default budget nothing is marked.
    let ok = cascade(&[
        "run",
        file.to_str().unwrap(),
        "--duration",
        "50ms",
        "--json",
    ]);
    assert_eq!(ok.status.code(), Some(0));
    assert!(!String::from_utf8_lossy(&ok.stdout).contains("\"partial\""));
}

#[test]
fn a_tiny_budget_is_refused() {
    let dir = temp_dir("guard-bad");
    let file = dir.join("flood.toml");
    std::fs::write(&file, format!("max_in_flight = 10\n{FLOOD}")).unwrap();
    let out = cascade(&["validate", file.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("max_in_flight") && err.contains("at least 1000"),
        "{err}"
    );
}
