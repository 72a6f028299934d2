//! `cascade import traces` follows span links: a consumer's trace linked
//! to its producer's span (OTLP `links`, a Jaeger FOLLOWS_FROM reference
//! into another trace) gives the producer → consumer queue, as a
//! hand-off inside one trace does; links to spans not in the input are
//! counted as dangling in `import-report.md`.

use std::path::{Path, PathBuf};

use sim_core::model::{Model, Step};

use crate::common::{cascade, repo_root, temp_dir};

fn fixture(name: &str) -> PathBuf {
    repo_root().join("tests/fixtures/traces").join(name)
}

fn import(file: &Path, dir: &Path) -> (Model, String) {
    let out = dir.join("scenario.toml");
    let run = cascade(&[
        "import",
        "traces",
        file.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(
        run.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let text = std::fs::read_to_string(&out).unwrap();
    let model = sim_core::load("scenario.toml", &text, &[])
        .unwrap_or_else(|e| panic!("{e}\n{text}"))
        .model;
    let report = std::fs::read_to_string(dir.join("import-report.md")).unwrap();
    (model, report)
}

fn publishes(m: &Model, service: &str) -> bool {
    let s = m.service_id(service).expect("service");
    m.services[s]
        .ops
        .iter()
        .any(|&op| m.op_steps(op).iter().any(|s| matches!(s, Step::Publish(_))))
}

fn source_targets(m: &Model) -> Vec<String> {
    let mut v: Vec<String> = m
        .sources
        .iter()
        .map(|s| m.services[m.ops[s.op as usize].service].name.clone())
        .collect();
    v.sort();
    v
}

#[test]
fn otlp_links_join_a_consumers_trace_to_its_producer_as_a_queue() {
    let dir = temp_dir("import-links-otlp");
    let (m, report) = import(&fixture("otlp-links.jsonl"), &dir);
    // shop publishes to `orders`, consumed by fulfil, which calls its
    // database: the consumers' traces are read under their producers.
    assert_eq!(m.queues.len(), 1, "{report}");
    assert_eq!(m.queues[0].name, "orders");
    assert_eq!(m.services[m.queues[0].service.index()].name, "fulfil");
    assert!(publishes(&m, "shop"));
    assert!(m.service_id("postgresql").is_some());
    // Entries: shop, and the one consumer whose producer is missing.
    assert_eq!(source_targets(&m), ["fulfil", "shop"]);
    assert!(
        report.contains("- span links: 20 followed")
            && report.contains("1 dangling")
            && report.contains("0 not followed"),
        "{report}"
    );
    // 41 traces read as 21: twenty joined, the dangling one alone.
    assert!(report.contains("- traces: 21 ("), "{report}");

    // The same spans with their links removed: no hand-off is seen, the
    // consumer is an entry of its own for every message.
    let text = std::fs::read_to_string(fixture("otlp-links.jsonl")).unwrap();
    let unlinked: String = text
        .lines()
        .map(|l| {
            let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
            let span = &mut v["resourceSpans"][0]["scopeSpans"][0]["spans"][0];
            span.as_object_mut().unwrap().remove("links");
            format!("{v}\n")
        })
        .collect();
    let file = dir.join("unlinked.jsonl");
    std::fs::write(&file, unlinked).unwrap();
    let plain = temp_dir("import-links-otlp-unlinked");
    let (m, report) = import(&file, &plain);
    assert!(m.queues.is_empty(), "{report}");
    assert!(!report.contains("- span links"), "{report}");
}

#[test]
fn jaeger_follows_from_across_traces_is_a_link() {
    let dir = temp_dir("import-links-jaeger");
    let (m, report) = import(&fixture("jaeger-links.json"), &dir);
    assert_eq!(m.queues.len(), 1, "{report}");
    assert_eq!(m.services[m.queues[0].service.index()].name, "fulfil");
    assert_eq!(source_targets(&m), ["shop"]);
    assert!(
        report.contains("- span links: 3 followed") && report.contains("0 dangling"),
        "{report}"
    );
    // No partial trace: the reference is a link, not a missing parent.
    assert!(report.contains("(3 complete, 0 partial"), "{report}");
}

#[test]
fn a_malformed_link_names_the_file_and_the_span() {
    let dir = temp_dir("import-links-bad");
    let line = std::fs::read_to_string(fixture("otlp-links.jsonl"))
        .unwrap()
        .lines()
        .nth(2)
        .unwrap()
        .replace("\"links\":[{\"traceId\":\"", "\"links\":[{\"traceId\":\"zz");
    let file = dir.join("bad-link.jsonl");
    std::fs::write(&file, line).unwrap();
    let out = cascade(&["import", "traces", file.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("bad-link.jsonl")
            && err.contains("link's trace id")
            && err.contains("span 0000000000000900"),
        "{err}"
    );
}

#[test]
fn a_batch_consumer_linked_to_several_producers_is_one_message_from_each() {
    // Three orders, each published once by shop in its own trace; one
    // fulfil span consumes the batch, linked to all three producers, and
    // writes to its database once (9 ms, 3 of them in the write).
    let dir = temp_dir("import-links-batch");
    let (m, report) = import(&fixture("otlp-batch-links.jsonl"), &dir);
    let text = std::fs::read_to_string(dir.join("scenario.toml")).unwrap();
    assert_eq!(m.queues.len(), 1, "{report}");
    assert_eq!(m.queues[0].name, "orders");
    assert_eq!(m.services[m.queues[0].service].name, "fulfil");
    // Every producer's edge to the queue counts: shop publishes on each of
    // its 3 orders (before, 2 of the 3 producers called a phantom service).
    let mut names: Vec<&str> = m.services.iter().map(|s| s.name.as_str()).collect();
    names.sort();
    assert_eq!(names, ["fulfil", "postgresql", "shop"], "{text}");
    assert!(publishes(&m, "shop"));
    assert!(
        text.contains("{ publish = \"orders\" },   # measured: always"),
        "{text}"
    );
    assert_eq!(source_targets(&m), ["shop"]);
    assert!(
        report.contains("- span links: 3 followed (")
            && report.contains("0 dangling (")
            && report.contains("0 not followed ("),
        "{report}"
    );
    // One batch of 3 messages: 3 invocations of 6 ms / 3 = 2 ms of own
    // work each, and one write shared among them: a third per message.
    assert!(
        text.contains("{ work = \"2ms\" },   # measured: self-time of 3 spans"),
        "{text}"
    );
    assert!(
        text.contains("{ call = \"postgresql\", p = 0.3333 }"),
        "{text}"
    );
}
