//! Envoy's zone-aware spill-over (`zone_aware = { spill = true }`) against
//! its formula, `min_cluster_size` turning it off, a latency per pair of
//! zones, and their bad settings.

use crate::common::{assert_books, assert_each_rejected, run_toml};

/// `rate` requests a second for `secs`, evenly spaced, round robin over
/// three gateway replicas in zones a, b, c; each calls `db` (round
/// robin), whose settings are `db`. No network latency; `cross_zone`
/// as given; 1 ms of work at each.
fn tiers(rate: u32, secs: u32, cross_zone: &str, db: &str) -> String {
    format!(
        r#"
name = "zone-spill"
duration = "{secs}s"
[network]
latency = "0"
cross_zone = {cross_zone}
[workload.w]
target = "gateway"
rate = {rate}
arrivals = "deterministic"
[services.gateway]
replicas = 3
zones = ["a", "b", "c"]
threads = 20
steps = [{{ work = "1ms" }}, {{ call = "db" }}]
[services.db]
zones = ["a", "b", "c"]
threads = 20
balancer = "round_robin"
steps = [{{ work = "1ms" }}]
{db}
"#
    )
}

#[test]
fn the_spill_over_matches_envoys_shares() {
    // Callers 1/3 per zone; db's four replicas are in a, b, c, a: healthy
    // 2/1/1. Envoy: zone a's callers stay (5000 ≥ 3333); zone b's and
    // c's stay with 2500 × 10000 / 3333 = 7500 of 10,000 and cross to a
    // (the only residual capacity) otherwise. Of N calls, 5/6 local.
    let db = "replicas = 4\nzone_aware = { spill = true, min_cluster_size = 4 }";
    let s = run_toml(&tiers(600, 20, "\"1ms\"", db), 1).summary;
    assert_books("zone-spill", &s);
    let z = s.services["db"].zones.clone().expect("db lists zones");
    let n = z.local + z.cross_zone;
    assert_eq!(n, s.entries["w"].requests);
    // The callers in b and c (2/3 of the calls) cross with p = 1/4 each.
    let across_callers = n as f64 * 2.0 / 3.0;
    let expected = across_callers * 0.25;
    let sd = (across_callers * 0.25 * 0.75).sqrt();
    let got = z.cross_zone as f64;
    assert!(
        (got - expected).abs() < 4.5 * sd,
        "{got} across, Envoy's share gives {expected:.0} ± {:.0}",
        4.5 * sd
    );
    // Every crossing paid 1 ms each way, no more.
    let mean = s.entries["w"].latency_ms.mean;
    let exact = 2.0 + 2.0 * got / n as f64;
    assert!((mean - exact).abs() < 1e-9, "{mean} against {exact}");
}

#[test]
fn below_min_cluster_size_the_spill_over_is_off() {
    // Envoy's default of 6 healthy replicas: db's 4 are too few, so its
    // round robin serves every caller. Call k goes from gateway k % 3 to
    // db k % 4 (zones a, b, c, a): local for k % 12 in 0..4, so 1,000 of
    // the 2,999 calls.
    let db = "replicas = 4\nzone_aware = { spill = true }";
    let s = run_toml(&tiers(300, 10, "\"1ms\"", db), 1).summary;
    let z = s.services["db"].zones.clone().expect("db lists zones");
    assert_eq!((z.zone_aware, z.local, z.cross_zone), (true, 1000, 1999));
    // The same four replicas under the plain rule keep everything local.
    let s = run_toml(
        &tiers(300, 10, "\"1ms\"", "replicas = 4\nzone_aware = true"),
        1,
    )
    .summary;
    let z = s.services["db"].zones.clone().expect("db lists zones");
    assert_eq!((z.local, z.cross_zone), (2999, 0));
}

#[test]
fn each_pair_of_zones_pays_its_own_latency_each_way() {
    // db has two replicas, in a and b; call k goes from gateway k % 3 to
    // db k % 2. Per six calls: two local, c→a and back (5 + 5 ms: a.c
    // holds both ways), a→b then b→a (3 + 2 ms: given both ways), b→a
    // then a→b (2 + 3), c→b and back (1 + 1: the default).
    let cross = r#"{ default = "1ms", a = { c = "5ms", b = "3ms" }, b = { a = "2ms" } }"#;
    let s = run_toml(&tiers(300, 10, cross, "replicas = 2"), 1).summary;
    assert_books("zone-pairs", &s);
    let e = &s.entries["w"];
    assert_eq!((e.requests, e.ok), (2999, 2999));
    // 2,999 calls: residues 0..=4 of k % 6 occur 500 times, 5 occurs 499.
    let extra = 500.0 * 10.0 + 500.0 * 5.0 + 500.0 * 5.0 + 499.0 * 2.0;
    let exact = 2.0 + extra / 2999.0;
    let mean = e.latency_ms.mean;
    assert!((mean - exact).abs() < 1e-9, "{mean} against {exact}");
}

#[test]
fn bad_spill_and_pair_settings_name_their_key() {
    let ok = tiers(300, 10, "\"1ms\"", "replicas = 4\nzone_aware = true");
    let pairs = |table: &str| tiers(300, 10, table, "replicas = 4");
    assert_each_rejected(
        "zone-spill-bad",
        &[
            (
                ok.replace("zone_aware = true", "zone_aware = { min_cluster_size = 3 }"),
                "belongs to the spill-over rule",
                "services.db.zone_aware.min_cluster_size",
            ),
            (
                ok.replace("zone_aware = true", "zone_aware = { spil = true }"),
                "spil",
                "services.db.zone_aware",
            ),
            (
                pairs(r#"{ a = { x = "1ms" } }"#),
                "no service has a replica in zone `x` (zones: a, b, c)",
                "network.cross_zone.a.x",
            ),
            (
                pairs(r#"{ y = { a = "1ms" } }"#),
                "no service has a replica in zone `y`",
                "network.cross_zone.y",
            ),
            (
                pairs(r#"{ a = "1ms" }"#),
                "the one plain duration is `default`",
                "network.cross_zone.a",
            ),
            (
                pairs(r#"{ a = { b = "soon" } }"#),
                "",
                "network.cross_zone.a.b",
            ),
        ],
    );
}
