//! The shipped scenarios of event loops and memory tell their stories in
//! numbers: where the exhaustion goes when threads stop waiting
//! (`scenarios/blocking-vs-nonblocking/`), the crash loop and its fix, the
//! GC death spiral and its fix.

use sim_core::output::{Summary, Verdict};

use crate::common::{cascade, repo_root, temp_dir};

/// Runs shipped scenario `path` (under `scenarios/`) with `overrides`.
fn shipped(path: &str, overrides: &[&str]) -> Summary {
    let file = repo_root().join("scenarios").join(path);
    let text = std::fs::read_to_string(&file).expect("scenario file");
    let overrides: Vec<_> = overrides
        .iter()
        .map(|o| sim_core::Override::parse(o).expect("override"))
        .collect();
    let s = sim_core::load(path, &text, &overrides)
        .unwrap_or_else(|e| panic!("{path} does not load: {e}"));
    sim_core::run_scenario(&s, None, &[]).summary
}

fn failed_share(s: &Summary, entry: &str) -> f64 {
    let e = &s.entries[entry];
    (e.failed.timeout + e.failed.rejected + e.failed.error) as f64 / e.requests as f64
}

/// Every entry came through each fault: recovered, or never out of its
/// band at all (a surge served in full is `not_affected`).
fn recovered(s: &Summary) -> bool {
    s.recovery
        .iter()
        .all(|r| matches!(r.verdict, Verdict::Recovered | Verdict::NotAffected))
}

#[test]
fn a_thread_pool_fails_requests_that_never_touch_the_slow_database_an_event_loop_does_not() {
    let threads = shipped("blocking-vs-nonblocking/threads.toml", &[]);
    let event_loop = shipped("blocking-vs-nonblocking/event-loop.toml", &[]);
    // Browse never calls the database; the thread pool refuses it anyway.
    assert!(
        failed_share(&threads, "browse") > 0.1,
        "{:?}",
        threads.entries["browse"]
    );
    assert_eq!(failed_share(&event_loop, "browse"), 0.0);
    // The event loop pays in connections and memory instead.
    let (t, e) = (
        &threads.services["gateway"],
        &event_loop.services["gateway"],
    );
    let el = e.event_loop.as_ref().unwrap();
    assert!(el.connections_max > 150, "{el:?}");
    let (tm, em) = (t.memory.as_ref().unwrap(), e.memory.as_ref().unwrap());
    assert!(
        em.max_mib > tm.max_mib + 200.0,
        "{} vs {}",
        em.max_mib,
        tm.max_mib
    );
    assert!(em.max_mib > 512.0 && em.oom_kills == 0);
}

#[test]
fn with_a_memory_limit_the_event_loop_is_killed_and_with_a_connection_limit_it_sheds() {
    let killed = shipped(
        "blocking-vs-nonblocking/event-loop.toml",
        &["services.gateway.memory.limit=512MiB"],
    );
    let m = killed.services["gateway"].memory.as_ref().unwrap();
    assert!(
        m.oom_kills >= 2 && m.restarts >= 1 && m.down_s >= 30.0,
        "{m:?}"
    );
    // Killed, it fails browse too: every request in it, then refusals.
    assert!(failed_share(&killed, "browse") > 0.1);
    let bounded = shipped("blocking-vs-nonblocking/event-loop-bounded.toml", &[]);
    let g = &bounded.services["gateway"];
    assert_eq!(g.memory.as_ref().unwrap().oom_kills, 0);
    assert!(g.rejected > 0);
    assert_eq!(g.event_loop.as_ref().unwrap().connections_max, 100);
}

#[test]
fn the_crash_loop_outlives_its_surge_and_a_connection_limit_fixes_it() {
    let looping = shipped("crash-loop.toml", &[]);
    let m = looping.services["api"].memory.as_ref().unwrap();
    assert!(m.oom_kills >= 4, "{m:?}");
    assert!(m.down_s > 150.0, "{m:?}");
    assert!(!recovered(&looping));
    let fixed = shipped("crash-loop-fixed.toml", &[]);
    assert_eq!(fixed.services["api"].memory.as_ref().unwrap().oom_kills, 0);
    assert!(recovered(&fixed), "{:?}", fixed.recovery);
    assert!(fixed.slo.iter().all(|s| s.pass), "{:?}", fixed.slo);
}

#[test]
fn the_gc_death_spiral_does_not_recover_and_a_larger_heap_does() {
    let spiral = shipped("gc-death-spiral.toml", &[]);
    let m = spiral.services["api"].memory.as_ref().unwrap();
    assert!(m.gc_pause_share > 0.5, "{m:?}");
    assert_eq!(m.oom_kills, 0, "GC sustains it, not a crash");
    assert!(!recovered(&spiral));
    let fixed = shipped("gc-death-spiral-fixed.toml", &[]);
    let m = fixed.services["api"].memory.as_ref().unwrap();
    assert!(m.gc_pause_share < 0.1, "{m:?}");
    assert!(recovered(&fixed), "{:?}", fixed.recovery);
    // Shedding (a short queue) fixes it too.
    let shed = shipped("gc-death-spiral.toml", &["services.api.queue=20"]);
    assert!(recovered(&shed), "{:?}", shed.recovery);
}

/// Same seed, same bytes, for the new runtime state (kills, restarts,
/// pauses and loops all in play).
#[test]
fn runtime_scenarios_write_identical_files_twice() {
    for name in [
        "crash-loop.toml",
        "gc-death-spiral.toml",
        "blocking-vs-nonblocking/event-loop.toml",
    ] {
        let file = repo_root().join("scenarios").join(name);
        let mut outs = Vec::new();
        for k in 0..2 {
            let d = temp_dir(&format!("rt-det-{}-{k}", name.replace('/', "-")));
            let out = cascade(&[
                "run",
                file.to_str().unwrap(),
                "--duration",
                "90s",
                "--out",
                d.to_str().unwrap(),
            ]);
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            outs.push((
                std::fs::read(d.join("summary.json")).unwrap(),
                std::fs::read(d.join("timeseries.csv")).unwrap(),
            ));
        }
        assert!(outs[0] == outs[1], "{name}: two runs differ");
    }
}

/// The report of the crash loop draws memory against its limit with one
/// mark per OOM kill, each where the gauge drops to zero.
#[test]
fn the_memory_chart_marks_each_oom_kill() {
    let file = repo_root().join("scenarios/crash-loop.toml");
    let text = std::fs::read_to_string(&file).unwrap();
    let s = sim_core::load("crash-loop.toml", &text, &[]).unwrap();
    let r = sim_core::run_scenario(&s, None, &[]);
    let kills = r.summary.services["api"].memory.as_ref().unwrap().oom_kills as usize;
    let figures = reports::charts::figures(&r);
    let memory = figures
        .figures
        .iter()
        .find(|f| f.stem == "memory")
        .expect("a memory chart");
    let reports::Chart::Lines(chart) = &memory.chart else {
        panic!("memory is a line chart");
    };
    let marks = chart
        .lines
        .iter()
        .find(|l| l.name == "OOM kill")
        .expect("kill marks");
    // Three points per mark: bottom, top, gap.
    assert_eq!(marks.points.len(), 3 * kills);
    assert!(chart.lines.iter().any(|l| l.name.contains("limit")));
    // "More series" does not draw the memory series a second time.
    assert!(
        !figures
            .figures
            .iter()
            .any(|f| f.stem.contains("memory_mib"))
    );
}
