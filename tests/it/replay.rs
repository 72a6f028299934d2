//! Replayed load: a CSV of per-second rates (Poisson within each second,
//! by thinning) and a CSV of arrival times (one request at each), paths
//! relative to the scenario file, bad rows named by file and line.

use crate::common::{cascade, temp_dir};

fn scenario(replay: &str) -> String {
    format!(
        r#"
name = "replay"
duration = "12s"
[workload.w]
target = "api"
replay = {replay}
[services.api]
threads = 64
steps = [{{ work = "1ms" }}]
"#
    )
}

fn run(dir: &std::path::Path, text: &str) -> sim_core::output::Summary {
    let path = dir.join("s.toml");
    std::fs::write(&path, text).unwrap();
    let s = sim_core::load(path.to_str().unwrap(), text, &[])
        .unwrap_or_else(|e| panic!("scenario does not load: {e}"));
    sim_core::run_scenario(&s, Some(1), &[]).summary
}

#[test]
fn replayed_rates_give_poisson_counts_per_second() {
    let dir = temp_dir("replay-rates");
    // 10 s of load: 2,000/s for 4 s, 500/s for 6 s; nothing after.
    let mut csv = "second,rate\n".to_owned();
    for s in 0..10 {
        csv.push_str(&format!("{s},{}\n", if s < 4 { 2000 } else { 500 }));
    }
    std::fs::create_dir_all(dir.join("load")).unwrap();
    std::fs::write(dir.join("load/rates.csv"), csv).unwrap();
    let s = run(&dir, &scenario(r#"{ rates = "load/rates.csv" }"#));
    // Expected 4 × 2,000 + 6 × 500 = 11,000, Poisson: sd ≈ 105; 4 sd.
    let n = s.entries["w"].requests as f64;
    let (mean, sd) = (11_000.0, 11_000f64.sqrt());
    println!("{n} requests, expected {mean} ± {sd:.0}");
    assert!((n - mean).abs() < 4.0 * sd, "{n}");
}

#[test]
fn replayed_arrivals_send_one_request_at_each_time() {
    let dir = temp_dir("replay-arrivals");
    let mut csv = "t\n".to_owned();
    for k in 0..3000 {
        csv.push_str(&format!("{}\n", f64::from(k) * 0.003));
    }
    csv.push_str("11.5\n11.5\n20\n"); // two at once; one after the run
    std::fs::write(dir.join("times.csv"), csv).unwrap();
    let s = run(&dir, &scenario(r#"{ arrivals = "times.csv" }"#));
    assert_eq!(s.entries["w"].requests, 3002);
    assert_eq!(s.services["api"].arrivals, 3002);
}

#[test]
fn bad_replay_files_are_named_by_file_and_line() {
    let dir = temp_dir("replay-bad");
    let cases = [
        ("rates", "10\nten\n", "rates.csv:2: `ten` is not a number"),
        ("rates", "10\n-1\n", "rates.csv:2: rate -1 is negative"),
        (
            "arrivals",
            "1\n2\n1.5\n",
            "arrivals.csv:3: time 1.5 s goes back",
        ),
        ("arrivals", "1\nx\n", "arrivals.csv:2: `x` is not a number"),
        ("arrivals", "-1\n", "arrivals.csv:1: time -1 is negative"),
        ("rates", "", "no rows"),
        ("rates", "missing", "cannot read"),
    ];
    for (i, (which, csv, message)) in cases.iter().enumerate() {
        let csv_name = format!("{which}.csv");
        if *csv != "missing" {
            std::fs::write(dir.join(&csv_name), csv).unwrap();
        } else {
            let _ = std::fs::remove_file(dir.join(&csv_name));
        }
        let p = dir.join(format!("bad{i}.toml"));
        std::fs::write(&p, scenario(&format!(r#"{{ {which} = "{csv_name}" }}"#))).unwrap();
        let out = cascade(&["validate", p.to_str().unwrap()]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "case {i}: {err}");
        assert!(err.contains(message), "case {i}: no `{message}` in {err}");
        assert!(
            err.contains(&format!("workload.w.replay.{which}")),
            "case {i}: {err}"
        );
        assert!(err.contains(&format!("bad{i}.toml:")), "case {i}: {err}");
    }
    // Keys that do not go with a replay.
    std::fs::write(dir.join("ok.csv"), "5\n").unwrap();
    for (i, (extra, key)) in [
        ("rate = 5", "workload.w.rate"),
        ("arrivals = \"deterministic\"", "workload.w.arrivals"),
    ]
    .iter()
    .enumerate()
    {
        let p = dir.join(format!("extra{i}.toml"));
        let text = scenario(r#"{ rates = "ok.csv" }"#)
            .replace("target = \"api\"", &format!("target = \"api\"\n{extra}"));
        std::fs::write(&p, text).unwrap();
        let out = cascade(&["validate", p.to_str().unwrap()]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains(key), "{err}");
    }
}
