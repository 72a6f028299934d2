//! Store faults: an outage fails every read and write of its window with
//! an error (exact counts under deterministic arrivals), a slowdown
//! stretches their latencies, each fault gets its recovery verdict like
//! any other, and bad store faults are refused with file:line:column.

use crate::common::{assert_books, assert_each_rejected, run_toml};
use sim_core::output::Verdict;

/// 100 requests/s, one every 10 ms from 10 ms on: read (1 ms), then write
/// unconditionally (1 ms). `fault` is appended.
fn scenario(fault: &str) -> String {
    format!(
        r#"
name = "store-fault"
duration = "30s"
warmup = "0s"
[workload.w]
target = "api"
rate = 100
arrivals = "deterministic"
[stores.k]
keys = {{ count = 10 }}
read_latency = "1ms"
write_latency = "1ms"
[services.api]
threads = 10
steps = [{{ read = "k" }}, {{ write = "k" }}]
{fault}
"#
    )
}

#[test]
fn an_outage_fails_exactly_the_reads_of_its_window_and_recovers() {
    // [12.005 s, 15.005 s): the reads of the arrivals at 12.01 … 15.00 s
    // (300) fail; the write of 12.00 s's request (at 12.001 s) is before it.
    let r = run_toml(
        &scenario("[[fault]]\nstore = \"k\"\nat = \"12005ms\"\nfor = \"3s\"\noutage = true"),
        1,
    );
    let s = &r.summary;
    assert_books("store outage", s);
    let e = &s.entries["w"];
    assert_eq!(e.requests, 2_999);
    assert_eq!(e.failed.error, 300);
    assert_eq!(e.ok, 2_699);
    let st = &s.stores["k"];
    assert_eq!((st.failed, st.reads, st.writes), (300, 2_699, 2_699));
    assert_eq!(s.faults[0].kind, "store_outage");
    assert_eq!(s.faults[0].target, "k");
    let rec = &s.recovery[0];
    assert_eq!(rec.verdict, Verdict::Recovered, "{rec:?}");
    assert_eq!(rec.relapses, 0);
    assert!(rec.min_goodput_rps < 1.0, "{rec:?}");
}

#[test]
fn an_outage_fails_a_write_whose_read_came_before_it() {
    // [12.0005 s, 15.0005 s): the request of 12.00 s read before it and
    // writes in it (12.001 s): its write fails; the 300 reads of 12.01 …
    // 15.00 s fail too. Nothing failed is committed.
    let r = run_toml(
        &scenario("[[fault]]\nstore = \"k\"\nat = \"12000500us\"\nfor = \"3s\"\noutage = true"),
        1,
    );
    let s = &r.summary;
    assert_books("store outage on a write", s);
    assert_eq!(s.entries["w"].failed.error, 301);
    let st = &s.stores["k"];
    assert_eq!((st.failed, st.reads, st.writes), (301, 2_699, 2_698));
}

#[test]
fn a_slowdown_stretches_reads_and_writes_and_fails_nothing() {
    // [12.005 s, 15.008 s): the 300 requests of 12.01 … 15.00 s read in it
    // (5 ms) and write in it (5 ms, at read + 5 ms ≤ 15.005 s): 10 ms, the
    // other 2,699 take 2 ms.
    let r = run_toml(
        &scenario("[[fault]]\nstore = \"k\"\nat = \"12005ms\"\nfor = \"3003ms\"\nslowdown = 5"),
        1,
    );
    let s = &r.summary;
    let e = &s.entries["w"];
    assert_eq!((e.ok, e.failed.error), (2_999, 0));
    assert_eq!(s.stores["k"].failed, 0);
    let mean = (2_699.0 * 2.0 + 300.0 * 10.0) / 2_999.0;
    assert!(
        (e.latency_ms.mean - mean).abs() < 1e-3 * mean,
        "{:?}",
        e.latency_ms
    );
    // The histogram's buckets hold 3 significant digits.
    assert!((e.latency_ms.max - 10.0).abs() < 0.05, "{:?}", e.latency_ms);
    assert!((e.latency_ms.p50 - 2.0).abs() < 0.01, "{:?}", e.latency_ms);
    assert_eq!(s.faults[0].kind, "store_slowdown");
    assert_eq!(s.recovery[0].verdict, Verdict::NotAffected);
}

#[test]
fn bad_store_faults_are_refused_with_their_key() {
    let cases = [
        (
            scenario("[[fault]]\nstore = \"nope\"\nat = \"1s\"\nfor = \"1s\"\noutage = true"),
            "unknown store `nope` (stores: k)",
            "fault.0.store",
        ),
        (
            scenario("[[fault]]\nstore = \"k\"\nat = \"1s\"\nfor = \"1s\"\nslowdown = 0.5"),
            "factor ≥ 1",
            "fault.0.slowdown",
        ),
        (
            scenario("[[fault]]\nstore = \"k\"\nat = \"1s\"\nfor = \"1s\"\nerrors = 0.5"),
            "`outage = true` or a `slowdown",
            "fault.0.errors",
        ),
        (
            scenario(
                "[[fault]]\nstore = \"k\"\nreplica = 0\nat = \"1s\"\nfor = \"1s\"\noutage = true",
            ),
            "leave out",
            "fault.0.replica",
        ),
    ];
    assert_each_rejected("store-faults", &cases);
}

/// One key, a request every 10 ms that reads, waits 15 ms and writes
/// conditionally: each request's read sees the version its predecessor
/// has not yet written, so writes alternate commit, conflict, commit …;
/// an outage at [5.0005 s, 5.5005 s) fails 50 reads and 2 writes.
const TRACED: &str = r#"
name = "store-spans"
duration = "10s"
warmup = "0s"
[workload.w]
target = "api"
rate = 100
arrivals = "deterministic"
[stores.k]
keys = { count = 1 }
[services.api]
threads = 10
steps = [{ read = "k" }, { wait = "15ms" }, { write = "k", conditional = true }]
[[fault]]
store = "k"
at = "5000500us"
for = "500ms"
outage = true
"#;

#[test]
fn trace_spans_of_reads_and_writes_carry_the_version_and_the_conflict() {
    use sim_core::trace::{StepKind, TraceOptions, What};
    let s = sim_core::load("t.toml", TRACED, &[]).expect("loads");
    let options = TraceOptions {
        sample: 1.0,
        max_traces: 10_000,
    };
    let (r, log) =
        sim_core::run_scenario_traced(&s, Some(1), &[], sim_core::Watch::default(), options);
    assert_eq!(log.stores, ["k"]);
    let (mut reads, mut commits, mut conflicts, mut down) = (0u64, 0u64, 0u64, 0u64);
    let mut writes_down = 0u64;
    for sp in &log.spans {
        let What::Step { kind } = sp.what else {
            continue;
        };
        match kind {
            StepKind::StoreRead {
                store: 0,
                unavailable,
                ..
            } => {
                if unavailable {
                    down += 1;
                } else {
                    reads += 1;
                }
                assert!(sp.end.is_some(), "a read span closes: {sp:?}");
            }
            StepKind::StoreWrite {
                store: 0,
                conditional: true,
                conflict,
                version,
                unavailable: false,
            } => {
                if conflict {
                    conflicts += 1;
                } else {
                    commits += 1;
                    assert!(version > 0, "a commit writes a new version");
                }
            }
            StepKind::StoreWrite {
                store: 0,
                unavailable: true,
                ..
            } => writes_down += 1,
            StepKind::StoreRead { .. } | StepKind::StoreWrite { .. } => panic!("{sp:?}"),
            _ => {}
        }
    }
    let st = &r.summary.stores["k"];
    assert_eq!(reads, st.reads);
    assert_eq!(commits, st.writes);
    assert_eq!(conflicts, st.conflicts);
    assert!(conflicts > 400 && commits > 400, "{conflicts} {commits}");
    // The outage's reads (5.01 … 5.50 s) and the writes it caught (those
    // of 4.99 and 5.00 s's requests, at 5.005 and 5.015 s).
    assert_eq!((down, writes_down), (50, 2));
    assert_eq!(st.failed, 52);
    let otlp = reports_otlp(&log);
    assert!(otlp.contains("\"k write\"") && otlp.contains("cascade.store.conflict"));
}

fn reports_otlp(log: &sim_core::TraceLog) -> String {
    let dir = crate::common::temp_dir("store-spans");
    let empty = sim_core::output::TimeSeries {
        window_s: 1.0,
        window_start_s: Vec::new(),
        window_end_s: Vec::new(),
        series: Vec::new(),
    };
    reports::trace::write(&dir, log, &empty).expect("trace files");
    std::fs::read_to_string(dir.join(reports::trace::OTLP)).expect("otlp")
}
