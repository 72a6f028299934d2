//! Autoscaling, deterministic: the HPA formula's decisions at the sync
//! period (scale up by ceil(usage / target), scale down after the
//! stabilisation window), startup before traffic, draining replicas that
//! finish what they hold, utilisation against the replicas that exist, the
//! shipped story, and bad settings naming their key.

use crate::common::{assert_books, assert_each_rejected, run_toml};

/// 100 requests a second, evenly spaced, of exactly 100 ms of work: 10
/// threads busy on average, straight into `orders`.
fn orders(replicas: u32, threads: u32, autoscale: &str, duration: &str) -> String {
    format!(
        r#"
name = "autoscale"
duration = "{duration}"
[network]
latency = "0"
[workload.w]
target = "orders"
rate = 100
arrivals = "deterministic"
[services.orders]
replicas = {replicas}
threads = {threads}
queue = "unbounded"
steps = [{{ work = "100ms" }}]
autoscale = {{ {autoscale} }}
"#
    )
}

#[test]
fn scales_up_to_ceil_usage_over_target_after_the_startup() {
    // One replica of 20 threads at 10 busy: usage 0.5 pods against a 0.25
    // target: ratio 2, so the first sync (15 s) creates a second replica,
    // ready at 20 s; then usage / (0.25 × 2) = 1: it holds.
    let toml = orders(
        1,
        20,
        r#"min = 1, max = 5, target = 0.25, startup = "5s""#,
        "100s",
    );
    let s = run_toml(&toml, 1).summary;
    assert_books("scale-up", &s);
    let a = s.services["orders"].autoscale.as_ref().expect("figures");
    assert_eq!(
        (a.created, a.removed, a.scale_ups, a.scale_downs),
        (1, 0, 1, 0),
        "{a:?}"
    );
    assert_eq!(
        (a.replicas_at_end, a.ready_at_end, a.replicas_max),
        (2, 2, 2)
    );
    // 1 replica × 100 s + 1 × 85 s (created at 15 s); 80 s of it ready
    // (the run ends 0.1 s late, when the last request is answered).
    assert!(
        (a.replica_seconds - 185.0).abs() < 0.25,
        "{}",
        a.replica_seconds
    );
    assert!(
        (a.replicas_mean - 1.85).abs() < 0.002,
        "{}",
        a.replicas_mean
    );
    assert!((a.ready_mean - 1.80).abs() < 0.002, "{}", a.ready_mean);
    // Utilisation is over the threads that may work (ready or draining):
    // 10 busy of 20 × 1.80.
    let u = s.services["orders"].utilization;
    assert!((u - 10.0 / 36.0).abs() < 0.01, "{u}");
    assert_eq!(
        s.services["orders"].replicas, 1,
        "the replicas at the start"
    );
}

#[test]
fn scale_down_waits_for_the_window_and_drains_without_losing_a_request() {
    // Four replicas of 10 threads at 10 busy: 1 pod's worth against 0.5:
    // two are enough. The window holds no higher recommendation yet, so
    // the first sync (15 s) drops to 2; the two removed drain.
    let toml = orders(
        4,
        10,
        r#"min = 1, max = 8, target = 0.5, scale_down_stabilization = "60s""#,
        "100s",
    );
    let s = run_toml(&toml, 1).summary;
    assert_books("scale-down", &s);
    let e = &s.entries["w"];
    assert_eq!(
        e.ok,
        e.requests - e.in_flight_at_end,
        "every request answered ok"
    );
    let svc = &s.services["orders"];
    assert_eq!((svc.rejected, svc.refused), (0, 0));
    let a = svc.autoscale.as_ref().expect("figures");
    assert_eq!(
        (a.removed, a.scale_downs, a.replicas_at_end),
        (2, 1, 2),
        "{a:?}"
    );
    // Two replicas drain at 15 s, each finishing the ~2.5 requests it
    // holds within 100 ms: ≈ 4 × 15 + 2 × 85 replica-seconds (and the
    // run ends 0.1 s late, when the last request is answered).
    assert!(
        (a.replica_seconds - 230.0).abs() < 0.5,
        "{}",
        a.replica_seconds
    );
}

#[test]
fn a_burst_then_quiet_scales_down_only_after_the_window() {
    // 10 s of no requests at 400 a second (40 threads busy over 4 pods'
    // worth of 10), then 100 a second: the window keeps the high
    // recommendation for its length.
    let toml = r#"
name = "autoscale-window"
duration = "200s"
[network]
latency = "0"
[workload.w]
target = "orders"
rate = 100
arrivals = "deterministic"
shape = { steps = [{ at = "0s", rate = 400 }, { at = "30s", rate = 100 }] }
[services.orders]
replicas = 8
threads = 10
queue = "unbounded"
steps = [{ work = "100ms" }]
autoscale = { min = 1, max = 8, target = 0.5, scale_down_stabilization = "60s" }
"#;
    let r = run_toml(toml, 1);
    let a = r.summary.services["orders"]
        .autoscale
        .as_ref()
        .expect("figures");
    // Syncs at 15 s and 30 s recommend ceil(4 / 0.5) = 8. The 45 s sync
    // still sees the burst's last 100 ms (usage 1.02 pods: 3), later ones
    // 2. Each stays in the window until it is more than 60 s old: 8 until
    // 105 s, 3 until 120 s.
    assert_eq!((a.scale_downs, a.replicas_at_end), (2, 2), "{a:?}");
    let ts = &r.timeseries;
    let series = ts
        .series
        .iter()
        .find(|s| s.name == "orders" && s.metric == "replicas_desired")
        .expect("replicas_desired series");
    let at = |t: f64| {
        let w = ts
            .window_start_s
            .iter()
            .position(|&s| s >= t)
            .expect("window");
        series.values[w]
    };
    assert_eq!(at(100.0), 8.0);
    assert_eq!(at(106.0), 3.0);
    assert_eq!(at(121.0), 2.0);
}

#[test]
fn the_shipped_story_scales_late_and_keeps_its_books() {
    let text =
        std::fs::read_to_string(crate::common::repo_root().join("scenarios/autoscale-lag.toml"))
            .unwrap();
    let r = run_toml(&text, 1);
    assert_books("autoscale-lag", &r.summary);
    let svc = &r.summary.services["orders"];
    let a = svc.autoscale.as_ref().expect("figures");
    assert!(a.replicas_max >= 9 && a.replicas_max <= 20, "{a:?}");
    assert_eq!(a.replicas_at_end, 3, "back to min after the surge");
    assert!(svc.rejected > 0, "the surge outruns the autoscaler");
    for s in r
        .timeseries
        .series
        .iter()
        .filter(|s| s.metric == "utilization")
    {
        assert!(
            s.values.iter().all(|u| (0.0..=1.0 + 1e-9).contains(u)),
            "{}",
            s.name
        );
    }
}

#[test]
fn bad_autoscale_settings_name_their_key() {
    let with = |replicas: &str, extra: &str, autoscale: &str| {
        format!(
            r#"
name = "bad"
duration = "10s"
[workload.w]
target = "orders"
rate = 10
[services.orders]
{replicas}
threads = 4
steps = [{{ work = "1ms" }}]
{extra}
autoscale = {{ {autoscale} }}
"#
        )
    };
    assert_each_rejected(
        "autoscale-bad",
        &[
            (
                with("", "", "target = 0.5"),
                "most replicas",
                "services.orders.autoscale.max",
            ),
            (
                with("", "", "max = 4"),
                "target",
                "services.orders.autoscale.target",
            ),
            (
                with("replicas = 9", "", "max = 4, target = 0.5"),
                "within autoscale's min",
                "services.orders.replicas",
            ),
            (
                with("", "", r#"max = 4, target = 0.5, metric = "cpu""#),
                "cores",
                "services.orders.autoscale.metric",
            ),
            (
                with("", "", r#"max = 4, target = 0.5, period = "0s""#),
                "longer than zero",
                "services.orders.autoscale.period",
            ),
            (
                with("", "", r#"max = 4, target = 0.5, metric = "connections""#),
                "event loop's metric",
                "services.orders.autoscale.metric",
            ),
        ],
    );
}
