//! `cascade sweep` and `cascade merge` write `report.html`: self-contained,
//! naming every point, with the metric-vs-parameter charts (markers on the
//! points, confidence bands only with replications), a labelled heat map
//! for two parameters, and the table of points.

use std::path::Path;

use crate::common::{cascade, repo_root, temp_dir};
use crate::report_pages::assert_self_contained;

fn sweep(out: &Path, extra: &[&str]) -> String {
    let file = repo_root().join("scenarios/sweep-pool.toml");
    let mut args = vec![
        "sweep",
        file.to_str().unwrap(),
        "--seed",
        "5",
        "--set",
        "duration=4s",
        "--set",
        "warmup=1s",
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend(extra);
    let run = cascade(&args);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    std::fs::read_to_string(out.join("report.html")).expect("report.html written")
}

/// The inline SVG of the figure saved as `stem`.
fn figure<'a>(page: &'a str, stem: &str) -> &'a str {
    let at = page
        .find(&format!("<figure id=\"fig-{stem}\">"))
        .unwrap_or_else(|| panic!("no figure {stem}"));
    let end = at + page[at..].find("</figure>").unwrap();
    &page[at..end]
}

#[test]
fn two_parameters_with_reps_get_bands_heat_maps_and_every_point() {
    let dir = temp_dir("sweep-report-two");
    let out = dir.join("two");
    let page = sweep(
        &out,
        &[
            "-L",
            "services.db.threads",
            "4,8",
            "-L",
            "workload.api.rate",
            "200,300",
            "--reps",
            "2",
        ],
    );
    let charts = assert_self_contained(&page);
    assert!(page.contains("<h1>sweep-pool</h1>"));
    // Every point, by its values, in the table.
    for (threads, rate) in [("4", "200"), ("4", "300"), ("8", "200"), ("8", "300")] {
        let row = format!("<td class=\"param\">{threads}</td><td class=\"param\">{rate}</td>");
        assert!(page.contains(&row), "point {threads}, {rate} missing");
    }
    assert!(
        page.contains("<span class=\"pm\">± "),
        "intervals in the table"
    );
    // Lines with markers and bands, one line per rate.
    let p99 = figure(&page, "sweep-entry-api-p99_ms");
    assert!(p99.contains("workload.api.rate = 200") && p99.contains("workload.api.rate = 300"));
    assert!(p99.contains("95 % confidence interval"));
    assert!(p99.contains("<polygon"), "a confidence band");
    assert!(p99.matches("<circle").count() >= 4, "a marker per point");
    // Heat maps with a value in every cell.
    let heat = figure(&page, "sweep-heat-entry-api-p99_ms");
    assert!(heat.contains("services.db.threads →") && heat.contains("workload.api.rate ↓"));
    assert!(heat.matches("<rect").count() >= 4);
    assert_eq!(charts, 5, "goodput, p99, error rate; two heat maps");
    for stem in [
        "sweep-entry-api-goodput_rps",
        "sweep-heat-entry-api-error_rate",
    ] {
        assert!(out.join(format!("{stem}.png")).exists(), "{stem}.png");
    }
    let manifest = std::fs::read_to_string(out.join(".cascade-manifest")).unwrap();
    assert!(manifest.contains("report.html"), "{manifest}");
}

#[test]
fn one_rep_gets_markers_but_no_band_and_merge_writes_the_same_page() {
    let dir = temp_dir("sweep-report-one");
    let whole = dir.join("whole");
    let axis = ["-P", "services.db.threads", "4", "8", "-D", "2"];
    let page = sweep(&whole, &axis);
    assert_self_contained(&page);
    for threads in ["4", "6", "8"] {
        assert!(page.contains(&format!("<td class=\"param\">{threads}</td>")));
    }
    let p99 = figure(&page, "sweep-entry-api-p99_ms");
    assert!(p99.matches("<circle").count() >= 3, "a marker per point");
    assert!(!p99.contains("<polygon"), "no band without replications");
    assert!(!p99.contains("confidence interval\n</text>"));
    assert!(
        !page.contains("<span class=\"pm\">"),
        "no interval in the table"
    );
    assert!(!page.contains("sweep-heat-"), "one parameter: no heat map");

    // Shards merged: the same page, byte for byte.
    let shard = dir.join("shard");
    let file = repo_root().join("scenarios/sweep-pool.toml");
    let mut args = vec![
        "sweep",
        file.to_str().unwrap(),
        "--seed",
        "5",
        "--set",
        "duration=4s",
        "--set",
        "warmup=1s",
        "--shard",
        "0/1",
        "--out",
        shard.to_str().unwrap(),
    ];
    args.extend(axis);
    let run = cascade(&args);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(!shard.join("report.html").exists(), "a shard has no page");
    let merged = dir.join("merged");
    let run = cascade(&[
        "merge",
        shard.to_str().unwrap(),
        "--out",
        merged.to_str().unwrap(),
    ]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(merged.join("report.html")).unwrap(),
        page
    );
}
