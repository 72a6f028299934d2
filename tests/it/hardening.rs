//! Inputs that once produced wrong numbers with exit 0 (issue 13): time
//! must never wrap. A work time beyond the end of time means "never
//! finishes in this run": the request stays in flight, utilisation stays in
//! [0, 1], no latency exceeds the run.

use crate::common::{cascade, run_toml, temp_dir};

fn check_books(text: &str) {
    let r = run_toml(text, 1).summary;
    let horizon_ms = r.end_time_s * 1e3;
    for (name, e) in &r.entries {
        assert!(
            e.latency_all_ms.max <= horizon_ms + 1.0,
            "{name}: max latency {} ms in a {horizon_ms} ms run",
            e.latency_all_ms.max
        );
    }
    for (name, s) in &r.services {
        assert!(
            (0.0..=1.0).contains(&s.utilization),
            "{name}: utilisation {}",
            s.utilization
        );
    }
}

#[test]
fn an_enormous_slowdown_leaves_requests_in_flight_instead_of_wrapping() {
    let text = r#"
name = "huge-slowdown"
duration = "10s"
[workload.w]
target = "a"
rate = 100
[services.a]
threads = 4
queue = 10
steps = [{ work = "5ms" }]
[[fault]]
target = "a"
slowdown = 4e12
at = "2s"
for = "1s"
"#;
    check_books(text);
    let r = run_toml(text, 1).summary;
    let e = &r.entries["w"];
    // The four threads hold their requests for ever from 2 s on; nothing
    // completes after, and nothing is reported ok that did not finish.
    assert!(e.ok < e.requests, "{} ok of {}", e.ok, e.requests);
    assert!(e.ok < 350, "{} ok", e.ok);
}

#[test]
fn a_pareto_with_no_mean_keeps_time_monotone() {
    check_books(
        r#"
name = "heavy-tail"
duration = "10s"
[workload.w]
target = "a"
rate = 50
[services.a]
threads = 8
queue = 10
steps = [{ work = { dist = "pareto", scale = "1ms", shape = 0.05 } }]
"#,
    );
}

/// `cascade validate` on `text` saved as `name`: exit code and stderr.
fn validate_text(dir: &str, name: &str, text: &[u8], extra: &[&str]) -> (Option<i32>, String) {
    let d = temp_dir(dir);
    let p = d.join(name);
    std::fs::write(&p, text).unwrap();
    let mut args = vec!["validate", p.to_str().unwrap()];
    args.extend_from_slice(extra);
    let out = cascade(&args);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!err.contains("panicked"), "{err}");
    (out.status.code(), err)
}

#[test]
fn an_error_far_along_a_long_line_shows_a_window_of_it() {
    // miette pads with a width that cannot exceed 65,535 columns: an error
    // at column 70,000+ of a one-line JSON scenario once panicked.
    let long = "x".repeat(70_000);
    let json = format!(
        r#"{{"name": "a", "description": "{long}", "duration": "10s", "workload": {{"w": {{"target": "a", "rate": 10}}}}, "services": {{"a": {{"threads": "x", "steps": [{{"work": "1ms"}}]}}}}}}"#
    );
    // serde_json points just past the value.
    let col = json.find(r#", "steps""#).unwrap();
    let (code, err) = validate_text("long-line", "long.json", json.as_bytes(), &[]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains(&format!("long.json:1:{col}: key `services.a.threads`")),
        "{err}"
    );
    assert!(err.contains(&format!("long.json:1:{col}]")), "{err}");
    assert!(err.len() < 2_000, "{} bytes of message", err.len());
    // Multi-byte characters: the window ends on characters, columns count
    // characters.
    let toml = format!(
        "name = \"a\"\ndescription = \"{}\" ; threads = 0\n",
        "é".repeat(70_000)
    );
    let (code, err) = validate_text("long-line-utf8", "long.toml", toml.as_bytes(), &[]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("long.toml:2:70018:"), "{err}");
    assert!(err.contains("long.toml:2:70018]"), "{err}");
    assert!(err.len() < 2_000, "{} bytes of message", err.len());
}
