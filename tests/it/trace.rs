//! `cascade run --trace`: the Perfetto file's structure, the OTLP file
//! read back by `cascade import traces` (call graph, call probabilities,
//! work and rates within sampling error), determinism (the trace files,
//! and the run's other results with and without tracing), and bad flags.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::Value;
use sim_core::model::{Model, Step};

use crate::common::{cascade, repo_root, temp_dir};

fn run_ok(args: &[&str]) -> String {
    let out = cascade(args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{args:?}: {err}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn ts(e: &Value) -> f64 {
    e["ts"].as_f64().expect("ts")
}

/// Every async begin has its end on the same track (pid, cat, id) and no
/// id begins twice; complete slices have a duration and nest on their
/// thread; timestamps never go back on a track; every flow's start has
/// one end and the other way round; every thread and process is named.
fn assert_perfetto_well_formed(path: &Path) -> usize {
    let doc: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).expect("JSON");
    let events = doc["traceEvents"].as_array().expect("traceEvents");
    let mut begins: BTreeMap<(u64, String, String), (f64, usize)> = BTreeMap::new();
    let mut last: BTreeMap<String, f64> = BTreeMap::new();
    let mut threads: BTreeSet<(u64, u64)> = BTreeSet::new();
    let mut processes: BTreeSet<u64> = BTreeSet::new();
    let mut used_threads: BTreeSet<(u64, u64)> = BTreeSet::new();
    let mut used_pids: BTreeSet<u64> = BTreeSet::new();
    let mut flow_out: BTreeMap<String, usize> = BTreeMap::new();
    let mut flow_in: BTreeMap<String, usize> = BTreeMap::new();
    // Per thread: the ends of the slices open, innermost last.
    let mut stacks: BTreeMap<(u64, u64), Vec<f64>> = BTreeMap::new();
    let mut slices = 0;
    for e in events {
        let ph = e["ph"].as_str().expect("ph");
        let pid = e["pid"].as_u64().expect("pid");
        let tid = e["tid"].as_u64().expect("tid");
        if ph == "M" {
            match e["name"].as_str() {
                Some("thread_name") => assert!(threads.insert((pid, tid)), "{e}"),
                Some("process_name") => assert!(processes.insert(pid), "{e}"),
                _ => panic!("unknown metadata {e}"),
            }
            continue;
        }
        used_pids.insert(pid);
        let t = ts(e);
        let track = match ph {
            "b" | "e" => format!("{pid}/{}/{}", e["cat"], e["id"]),
            "C" => format!("{pid}/counter/{}", e["name"]),
            _ => format!("{pid}/{tid}"),
        };
        let prev = last.insert(track.clone(), t).unwrap_or(f64::MIN);
        assert!(t >= prev, "time goes back on {track}: {prev} then {e}");
        if let Some(id) = e["bind_id"].as_str() {
            if e["flow_out"] == Value::Bool(true) {
                *flow_out.entry(id.to_owned()).or_default() += 1;
            }
            if e["flow_in"] == Value::Bool(true) {
                *flow_in.entry(id.to_owned()).or_default() += 1;
            }
        }
        let key = (
            pid,
            e["cat"].as_str().unwrap_or("").to_owned(),
            e["id"].as_str().unwrap_or("").to_owned(),
        );
        match ph {
            "b" => {
                assert!(!key.2.is_empty(), "async without id {e}");
                assert!(begins.insert(key, (t, 0)).is_none(), "id begins twice: {e}");
                slices += 1;
            }
            "e" => {
                let b = begins
                    .get_mut(&key)
                    .unwrap_or_else(|| panic!("end without begin {e}"));
                assert_eq!(b.1, 0, "ended twice: {e}");
                assert!(t >= b.0, "ends before it begins: {e}");
                b.1 = 1;
            }
            "X" => {
                used_threads.insert((pid, tid));
                let dur = e["dur"].as_f64().expect("dur");
                assert!(dur >= 0.0, "{e}");
                let stack = stacks.entry((pid, tid)).or_default();
                while stack.last().is_some_and(|&end| end <= t) {
                    stack.pop();
                }
                if let Some(&end) = stack.last() {
                    assert!(
                        t + dur <= end + 1e-6,
                        "slice overlaps its parent's end: {e}"
                    );
                }
                stack.push(t + dur);
                slices += 1;
            }
            "C" => assert!(e["args"]["value"].is_number(), "{e}"),
            other => panic!("unexpected phase {other}: {e}"),
        }
    }
    for (k, (_, ended)) in &begins {
        assert_eq!(*ended, 1, "async slice {k:?} never ends");
    }
    assert_eq!(
        flow_out.keys().collect::<Vec<_>>(),
        flow_in.keys().collect::<Vec<_>>()
    );
    assert!(
        flow_out.values().chain(flow_in.values()).all(|&n| n == 1),
        "a flow id bound twice"
    );
    assert!(used_threads.is_subset(&threads), "a thread without a name");
    assert!(used_pids.is_subset(&processes), "a process without a name");
    assert!(!flow_out.is_empty(), "no flows at all");
    slices
}

/// Every span id of the OTLP file is unique and every parent is in it.
fn assert_otlp_ids(path: &Path) -> usize {
    let text = std::fs::read_to_string(path).unwrap();
    let mut ids = BTreeSet::new();
    let mut parents = Vec::new();
    for line in text.lines() {
        let doc: Value = serde_json::from_str(line).expect("one JSON document a line");
        for rs in doc["resourceSpans"].as_array().unwrap() {
            for ss in rs["scopeSpans"].as_array().unwrap() {
                for s in ss["spans"].as_array().unwrap() {
                    let id = (
                        s["traceId"].as_str().unwrap().to_owned(),
                        s["spanId"].as_str().unwrap().to_owned(),
                    );
                    assert_eq!(id.0.len(), 32);
                    assert_eq!(id.1.len(), 16);
                    if let Some(p) = s["parentSpanId"].as_str() {
                        parents.push((id.0.clone(), p.to_owned()));
                    }
                    let start: u64 = s["startTimeUnixNano"].as_str().unwrap().parse().unwrap();
                    let end: u64 = s["endTimeUnixNano"].as_str().unwrap().parse().unwrap();
                    assert!(end >= start, "{s}");
                    assert!(ids.insert(id), "span id twice: {s}");
                }
            }
        }
    }
    for p in parents {
        assert!(ids.contains(&p), "parent {p:?} not in the file");
    }
    ids.len()
}

#[test]
fn a_traced_checkout_run_is_well_formed_deterministic_and_changes_nothing_else() {
    let dir = temp_dir("trace-checkout");
    let scenario = repo_root().join("scenarios/checkout.toml");
    let sc = scenario.to_str().unwrap();
    let d = |n: &str| dir.join(n).to_str().unwrap().to_owned();
    let common = ["run", sc, "--duration", "45s", "-q"];
    run_ok(&[&common[..], &["--out", &d("plain")]].concat());
    for k in ["a", "b"] {
        run_ok(
            &[
                &common[..],
                &[
                    "--out",
                    &d(&format!("out-{k}")),
                    "--trace",
                    &d(&format!("trace-{k}")),
                    "--trace-sample",
                    "0.05",
                ],
            ]
            .concat(),
        );
    }
    for f in ["summary.json", "timeseries.csv"] {
        let plain = std::fs::read(dir.join("plain").join(f)).unwrap();
        assert_eq!(
            plain,
            std::fs::read(dir.join("out-a").join(f)).unwrap(),
            "{f} changed by --trace"
        );
    }
    for f in ["trace.perfetto.json", "trace.otlp.json"] {
        assert_eq!(
            std::fs::read(dir.join("trace-a").join(f)).unwrap(),
            std::fs::read(dir.join("trace-b").join(f)).unwrap(),
            "{f} differs between two runs of one seed"
        );
    }
    // The fault (inventory 40× slower from 30 s) gives timeouts, retries
    // and rejections: the structure holds through them.
    let slices = assert_perfetto_well_formed(&dir.join("trace-a/trace.perfetto.json"));
    assert!(slices > 1000, "{slices} slices");
    let spans = assert_otlp_ids(&dir.join("trace-a/trace.otlp.json"));
    assert!(spans > 1000, "{spans} spans");
    let otlp = std::fs::read_to_string(dir.join("trace-a/trace.otlp.json")).unwrap();
    assert!(otlp.contains("\"code\":2"), "no span with an error status");
}

const STATIONARY: &str = r#"
name = "trace-round-trip"
duration = "60s"
drain = "5s"
[network]
latency = "0.5ms"
[workload.web]
target = "front"
rate = 100
[services.front]
threads = 64
steps = [
  { work = { dist = "exponential", mean = "2ms" } },
  { call = "auth" },
  { call = "catalog", p = 0.4 },
  { wait = "3ms" },
  { publish = "orders" },
]
[queues.orders]
consumer = "worker"
[services.worker]
threads = 16
steps = [{ work = { dist = "exponential", mean = "2ms" } }]
[services.auth]
threads = 32
steps = [{ work = { dist = "exponential", mean = "1ms" } }, { call = "db" }]
[services.catalog]
threads = 32
steps = [{ work = { dist = "exponential", mean = "4ms" } }]
[services.db]
threads = 32
steps = [{ work = { dist = "exponential", mean = "3ms" } }]
"#;

fn work_mean(m: &Model, service: &str) -> f64 {
    let s = m.service_id(service).expect("service");
    let op = m.services[s].ops[0];
    match m.op_steps(op).first() {
        Some(Step::Work(d)) => m.dists[*d as usize].mean().expect("a mean"),
        other => panic!("{service}: first step {other:?}"),
    }
}

#[test]
fn the_otlp_file_imports_back_to_the_same_system_within_sampling_error() {
    let dir = temp_dir("trace-round-trip");
    let scenario = dir.join("system.toml");
    std::fs::write(&scenario, STATIONARY).unwrap();
    let sample = 0.25;
    let traces = dir.join("traces");
    let said = run_ok(&[
        "run",
        scenario.to_str().unwrap(),
        "--trace",
        traces.to_str().unwrap(),
        "--trace-sample",
        &sample.to_string(),
        "--trace-max",
        "100000",
    ]);
    assert!(said.contains("requests traced"), "{said}");
    let imported = dir.join("imported.toml");
    run_ok(&[
        "import",
        "traces",
        traces.join("trace.otlp.json").to_str().unwrap(),
        "--out",
        imported.to_str().unwrap(),
    ]);
    let text = std::fs::read_to_string(&imported).unwrap();
    let m = sim_core::load("imported.toml", &text, &[])
        .unwrap_or_else(|e| panic!("{e}"))
        .model;
    // The call graph, exactly.
    let services: BTreeSet<&str> = m.services.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        services,
        BTreeSet::from(["front", "auth", "catalog", "db", "worker"])
    );
    // The queue, from the PRODUCER span and the CONSUMER span under it.
    assert_eq!(m.queues.len(), 1);
    assert_eq!(m.queues[0].name, "orders");
    assert_eq!(m.services[m.queues[0].service.index()].name, "worker");
    let edges: BTreeSet<String> = m
        .edges
        .iter()
        .map(|e| format!("{}->{}", m.services[e.from].name, m.services[e.to].name))
        .collect();
    let want: BTreeSet<String> = ["front->auth", "front->catalog", "auth->db"]
        .map(String::from)
        .into();
    assert_eq!(edges, want);
    // The rate: the traced roots over the window, scaled back by the
    // sample; a Poisson count's 4σ.
    let n = 100.0 * 60.0 * sample;
    let rate = m.sources[0].rate / sample;
    let tol = 4.0 * 100.0 / n.sqrt();
    assert!((rate - 100.0).abs() < tol, "rate {rate}, want 100 ± {tol}");
    // The catalog call's probability: 4σ of a proportion.
    let front = m.services[(m.service_id("front").unwrap()).index()].ops[0];
    let p = m
        .op_steps(front)
        .iter()
        .find_map(|s| match s {
            Step::Branch(b) => Some(m.branches[*b as usize].cumulative[0]),
            _ => None,
        })
        .expect("the optional call is a branch");
    let sigma = (0.4 * 0.6 / n).sqrt();
    assert!(
        (p - 0.4).abs() < 4.0 * sigma,
        "catalog p {p}, want 0.4 ± {}",
        4.0 * sigma
    );
    // Mean work (self-time: work, and front's wait and publish ack, the
    // network's 0.5 ms; a consumer's handling starts when its worker is
    // taken, so it holds the broker's 0.5 ms delivery hop too): 4σ of the
    // mean of exponentials over the invocations (the constant parts add
    // no variance).
    for (name, mean_ms, sd_ms, visits) in [
        ("front", 5.5, 2.0, 1.0),
        ("worker", 2.5, 2.0, 1.0),
        ("auth", 1.0, 1.0, 1.0),
        ("db", 3.0, 3.0, 1.0),
        ("catalog", 4.0, 4.0, 0.4),
    ] {
        let got = work_mean(&m, name) / 1e6;
        let tol = 4.0 * sd_ms / (n * visits).sqrt();
        assert!(
            (got - mean_ms).abs() < tol,
            "{name}: {got} ms, want {mean_ms} ± {tol}"
        );
    }
    // The network: half of client − server, the scenario's 0.5 ms a hop.
    let e = m
        .edges
        .iter()
        .find(|e| e.name == "front->auth")
        .expect("edge");
    let lat = m.dists[e.latency as usize].mean().unwrap() / 1e6;
    assert!((lat - 0.5).abs() < 0.01, "network {lat} ms");
}

#[test]
fn a_share_outside_zero_to_one_or_flags_without_trace_exit_2() {
    let dir = temp_dir("trace-bad");
    let scenario = repo_root().join("scenarios/checkout.toml");
    let sc = scenario.to_str().unwrap();
    let t = dir.join("t");
    let t = t.to_str().unwrap();
    for bad in ["2", "-1", "0", "abc", "NaN"] {
        let out = cascade(&["run", sc, "--trace", t, "--trace-sample", bad]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{bad}: {err}");
        assert!(err.contains("--trace-sample"), "{bad}: {err}");
        assert!(err.contains("above 0 and at most 1"), "{bad}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
    let out = cascade(&["run", sc, "--trace-sample", "0.5"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--trace"));
    let out = cascade(&["run", sc, "--trace", t, "--trace-max", "0"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        !dir.join("t").exists(),
        "nothing written on a bad command line"
    );
}
