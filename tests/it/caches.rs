//! Caches against their closed forms: LRU with uniform keys (hit ratio =
//! capacity ÷ keys), LRU with Zipf keys (Che's approximation), TTL only
//! (renewal theory: λT / (1 + λT) per key); the books of a flush; bad
//! input.
//!
//! Sizes: 20 seeds × ~50,000 lookups each; tolerances from the seed
//! spread (4 standard errors, `theory::agrees`), except Che's, which is an
//! approximation: there the bound is its stated accuracy, 3 % relative.

use crate::common::{assert_books, assert_each_rejected, run_toml};
use crate::theory::{agrees, replicate};

/// One service looking keys up at `rate` per second; a miss costs
/// nothing (so a miss fills at once and no two misses overlap).
fn cached(rate: u32, cache: &str, seconds: u32) -> String {
    format!(
        r#"
name = "cache"
duration = "{seconds}s"
warmup = "5s"
[workload.w]
target = "api"
rate = {rate}
[services.api]
threads = 1000
steps = [{{ cache = "c", miss = [{{ work = "0ms" }}] }}]
[caches.c]
{cache}
"#
    )
}

fn hit_ratios(toml: &str) -> Vec<f64> {
    replicate(toml)
        .iter()
        .map(|s| s.caches["c"].hit_ratio)
        .collect()
}

#[test]
fn lru_with_uniform_keys_hits_capacity_over_keys() {
    let toml = cached(1000, "capacity = 200\nkeys = { count = 1000 }", 55);
    agrees(
        "LRU, uniform keys: hit ratio",
        &hit_ratios(&toml),
        200.0 / 1000.0,
    );
}

/// Che's approximation of LRU under the independent reference model:
/// the characteristic time T solves Σ (1 − e^{−p_i T}) = C, and the hit
/// ratio is Σ p_i (1 − e^{−p_i T}).
fn che(p: &[f64], capacity: f64) -> f64 {
    let filled = |t: f64| p.iter().map(|q| 1.0 - (-q * t).exp()).sum::<f64>();
    let (mut lo, mut hi) = (0.0, 1.0);
    while filled(hi) < capacity {
        hi *= 2.0;
    }
    for _ in 0..200 {
        let mid = (lo + hi) / 2.0;
        if filled(mid) < capacity {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    p.iter().map(|q| q * (1.0 - (-q * lo).exp())).sum()
}

#[test]
fn lru_with_zipf_keys_agrees_with_ches_approximation() {
    let (n, s, c) = (1000usize, 0.8, 100.0);
    let weights: Vec<f64> = (1..=n).map(|k| (k as f64).powf(-s)).collect();
    let total: f64 = weights.iter().sum();
    let p: Vec<f64> = weights.iter().map(|w| w / total).collect();
    let theory = che(&p, c);
    let toml = cached(
        1000,
        &format!("capacity = {c}\nkeys = {{ count = {n}, zipf = {s} }}"),
        55,
    );
    let xs = hit_ratios(&toml);
    let mean = xs.iter().sum::<f64>() / xs.len() as f64;
    let rel = (mean - theory).abs() / theory;
    eprintln!(
        "theory | LRU, Zipf 0.8: Che {theory:.4}, simulated {mean:.4} ({:+.2} %)",
        100.0 * (mean - theory) / theory
    );
    assert!(
        rel < 0.03,
        "Zipf LRU hit ratio {mean} vs Che's {theory}: {:.1} % apart",
        100.0 * rel
    );
}

#[test]
fn ttl_alone_hits_lambda_t_over_one_plus_lambda_t() {
    // 1000 keys at 1000/s: each key is asked for once a second (Poisson);
    // a key lives 1 s from its fill: λT = 1, hit ratio 1/2.
    let toml = cached(
        1000,
        "capacity = 1000\nkeys = { count = 1000 }\nttl = \"1s\"",
        55,
    );
    agrees("TTL only: hit ratio", &hit_ratios(&toml), 0.5);
}

#[test]
fn a_flush_empties_the_cache_and_the_books_balance() {
    let toml = format!(
        "{}\n[[fault]]\ntarget = \"c\"\nflush = true\nat = \"10s\"\nfor = \"1s\"\n",
        cached(100, "capacity = 300\nkeys = { count = 1000 }", 20).replace("warmup = \"5s\"\n", "")
    );
    let r = run_toml(&toml, 7);
    assert_books("flush", &r.summary);
    let c = &r.summary.caches["c"];
    assert_eq!(c.flushes, 1);
    assert_eq!(c.flushed_keys, 300, "full at 10 s: {c:?}");
    assert_eq!(c.hits + c.misses, c.lookups);
    assert_eq!(
        c.fills - c.evictions - c.expired - c.flushed_keys,
        c.keys_resident_at_end,
        "every key in is out again or still there: {c:?}"
    );
    // The flush shows in the hit-ratio series: the window after it is
    // far below the one before.
    let ts = &r.timeseries;
    let ratio = ts
        .series
        .iter()
        .find(|s| s.scope == "cache" && s.name == "c" && s.metric == "hit_ratio")
        .expect("a hit-ratio series");
    let (before, after) = (ratio.values[9], ratio.values[10]);
    assert!(
        after < before - 0.1,
        "hit ratio {before} before the flush, {after} after"
    );
}

#[test]
fn a_model_without_caches_writes_no_cache_figures() {
    let r = run_toml(
        &crate::theory::single_queue(10.0, 1, "0", "\"1ms\"", 0, 5),
        1,
    );
    assert!(r.summary.caches.is_empty());
    let json = serde_json::to_string(&r.summary).unwrap();
    assert!(!json.contains("\"caches\""));
}

#[test]
fn bad_caches_are_refused_with_their_key() {
    let base = cached(10, "capacity = 10\nkeys = { count = 100 }", 10);
    let cases = vec![
        (
            base.replace("cache = \"c\"", "cache = \"nope\""),
            "unknown cache `nope` (caches: c)",
            "services.api.steps.0.cache",
        ),
        (
            base.replace(", miss = [{ work = \"0ms\" }]", ""),
            "needs `miss = [steps]`",
            "services.api.steps.0.miss",
        ),
        (
            base.replace("capacity = 10", "capacity = 0"),
            "must be at least 1 item",
            "caches.c.capacity",
        ),
        (
            base.replace("count = 100 }", "count = 100, zipf = -1 }"),
            "must be an exponent",
            "caches.c.keys.zipf",
        ),
        (
            format!(
                "{base}\n[[fault]]\ntarget = \"api\"\nflush = true\nat = \"1s\"\nfor = \"1s\"\n"
            ),
            "a flush targets a cache",
            "fault.0.target",
        ),
        (
            base.replace(
                "steps = [{ cache = \"c\", miss = [{ work = \"0ms\" }] }]",
                "steps = [{ work = \"1ms\", miss = [{ work = \"0ms\" }] }]",
            ),
            "`miss` belongs to a `cache` step",
            "services.api.steps.0.miss",
        ),
    ];
    assert_each_rejected("caches-bad", &cases);
}

#[test]
fn the_stampede_story_holds_and_a_short_database_queue_shortens_it() {
    let run = |name: &str| {
        let path = crate::common::repo_root().join(format!("scenarios/{name}.toml"));
        let text = std::fs::read_to_string(path).unwrap();
        let r = run_toml(&text, 1).summary;
        assert_books(name, &r);
        r
    };
    let (bad, good) = (run("cache-stampede"), run("cache-stampede-fixed"));
    let failed = |s: &sim_core::output::Summary| {
        let f = &s.entries["pages"].failed;
        f.timeout + f.rejected + f.error
    };
    let (rb, rg) = (&bad.recovery[0], &good.recovery[0]);
    assert!(bad.caches["products"].flushed_keys > 10_000);
    assert_eq!(bad.caches["products"].services, ["api"], "who looks it up");
    assert!(
        failed(&good) * 3 < failed(&bad) * 2,
        "fixed fails {} vs {}",
        failed(&good),
        failed(&bad)
    );
    assert!(rg.min_goodput_rps > rb.min_goodput_rps);
    assert!(rg.peak_p99_ms * 2.0 < rb.peak_p99_ms);
}

/// One hot key, 100 requests a second for a second (at 10, 20, ... 990
/// ms), a 95 ms database behind the miss; `cache` and `fault` appended.
fn one_key(cache: &str, fault: &str) -> String {
    format!(
        r#"
name = "one-key"
duration = "1s"
[workload.w]
target = "api"
rate = 100
arrivals = "deterministic"
[services.api]
threads = 1000
steps = [{{ cache = "c", miss = [{{ call = "db" }}] }}]
[services.db]
threads = 1000
steps = [{{ work = "95ms" }}]
[caches.c]
capacity = 1
keys = {{ count = 1 }}
{cache}
{fault}
"#
    )
}

#[test]
fn coalesced_misses_wait_for_one_fill() {
    // Without coalescing the ten requests before the first fill (at 105
    // ms) each go to the database; with it, only the first does.
    let plain = run_toml(&one_key("", ""), 1).summary;
    assert_books("plain", &plain);
    assert_eq!(
        plain.services["db"].completed, 10,
        "{:?}",
        plain.caches["c"]
    );
    let single = run_toml(&one_key("coalesce = true", ""), 1).summary;
    assert_books("coalesced", &single);
    assert_eq!(single.services["db"].completed, 1);
    let c = &single.caches["c"];
    assert_eq!((c.misses, c.coalesced, c.fills), (10, 9, 1), "{c:?}");
    let e = &single.entries["w"];
    assert_eq!(e.ok, e.requests);
    // The filler takes 95 ms; the waiters answer with its fill, 85, 75,
    // ... 5 ms after arriving; the hits at once.
    let total_ms = e.latency_ms.mean * e.requests as f64;
    assert!((total_ms - (95.0 + 405.0)).abs() < 1e-6, "{total_ms}");
}

#[test]
fn coalesced_misses_share_the_fillers_failure() {
    let fault = "[[fault]]\ntarget = \"db\"\nerrors = 1.0\nat = \"0s\"\nfor = \"2s\"";
    let r = run_toml(&one_key("coalesce = true", fault), 1).summary;
    assert_books("shared failure", &r);
    let e = &r.entries["w"];
    assert_eq!(e.ok, 0);
    assert_eq!(e.failed.error, e.requests);
    let c = &r.caches["c"];
    assert_eq!(c.fills, 0);
    // Each failed miss releases its waiters, and the next miss fills
    // (and fails) again: every miss either went to the database or waited.
    assert_eq!(c.misses, r.services["db"].completed + c.coalesced);
}
