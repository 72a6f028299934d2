//! Outlier ejection, deterministic: ejection times follow base × n at the
//! sweeps' granularity, the max share holds, panic mode spreads traffic
//! over every replica, and bad settings name their key.

use crate::common::{assert_books, assert_each_rejected, run_toml};

/// Requests at 100/s, evenly spaced, straight to four `db` replicas
/// (round robin, 1 ms of work, no network latency); replicas `0..bad` answer
/// every request with an error for the whole run.
fn bad_replicas(bad: u32, detection: &str) -> String {
    let faults: String = (0..bad)
        .map(|r| {
            format!(
                "[[fault]]\ntarget = \"db\"\nreplica = {r}\nerrors = 1.0\nat = \"0s\"\nfor = \"1000s\"\n"
            )
        })
        .collect();
    format!(
        r#"
name = "outlier"
duration = "200s"
[network]
latency = "0"
[workload.w]
target = "db"
rate = 100
arrivals = "deterministic"
[services.db]
replicas = 4
threads = 10
steps = [{{ work = "1ms" }}]
outlier_detection = {{ {detection} }}
{faults}"#
    )
}

#[test]
fn ejection_lasts_base_times_the_count_and_ends_at_a_sweep() {
    let toml = bad_replicas(
        1,
        r#"consecutive_errors = 5, interval = "10s", base_ejection = "30s""#,
    );
    let s = run_toml(&toml, 1).summary;
    assert_books("outlier", &s);
    let o = s.services["db"].outlier.as_ref().expect("outlier figures");
    // Replica 0 takes every fourth request: its fifth error (request 17 at
    // 170 ms, answered 1 ms later) ejects it for 30 s; it comes back at the
    // 40 s sweep, fails its next five requests (every fourth from 40.00 s:
    // the fifth at 40.17 s, answered at 40.171 s) and is ejected for 2 × 30 s,
    // back at the 110 s sweep, and out again at 110.171 s for 90 s: past
    // the run's end at 200 s.
    assert_eq!(o.ejections, 3, "{o:?}");
    assert_eq!(o.ejected_max, 1);
    let expected = (40.0 - 0.171) + (110.0 - 40.171) + (200.0 - 110.171);
    assert!(
        (o.ejected_replica_s - expected).abs() < 0.02,
        "ejected {} replica-s, expected {expected}",
        o.ejected_replica_s
    );
    // While it is out, nothing fails: the errors are the 5 per ejection.
    assert_eq!(s.entries["w"].failed.error, 15);
}

#[test]
fn at_most_the_max_share_is_ejected_at_once() {
    let quarter = bad_replicas(2, r#"max_ejection_percent = 25, interval = "1s""#);
    let s = run_toml(&quarter, 1).summary;
    assert_eq!(s.services["db"].outlier.as_ref().unwrap().ejected_max, 1);
    let half = bad_replicas(2, r#"max_ejection_percent = 50, interval = "1s""#);
    let s = run_toml(&half, 1).summary;
    let o = s.services["db"].outlier.as_ref().unwrap();
    assert_eq!(o.ejected_max, 2);
    // Both bad replicas out: the good ones take everything.
    assert!(
        s.entries["w"].failed.error < 100,
        "{}",
        s.entries["w"].failed.error
    );
}

#[test]
fn below_the_panic_threshold_the_balancer_ignores_ejection() {
    let no_panic = bad_replicas(3, "max_ejection_percent = 100, panic_threshold = 0");
    let s = run_toml(&no_panic, 1).summary;
    assert_eq!(s.services["db"].outlier.as_ref().unwrap().ejected_max, 3);
    let errors_no_panic = s.entries["w"].failed.error;
    // With three of four out, only 25 % are in service: below 50 % the
    // balancer panics and spreads over all four again, three of them bad.
    let panic = bad_replicas(3, "max_ejection_percent = 100, panic_threshold = 50");
    let p = run_toml(&panic, 1).summary;
    let w = &p.entries["w"];
    let share = w.failed.error as f64 / w.requests as f64;
    assert!(errors_no_panic < 100, "{errors_no_panic}");
    assert!(share > 0.7, "in panic, {share} of requests failed");
}

#[test]
fn bad_outlier_settings_name_their_key() {
    let base = bad_replicas(0, "");
    let with = |d: &str| {
        base.replace(
            "outlier_detection = {  }",
            &format!("outlier_detection = {{ {d} }}"),
        )
    };
    assert_each_rejected(
        "outlier-bad",
        &[
            (
                with("consecutive_errors = 0"),
                "at least 1",
                "services.db.outlier_detection.consecutive_errors",
            ),
            (
                with("max_ejection_percent = 101"),
                "percentage",
                "services.db.outlier_detection.max_ejection_percent",
            ),
            (with("eject = 1"), "eject", "outlier_detection"),
            (
                with(r#"base_ejection = "1m", max_ejection = "10s""#),
                "at least base_ejection",
                "services.db.outlier_detection.max_ejection",
            ),
        ],
    );
}

/// The shipped pair: Envoy's defaults keep the bad replica's errors to a
/// handful; an eager detector ejects the healthy replicas and overloads
/// the last one.
#[test]
fn shipped_outlier_scenarios_tell_their_story() {
    let run = |name: &str| {
        let text = std::fs::read_to_string(
            crate::common::repo_root().join(format!("scenarios/{name}.toml")),
        )
        .unwrap();
        run_toml(&text, 1).summary
    };
    let fair = run("outlier-ejection");
    let eager = run("outlier-ejection-eager");
    let failed = |s: &sim_core::output::Summary| {
        let e = &s.entries["users"];
        (e.failed.error + e.failed.rejected + e.failed.timeout) as f64 / e.requests as f64
    };
    assert!(failed(&fair) < 0.01, "{}", failed(&fair));
    assert!(failed(&eager) > 0.3, "{}", failed(&eager));
    assert_eq!(fair.services["db"].outlier.as_ref().unwrap().ejected_max, 1);
    assert_eq!(
        eager.services["db"].outlier.as_ref().unwrap().ejected_max,
        3
    );
}

#[test]
fn the_ejected_series_follows_the_ejections_window_by_window() {
    let toml = bad_replicas(
        1,
        r#"consecutive_errors = 5, interval = "10s", base_ejection = "30s""#,
    );
    let r = run_toml(&toml, 1);
    let ejected = r
        .timeseries
        .series
        .iter()
        .find(|x| {
            (x.scope.as_str(), x.name.as_str(), x.metric.as_str()) == ("service", "db", "ejected")
        })
        .expect("a service with outlier detection has the series");
    let at = |t: f64| {
        let i = r
            .timeseries
            .window_start_s
            .iter()
            .position(|&s| s <= t && t < s + r.timeseries.window_s)
            .expect("a window");
        ejected.values[i]
    };
    // Out from its fifth error, answered at 0.171 s, to the 40 s sweep;
    // back, its next five requests (every fourth, from the first after
    // 40 s) fail by 40.181 s; each window holds its share of the time out.
    assert!((at(0.0) - 0.829).abs() < 1e-6, "{}", at(0.0));
    assert_eq!(
        (at(20.0), at(39.5), at(75.0), at(150.0)),
        (1.0, 1.0, 1.0, 1.0)
    );
    assert!((at(40.0) - 0.819).abs() < 1e-6, "{}", at(40.0));
    // Its windows add up to the summary's replica-seconds.
    let area: f64 = ejected.values.iter().sum::<f64>() * r.timeseries.window_s;
    let o = r.summary.services["db"].outlier.as_ref().unwrap();
    assert!(
        (area - o.ejected_replica_s).abs() < 1e-6,
        "{area} against {}",
        o.ejected_replica_s
    );
    // A service without detection has no such column.
    let plain = toml.replace(
        "outlier_detection = { consecutive_errors = 5, interval = \"10s\", base_ejection = \"30s\" }",
        "",
    );
    let r = run_toml(&plain, 1);
    assert!(r.timeseries.series.iter().all(|x| x.metric != "ejected"));
}

#[test]
fn every_balancer_keeps_traffic_off_an_ejected_replica() {
    // Replica 0 always errs; while it is ejected it must get nothing, so
    // every error belongs to the five that eject it (plus at most four
    // after its last return, before the run ends). Least outstanding used
    // to pick the idle ejected replica, and random ones drew it n times
    // in a row now and then.
    for balancer in ["round_robin", "random", "least_outstanding", "power_of_two"] {
        let toml = bad_replicas(
            1,
            r#"consecutive_errors = 5, interval = "10s", base_ejection = "30s""#,
        )
        .replace(
            "steps = [{ work = \"1ms\" }]",
            &format!("balancer = \"{balancer}\"\nsteps = [{{ work = \"1ms\" }}]"),
        );
        assert!(toml.contains(balancer), "{toml}");
        let s = run_toml(&toml, 1).summary;
        assert_books(balancer, &s);
        let o = s.services["db"].outlier.as_ref().expect("outlier figures");
        let errors = s.entries["w"].failed.error;
        assert!(o.ejections >= 1, "{balancer}: {o:?}");
        assert!(
            errors >= 5 * o.ejections && errors <= 5 * o.ejections + 4,
            "{balancer}: {errors} errors for {} ejections",
            o.ejections
        );
    }
}
