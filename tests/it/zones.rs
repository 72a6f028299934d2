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
