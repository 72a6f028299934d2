//! Zones: a zone fault strikes exactly the replicas placed in the zone
//! (replica r in zones[r % n]) of every service that has one there, and
//! bad zone settings name their key.

use crate::common::{assert_books, assert_each_rejected, run_toml};

/// 300 requests a second, evenly spaced, round robin over `replicas`
/// replicas of `orders` spread over zones a, b, c; zone `zone` crashes
/// from 10 s to 20 s.
fn zoned(replicas: u32, zone: &str) -> String {
    format!(
        r#"
name = "zones"
duration = "30s"
[network]
latency = "0"
[workload.w]
target = "orders"
rate = 300
arrivals = "deterministic"
[services.orders]
replicas = {replicas}
zones = ["a", "b", "c"]
threads = 10
steps = [{{ work = "1ms" }}]
[services.audit]
replicas = 2
zones = ["c", "d"]
threads = 1
steps = [{{ work = "1ms" }}]
[[fault]]
zone = "{zone}"
crash = true
at = "10s"
for = "10s"
"#
    )
}

#[test]
fn a_zone_fault_crashes_exactly_the_replicas_in_the_zone() {
    // Three replicas: zone b holds replica 1, a third of the requests.
    let s = run_toml(&zoned(3, "b"), 1).summary;
    assert_books("zones-3", &s);
    let hit: Vec<(String, Option<u32>)> = s
        .faults
        .iter()
        .map(|f| (f.target.clone(), f.replica))
        .collect();
    assert_eq!(hit, [("orders".to_owned(), Some(1))]);
    let refused = s.services["orders"].refused;
    assert!((999..=1001).contains(&refused), "{refused}");
    // Six replicas: zone b holds replicas 1 and 4, still a third.
    let s = run_toml(&zoned(6, "b"), 1).summary;
    let hit: Vec<Option<u32>> = s.faults.iter().map(|f| f.replica).collect();
    assert_eq!(hit, [Some(1), Some(4)]);
    let refused = s.services["orders"].refused;
    assert!((999..=1001).contains(&refused), "{refused}");
    // Zone c holds replica 2 of orders and replica 0 of audit.
    let s = run_toml(&zoned(3, "c"), 1).summary;
    let hit: Vec<(String, Option<u32>)> = s
        .faults
        .iter()
        .map(|f| (f.target.clone(), f.replica))
        .collect();
    assert_eq!(
        hit,
        [
            ("orders".to_owned(), Some(2)),
            ("audit".to_owned(), Some(0))
        ]
    );
}

#[test]
fn the_shipped_zone_outage_holds_with_room_for_a_zone_and_fails_without() {
    let text =
        std::fs::read_to_string(crate::common::repo_root().join("scenarios/zone-outage.toml"))
            .unwrap();
    let s = run_toml(&text, 1).summary;
    assert_books("zone-outage", &s);
    let e = &s.entries["shoppers"];
    assert!(
        e.error_rate < 0.001,
        "six replicas carry it: {}",
        e.error_rate
    );
    let four = text.replace("replicas = 6", "replicas = 4");
    let s = run_toml(&four, 1).summary;
    let e = &s.entries["shoppers"];
    // Two replicas left carry 16 / 30 ms ≈ 1,067 of 1,500 a second for
    // the minute the zone is out: about a tenth of the run's requests.
    assert!(
        e.error_rate > 0.05,
        "four replicas do not: {}",
        e.error_rate
    );
}

#[test]
fn bad_zone_settings_name_their_key() {
    let with = |zones: &str, fault: &str| {
        format!(
            r#"
name = "bad"
duration = "10s"
[workload.w]
target = "orders"
rate = 10
[services.orders]
replicas = 3
{zones}
threads = 4
steps = [{{ work = "1ms" }}]
[[fault]]
{fault}
at = "1s"
for = "1s"
"#
        )
    };
    let zones = r#"zones = ["a", "b"]"#;
    assert_each_rejected(
        "zones-bad",
        &[
            (
                with(zones, "zone = \"a\"\ntarget = \"orders\"\ncrash = true"),
                "leave out `target`",
                "fault.0.target",
            ),
            (
                with(zones, "zone = \"z\"\ncrash = true"),
                "no replica is in zone `z`",
                "fault.0.zone",
            ),
            (
                with(zones, "zone = \"a\"\npartition = true"),
                "a zone fault is one of",
                "fault.0.zone",
            ),
            (
                with(zones, "crash = true"),
                "needs a `target`",
                "fault.0.target",
            ),
            (
                with(r#"zones = ["a", "a"]"#, "target = \"orders\"\ncrash = true"),
                "listed twice",
                "services.orders.zones.1",
            ),
            (
                with("zones = []", "target = \"orders\"\ncrash = true"),
                "at least one zone",
                "services.orders.zones",
            ),
        ],
    );
}

/// 300 requests a second for 10 s, evenly spaced, round robin over three
/// gateway replicas in zones a, b, c; each calls one of three db replicas
/// (a, b, c; random balancer). No network latency but `cross_zone` each
/// way between zones; 1 ms of work at each. `extra` goes into the
/// scenario (the db's settings and faults).
fn two_tiers(db: &str, extra: &str) -> String {
    format!(
        r#"
name = "zone-aware"
duration = "10s"
[network]
latency = "0"
cross_zone = "1ms"
[workload.w]
target = "gateway"
rate = 300
arrivals = "deterministic"
[services.gateway]
replicas = 3
zones = ["a", "b", "c"]
threads = 10
steps = [{{ work = "1ms" }}, {{ call = "db" }}]
[services.db]
replicas = 3
zones = ["a", "b", "c"]
threads = 10
balancer = "random"
steps = [{{ work = "1ms" }}]
{db}
{extra}
"#
    )
}

#[test]
fn zone_aware_balancing_keeps_calls_in_the_callers_zone_and_crossing_costs_exactly() {
    let s = run_toml(&two_tiers("zone_aware = true", ""), 1).summary;
    assert_books("zone-aware", &s);
    let z = s.services["db"].zones.clone().expect("db lists zones");
    let e = &s.entries["w"];
    assert_eq!(
        (e.requests, e.ok),
        (2999, 2999),
        "every 1/300 s before 10 s"
    );
    assert_eq!((z.zone_aware, z.local, z.cross_zone), (true, 2999, 0));
    // The gateway's own callers (the clients) have no zone: counted in
    // neither, and its balancer is the usual round robin.
    let g = s.services["gateway"]
        .zones
        .clone()
        .expect("gateway lists zones");
    assert_eq!((g.local, g.cross_zone), (0, 0));
    assert!(
        (e.latency_ms.mean - 2.0).abs() < 1e-9,
        "{}",
        e.latency_ms.mean
    );
    // Without the preference the random balancer sends about two calls
    // in three across, and each crossing adds exactly 1 ms each way.
    let s = run_toml(&two_tiers("", ""), 1).summary;
    let z = s.services["db"].zones.clone().expect("db lists zones");
    assert!(!z.zone_aware);
    assert_eq!(z.local + z.cross_zone, 2999);
    assert!((1800..2200).contains(&z.cross_zone), "{}", z.cross_zone);
    let mean = s.entries["w"].latency_ms.mean;
    let expected = 2.0 + 2.0 * z.cross_zone as f64 / 2999.0;
    assert!((mean - expected).abs() < 1e-9, "{mean} against {expected}");
}

#[test]
fn zone_aware_balancing_spills_across_once_the_local_replica_is_ejected() {
    // db's replica in zone a is down all run; the first call from the
    // gateway in zone a is refused and ejects it (one error is enough,
    // every replica may be out); the other calls from zone a cross. (Round
    // robin: a random balancer's re-asks may, rarely, all land on the
    // ejected replica and send it the request anyway.)
    let db = r#"zone_aware = true
outlier_detection = { consecutive_errors = 1, interval = "1s", base_ejection = "60s", max_ejection_percent = 100 }"#;
    let fault = "[[fault]]\ntarget = \"db\"\nreplica = 0\ncrash = true\nat = \"0s\"\nfor = \"10s\"";
    let text = two_tiers(db, fault).replace("balancer = \"random\"", "balancer = \"round_robin\"");
    let s = run_toml(&text, 1).summary;
    assert_books("zone-spill", &s);
    let d = &s.services["db"];
    assert_eq!(d.refused, 1);
    let z = d.zones.clone().expect("db lists zones");
    // The gateway in zone a (replica 0) takes requests 0, 3, 6, ...:
    // 1,000 of the 2,999; one local call refused, 999 across.
    assert_eq!((z.local, z.cross_zone), (2000, 999));
    assert_eq!(d.outlier.as_ref().map(|o| o.ejections), Some(1));
    let e = &s.entries["w"];
    assert_eq!((e.ok, e.requests), (2998, 2999));
}

#[test]
fn a_source_in_a_zone_is_served_from_it() {
    // The clients are in zone b: a zone-aware gateway serves them all
    // from its replica in b, with no crossing.
    let text = two_tiers("zone_aware = true", "")
        .replace("arrivals = \"deterministic\"", "arrivals = \"deterministic\"\nzone = \"b\"")
        .replace("zones = [\"a\", \"b\", \"c\"]\nthreads = 10\nsteps = [{ work = \"1ms\" }, { call", "zones = [\"a\", \"b\", \"c\"]\nzone_aware = true\nthreads = 10\nsteps = [{ work = \"1ms\" }, { call");
    let s = run_toml(&text, 1).summary;
    let g = s.services["gateway"]
        .zones
        .clone()
        .expect("gateway lists zones");
    assert_eq!((g.zone_aware, g.local, g.cross_zone), (true, 2999, 0));
    assert!((s.entries["w"].latency_ms.mean - 2.0).abs() < 1e-9);
    // Not zone-aware, round robin: two in three cross, 2 ms each.
    let text = text.replacen("zone_aware = true\nthreads", "threads", 1);
    let s = run_toml(&text, 1).summary;
    let g = s.services["gateway"]
        .zones
        .clone()
        .expect("gateway lists zones");
    assert_eq!((g.local, g.cross_zone), (1000, 1999));
    let expected = 2.0 + 2.0 * 1999.0 / 2999.0;
    assert!((s.entries["w"].latency_ms.mean - expected).abs() < 1e-9);
}

#[test]
fn bad_zone_routing_names_its_key() {
    let base = two_tiers("zone_aware = true", "");
    assert_each_rejected(
        "zone-routing-bad",
        &[
            (
                base.replace(
                    "replicas = 3\nzones = [\"a\", \"b\", \"c\"]\nthreads = 10\nbalancer",
                    "replicas = 3\nthreads = 10\nbalancer",
                ),
                "zone-aware balancing needs the service's replicas in zones",
                "services.db.zone_aware",
            ),
            (
                base.replace(
                    "arrivals = \"deterministic\"",
                    "arrivals = \"deterministic\"\nzone = \"z\"",
                ),
                "no service has a replica in zone `z` (zones: a, b, c)",
                "workload.w.zone",
            ),
            (
                base.replace("zone_aware = true", "")
                    .replace("zones = [\"a\", \"b\", \"c\"]\n", ""),
                "a cross-zone latency needs replicas in zones",
                "network.cross_zone",
            ),
            (
                base.replace("cross_zone = \"1ms\"", "cross_zone = \"soon\""),
                "",
                "network.cross_zone",
            ),
        ],
    );
}

#[test]
fn the_shipped_zone_aware_outage_keeps_calls_local_and_sends_zone_a_across() {
    let text =
        std::fs::read_to_string(crate::common::repo_root().join("scenarios/zone-aware.toml"))
            .unwrap();
    let s = run_toml(&text, 1).summary;
    assert_books("zone-aware", &s);
    let failed: u64 = s
        .entries
        .values()
        .map(|e| e.failed.timeout + e.failed.rejected + e.failed.error)
        .sum();
    assert!(failed < 10, "{failed}");
    let zones = |n: &str| s.services[n].zones.clone().expect("zoned");
    // Behind the gateway every call stays in its zone (the dead zone's
    // callers are dead too); at the gateway the zone-a shoppers cross
    // for the minute dark and while the ejection outlasts it.
    assert_eq!(zones("orders").cross_zone, 0);
    assert_eq!(zones("db").cross_zone, 0);
    let g = zones("gateway");
    assert!((30_000..60_000).contains(&g.cross_zone), "{g:?}");
}
