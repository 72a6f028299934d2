//! Autoscaling beyond thread pools, deterministic: an event loop scaled
//! on its open connections, a service with memory (a new replica's gauge
//! starts at base), a queue's consumer (workers added pull, removed ones
//! drain, the broker's books balance), a consumer group whose membership
//! follows the replicas (exact joins, leaves and rebalances; no record
//! lost), and the settings that cannot be combined, naming their key.

use crate::common::{assert_books, assert_each_rejected, run_toml};
use sim_core::output::Summary;

/// 100 requests a second, evenly spaced, straight into `orders`, which
/// holds each for exactly 100 ms: 10 requests open on average.
fn orders(server: &str, autoscale: &str) -> String {
    format!(
        r#"
name = "autoscale-kinds"
duration = "100s"
[network]
latency = "0"
[workload.w]
target = "orders"
rate = 100
arrivals = "deterministic"
[services.orders]
replicas = 1
queue = "unbounded"
{server}
autoscale = {{ {autoscale} }}
"#
    )
}

fn figures(s: &Summary, svc: &str) -> (u64, u64, u32, u32) {
    let a = s.services[svc]
        .autoscale
        .as_ref()
        .expect("autoscale figures");
    (a.created, a.removed, a.replicas_at_end, a.replicas_max)
}

#[test]
fn an_event_loop_scales_on_its_open_connections() {
    // 10 connections open of 20 on one replica: 0.5 pods against a 0.25
    // target, so the first sync (15 s) asks for 2; then 10 / (2 × 20 ×
    // 0.25) = 1: it holds.
    let text = orders(
        r#"model = "event_loop"
loops = 2
max_connections = 20
steps = [{ work = "1ms" }, { wait = "99ms" }]"#,
        r#"min = 1, max = 5, target = 0.25, metric = "connections", startup = "5s""#,
    );
    let s = run_toml(&text, 1).summary;
    assert_books("event-loop", &s);
    assert_eq!(figures(&s, "orders"), (1, 0, 2, 2));
    let l = s.services["orders"]
        .event_loop
        .as_ref()
        .expect("loop figures");
    // 1 ms of loop work 100 times a second: 0.1 loops busy, over 2 loops
    // × the replicas up (1 for 15 s, then 2).
    let up = (15.0 + 2.0 * 85.0) / 100.0;
    assert!(
        (l.loop_utilization - 0.1 / (2.0 * up)).abs() < 0.002,
        "{}",
        l.loop_utilization
    );
}

#[test]
fn a_new_replica_starts_with_base_memory_and_its_own_gauge() {
    // 10 busy threads × 1 MiB over base 100 MiB. Replica 0 alone until
    // 15 s (110 MiB); replica 1 is created at 15 s (100 MiB) and takes
    // half the traffic from 20 s (105 MiB each). Mean over the replicas
    // up: (15 × 110 + 85 × 210) / (15 + 2 × 85) = 105.41 MiB.
    let text = orders(
        r#"threads = 20
memory = { limit = "1GiB", base = "100MiB", per_request = "1MiB" }
steps = [{ work = "100ms" }]"#,
        r#"min = 1, max = 5, target = 0.25, startup = "5s""#,
    );
    let s = run_toml(&text, 1).summary;
    assert_books("memory", &s);
    assert_eq!(figures(&s, "orders"), (1, 0, 2, 2));
    let m = s.services["orders"]
        .memory
        .as_ref()
        .expect("memory figures");
    assert!((m.mean_mib - 105.41).abs() < 0.05, "{}", m.mean_mib);
    assert_eq!((m.oom_kills, m.restarts), (0, 0));
    assert!(m.down_s == 0.0 && (m.max_mib - 110.0).abs() < 0.01, "{m:?}");
}

/// `api` publishes every request to `jobs`, consumed by `worker` (20
/// threads, 20 workers a replica, 100 ms a message); the producer stops at
/// `stop`.
fn consumer(autoscale: &str, stop: &str) -> String {
    format!(
        r#"
name = "autoscaled-consumer"
duration = "120s"
[network]
latency = "0"
[workload.w]
target = "api"
rate = 100
arrivals = "deterministic"
shape = {{ steps = [{{ at = "{stop}", rate = 0 }}] }}
[services.api]
threads = 16
steps = [{{ publish = "jobs" }}]
[services.worker]
replicas = 1
threads = 20
steps = [{{ work = "100ms" }}]
autoscale = {{ {autoscale} }}
[queues.jobs]
consumer = "worker"
concurrency = 20
"#
    )
}

#[test]
fn a_scaled_consumer_pulls_with_its_new_workers_and_drains_without_loss() {
    // 10 messages in processing: 0.5 pods of 20 threads against 0.25:
    // a second replica at 15 s, ready at 20 s, whose workers pull. The
    // producer stops at 50 s: the sync at 60 s sees half a period of
    // work, (0.25 pods → 1), and the one at 75 s none; with no
    // stabilisation the newest replica drains at 60 s.
    let text = consumer(
        r#"min = 1, max = 4, target = 0.25, startup = "5s", scale_down_stabilization = "0s""#,
        "50s",
    );
    let s = run_toml(&text, 1).summary;
    assert_books("consumer", &s);
    assert_eq!(figures(&s, "worker"), (1, 1, 1, 2));
    let q = &s.queues["jobs"];
    assert_eq!(
        (q.acked, q.dead_lettered, q.queued_at_end),
        (q.published, 0, 0),
        "{q:?}"
    );
    assert_eq!(q.redelivered, 0, "draining finishes what it holds");
    // The new replica's workers took their share: not every message
    // waited for one of the first replica's 20.
    assert!(s.services["worker"].autoscale.as_ref().unwrap().ready_mean > 1.0);
}

/// `producer` appends every request to log `events` (2 partitions); group
/// `g` on `worker` (one thread and `members` members a replica, 10 ms a
/// record).
fn group(members_per: u32, autoscale: &str, extra: &str) -> String {
    format!(
        r#"
name = "autoscaled-group"
duration = "60s"
[network]
latency = "0"
[workload.w]
target = "producer"
rate = 40
arrivals = "deterministic"
shape = {{ steps = [{{ at = "30s", rate = 0 }}] }}
[services.producer]
threads = 16
steps = [{{ publish = "events" }}]
[services.worker]
replicas = 1
threads = {members_per}
steps = [{{ work = "10ms" }}]
autoscale = {{ {autoscale} }}
[logs.events]
partitions = 2
[groups.g]
log = "events"
consumer = "worker"
members = {members_per}
max_poll_records = 10
rebalance = "2s"
{extra}
"#
    )
}

fn assert_no_record_lost(name: &str, s: &Summary) {
    assert_books(name, s);
    for (l, log) in &s.logs {
        for (g, grp) in &log.groups {
            assert_eq!(
                log.produced,
                grp.committed + grp.in_log_at_end + grp.lost_to_retention + grp.dead_lettered,
                "{name}: log {l}, group {g}: {grp:?}"
            );
        }
    }
}

#[test]
fn a_group_gains_and_loses_members_with_its_replicas_each_a_rebalance() {
    // 40 records a second × 10 ms: 0.4 pods of one thread against 0.3 →
    // 2 replicas at 15 s, ready at 20 s: member 2 joins (rebalance 1).
    // At 30 s, 0.4 pods over 2 = 0.67 of target: ceil(1.33) = 2, it
    // holds. The producer stops at 30 s: the sync at 45 s sees nothing,
    // and the newest replica leaves (rebalance 2).
    let text = group(
        1,
        r#"min = 1, max = 3, target = 0.3, startup = "5s", scale_down_stabilization = "0s""#,
        "",
    );
    let s = run_toml(&text, 1).summary;
    assert_no_record_lost("group", &s);
    assert_eq!(figures(&s, "worker"), (1, 1, 1, 2));
    let g = &s.logs["events"].groups["g"];
    let x = g.scaling.as_ref().expect("scaling figures");
    assert_eq!(
        (
            x.members_per_replica,
            x.members_at_start,
            x.members_max,
            x.members_min,
            x.members_at_end
        ),
        (1, 1, 2, 1, 1),
        "{x:?}"
    );
    assert_eq!((x.joined, x.left, x.rebalances), (1, 1, 2), "{x:?}");
    assert_eq!(g.rebalances, 2, "only scaling changed the membership");
    assert_eq!(g.committed, s.logs["events"].produced, "{g:?}");
}

#[test]
fn two_members_a_replica_join_and_leave_together() {
    let text = group(
        2,
        r#"min = 1, max = 3, target = 0.15, startup = "5s", scale_down_stabilization = "0s""#,
        "",
    );
    let s = run_toml(&text, 1).summary;
    assert_no_record_lost("group-2", &s);
    let g = &s.logs["events"].groups["g"];
    let x = g.scaling.as_ref().expect("scaling figures");
    let (created, removed, _, _) = figures(&s, "worker");
    assert_eq!(x.joined, 2 * created, "{x:?}");
    assert_eq!(x.left, 2 * removed, "{x:?}");
    assert_eq!(x.rebalances, created + removed, "{x:?}");
    assert_eq!(x.members_at_start, 2);
}

#[test]
fn scaling_under_a_crash_and_retention_loses_no_record() {
    for seed in 1..=3 {
        let text = group(
            1,
            r#"min = 1, max = 3, target = 0.2, period = "5s", startup = "2s", scale_down_stabilization = "0s""#,
            "[[fault]]\ntarget = \"worker\"\ncrash = true\nat = \"22s\"\nfor = \"3s\"",
        )
        .replace(
            "partitions = 2",
            "partitions = 2\nretention = { count = 50 }",
        );
        let s = run_toml(&text, seed).summary;
        assert_no_record_lost("crash", &s);
        let g = &s.logs["events"].groups["g"];
        let x = g.scaling.as_ref().expect("scaling figures");
        assert!(x.rebalances >= 1 && g.rebalances > x.rebalances, "{g:?}");
    }
}

#[test]
fn what_cannot_be_combined_names_its_key() {
    let base = |server: &str, autoscale: &str| orders(server, autoscale);
    let event_loop = r#"model = "event_loop"
loops = 2
max_connections = 20
steps = [{ work = "1ms" }]"#;
    assert_each_rejected(
        "autoscale-kinds-bad",
        &[
            (
                base(event_loop, "max = 4, target = 0.5"),
                "connections",
                "services.orders.autoscale.metric",
            ),
            (
                base(
                    "threads = 4\nsteps = [{ work = \"1ms\" }]",
                    r#"max = 4, target = 0.5, metric = "connections""#,
                ),
                "event loop's metric",
                "services.orders.autoscale.metric",
            ),
            (
                base(
                    "model = \"event_loop\"\nloops = 2\nsteps = [{ work = \"1ms\" }]",
                    r#"max = 4, target = 0.5, metric = "connections""#,
                ),
                "max_connections",
                "services.orders.autoscale.metric",
            ),
            (
                format!(
                    "{}\n[nodes.n]\ncores = 4\n",
                    base(
                        "threads = 4\nnode = \"n\"\nsteps = [{ work = \"1ms\" }]",
                        r#"max = 4, target = 0.5, metric = "cpu""#,
                    )
                ),
                "node",
                "services.orders.autoscale.metric",
            ),
            (
                group(1, "max = 4, target = 0.5", "")
                    .replace("replicas = 1", "replicas = 2")
                    .replace("members = 1", "members = 3"),
                "multiple",
                "groups.g.members",
            ),
        ],
    );
}

#[test]
fn the_shipped_storm_rebalances_at_every_step_and_loses_no_record() {
    let text = std::fs::read_to_string(
        crate::common::repo_root().join("scenarios/kafka-autoscale-storm.toml"),
    )
    .unwrap();
    let s = run_toml(&text, 1).summary;
    assert_no_record_lost("kafka-autoscale-storm", &s);
    let g = &s.logs["clicks"].groups["enricher"];
    let x = g.scaling.as_ref().expect("scaling figures");
    let (created, removed, _, max) = figures(&s, "enricher");
    assert_eq!((x.joined, x.left), (created, removed), "{x:?}");
    assert_eq!(
        g.rebalances, x.rebalances,
        "every rebalance is a scaling step"
    );
    assert!(x.rebalances >= 10 && max == 12, "{x:?}");
    assert!(g.lag_records_max > 5_000, "{g:?}");
}

#[test]
fn max_ejection_share_is_of_the_replicas_serving_now() {
    // Replicas 0 and 1 answer every request with an error. With 2 serving
    // replicas a 50 % max share ejects one; the autoscaler (10 busy of 20
    // threads: 1 pod against 0.25) adds two at 15 s, ready at 20 s: with 4
    // serving, both bad ones may be out at once.
    let faults: String = (0..2)
        .map(|r| format!("[[fault]]\ntarget = \"orders\"\nreplica = {r}\nerrors = 1.0\nat = \"0s\"\nfor = \"1000s\"\n"))
        .collect();
    let text = orders(
        "threads = 10\nsteps = [{ work = \"100ms\" }]\noutlier_detection = { consecutive_errors = 5, interval = \"1s\", base_ejection = \"3s\", max_ejection_percent = 50 }",
        r#"min = 2, max = 4, target = 0.25, startup = "5s""#,
    )
    .replace("replicas = 1", "replicas = 2")
        + &faults;
    let r = run_toml(&text, 1);
    assert_books("outlier", &r.summary);
    let a = r.summary.services["orders"].autoscale.as_ref().unwrap();
    assert_eq!((a.created, a.replicas_max), (2, 4), "{a:?}");
    let ts = &r.timeseries;
    let ejected = ts
        .series
        .iter()
        .find(|s| s.name == "orders" && s.metric == "ejected")
        .expect("the ejected series");
    let (before, after): (Vec<_>, Vec<_>) = ejected
        .values
        .iter()
        .zip(&ts.window_end_s)
        .partition(|(_, t)| **t <= 20.0);
    assert!(before.iter().all(|(v, _)| **v <= 1.0), "{before:?}");
    assert!(after.iter().any(|(v, _)| **v > 1.5), "{after:?}");
    assert_eq!(
        r.summary.services["orders"]
            .outlier
            .as_ref()
            .unwrap()
            .ejected_max,
        2
    );
}

#[test]
fn zone_aware_picks_among_the_zone_s_serving_replicas() {
    // Slot 0 is in zone a, slot 1 in zone b; clients are in b. Until the
    // second replica is ready (20 s) zone b has no replica serving, so
    // every request crosses to a; from then on every one stays in b.
    let text = orders(
        "threads = 20\nsteps = [{ work = \"100ms\" }]\nzones = [\"a\", \"b\"]\nzone_aware = true",
        r#"min = 1, max = 2, target = 0.25, startup = "5s""#,
    )
    .replace(
        "arrivals = \"deterministic\"",
        "arrivals = \"deterministic\"\nzone = \"b\"",
    );
    let s = run_toml(&text, 1).summary;
    assert_books("zones", &s);
    assert_eq!(figures(&s, "orders"), (1, 0, 2, 2));
    let z = s.services["orders"].zones.as_ref().expect("zone figures");
    assert!((1999..=2001).contains(&z.cross_zone), "{z:?}");
    assert_eq!(
        z.local + z.cross_zone,
        s.services["orders"].arrivals,
        "{z:?}"
    );
}
