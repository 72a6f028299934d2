//! How a run's caches are shown: the terminal's caches table (after the
//! services table, only when there are caches, within 100 columns), the
//! report's table and hit-ratio chart, and the cache boxes of the topology.

use crate::common::{cascade, repo_root, temp_dir};

fn stampede() -> String {
    repo_root()
        .join("scenarios/cache-stampede.toml")
        .to_string_lossy()
        .into_owned()
}

#[test]
fn terminal_caches_table_follows_the_services_table() {
    let dir = temp_dir("cache-table");
    let out_dir = dir.join("out");
    let out = cascade(&[
        "run",
        &stampede(),
        "--duration",
        "40s",
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    let header = |first: &str| {
        text.lines()
            .position(|l| l.trim_start_matches(['│', ' ']).starts_with(first))
    };
    let services = header("service").expect("services table");
    let caches = header("cache").expect("caches table");
    assert!(caches > services, "{text}");
    let calls = header("call").expect("calls table");
    assert!(caches < calls, "caches before calls:\n{text}");
    let row = text
        .lines()
        .skip(caches)
        .find(|l| l.contains("products"))
        .expect("a row per cache");
    // The flush: one, and the keys it removed; keys resident of capacity.
    let cells: Vec<&str> = row
        .split(['│', '┆'])
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect();
    assert_eq!(cells.len(), 10, "{row}");
    let ratio: f64 = cells[1].parse().expect("hit ratio %");
    assert!(ratio > 30.0 && ratio < 80.0, "{row}");
    assert_eq!(cells[7], "1", "one flush: {row}");
    assert!(cells[9].ends_with(" of 20000"), "{row}");
    let tables = text
        .lines()
        .filter(|l| l.starts_with(['┌', '│', '╞', '├', '└']));
    for line in tables {
        assert!(line.chars().count() <= 100, "too wide: {line}");
    }
    // The summary's figures, whole.
    let summary = std::fs::read_to_string(out_dir.join("summary.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&summary).unwrap();
    let lookups = v["caches"]["products"]["lookups"].as_u64().unwrap();
    assert_eq!(cells[2], lookups.to_string(), "{row}");

    // The report: the table in the services section, the hit-ratio chart,
    // and "More series" no longer repeating the hit ratio.
    let page = std::fs::read_to_string(out_dir.join("report.html")).unwrap();
    let services = page.find("<section id=\"services\">").expect("services");
    let table = page.find("<h3>Caches</h3>").expect("a caches table");
    let chart = page.find("Cache hit ratio").expect("the hit-ratio chart");
    let edges = page.find("<section id=\"edges\">").expect("calls");
    assert!(
        services < table && table < edges,
        "caches table in Services"
    );
    assert!(
        services < chart && chart < edges,
        "hit-ratio chart in Services"
    );
    assert!(out_dir.join("cache-hit-ratio.svg").exists());
    assert!(out_dir.join("cache-hit-ratio.png").exists());
    assert!(
        !out_dir.join("cache-hit_ratio.svg").exists(),
        "More series repeats the hit ratio"
    );

    // No caches: no table.
    let plain = repo_root().join("scenarios/retry-storm.toml");
    let out = cascade(&[
        "run",
        plain.to_str().unwrap(),
        "--duration",
        "15s",
        "--out",
        dir.join("plain").to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        !text.lines().any(|l| l.contains("hit ratio")),
        "no caches, no table:\n{text}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
