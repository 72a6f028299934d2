//! A run of many entries and services: each chart keeps the items with the
//! highest peak and draws the rest as "others", only the entries that
//! failed most get charts of their own, the topology is left out, the
//! tables list the rows that matter, and the report stays small. A large
//! time series is written compressed and read back whole.

use std::fs;
use std::path::PathBuf;

use reports::{Chart, Section};
use sim_core::output::{RunResult, Series, TimeSeries};

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("cascade-scale-{}-{name}", std::process::id()));
    let _ = fs::remove_dir_all(&d);
    fs::create_dir_all(&d).unwrap();
    d
}

/// `chains` chains of `length` services, an entry at the head of each;
/// the third chain's last service is 200 times slower for 4 s, so its
/// entry times out and its services saturate.
fn chains(chains: usize, length: usize) -> String {
    let mut t = String::from(
        "name = \"chains\"\nduration = \"12s\"\nseed = 3\n[network]\nlatency = \"0.5ms\"\n",
    );
    for c in 0..chains {
        t.push_str(&format!(
            "[workload.w{c}]\ntarget = \"s{c}-0\"\nrate = 20\ntimeout = \"300ms\"\n"
        ));
    }
    for c in 0..chains {
        for k in 0..length {
            t.push_str(&format!("[services.s{c}-{k}]\nthreads = 4\nqueue = 20\nsteps = [{{ work = {{ dist = \"exponential\", mean = \"2ms\" }} }}"));
            if k + 1 < length {
                t.push_str(&format!(
                    ", {{ call = \"s{c}-{}\", timeout = \"200ms\" }}",
                    k + 1
                ));
            }
            t.push_str("]\n");
        }
    }
    t.push_str(&format!(
        "[[fault]]\ntarget = \"s2-{}\"\nslowdown = 200\nat = \"4s\"\nfor = \"4s\"\n",
        length - 1
    ));
    t
}

fn run(text: &str) -> RunResult {
    let s = sim_core::load("chains.toml", text, &[]).expect("the generated scenario loads");
    sim_core::run_scenario(&s, None, &[])
}

fn lines(c: &Chart) -> Vec<(String, Vec<(f64, f64)>)> {
    match c {
        Chart::Lines(l) => l
            .lines
            .iter()
            .map(|l| (l.name.clone(), l.points.clone()))
            .collect(),
        other => panic!("not a line chart: {}", other.title()),
    }
}

#[test]
fn many_services_draw_the_top_and_the_others() {
    // 30 entries, 150 services, 120 edges.
    let text = chains(30, 5);
    let r = run(&text);
    let f = reports::charts::figures(&r);
    let stems: Vec<&str> = f.figures.iter().map(|x| x.stem.as_str()).collect();

    // Per-entry charts: ten entries, the failing one among them.
    let latency: Vec<&&str> = stems
        .iter()
        .filter(|s| s.starts_with("latency-w"))
        .collect();
    assert_eq!(latency.len(), 10, "{stems:?}");
    assert!(stems.contains(&"latency-w2") && stems.contains(&"outcomes-w2"));
    assert!(f.notes.iter().any(|(s, n)| *s == Section::Entries
        && n.contains("the 10 of 30 entries")
        && n.contains("the table lists every entry, or past 100")
        && !n.contains("Series are kept")));

    // No topology of 180 boxes, and the report says why.
    assert!(!stems.contains(&"topology"));
    assert!(f.notes.iter().any(|(s, _)| *s == Section::Topology));

    // Saturation: 20 services and a row of the others' maximum.
    let fig = |stem: &str| &f.figures.iter().find(|x| x.stem == stem).unwrap().chart;
    let Chart::Heat(h) = fig("saturation") else {
        panic!("saturation is a heat strip")
    };
    assert_eq!(h.rows.len(), 21);
    assert_eq!(h.rows[20].0, "others");
    // The engine keeps series for 64 services of a wide model (fault
    // targets first), so the chart ranks those.
    assert!(
        h.subtitle.ends_with("top 20 of 64 by peak; others: max"),
        "{}",
        h.subtitle
    );
    assert!(
        h.rows.iter().any(|(n, _)| n == "s2-4"),
        "the slow service is drawn"
    );

    // Accept queues: ten lines and the others summed, window by window.
    let q = lines(fig("queues"));
    assert_eq!(q.len(), 11);
    let (others, points) = &q[10];
    assert_eq!(others, "others (54, sum)");
    let drawn: Vec<&str> = q[..10].iter().map(|(n, _)| n.as_str()).collect();
    let ts = &r.timeseries;
    for w in [0, 5, 7] {
        let sum: f64 = ts
            .series
            .iter()
            .filter(|s| s.scope == "service" && s.metric == "queue_len")
            .filter(|s| !drawn.contains(&s.name.as_str()))
            .map(|s| s.values[w])
            .sum();
        assert!((points[w].1 - sum).abs() < 1e-9, "window {w}");
    }

    // Edge panels: ten edges and the others.
    let Chart::Panels(p) = fig("edges") else {
        panic!("edges are panels")
    };
    assert_eq!(p.panels.len(), 11);
    assert!(
        p.panels[10].0.starts_with("others: 54 edges"),
        "{}",
        p.panels[10].0
    );
}

/// Past 64 entries the engine keeps series for 64 only: the note says
/// the charts were picked among those, not among every entry.
#[test]
fn the_entries_note_says_which_entries_have_series() {
    // Without the fault: with one, every entry keeps what recovery reads.
    let text = chains(70, 1);
    let r = run(&text[..text.find("[[fault]]").unwrap()]);
    let f = reports::charts::figures(&r);
    assert!(
        f.notes.iter().any(|(s, n)| *s == Section::Entries
            && n.contains("Series are kept for 64 of the 70 entries"))
    );
}

#[test]
fn the_report_of_many_services_stays_small() {
    let text = chains(30, 5);
    let r = run(&text);
    let dir = temp_dir("report");
    reports::write_run(&dir, &r, &text).unwrap();
    let names: Vec<String> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    // 10 + 10 entry charts, saturation, queues, edges, the CDF and the
    // More series families (with the engine's `all` aggregates of the
    // services and edges beyond 64), each as SVG and PNG; the data files;
    // the page.
    assert!(names.len() < 100, "{} files", names.len());
    let page = fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(page.len() < 2_000_000, "{} bytes", page.len());
    assert!(page.contains("The 100 of 150 services with the highest utilisation"));
    assert!(page.contains("Not drawn: 180 entries, services and queues"));
    // At a glance: tiles for the 8 entries that fared worst, the failing
    // one among them, not 30 rows of them.
    assert!(page.contains("The 8 of 30 entries with the highest error rate"));
    assert_eq!(page.matches("class=\"entry-name\"").count(), 8);
    assert!(page.contains("<p class=\"entry-name\">w2 → s2-0</p>"));
    assert!(names.contains(&"timeseries.csv".to_string()));
}

#[test]
fn a_large_time_series_is_written_compressed_and_read_back() {
    let n = 1_000_000;
    let values: Vec<f64> = (0..n).map(|i| (i % 97) as f64 / 7.0).collect();
    let mut r = run(&chains(3, 1));
    r.timeseries = TimeSeries {
        window_s: 0.001,
        window_start_s: (0..n).map(|i| i as f64 / 1000.0).collect(),
        window_end_s: (1..=n).map(|i| i as f64 / 1000.0).collect(),
        series: vec![Series {
            scope: "service".into(),
            name: "s0-0".into(),
            metric: "queue_len".into(),
            values,
        }],
    };
    let dir = temp_dir("gzip");
    // A plain file from an earlier run must not survive beside it.
    fs::write(dir.join("timeseries.csv"), "stale").unwrap();
    reports::write_run(&dir, &r, "").unwrap();
    assert!(!dir.join("timeseries.csv").exists());
    let gz = fs::read(dir.join("timeseries.csv.gz")).unwrap();
    let text = reports::timeseries_csv(&r.timeseries);
    assert!(text.len() > reports::timeseries::GZIP_ABOVE);
    assert!(
        gz.len() * 2 < text.len(),
        "{} bytes of {}",
        gz.len(),
        text.len()
    );
    assert_eq!(reports::timeseries::gunzip(&gz).unwrap(), text);
    let (back, _) = reports::read_run(&dir).unwrap();
    assert_eq!(back.timeseries.series, r.timeseries.series);
    assert_eq!(back.timeseries.window_start_s, r.timeseries.window_start_s);
    assert_eq!(back.timeseries.window_s, 0.001);
    // A damaged file is an error naming it, not a shorter series.
    fs::write(dir.join("timeseries.csv.gz"), &gz[..gz.len() / 2]).unwrap();
    let err = reports::read_run(&dir).unwrap_err();
    assert!(err.contains("timeseries.csv.gz"), "{err}");
}
