//! `cascade import mesh` with Envoy retry budgets: Istio's
//! `trafficPolicy.retryBudget` and an Envoy cluster's
//! `circuit_breakers.thresholds[].retry_budget` land on the retries of the
//! matching calls as `retry.in_flight_budget` (Envoy's own limit), said in
//! the scenario and `import-report.md`; a host no call targets
//! and calls with no retry are listed; a malformed budget is an error
//! naming the file and the key.

use std::path::{Path, PathBuf};

use sim_core::model::Model;
use sim_core::patterns::budget::BudgetConfig;
use sim_core::patterns::in_flight_budget::InFlightBudgetConfig;

use crate::common::{cascade, repo_root, temp_dir};

fn fixture(name: &str) -> PathBuf {
    repo_root().join("tests/fixtures/mesh").join(name)
}

/// `import mesh FILES --into` a copy of checkout.toml: the exit code, the
/// terminal's text, and the scenario's directory.
fn mesh(test: &str, files: &[&str]) -> (Option<i32>, String, String, PathBuf) {
    let dir = temp_dir(test);
    let scenario = dir.join("checkout.toml");
    std::fs::copy(repo_root().join("scenarios/checkout.toml"), &scenario).unwrap();
    let paths: Vec<String> = files
        .iter()
        .map(|f| fixture(f).display().to_string())
        .collect();
    let mut args = vec!["import", "mesh"];
    args.extend(paths.iter().map(String::as_str));
    args.extend(["--into", scenario.to_str().unwrap()]);
    let out = cascade(&args);
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        dir,
    )
}

fn model(dir: &Path) -> (Model, String) {
    let text = std::fs::read_to_string(dir.join("checkout.toml")).unwrap();
    let m = sim_core::load("checkout.toml", &text, &[])
        .unwrap_or_else(|e| panic!("{e}"))
        .model;
    (m, text)
}

/// The retry of the call into `to`, if it has one.
fn retry_into(m: &Model, to: &str) -> Option<sim_core::patterns::RetryConfig> {
    let call = m
        .calls
        .iter()
        .find(|c| c.edge.is_some_and(|e| m.services[m.edges[e].to].name == to))
        .expect("a call");
    // A call with no pattern has no policy (an index past the list).
    m.policies.get(call.policy as usize).and_then(|p| p.retry)
}

/// The in-flight budget of the call into `to`, if its retry has one.
fn budget_into(m: &Model, to: &str) -> Option<InFlightBudgetConfig> {
    retry_into(m, to).and_then(|r| r.in_flight_budget)
}

/// The Finagle-style budget of the call into `to`, if its retry has one.
fn token_budget_into(m: &Model, to: &str) -> Option<BudgetConfig> {
    retry_into(m, to).and_then(|r| r.budget)
}

#[test]
fn an_istio_retry_budget_lands_on_the_retries_into_its_host_and_says_how_it_differs() {
    let (code, stdout, stderr, dir) = mesh("mesh-budget-istio", &["istio-budget.yaml"]);
    assert_eq!(code, Some(0), "{stderr}");
    let (m, text) = model(&dir);
    // Envoy's limit as it is: 20 % of the requests in flight, at least 3.
    let b = budget_into(&m, "inventory").expect("a budget on cart → inventory");
    assert_eq!(
        b,
        InFlightBudgetConfig {
            percent: 20.0,
            min_in_flight: 3
        }
    );
    assert_eq!(token_budget_into(&m, "inventory"), None, "no token budget");
    assert!(
        text.contains("in_flight_budget = { percent = 20, min_in_flight = 3 }"),
        "{text}"
    );
    // The VirtualService's retries came first and were kept.
    let call_retry = |to: &str| {
        let call = m
            .calls
            .iter()
            .find(|c| c.edge.is_some_and(|e| m.services[m.edges[e].to].name == to))
            .unwrap();
        m.policies[call.policy as usize]
            .retry
            .as_ref()
            .map(|r| r.max_attempts)
    };
    assert_eq!(call_retry("inventory"), Some(4));
    // The difference, in the scenario's comment and the report.
    let report = std::fs::read_to_string(dir.join("import-report.md")).unwrap();
    for (what, body) in [
        ("scenario", &text),
        ("report", &report),
        ("stdout", &stdout),
    ] {
        for needle in [
            "Envoy allows retries in flight ≤ max(3, 20 % of requests in flight)",
            "retry.in_flight_budget = { percent = 20, min_in_flight = 3 }",
            "the same limit",
        ] {
            assert!(body.contains(needle), "{what}: no {needle:?} in {body}");
        }
    }
    assert!(
        text.starts_with("#:schema ../cascade.schema.json\n# import mesh: Envoy retry budgets"),
        "{text}"
    );
    // The host nothing calls, and calls without retries: listed.
    for listed in [
        "DestinationRule ghost: no call into `ghost`",
        "DestinationRule payment: 1 call(s) into `payment` have no retry",
    ] {
        assert!(stdout.contains(listed), "no {listed:?} in {stdout}");
        assert!(report.contains(listed), "no {listed:?} in {report}");
    }
    assert_eq!(budget_into(&m, "payment"), None);
    // A second import replaces the comment block and the report's section.
    let again = cascade(&[
        "import",
        "mesh",
        fixture("istio-budget.yaml").to_str().unwrap(),
        "--into",
        dir.join("checkout.toml").to_str().unwrap(),
    ]);
    assert_eq!(again.status.code(), Some(0));
    let (_, text2) = model(&dir);
    assert_eq!(
        text2.matches("# import mesh: Envoy retry budgets").count(),
        1
    );
    let report2 = std::fs::read_to_string(dir.join("import-report.md")).unwrap();
    assert_eq!(report2.matches("## import mesh").count(), 1, "{report2}");
}

#[test]
fn an_envoy_clusters_retry_budget_lands_on_its_service_and_the_rest_is_listed() {
    let (code, stdout, stderr, dir) = mesh(
        "mesh-budget-envoy",
        &["pricing-retries.yaml", "envoy-bootstrap.yaml"],
    );
    assert_eq!(code, Some(0), "{stderr}");
    let (m, _) = model(&dir);
    // 50 %, at least 2 in flight; the 5 s budget_interval is said not
    // modelled (the cap counts the requests in flight).
    let b = budget_into(&m, "pricing").expect("a budget on cart → pricing");
    assert_eq!(
        b,
        InFlightBudgetConfig {
            percent: 50.0,
            min_in_flight: 2
        }
    );
    assert!(
        stdout.contains("not applied: ")
            && stdout.contains("budget_interval 5s: Envoy then takes the percentage"),
        "{stdout}"
    );
    for listed in [
        "`connect_timeout` is not understood",
        "`max_retries` is not understood",
        "a retry budget for priority HIGH is not modelled",
    ] {
        assert!(stdout.contains(listed), "no {listed:?} in {stdout}");
    }
}

#[test]
fn a_malformed_budget_names_the_file_and_the_key_and_changes_nothing() {
    for (file, key) in [
        ("bad-budget.yaml", "`trafficPolicy.retryBudget.percent`"),
        (
            "bad-envoy-budget.yaml",
            "`circuit_breakers.thresholds[0].retry_budget.budget_percent`",
        ),
    ] {
        let (code, _, stderr, dir) = mesh("mesh-budget-bad", &[file]);
        assert_eq!(code, Some(2), "{file}: {stderr}");
        assert!(
            stderr.contains(file) && stderr.contains(key) && !stderr.contains("panicked"),
            "{file}: {stderr}"
        );
        let untouched = std::fs::read_to_string(dir.join("checkout.toml")).unwrap();
        assert_eq!(
            untouched,
            std::fs::read_to_string(repo_root().join("scenarios/checkout.toml")).unwrap()
        );
        assert!(!dir.join("import-report.md").exists());
    }
}
