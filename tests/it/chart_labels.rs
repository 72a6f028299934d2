//! Across every shipped scenario: each axis names its quantity and unit,
//! and legends list only what the chart shows (no line for a failure kind
//! that never happened, no outcome layer for an outcome that never came).

use reports::charts;
use reports::plot::Chart;

use crate::topology::{shipped, short_run};

fn zero(values: impl IntoIterator<Item = f64>) -> bool {
    values.into_iter().all(|v| v == 0.0 || !v.is_finite())
}

#[test]
fn axes_are_named_and_legends_list_only_what_is_there() {
    let bare = ["", "value", "per second", "count", "share"];
    for (file, text) in shipped() {
        let r = short_run(&file, &text);
        for f in charts::figures(&r).figures {
            let title = f.chart.title().to_owned();
            match &f.chart {
                Chart::Lines(c) => {
                    assert!(
                        !bare.contains(&c.y_label.as_str()),
                        "{file} {title}: y '{}'",
                        c.y_label
                    );
                    assert!(!c.x_label.is_empty(), "{file} {title}");
                }
                Chart::Stacked(c) => {
                    assert!(!bare.contains(&c.y_label.as_str()), "{file} {title}");
                    // Every failure layer (all but the first, goodput) happened.
                    for l in c.layers.iter().skip(1) {
                        assert!(
                            !zero(l.values.iter().copied()),
                            "{file} {title}: layer '{}' is empty but in the legend",
                            l.name
                        );
                    }
                }
                Chart::Panels(c) => {
                    assert!(
                        !bare.contains(&c.y_label.as_str()),
                        "{file} {title}: y '{}'",
                        c.y_label
                    );
                    if title.starts_with("Failures per call edge") {
                        let names: Vec<&str> =
                            c.panels[0].1.iter().map(|l| l.name.as_str()).collect();
                        for name in names.iter().filter(|n| !n.starts_with("failed calls")) {
                            let all = c.panels.iter().flat_map(|(_, lines)| {
                                lines
                                    .iter()
                                    .filter(|l| l.name == *name)
                                    .flat_map(|l| l.points.iter().map(|p| p.1))
                            });
                            assert!(!zero(all), "{file}: '{name}' never happened but is drawn");
                        }
                    }
                }
                Chart::Heat(c) => assert!(!c.value_label.is_empty(), "{file} {title}"),
                Chart::Topology(_) => {}
                Chart::Points(_) | Chart::Grid(_) => panic!("{file} {title}: a sweep's chart"),
            }
        }
    }
}
