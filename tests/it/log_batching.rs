//! Batching on partitioned logs end to end: a producer's batch sizes and
//! its publishers' linger against the Poisson closed forms, a consumer's
//! capacity with a per-batch cost, `cascade check`'s count of that cost,
//! the shipped scenario's direction, and bad input.

use sim_core::Override;

use crate::common::{assert_books, assert_each_rejected, cascade, repo_root, run_toml};

use crate::logs::log_pipeline::Pipeline;

/// P(N ≥ k) for N ~ Poisson(m).
fn poisson_at_least(m: f64, k: u32) -> f64 {
    let (mut term, mut below) = ((-m).exp(), 0.0);
    for i in 0..k {
        below += term;
        term *= m / f64::from(i + 1);
    }
    1.0 - below
}

/// Mean records per producer batch. A batch opens with the record that
/// finds no batch open and lingers L; Poisson arrivals at λ add N ~
/// Poisson(λL) records in that time, and a batch of B records leaves at
/// once. So the batch holds 1 + min(N, B − 1) records, and
/// E = 1 + Σ_{k=1}^{B−1} P(N ≥ k) (= 1 + λL when B never binds). The next
/// batch opens with the next arrival: by memorylessness every batch is an
/// independent draw of the same law.
fn mean_batch(lambda_linger: f64, batch: u32) -> f64 {
    1.0 + (1..batch)
        .map(|k| poisson_at_least(lambda_linger, k))
        .sum::<f64>()
}

/// The mean time a record waits in its batch when B never binds: the
/// first waits L, one arriving u after it waits L − u, so a batch waits
/// L + λ∫₀ᴸ(L − u)du = L + λL²/2 in all over 1 + λL records (renewal
/// reward: the ratio of the means).
fn mean_linger_wait_ms(lambda_per_ms: f64, linger_ms: f64) -> f64 {
    (linger_ms + lambda_per_ms * linger_ms * linger_ms / 2.0) / (1.0 + lambda_per_ms * linger_ms)
}

/// One producer replica (Poisson arrivals reach its publish step at λ,
/// the network takes no time), one partition, so one batch is open at a
/// time.
fn producer(publish: &str) -> String {
    Pipeline {
        run: "duration = \"100s\"",
        workload: "rate = 500",
        publish,
        worker: "threads = 1\nsteps = [{ work = \"0.1ms\" }]",
        log: "partitions = 1",
        group: "max_poll_records = 500",
        ..Pipeline::default()
    }
    .toml("linger")
}

/// λ = 500/s, L = 4 ms: λL = 2. 50,000 records in about 16,700 batches;
/// a batch's size has a variance of at most λL = 2, so the mean's
/// standard error is about 0.011 records (0.4 %): 2 % is five of them.
/// The wait: entry latency with the linger less that with `batch = 1`
/// (sent at once), same seed; a record's wait has a standard deviation
/// under L, so its mean's error over 50,000 records is under 0.02 ms
/// (0.7 % of 2.67 ms): checked at 3 %.
#[test]
fn producer_batches_hold_one_plus_lambda_linger_records() {
    let lambda_linger = 500.0 * 0.004;
    for (batch, expected) in [
        (100, mean_batch(lambda_linger, 100)),
        (3, mean_batch(lambda_linger, 3)),
    ] {
        let text = producer(&format!("linger = \"4ms\", batch = {batch}"));
        let s = run_toml(&text, 7).summary;
        assert_books("linger", &s);
        let log = &s.logs["events"];
        let pb = log.producer_batches.as_ref().expect("batching figures");
        assert_eq!(pb.records, log.produced);
        assert_eq!(pb.failed_records, 0);
        let got = pb.records_per_batch_mean;
        assert!(
            (got / expected - 1.0).abs() < 0.02,
            "batch {batch}: {got} records a batch, the closed form says {expected}"
        );
        if batch == 100 {
            assert!((expected - 3.0).abs() < 1e-9, "B does not bind: 1 + λL");
            let alone = run_toml(&producer("linger = \"4ms\", batch = 1"), 7).summary;
            let waited = s.entries["w"].latency_ms.mean - alone.entries["w"].latency_ms.mean;
            let want = mean_linger_wait_ms(0.5, 4.0);
            assert!(
                (waited / want - 1.0).abs() < 0.03,
                "a record waited {waited} ms in its batch, the closed form says {want}"
            );
            assert_eq!(
                alone.logs["events"]
                    .producer_batches
                    .as_ref()
                    .unwrap()
                    .records_per_batch_mean,
                1.0
            );
        }
    }
    // Poisson(2): P(N ≥ 1) + P(N ≥ 2) = (1 − e⁻²) + (1 − 3e⁻²).
    let capped = 1.0 + (1.0 - (-2f64).exp()) + (1.0 - 3.0 * (-2f64).exp());
    assert!((mean_batch(2.0, 3) - capped).abs() < 1e-12);
}

/// A member whose consumer steps cost nothing, at saturation: every poll
/// finds a full batch of n = 20, so a batch takes fixed + n × per_record
/// = 20 + 20 × 1 = 40 ms: 500 records a second. With a consumer step of
/// 1 ms as well (the steps run after the batch cost, per record): 20 /
/// (20 + 20 × 2) ms = 333.3 a second. The arrivals (1,000/s) only keep
/// the log full, so the only error is the batch in progress at the end
/// (n records) and the first, smaller one: under 0.5 % over 20 s.
#[test]
fn a_saturated_consumer_takes_n_over_fixed_plus_n_per_record() {
    for (work, capacity) in [("0ms", 500.0), ("1ms", 20.0 / 0.060)] {
        let text = Pipeline {
            run: "duration = \"20s\"\ndrain = \"0s\"",
            workload: "rate = 1000",
            worker: &format!("threads = 1\nsteps = [{{ work = \"{work}\" }}]"),
            log: "partitions = 1",
            group: "max_poll_records = 20\nbatch_cost = { fixed = \"20ms\", per_record = \"1ms\" }",
            ..Pipeline::default()
        }
        .toml("cost");
        let s = run_toml(&text, 3).summary;
        let g = &s.logs["events"].groups["g"];
        let got = g.committed as f64 / 20.0;
        assert!(
            (got / capacity - 1.0).abs() < 0.005,
            "work {work}: {got} records/s, capacity n / (fixed + n × cost) = {capacity}"
        );
        let pb = g.poll_batches.as_ref().expect("batch figures");
        assert!(pb.records_per_batch_mean > 19.9, "{pb:?}");
        // check counts the same capacity (full batches).
        let model = sim_core::load("cost.toml", &text, &[]).unwrap().model;
        let c = &sim_core::check::analyze(&model).logs[0].groups[0];
        assert!(
            (c.capacity_rps / capacity - 1.0).abs() < 1e-9,
            "check says {}",
            c.capacity_rps
        );
    }
}

/// `scenarios/kafka-batching.toml` against its two `--set` variants:
/// consumer batches of one record (each pays the 5 ms poll cost) cannot
/// keep up, and a producer batch of one (sent at once) takes the linger
/// out of every publish's latency.
#[test]
fn kafka_batching_raises_throughput_and_costs_the_linger() {
    let path = repo_root().join("scenarios/kafka-batching.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let run = |set: &[(&str, &str)]| {
        let overrides: Vec<Override> = set
            .iter()
            .map(|(p, v)| Override {
                path: (*p).into(),
                value: (*v).into(),
            })
            .collect();
        let s = sim_core::load("kafka-batching.toml", &text, &overrides).unwrap();
        let s = sim_core::run_scenario(&s, Some(1), &[]).summary;
        assert_books("kafka-batching", &s);
        s
    };
    let both = run(&[]);
    let again = run(&[]);
    assert_eq!(
        serde_json::to_string(&both).unwrap(),
        serde_json::to_string(&again).unwrap(),
        "same scenario and seed, same summary"
    );
    let one_record_polls = run(&[("groups.billing.max_poll_records", "1")]);
    let no_linger = run(&[("services.checkout.steps.1.batch", "1")]);
    let g = |s: &sim_core::output::Summary| s.logs["orders"].groups["billing"].clone();
    let (a, b) = (g(&both), g(&one_record_polls));
    assert_eq!(a.in_log_at_end, 0, "batched: keeps up, {a:?}");
    assert!(
        b.in_log_at_end > 10_000,
        "one record a poll: falls behind, {b:?}"
    );
    assert!(a.lag_records_max < 100 && b.lag_records_max > 50_000);
    let latency = |s: &sim_core::output::Summary| s.entries["orders"].latency_ms.mean;
    let added = latency(&both) - latency(&no_linger);
    assert!(
        added > 2.0 && added < 5.0,
        "the linger (5 ms) adds {added} ms to a publish on average"
    );
}

#[test]
fn bad_batching_keys_are_refused_with_their_place() {
    let publish = |keys: &str| producer(keys);
    let group = |keys: &str| {
        Pipeline {
            run: "duration = \"1s\"",
            workload: "rate = 1",
            worker: "threads = 1\nsteps = [{ work = \"1ms\" }]",
            log: "partitions = 1",
            group: keys,
            ..Pipeline::default()
        }
        .toml("bad")
    };
    let queue_publish = "name = \"q\"\nduration = \"1s\"\n[workload.w]\ntarget = \"a\"\nrate = 1\n\
        [services.a]\nthreads = 4\nsteps = [{ publish = \"jobs\", linger = \"5ms\" }]\n\
        [services.b]\nthreads = 4\nsteps = [{ work = \"1ms\" }]\n\
        [queues.jobs]\nconsumer = \"b\"\n"
        .to_owned();
    let not_publish = "name = \"w\"\nduration = \"1s\"\n[workload.w]\ntarget = \"a\"\nrate = 1\n\
        [services.a]\nthreads = 4\nsteps = [{ work = \"1ms\", linger = \"5ms\" }]\n"
        .to_owned();
    let cases = vec![
        (
            publish("linger = \"0ms\""),
            "must be longer than 0",
            "linger",
        ),
        (publish("linger = 5"), "expected a duration", "linger"),
        (publish("batch = 10"), "`batch` needs `linger`", "batch"),
        (
            publish("linger = \"5ms\", batch = 0"),
            "must be 1..=1000000 records",
            "batch",
        ),
        (queue_publish, "for publishes to a log", "linger"),
        (not_publish, "belongs to a `publish` step", "linger"),
        (
            group("batch_cost = {}"),
            "give `fixed`, `per_record` or both",
            "batch_cost",
        ),
        (
            group("batch_cost = { fixed = \"2 parsecs\" }"),
            "",
            "batch_cost.fixed",
        ),
        (
            group("batch_cost = { per_record = 1 }"),
            "expected a duration",
            "per_record",
        ),
        (
            group("batch_cost = { fixed = \"2ms\", each = \"1ms\" }"),
            "unknown field",
            "each",
        ),
    ];
    assert_each_rejected("log-batching-bad", &cases);
}

/// A batch sent while the broker is down fails every publish in it, and
/// a producer replica's crash loses its open batches (those records were
/// never produced): either way each record that reached the log is one
/// successful publish, and each group's books hold.
#[test]
fn batches_fail_with_the_broker_and_die_with_their_producer() {
    let fault = |tail: &'static str| {
        Pipeline {
            run: "duration = \"20s\"",
            workload: "rate = 500",
            publish: "linger = \"10ms\", batch = 50",
            worker: "threads = 2\nsteps = [{ work = \"0.5ms\" }]",
            log: "partitions = 2",
            group: "max_poll_records = 100",
            tail,
            ..Pipeline::default()
        }
        .toml("faults")
    };
    let outage = run_toml(
        &fault("[[fault]]\ntarget = \"broker\"\noutage = true\nat = \"5s\"\nfor = \"2s\""),
        5,
    )
    .summary;
    let crash = run_toml(
        &fault("[[fault]]\ntarget = \"producer\"\ncrash = true\nat = \"5s\"\nfor = \"1s\""),
        5,
    )
    .summary;
    for (name, s) in [("outage", &outage), ("crash", &crash)] {
        assert_books(name, s);
        let log = &s.logs["events"];
        let e = &s.entries["w"];
        assert_eq!(log.produced, e.ok, "{name}: one record per acked publish");
        let g = &log.groups["g"];
        assert_eq!(
            log.produced,
            g.committed + g.in_log_at_end + g.lost_to_retention + g.dead_lettered,
            "{name}: {g:?}"
        );
    }
    let pb = outage.logs["events"].producer_batches.clone().unwrap();
    // About 2 s of 500 publishes a second fail (batches sent in the window).
    assert!(
        pb.failed_records > 900 && pb.failed_records < 1100,
        "{pb:?}"
    );
    assert_eq!(outage.entries["w"].failed.error, pb.failed_records);
    assert!(crash.entries["w"].failed.rejected + crash.entries["w"].failed.error > 0);
}

/// `cascade schema` describes the new keys (editors complete them).
#[test]
fn the_schema_describes_batching() {
    let out = cascade(&["schema"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for key in [
        "\"linger\"",
        "\"batch\"",
        "\"batch_cost\"",
        "\"per_record\"",
    ] {
        assert!(text.contains(key), "no {key} in the schema");
    }
}
