//! Visits per request per service and call probabilities on edges: the
//! summary reports measured visits (arrivals ÷ entry requests) when the
//! model branches, each branched edge carries the model's probability, and
//! a model without branches reports neither (its summary is unchanged).

use crate::common::run_toml;

const SCENARIO: &str = r#"
name = "visits"
duration = "10s"
[network]
latency = "0.1ms"
[workload.reads]
target = "api"
rate = 2000
[services.api]
threads = 64
steps = [
  { branch = [
      { p = 0.8, steps = [{ call = "cache" }] },
      { p = 0.2, steps = [{ call = "db" }] },
  ] },
  { call = "audit", p = 0.3 },
  { call = "auth" },
]
[services.cache]
threads = 16
steps = [{ work = "0.2ms" }]
[services.db]
threads = 16
steps = [{ work = "0.5ms" }]
[services.audit]
threads = 16
steps = [{ work = "0.2ms" }]
[services.auth]
threads = 16
steps = [{ work = "0.2ms" }]
"#;

#[test]
fn a_branch_gives_visits_per_request_within_sampling_error() {
    let s = run_toml(SCENARIO, 3).summary;
    let n = s.entries["reads"].requests;
    assert!(n > 15_000, "{n} requests");
    // Each request takes the 0.8 arm independently: the share is binomial,
    // sd = sqrt(p(1-p)/n) (≈ 0.003 at 20,000 requests); 4 sd either side.
    for (svc, p) in [
        ("cache", 0.8),
        ("db", 0.2),
        ("audit", 0.3),
        ("api", 1.0),
        ("auth", 1.0),
    ] {
        let v = s.services[svc]
            .visits_per_request
            .expect("reported when the model branches");
        let sd = (p * (1.0 - p) / n as f64).sqrt();
        println!("{svc}: {v:.4} visits per request, expected {p} ± {sd:.4}");
        assert!((v - p).abs() <= 4.0 * sd + 1e-3, "{svc}: {v} against {p}");
    }
    // The model's probabilities on the edges, exactly.
    let p = |e: &str| s.edges[e].call_probability;
    assert_eq!(p("api->cache"), Some(0.8));
    assert!((p("api->db").unwrap() - 0.2).abs() < 1e-12);
    assert!((p("api->audit").unwrap() - 0.3).abs() < 1e-12);
    assert_eq!(p("api->auth"), None, "every request calls auth");
}

#[test]
fn a_model_without_branches_reports_neither() {
    let text = SCENARIO
        .replace("{ call = \"audit\", p = 0.3 },", "")
        .replace(
            r#"{ branch = [
      { p = 0.8, steps = [{ call = "cache" }] },
      { p = 0.2, steps = [{ call = "db" }] },
  ] },"#,
            r#"{ call = "cache" },"#,
        );
    let s = run_toml(&text, 3).summary;
    assert!(s.services.values().all(|v| v.visits_per_request.is_none()));
    assert!(s.edges.values().all(|e| e.call_probability.is_none()));
    let json = serde_json::to_string(&s).unwrap();
    assert!(!json.contains("visits_per_request") && !json.contains("call_probability"));
}
