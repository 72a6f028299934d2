//! `cascade import traces`: a round trip from a known system through OTLP
//! spans back to a scenario, the hand-built fixtures of each format
//! (partial traces, clock skew), and malformed files.

use std::collections::BTreeSet;
use std::fmt::Write;
use std::path::{Path, PathBuf};

use serde_json::json;
use sim_core::model::{Model, Step};

use crate::common::{cascade, repo_root, temp_dir};

/// xorshift64*: the generator's own random numbers, fixed by its seed.
struct Rand(u64);

impl Rand {
    fn unit(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64
    }
    fn exp(&mut self, mean_ns: f64) -> u64 {
        (-(1.0 - self.unit()).ln() * mean_ns) as u64
    }
}

const MS: f64 = 1e6;
/// The known system: rates, work means and call probabilities.
const RATE: f64 = 40.0;
const SECONDS: f64 = 30.0;
const CART_P: f64 = 0.3;
const WORK_MS: &[(&str, f64)] = &[
    ("frontend", 2.0),
    ("auth", 1.0),
    ("postgresql", 3.0),
    ("catalog", 5.0),
    ("pricing", 3.0),
    ("cart", 4.0),
    ("worker", 10.0),
];

fn work(name: &str) -> f64 {
    WORK_MS.iter().find(|w| w.0 == name).expect("known").1 * MS
}

struct Writer {
    lines: String,
    next_id: u64,
}

impl Writer {
    /// One span as an OTLP document of its own (one JSON document a line,
    /// as the collector's file exporter writes them).
    #[allow(clippy::too_many_arguments)]
    fn span(
        &mut self,
        trace: u64,
        parent: Option<u64>,
        service: &str,
        name: &str,
        kind: u8,
        start: u64,
        end: u64,
        attrs: &[(&str, &str)],
    ) -> u64 {
        self.next_id += 1;
        let id = self.next_id;
        let attributes: Vec<_> = attrs
            .iter()
            .map(|(k, v)| json!({"key": k, "value": {"stringValue": v}}))
            .collect();
        let doc = json!({"resourceSpans": [{
            "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": service}}]},
            "scopeSpans": [{"scope": {"name": "gen"}, "spans": [{
                "traceId": format!("{trace:032x}"),
                "spanId": format!("{id:016x}"),
                "parentSpanId": parent.map_or(String::new(), |p| format!("{p:016x}")),
                "name": name,
                "kind": kind,
                "startTimeUnixNano": start.to_string(),
                "endTimeUnixNano": end.to_string(),
                "attributes": attributes,
                "status": {}
            }]}]
        }]});
        let _ = writeln!(self.lines, "{doc}");
        id
    }
}

const SERVER: u8 = 2;
const CLIENT: u8 = 3;
const PRODUCER: u8 = 4;
const CONSUMER: u8 = 5;

/// A synchronous call at `at`: client and server spans, the server's
/// own work; returns when the client span ends.
fn call(
    w: &mut Writer,
    r: &mut Rand,
    trace: u64,
    parent: u64,
    from: &str,
    to: &str,
    at: u64,
) -> u64 {
    let hop = || 0.5 * MS;
    let (out, back) = (hop() + r.unit() * 0.2 * MS, hop() + r.unit() * 0.2 * MS);
    let name = format!("GET /{to}");
    let mut dur = r.exp(work(to));
    let server_start = at + out as u64;
    // auth calls its database (uninstrumented: only the client span).
    let mut db = None;
    if to == "auth" {
        let d = r.exp(work("postgresql"));
        db = Some((server_start + dur, d));
        dur += d;
    }
    let end = server_start + dur + back as u64;
    let client = w.span(trace, Some(parent), from, &name, CLIENT, at, end, &[]);
    let server = w.span(
        trace,
        Some(client),
        to,
        &name,
        SERVER,
        server_start,
        server_start + dur,
        &[],
    );
    if let Some((s, d)) = db {
        w.span(
            trace,
            Some(server),
            to,
            "SELECT users",
            CLIENT,
            s,
            s + d,
            &[("db.system", "postgresql")],
        );
    }
    end
}

/// OTLP lines for `RATE` requests per second over `SECONDS` of the known
/// system.
fn generate() -> (String, u64) {
    let mut r = Rand(0x9e37_79b9_7f4a_7c15);
    let mut w = Writer {
        lines: String::new(),
        next_id: 0,
    };
    let mut t = 1_700_000_000_000_000_000u64;
    let end = t + (SECONDS * 1e9) as u64;
    let mut requests = 0;
    loop {
        t += r.exp(1e9 / RATE);
        if t >= end {
            break;
        }
        requests += 1;
        let trace = requests;
        // The frontend's work first, then its calls; its span is written
        // last, when its end is known, under an id taken now.
        w.next_id += 1;
        let root = w.next_id;
        let mut at = t + r.exp(work("frontend"));
        at = call(&mut w, &mut r, trace, root, "frontend", "auth", at);
        let a = call(&mut w, &mut r, trace, root, "frontend", "catalog", at);
        let b = call(&mut w, &mut r, trace, root, "frontend", "pricing", at);
        at = a.max(b);
        if r.unit() < CART_P {
            at = call(&mut w, &mut r, trace, root, "frontend", "cart", at);
        }
        let dest = [("messaging.destination.name", "orders")];
        let producer = w.span(
            trace,
            Some(root),
            "frontend",
            "orders publish",
            PRODUCER,
            at,
            at,
            &dest,
        );
        let c = at + (MS as u64);
        let d = r.exp(work("worker"));
        w.span(
            trace,
            Some(producer),
            "worker",
            "orders process",
            CONSUMER,
            c,
            c + d,
            &dest,
        );
        // The root, under the id taken before its children.
        let saved = w.next_id;
        w.next_id = root - 1;
        w.span(trace, None, "frontend", "GET /checkout", SERVER, t, at, &[]);
        w.next_id = saved;
    }
    (w.lines, requests)
}

fn import(files: &[&Path], dir: &Path) -> (Model, String) {
    let out = dir.join("scenario.toml");
    let mut args = vec!["import", "traces"];
    let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    args.extend(names.iter().map(String::as_str));
    args.extend(["--out", out.to_str().unwrap()]);
    let run = cascade(&args);
    assert_eq!(
        run.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let validate = cascade(&["validate", out.to_str().unwrap()]);
    assert_eq!(
        validate.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&validate.stderr)
    );
    let text = std::fs::read_to_string(&out).unwrap();
    let model = sim_core::load("scenario.toml", &text, &[])
        .unwrap_or_else(|e| panic!("{e}"))
        .model;
    let report = std::fs::read_to_string(dir.join("import-report.md")).unwrap();
    (model, report)
}

fn edges(m: &Model) -> BTreeSet<String> {
    m.edges
        .iter()
        .map(|e| format!("{}->{}", m.services[e.from].name, m.services[e.to].name))
        .collect()
}

/// The mean of the first work step of `service`, ns.
fn work_mean(m: &Model, service: &str) -> f64 {
    let s = m.service_id(service).expect("service");
    let op = m.services[s].ops[0];
    match m.op_steps(op).first() {
        Some(Step::Work(d)) => m.dists[*d as usize].mean().expect("empirical mean"),
        other => panic!("{service}: first step {other:?}"),
    }
}

#[test]
fn an_otlp_round_trip_keeps_the_call_graph_rates_work_and_probabilities() {
    let dir = temp_dir("import-round-trip");
    let (lines, requests) = generate();
    let file = dir.join("spans.jsonl");
    std::fs::write(&file, lines).unwrap();
    let (m, report) = import(&[&file], &dir);
    // The call graph, exactly.
    let want: BTreeSet<String> = [
        "frontend->auth",
        "frontend->catalog",
        "frontend->pricing",
        "frontend->cart",
        "auth->postgresql",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    assert_eq!(edges(&m), want);
    assert_eq!(m.queues.len(), 1);
    assert_eq!(m.queues[0].name, "orders");
    assert_eq!(m.services[m.queues[0].service.index()].name, "worker");
    // The frontend's steps: work, auth, catalog ∥ pricing, cart with a
    // probability, publish.
    let fe = m.services[(m.service_id("frontend").unwrap()).index()].ops[0];
    let steps = m.op_steps(fe);
    assert!(matches!(steps[0], Step::Work(_)), "{steps:?}");
    assert!(matches!(steps[1], Step::Call(_)), "{steps:?}");
    assert!(
        matches!(steps[2], Step::Parallel { count: 2, .. }),
        "{steps:?}"
    );
    let Step::Branch(b) = steps[3] else {
        panic!("{steps:?}")
    };
    let p = m.branches[b as usize].cumulative[0];
    // 4σ of a proportion over the requests.
    let sigma = (CART_P * (1.0 - CART_P) / requests as f64).sqrt();
    assert!((p - CART_P).abs() < 4.0 * sigma, "cart p {p}");
    assert!(
        steps.iter().any(|s| matches!(s, Step::Publish(_))),
        "{steps:?}"
    );
    // The entry rate: requests over the observed window, within 4σ of a
    // Poisson count (the window runs past the last arrival by one
    // request's time, well under σ).
    assert_eq!(m.sources.len(), 1);
    let rate = m.sources[0].rate;
    let sigma = (RATE * SECONDS).sqrt() / SECONDS;
    assert!((rate - RATE).abs() < 4.0 * sigma, "rate {rate}");
    // Work: each service's mean self-time within 4σ of an exponential's
    // mean over its invocations.
    for (name, mean_ms) in WORK_MS {
        let got = work_mean(&m, name) / MS;
        let n = if *name == "cart" {
            requests as f64 * CART_P
        } else {
            requests as f64
        };
        let tolerance = 4.0 * mean_ms / n.sqrt();
        assert!(
            (got - mean_ms).abs() < tolerance,
            "{name}: {got} ms, want {mean_ms} ± {tolerance}"
        );
    }
    // Network: one way 0.5 ms + U(0, 0.2 ms), both hops of each pair.
    let e = m
        .edges
        .iter()
        .find(|e| m.services[e.to].name == "catalog")
        .unwrap();
    let lat = m.dists[e.latency as usize].mean().unwrap() / MS;
    assert!((lat - 0.6).abs() < 0.01, "latency {lat}");
    assert!(
        report.contains(&format!(
            "traces: {requests} ({requests} complete, 0 partial"
        )),
        "{report}"
    );
}

fn fixture(name: &str) -> PathBuf {
    repo_root().join("tests/fixtures/traces").join(name)
}

#[test]
fn each_format_imports_with_partial_traces_and_skew_reported() {
    for (file, edge) in [
        ("zipkin.json", "web->profile"),
        ("jaeger.json", "api->stock"),
        ("otlp.jsonl", "shop->payments"),
    ] {
        let dir = temp_dir(&format!("import-{file}"));
        let (m, report) = import(&[&fixture(file)], &dir);
        assert!(edges(&m).contains(edge), "{file}: {:?}", edges(&m));
        assert!(report.contains("1 partial"), "{file}: {report}");
        assert!(
            report.contains("clock skew between the hosts): reported, not used"),
            "{file}: {report}"
        );
    }
}

#[test]
fn malformed_files_name_the_file_and_the_span() {
    for (file, needles) in [
        ("bad-syntax.json", &["bad-syntax.json", "line 3"][..]),
        (
            "bad-span-id.json",
            &["bad-span-id.json", "span zz-not-hex", "span id"][..],
        ),
        (
            "bad-times.json",
            &["bad-times.json", "span 00000000000000b2", "ends"][..],
        ),
    ] {
        let out = cascade(&[
            "import",
            "traces",
            fixture(file).to_str().unwrap(),
            "--format",
            "otlp",
        ]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{file}: {err}");
        for n in needles {
            assert!(err.contains(n), "{file}: no {n:?} in {err}");
        }
        assert!(!err.contains("panicked"), "{err}");
    }
}

const ISTIO: &str = "\
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata:
  name: inventory
spec:
  hosts:
  - inventory.shop.svc.cluster.local
  http:
  - timeout: 2s
    retries:
      attempts: 3
      perTryTimeout: 500ms
      retryOn: 5xx,connect-failure,retriable-4xx
    route:
    - destination:
        host: inventory.shop.svc.cluster.local
    fault:
      delay: {fixedDelay: 5s}
---
apiVersion: networking.istio.io/v1beta1
kind: DestinationRule
metadata:
  name: payment
spec:
  host: payment
  trafficPolicy:
    connectionPool:
      tcp: {maxConnections: 20}
      http: {http1MaxPendingRequests: 10}
    outlierDetection: {consecutive5xxErrors: 5}
---
kind: Gateway
metadata: {name: gw}
";

#[test]
fn istio_timeouts_retries_and_pools_land_on_the_matching_calls_and_the_rest_is_listed() {
    let dir = temp_dir("import-mesh");
    let scenario = dir.join("checkout.toml");
    std::fs::copy(repo_root().join("scenarios/checkout.toml"), &scenario).unwrap();
    let yaml = dir.join("istio.yaml");
    std::fs::write(&yaml, ISTIO).unwrap();
    let out = cascade(&[
        "import",
        "mesh",
        yaml.to_str().unwrap(),
        "--into",
        scenario.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for listed in [
        "`fault` is not understood",
        "retryOn `retriable-4xx` is not modelled",
        "outlierDetection (ejecting failing replicas) is not modelled yet",
        "http1MaxPendingRequests is not modelled",
        "kind `Gateway` is not understood",
        "had timeout = \"1s\": replaced",
    ] {
        assert!(stdout.contains(listed), "no {listed:?} in {stdout}");
    }
    let text = std::fs::read_to_string(&scenario).unwrap();
    // Comments survive.
    assert!(text.contains("# requests per second, Poisson"), "{text}");
    let m = sim_core::load("checkout.toml", &text, &[])
        .unwrap_or_else(|e| panic!("{e}"))
        .model;
    let into = |to: &str| {
        m.calls
            .iter()
            .find(|c| c.edge.is_some_and(|e| m.services[m.edges[e].to].name == to))
            .copied()
            .expect("a call")
    };
    let inv = into("inventory");
    assert_eq!(inv.timeout, Some(500_000_000));
    let policy = &m.policies[inv.policy as usize];
    assert_eq!(policy.retry.as_ref().map(|r| r.max_attempts), Some(4));
    assert_eq!(policy.deadline, Some(2_000_000_000));
    let pay = &m.policies[into("payment").policy as usize];
    assert_eq!(pay.bulkhead.map(|b| b.max_concurrent_calls), Some(20));
}

#[test]
fn bad_yaml_names_the_file_and_the_line() {
    let dir = temp_dir("import-mesh-bad");
    let scenario = dir.join("checkout.toml");
    std::fs::copy(repo_root().join("scenarios/checkout.toml"), &scenario).unwrap();
    let yaml = dir.join("bad.yaml");
    std::fs::write(&yaml, "kind: VirtualService\nspec:\n  hosts: [a\n").unwrap();
    let out = cascade(&[
        "import",
        "mesh",
        yaml.to_str().unwrap(),
        "--into",
        scenario.to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("bad.yaml: line") && !err.contains("panicked"),
        "{err}"
    );
    let untouched = std::fs::read_to_string(&scenario).unwrap();
    assert_eq!(
        untouched,
        std::fs::read_to_string(repo_root().join("scenarios/checkout.toml")).unwrap()
    );
}

#[test]
fn traces_with_no_root_span_still_give_a_valid_scenario() {
    let dir = temp_dir("import-no-root");
    let lines = std::fs::read_to_string(fixture("otlp.jsonl")).unwrap();
    let file = dir.join("partial.jsonl");
    std::fs::write(&file, lines.lines().last().unwrap()).unwrap();
    let (m, report) = import(&[&file], &dir);
    assert_eq!(m.sources.len(), 1);
    assert!(report.contains("no trace has a root span"), "{report}");
}
