//! `report.html`: one self-contained page (charts inline as SVG, styles
//! inline, no script, no reference to anything outside the file). Sections
//! follow `charts::Section`; a run without message queues has no Queues
//! section.
//!
//! `mod.rs` builds the page (header, "At a glance", sections, figures,
//! scenario) and holds what every page shares (style, escaping, inline
//! SVG, tiles); `tables.rs` the summary tables of the Entries, Services,
//! Calls and Queues sections; `compare.rs` and `sweep.rs` the pages of
//! `cascade compare` and `cascade sweep`. Must not compute anything the summary does
//! not hold, nor fetch anything: the page is whole on its own.

use std::fmt::Write as _;

use sim_core::output::Summary;

use crate::charts::top::pick_by;
use crate::charts::{Figure, Section, fault_label};
use crate::numbers::{pct, short, sig3, thousands};

mod caches;
mod compare;
mod glance_async;
mod logs;
mod polls;
mod runtime;
mod sagas;
mod stores;
mod sweep;
mod tables;

pub use compare::{Drawn, compare_report};
pub use sweep::sweep_report;

use tables::{edges_table, entries_table, queues_table, services_table};

/// Escapes text for HTML content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// An SVG document made fit to sit inside HTML: no XML namespace URL (HTML
/// needs none), an accessible name, and scaling to the page width.
pub(crate) fn inline_svg(svg: &str, title: &str) -> String {
    let body = svg.replacen(" xmlns=\"http://www.w3.org/2000/svg\"", "", 1);
    body.replacen(
        "<svg ",
        &format!("<svg role=\"img\" aria-label=\"{}\" ", escape(title)),
        1,
    )
}

pub(crate) const STYLE: &str = r#"
:root { --ink:#1f2328; --muted:#5b6470; --line:#e3e6ea; --bg:#f6f7f9; --card:#fff; --accent:#0072b2; --bad:#b23c00; }
* { box-sizing: border-box; }
body { margin:0; background:var(--bg); color:var(--ink);
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
header { background:#14213d; color:#fff; padding:28px 40px 22px; }
header .kicker { text-transform:uppercase; letter-spacing:.12em; font-size:12px; color:#a9b8d6; }
header h1 { margin:4px 0 6px; font-size:30px; font-weight:650; }
header .meta { margin:0; color:#d4dcec; font-size:14px; }
header .meta code { color:#fff; }
nav { position:sticky; top:0; z-index:2; background:rgba(255,255,255,.95); border-bottom:1px solid var(--line);
  padding:8px 40px; display:flex; gap:18px; flex-wrap:wrap; font-size:14px; }
nav a { color:var(--accent); text-decoration:none; }
nav a:hover { text-decoration:underline; }
main { max-width:1180px; margin:0 auto; padding:8px 28px 40px; }
section { margin-top:26px; }
h2 { font-size:21px; margin:0 0 4px; }
h2 + p.lead { margin-top:0; color:var(--muted); }
h3 { font-size:16px; margin:18px 0 8px; }
.tiles { display:grid; grid-template-columns:repeat(auto-fit,minmax(160px,1fr)); gap:12px; margin:10px 0 6px; }
.tile { background:var(--card); border:1px solid var(--line); border-radius:10px; padding:12px 14px; }
.tile .k { color:var(--muted); font-size:12px; text-transform:uppercase; letter-spacing:.06em; }
.tile .v { font-size:24px; font-weight:650; margin-top:2px; font-variant-numeric:tabular-nums; }
.tile .s { color:var(--muted); font-size:13px; }
.tile.bad { border-color:#e9b79c; background:#fff6f1; }
.tile.bad .v { color:var(--bad); }
.entry-name { font-weight:600; margin:16px 0 0; font-size:16px; }
.faults { display:flex; gap:10px; flex-wrap:wrap; margin:8px 0 0; padding:0; list-style:none; }
.faults li { background:#fff3eb; border:1px solid #efc3a6; color:#7a2e00; border-radius:999px; padding:4px 12px; font-size:14px; }
.none { color:var(--muted); }
.slo { list-style:none; padding:0; margin:8px 0; display:flex; flex-direction:column; gap:6px; }
.slo li { background:var(--card); border:1px solid var(--line); border-left:5px solid; border-radius:6px; padding:6px 12px; }
.slo li.pass { border-left-color:#009e73; }
.slo li.fail { border-left-color:#d55e00; background:#fff6f1; }
.slo li.pass b { color:#00795a; }
.slo li.fail b { color:var(--bad); }
td.bad { color:var(--bad); font-weight:600; }
figure { margin:14px 0; background:var(--card); border:1px solid var(--line); border-radius:10px; padding:10px; }
figure svg { display:block; width:100%; height:auto; }
figcaption { color:var(--muted); font-size:13px; padding:6px 8px 0; }
.table-wrap { overflow-x:auto; background:var(--card); border:1px solid var(--line); border-radius:10px; }
table { border-collapse:collapse; width:100%; font-size:13.5px; font-variant-numeric:tabular-nums; }
th, td { padding:7px 8px; border-bottom:1px solid var(--line); text-align:right; white-space:nowrap; }
th { background:#fafbfc; font-weight:600; color:#38414b; white-space:normal; vertical-align:bottom; line-height:1.25; }
th:first-child, td:first-child { text-align:left; }
tr:last-child td { border-bottom:none; }
td.zero { color:#a0a7b0; }
.bar { display:inline-block; width:56px; height:10px; background:#edf0f3; border-radius:3px; vertical-align:middle; margin-right:8px; overflow:hidden; }
.bar > span { display:block; height:100%; }
.dot { display:inline-block; width:10px; height:10px; border-radius:50%; margin-right:6px; vertical-align:middle; }
details { background:var(--card); border:1px solid var(--line); border-radius:10px; padding:10px 14px; }
summary { cursor:pointer; font-weight:600; }
pre { overflow-x:auto; font: 13px/1.45 ui-monospace, SFMono-Regular, Menlo, Consolas, "DejaVu Sans Mono", monospace; margin:10px 0 0; }
footer { color:var(--muted); font-size:13px; text-align:center; padding:20px; }
"#;

/// The page. `figures` pairs each chart with its SVG text.
pub fn report(
    s: &Summary,
    figures: &[(Figure, String)],
    omitted: &[String],
    notes: &[(Section, String)],
    scenario_text: &str,
) -> String {
    let mut h = String::with_capacity(256 * 1024);
    let title = format!("cascade · {}", s.scenario);
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        escape(&title)
    );
    header(&mut h, s);
    let workflows = !(s.sagas.is_empty() && s.outboxes.is_empty());
    let sections: [(Section, &str, &str); 9] = [
        (Section::Topology, "topology", "Topology"),
        (Section::Entries, "entries", "Entries"),
        (Section::Services, "services", "Services"),
        (Section::Edges, "edges", "Calls"),
        (Section::Queues, "queues", "Queues"),
        (Section::Sagas, "sagas", "Sagas and outboxes"),
        (Section::Stores, "stores", "Versioned stores"),
        (
            Section::Distribution,
            "distribution",
            "Latency distribution",
        ),
        (Section::More, "more", "More series"),
    ];
    h.push_str("<nav><a href=\"#glance\">At a glance</a>");
    for (sec, id, name) in &sections {
        if figures.iter().any(|(f, _)| f.section == *sec)
            || notes.iter().any(|(n, _)| n == sec)
            || matches!(sec, Section::Entries | Section::Services | Section::Edges)
            || (*sec == Section::Queues && !(s.queues.is_empty() && s.logs.is_empty()))
            || (*sec == Section::Sagas && workflows)
            || (*sec == Section::Stores && !s.stores.is_empty())
        {
            let _ = write!(h, "<a href=\"#{id}\">{name}</a>");
        }
    }
    h.push_str("<a href=\"#scenario\">Scenario</a></nav>\n<main>\n");
    glance(&mut h, s);
    for (sec, id, name) in &sections {
        let figs: Vec<&(Figure, String)> =
            figures.iter().filter(|(f, _)| f.section == *sec).collect();
        let has_table = matches!(sec, Section::Entries | Section::Services | Section::Edges)
            || (*sec == Section::Queues && !(s.queues.is_empty() && s.logs.is_empty()))
            || (*sec == Section::Sagas && workflows)
            || (*sec == Section::Stores && !s.stores.is_empty());
        let mine: Vec<&str> = notes
            .iter()
            .filter(|(n, _)| n == sec)
            .map(|(_, t)| t.as_str())
            .collect();
        let zeros = *sec == Section::More && !omitted.is_empty();
        if figs.is_empty() && !has_table && !zeros && mine.is_empty() {
            continue;
        }
        let _ = writeln!(h, "<section id=\"{id}\">\n<h2>{name}</h2>");
        if let Some(lead) = lead(*sec) {
            let _ = writeln!(h, "<p class=\"lead\">{lead}</p>");
        }
        for note in mine {
            let _ = writeln!(h, "<p class=\"none\">{}</p>", escape(note));
        }
        if *sec == Section::Queues {
            // The numbers first: the charts explain them.
            queues_table(&mut h, s);
            logs::logs_tables(&mut h, s);
        }
        if *sec == Section::Sagas {
            sagas::sagas_tables(&mut h, s);
            sagas::outboxes_table(&mut h, s);
        }
        if *sec == Section::Stores {
            stores::stores_table(&mut h, s);
        }
        for (f, svg) in figs {
            figure(&mut h, f, svg);
        }
        match sec {
            Section::Entries => entries_table(&mut h, s),
            Section::Services => {
                services_table(&mut h, s, figures);
                caches::caches_table(&mut h, s);
                runtime::runtime_tables(&mut h, s);
            }
            Section::Edges => edges_table(&mut h, s),
            Section::More if !omitted.is_empty() => {
                let _ = writeln!(
                    h,
                    "<p class=\"none\">Zero throughout, not drawn: {}.</p>",
                    escape(&omitted.join(", "))
                );
            }
            _ => {}
        }
        h.push_str("</section>\n");
    }
    let _ = writeln!(
        h,
        "<section id=\"scenario\">\n<h2>Scenario</h2>\n<p class=\"lead\">The scenario as run, with its overrides applied{}.</p>\n\
         <details open><summary>scenario.toml</summary>\n<pre>{}</pre>\n</details>\n</section>",
        if s.overrides.is_empty() {
            String::new()
        } else {
            format!(", which were: {}", escape(&s.overrides.join(" ")))
        },
        escape(scenario_text)
    );
    let _ = writeln!(
        h,
        "</main>\n<footer>Made by cascade {} from scenario hash {} and seed {}: the same three give the same report. \
         Every chart is also saved beside this file as SVG and PNG.</footer>\n</body>\n</html>",
        escape(&s.version),
        escape(&s.scenario_hash),
        s.seed
    );
    h
}

fn lead(sec: Section) -> Option<&'static str> {
    Some(match sec {
        Section::Topology => {
            "Who calls whom. A box's colour is its pool's utilisation in its busiest window during the faults (over the whole run when there are none); a thick dark-orange outline and badge mark where a fault was injected, the cause, so the boxes that light up without one are its symptoms. An arrow's colour and width give the share of its calls that failed."
        }
        Section::Entries => {
            "What the users of each entry point saw. Shaded spans are fault windows; the grey span at the start is the warm-up, left out of the totals."
        }
        Section::Services => {
            "How full each service's thread pool and accept queue were, window by window."
        }
        Section::Edges => {
            "Calls between services: what failed, and answers that came back after the caller had stopped waiting."
        }
        Section::Queues => {
            "Message queues of the brokers: what happened to the messages (delivery is at least once, so a message may be processed twice), how long they waited, and whether the consumers kept up."
        }
        Section::Distribution => "Latency of successful requests over the whole measured period.",
        Section::More => "Every other series of the run, one chart per metric.",
        Section::Sagas => sagas::LEAD,
        Section::Stores => stores::LEAD,
    })
}

fn header(h: &mut String, s: &Summary) {
    let _ = write!(
        h,
        "<header>\n<div class=\"kicker\">cascade run report</div>\n<h1>{}</h1>\n<p class=\"meta\">seed <code>{}</code> · cascade <code>{}</code> · scenario hash <code>{}</code> · measured {} s after {} s warm-up · ended at {} s · {} events",
        escape(&s.scenario),
        s.seed,
        escape(&s.version),
        escape(&s.scenario_hash),
        short(s.sim_duration_s),
        short(s.warmup_s),
        short(s.end_time_s),
        thousands(s.events)
    );
    if !s.overrides.is_empty() {
        let _ = write!(
            h,
            " · overrides <code>{}</code>",
            escape(&s.overrides.join(" "))
        );
    }
    h.push_str("</p>\n");
    if let Some(why) = &s.partial {
        let _ = writeln!(
            h,
            "<p class=\"meta\"><strong>PARTIAL RESULTS</strong> — {}</p>",
            escape(why)
        );
    }
    h.push_str("</header>\n");
}

pub(crate) fn tile(h: &mut String, k: &str, v: &str, sub: &str, bad: bool) {
    let _ = write!(
        h,
        "<div class=\"tile{}\"><div class=\"k\">{}</div><div class=\"v\">{}</div><div class=\"s\">{}</div></div>",
        if bad { " bad" } else { "" },
        escape(k),
        escape(v),
        escape(sub)
    );
}

fn ms(v: f64) -> String {
    if v.is_finite() {
        format!("{} ms", sig3(v))
    } else {
        "–".into()
    }
}

/// Entries "At a glance" gives a row of tiles each; past it, those that
/// fared worst (a wide model's hundreds of rows would bury the page).
const GLANCE_ENTRIES: usize = 8;

fn glance(h: &mut String, s: &Summary) {
    h.push_str("<section id=\"glance\">\n<h2>At a glance</h2>\n");
    let entries: Vec<_> = s.entries.iter().collect();
    let scores: Vec<(f64, f64)> = entries
        .iter()
        .map(|(_, e)| (e.error_rate, e.latency_ms.p99))
        .collect();
    let shown = pick_by(&scores, GLANCE_ENTRIES, GLANCE_ENTRIES);
    if shown.limited() {
        let _ = writeln!(
            h,
            "<p class=\"none\">The {} of {} entries with the highest error rate (then the highest p99); the <a href=\"#entries\">Entries</a> table lists more, summary.json all.</p>",
            shown.kept.len(),
            thousands(entries.len() as u64)
        );
    }
    for &i in &shown.kept {
        let (name, e) = entries[i];
        let failed = e.failed.timeout + e.failed.rejected + e.failed.error;
        let _ = writeln!(
            h,
            "<p class=\"entry-name\">{} → {}</p>",
            escape(name),
            escape(&e.target)
        );
        h.push_str("<div class=\"tiles\">");
        tile(
            h,
            "requests",
            &thousands(e.requests),
            &format!("{} in flight at the end", thousands(e.in_flight_at_end)),
            false,
        );
        tile(
            h,
            "goodput",
            &format!("{}/s", short(e.goodput_rps)),
            &format!("throughput {}/s", short(e.throughput_rps)),
            false,
        );
        tile(
            h,
            "failed",
            &pct(e.error_rate),
            &format!(
                "{} timeout · {} rejected · {} error",
                thousands(e.failed.timeout),
                thousands(e.failed.rejected),
                thousands(e.failed.error)
            ),
            e.error_rate >= 0.01 && failed > 0,
        );
        tile(
            h,
            "p50 latency",
            &ms(e.latency_ms.p50),
            &format!("mean {}", ms(e.latency_ms.mean)),
            false,
        );
        tile(
            h,
            "p99 latency",
            &ms(e.latency_ms.p99),
            &format!("p90 {}", ms(e.latency_ms.p90)),
            e.latency_ms.p99 > 10.0 * e.latency_ms.p50.max(1e-9),
        );
        tile(
            h,
            "p99.9 latency",
            &ms(e.latency_ms.p999),
            &format!("max {}", ms(e.latency_ms.max)),
            false,
        );
        h.push_str("</div>\n");
    }
    glance_async::render(h, s);
    stores::glance(h, s);
    if !s.slo.is_empty() {
        h.push_str("<h3>SLO assertions</h3>\n<ul class=\"slo\">");
        for a in &s.slo {
            let _ = write!(
                h,
                "<li class=\"{}\"><b>{}</b> <code>{}</code> {}</li>",
                if a.pass { "pass" } else { "fail" },
                if a.pass { "✓ met" } else { "✗ broken" },
                escape(&a.key),
                escape(&a.condition)
            );
        }
        h.push_str("</ul>\n");
    }
    h.push_str("<h3>Faults</h3>\n");
    if s.faults.is_empty() {
        h.push_str("<p class=\"none\">No fault was injected.</p>\n");
    } else {
        h.push_str("<ul class=\"faults\">");
        for f in &s.faults {
            let _ = write!(
                h,
                "<li>{} · {} s → {} s ({} s)</li>",
                escape(&fault_label(&f.kind, &f.target, f.replica)),
                short(f.start_s),
                short(f.end_s),
                short(f.end_s - f.start_s)
            );
        }
        h.push_str("</ul>\n");
    }
    if !s.recovery.is_empty() {
        h.push_str("<h3>Recovery after faults</h3>\n");
        tables::recovery_table(h, s);
    }
    h.push_str("</section>\n");
}

fn figure(h: &mut String, f: &Figure, svg: &str) {
    let _ = write!(
        h,
        "<figure id=\"fig-{stem}\">\n{}\n<figcaption>{} — also <code>{stem}.svg</code> and <code>{stem}.png</code></figcaption>\n</figure>\n",
        inline_svg(svg, f.chart.title()),
        escape(f.chart.title()),
        stem = escape(&f.stem)
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape("<a href='x'>&\"</a>"),
            "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;"
        );
    }

    #[test]
    fn inline_svg_drops_the_namespace_url() {
        let s = inline_svg(
            "<svg width=\"1\" height=\"1\" viewBox=\"0 0 1 1\" xmlns=\"http://www.w3.org/2000/svg\">\n</svg>",
            "a<b",
        );
        assert!(!s.contains("http"));
        assert!(s.starts_with("<svg role=\"img\" aria-label=\"a&lt;b\" width"));
    }
}
