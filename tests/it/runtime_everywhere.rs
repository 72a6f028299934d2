//! Event loops and memory across every shipped scenario: every pattern,
//! fault and broker of the shipped scenarios runs on event-loop services
//! with its books kept, and declaring memory (with a limit never reached)
//! changes no other figure of any scenario.

use sim_core::output::Summary;
use toml_edit::{DocumentMut, Item, Value, value};

use crate::common::{assert_books, repo_root};

/// Every shipped scenario (not the benchmarks), name and text.
fn shipped() -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = std::fs::read_dir(repo_root().join("scenarios"))
        .unwrap()
        .filter_map(|e| {
            let p = e.unwrap().path();
            (p.extension().is_some_and(|x| x == "toml")).then(|| {
                (
                    p.file_name().unwrap().to_string_lossy().into_owned(),
                    std::fs::read_to_string(&p).unwrap(),
                )
            })
        })
        .collect();
    out.sort();
    assert!(out.len() > 10);
    out
}

/// `f` applied to every service table of `text`, the run cut to `duration`.
fn rewrite(text: &str, duration: &str, f: impl Fn(&mut toml_edit::Table)) -> String {
    let mut doc: DocumentMut = text.parse().unwrap();
    doc["duration"] = value(duration);
    if let Some(services) = doc.get_mut("services").and_then(Item::as_table_like_mut) {
        for (_, svc) in services.iter_mut() {
            if let Some(t) = svc.as_table_mut() {
                f(t);
            }
        }
    }
    doc.to_string()
}

fn run(name: &str, text: &str) -> Summary {
    let s = sim_core::load(name, text, &[]).unwrap_or_else(|e| panic!("{name}: {e}"));
    sim_core::run_scenario(&s, None, &[]).summary
}

#[test]
fn every_shipped_scenario_runs_on_event_loops_with_its_books_kept() {
    for (name, text) in shipped() {
        // Faults that take threads away have no meaning on an event loop.
        let mut doc: DocumentMut = text.parse().unwrap();
        if let Some(faults) = doc.get_mut("fault").and_then(Item::as_array_of_tables_mut) {
            faults.retain(|f| !f.contains_key("lost_threads"));
        }
        let text = rewrite(&doc.to_string(), "40s", |t| {
            // An autoscaler on threads has none to measure on an event
            // loop: those services keep their starting replicas.
            if t.remove("autoscale").is_some() {
                t.remove("cold_start");
            }
            if let Some(threads) = t.remove("threads") {
                let n = threads.as_integer().unwrap();
                t.remove("cores");
                t.insert("model", value("event_loop"));
                t.insert("loops", value(n.min(64)));
                t.insert("max_connections", value(n));
            }
        });
        let s = run(&name, &text);
        assert!(
            s.services.values().all(|v| v.event_loop.is_some()),
            "{name}: every service is an event loop"
        );
        assert_books(&name, &s);
    }
}

#[test]
fn declaring_memory_changes_no_other_figure() {
    for (name, text) in shipped() {
        if text.contains("memory") || text.contains("autoscale") {
            continue; // already has it, or cannot have it yet
        }
        let plain = run(&name, &rewrite(&text, "40s", |_| {}));
        let with_memory = run(
            &name,
            &rewrite(&text, "40s", |t| {
                let mut m = toml_edit::InlineTable::new();
                m.insert("limit", Value::from("1TiB"));
                m.insert("base", Value::from("100MiB"));
                m.insert("per_request", Value::from("1MiB"));
                m.insert("per_queued", Value::from("64KiB"));
                t.insert("memory", Item::Value(Value::InlineTable(m)));
            }),
        );
        let strip = |s: &Summary| {
            let mut v = serde_json::to_value(s).unwrap();
            for svc in v["services"].as_object_mut().unwrap().values_mut() {
                let svc = svc.as_object_mut().unwrap();
                svc.remove("memory");
                // Requests an OOM kill reset: present with memory only.
                svc.remove("reset");
            }
            v["scenario_hash"] = serde_json::Value::Null;
            v
        };
        assert!(
            with_memory.services.values().all(|v| v.memory.is_some()),
            "{name}"
        );
        assert_eq!(
            strip(&plain),
            strip(&with_memory),
            "{name}: memory changed the run"
        );
    }
}
