//! A source whose client side has nothing for a call's records to serve
//! sends its requests straight to a job (`engine/source.rs`, "direct").
//! `--trace` turns that path off (a traced source opens a call and an
//! attempt), so the same run through both paths must give the same
//! `summary.json` and `timeseries.csv`, byte for byte — with the cases
//! the direct path must book exactly as a call would: requests cut off by
//! a crash, black-holed by a hung replica (in flight at the end), dropped
//! by a full backlog and sent again, shed, and closed-loop users.

use crate::common::{cascade, temp_dir};

const SCENARIO: &str = r#"
name = "direct-sources"
duration = "30s"
warmup = "2s"
seed = 7

[workload.open]
target = "front"
rate = 900
connect_retries = 2
connect_backoff = "200ms"

[workload.users]
target = "front"
users = 40
think = { dist = "exponential", mean = "50ms" }
requests = 12000

[services.front]
replicas = 3
threads = 6
queue = 10
when_full = "drop"
steps = [
  { work = { dist = "exponential", mean = "2ms" } },
  { call = "back", timeout = "100ms" },
]

[services.back]
threads = 12
queue = 30
steps = [{ work = { dist = "exponential", mean = "6ms" } }]

[[fault]]
target = "front"
replica = 1
hang = true
at = "8s"
for = "4s"

[[fault]]
target = "front"
replica = 2
crash = true
at = "15s"
for = "3s"

[[fault]]
target = "back"
slowdown = 4.0
at = "20s"
for = "5s"
"#;

#[test]
fn a_direct_source_books_every_request_as_a_client_call_would() {
    let dir = temp_dir("direct-source");
    let scenario = dir.join("direct.toml");
    std::fs::write(&scenario, SCENARIO).unwrap();
    let sc = scenario.to_str().unwrap();
    let d = |n: &str| dir.join(n).to_str().unwrap().to_owned();
    let run = |extra: &[&str]| {
        let out = cascade(&[&["run", sc, "-q"][..], extra].concat());
        assert!(
            out.status.success(),
            "cascade run failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run(&["--out", &d("direct")]);
    run(&[
        "--out",
        &d("calls"),
        "--trace",
        &d("trace"),
        "--trace-sample",
        "0.01",
    ]);
    for f in ["summary.json", "timeseries.csv"] {
        let direct = std::fs::read(dir.join("direct").join(f)).unwrap();
        let calls = std::fs::read(dir.join("calls").join(f)).unwrap();
        assert!(direct == calls, "{f}: the direct path differs from calls");
    }
    // The cases the comparison must have covered.
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("direct/summary.json")).unwrap()).unwrap();
    let front = &summary["services"]["front"];
    for key in ["blackholed", "refused", "connect_retries"] {
        assert!(
            front[key].as_u64().unwrap_or(0) > 0,
            "front.{key} is zero: the test no longer covers it\n{front:#}"
        );
    }
    let open = &summary["entries"]["open"];
    assert!(
        open["in_flight_at_end"].as_u64().unwrap_or(0) > 0,
        "black-holed requests must stay in flight at the end: {open:#}"
    );
}
