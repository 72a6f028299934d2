//! Property-based fuzzing (proptest) of the two things user input reaches:
//!
//! - the loader and validator: every shipped scenario, mutated (a key
//!   deleted, a value replaced by another type or an extreme, a key
//!   duplicated, the text truncated at a byte), loads or is refused with a
//!   message, never a panic;
//! - short runs: shipped scenarios with numbers scaled within plausible
//!   ranges and `duration` ≤ 5 s, run when they validate, keep the books:
//!   every request one outcome, utilisation in [0, 1], no message lost.
//!
//! Bounded for CI (a few seconds each); `CASCADE_FUZZ_CASES=N` runs N cases
//! of each by hand, e.g. `CASCADE_FUZZ_CASES=20000 cargo test -p cascade
//! --test it -- fuzz::loader`.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::Value;

use crate::common::repo_root;

/// Cases per property: `CASCADE_FUZZ_CASES`, or `ci`.
fn cases(ci: u32) -> u32 {
    std::env::var("CASCADE_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(ci)
}

/// The shipped scenarios: (file name, text, the document as JSON).
fn corpus() -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    let mut paths: Vec<_> = std::fs::read_dir(repo_root().join("scenarios"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    paths.sort();
    for p in paths {
        let text = std::fs::read_to_string(&p).unwrap();
        let value: Value = toml_edit::de::from_str(&text).unwrap();
        out.push((
            p.file_name().unwrap().to_string_lossy().into_owned(),
            text,
            value,
        ));
    }
    assert!(out.len() >= 10, "corpus of {} scenarios", out.len());
    out
}

/// JSON-pointer-like paths of every value in `v` (tables and lists too).
fn paths(v: &Value, here: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                here.push(k.clone());
                out.push(here.clone());
                paths(x, here, out);
                here.pop();
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                here.push(i.to_string());
                out.push(here.clone());
                paths(x, here, out);
                here.pop();
            }
        }
        _ => {}
    }
}

fn at_mut<'a>(v: &'a mut Value, path: &[String]) -> Option<&'a mut Value> {
    path.iter().try_fold(v, |v, seg| match v {
        Value::Object(m) => m.get_mut(seg),
        Value::Array(a) => a.get_mut(seg.parse::<usize>().ok()?),
        _ => None,
    })
}

/// Replacement values: other types and extremes. NaN and infinity cannot be
/// JSON values: they are spliced into the TOML text from these markers.
fn replacement(k: usize) -> Value {
    let long = "x".repeat(100_000);
    let all = [
        serde_json::json!(0),
        serde_json::json!(-1),
        serde_json::json!(i64::MAX),
        serde_json::json!(u64::MAX),
        serde_json::json!(1e300),
        serde_json::json!(-1e-300),
        serde_json::json!("__NAN__"),
        serde_json::json!("__INF__"),
        serde_json::json!(""),
        serde_json::json!(long),
        serde_json::json!({ "a": { "b": 1 } }),
        serde_json::json!([1, "x", []]),
        serde_json::json!(true),
        serde_json::json!("-5ms"),
        serde_json::json!("1e400s"),
        serde_json::json!("99999999999h"),
        serde_json::json!(0.5),
        serde_json::json!("unbounded"),
    ];
    all[k % all.len()].clone()
}

/// One mutation of one shipped scenario, as bytes and a file name.
fn mutate(
    corpus: &[(String, String, Value)],
    (which, kind, at, with, as_json): (usize, u8, usize, usize, bool),
) -> (String, Vec<u8>) {
    let (name, text, value) = &corpus[which % corpus.len()];
    match kind % 4 {
        // Truncate the text at a byte (maybe inside a character).
        0 => {
            let cut = at % (text.len() + 1);
            (name.clone(), text.as_bytes()[..cut].to_vec())
        }
        // Duplicate a `key = value` line.
        1 => {
            let lines: Vec<&str> = text.lines().collect();
            let i = at % lines.len();
            let mut out: Vec<&str> = lines[..=i].to_vec();
            if lines[i].contains('=') {
                out.push(lines[i]);
            }
            out.extend_from_slice(&lines[i + 1..]);
            (name.clone(), out.join("\n").into_bytes())
        }
        // Delete a key or list entry, or replace its value.
        k => {
            let mut v = value.clone();
            let mut all = Vec::new();
            paths(&v, &mut Vec::new(), &mut all);
            let path = &all[at % all.len()];
            let (parent, last) = path.split_at(path.len() - 1);
            if k == 2 {
                match at_mut(&mut v, parent) {
                    Some(Value::Object(m)) => {
                        m.shift_remove(&last[0]);
                    }
                    Some(Value::Array(a)) => {
                        a.remove(last[0].parse::<usize>().unwrap());
                    }
                    _ => {}
                }
            } else if let Some(slot) = at_mut(&mut v, path) {
                *slot = replacement(with);
            }
            if as_json {
                let json = serde_json::to_string(&v).unwrap();
                (name.replace(".toml", ".json"), json.into_bytes())
            } else {
                match toml_edit::ser::to_string_pretty(&v) {
                    Ok(t) => (
                        name.clone(),
                        t.replace("\"__NAN__\"", "nan")
                            .replace("\"__INF__\"", "inf")
                            .into_bytes(),
                    ),
                    Err(_) => (
                        name.replace(".toml", ".json"),
                        serde_json::to_vec(&v).unwrap(),
                    ),
                }
            }
        }
    }
}

#[test]
fn loader_never_panics_and_always_says_why() {
    let corpus = corpus();
    let mut runner = TestRunner::new(Config {
        cases: cases(300),
        failure_persistence: None,
        ..Config::default()
    });
    let (loaded, refused) = (std::cell::Cell::new(0u32), std::cell::Cell::new(0u32));
    let strategy = (
        any::<usize>(),
        any::<u8>(),
        any::<usize>(),
        any::<usize>(),
        any::<bool>(),
    );
    runner
        .run(&strategy, |input| {
            let (name, bytes) = mutate(&corpus, input);
            match sim_core::scenario::load_bytes(&name, &bytes, &[]) {
                Ok(_) => loaded.set(loaded.get() + 1),
                Err(e) => {
                    refused.set(refused.get() + 1);
                    prop_assert!(!e.message.trim().is_empty(), "empty message: {e:?}");
                    prop_assert!(!e.to_string().is_empty());
                    if let Some(l) = &e.location {
                        prop_assert!(l.line >= 1 && l.column >= 1, "{e}");
                        prop_assert!(l.span.start <= e.source_text.len(), "{e}");
                    }
                }
            }
            Ok(())
        })
        .unwrap();
    eprintln!("loader: {} loaded, {} refused", loaded.get(), refused.get());
    assert!(loaded.get() > 0 && refused.get() > 0, "both outcomes met");
}

/// Numbers of `v` scaled by `factor(i)` (the i-th number met), kept whole
/// where they were whole; durations and words untouched.
fn scale_numbers(v: &mut Value, factors: &[f64], i: &mut usize) {
    match v {
        Value::Object(m) => m.values_mut().for_each(|x| scale_numbers(x, factors, i)),
        Value::Array(a) => a.iter_mut().for_each(|x| scale_numbers(x, factors, i)),
        Value::Number(n) => {
            let f = factors[*i % factors.len()];
            *i += 1;
            *v = if let Some(u) = n.as_u64() {
                serde_json::json!(((u as f64 * f).round() as u64).max(u.min(1)))
            } else if let Some(x) = n.as_f64() {
                // Probabilities stay probabilities.
                let y = x * f;
                serde_json::json!(if x <= 1.0 { y.min(1.0) } else { y })
            } else {
                return;
            };
        }
        _ => {}
    }
}

#[test]
fn short_runs_keep_their_books() {
    let corpus = corpus();
    let mut runner = TestRunner::new(Config {
        cases: cases(12),
        failure_persistence: None,
        ..Config::default()
    });
    let (ran, refused) = (std::cell::Cell::new(0u32), std::cell::Cell::new(0u32));
    let strategy = (
        any::<usize>(),
        prop::collection::vec(0.5f64..2.0, 1..8),
        1u64..=5,
        any::<u64>(),
    );
    runner
        .run(&strategy, |(which, factors, secs, seed)| {
            let (name, _, value) = &corpus[which % corpus.len()];
            let mut v = value.clone();
            scale_numbers(&mut v, &factors, &mut 0);
            v["duration"] = serde_json::json!(format!("{secs}s"));
            v["drain"] = serde_json::json!("5s");
            if let Some(m) = v.as_object_mut() {
                m.remove("warmup");
            }
            let text = serde_json::to_string(&v).unwrap();
            let json_name = name.replace(".toml", ".json");
            let s = match sim_core::load(&json_name, &text, &[]) {
                Ok(s) => s,
                Err(_) => {
                    refused.set(refused.get() + 1);
                    return Ok(());
                }
            };
            ran.set(ran.get() + 1);
            let r = sim_core::run_scenario(&s, Some(seed), &[]).summary;
            for (e, x) in &r.entries {
                let outcomes = x.ok
                    + x.degraded
                    + x.failed.timeout
                    + x.failed.rejected
                    + x.failed.error
                    + x.in_flight_at_end;
                prop_assert_eq!(x.requests, outcomes, "{}: entry {}: {:?}", name, e, x);
            }
            for (n, x) in &r.services {
                prop_assert!(
                    (0.0..=1.0 + 1e-9).contains(&x.utilization),
                    "{}: service {} utilisation {}",
                    name,
                    n,
                    x.utilization
                );
            }
            for (n, q) in &r.queues {
                prop_assert_eq!(
                    q.published + q.queued_at_start,
                    q.acked + q.dead_lettered + q.queued_at_end,
                    "{}: queue {} lost or invented messages",
                    name,
                    n
                );
            }
            Ok(())
        })
        .unwrap();
    eprintln!("short runs: {} ran, {} refused", ran.get(), refused.get());
    assert!(
        ran.get() > refused.get(),
        "most mutated scenarios should run"
    );
}
