//! The charts of a sweep: each entry's goodput, p99 latency and error
//! rate against the first swept parameter, a marker on every point, one
//! line per combination of the other parameters, and the 95 % confidence
//! interval shaded only when there are replications; and, for two
//! parameters, a heat map of p99 and error rate with the value in every
//! cell.
//!
//! Built from the per-point aggregates alone, so a merged sweep draws the
//! same bytes as an unsharded one. Must not draw (that is `plot`) nor
//! write files.

use crate::plot::{Chart, Fmt, GridHeat, Measured, PointSeries, PointsChart};
use crate::sweep::{ColumnUnit, SweepTable, split_column};

/// Metrics drawn against the parameter, in chart order.
const LINE_METRICS: [&str; 3] = ["goodput_rps", "p99_ms", "error_rate"];
/// Metrics drawn as heat maps of two parameters.
const HEAT_METRICS: [&str; 2] = ["p99_ms", "error_rate"];

/// A parameter value as a number: plain numbers, or durations in seconds.
pub fn numeric(v: &str) -> Option<f64> {
    v.parse::<f64>().ok().or_else(|| {
        sim_core::time::parse_duration(v.trim_matches('"'))
            .ok()
            .map(sim_core::time::secs)
    })
}

/// What a metric is called in a title or on an axis.
fn metric_words(metric: &str) -> &str {
    match metric {
        "goodput_rps" => "goodput",
        "p99_ms" => "p99 latency",
        "error_rate" => "error rate",
        other => other,
    }
}

/// The file stem of a column's chart (`sweep-` or `sweep-heat-` before it).
pub fn stem(column: &str) -> String {
    column.replace(['.', '/'], "-")
}

/// The sweep's charts, each with its file stem, in report order: the
/// metric-vs-parameter charts, then the heat maps. None of the first kind
/// when the first parameter is not numeric.
pub fn sweep_charts(t: &SweepTable) -> Vec<(String, Chart)> {
    let mut out = Vec::new();
    let Some(first) = t.params.first() else {
        return out;
    };
    let numeric_x =
        !t.points.is_empty() && t.points.iter().all(|p| numeric(&p.params[0]).is_some());
    let replicated = t.points.iter().any(|p| p.runs >= 2);
    // One series per combination of the other parameters, first-seen order.
    let group_of = |params: &[String]| -> String {
        t.params[1..]
            .iter()
            .zip(&params[1..])
            .map(|(k, v)| format!("{k} = {v}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut groups: Vec<String> = Vec::new();
    for p in &t.points {
        let g = group_of(&p.params);
        if !groups.contains(&g) {
            groups.push(g);
        }
    }
    // Entry by entry, each entry's metrics in `LINE_METRICS` order.
    let mut wanted: Vec<(usize, &str, &str)> = Vec::new();
    for (k, column) in t.columns.iter().enumerate() {
        let (scope, name, metric) = split_column(column);
        if numeric_x && scope == "entry" && LINE_METRICS.contains(&metric) {
            wanted.push((k, name, metric));
        }
    }
    let mut entries: Vec<&str> = Vec::new();
    for w in &wanted {
        if !entries.contains(&w.1) {
            entries.push(w.1);
        }
    }
    let rank = |name: &str, metric: &str| {
        let entry = entries.iter().position(|e| *e == name).unwrap_or(0);
        let m = LINE_METRICS.iter().position(|m| *m == metric).unwrap_or(0);
        (entry, m)
    };
    wanted.sort_by_key(|w| rank(w.1, w.2));
    for (k, name, metric) in wanted {
        let column = &t.columns[k];
        let unit = ColumnUnit::of(column);
        let percent = unit == ColumnUnit::Fraction;
        let series = groups
            .iter()
            .map(|g| PointSeries {
                name: if g.is_empty() {
                    "mean".into()
                } else {
                    g.clone()
                },
                points: t
                    .points
                    .iter()
                    .filter(|p| group_of(&p.params) == *g)
                    .filter_map(|p| {
                        Some(Measured {
                            x: numeric(&p.params[0])?,
                            y: p.mean[k]?,
                            half: p.ci95[k],
                        })
                    })
                    .collect(),
            })
            .collect();
        let words = metric_words(metric);
        let chart = PointsChart {
            title: format!("{name}: {words} vs {first}"),
            subtitle: if replicated {
                format!(
                    "each marker: the mean of {} replications at one point; shaded: its 95 % confidence interval",
                    t.reps
                )
            } else {
                "each marker: one run at one point (one replication: no confidence interval; --reps 5 gives one)".into()
            },
            x_label: first.clone(),
            y_label: format!(
                "{words} ({})",
                if percent {
                    "% of requests"
                } else {
                    unit.label()
                }
            ),
            y_fmt: if percent { Fmt::Percent } else { Fmt::Number },
            series,
            band_label: replicated
                .then(|| "shaded in its colour: 95 % confidence interval".to_string()),
        };
        out.push((format!("sweep-{}", stem(column)), Chart::Points(chart)));
    }
    if t.params.len() == 2 {
        out.extend(heat_maps(t, replicated));
    }
    out
}

/// Each entry's p99 and error rate over the two parameters' combinations.
fn heat_maps(t: &SweepTable, replicated: bool) -> Vec<(String, Chart)> {
    let mut columns: Vec<&str> = Vec::new();
    let mut rows: Vec<&str> = Vec::new();
    for p in &t.points {
        if !columns.contains(&p.params[0].as_str()) {
            columns.push(&p.params[0]);
        }
        if !rows.contains(&p.params[1].as_str()) {
            rows.push(&p.params[1]);
        }
    }
    let mut out = Vec::new();
    for (k, column) in t.columns.iter().enumerate() {
        let (scope, name, metric) = split_column(column);
        if scope != "entry" || !HEAT_METRICS.contains(&metric) {
            continue;
        }
        let unit = ColumnUnit::of(column);
        let values = rows
            .iter()
            .map(|r| {
                columns
                    .iter()
                    .map(|c| {
                        t.points
                            .iter()
                            .find(|p| p.params[0] == *c && p.params[1] == *r)
                            .and_then(|p| p.mean[k])
                            .unwrap_or(f64::NAN)
                    })
                    .collect()
            })
            .collect();
        let words = metric_words(metric);
        let chart = GridHeat {
            title: format!("{name}: {words} over {} × {}", t.params[0], t.params[1]),
            subtitle: if replicated {
                format!("each cell: the mean of {} replications", t.reps)
            } else {
                "each cell: one run".into()
            },
            x_label: t.params[0].clone(),
            columns: columns.iter().map(|c| c.to_string()).collect(),
            y_label: t.params[1].clone(),
            rows: rows.iter().map(|r| r.to_string()).collect(),
            values,
            value_label: format!(
                "{words} ({})",
                if unit == ColumnUnit::Fraction {
                    "% of requests"
                } else {
                    unit.label()
                }
            ),
            value_fmt: if unit == ColumnUnit::Fraction {
                Fmt::Percent
            } else {
                Fmt::Number
            },
        };
        out.push((format!("sweep-heat-{}", stem(column)), Chart::Grid(chart)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sweep::SweepPoint;

    pub(crate) fn table(params: &[&str], reps: u32) -> SweepTable {
        let columns = vec![
            "entry.api.p99_ms".to_string(),
            "entry.api.error_rate".into(),
        ];
        let mut points = Vec::new();
        let firsts = ["4", "8", "12"];
        let seconds: &[&str] = if params.len() > 1 {
            &["100", "200"]
        } else {
            &[""]
        };
        for a in firsts {
            for b in seconds {
                let mut ps = vec![a.to_string()];
                if params.len() > 1 {
                    ps.push(b.to_string());
                }
                let x: f64 = a.parse().unwrap();
                points.push(SweepPoint {
                    point: points.len() as u64,
                    params: ps,
                    runs: reps as usize,
                    mean: vec![Some(100.0 / x), Some(0.01 * x)],
                    ci95: if reps > 1 {
                        vec![Some(1.0), Some(0.001)]
                    } else {
                        vec![None, None]
                    },
                });
            }
        }
        SweepTable {
            scenario: "pool".into(),
            scenario_hash: "00".into(),
            version: "test".into(),
            seed: 1,
            reps,
            set: Vec::new(),
            params: params.iter().map(|p| p.to_string()).collect(),
            runs_total: points.len() as u64 * u64::from(reps),
            columns,
            points,
        }
    }

    #[test]
    fn one_parameter_one_line_per_metric_and_no_band_without_reps() {
        let charts = sweep_charts(&table(&["services.db.threads"], 1));
        let stems: Vec<&str> = charts.iter().map(|(s, _)| s.as_str()).collect();
        assert_eq!(
            stems,
            ["sweep-entry-api-p99_ms", "sweep-entry-api-error_rate"]
        );
        let Chart::Points(c) = &charts[0].1 else {
            panic!("a points chart")
        };
        assert_eq!(c.series.len(), 1);
        assert_eq!(c.series[0].points.len(), 3);
        assert_eq!(c.band_label, None);
        assert_eq!(c.y_label, "p99 latency (ms)");
    }

    #[test]
    fn two_parameters_a_line_per_second_value_and_heat_maps() {
        let charts = sweep_charts(&table(&["threads", "rate"], 3));
        let stems: Vec<&str> = charts.iter().map(|(s, _)| s.as_str()).collect();
        assert_eq!(
            stems,
            [
                "sweep-entry-api-p99_ms",
                "sweep-entry-api-error_rate",
                "sweep-heat-entry-api-p99_ms",
                "sweep-heat-entry-api-error_rate"
            ]
        );
        let Chart::Points(c) = &charts[0].1 else {
            panic!("a points chart")
        };
        let names: Vec<&str> = c.series.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["rate = 100", "rate = 200"]);
        assert!(c.band_label.is_some());
        let Chart::Grid(g) = &charts[2].1 else {
            panic!("a grid")
        };
        assert_eq!(g.columns, ["4", "8", "12"]);
        assert_eq!(g.rows, ["100", "200"]);
        assert_eq!(g.values[1][0], 25.0);
    }

    #[test]
    fn charts_follow_the_metrics_order_not_the_columns() {
        let mut t = table(&["threads"], 2);
        t.columns.reverse();
        for p in &mut t.points {
            p.mean.reverse();
            p.ci95.reverse();
        }
        let stems: Vec<String> = sweep_charts(&t).into_iter().map(|(s, _)| s).collect();
        assert_eq!(
            stems,
            ["sweep-entry-api-p99_ms", "sweep-entry-api-error_rate"]
        );
    }

    #[test]
    fn words_as_first_parameter_still_get_heat_maps() {
        let mut t = table(&["balancer", "rate"], 1);
        for p in &mut t.points {
            p.params[0] = format!("\"lb-{}\"", p.params[0]);
        }
        let stems: Vec<String> = sweep_charts(&t).into_iter().map(|(s, _)| s).collect();
        assert_eq!(
            stems,
            [
                "sweep-heat-entry-api-p99_ms",
                "sweep-heat-entry-api-error_rate"
            ]
        );
    }

    #[test]
    fn durations_are_numbers_of_seconds() {
        assert_eq!(numeric("250ms"), Some(0.25));
        assert_eq!(numeric("\"2s\""), Some(2.0));
        assert_eq!(numeric("fifo"), None);
    }
}
