//! The compare report (`cascade compare --out DIR` → `report.html`): the
//! scenarios side by side. Headline cards give each scenario's difference
//! from the baseline (the first) with its paired 95 % confidence interval,
//! then the overlay charts, each scenario's key charts next to each other,
//! and every compared metric in one table.
//!
//! Reads a `Comparison` and charts already drawn; must not compute a
//! difference or an interval (the cli pairs the runs) nor fetch anything:
//! the page is whole on its own, like the run report.

use std::fmt::Write as _;

use super::{STYLE, escape, inline_svg};
use crate::compare::{Comparison, MetricOut, Unit, fmt_diff, fmt_half, fmt_value};

/// A chart drawn for a page: its file stem, title and SVG text; `saved`
/// when it is also written beside the page as SVG and PNG.
#[derive(Debug, Clone, PartialEq)]
pub struct Drawn {
    pub stem: String,
    pub title: String,
    pub svg: String,
    pub saved: bool,
}

const COMPARE_STYLE: &str = r#"
.tile.good { border-color:#9fd8c4; background:#f1fbf7; }
.tile.good .v { color:#00795a; }
.tile .vs { color:var(--muted); font-size:13px; font-variant-numeric:tabular-nums; }
.scenarios { list-style:none; padding:0; margin:8px 0; display:flex; flex-direction:column; gap:6px; }
.scenarios li { background:var(--card); border:1px solid var(--line); border-radius:6px; padding:6px 12px; }
.letter { display:inline-block; min-width:22px; font-weight:700; color:var(--accent); }
.wide { width:calc(100vw - 64px); max-width:calc(100vw - 64px); margin-left:calc(50% - 50vw + 32px); }
@media (max-width:1228px) { .wide { width:auto; max-width:none; margin-left:0; } }
.side { display:grid; gap:12px; align-items:start; }
.side figure { margin:6px 0; }
.side .absent { color:var(--muted); padding:16px; border:1px dashed var(--line); border-radius:10px; }
.side-head { display:grid; gap:12px; position:sticky; top:38px; z-index:1; background:var(--bg); padding:6px 0; }
.side-head div { font-weight:650; }
td.sig { font-weight:650; }
td.worse { color:var(--bad); }
td.better { color:#00795a; }
#metrics td:nth-child(2), #metrics th:nth-child(2) { text-align:left; }
"#;

/// Whether a larger value of `field` is better, worse, or neither.
fn larger_is_better(field: &str) -> Option<bool> {
    let last = field.rsplit('.').next().unwrap_or(field);
    if last == "goodput_rps" {
        Some(true)
    } else if field.starts_with("latency")
        || field.starts_with("failed.")
        || last.ends_with("_rate")
        || matches!(
            last,
            "rejected"
                | "refused"
                | "reset"
                | "dead_lettered"
                | "publish_failed"
                | "duplicates"
                | "oom_kills"
                | "down_s"
                | "drain_s"
        )
    {
        Some(false)
    } else {
        None
    }
}

fn letter(k: usize) -> char {
    char::from(b'A' + (k % 26) as u8)
}

/// What a metric is called on a card.
fn words(field: &str) -> String {
    match field {
        "goodput_rps" => "goodput".into(),
        "error_rate" => "error rate".into(),
        "latency_ms.p50" => "p50 latency".into(),
        "latency_ms.p99" => "p99 latency".into(),
        "latency_ms.mean" => "mean latency".into(),
        "latency_all_ms.p99" => "p99 latency, all requests".into(),
        other => other.replace('_', " "),
    }
}

fn value_with_unit(u: Unit, v: f64) -> String {
    format!("{}{}", fmt_value(u, v), u.suffix())
}

/// The difference of scenario `k` (≥ 1) for a metric: its text, the
/// interval's text, and whether the interval excludes zero.
fn difference(m: &MetricOut, k: usize) -> Option<(String, String, Option<bool>)> {
    let p = m.pairs.get(k - 1)?;
    let mean = p.mean?;
    let diff = format!("{}{}", fmt_diff(m.unit, mean), m.unit.suffix());
    let ci = match p.ci95 {
        Some(h) => format!("± {}{}", fmt_half(m.unit, mean, h), unit_of_half(m.unit)),
        None => String::new(),
    };
    Some((diff, ci, p.ci_excludes_zero))
}

/// Half-widths of fractions are percentage points too.
fn unit_of_half(u: Unit) -> &'static str {
    if u == Unit::Fraction {
        " pp"
    } else {
        u.suffix()
    }
}

/// Good, bad or neutral for a difference whose interval excludes zero.
fn verdict(m: &MetricOut, k: usize) -> &'static str {
    let Some(p) = m.pairs.get(k - 1) else {
        return "";
    };
    match (p.ci_excludes_zero, p.mean, larger_is_better(&m.field)) {
        (Some(true), Some(d), Some(up)) if d != 0.0 => {
            if (d > 0.0) == up {
                "good"
            } else {
                "bad"
            }
        }
        _ => "",
    }
}

/// The page. `overlays` are the overlay charts (saved beside the page);
/// `sides[k]` scenario k's key charts, matched across scenarios by stem.
pub fn compare_report(c: &Comparison, overlays: &[Drawn], sides: &[Vec<Drawn>]) -> String {
    let mut h = String::with_capacity(512 * 1024);
    let labels: Vec<&str> = c.scenarios.iter().map(|s| s.label.as_str()).collect();
    let title = format!("cascade compare · {}", labels.join(" vs "));
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>{STYLE}{COMPARE_STYLE}</style>\n</head>\n<body>\n",
        escape(&title)
    );
    header(&mut h, c, &labels);
    h.push_str("<nav><a href=\"#glance\">At a glance</a>");
    if !overlays.is_empty() {
        h.push_str("<a href=\"#overlays\">Overlays</a>");
    }
    if sides.iter().any(|s| !s.is_empty()) {
        h.push_str("<a href=\"#side\">Side by side</a>");
    }
    h.push_str("<a href=\"#metrics\">All metrics</a></nav>\n<main>\n");
    glance(&mut h, c);
    if !overlays.is_empty() {
        h.push_str(
            "<section id=\"overlays\">\n<h2>Overlays</h2>\n<p class=\"lead\">Every scenario's first replication on one chart \
             (the baseline solid, the others dashed or dotted over it); shaded spans are the baseline's fault windows.</p>\n",
        );
        for d in overlays {
            figure(&mut h, d, None);
        }
        h.push_str("</section>\n");
    }
    side_by_side(&mut h, &labels, sides);
    metrics_table(&mut h, c);
    let _ = writeln!(
        h,
        "</main>\n<footer>Made by cascade {} from the scenarios' hashes and master seed {}: the same inputs give the same report. \
         The numbers are also in <code>compare.json</code> beside this file.</footer>\n</body>\n</html>",
        escape(&c.version),
        c.master_seed
    );
    h
}

fn header(h: &mut String, c: &Comparison, labels: &[&str]) {
    let _ = write!(
        h,
        "<header>\n<div class=\"kicker\">cascade compare report</div>\n<h1>{}</h1>\n<p class=\"meta\">{} replication{} per scenario · {} · master seed <code>{}</code> · cascade <code>{}</code>",
        escape(&labels.join(" vs ")),
        c.reps,
        if c.reps == 1 { "" } else { "s" },
        if c.common_random_numbers {
            "common random numbers: every difference is paired on one seed"
        } else {
            "independent seeds (--independent): differences are NOT paired"
        },
        c.master_seed,
        escape(&c.version)
    );
    if !c.overrides.is_empty() {
        let _ = write!(
            h,
            " · overrides for every scenario <code>{}</code>",
            escape(&c.overrides.join(" "))
        );
    }
    h.push_str("</p>\n");
    if let Some(p) = &c.partial {
        let _ = writeln!(
            h,
            "<p class=\"meta\"><strong>Partial:</strong> stopped ({}) after {} of {} planned replications; \
             only the replications every scenario finished are compared.</p>",
            escape(&p.reason),
            c.reps,
            p.reps_planned
        );
    }
    h.push_str("</header>\n");
}

fn glance(h: &mut String, c: &Comparison) {
    h.push_str("<section id=\"glance\">\n<h2>At a glance</h2>\n<ul class=\"scenarios\">");
    for (k, s) in c.scenarios.iter().enumerate() {
        let _ = write!(
            h,
            "<li><span class=\"letter\">{}</span> <b>{}</b>{} · scenario <code>{}</code> · <code>{}</code> · hash <code>{}</code></li>",
            letter(k),
            escape(&s.label),
            if k == 0 { " (baseline)" } else { "" },
            escape(&s.name),
            escape(&s.file),
            escape(&s.scenario_hash)
        );
    }
    h.push_str("</ul>\n");
    let base = &c.scenarios[0].label;
    let _ = writeln!(
        h,
        "<p class=\"lead\">{}</p>",
        if c.reps >= 2 {
            format!(
                "Each card: a scenario's difference from {} (mean of the per-seed differences over {} replications) \
                 and its 95 % confidence interval. Green or red: the interval excludes zero, so the difference is \
                 not noise, and it is better or worse; grey: it may be noise.",
                escape(base),
                c.reps
            )
        } else {
            format!(
                "Each card: a scenario's difference from {} on the same seed. One replication gives no confidence \
                 interval: run with <code>--reps 8</code> to know whether a difference is more than noise.",
                escape(base)
            )
        }
    );
    const CARDS: [&str; 4] = [
        "goodput_rps",
        "error_rate",
        "latency_ms.p50",
        "latency_ms.p99",
    ];
    let mut entries: Vec<&str> = Vec::new();
    for m in c.metrics.values().filter(|m| m.section == "entries") {
        if !entries.contains(&m.name.as_str()) {
            entries.push(&m.name);
        }
    }
    for entry in entries {
        for k in 1..c.scenarios.len() {
            let _ = writeln!(
                h,
                "<p class=\"entry-name\">entry {} · {} vs {}</p>",
                escape(entry),
                escape(&c.scenarios[k].label),
                escape(base)
            );
            h.push_str("<div class=\"tiles\">");
            for field in CARDS {
                let Some(m) = c
                    .metrics
                    .values()
                    .find(|m| m.section == "entries" && m.name == entry && m.field == field)
                else {
                    continue;
                };
                card(h, m, k);
            }
            h.push_str("</div>\n");
        }
    }
    h.push_str("</section>\n");
}

fn card(h: &mut String, m: &MetricOut, k: usize) {
    let value = |i: usize| {
        m.scenarios
            .get(i)
            .and_then(|v| v.mean)
            .map_or("–".to_string(), |v| value_with_unit(m.unit, v))
    };
    let (diff, ci, excludes) = difference(m, k).unwrap_or(("–".into(), String::new(), None));
    let class = verdict(m, k);
    let interval = match excludes {
        Some(true) => format!("95 % CI {ci} · excludes 0"),
        Some(false) => format!("95 % CI {ci} · includes 0: may be noise"),
        None => "one replication: no interval".into(),
    };
    let _ = write!(
        h,
        "<div class=\"tile {class}\"><div class=\"k\">{} · {} − {}</div><div class=\"v\">{}</div>\
         <div class=\"vs\">{} {} → {} {}</div><div class=\"s\">{}</div></div>",
        escape(&words(&m.field)),
        letter(k),
        letter(0),
        escape(&diff),
        letter(0),
        escape(&value(0)),
        letter(k),
        escape(&value(k)),
        escape(&interval)
    );
}

fn figure(h: &mut String, d: &Drawn, who: Option<&str>) {
    let caption = match who {
        Some(w) => format!("{} — {}", escape(w), escape(&d.title)),
        None => escape(&d.title),
    };
    let _ = write!(
        h,
        "<figure>\n{}\n<figcaption>{caption}{}</figcaption>\n</figure>\n",
        inline_svg(&d.svg, &d.title),
        if d.saved {
            format!(
                " — also <code>{0}.svg</code> and <code>{0}.png</code>",
                escape(&d.stem)
            )
        } else {
            String::new()
        }
    );
}

/// Each scenario's key charts in a column of its own, a row per chart
/// (matched by file stem; a chart one scenario lacks leaves its cell
/// empty, saying so).
fn side_by_side(h: &mut String, labels: &[&str], sides: &[Vec<Drawn>]) {
    if sides.iter().all(Vec::is_empty) {
        return;
    }
    let n = sides.len().max(1);
    let cols = format!("grid-template-columns:repeat({n},minmax(0,1fr))");
    h.push_str(
        "<section id=\"side\">\n<h2>Side by side</h2>\n<p class=\"lead\">Each scenario's topology, entry and service \
         charts from its first replication, one column per scenario; the same chart of every scenario on one row. \
         Each chart has its own scale: read the axes before comparing heights. The charts are vector images: zoom in \
         to read their labels.</p>\n<div class=\"wide\">\n",
    );
    let _ = write!(h, "<div class=\"side-head\" style=\"{cols}\">");
    for (k, l) in labels.iter().enumerate() {
        let _ = write!(h, "<div>{} · {}</div>", letter(k), escape(l));
    }
    h.push_str("</div>\n");
    let mut stems: Vec<&str> = Vec::new();
    for d in sides.iter().flatten() {
        if !stems.contains(&d.stem.as_str()) {
            stems.push(&d.stem);
        }
    }
    for stem in stems {
        let _ = write!(h, "<div class=\"side\" style=\"{cols}\">");
        for (k, side) in sides.iter().enumerate() {
            let who = format!("{} · {}", letter(k), labels.get(k).unwrap_or(&""));
            match side.iter().find(|d| d.stem == stem) {
                Some(d) => figure(h, d, Some(&who)),
                None => {
                    let _ = write!(
                        h,
                        "<div class=\"absent\">{}: no such chart (<code>{}</code>) in this scenario.</div>",
                        escape(&who),
                        escape(stem)
                    );
                }
            }
        }
        h.push_str("</div>\n");
    }
    h.push_str("</div>\n</section>\n");
}

fn metrics_table(h: &mut String, c: &Comparison) {
    let base = &c.scenarios[0].label;
    h.push_str(
        "<section id=\"metrics\">\n<h2>All metrics</h2>\n<p class=\"lead\">Every compared metric: each scenario's mean over \
         its replications, and each difference from the baseline with its 95 % confidence interval; bold: the \
         interval excludes zero. Rates in %, their differences in percentage points (pp).</p>\n",
    );
    for (section, item) in [
        ("entries", "entry"),
        ("queues", "queue"),
        ("services", "service"),
        ("stores", "store"),
        ("sagas", "saga"),
    ] {
        let rows: Vec<&MetricOut> = c
            .metrics
            .values()
            .filter(|m| m.section == section)
            .collect();
        if rows.is_empty() {
            continue;
        }
        let _ = write!(
            h,
            "<h3>{}</h3>\n<div class=\"table-wrap\"><table><thead><tr><th>{item}</th><th>metric</th>",
            escape(section)
        );
        for (k, s) in c.scenarios.iter().enumerate() {
            let _ = write!(h, "<th>{} · {}</th>", letter(k), escape(&s.label));
        }
        for s in &c.scenarios[1..] {
            let _ = write!(h, "<th>Δ {} vs {}</th>", escape(&s.label), escape(base));
        }
        h.push_str("</tr></thead><tbody>");
        let mut last: Option<&str> = None;
        for m in rows {
            let name = if last == Some(m.name.as_str()) {
                ""
            } else {
                m.name.as_str()
            };
            last = Some(&m.name);
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{}{}</td>",
                escape(name),
                escape(&m.field),
                match m.unit.suffix().trim() {
                    "" => String::new(),
                    u => format!(" ({})", escape(u)),
                }
            );
            for v in &m.scenarios {
                let _ = write!(
                    h,
                    "<td>{}</td>",
                    v.mean.map_or("—".into(), |x| escape(&fmt_value(m.unit, x)))
                );
            }
            for k in 1..c.scenarios.len() {
                match difference(m, k) {
                    Some((d, ci, excludes)) => {
                        let mut class = String::new();
                        let pair = &m.pairs[k - 1];
                        // No difference on any seed: greyed, like zeros in the run report.
                        if pair.mean == Some(0.0) && pair.ci95.is_none_or(|h| h == 0.0) {
                            class.push_str("zero");
                        } else if excludes == Some(true) {
                            class.push_str("sig ");
                            class.push_str(match verdict(m, k) {
                                "good" => "better",
                                "bad" => "worse",
                                _ => "",
                            });
                        }
                        let _ = write!(
                            h,
                            "<td class=\"{}\">{} {}</td>",
                            class.trim(),
                            escape(&d),
                            escape(&ci)
                        );
                    }
                    None => h.push_str("<td>—</td>"),
                }
            }
            h.push_str("</tr>");
        }
        h.push_str("</tbody></table></div>\n");
    }
    h.push_str("</section>\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::{PairOut, ScenarioOut, ValuesOut};

    pub(crate) fn comparison(reps: u32) -> Comparison {
        let scenario = |label: &str| ScenarioOut {
            label: label.into(),
            file: format!("scenarios/{label}.toml"),
            name: label.into(),
            scenario_hash: "0123".into(),
            seeds: vec![7],
        };
        let metric = |field: &str, a: f64, b: f64, ci: Option<f64>| MetricOut {
            section: "entries".into(),
            name: "api".into(),
            field: field.into(),
            unit: crate::compare::unit_of(field),
            scenarios: vec![
                ValuesOut {
                    values: Some(vec![a]),
                    mean: Some(a),
                },
                ValuesOut {
                    values: Some(vec![b]),
                    mean: Some(b),
                },
            ],
            pairs: vec![PairOut {
                scenario: 1,
                baseline: 0,
                differences: Some(vec![b - a]),
                mean: Some(b - a),
                ci95: ci,
                sd: None,
                ci_excludes_zero: ci.map(|h| (b - a).abs() > h),
            }],
        };
        let ci = |h: f64| (reps >= 2).then_some(h);
        let mut metrics = indexmap::IndexMap::new();
        for m in [
            metric("goodput_rps", 100.0, 80.0, ci(5.0)),
            metric("error_rate", 0.01, 0.2, ci(0.5)),
            metric("latency_ms.p99", 40.0, 900.0, ci(30.0)),
        ] {
            metrics.insert(format!("entries.api.{}", m.field), m);
        }
        Comparison {
            format: 1,
            version: "test".into(),
            scenarios: vec![scenario("checkout"), scenario("breaker")],
            overrides: Vec::new(),
            master_seed: 7,
            seeds: vec![7],
            reps,
            common_random_numbers: true,
            metrics,
            partial: None,
        }
    }

    #[test]
    fn cards_say_which_differences_are_more_than_noise() {
        let page = compare_report(&comparison(8), &[], &[]);
        assert!(page.contains("checkout vs breaker"));
        // Goodput fell beyond its interval: bad; error rate's interval
        // includes zero: neutral; p99 rose beyond it: bad.
        assert!(page.contains("<div class=\"tile bad\"><div class=\"k\">goodput · B − A</div><div class=\"v\">-20.0/s</div>"));
        assert!(page.contains("<div class=\"tile \"><div class=\"k\">error rate · B − A</div><div class=\"v\">+19.00 pp</div>"));
        assert!(page.contains("includes 0: may be noise"));
        assert!(page.contains("A 40.0 ms → B 900 ms"));
        assert!(page.contains("<td class=\"sig worse\">+860 ms ± 30 ms</td>"));
        assert!(!page.contains("http"), "no external reference");
    }

    #[test]
    fn one_rep_says_there_is_no_interval() {
        let page = compare_report(&comparison(1), &[], &[]);
        assert!(page.contains("one replication: no interval"));
        assert!(page.contains("--reps 8"));
    }

    #[test]
    fn side_by_side_matches_charts_by_stem() {
        let d = |stem: &str, who: &str| Drawn {
            stem: stem.into(),
            title: format!("{stem} of {who}"),
            svg: "<svg width=\"1\" height=\"1\"></svg>".into(),
            saved: false,
        };
        let page = compare_report(
            &comparison(1),
            &[],
            &[
                vec![d("topology", "a"), d("latency-api", "a")],
                vec![d("topology", "b"), d("queue-lag", "b")],
            ],
        );
        let a = page.find("topology of a").unwrap();
        let b = page.find("topology of b").unwrap();
        let lat = page.find("latency-api of a").unwrap();
        assert!(a < b && b < lat, "one row per chart, scenarios in order");
        assert_eq!(page.matches("no such chart").count(), 2);
    }
}
