//! Sweep charts: each entry's headline metrics against the first swept
//! parameter, with their 95 % confidence band (dashed), one line per value
//! of the second parameter; and, for two parameters, a heat map of p99.
//! Drawn with the `reports` crate from the per-point aggregates, so sharded
//! and unsharded sweeps draw the same bytes.

use std::path::{Path, PathBuf};

use reports::plot::{Chart, Dash, HeatStrip, Line, LineChart, series_style};

/// One point of the sweep: its parameter values and, per metric column,
/// the mean and CI half-width.
pub struct Point<'a> {
    pub params: &'a [String],
    pub mean: &'a [Option<f64>],
    pub ci95: &'a [Option<f64>],
}

/// A parameter value as a number: plain numbers, or durations in seconds.
fn numeric(v: &str) -> Option<f64> {
    v.parse::<f64>().ok().or_else(|| {
        sim_core::time::parse_duration(v.trim_matches('"'))
            .ok()
            .map(sim_core::time::secs)
    })
}

fn stem(column: &str) -> String {
    column.replace(['.', '/'], "-")
}

/// Writes the charts into `out`; nothing when the first parameter is not
/// numeric.
pub fn write(
    out: &Path,
    params: &[&str],
    columns: &[String],
    points: &[Point],
) -> std::io::Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    let Some(first) = params.first() else {
        return Ok(written);
    };
    if points.is_empty() || points.iter().any(|p| numeric(&p.params[0]).is_none()) {
        return Ok(written);
    }
    // Series: one per value of the second parameter (in first-seen order).
    let mut groups: Vec<String> = Vec::new();
    for p in points {
        let g = p.params.get(1).cloned().unwrap_or_default();
        if !groups.contains(&g) {
            groups.push(g);
        }
    }
    for (k, column) in columns.iter().enumerate() {
        let wanted = ["goodput_rps", "p99_ms", "error_rate"]
            .iter()
            .any(|m| column.ends_with(m));
        if !column.starts_with("entry.") || !wanted {
            continue;
        }
        let unit = if column.ends_with("_ms") {
            "ms"
        } else if column.ends_with("_rps") {
            "requests/s"
        } else {
            "fraction"
        };
        let mut chart = LineChart::new(
            format!("{column} vs {first}"),
            first.to_string(),
            format!("{column} ({unit})"),
        );
        chart.subtitle = "mean over replications; dashed: 95 % confidence interval".into();
        for (gi, g) in groups.iter().enumerate() {
            let (colour, _) = series_style(gi);
            let mut mean = Vec::new();
            let mut lo = Vec::new();
            let mut hi = Vec::new();
            for p in points
                .iter()
                .filter(|p| p.params.get(1).map_or("", String::as_str) == g)
            {
                let (Some(x), Some(m)) = (numeric(&p.params[0]), p.mean[k]) else {
                    continue;
                };
                let c = p.ci95[k].unwrap_or(0.0);
                mean.push((x, m));
                lo.push((x, m - c));
                hi.push((x, m + c));
            }
            let name = if params.len() > 1 {
                format!("{} = {g}", params[1])
            } else {
                "mean".into()
            };
            let mut l = Line::new(name.clone(), mean);
            l.style = Some((colour, Dash::Solid));
            chart.lines.push(l);
            for (label, pts) in [("−95 %", lo), ("+95 %", hi)] {
                let mut l = Line::new(format!("{name} {label}"), pts);
                l.style = Some((colour, Dash::Dashed));
                chart.lines.push(l);
            }
        }
        let ((svg, _), png) = reports::write_chart(
            out,
            &format!("sweep-{}", stem(column)),
            &Chart::Lines(chart),
        )?;
        written.extend([svg, png]);
    }
    if params.len() >= 2 {
        written.extend(heat_maps(out, params, columns, points, &groups)?);
    }
    Ok(written)
}

fn heat_maps(
    out: &Path,
    params: &[&str],
    columns: &[String],
    points: &[Point],
    groups: &[String],
) -> std::io::Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    let mut xs: Vec<f64> = points
        .iter()
        .filter_map(|p| numeric(&p.params[0]))
        .collect();
    xs.sort_by(f64::total_cmp);
    xs.dedup();
    let half = |i: usize| {
        if xs.len() < 2 {
            0.5
        } else if i + 1 < xs.len() {
            (xs[i + 1] - xs[i]) / 2.0
        } else {
            (xs[i] - xs[i - 1]) / 2.0
        }
    };
    let starts: Vec<f64> = (0..xs.len())
        .map(|i| {
            xs[i]
                - if i == 0 {
                    half(0)
                } else {
                    (xs[i] - xs[i - 1]) / 2.0
                }
        })
        .collect();
    let ends: Vec<f64> = (0..xs.len()).map(|i| xs[i] + half(i)).collect();
    for (k, column) in columns.iter().enumerate() {
        if !(column.starts_with("entry.") && column.ends_with("p99_ms")) {
            continue;
        }
        let mut rows = Vec::new();
        let mut max: f64 = 0.0;
        for g in groups {
            let row: Vec<f64> = xs
                .iter()
                .map(|x| {
                    points
                        .iter()
                        .find(|p| p.params[1] == *g && numeric(&p.params[0]) == Some(*x))
                        .and_then(|p| p.mean[k])
                        .unwrap_or(f64::NAN)
                })
                .collect();
            max = row
                .iter()
                .copied()
                .filter(|v| v.is_finite())
                .fold(max, f64::max);
            rows.push((g.clone(), row));
        }
        let chart = HeatStrip {
            title: format!("{column} over {} × {}", params[0], params[1]),
            subtitle: format!(
                "mean over replications; one row per value of {} (top: first swept)",
                params[1]
            ),
            x_label: params[0].to_string(),
            value_label: format!("{column} (ms)"),
            starts: starts.clone(),
            ends: ends.clone(),
            rows,
            max: if max > 0.0 { max } else { 1.0 },
            value_fmt: reports::Fmt::Number,
            bands: Vec::new(),
        };
        let ((svg, _), png) = reports::write_chart(
            out,
            &format!("sweep-heat-{}", stem(column)),
            &Chart::Heat(chart),
        )?;
        written.extend([svg, png]);
    }
    Ok(written)
}
