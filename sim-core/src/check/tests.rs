use super::*;

fn model(text: &str) -> Model {
    crate::scenario::load("t.toml", text, &[])
        .unwrap_or_else(|e| panic!("{e:?}"))
        .model
}

fn service<'c>(c: &'c Check, name: &str) -> &'c ServiceLoad {
    c.services.iter().find(|s| s.name == name).expect("service")
}

#[test]
fn visits_follow_branches_and_optional_calls() {
    let c = analyze(&model(
        r#"
name = "t"
duration = "10s"
[workload.w]
target = "a"
rate = 100
[services.a]
threads = 10
steps = [
  { work = "1ms" },
  { call = "b", p = 0.3 },
  { branch = [{ p = 0.5, steps = [{ call = "c" }] }, { p = 0.5, steps = [{ call = "c" }, { call = "c" }] }] },
]
[services.b]
threads = 10
steps = [{ work = "2ms" }]
[services.c]
threads = 10
steps = [{ work = "4ms" }]
"#,
    ));
    let (b, cc) = (service(&c, "b"), service(&c, "c"));
    assert!((b.arrival_rate - 30.0).abs() < 1e-9, "{}", b.arrival_rate);
    assert!(
        (cc.arrival_rate - 150.0).abs() < 1e-9,
        "{}",
        cc.arrival_rate
    );
    // c: 150/s × 4 ms = 0.6 busy threads of 10.
    assert!((cc.rho - 0.06).abs() < 1e-9, "{}", cc.rho);
    // a holds its thread for 1 ms + 0.3 × 2 ms + 1.5 × 4 ms (no waits
    // to speak of at these loads, no network).
    let a = service(&c, "a");
    assert!((a.hold_ms - 7.6).abs() < 0.05, "{}", a.hold_ms);
    assert!(!c.overloaded);
}

#[test]
fn overload_is_named_with_its_time() {
    let c = analyze(&model(
        r#"
name = "t"
duration = "100s"
[workload.w]
target = "a"
rate = 50
shape = { ramp = { to = 150, at = "10s", for = "50s" } }
[services.a]
threads = 1
queue = "unbounded"
steps = [{ work = "10ms" }]
"#,
    ));
    let a = service(&c, "a");
    // ρ = rate × 10 ms reaches 1 at rate 100: halfway up the ramp, 35 s.
    let at = a.saturates_at_s.expect("saturates");
    assert!((at - 35.0).abs() < 0.05, "{at}");
    assert!((a.peak_rho - 1.5).abs() < 1e-6);
    assert!(a.overloaded && c.overloaded);
}

#[test]
fn short_timeouts_and_retry_amplification_are_found() {
    let c = analyze(&model(
        r#"
name = "t"
duration = "10s"
[workload.w]
target = "a"
rate = 10
[services.a]
threads = 10
steps = [{ call = "b", timeout = "5ms", retry = { max_attempts = 3 } }]
[services.b]
threads = 10
steps = [{ call = "c", retry = { max_attempts = 2 } }]
[services.c]
threads = 10
steps = [{ work = "10ms" }]
"#,
    ));
    assert_eq!(c.timeouts.len(), 1);
    assert_eq!(c.timeouts[0].shorter_than, "mean");
    assert_eq!(c.retries[0].amplification, 6.0);
    assert_eq!(c.retries[0].path, ["w", "a", "b", "c"]);
}

#[test]
fn memory_at_the_expected_concurrency() {
    let c = analyze(&model(
        r#"
name = "t"
duration = "10s"
[workload.w]
target = "a"
rate = 1000
[services.a]
threads = 200
steps = [{ work = "100ms" }]
memory = { limit = "256MiB", base = "64MiB", per_request = "2MiB" }
"#,
    ));
    let mem = service(&c, "a").memory.clone().expect("memory");
    // 100 busy threads × 2 MiB + 64 MiB = 264 MiB > 256 MiB.
    assert!((mem.expected_mib - 264.0).abs() < 0.5, "{mem:?}");
    assert!(mem.over_limit && c.overloaded);
}

#[test]
fn a_log_counts_its_records_and_each_group_loads_its_consumer() {
    let c = analyze(&model(
        r#"
name = "t"
duration = "10s"
[workload.w]
target = "checkout"
rate = 400
[services.checkout]
threads = 32
steps = [{ work = "1ms" }, { publish = "orders" }]
[services.billing]
replicas = 4
threads = 2
steps = [{ work = "10ms" }]
[services.audit]
threads = 4
steps = [{ work = "1ms" }]
[logs.orders]
partitions = 8
[groups.billing]
log = "orders"
consumer = "billing"
members = 16
[groups.audit]
log = "orders"
consumer = "audit"
members = 2
"#,
    ));
    assert_eq!(c.logs.len(), 1);
    let log = &c.logs[0];
    assert!((log.rate - 400.0).abs() < 1e-9, "{}", log.rate);
    // Every record reaches each group's consumer once.
    assert!((service(&c, "billing").arrival_rate - 400.0).abs() < 1e-9);
    assert!((service(&c, "audit").arrival_rate - 400.0).abs() < 1e-9);
    // billing: 8 of its 16 members own a partition, 10 ms a record:
    // 800 records/s, ρ 0.5.
    let (billing, audit) = (&log.groups[0], &log.groups[1]);
    assert_eq!(billing.active_members, 8);
    assert!((billing.capacity_rps - 800.0).abs() < 1e-6, "{billing:?}");
    assert!((billing.rho - 0.5).abs() < 1e-9, "{billing:?}");
    // audit: 2 members at 1 ms: 2,000/s.
    assert!((audit.rho - 0.2).abs() < 1e-9, "{audit:?}");
}
