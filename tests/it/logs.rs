//! Partitioned logs and consumer groups end to end: the M/M/1 anchor,
//! evictions and exact duplicates, retention losses, failure handling,
//! the no-record-lost books, determinism and bad input. (Offset order and
//! rebalance pauses are checked inside the engine, on its record trace:
//! `sim-core/src/engine/log_tests.rs`.)

use crate::common::{assert_books, assert_each_rejected, cascade, run_toml, temp_dir};
use sim_core::output::{GroupSummary, Summary};

#[path = "../../sim-core/src/engine/log_pipeline.rs"]
pub(crate) mod log_pipeline;
use log_pipeline::Pipeline;

/// Per group: produced = committed + still in the log + lost to retention
/// + dead-lettered.
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

fn group<'a>(s: &'a Summary, log: &str, g: &str) -> &'a GroupSummary {
    &s.logs[log].groups[g]
}

/// P partitions, uniform keys, one member per partition on a replica of
/// its own with one thread, one record per batch, exponential work: P
/// independent M/M/1 queues at λ/P. λ = 200/s, P = 4, mean work 10 ms:
/// ρ = 0.5, wait in queue Wq = ρ / (μ − λ/P) = 10 ms, records in system
/// L = ρ / (1 − ρ) = 1 per partition. 200 k records: the mean wait's
/// standard error is about 1.2 % (M/M/1's autocorrelated waits), so 5 %
/// is four of them; lag is sampled once a second (1,000 samples of 4
/// partitions, about 2.5 % each), checked at 10 %.
#[test]
fn uniform_keys_make_p_independent_mm1_queues() {
    let text = Pipeline {
        run: "duration = \"1000s\"\nwarmup = \"20s\"",
        workload: "rate = 200",
        worker: "replicas = 4\nthreads = 1\nsteps = [{ work = { dist = \"exponential\", mean = \"10ms\" } }]",
        log: "partitions = 4",
        group: "members = 4\nmax_poll_records = 1",
        ..Pipeline::default()
    }
    .toml("mm1");
    let s = run_toml(&text, 11).summary;
    assert_no_record_lost("mm1", &s);
    let g = group(&s, "events", "g");
    let wait = g.wait_ms_mean;
    assert!(
        (wait - 10.0).abs() < 0.5,
        "mean wait {wait} ms, M/M/1 says 10"
    );
    let lag = g.lag_records_mean;
    assert!((lag - 4.0).abs() < 0.4, "mean lag {lag}, M/M/1 says 4 × 1");
    assert_eq!(g.duplicates, 0);
    assert_eq!(g.rebalances, 0);
    // The hash spreads a million keys evenly: no partition is hot.
    let log = &s.logs["events"];
    assert!((log.produced_max_partition as f64) < 1.01 * log.produced_mean_partition);
}

/// A deterministic eviction: 40 records a millisecond apart; the consumer
/// is 3× slower for the first 2.5 s (110 ms → 330 ms a record). The first
/// batch is record 0 alone; the second, records 1-10, would take 3.3 s
/// but the poll interval is 1.5 s: at 1.83 s the member has finished
/// records 1-4 and is processing 5. It is evicted (its commit fails, the
/// batch goes back to offset 1), a rebalance; record 5 ends at 1.98 s (a
/// late processing) and the member rejoins, a second rebalance. After
/// the pauses the member owns the partition again, at full speed:
/// records 1-5 are processed a second time — exactly 5 duplicates.
#[test]
fn an_evicted_members_batch_is_redelivered_and_duplicates_are_exact() {
    let text = Pipeline {
        run: "duration = \"10s\"",
        workload: "rate = 1000\narrivals = \"deterministic\"\nrequests = 40",
        worker: "replicas = 2\nthreads = 1\nsteps = [{ work = \"110ms\" }]",
        log: "partitions = 1",
        group: "members = 2\nmax_poll_records = 10\nmax_poll_interval = \"1500ms\"\nrebalance = \"1s\"",
        tail: "[[fault]]\ntarget = \"worker\"\nslowdown = 3\nat = \"0s\"\nfor = \"2500ms\"",
        ..Pipeline::default()
    }
    .toml("evict");
    let s = run_toml(&text, 1).summary;
    assert_no_record_lost("evict", &s);
    let g = group(&s, "events", "g");
    assert_eq!(s.logs["events"].produced, 40);
    assert_eq!(g.evictions, 1, "{g:?}");
    assert_eq!(g.rebalances, 2, "eviction, then the rejoin");
    assert_eq!(g.duplicates, 5, "records 1-5 again");
    assert_eq!(g.late_processings, 1, "record 5 ran on after the eviction");
    assert_eq!(g.committed, 40);
    assert_eq!(g.consumed + g.late_processings - g.duplicates, g.committed);
}

/// A crash loses the member's uncommitted batch to the next owner: every
/// record it had finished in that batch is processed again, and the books
/// say so exactly (successful processings − duplicates = records).
#[test]
fn a_crashed_members_batch_goes_to_the_next_owner() {
    let text = Pipeline {
        run: "duration = \"40s\"",
        workload: "rate = 100",
        worker: "replicas = 2\nthreads = 2\nsteps = [{ work = { dist = \"exponential\", mean = \"5ms\" } }]",
        log: "partitions = 2",
        group: "members = 2\nmax_poll_records = 100\nrebalance = \"1s\"",
        tail: "[[fault]]\ntarget = \"worker\"\ncrash = true\nreplica = 0\nat = \"10s\"\nfor = \"10s\"",
        ..Pipeline::default()
    }
    .toml("crash");
    for seed in 1..=4 {
        let s = run_toml(&text, seed).summary;
        assert_no_record_lost("crash", &s);
        let g = group(&s, "events", "g");
        assert_eq!(g.rebalances, 2, "seed {seed}: the crash and the return");
        assert_eq!(g.in_log_at_end, 0, "seed {seed}: drained");
        assert_eq!(
            g.consumed + g.late_processings - g.duplicates,
            s.logs["events"].produced,
            "seed {seed}: {g:?}"
        );
    }
}

/// Retention by count deletes what nobody fetched: a consumer far slower
/// than its producer loses records, counted, and the books still add up.
#[test]
fn retention_deletes_unconsumed_records_as_counted_losses() {
    let text = Pipeline {
        run: "duration = \"30s\"\ndrain = \"5s\"",
        workload: "rate = 200",
        worker: "threads = 1\nsteps = [{ work = \"10ms\" }]",
        log: "partitions = 2\nretention = { count = 100, time = \"2s\" }",
        group: "max_poll_records = 10",
        ..Pipeline::default()
    }
    .toml("retention");
    let s = run_toml(&text, 3).summary;
    assert_no_record_lost("retention", &s);
    let g = group(&s, "events", "g");
    assert!(g.lost_to_retention > 2000, "{g:?}");
    assert!(g.committed > 2000, "{g:?}");
    assert!(
        g.lag_s_max <= 2.5,
        "nothing older than the retention waits: {g:?}"
    );
}

fn poison(on_failure: &str) -> String {
    Pipeline {
        run: "duration = \"20s\"\ndrain = \"5s\"",
        workload: "rate = 100",
        publish: "poison = 0.002",
        worker: "replicas = 4\nthreads = 1\nsteps = [{ work = \"2ms\" }]",
        log: "partitions = 4",
        group: &format!("members = 4\nmax_poll_records = 20\n{on_failure}"),
        tail: "[logs.retries]\npartitions = 1\n[logs.dlq]\npartitions = 1",
        ..Pipeline::default()
    }
    .toml("poison")
}

/// Retrying a poison record in place blocks its partition for good
/// (head-of-line); moving it to a retry log or a dead-letter log does not.
#[test]
fn retry_in_place_blocks_a_partition_and_moving_the_record_does_not() {
    let s = run_toml(&poison(""), 5).summary;
    assert_no_record_lost("in place", &s);
    let g = group(&s, "events", "g");
    assert!(g.hol_blocked_s > 5.0 || g.in_log_at_end > 100, "{g:?}");
    assert!(g.failures > 10, "{g:?}");
    let s = run_toml(
        &poison("on_failure = \"dead_letter\"\ndead_letter = \"dlq\""),
        5,
    )
    .summary;
    assert_no_record_lost("dead letter", &s);
    let g = group(&s, "events", "g");
    assert!(
        g.dead_lettered > 0 && g.dead_lettered == g.failures,
        "{g:?}"
    );
    assert_eq!(g.in_log_at_end, 0);
    assert_eq!(g.hol_blocked_s, 0.0);
    assert_eq!(s.logs["dlq"].produced, g.dead_lettered);
    let s = run_toml(
        &poison("on_failure = \"retry_log\"\nretry_log = \"retries\""),
        5,
    )
    .summary;
    assert_no_record_lost("retry log", &s);
    let g = group(&s, "events", "g");
    assert!(g.moved_to_retry > 0 && g.in_log_at_end == 0, "{g:?}");
    assert_eq!(s.logs["retries"].produced, g.moved_to_retry);
}

/// The same scenario and seed give byte-identical files; declaring a log
/// (fed by a publish of its own) moves no other draw.
#[test]
fn logs_are_deterministic_and_a_new_log_moves_no_other_draw() {
    let base = r#"
name = "det"
duration = "20s"
[workload.w]
target = "api"
rate = 100
[services.api]
threads = 16
steps = [{ work = { dist = "exponential", mean = "3ms" } }, { publish = "events" }]
[services.worker]
replicas = 2
threads = 2
steps = [{ work = { dist = "exponential", mean = "5ms" } }]
[logs.events]
partitions = 8
keys = { count = 1000, zipf = 1.1 }
[groups.g]
log = "events"
consumer = "worker"
members = 3
max_poll_records = 7
"#;
    let dir = temp_dir("logs-det");
    let write = |name: &str, text: &str| {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    let a = write("a.toml", base);
    for out in ["o1", "o2"] {
        let o = dir.join(out);
        let r = cascade(&[
            "run",
            a.to_str().unwrap(),
            "--out",
            o.to_str().unwrap(),
            "--quiet",
        ]);
        assert_eq!(
            r.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&r.stderr)
        );
    }
    for f in ["summary.json", "timeseries.csv"] {
        assert_eq!(
            std::fs::read(dir.join("o1").join(f)).unwrap(),
            std::fs::read(dir.join("o2").join(f)).unwrap(),
            "{f} differs between two runs"
        );
    }
    let more = base.replace(
        "steps = [{ work = { dist = \"exponential\", mean = \"3ms\" } }, { publish = \"events\" }]",
        "steps = [{ work = { dist = \"exponential\", mean = \"3ms\" } }, { publish = \"events\" }, { publish = \"audit\" }]",
    ) + "[logs.audit]\npartitions = 3\n";
    let x = run_toml(base, 9).summary;
    let y = run_toml(&more, 9).summary;
    assert_eq!(
        x.logs["events"], y.logs["events"],
        "the events log saw other keys or timings"
    );
    assert_eq!(x.entries["w"].latency_ms, y.entries["w"].latency_ms);
    assert_eq!(y.logs["audit"].produced, x.logs["events"].produced);
}

#[test]
fn bad_log_and_group_keys_are_refused_with_their_place() {
    let base = |logs: &str, groups: &str| {
        format!(
            r#"name = "bad"
duration = "1s"
[workload.w]
target = "api"
rate = 1
[services.api]
threads = 1
steps = [{{ publish = "events" }}]
[services.worker]
threads = 1
steps = [{{ work = "1ms" }}]
{logs}
{groups}
"#
        )
    };
    let ok_log = "[logs.events]\npartitions = 2";
    let ok_group = "[groups.g]\nlog = \"events\"\nconsumer = \"worker\"";
    let cases = vec![
        (
            base("[logs.events]\npartitions = 0", ""),
            "must be 1..=",
            "logs.events.partitions",
        ),
        (
            base(ok_log, "[groups.g]\nlog = \"nope\"\nconsumer = \"worker\""),
            "unknown log `nope`",
            "groups.g.log",
        ),
        (
            base(ok_log, "[groups.g]\nlog = \"events\"\nconsumer = \"ghost\""),
            "unknown service `ghost`",
            "groups.g.consumer",
        ),
        (
            base(ok_log, &format!("{ok_group}\nmembers = 0")),
            "must be 1..=",
            "groups.g.members",
        ),
        (
            base(ok_log, &format!("{ok_group}\nmax_poll_records = 0")),
            "at least 1",
            "groups.g.max_poll_records",
        ),
        (
            base(ok_log, &format!("{ok_group}\non_failure = \"retry_log\"")),
            "needs `retry_log",
            "groups.g.on_failure",
        ),
        (
            base(ok_log, &format!("{ok_group}\nretry_log = \"events\"")),
            "belongs to on_failure",
            "groups.g.retry_log",
        ),
        (
            base(
                "[logs.events]\npartitions = 2\nretention = { count = 0 }",
                "",
            ),
            "at least 1",
            "logs.events.retention.count",
        ),
        (
            base(
                "[logs.events]\npartitions = 2\nkeys = { count = 10, zipf = -1 }",
                "",
            ),
            "exponent",
            "logs.events.keys.zipf",
        ),
        (
            base(ok_log, &format!("{ok_group}\nmax_poll_interval = \"0s\"")),
            "longer than 0",
            "groups.g.max_poll_interval",
        ),
    ];
    assert_each_rejected("logs-bad", &cases);
}

/// The shipped scenarios tell the stories their top comments tell.
#[test]
fn the_kafka_scenarios_tell_their_stories() {
    let run = |name: &str| {
        let path = crate::common::repo_root().join(format!("scenarios/{name}.toml"));
        let s = run_toml(&std::fs::read_to_string(path).unwrap(), 1).summary;
        assert_no_record_lost(name, &s);
        s
    };
    let hot = run("kafka-hot-key");
    let log = &hot.logs["orders"];
    assert!(log.produced_max_partition as f64 > 2.0 * log.produced_mean_partition);
    assert!(group(&hot, "orders", "billing").lag_s_max > 10.0);

    let stuck = run("kafka-poison-record");
    let freed = run("kafka-poison-record-fixed");
    let (a, b) = (
        group(&stuck, "events", "indexer"),
        group(&freed, "events", "indexer"),
    );
    assert!(a.hol_blocked_s > 60.0 && a.in_log_at_end > 1000, "{a:?}");
    assert!(
        b.hol_blocked_s == 0.0 && b.in_log_at_end == 0 && b.dead_lettered > 0,
        "{b:?}"
    );

    let storm = run("kafka-rebalance-storm");
    let calm = run("kafka-rebalance-storm-fixed");
    let (a, b) = (
        group(&storm, "clicks", "enricher"),
        group(&calm, "clicks", "enricher"),
    );
    assert!(
        a.evictions > 0 && a.rebalances > a.evictions && a.duplicates > 0,
        "{a:?}"
    );
    assert!(b.evictions == 0 && b.duplicates == 0, "{b:?}");
    assert!(a.lag_records_max > 2 * b.lag_records_max, "{a:?} vs {b:?}");

    let lost = run("retention-loss");
    let g = group(&lost, "ledger", "ledger");
    assert!(
        g.lost_to_retention > 1000 && g.lag_s_max <= 30.0 + 1e-9,
        "{g:?}"
    );
}
