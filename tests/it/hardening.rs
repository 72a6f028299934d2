//! Inputs that once produced wrong numbers with exit 0 (issue 13): time
//! must never wrap. A work time beyond the end of time means "never
//! finishes in this run": the request stays in flight, utilisation stays in
//! [0, 1], no latency exceeds the run.

use crate::common::{assert_each_rejected, cascade, run_toml, temp_dir};

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
    let col = json.find(r#""x", "steps""#).unwrap() + 1;
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

const JSON_OK: &str = r#"{
  "name": "j",
  "duration": "2s",
  "workload": { "w": { "target": "a", "rate": 10 } },
  "services": {
    "a": { "threads": 2, "steps": [ { "work": "1ms" } ] }
  }
}"#;

#[test]
fn json_scenarios_get_line_and_column_for_every_error() {
    // A semantic (build) error, a type error, an unknown key: each points at
    // its value in the file, as TOML errors do.
    let cases = [
        (
            JSON_OK.replace(r#""threads": 2"#, r#""threads": 0"#),
            "j.json:6:23: key `services.a.threads`: must be at least 1",
        ),
        (
            JSON_OK.replace(r#""target": "a""#, r#""target": "nowhere""#),
            "j.json:4:34: key `workload.w.target`",
        ),
        (
            JSON_OK.replace(r#""rate": 10"#, r#""rate": "ten""#),
            "j.json:4:47: key `workload.w.rate`: invalid type: string",
        ),
        (
            JSON_OK.replace(r#""threads": 2"#, r#""threads": 2, "treads": 3"#),
            "key `services.a.treads`: unknown field `treads`",
        ),
        // Anything after the document is refused.
        (
            format!("{JSON_OK}\n{{}}"),
            "j.json:9:1: trailing characters",
        ),
        // A syntax error names no key.
        (
            JSON_OK[..JSON_OK.len() - 2].to_owned(),
            "j.json:7:3: EOF while parsing an object\n",
        ),
    ];
    for (text, want) in cases {
        let (code, err) = validate_text("json-located", "j.json", text.as_bytes(), &[]);
        assert_eq!(code, Some(2), "{err}");
        assert!(err.contains(want), "no `{want}` in {err}");
    }
    let (code, err) = validate_text("json-fine", "j.json", JSON_OK.as_bytes(), &[]);
    assert_eq!(code, Some(0), "{err}");
}

#[test]
fn a_scenario_that_is_not_utf8_is_a_bad_scenario_naming_the_byte() {
    for (name, text) in [
        ("bad.toml", &b"name = \"a\xff\"\nduration = \"1s\"\n"[..]),
        ("bad.json", &b"{\"name\": \"a\xff\"}"[..]),
    ] {
        let (code, err) = validate_text("not-utf8", name, text, &[]);
        assert_eq!(code, Some(2), "{err}");
        let at = text.iter().position(|b| *b == 0xff).unwrap();
        let col = at + 1;
        assert!(
            err.contains(&format!(
                "{name}:1:{col}: the file is not UTF-8 text: byte 0xff at byte offset {at}"
            )),
            "{err}"
        );
    }
}

#[test]
fn every_u64_is_a_seed() {
    let text = r#"
name = "seeds"
duration = "1s"
[workload.w]
target = "a"
rate = 10
[services.a]
threads = 2
steps = [{ work = "1ms" }]
"#;
    for seed in [0, i64::MAX as u64, i64::MAX as u64 + 1, u64::MAX] {
        let set = [sim_core::Override::parse(&format!("seed={seed}")).unwrap()];
        let s = sim_core::load("s.toml", text, &set).unwrap_or_else(|e| panic!("{seed}: {e}"));
        assert_eq!(s.model.seed, seed);
        let json = JSON_OK.replace(
            r#""name": "j","#,
            &format!(r#""name": "j", "seed": {seed},"#),
        );
        let s = sim_core::load("s.json", &json, &set).unwrap_or_else(|e| panic!("{seed}: {e}"));
        assert_eq!(s.model.seed, seed);
    }
    // `null` is no seed (the canonical JSON form of an absent one).
    let json = JSON_OK.replace(r#""name": "j","#, r#""name": "j", "seed": null,"#);
    assert_eq!(sim_core::load("s.json", &json, &[]).unwrap().model.seed, 1);
    // Above i64::MAX a TOML file writes it as a string of digits.
    let s = sim_core::load("s.toml", &format!("seed = \"{}\"\n{text}", u64::MAX), &[]).unwrap();
    assert_eq!(s.model.seed, u64::MAX);
    for bad in ["-1", "\"x\"", "1.5"] {
        let set = [sim_core::Override::parse(&format!("seed={bad}")).unwrap()];
        let e = sim_core::load("s.toml", text, &set).unwrap_err();
        assert_eq!(e.key, "seed", "{e}");
    }
    let (code, err) = validate_text(
        "seed-set",
        "s.toml",
        text.as_bytes(),
        &["--set", "seed=18446744073709551615"],
    );
    assert_eq!(code, Some(0), "{err}");
}

#[test]
fn messages_name_the_key_once_and_ask_durations_for_a_unit() {
    let base = |extra: &str, step: &str| {
        format!(
            r#"
name = "m"
duration = "2s"
{extra}
[workload.w]
target = "auth"
rate = 10
[services.auth]
threads = 2
steps = [{step}]
[services.db]
threads = 1
steps = [{{ work = "1ms" }}]
"#
        )
    };
    let unit = "expected a duration with a unit, e.g. \"300ms\"";
    let cases = vec![
        (
            base("", "{ work = \"1ms\" }").replace("threads = 2", "threads = 2\ntreads = 3"),
            "key `services.auth.treads`: unknown field",
            "services.auth.treads",
        ),
        (base("window = 1", "{ work = \"1ms\" }"), unit, "window"),
        (base("warmup = 0.5", "{ work = \"1ms\" }"), unit, "warmup"),
        (
            base("", "{ call = \"db\", timeout = 300 }"),
            unit,
            "services.auth.steps.0.timeout",
        ),
        (
            base("", "{ call = \"db\", deadline = 300 }"),
            unit,
            "services.auth.steps.0.deadline",
        ),
        (
            base(
                "",
                "{ call = \"db\", retry = { max_attempts = 3, initial_interval = 10 } }",
            ),
            unit,
            "services.auth.steps.0.retry.initial_interval",
        ),
        (
            base("", "{ work = { dist = \"exponential\", mean = 5 } }"),
            unit,
            "services.auth.steps.0.work.mean",
        ),
        (
            base(
                "[[fault]]\ntarget = \"db\"\nat = 1\nfor = \"1s\"\ncrash = true",
                "{ work = \"1ms\" }",
            ),
            unit,
            "fault.0.at",
        ),
    ];
    for (text, _, _) in &cases {
        assert!(!text.is_empty());
    }
    assert_each_rejected("messages", &cases);
    let dir = temp_dir("messages-once");
    let p = dir.join("m.toml");
    std::fs::write(&p, &cases[0].0).unwrap();
    let err =
        String::from_utf8_lossy(&cascade(&["validate", p.to_str().unwrap()]).stderr).into_owned();
    assert!(!err.contains("treads.treads"), "{err}");
}

const SMALL: &str = r#"
name = "small"
duration = "10s"
[workload.w]
target = "a"
rate = 100
[services.a]
threads = 4
steps = [{ work = "1ms" }]
"#;

#[test]
fn sizes_that_would_exhaust_memory_are_refused_at_load_time() {
    let closed = SMALL.replace("rate = 100", "users = 1000000000");
    let cases = vec![
        (
            SMALL.replace("threads = 4", "threads = 4\nreplicas = 1000000000"),
            "more than the limit of 10000 per service",
            "services.a.replicas",
        ),
        (
            SMALL.replace("threads = 4", "threads = 2000\nreplicas = 1000"),
            "replicas × threads = 2000000 is more than the limit of 1000000",
            "services.a.threads",
        ),
        (
            closed,
            "more than the limit of 1000000 per source",
            "workload.w.users",
        ),
        (
            SMALL.replace("duration = \"10s\"", "duration = \"10s\"\nwindow = \"1ns\""),
            "time-series windows, more than the limit of 100000",
            "window",
        ),
        (
            SMALL.replace("rate = 100", "rate = 1e12"),
            "more than the limit of 1e8 per source",
            "workload.w.rate",
        ),
        // A spike's peak counts, not only the base rate.
        (
            SMALL.replace(
                "rate = 100",
                "rate = 100\nshape = { spike = { rate = 1e9, at = \"1s\", for = \"1s\" } }",
            ),
            "more than the limit of 1e8 per source",
            "workload.w.rate",
        ),
    ];
    assert_each_rejected("limits", &cases);
    // Just inside the limits loads, and `requests` bounds a fast source.
    for ok in [
        SMALL.replace("threads = 4", "threads = 100\nreplicas = 10000"),
        SMALL.replace("rate = 100", "rate = 1e12\nrequests = 1000"),
        SMALL.replace("duration = \"10s\"", "duration = \"10s\"\nwindow = \"1ms\""),
    ] {
        sim_core::load("ok.toml", &ok, &[]).unwrap_or_else(|e| panic!("{e}"));
    }
    let (code, err) = validate_text(
        "limits-set",
        "s.toml",
        SMALL.as_bytes(),
        &["--set", "services.a.replicas=1000000000"],
    );
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("key `services.a.replicas`")
            && err.contains("--set services.a.replicas=1000000000"),
        "{err}"
    );
}

#[test]
fn suspicious_but_valid_scenarios_load_with_warnings() {
    let text = format!(
        "{SMALL}{}",
        r#"
[services.b]
threads = 2
queue = "unbounded"
steps = [{ work = "30ms" }, { work = { dist = "exponential", mean = "1s" } }]
[workload.v]
target = "b"
rate = 100
[[fault]]
target = "a"
at = "8s"
for = "5s"
crash = true
[[fault]]
target = "a"
at = "20s"
for = "1s"
crash = true
"#
    );
    let s = sim_core::load("w.toml", &text, &[]).unwrap();
    let keys: Vec<&str> = s.warnings.iter().map(|w| w.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "fault.0.for",
            "fault.1.at",
            "services.b.steps.1.work",
            "services.b.queue"
        ],
        "{:?}",
        s.warnings
    );
    let (code, err) = validate_text("warnings", "w.toml", text.as_bytes(), &[]);
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("warning: "), "{err}");
    assert!(
        err.contains("w.toml: fault.1.at: the fault starts at 20s"),
        "{err}"
    );
    assert!(
        err.contains("w.toml: services.b.queue: the workload offers"),
        "{err}"
    );
    // Every shipped scenario loads without a warning.
    for f in std::fs::read_dir(crate::common::repo_root().join("scenarios")).unwrap() {
        let p = f.unwrap().path();
        if p.extension().is_some_and(|e| e == "toml") {
            let s = sim_core::load(
                &p.display().to_string(),
                &std::fs::read_to_string(&p).unwrap(),
                &[],
            )
            .unwrap();
            assert!(s.warnings.is_empty(), "{}: {:?}", p.display(), s.warnings);
        }
    }
}
