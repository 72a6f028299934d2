//! Cache faults: an `outage` whose lookups are misses (`on_error =
//! "miss"`: the miss steps run, their fills keep nothing, the keys held
//! before are found again afterwards) or fail their requests (`"fail"`),
//! and a `slowdown` of lookups. Books checked exactly; the outage's
//! lookups against the Poisson count of its window; bad input.

use crate::common::{assert_books, assert_each_rejected, run_toml};

/// 1,000 lookups/s over 100 keys in a cache that holds them all (warm
/// within the first second), a 1 ms lookup, no network time; a miss reads
/// `db`. `fault` is appended.
fn scenario(fault: &str) -> String {
    format!(
        r#"
name = "cache-faults"
duration = "50s"
warmup = "5s"
[network]
latency = "0ms"
[workload.w]
target = "api"
rate = 1000
[services.api]
threads = 1000
steps = [{{ cache = "c", miss = [{{ call = "db" }}] }}]
[services.db]
threads = 1000
steps = [{{ work = "1ms" }}]
[caches.c]
capacity = 100
keys = {{ count = 100 }}
lookup = "1ms"
[[fault]]
target = "c"
at = "20s"
for = "10s"
{fault}
"#
    )
}

/// The outage's lookups against 1,000/s × 10 s, Poisson: within 4 sd.
fn about_ten_seconds_of_lookups(n: u64) {
    let (mean, sd) = (10_000.0, 100.0);
    println!("{n} lookups in the outage, expected {mean} ± {sd}");
    assert!((n as f64 - mean).abs() < 4.0 * sd, "{n}");
}

#[test]
fn an_outage_with_on_error_miss_runs_the_miss_path_and_keeps_the_keys() {
    let s = run_toml(&scenario("outage = true\non_error = \"miss\""), 5).summary;
    assert_books("outage miss", &s);
    let c = &s.caches["c"];
    about_ten_seconds_of_lookups(c.outage_lookups);
    // Warm before the warm-up ends: every miss after it is the outage's,
    // and its fills keep nothing, so the cache holds what it held before.
    // (The misses of the outage's last ~2 ms — lookup and db — fill after
    // it ended: a few fills of keys already there.)
    assert_eq!(c.misses, c.outage_lookups);
    assert!(c.fills <= 10, "{} fills", c.fills);
    assert_eq!(c.evictions, 0);
    assert_eq!(c.keys_resident_at_end, 100);
    assert_eq!(s.services["db"].arrivals, c.outage_lookups);
    let e = &s.entries["w"];
    assert_eq!(e.ok, e.requests, "a miss is not a failure");
}

#[test]
fn an_outage_with_on_error_fail_fails_each_lookups_request() {
    let s = run_toml(&scenario("outage = true\non_error = \"fail\""), 5).summary;
    assert_books("outage fail", &s);
    let c = &s.caches["c"];
    about_ten_seconds_of_lookups(c.outage_lookups);
    let e = &s.entries["w"];
    assert_eq!(e.failed.error, c.outage_lookups);
    assert_eq!(e.ok + e.failed.error, e.requests);
    assert_eq!(
        s.services["db"].arrivals, 0,
        "nothing reaches the miss path"
    );
    assert!(
        s.faults
            .iter()
            .any(|f| f.kind == "cache_outage" && f.target == "c")
    );
}

#[test]
fn a_slowdown_multiplies_the_lookup_latency() {
    let s = run_toml(&scenario("slowdown = 10"), 5).summary;
    assert_books("cache slowdown", &s);
    let e = &s.entries["w"];
    // 1 ms lookups, 10 ms in the window (HDR: 2 significant digits).
    assert!((e.latency_ms.p50 - 1.0).abs() < 0.02, "{:?}", e.latency_ms);
    assert!((e.latency_ms.max - 10.0).abs() < 0.1, "{:?}", e.latency_ms);
    // 10 of the 45 measured seconds at 10 ms: mean 1 + 9 × 10/45 = 3 ms,
    // give or take the Poisson split of the requests (≈ 0.05 ms).
    assert!((e.latency_ms.mean - 3.0).abs() < 0.2, "{:?}", e.latency_ms);
    assert_eq!(s.caches["c"].outage_lookups, 0);
    assert_eq!(e.ok, e.requests);
}

#[test]
fn bad_cache_faults_are_named() {
    let base = scenario("outage = true");
    let cases = vec![
        (
            base.replace("outage = true", "slowdown = 10\non_error = \"fail\""),
            "`on_error` belongs to an `outage` of a cache",
            "fault.0.on_error",
        ),
        (
            base.replace("outage = true", "outage = true\nreplica = 0"),
            "hits the whole cache",
            "fault.0.replica",
        ),
        (
            base.replace("outage = true", "slowdown = 0.5"),
            "must be a factor ≥ 1",
            "fault.0.slowdown",
        ),
        (
            base.replace("outage = true", "outage = true\non_error = \"retry\""),
            "unknown variant",
            "fault.0.on_error",
        ),
        (
            base.replace("target = \"c\"", "target = \"db\"")
                .replace("outage = true", "crash = true\non_error = \"miss\""),
            "`on_error` belongs to an `outage` of a cache",
            "fault.0.on_error",
        ),
    ];
    assert_each_rejected("cache-faults-bad", &cases);
}
