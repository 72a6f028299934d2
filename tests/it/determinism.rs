//! Same scenario and seed, same bytes; named streams keep unrelated parts of
//! a scenario from disturbing each other.

use crate::common::{cascade, repo_root, run_toml, temp_dir};

const CHAIN: &str = r#"
name = "det"
duration = "20s"
warmup = "2s"
[network]
latency = { dist = "lognormal", median = "0.4ms", p99 = "2ms" }
[workload.front]
target = "a"
rate = 400
timeout = "1s"
[services.a]
threads = 16
queue = 20
steps = [{ work = { dist = "exponential", mean = "2ms" } }, { call = "b", timeout = "200ms" }]
[services.b]
threads = 8
queue = 10
steps = [{ work = { dist = "pareto", scale = "5ms", shape = 2.5 } }]
[[fault]]
target = "b"
slowdown = 8
at = "8s"
for = "5s"
[[fault]]
target = "b"
errors = 0.2
at = "14s"
for = "2s"
"#;

/// Runs shipped scenario `name` twice with `args` and checks that both
/// runs wrote the same bytes.
fn assert_two_runs_write_the_same_files(name: &str, args: &[&str]) {
    let file = repo_root().join(format!("scenarios/{name}.toml"));
    let file = file.to_str().unwrap();
    let (d1, d2) = (
        temp_dir(&format!("{name}-1")),
        temp_dir(&format!("{name}-2")),
    );
    for d in [&d1, &d2] {
        let mut all = vec!["run", file, "--out", d.to_str().unwrap()];
        all.extend_from_slice(args);
        let out = cascade(&all);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    for f in ["summary.json", "timeseries.csv"] {
        let a = std::fs::read(d1.join(f)).unwrap();
        let b = std::fs::read(d2.join(f)).unwrap();
        assert!(!a.is_empty());
        assert!(
            a == b,
            "{name}: {f} differs between two runs with the same seed"
        );
    }
}

#[test]
fn same_scenario_and_seed_give_identical_files() {
    assert_two_runs_write_the_same_files("checkout", &["--seed", "7", "--duration", "60s"]);
}

/// The broker scenarios too.
#[test]
fn broker_scenarios_give_identical_files() {
    for name in ["checkout-async", "poison-message"] {
        assert_two_runs_write_the_same_files(name, &["--duration", "90s"]);
    }
}

/// Every file of `dir`, name → bytes, in name order.
fn files_of(dir: &std::path::Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

/// `cascade report` redraws every chart and the report from the saved
/// files, byte for byte what `run --out` drew (queues and faults included).
#[test]
fn report_redraws_a_run_byte_for_byte() {
    let file = repo_root().join("scenarios/checkout-async.toml");
    let dir = temp_dir("redraw");
    let d = dir.to_str().unwrap();
    let out = cascade(&[
        "run",
        file.to_str().unwrap(),
        "--duration",
        "60s",
        "--out",
        d,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let drawn = files_of(&dir);
    let views: Vec<&String> = drawn
        .keys()
        .filter(|n| n.ends_with(".svg") || n.ends_with(".png") || n.ends_with(".html"))
        .collect();
    assert!(views.len() > 20, "too few views: {views:?}");
    for n in &views {
        std::fs::remove_file(dir.join(n)).unwrap();
    }
    let out = cascade(&["report", d]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let redrawn = files_of(&dir);
    assert_eq!(
        drawn.keys().collect::<Vec<_>>(),
        redrawn.keys().collect::<Vec<_>>()
    );
    for (name, bytes) in &drawn {
        assert!(redrawn[name] == *bytes, "{name} differs once redrawn");
    }
}

/// A producer, queue and consumer added beside a scenario change nothing in
/// it: the broker's streams are its own.
#[test]
fn an_added_queue_changes_nothing_else() {
    let extra = format!(
        "{CHAIN}\n[workload.other]\ntarget = \"z\"\nrate = 50\n\
         [services.z]\nthreads = 2\nsteps = [{{ publish = \"audit\", poison = 0.1 }}]\n\
         [queues.audit]\nconsumer = \"c\"\nmax_deliveries = 2\n\
         [services.c]\nthreads = 2\nsteps = [{{ work = {{ dist = \"exponential\", mean = \"3ms\" }} }}]\n"
    );
    let base = run_toml(CHAIN, 5).summary;
    let more = run_toml(&extra, 5).summary;
    assert_eq!(base.entries["front"], more.entries["front"]);
    // Time-weighted means are over the run's span, which the queue's
    // redeliveries lengthen; everything counted per request must not move.
    let per_request = |s: &sim_core::output::ServiceSummary| {
        (
            s.arrivals,
            s.completed,
            s.rejected,
            s.injected_errors,
            s.queue_wait_ms.clone(),
            s.sojourn_ms.clone(),
            s.orphaned_work_s,
        )
    };
    for s in ["a", "b"] {
        assert_eq!(
            per_request(&base.services[s]),
            per_request(&more.services[s]),
            "service {s} changed"
        );
    }
    assert!(more.end_time_s > base.end_time_s);
    assert!(more.queues["audit"].acked > 0 && more.queues["audit"].dead_lettered > 0);
}

#[test]
fn another_seed_gives_other_numbers() {
    let a = run_toml(CHAIN, 1).summary;
    let b = run_toml(CHAIN, 2).summary;
    assert_ne!(a.entries["front"].latency_ms, b.entries["front"].latency_ms);
    assert_ne!(a.entries["front"].requests, b.entries["front"].requests);
}

#[test]
fn an_unrelated_service_and_source_change_nothing_else() {
    let extra = format!(
        "{CHAIN}\n[workload.other]\ntarget = \"z\"\nrate = 50\n[services.z]\nthreads = 2\nsteps = [{{ work = \"3ms\" }}]\n"
    );
    let base = run_toml(CHAIN, 5);
    let more = run_toml(&extra, 5);
    assert_eq!(base.summary.entries["front"], more.summary.entries["front"]);
    for s in ["a", "b"] {
        assert_eq!(
            base.summary.services[s], more.summary.services[s],
            "service {s} changed"
        );
    }
    let series = |r: &sim_core::RunResult| {
        r.timeseries
            .get("entry", "front", "arrivals_rps")
            .unwrap()
            .values
            .clone()
    };
    assert_eq!(series(&base), series(&more));
    assert!(more.summary.entries["other"].requests > 0);
}

#[test]
fn json_and_toml_forms_of_a_scenario_run_the_same() {
    let toml_run = run_toml(CHAIN, 3);
    let file: sim_core::scenario::ScenarioFile = toml_edit::de::from_str(CHAIN).unwrap();
    let json = serde_json::to_string(&file).unwrap();
    let s = sim_core::load("det.json", &json, &[]).unwrap();
    let json_run = sim_core::run_scenario(&s, Some(3), &[]);
    assert_eq!(toml_run.summary.entries, json_run.summary.entries);
    assert_eq!(toml_run.timeseries, json_run.timeseries);
}

#[test]
fn every_fault_kind_is_deterministic_in_process() {
    let crash = format!(
        "{CHAIN}\n[[fault]]\ntarget = \"b\"\ncrash = true\nat = \"17s\"\nfor = \"1s\"\n[[fault]]\ntarget = \"a->b\"\nlatency = \"20ms\"\nat = \"4s\"\nfor = \"2s\"\n"
    );
    assert_eq!(run_toml(&crash, 9), run_toml(&crash, 9));
}

/// Draws are per publish step and per queue: a dead-letter queue added to
/// a queue that dead-letters nothing changes none of its figures.
#[test]
fn an_added_queue_on_the_same_broker_moves_no_draw() {
    let base = r#"
name = "streams"
duration = "20s"
[network]
latency = { dist = "lognormal", median = "0.4ms", p99 = "2ms" }
[workload.w]
target = "api"
rate = 300
[services.api]
threads = 8
steps = [{ publish = "jobs" }]
[services.worker]
threads = 4
steps = [{ work = { dist = "exponential", mean = "5ms" } }]
[queues.jobs]
consumer = "worker"
concurrency = 4
"#;
    let more = format!(
        "{base}\n[workload.other]\ntarget = \"audit\"\nrate = 50\n\
         [services.audit]\nthreads = 2\nsteps = [{{ publish = \"audit-log\" }}]\n\
         [services.archiver]\nthreads = 1\nsteps = [{{ work = \"1ms\" }}]\n\
         [queues.audit-log]\nconsumer = \"archiver\"\n"
    );
    let a = run_toml(base, 3).summary;
    let b = run_toml(&more, 3).summary;
    assert_eq!(a.queues["jobs"].latency_ms, b.queues["jobs"].latency_ms);
    assert_eq!(a.queues["jobs"].wait_ms, b.queues["jobs"].wait_ms);
    assert_eq!(a.entries["w"].latency_ms, b.entries["w"].latency_ms);
    assert!(b.queues["audit-log"].acked > 0);
}

/// A chain with jittered retries and a publish step: every random process
/// of the unchanged part draws from streams named by identity, so services,
/// calls and publish steps inserted *before* and *after* it in the file
/// (which shift every list index of the model: call specs, publish steps,
/// edges, services) move none of its figures.
#[test]
fn services_inserted_before_and_after_move_no_draw() {
    let head = "name = \"ins\"\nduration = \"15s\"\n[network]\n\
                latency = { dist = \"lognormal\", median = \"0.4ms\", p99 = \"2ms\" }\n";
    let core = r#"
[workload.front]
target = "a"
rate = 300
[services.a]
threads = 16
queue = 20
steps = [
  { work = { dist = "exponential", mean = "2ms" } },
  { call = "b", timeout = "20ms", retry = { max_attempts = 3, backoff = "exponential", initial_interval = "5ms", jitter = "full" } },
  { publish = "jobs" },
]
[services.b]
threads = 4
queue = 10
steps = [{ work = { dist = "exponential", mean = "3ms" } }]
[services.worker]
threads = 8
steps = [{ work = { dist = "exponential", mean = "1ms" } }]
[queues.jobs]
consumer = "worker"
concurrency = 8
[[fault]]
target = "b"
slowdown = 6
at = "5s"
for = "3s"
"#;
    // A caller with jittered retries of its own and a second producer to
    // `jobs`: placed first, they take the indices `a`'s call and publish
    // step had in the model's lists.
    let before = r#"
[workload.early]
target = "x"
rate = 40
[services.x]
threads = 4
steps = [
  { call = "v", timeout = "2ms", retry = { max_attempts = 3, backoff = "constant", initial_interval = "2ms", jitter = "full" } },
  { publish = "jobs" },
]
[services.v]
threads = 2
steps = [{ work = { dist = "exponential", mean = "2ms" } }]
"#;
    let after = r#"
[workload.late]
target = "y"
rate = 30
[services.y]
threads = 2
steps = [{ call = "z", timeout = "1ms", retry = { max_attempts = 2, initial_interval = "1ms", jitter = "full" } }]
[services.z]
threads = 2
steps = [{ work = { dist = "exponential", mean = "1ms" } }]
"#;
    let base = run_toml(&format!("{head}{core}"), 4).summary;
    assert!(base.edges["a->b"].retries > 100, "the test needs retries");
    for extra in [
        format!("{head}{before}{core}"),
        format!("{head}{core}{after}"),
        format!("{head}{before}{core}{after}"),
    ] {
        let more = run_toml(&extra, 4).summary;
        assert!(more.edges["a->b"].retries > 0);
        assert_eq!(base.entries["front"], more.entries["front"]);
        assert_eq!(base.edges["a->b"], more.edges["a->b"]);
        for s in ["a", "b"] {
            let (x, y) = (&base.services[s], &more.services[s]);
            assert_eq!(
                (x.arrivals, x.completed, &x.queue_wait_ms, &x.sojourn_ms),
                (y.arrivals, y.completed, &y.queue_wait_ms, &y.sojourn_ms),
                "service {s} changed"
            );
        }
    }
}

/// The binary re-executes itself with glibc's huge-page tunable set
/// (`cli/src/huge_pages.rs`); with it turned off by the user, a run
/// writes the same bytes, and the user's setting is left as it was.
#[test]
fn huge_pages_change_no_output() {
    let file = repo_root().join("scenarios/retry-storm.toml");
    let file = file.to_str().unwrap();
    let mut written = Vec::new();
    for (k, tunables) in [None, Some("glibc.malloc.hugetlb=0")]
        .into_iter()
        .enumerate()
    {
        let d = temp_dir(&format!("huge-pages-{k}"));
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_cascade"));
        cmd.args(["run", file, "--out", d.to_str().unwrap(), "-q"]);
        cmd.env_remove("GLIBC_TUNABLES");
        if let Some(t) = tunables {
            cmd.env("GLIBC_TUNABLES", t);
        }
        let out = cmd.output().expect("cascade runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        written.push(["summary.json", "timeseries.csv"].map(|f| std::fs::read(d.join(f)).unwrap()));
    }
    assert!(!written[0][0].is_empty());
    assert!(written[0] == written[1], "huge pages changed an output");
}
