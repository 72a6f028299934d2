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

/// A consumer group of one member on `worker` (one replica), whose every
/// job start (a record's or a request's) allocates more than its free heap
/// (1.5 MiB): each begins a 30 ms GC pause. Records come from
/// `records` (the producer's workload), direct requests to `worker` from
/// `direct`; each record or request works `work`.
fn gc_group(records: &str, direct: &str, work: &str, group: &str) -> String {
    gc_group_publishing(records, "", direct, work, group)
}

/// `gc_group` with `publish` keys on the producer's publish step.
fn gc_group_publishing(
    records: &str,
    publish: &str,
    direct: &str,
    work: &str,
    group: &str,
) -> String {
    let worker = format!(
        "threads = 4\nmemory = {{ limit = \"10.5MiB\", base = \"9MiB\" }}\n\
         gc = {{ allocation = \"2MiB\", young_pause = \"30ms\" }}\n\
         steps = [{{ work = \"{work}\" }}]"
    );
    let workload = format!("{records}\narrivals = \"deterministic\"");
    let tail =
        format!("[workload.direct]\ntarget = \"worker\"\n{direct}\narrivals = \"deterministic\"");
    Pipeline {
        run: "duration = \"2s\"",
        workload: &workload,
        publish,
        worker: &worker,
        log: "partitions = 1",
        group: &format!("members = 1\nmax_poll_records = 1\n{group}"),
        tail: &tail,
        ..Pipeline::default()
    }
    .toml("gc-group")
}

/// A member is its replica's own process. A request to `worker` at 50 ms
/// begins a pause [50, 80); the first record, appended at 62.5 ms, finds
/// the member idle but its process stopped: it polls at 80, the pause's
/// end (and its record's start begins the next pause, [80, 110)); the
/// second record, at 125 ms, is polled at once. (Before GC froze member
/// polls, the first batch started at 62.5.)
#[test]
fn a_members_poll_in_a_gc_pause_is_made_at_its_end() {
    let text = gc_group(
        "rate = 16\nrequests = 2",
        "rate = 20\nrequests = 1",
        "10ms",
        "",
    );
    let (trace, summary) = world_trace(&text, 1);
    let ms = 1_000_000;
    assert_eq!(trace, [(80 * ms, 0, 0, 0), (125 * ms, 0, 0, 1)]);
    let g = &summary.logs["events"].groups["g"];
    assert_eq!(summary.logs["events"].produced, 2);
    assert_eq!((g.consumed, g.committed, g.duplicates), (2, 2, 0), "{g:?}");
    assert_eq!(g.in_log_at_end, 0);
    assert_eq!(
        summary.services["worker"].completed, 3,
        "two records, one request"
    );
}

/// A member's `max_poll_interval` timer is its own: the record appended at
/// 50 ms is polled at once (its start begins a pause [50, 80)), so the
/// timer is due at 150; a request at 125 ms begins a pause [125, 155), in
/// which it falls: the member is evicted at 155, the pause's end (150
/// before GC froze it). Its record, 60 ms of work held up by both pauses,
/// ends late at 170; the member rejoins, a 100 ms rebalance, and the next
/// owner's batch starts at 270 and commits it: a duplicate, nothing lost.
#[test]
fn a_max_poll_interval_due_in_a_gc_pause_is_seen_at_its_end() {
    let group = "max_poll_interval = \"100ms\"\nrebalance = \"100ms\"";
    let text = gc_group(
        "rate = 20\nrequests = 1",
        "rate = 8\nrequests = 1",
        "60ms",
        group,
    );
    let (trace, summary) = world_trace(&text, 1);
    let ms = 1_000_000;
    assert_eq!(
        trace,
        [
            (50 * ms, 0, 0, 0),
            (155 * ms, 0, 0, REWIND),
            (270 * ms, 0, 0, 0)
        ]
    );
    let g = &summary.logs["events"].groups["g"];
    assert_eq!((g.evictions, g.late_processings), (1, 1), "{g:?}");
    assert_eq!((g.consumed, g.committed, g.duplicates), (1, 1, 1), "{g:?}");
    assert_eq!((summary.logs["events"].produced, g.in_log_at_end), (1, 0));
}

/// A member's retry-in-place backoff is its own timer: the one record, a
/// poison one, is polled at 50 ms (its start begins a pause [50, 80)),
/// fails at 90 and is due again at 140, after a 50 ms backoff; a request
/// at 125 ms begins a pause [125, 155), in which the backoff ends: the
/// record is tried again at 155, the pause's end (140 before GC froze
/// it). It fails every time: it stays in the log, blocking its partition.
#[test]
fn a_retry_backoff_ending_in_a_gc_pause_ends_at_its_end() {
    let group = "on_failure = \"retry_in_place\"\nretry_backoff = \"50ms\"";
    let text = gc_group_publishing(
        "rate = 20\nrequests = 1",
        "poison = 1.0",
        "rate = 8\nrequests = 1",
        "10ms",
        group,
    )
    .replace("duration = \"2s\"", "duration = \"1s\"\ndrain = \"0s\"");
    let (trace, summary) = world_trace(&text, 1);
    let ms = 1_000_000;
    assert_eq!(trace[..2], [(50 * ms, 0, 0, 0), (155 * ms, 0, 0, 0)]);
    let g = &summary.logs["events"].groups["g"];
    assert!(g.failures >= 2, "{g:?}");
    assert_eq!((g.committed, g.in_log_at_end), (0, 1), "{g:?}");
}
