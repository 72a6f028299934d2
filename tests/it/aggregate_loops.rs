//! The `services,all` aggregate of a model with more than 64 services
//! counts an event loop's loops as its workers, not its connections.

use sim_core::output::RunResult;

use crate::common::run_toml;

/// An event loop (one loop) with 100 requests a second, each 5 ms on the
/// loop then a 1 s wait holding only its connection, beside 65 idle
/// one-thread services: the aggregate's busy workers are the half loop
/// (about 100 connections are open), out of 1 + 65 workers.
#[test]
fn the_aggregate_counts_an_event_loops_loops_not_its_connections() {
    let mut toml = String::from(
        r#"
name = "wide-loop"
duration = "10s"
[workload.src]
target = "gw"
rate = 100
arrivals = "deterministic"
[services.gw]
model = "event_loop"
loops = 1
steps = [{ work = "5ms" }, { wait = "1s" }]
"#,
    );
    for k in 0..65 {
        toml.push_str(&format!(
            "[services.idle{k}]\nthreads = 1\nsteps = [{{ work = \"1ms\" }}]\n"
        ));
    }
    let r: RunResult = run_toml(&toml, 1);
    let ts = &r.timeseries;
    let busy = ts
        .get("services", "all", "busy_threads")
        .expect("aggregate");
    let util = ts.get("services", "all", "utilization").expect("aggregate");
    // Windows 2 s to 9 s: steady (one request every 10 ms, 5 ms each).
    for w in 2..9 {
        assert!(
            (busy.values[w] - 0.5).abs() < 1e-9,
            "window {w}: {} busy",
            busy.values[w]
        );
        assert!(
            (util.values[w] - 0.5 / 66.0).abs() < 1e-9,
            "window {w}: utilisation {}",
            util.values[w]
        );
    }
    // Its own row still shows its connections and its loop's utilisation.
    let gw = &r.summary.services["gw"];
    assert!(gw.busy_threads_mean > 90.0, "{}", gw.busy_threads_mean);
    // 1,000 requests × 5 ms of loop time over the run (to its drain's end).
    let loop_s = gw.utilization * r.summary.end_time_s;
    assert!((loop_s - 5.0).abs() < 0.01, "{loop_s}");
}
