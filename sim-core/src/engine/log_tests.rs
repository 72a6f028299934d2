//! Partitioned logs, seen from inside the engine: the sequence of records
//! each partition's current batches start (`Logs::trace`).

use super::REWIND;
use crate::options::RunOptions;
use crate::time::NS_PER_S;

fn world_trace(text: &str, seed: u64) -> (Vec<(u64, u32, u32, u64)>, crate::output::Summary) {
    let s = crate::scenario::load("t.toml", text, &[]).expect("scenario loads");
    let opts = RunOptions {
        seed: Some(seed),
        ..RunOptions::default()
    };
    let mut w = super::super::World::new(&s.model, &opts);
    w.run_loop(&opts.watch);
    let trace = std::mem::take(&mut w.logs.trace);
    (trace, w.finish(&opts).summary)
}

const STORM: &str = r#"
name = "storm"
duration = "60s"
[workload.w]
target = "producer"
rate = 40
[services.producer]
threads = 64
steps = [{ publish = "events" }]
[services.worker]
replicas = 3
threads = 4
steps = [{ work = { dist = "exponential", mean = "20ms" } }]
[logs.events]
partitions = 6
[groups.g]
log = "events"
consumer = "worker"
members = 4
max_poll_records = 40
max_poll_interval = "600ms"
rebalance = "500ms"
[[fault]]
target = "worker"
crash = true
at = "20s"
for = "5s"
"#;

/// Within a partition, current batches start records in offset order: the
/// next record, or the same one again (a retry), or — after a rewind (a
/// batch given back) — the offset rewound to.
#[test]
fn every_partition_is_processed_in_offset_order_across_rebalances() {
    for seed in 1..=3 {
        let (trace, summary) = world_trace(STORM, seed);
        let g = &summary.logs["events"].groups["g"];
        assert!(g.rebalances >= 2 && g.evictions > 0, "{g:?}");
        let mut expected = [0u64; 6];
        let mut last = [u64::MAX; 6];
        let mut rewinds = 0;
        for &(_, _, p, o) in &trace {
            let p = p as usize;
            if o & REWIND != 0 {
                expected[p] = o & !REWIND;
                last[p] = u64::MAX;
                rewinds += 1;
                continue;
            }
            assert!(
                o == expected[p] || o == last[p],
                "seed {seed}: partition {p} started {o}, expected {}",
                expected[p]
            );
            last[p] = o;
            expected[p] = o + 1;
        }
        assert!(rewinds > 0);
        assert_eq!(
            summary.logs["events"].produced,
            g.committed + g.in_log_at_end + g.lost_to_retention + g.dead_lettered
        );
    }
}

/// A rebalance stops every member for its whole pause: no record starts
/// inside it, and they start again as it ends.
#[test]
fn a_rebalance_stops_every_member_for_its_length() {
    let text = r#"
name = "pause"
duration = "30s"
[workload.w]
target = "producer"
rate = 200
arrivals = "deterministic"
[services.producer]
threads = 8
steps = [{ publish = "events" }]
[services.worker]
replicas = 2
threads = 2
steps = [{ work = "2ms" }]
[logs.events]
partitions = 4
[groups.g]
log = "events"
consumer = "worker"
members = 2
max_poll_records = 5
rebalance = "2s"
[[fault]]
target = "worker"
crash = true
replica = 1
at = "10s"
for = "5s"
"#;
    let (trace, summary) = world_trace(text, 1);
    let g = &summary.logs["events"].groups["g"];
    assert_eq!(g.rebalances, 2, "the crash and the restart");
    assert!((g.rebalancing_s - 4.0).abs() < 1e-9, "{}", g.rebalancing_s);
    for (from, to) in [
        (10 * NS_PER_S, 12 * NS_PER_S),
        (15 * NS_PER_S, 17 * NS_PER_S),
    ] {
        let inside = trace
            .iter()
            .filter(|&&(t, _, _, o)| o & REWIND == 0 && t > from && t < to)
            .count();
        assert_eq!(inside, 0, "records started inside the pause [{from}, {to})");
        let first = trace
            .iter()
            .find(|&&(t, _, _, o)| o & REWIND == 0 && t >= to)
            .expect("work resumes");
        assert_eq!(first.0, to, "the group resumes as the pause ends");
    }
    assert_eq!(g.in_log_at_end, 0);
    assert_eq!(g.committed, summary.logs["events"].produced);
}
