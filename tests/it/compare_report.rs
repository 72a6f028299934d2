//! `cascade compare --out DIR` writes `report.html`: self-contained, naming
//! every scenario, with the headline differences and their intervals, the
//! overlay and each scenario's key charts inline.

use crate::common::{cascade, repo_root, temp_dir};
use crate::report_pages::assert_self_contained;

fn scenario(name: &str) -> String {
    repo_root()
        .join("scenarios")
        .join(name)
        .display()
        .to_string()
}

#[test]
fn compare_writes_a_self_contained_page_of_both_scenarios() {
    let dir = temp_dir("compare-report");
    let out = dir.join("cb");
    let run = cascade(&[
        "compare",
        &scenario("checkout.toml"),
        &scenario("circuit-breaker.toml"),
        "--reps",
        "2",
        "--set",
        "duration=40s",
        "--out",
        out.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(stdout.contains("report.html"), "{stdout}");
    let page = std::fs::read_to_string(out.join("report.html")).expect("report.html written");
    let charts = assert_self_contained(&page);

    // Both scenarios by label and by the name they give themselves.
    for name in ["checkout", "circuit-breaker"] {
        assert!(page.contains(&format!("<b>{name}</b>")), "{name} not named");
    }
    assert!(page.contains("<h1>checkout vs circuit-breaker</h1>"));
    // Cards: each headline metric's difference and its interval.
    for card in [
        "goodput · B − A",
        "p99 latency · B − A",
        "error rate · B − A",
    ] {
        assert!(page.contains(card), "no card `{card}`");
    }
    assert!(page.contains("95 % CI ±"), "two reps give intervals");
    // The overlay, saved beside the page, and inline.
    assert!(page.contains("compare-latency.svg"));
    assert!(out.join("compare-latency.png").exists());
    // Side by side: both scenarios' topology and entry charts.
    assert!(page.contains("A · checkout — Topology"));
    assert!(page.contains("B · circuit-breaker — Topology"));
    assert!(page.contains("A · checkout — Latency over time · checkout"));
    assert!(page.contains("B · circuit-breaker — Latency over time · checkout"));
    // The overlay, and at least topology, latency and outcomes of each.
    const AT_LEAST: usize = 7;
    assert!(charts >= AT_LEAST, "{charts} charts inline");
    // Every compared metric in the table.
    assert!(page.contains("<td>latency_ms.p99 (ms)</td>"));

    // The directory's manifest lists the page: a later run removes it.
    let manifest = std::fs::read_to_string(out.join(".cascade-manifest")).unwrap();
    assert!(manifest.contains("report.html"), "{manifest}");
}

#[test]
fn one_rep_pages_say_there_is_no_interval_and_jobs_change_no_byte() {
    let dir = temp_dir("compare-report-one");
    let page_with = |jobs: &str| {
        let out = dir.join(format!("jobs{jobs}"));
        let run = cascade(&[
            "compare",
            &scenario("checkout-sync.toml"),
            &scenario("checkout-async.toml"),
            "--set",
            "duration=40s",
            "--set",
            "warmup=5s",
            "--jobs",
            jobs,
            "--out",
            out.to_str().unwrap(),
        ]);
        assert!(
            run.status.success(),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
        std::fs::read_to_string(out.join("report.html")).unwrap()
    };
    let page = page_with("1");
    assert_self_contained(&page);
    assert!(page.contains("checkout-sync vs checkout-async"));
    assert!(page.contains("one replication: no interval"));
    assert!(!page.contains("95 % CI ±"));
    assert!(page == page_with("2"), "--jobs changed report.html");
}
