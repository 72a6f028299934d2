//! Partitioned logs, seen from inside the engine: the sequence of records
//! each partition's current batches start (`Logs::trace`).

use super::REWIND;
use super::log_pipeline::Pipeline;
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

fn storm() -> String {
    Pipeline {
        run: "duration = \"60s\"",
        workload: "rate = 40",
        worker: "replicas = 3\nthreads = 4\nsteps = [{ work = { dist = \"exponential\", mean = \"20ms\" } }]",
        log: "partitions = 6",
        group: "members = 4\nmax_poll_records = 40\nmax_poll_interval = \"600ms\"\nrebalance = \"500ms\"",
        tail: "[[fault]]\ntarget = \"worker\"\ncrash = true\nat = \"20s\"\nfor = \"5s\"",
        ..Pipeline::default()
    }
    .toml("storm")
}

/// Within a partition, current batches start records in offset order: the
/// next record, or the same one again (a retry), or — after a rewind (a
/// batch given back) — the offset rewound to.
#[test]
fn every_partition_is_processed_in_offset_order_across_rebalances() {
    for seed in 1..=3 {
        let (trace, summary) = world_trace(&storm(), seed);
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
    let text = Pipeline {
        run: "duration = \"30s\"",
        workload: "rate = 200\narrivals = \"deterministic\"",
        producer: "threads = 8",
        worker: "replicas = 2\nthreads = 2\nsteps = [{ work = \"2ms\" }]",
        log: "partitions = 4",
        group: "members = 2\nmax_poll_records = 5\nrebalance = \"2s\"",
        tail: "[[fault]]\ntarget = \"worker\"\ncrash = true\nreplica = 1\nat = \"10s\"\nfor = \"5s\"",
        ..Pipeline::default()
    }
    .toml("pause");
    let (trace, summary) = world_trace(&text, 1);
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
