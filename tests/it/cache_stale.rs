//! Stale-while-revalidate: exact counts on one key with known arrivals,
//! the expiry stampede it prevents (`scenarios/cache-expiry-stampede.toml`
//! and its variants), and bad input.

use crate::common::{assert_books, assert_each_rejected, cascade, run_toml, temp_dir};

/// One key, TTL 1 s, looked up every 100 ms from 100 ms to 9.9 s (99
/// lookups, no lookup latency); a miss calls `db`, which takes exactly
/// 250 ms; `coalesce` on. `swr` adds the cache's stale window.
fn one_key(swr: &str) -> String {
    format!(
        r#"
name = "swr"
duration = "10s"
[network]
latency = "0"
[workload.w]
target = "api"
rate = 10
arrivals = "deterministic"
[services.api]
threads = 10
steps = [{{ cache = "c", miss = [{{ call = "db" }}] }}]
[services.db]
threads = 10
steps = [{{ work = "250ms" }}]
[caches.c]
capacity = 1
keys = {{ count = 1 }}
ttl = "1s"
coalesce = true
{swr}
"#
    )
}

#[test]
fn a_stale_key_is_answered_at_once_and_refilled_once() {
    // 100 ms: miss, filled at 350 ms (expires 1.35 s); 200 and 300 ms
    // wait for that fill. 400 ms .. 1.3 s: ten hits. 1.4 s: stale (within
    // 1 s of expiry): answered, one refill, filled at 1.65 s; 1.5 and 1.6
    // s: stale, the refill already under way. Then every 1.3 s the same:
    // refills at 1.4, 2.7, 4.0, 5.3, 6.6, 7.9 and 9.2 s.
    let s = run_toml(&one_key("stale_while_revalidate = \"1s\""), 1).summary;
    assert_books("swr", &s);
    let c = &s.caches["c"];
    assert_eq!(
        (c.lookups, c.hits, c.misses, c.stale_hits, c.refills),
        (99, 96, 3, 21, 7)
    );
    assert_eq!((c.fills, c.coalesced), (8, 2));
    assert_eq!(s.services["db"].arrivals, 8);
    // The refills are requests the api sends itself.
    assert_eq!(s.services["api"].arrivals, 99 + 7);
    // Only the first three waited: 250, 150 and 50 ms.
    let e = &s.entries["w"];
    assert_eq!((e.requests, e.ok), (99, 99));
    let exact = 450.0 / 99.0;
    assert!(
        (e.latency_ms.mean - exact).abs() < 1e-9,
        "{}",
        e.latency_ms.mean
    );

    // Without the window each expiry is a miss and two waits: the same
    // fills, but every cycle's three callers wait 250, 150 and 50 ms.
    let s = run_toml(&one_key(""), 1).summary;
    let c = &s.caches["c"];
    assert_eq!(
        (c.lookups, c.hits, c.misses, c.stale_hits, c.refills),
        (99, 75, 24, 0, 0)
    );
    assert_eq!((c.fills, c.coalesced), (8, 16));
    let exact = 8.0 * 450.0 / 99.0;
    let e = &s.entries["w"];
    assert!(
        (e.latency_ms.mean - exact).abs() < 1e-9,
        "{}",
        e.latency_ms.mean
    );
}

#[test]
fn past_the_window_a_stale_key_is_an_ordinary_miss() {
    // A window of 40 ms: the key expires at 1.35 s and the next lookup
    // (1.4 s) is 50 ms late, so it misses as without the window.
    let s = run_toml(&one_key("stale_while_revalidate = \"40ms\""), 1).summary;
    let c = &s.caches["c"];
    assert_eq!((c.misses, c.stale_hits, c.refills), (24, 0, 0));
}

#[test]
fn bad_stale_windows_name_their_key() {
    let base = one_key("stale_while_revalidate = \"1s\"");
    assert_each_rejected(
        "swr-bad",
        &[
            (
                base.replace("ttl = \"1s\"\n", ""),
                "give the cache a `ttl`",
                "caches.c.stale_while_revalidate",
            ),
            (
                base.replace(
                    "stale_while_revalidate = \"1s\"",
                    "stale_while_revalidate = \"0s\"",
                ),
                "",
                "caches.c.stale_while_revalidate",
            ),
        ],
    );
}

#[test]
fn the_terminal_shows_stale_hits_and_refills_only_when_a_cache_served_stale() {
    let dir = temp_dir("swr-terminal");
    let with = dir.join("with.toml");
    std::fs::write(&with, one_key("stale_while_revalidate = \"1s\"")).unwrap();
    let without = dir.join("without.toml");
    std::fs::write(&without, one_key("")).unwrap();
    let out = cascade(&["run", with.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    // The table's header wraps over two lines ("stale" / "hits").
    let table: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.contains("hit ratio"))
        .take(5)
        .collect();
    assert!(
        table[0].contains("stale") && table[0].contains("refills") && table[1].contains("hits"),
        "{table:?}"
    );
    // The row carries the run's 21 stale hits and 7 refills.
    let row = table
        .iter()
        .find(|l| l.starts_with("│c "))
        .expect("the cache's row");
    let cells: Vec<&str> = row
        .split(['│', '┆'])
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect();
    assert_eq!(&cells[..6], &["c", "97.0", "99", "3", "21", "7"], "{row}");
    let out = cascade(&["run", without.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains("stale hits"), "{text}");
}
