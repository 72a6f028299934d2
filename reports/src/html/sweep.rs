//! The sweep report (`cascade sweep` and `cascade merge` → `report.html`):
//! what was swept, the metric-vs-parameter charts and heat maps, and the
//! table of points (mean ± 95 % confidence interval per headline metric).
//!
//! Reads a `SweepTable` and the charts drawn from it; must not aggregate
//! (the cli does, in canonical order) nor name the command or directory
//! that wrote it: a merged sweep's page is byte-identical to an unsharded
//! one's.

use std::fmt::Write as _;

use super::compare::Drawn;
use super::{STYLE, escape, inline_svg, tile};
use crate::numbers::thousands;
use crate::sweep::{ColumnUnit, SweepTable, split_column};

const SWEEP_STYLE: &str = r#"
td.param { font-weight:600; background:#fafbfc; }
th.group { text-align:center; border-bottom:1px solid var(--line); }
.pm { color:var(--muted); font-size:12px; }
"#;

/// The page. `charts` are the sweep's charts, saved beside it.
pub fn sweep_report(t: &SweepTable, charts: &[Drawn]) -> String {
    let mut h = String::with_capacity(256 * 1024);
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>{STYLE}{SWEEP_STYLE}</style>\n</head>\n<body>\n",
        escape(&format!("cascade sweep · {}", t.scenario))
    );
    let _ = write!(
        h,
        "<header>\n<div class=\"kicker\">cascade sweep report</div>\n<h1>{}</h1>\n<p class=\"meta\">{} points × {} replication{} = {} runs · \
         master seed <code>{}</code> · cascade <code>{}</code> · scenario hash <code>{}</code>",
        escape(&t.scenario),
        thousands(t.points.len() as u64),
        t.reps,
        if t.reps == 1 { "" } else { "s" },
        thousands(t.runs_total),
        t.seed,
        escape(&t.version),
        escape(&t.scenario_hash)
    );
    if !t.set.is_empty() {
        let _ = write!(
            h,
            " · fixed for every run <code>{}</code>",
            escape(&t.set.join(" "))
        );
    }
    h.push_str("</p>\n</header>\n<nav><a href=\"#glance\">At a glance</a>");
    if !charts.is_empty() {
        h.push_str("<a href=\"#charts\">Charts</a>");
    }
    h.push_str("<a href=\"#points\">Points</a></nav>\n<main>\n");

    h.push_str("<section id=\"glance\">\n<h2>At a glance</h2>\n<div class=\"tiles\">");
    for (i, p) in t.params.iter().enumerate() {
        let mut values: Vec<&str> = Vec::new();
        for pt in &t.points {
            if let Some(v) = pt.params.get(i)
                && !values.contains(&v.as_str())
            {
                values.push(v);
            }
        }
        tile(
            &mut h,
            &format!("parameter {}", i + 1),
            p,
            &format!("{} values: {}", values.len(), values.join(", ")),
            false,
        );
    }
    tile(
        &mut h,
        "replications",
        &t.reps.to_string(),
        if t.reps >= 2 {
            "seeds per point: means with 95 % confidence intervals"
        } else {
            "one seed per point: no confidence intervals (--reps 5 gives them)"
        },
        false,
    );
    h.push_str("</div>\n</section>\n");

    if !charts.is_empty() {
        let lines = charts.iter().any(|d| !d.stem.starts_with("sweep-heat-"));
        let heat = charts.iter().any(|d| d.stem.starts_with("sweep-heat-"));
        let mut lead = Vec::new();
        if lines {
            lead.push(format!(
                "each entry's headline metrics against {}{}",
                escape(&t.params[0]),
                match t.params.len() {
                    1 => String::new(),
                    2 => format!(", one line per value of {}", escape(&t.params[1])),
                    _ => ", one line per combination of the other parameters".to_string(),
                }
            ));
        } else {
            lead.push(format!(
                "no line charts: the values of {} are not numbers",
                escape(&t.params[0])
            ));
        }
        if heat {
            lead.push("heat maps over both parameters, the value in each cell".to_string());
        }
        let mut lead = lead.join(if lines { "; then " } else { "; " });
        if let Some(c) = lead.get(..1) {
            lead = c.to_uppercase() + &lead[1..];
        }
        let _ = writeln!(
            h,
            "<section id=\"charts\">\n<h2>Charts</h2>\n<p class=\"lead\">{lead}.</p>"
        );
        for d in charts {
            let _ = write!(
                h,
                "<figure id=\"fig-{stem}\">\n{}\n<figcaption>{} — also <code>{stem}.svg</code> and <code>{stem}.png</code></figcaption>\n</figure>\n",
                inline_svg(&d.svg, &d.title),
                escape(&d.title),
                stem = escape(&d.stem)
            );
        }
        h.push_str("</section>\n");
    } else if !t.params.is_empty() {
        let _ = writeln!(
            h,
            "<section id=\"charts\">\n<h2>Charts</h2>\n<p class=\"none\">No chart: the values of {} are not numbers, so \
             there is no axis to draw them on. The table below has every point.</p>\n</section>",
            escape(&t.params[0])
        );
    }
    points_table(&mut h, t);
    let _ = writeln!(
        h,
        "</main>\n<footer>Made by cascade {} from scenario hash {} and master seed {}: the same sweep gives the same report, \
         sharded and merged or not. The numbers are also in <code>aggregate.csv</code>, <code>sweep.csv</code> and \
         <code>sweep.json</code> beside this file.</footer>\n</body>\n</html>",
        escape(&t.version),
        escape(&t.scenario_hash),
        t.seed
    );
    h
}

fn points_table(h: &mut String, t: &SweepTable) {
    let _ = writeln!(
        h,
        "<section id=\"points\">\n<h2>Points</h2>\n<p class=\"lead\">Every point of the sweep: the mean over its runs{}. \
         Rates and utilisation in %.</p>",
        if t.reps >= 2 {
            " ± the half-width of its 95 % confidence interval"
        } else {
            ""
        }
    );
    // Columns grouped by item (`entry api`), in the order of the columns.
    let mut groups: Vec<(String, Vec<usize>)> = Vec::new();
    for (k, c) in t.columns.iter().enumerate() {
        let (scope, name, _) = split_column(c);
        let g = format!("{scope} {name}");
        match groups.iter_mut().find(|(n, _)| *n == g) {
            Some((_, ks)) => ks.push(k),
            None => groups.push((g, vec![k])),
        }
    }
    h.push_str("<div class=\"table-wrap\"><table><thead><tr>");
    let _ = write!(
        h,
        "<th rowspan=\"2\">point</th>{}<th rowspan=\"2\">runs</th>",
        t.params
            .iter()
            .map(|p| format!("<th rowspan=\"2\">{}</th>", escape(p)))
            .collect::<String>()
    );
    for (g, ks) in &groups {
        let _ = write!(
            h,
            "<th class=\"group\" colspan=\"{}\">{}</th>",
            ks.len(),
            escape(g)
        );
    }
    h.push_str("</tr><tr>");
    for (_, ks) in &groups {
        for &k in ks {
            let column = &t.columns[k];
            let (_, _, metric) = split_column(column);
            let unit = ColumnUnit::of(column);
            let name = metric
                .trim_end_matches("_ms")
                .trim_end_matches("_rps")
                .trim_end_matches("_s")
                .replace('_', " ");
            let _ = write!(
                h,
                "<th>{} ({})</th>",
                escape(&name),
                escape(match unit {
                    ColumnUnit::PerSecond => "/s",
                    u => u.label(),
                })
            );
        }
    }
    h.push_str("</tr></thead><tbody>");
    for p in &t.points {
        let _ = write!(h, "<tr><td>{}</td>", p.point);
        for v in &p.params {
            let _ = write!(h, "<td class=\"param\">{}</td>", escape(v));
        }
        let _ = write!(h, "<td>{}</td>", p.runs);
        for (_, ks) in &groups {
            for &k in ks {
                let unit = ColumnUnit::of(&t.columns[k]);
                match p.mean[k] {
                    None => h.push_str("<td class=\"zero\">—</td>"),
                    Some(m) => {
                        let ci = match p.ci95[k] {
                            Some(c) => {
                                format!(
                                    " <span class=\"pm\">± {}</span>",
                                    escape(&unit.fmt_half(m, c))
                                )
                            }
                            None => String::new(),
                        };
                        let _ = write!(h, "<td>{}{ci}</td>", escape(&unit.fmt(m)));
                    }
                }
            }
        }
        h.push_str("</tr>");
    }
    h.push_str("</tbody></table></div>\n</section>\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sweep::SweepPoint;

    fn table(reps: u32) -> SweepTable {
        SweepTable {
            scenario: "pool <test>".into(),
            scenario_hash: "abc".into(),
            version: "v".into(),
            seed: 3,
            reps,
            set: vec!["duration=20s".into()],
            params: vec!["services.db.threads".into()],
            runs_total: 2 * u64::from(reps),
            columns: vec!["entry.api.p99_ms".into(), "entry.api.error_rate".into()],
            points: ["4", "8"]
                .iter()
                .enumerate()
                .map(|(i, v)| SweepPoint {
                    point: i as u64,
                    params: vec![v.to_string()],
                    runs: reps as usize,
                    mean: vec![Some(41.156), Some(0.0731)],
                    ci95: vec![(reps > 1).then_some(2.5), None],
                })
                .collect(),
        }
    }

    #[test]
    fn names_every_point_and_reads_numbers_as_people_do() {
        let page = sweep_report(&table(3), &[]);
        assert!(page.contains("<h1>pool &lt;test&gt;</h1>"));
        assert!(page.contains("<td class=\"param\">4</td>"));
        assert!(page.contains("<td class=\"param\">8</td>"));
        assert!(page.contains("<td>41.2 <span class=\"pm\">± 2.5</span></td>"));
        assert!(page.contains("<td>7.3%</td>"));
        assert!(page.contains("<th>p99 (ms)</th>"));
        assert!(page.contains("<th>error rate (%)</th>"));
        assert!(page.contains("duration=20s"));
        assert!(!page.contains("http"));
    }

    #[test]
    fn without_replications_no_interval_is_promised() {
        let page = sweep_report(&table(1), &[]);
        assert!(!page.contains("±"));
        assert!(page.contains("no confidence intervals"));
    }
}
