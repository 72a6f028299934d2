//! Charts and report: they render for a synthetic and a real run, points
//! land where the axes say, the page refers to nothing outside itself, and
//! the same run gives the same bytes.

use std::fs;
use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use reports::{Chart, Line, LineChart, Scale};
use sim_core::output::{
    EdgeSummary, EntrySummary, Failed, FaultWindow, Latency, QueueSummary, RunResult, Series,
    ServiceSummary, Summary, TimeSeries,
};

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("cascade-reports-{}-{name}", std::process::id()));
    let _ = fs::remove_dir_all(&d);
    fs::create_dir_all(&d).unwrap();
    d
}

fn series(scope: &str, name: &str, metric: &str, values: Vec<f64>) -> Series {
    Series {
        scope: scope.into(),
        name: name.into(),
        metric: metric.into(),
        values,
    }
}

/// Two services, one edge, one crash; names with markup in them; a series
/// no chart knows about (`breaker_open`).
fn synthetic() -> RunResult {
    let n = 60;
    let t: Vec<f64> = (0..n).map(f64::from).collect();
    let in_fault = |i: usize| (20..40).contains(&i);
    let wave = |f: &dyn Fn(usize) -> f64| -> Vec<f64> { (0..n as usize).map(f).collect() };
    let entry = "we<b>";
    let mut ts = TimeSeries {
        window_s: 1.0,
        window_start_s: t.clone(),
        window_end_s: t.iter().map(|x| x + 1.0).collect(),
        series: Vec::new(),
    };
    let s = &mut ts.series;
    s.push(series("entry", entry, "arrivals_rps", wave(&|_| 100.0)));
    s.push(series("entry", entry, "throughput_rps", wave(&|_| 100.0)));
    s.push(series(
        "entry",
        entry,
        "goodput_rps",
        wave(&|i| if in_fault(i) { 40.0 } else { 100.0 }),
    ));
    s.push(series(
        "entry",
        entry,
        "timeout_rps",
        wave(&|i| if in_fault(i) { 20.0 } else { 0.0 }),
    ));
    s.push(series(
        "entry",
        entry,
        "rejected_rps",
        wave(&|i| if in_fault(i) { 30.0 } else { 0.0 }),
    ));
    s.push(series(
        "entry",
        entry,
        "error_rps",
        wave(&|i| if in_fault(i) { 10.0 } else { 0.0 }),
    ));
    s.push(series(
        "entry",
        entry,
        "error_rate",
        wave(&|i| if in_fault(i) { 0.6 } else { 0.0 }),
    ));
    s.push(series(
        "entry",
        entry,
        "p50_ms",
        wave(&|i| {
            if in_fault(i) {
                0.0
            } else {
                10.0 + i as f64 % 3.0
            }
        }),
    ));
    s.push(series(
        "entry",
        entry,
        "p99_ms",
        wave(&|i| if in_fault(i) { 900.0 } else { 40.0 }),
    ));
    s.push(series(
        "entry",
        entry,
        "p999_ms",
        wave(&|i| if in_fault(i) { 2000.0 } else { 80.0 }),
    ));
    for (svc, pool) in [("api", 10.0), ("db", 4.0)] {
        s.push(series(
            "service",
            svc,
            "busy_threads",
            wave(&|i| if in_fault(i) { pool } else { pool * 0.3 }),
        ));
        s.push(series(
            "service",
            svc,
            "utilization",
            wave(&|i| if in_fault(i) { 1.0 } else { 0.3 }),
        ));
        s.push(series(
            "service",
            svc,
            "queue_len",
            wave(&|i| if in_fault(i) { 7.0 } else { 0.0 }),
        ));
        s.push(series("service", svc, "refused_rps", wave(&|_| 0.0)));
    }
    for (m, v) in [
        ("calls_rps", 100.0),
        ("timeouts_rps", 20.0),
        ("failures_rps", 50.0),
        ("late_replies_rps", 3.0),
    ] {
        s.push(series(
            "edge",
            "api->db",
            m,
            wave(&|i| {
                if in_fault(i) || m == "calls_rps" {
                    v
                } else {
                    0.0
                }
            }),
        ));
    }
    s.push(series(
        "edge",
        "api->db",
        "breaker_open",
        wave(&|i| if in_fault(i) { 1.0 } else { 0.0 }),
    ));
    let lat = |p50: f64| Latency {
        mean: p50 * 1.2,
        p50,
        p90: p50 * 3.0,
        p99: p50 * 9.0,
        p999: p50 * 20.0,
        max: p50 * 40.0,
    };
    let mut entries = IndexMap::new();
    entries.insert(
        entry.to_string(),
        EntrySummary {
            target: "api".into(),
            requests: 6000,
            ok: 4800,
            degraded: 0,
            failed: Failed {
                timeout: 400,
                rejected: 600,
                error: 200,
            },
            in_flight_at_end: 0,
            throughput_rps: 100.0,
            goodput_rps: 80.0,
            error_rate: 0.2,
            latency_ms: lat(10.0),
            latency_all_ms: lat(12.0),
            latency_cdf_ms: (1..=99)
                .map(|q| [f64::from(q) / 100.0, 5.0 + f64::from(q)])
                .collect(),
        },
    );
    let mut services = IndexMap::new();
    for (svc, threads) in [("db", 4), ("api", 10)] {
        services.insert(
            svc.to_string(),
            ServiceSummary {
                replicas: 1,
                threads,
                queue_capacity: Some(10),
                arrivals: 6000,
                completed: 5000,
                utilization: 0.5,
                busy_threads_mean: f64::from(threads) / 2.0,
                ..ServiceSummary::default()
            },
        );
    }
    let mut edges = IndexMap::new();
    edges.insert(
        "api->db".to_string(),
        EdgeSummary {
            calls: 6000,
            ok: 5000,
            errors: 200,
            rejected: 400,
            timeouts: 400,
            late_replies: 60,
            ..EdgeSummary::default()
        },
    );
    RunResult {
        summary: Summary {
            scenario: "<script>alert('x')</script> & co".into(),
            seed: 7,
            version: "0.0.0-test".into(),
            scenario_hash: "00ff".into(),
            overrides: vec!["a.b=<c>".into()],
            sim_duration_s: 55.0,
            warmup_s: 5.0,
            end_time_s: 60.0,
            events: 12345,
            partial: None,
            entries,
            services,
            edges,
            queues: IndexMap::new(),
            caches: IndexMap::new(),
            classes: IndexMap::new(),
            logs: Default::default(),
            sagas: IndexMap::new(),
            outboxes: IndexMap::new(),
            polls: IndexMap::new(),
            stores: IndexMap::new(),
            faults: vec![FaultWindow {
                kind: "crash".into(),
                target: "db".into(),
                replica: Some(0),
                start_s: 20.0,
                end_s: 40.0,
            }],
            recovery: Vec::new(),
            clients: IndexMap::new(),
            amplification: IndexMap::new(),
            slo: vec![
                sim_core::slo::SloResult {
                    key: "we<b>.p99".into(),
                    condition: "< 800ms".into(),
                    pass: false,
                    ..Default::default()
                },
                sim_core::slo::SloResult {
                    key: "we<b>.error_rate".into(),
                    condition: "< 50%".into(),
                    pass: true,
                    ..Default::default()
                },
            ],
        },
        timeseries: ts,
    }
}

fn real() -> (RunResult, String) {
    let text = include_str!("../../scenarios/checkout.toml");
    let scenario = sim_core::load("checkout.toml", text, &[]).expect("checkout.toml loads");
    (
        sim_core::run_scenario(&scenario, Some(1), &[]),
        text.to_string(),
    )
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

fn check_outputs(dir: &Path, written: &[PathBuf]) {
    assert!(
        written.iter().all(|p| p.exists()),
        "every returned path exists"
    );
    assert_eq!(written.last().unwrap().file_name().unwrap(), "report.html");
    let files = names(dir);
    assert!(
        !files.iter().any(|f| f.ends_with(".tmp")),
        "no temp file left: {files:?}"
    );
    for stem in ["topology", "saturation", "queues", "edges", "latency-cdf"] {
        for ext in ["svg", "png"] {
            assert!(
                files.contains(&format!("{stem}.{ext}")),
                "{stem}.{ext} in {files:?}"
            );
        }
    }
    for f in files.iter().filter(|f| f.ends_with(".png")) {
        let bytes = fs::read(dir.join(f)).unwrap();
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "{f} is a PNG");
        let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
        let reader = decoder.read_info().unwrap();
        assert_eq!(reader.info().width, 1000, "{f}");
    }
    for f in files.iter().filter(|f| f.ends_with(".svg")) {
        let svg = fs::read_to_string(dir.join(f)).unwrap();
        assert!(
            svg.starts_with("<svg ") && svg.trim_end().ends_with("</svg>"),
            "{f} is a whole SVG"
        );
        assert!(svg.contains("<text"), "{f} has text");
    }
}

#[test]
fn synthetic_run_renders() {
    let dir = temp_dir("synthetic");
    let r = synthetic();
    let written = reports::render(&dir, &r, "name = \"x\" # <tag> & 'q'\n").unwrap();
    check_outputs(&dir, &written);
    let files = names(&dir);
    assert!(
        files.contains(&"latency-we_b_.png".to_string()),
        "{files:?}"
    );
    assert!(
        files.contains(&"outcomes-we_b_.svg".to_string()),
        "{files:?}"
    );
    // A series no chart knows about still gets a chart...
    assert!(
        files.contains(&"edge-breaker_open.svg".to_string()),
        "{files:?}"
    );
    // ...and one that is zero throughout is named, not drawn.
    assert!(!files.contains(&"service-refused_rps.svg".to_string()));
    let html = fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(html.contains("service refused_rps"));
    // User text is escaped everywhere, in the page and in the inline SVG.
    assert!(!html.contains("<script"), "scenario name escaped");
    assert!(!html.contains("we<b>"), "entry name escaped");
    assert!(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; co"));
    assert!(
        html.contains("# &lt;tag&gt; &amp; &#39;q&#39;"),
        "scenario text escaped"
    );
    assert!(html.contains("crash · db #0"), "fault named");
    assert!(
        html.contains("we&lt;b&gt;.p99") && html.contains("broken"),
        "SLO verdicts shown"
    );
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn real_run_renders_and_report_is_self_contained() {
    let dir = temp_dir("real");
    let (r, text) = real();
    let written = reports::write_run(&dir, &r, &text).unwrap();
    check_outputs(&dir, &written);
    let html = fs::read_to_string(dir.join("report.html")).unwrap();
    for bad in [
        "http", "src=\"/", "file:", "href=\"/", "url(", "@import", "<script", "<link", "<img",
    ] {
        assert!(
            !html.to_lowercase().contains(bad),
            "report.html contains {bad:?}"
        );
    }
    // Every chart is in the page, inline.
    let svgs = names(&dir)
        .into_iter()
        .filter(|f| f.ends_with(".svg"))
        .count();
    assert_eq!(html.matches("<svg ").count(), svgs);
    assert!(html.contains("checkout") && html.contains("seed <code>1</code>"));
    assert!(html.contains("slowdown · inventory"));
    // `cascade report` reads the files back and renders the same page.
    let (back, scenario) = reports::read_run(&dir).unwrap();
    let again = temp_dir("real-again");
    reports::render(&again, &back, &scenario).unwrap();
    assert_eq!(
        fs::read_to_string(again.join("latency-cdf.svg")).unwrap(),
        fs::read_to_string(dir.join("latency-cdf.svg")).unwrap()
    );
    fs::remove_dir_all(&dir).unwrap();
    fs::remove_dir_all(&again).unwrap();
}

#[test]
fn rendering_is_deterministic() {
    let (a, b) = (temp_dir("det-a"), temp_dir("det-b"));
    let r = synthetic();
    reports::render(&a, &r, "x").unwrap();
    reports::render(&b, &r, "x").unwrap();
    let files = names(&a);
    assert_eq!(files, names(&b));
    for f in &files {
        assert!(
            fs::read(a.join(f)).unwrap() == fs::read(b.join(f)).unwrap(),
            "{f} differs between two renders"
        );
    }
    fs::remove_dir_all(&a).unwrap();
    fs::remove_dir_all(&b).unwrap();
}

// ---------------------------------------------------------------------------
// Reading an SVG back

/// `(x, y, anchor, text)` of every `<text>`.
fn texts(svg: &str) -> Vec<(i32, i32, String, String)> {
    svg.split("<text ")
        .skip(1)
        .map(|chunk| {
            let (attrs, rest) = chunk.split_once('>').unwrap();
            let content = rest.split("</text>").next().unwrap().trim().to_string();
            (
                attr(attrs, "x").parse().unwrap(),
                attr(attrs, "y").parse().unwrap(),
                attr(attrs, "text-anchor"),
                content,
            )
        })
        .collect()
}

fn attr(attrs: &str, name: &str) -> String {
    let key = format!(" {name}=\"");
    let from = format!(" {attrs}")
        .find(&key)
        .unwrap_or_else(|| panic!("no {name} in {attrs}"))
        + key.len()
        - 1;
    attrs[from..].split('"').next().unwrap().to_string()
}

/// Points of every polyline stroked `color` at `width`.
fn polylines(svg: &str, color: &str, width: u32) -> Vec<Vec<(i32, i32)>> {
    svg.split("<polyline ")
        .skip(1)
        .map(|c| c.split("/>").next().unwrap())
        .filter(|a| attr(a, "stroke") == color && attr(a, "stroke-width") == width.to_string())
        .map(|a| {
            attr(a, "points")
                .split_whitespace()
                .map(|p| {
                    let (x, y) = p.split_once(',').unwrap();
                    (x.parse().unwrap(), y.parse().unwrap())
                })
                .collect()
        })
        .collect()
}

/// x of the x-axis tick label `label` (centred under its tick).
fn x_tick(t: &[(i32, i32, String, String)], label: &str) -> i32 {
    t.iter()
        .find(|(_, _, a, s)| a == "middle" && s == label)
        .unwrap_or_else(|| panic!("x tick {label}"))
        .0
}

/// y of the y-axis tick label `label` (right-aligned beside its tick).
fn y_tick(t: &[(i32, i32, String, String)], label: &str) -> i32 {
    t.iter()
        .find(|(_, _, a, s)| a == "end" && s == label)
        .unwrap_or_else(|| panic!("y tick {label}"))
        .1
}

#[test]
fn points_sit_where_the_axes_say() {
    let mut c = LineChart::new("tiny", "x (s)", "y (ms)");
    c.lines = vec![Line::new("s", vec![(0.0, 0.0), (5.0, 50.0), (10.0, 100.0)])];
    c.x_range = Some((0.0, 10.0));
    c.y_range = Some((0.0, 100.0));
    let svg = reports::line_chart_svg(&c).unwrap();
    let t = texts(&svg);
    let lines = polylines(&svg, "#0072B2", 2);
    assert_eq!(lines.len(), 1, "one series drawn once");
    let pts = &lines[0];
    assert_eq!(pts.len(), 3);
    assert_eq!(pts[0], (x_tick(&t, "0"), y_tick(&t, "0")));
    assert_eq!(pts[2], (x_tick(&t, "10"), y_tick(&t, "100")));
    // The middle point: halfway along both axes (ticks at 4 and 6, 40 and 60).
    let (x4, x6) = (x_tick(&t, "4"), x_tick(&t, "6"));
    let (y40, y60) = (y_tick(&t, "40"), y_tick(&t, "60"));
    assert!(
        (pts[1].0 - (x4 + x6) / 2).abs() <= 1,
        "{:?} vs ticks {x4} {x6}",
        pts[1]
    );
    assert!(
        (pts[1].1 - (y40 + y60) / 2).abs() <= 1,
        "{:?} vs ticks {y40} {y60}",
        pts[1]
    );
    // Larger y is higher up.
    assert!(pts[2].1 < pts[0].1);
}

#[test]
fn log_axis_puts_decades_evenly() {
    let mut c = LineChart::new("log", "x", "y (ms)");
    c.lines = vec![Line::new(
        "s",
        vec![(1.0, 10.0), (2.0, 100.0), (3.0, 1000.0)],
    )];
    c.x_range = Some((1.0, 3.0));
    c.y_scale = Scale::Log;
    c.y_range = Some((10.0, 1000.0));
    let svg = reports::plot::svg(&Chart::Lines(c)).unwrap();
    let t = texts(&svg);
    let pts = &polylines(&svg, "#0072B2", 2)[0];
    assert_eq!(pts[0].1, y_tick(&t, "10"));
    assert_eq!(pts[1].1, y_tick(&t, "100"));
    assert_eq!(pts[2].1, y_tick(&t, "1000"));
    assert!(
        ((pts[0].1 - pts[1].1) - (pts[1].1 - pts[2].1)).abs() <= 1,
        "decades equally tall: {pts:?}"
    );
}

#[test]
fn several_runs_overlay_on_one_chart() {
    let mut c = LineChart::new("p99 of two runs", "simulated time (s)", "latency (ms)");
    c.lines = (0..4)
        .map(|k| {
            Line::new(
                format!("run {k}"),
                (0..50)
                    .map(|i| (f64::from(i), f64::from(i * (k + 1))))
                    .collect(),
            )
        })
        .collect();
    let svg = reports::line_chart_svg(&c).unwrap();
    for k in 0..4 {
        assert!(svg.contains(&format!("run {k}")), "legend names run {k}");
    }
    let png = reports::line_chart_png(&c).unwrap();
    assert_eq!(&png[..4], b"\x89PNG");
}

#[test]
fn degenerate_runs_render() {
    // Nothing at all: no entry, no service, no window.
    let mut empty = synthetic();
    empty.summary.entries.clear();
    empty.summary.services.clear();
    empty.summary.edges.clear();
    empty.summary.faults.clear();
    empty.timeseries = TimeSeries::default();
    let dir = temp_dir("empty");
    let written = reports::render(&dir, &empty, "").unwrap();
    assert_eq!(written.len(), 1, "only the report: {written:?}");
    assert!(
        fs::read_to_string(dir.join("report.html"))
            .unwrap()
            .contains("No fault was injected")
    );
    fs::remove_dir_all(&dir).unwrap();

    // One window, NaN values, a fault outside the run.
    let mut one = synthetic();
    one.summary.faults[0].start_s = 500.0;
    one.summary.faults[0].end_s = 600.0;
    let ts = &mut one.timeseries;
    ts.window_start_s.truncate(1);
    ts.window_end_s.truncate(1);
    for s in &mut ts.series {
        s.values.truncate(1);
        s.values[0] = f64::NAN;
    }
    let dir = temp_dir("one-window");
    let written = reports::render(&dir, &one, "").unwrap();
    assert!(written.len() > 10);
    fs::remove_dir_all(&dir).unwrap();
}

// ---------------------------------------------------------------------------
// Message queues

/// The synthetic run with one topic subscription that backs up during the
/// fault and dead-letters a few messages.
fn with_queues() -> RunResult {
    let mut r = synthetic();
    let n = r.timeseries.window_start_s.len();
    let in_fault = |i: usize| (20..40).contains(&i);
    for (metric, normal, fault) in [
        ("depth", 0.0, 500.0),
        ("depth_max", 1.0, 600.0),
        ("unacked", 2.0, 510.0),
        ("oldest_age_s", 0.1, 12.0),
        ("published_rps", 100.0, 100.0),
        ("acked_rps", 100.0, 20.0),
        ("redelivered_rps", 0.0, 5.0),
        ("dead_lettered_rps", 0.0, 1.0),
        ("publish_failed_rps", 0.0, 0.0),
        ("lag_p99_ms", 30.0, 9000.0),
        ("consumers_busy", 2.0, 8.0),
    ] {
        r.timeseries.series.push(series(
            "queue",
            "payments",
            metric,
            (0..n)
                .map(|i| if in_fault(i) { fault } else { normal })
                .collect(),
        ));
    }
    r.summary.queues.insert(
        "payments".into(),
        QueueSummary {
            broker: "bus".into(),
            topic: Some("order<created>".into()),
            consumer: "payment".into(),
            concurrency: 8,
            published: 5500,
            acked: 5400,
            dead_lettered: 20,
            queued_at_end: 80,
            duplicates: 3,
            duplicate_side_effects: 3,
            depth_max: 600,
            oldest_age_max_s: 12.5,
            drain_s: Some(4.0),
            consumer_utilization: 0.4,
            ..QueueSummary::default()
        },
    );
    r
}

#[test]
fn queues_get_their_charts_and_section() {
    let dir = temp_dir("queues");
    let written = reports::render(&dir, &with_queues(), "").unwrap();
    check_outputs(&dir, &written);
    let files = names(&dir);
    for stem in [
        "queue-backlog",
        "queue-age",
        "queue-throughput",
        "queue-lag",
    ] {
        for ext in ["svg", "png"] {
            assert!(
                files.contains(&format!("{stem}.{ext}")),
                "{stem}.{ext} in {files:?}"
            );
        }
    }
    // Drawn by the queue charts, so not again among "more series"...
    for claimed in [
        "depth",
        "unacked",
        "oldest_age_s",
        "acked_rps",
        "lag_p99_ms",
    ] {
        assert!(
            !files.contains(&format!("queue-{claimed}.svg")),
            "{claimed} drawn twice: {files:?}"
        );
    }
    // ...while the rest still are, with their own titles.
    assert!(files.contains(&"queue-consumers_busy.svg".to_string()));
    let busy = fs::read_to_string(dir.join("queue-consumers_busy.svg")).unwrap();
    assert!(busy.contains("Busy consumer workers per queue"));
    let backlog = fs::read_to_string(dir.join("queue-backlog.svg")).unwrap();
    for text in [
        "Queue backlog",
        "messages",
        "payments · waiting",
        "crash · db #0",
    ] {
        assert!(backlog.contains(text), "backlog chart shows {text:?}");
    }
    let throughput = fs::read_to_string(dir.join("queue-throughput.svg")).unwrap();
    assert!(throughput.contains("dead-lettered") && throughput.contains("redelivered"));
    assert!(
        !throughput.contains("publish failed"),
        "zero throughout: not drawn"
    );

    let html = fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(html.contains("<section id=\"queues\">") && html.contains("href=\"#queues\""));
    assert!(html.contains("order&lt;created&gt;"), "topic escaped");
    assert!(html.contains("5,500") && html.contains("<td>✓</td>"));
    for stem in [
        "queue-backlog",
        "queue-age",
        "queue-throughput",
        "queue-lag",
    ] {
        assert!(
            html.contains(&format!("id=\"fig-{stem}\"")),
            "{stem} in page"
        );
    }
    // Inside the Queues section, before the next one.
    let queues = html.split("<section id=\"queues\">").nth(1).unwrap();
    let queues = queues.split("</section>").next().unwrap();
    assert!(queues.contains("fig-queue-lag") && queues.contains("Backlog and latency"));
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn no_queues_no_queue_section() {
    let dir = temp_dir("no-queues");
    reports::render(&dir, &synthetic(), "").unwrap();
    assert!(!names(&dir).iter().any(|f| f.starts_with("queue-")));
    let html = fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(!html.contains("id=\"queues\"") && !html.contains("#queues"));
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn queue_charts_render_deterministically() {
    let (a, b) = (temp_dir("qdet-a"), temp_dir("qdet-b"));
    let r = with_queues();
    reports::render(&a, &r, "x").unwrap();
    reports::render(&b, &r, "x").unwrap();
    for f in names(&a).iter().filter(|f| f.starts_with("queue")) {
        assert!(
            fs::read(a.join(f)).unwrap() == fs::read(b.join(f)).unwrap(),
            "{f} differs between two renders"
        );
    }
    fs::remove_dir_all(&a).unwrap();
    fs::remove_dir_all(&b).unwrap();
}
