//! Versioned stores (optimistic concurrency): conditional writes against
//! an independent simulation of the same closed loop, the books of the
//! `conflict` outcome, Brooker's backoff-and-jitter experiment, and bad
//! input.

use crate::common::{assert_books, assert_each_rejected, repo_root, run_toml};

/// `users` closed-loop clients on ONE key: think ~ Exp(think), read, wait
/// ~ Exp(gap), write conditionally; no retries, no latencies.
fn one_key(users: u32, think_ms: f64, gap_ms: f64, duration_s: u32) -> String {
    format!(
        r#"
name = "occ-one-key"
duration = "{duration_s}s"
warmup = "2s"
[workload.clients]
target = "api"
users = {users}
think = {{ dist = "exponential", mean = "{think_ms}ms" }}
[stores.k]
keys = {{ count = 1 }}
[services.api]
threads = {users}
steps = [
  {{ read = "k" }},
  {{ wait = {{ dist = "exponential", mean = "{gap_ms}ms" }} }},
  {{ write = "k", conditional = true }},
]
"#
    )
}

fn no_warmup(text: String) -> String {
    text.replace("warmup = \"2s\"", "warmup = \"0s\"")
}

/// xorshift64*: the Monte Carlo's own generator (no engine code).
struct XorShift(u64);

impl XorShift {
    fn uniform(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let x = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D);
        ((x >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    fn exp(&mut self, mean: f64) -> f64 {
        -mean * self.uniform().ln()
    }
}

/// The same closed loop simulated directly: each user thinks, reads the
/// key's version, waits its gap, and writes if the version is unchanged.
/// Returns the share of writes that conflict.
fn monte_carlo(users: usize, think: f64, gap: f64, writes: u64, seed: u64) -> f64 {
    let mut rng = XorShift(seed);
    let mut version = 0u64;
    // Per user: (time of its next event, Some(version read) while in its gap).
    let mut state: Vec<(f64, Option<u64>)> = (0..users).map(|_| (rng.exp(think), None)).collect();
    let (mut done, mut conflicts) = (0u64, 0u64);
    while done < writes {
        let u = (0..users)
            .min_by(|&a, &b| state[a].0.total_cmp(&state[b].0))
            .expect("users");
        let now = state[u].0;
        state[u] = match state[u].1 {
            None => (now + rng.exp(gap), Some(version)),
            Some(read) => {
                done += 1;
                if read == version {
                    version += 1;
                } else {
                    conflicts += 1;
                }
                (now + rng.exp(think), None)
            }
        };
    }
    conflicts as f64 / writes as f64
}

#[test]
fn conditional_writes_on_one_key_conflict_as_an_independent_simulation_says() {
    for (users, think, gap) in [(2u32, 20.0, 10.0), (5, 30.0, 10.0)] {
        let r = run_toml(&one_key(users, think, gap, 100), 7);
        let s = &r.summary.stores["k"];
        let n = s.conditional_writes as f64;
        let p = monte_carlo(users as usize, think, gap, 2_000_000, 11);
        let measured = s.conflict_ratio;
        // Binomial error of the run's ratio (the Monte Carlo's is ~1/30 of
        // it), × 5 for safety and for the correlation of neighbouring
        // writes' outcomes.
        let tol = 5.0 * (p * (1.0 - p) / n).sqrt();
        eprintln!("{users} users: {measured:.4} over {n} writes; independent {p:.4} ± {tol:.4}");
        assert!(
            n > 5_000.0,
            "{users} users: only {n} writes measured: too few for the tolerance"
        );
        assert!(
            (measured - p).abs() < tol,
            "{users} users: conflict ratio {measured:.4} over {n} writes, independent simulation {p:.4} ± {tol:.4}"
        );
        assert_eq!(s.conflicts + s.writes, s.conditional_writes);
        assert_eq!(r.summary.services["api"].conflicts, Some(s.conflicts));
    }
}

#[test]
fn a_conflict_is_one_failed_request_and_a_plain_write_never_conflicts() {
    // No warm-up: the store's counters and the requests' outcomes cover
    // the same requests.
    let r = run_toml(&no_warmup(one_key(4, 20.0, 10.0, 20)), 3);
    let s = &r.summary;
    assert_books("occ", s);
    let e = &s.entries["clients"];
    let conflicts = s.services["api"]
        .conflicts
        .expect("the api writes conditionally");
    assert!(conflicts > 100, "{conflicts} conflicts");
    // No retry: each conflict is the request's one outcome, an error.
    assert_eq!(e.failed.error, conflicts);
    assert_eq!(e.ok, s.stores["k"].writes);

    let plain = no_warmup(one_key(4, 20.0, 10.0, 20)).replace(", conditional = true", "");
    let r = run_toml(&plain, 3);
    let st = &r.summary.stores["k"];
    assert_eq!((st.conflicts, st.conditional_writes), (0, 0));
    assert_eq!(st.writes, r.summary.entries["clients"].ok);
    assert_eq!(r.summary.services["api"].conflicts, None);
    assert_eq!(r.summary.entries["clients"].failed.error, 0);
}

#[test]
fn a_retry_on_conflict_reads_again_until_the_write_commits() {
    let text = no_warmup(one_key(4, 20.0, 10.0, 20)).replace(
        "users = 4\n",
        "users = 4\nretry = { max_attempts = 1000, retry_on = [\"conflict\"], backoff = \"none\" }\n",
    );
    let r = run_toml(&text, 3);
    let s = &r.summary;
    assert_books("occ-retry", s);
    let e = &s.entries["clients"];
    assert_eq!(e.failed.error, 0, "every request eventually commits");
    let st = &s.stores["k"];
    assert!(st.conflicts > 100);
    // One read per try: the tries are the commits plus the conflicts.
    assert_eq!(st.reads, st.writes + st.conflicts);
    assert_eq!(s.clients["clients"].retries, st.conflicts);
}

/// (calls to the store's service, the slowest request in ms) of a
/// shipped variant, over `seeds`.
fn brooker(file: &str, seeds: std::ops::Range<u64>) -> (f64, f64) {
    let text = std::fs::read_to_string(repo_root().join("scenarios").join(file)).unwrap();
    let (mut calls, mut time) = (0.0, 0.0);
    let n = (seeds.end - seeds.start) as f64;
    for seed in seeds {
        let r = run_toml(&text, seed);
        let e = &r.summary.entries["writers"];
        assert_eq!(e.ok, 50, "{file}, seed {seed}: every client commits");
        calls += r.summary.services["api"].arrivals as f64 / n;
        time += e.latency_all_ms.max / n;
    }
    (calls, time)
}

#[test]
fn full_jitter_cuts_the_work_and_the_time_of_contended_optimistic_writes() {
    let none = brooker("occ-backoff-none.toml", 1..6);
    let exponential = brooker("occ-backoff-exponential.toml", 1..6);
    let jitter = brooker("occ-backoff-jitter.toml", 1..6);
    // Measured over seeds 1–5 (README): about 990, 730 and 290 calls;
    // 0.17 s, 23 s and 0.8 s. The margins are 2× or more.
    assert!(
        jitter.0 < 0.5 * exponential.0 && jitter.0 < 0.5 * none.0,
        "calls: none {none:?}, exponential {exponential:?}, jitter {jitter:?}"
    );
    assert!(
        jitter.1 < 0.2 * exponential.1,
        "time: exponential {exponential:?}, jitter {jitter:?}"
    );
    // Nothing waits without a backoff: it finishes first, at the most work.
    assert!(none.1 < jitter.1 && none.0 > exponential.0);
}

#[test]
fn bad_stores_and_store_steps_are_refused_with_their_place() {
    let base = |store: &str, steps: &str| {
        format!(
            "name = \"x\"\nduration = \"1s\"\n[workload.w]\ntarget = \"api\"\nrate = 1\n{store}\n[services.api]\nthreads = 4\nsteps = [\n{steps}\n]\n"
        )
    };
    let store = "[stores.k]\nkeys = { count = 10 }";
    let cases = [
        (
            base(store, "  { read = \"nope\" },"),
            "unknown store `nope`",
            "services.api.steps.0.read",
        ),
        (
            base("", "  { write = \"k\" },"),
            "unknown store `k`",
            "services.api.steps.0.write",
        ),
        (
            base(store, "  { write = \"k\", conditional = true },"),
            "a conditional write needs a `{ read = \"k\" }` before it",
            "services.api.steps.0.conditional",
        ),
        (
            // A read inside a branch arm does not hold after the branch.
            base(
                store,
                "  { branch = [{ p = 0.5, steps = [{ read = \"k\" }] }, { p = 0.5, steps = [{ work = \"1ms\" }] }] },\n  { write = \"k\", conditional = true },",
            ),
            "a conditional write needs a `{ read = \"k\" }` before it",
            "services.api.steps.1.conditional",
        ),
        (
            base(store, "  { read = \"k\", conditional = true },"),
            "`conditional` belongs to a `write` step",
            "services.api.steps.0.conditional",
        ),
        (
            base("[stores.k]\nkeys = { count = 0 }", "  { read = \"k\" },"),
            "must be 1..=",
            "stores.k.keys.count",
        ),
        (
            base(
                "[stores.k]\nkeys = { count = 5, zipf = -1 }",
                "  { read = \"k\" },",
            ),
            "must be an exponent in (0, 10]",
            "stores.k.keys.zipf",
        ),
        (
            base(
                "[stores.k]\nkeys = { count = 5 }\nread_latency = \"fast\"",
                "  { read = \"k\" },",
            ),
            "",
            "stores.k.read_latency",
        ),
        (
            base(store, "  { read = \"k\", write = \"k\" },"),
            "a step has exactly one of",
            "services.api.steps.0",
        ),
    ];
    let cases: Vec<(String, &str, &str)> = cases.into_iter().collect();
    assert_each_rejected("stores", &cases);
}

#[test]
fn the_schema_has_stores_their_steps_and_the_conflict_outcome() {
    let out = crate::common::cascade(&["schema"]);
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["properties"].get("stores").is_some());
    let text = v.to_string();
    for needle in [
        "read_latency",
        "write_latency",
        "\"conditional\"",
        "\"conflict\"",
    ] {
        assert!(text.contains(needle), "schema lacks {needle}");
    }
}

#[test]
fn an_event_loop_writes_with_latencies_and_its_conflicts_answer_late() {
    // Reads and writes take time (the loop moves on); a conflict answers
    // after the write's latency, through its own event.
    let text = no_warmup(one_key(6, 20.0, 5.0, 20))
        .replace(
            "[stores.k]\n",
            "[stores.k]\nread_latency = \"1ms\"\nwrite_latency = \"2ms\"\n",
        )
        .replace("threads = 6\n", "model = \"event_loop\"\nloops = 1\n");
    assert!(text.contains("loops = 1") && text.contains("write_latency"));
    let r = run_toml(&text, 5);
    let s = &r.summary;
    assert_books("occ-event-loop", s);
    let st = &s.stores["k"];
    assert!(st.conflicts > 100, "{st:?}");
    assert_eq!(st.reads, st.writes + st.conflicts);
    assert_eq!(s.entries["clients"].failed.error, st.conflicts);
    // Every request's time includes its read and write (3 ms at least).
    assert!(s.entries["clients"].latency_all_ms.p50 >= 3.0);
}
