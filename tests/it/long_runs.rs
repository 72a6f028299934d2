//! A run longer than a chart has points (1,000 windows) keeps its charts
//! readable: lines become bucket means over a min–max band (the SVG stays
//! small), and each fault gets its entry charts again, zoomed from
//! shortly before the fault to the recovery. Short runs get no zoom.

use reports::plot::{Chart, svg};
use reports::{Section, charts};

use crate::common::run_toml;

const LONG: &str = r#"
name = "long"
duration = "1500s"
warmup = "10s"
[workload.users]
target = "api"
rate = 20
[services.api]
threads = 4
steps = [{ work = { dist = "exponential", mean = "20ms" } }]
[[fault]]
target = "api"
slowdown = 20
at = "700s"
for = "30s"
"#;

#[test]
fn long_runs_are_bucketed_and_zoomed_on_each_fault() {
    let r = run_toml(LONG, 3);
    assert_eq!(r.timeseries.window_start_s.len(), 1500);
    let figs = charts::figures(&r).figures;
    let zoomed: Vec<_> = figs
        .iter()
        .filter(|f| f.stem.ends_with("-fault-0"))
        .collect();
    assert_eq!(zoomed.len(), 2, "latency and outcomes zoomed");
    for f in &zoomed {
        assert_eq!(f.section, Section::Entries);
        assert!(f.chart.title().contains("around fault 0"));
        let range = match &f.chart {
            Chart::Lines(c) => c.x_range,
            Chart::Stacked(c) => c.x_range,
            _ => None,
        }
        .expect("a zoom has its x range");
        // From before the fault's start to after its end, far from the
        // run's 1,500 s.
        assert!(range.0 < 700.0 && range.0 >= 600.0, "{range:?}");
        assert!(range.1 > 730.0 && range.1 < 900.0, "{range:?}");
    }
    // The whole-run latency chart draws at most ~1,000 points per line.
    let latency = figs.iter().find(|f| f.stem == "latency-users").unwrap();
    let text = svg(&latency.chart).unwrap();
    assert!(
        text.contains("the mean of 2 windows"),
        "the subtitle says so"
    );
    for path in text.split("<polyline").skip(1) {
        let points = path.split("points=\"").nth(1).unwrap_or("");
        let n = points
            .split('"')
            .next()
            .unwrap_or("")
            .split_whitespace()
            .count();
        assert!(n <= 1_100, "{n} points in one line");
    }
}

#[test]
fn short_runs_are_not_zoomed() {
    let short = LONG.replace("1500s", "900s");
    let figs = charts::figures(&run_toml(&short, 3)).figures;
    assert!(figs.iter().all(|f| !f.stem.contains("-fault-")));
}
