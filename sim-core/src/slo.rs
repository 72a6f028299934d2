//! Scenario-level SLO assertions (`[slo]`), checked against a run's
//! summary as k6 thresholds are. `scenario` compiles them into the model
//! (`model::Slo`) at load time; this module only judges a run.
//!
//! ```toml
//! [slo]
//! "checkout.p99" = "< 800ms"            # p50 p90 p99 p999 (or p99.9) max mean
//! "checkout.error_rate" = "<= 1%"       # or a fraction: "<= 0.01"
//! "checkout.availability" = ">= 99.5%"  # ok / requests
//! "checkout.goodput" = "> 250"          # per second ("250/s", "250rps")
//! "checkout.throughput" = ">= 290/s"
//! "checkout.recovered" = "within 30s"   # every fault: back within 30 s
//! "service.inventory.utilization" = "< 80%"
//! "queue.emails.lag_p99" = "< 30s"      # publish → ack
//! ```
//!
//! A key is `<entry>.<metric>`, `service.<name>.<metric>` or
//! `queue.<name>.<metric>`; a condition is
//! an operator (`<`, `<=`, `>`, `>=`) and a threshold with the metric's unit,
//! or `within <duration>` for `recovered`. Latencies are of successful
//! requests over the measured period; bare numbers are milliseconds.
//! Service metrics: `utilization`, `wasted_work` (ratio), `queue_len` (mean)
//! and `queue_len_max`. Queue metrics: `lag_p50`, `lag_p99`, `lag_max`
//! (publish → ack), `oldest_age_max` (durations), `depth_max`,
//! `dead_lettered`, `duplicates`, `duplicate_side_effects`,
//! `publish_failed` and `queued_at_end` (counts).
//!
//! Never panics and never refuses a run: what cannot be measured (no
//! successful request, a name the run does not have) is a failed assertion
//! with a message.

use crate::model::{Slo, SloMetric, SloOp, SloScope, SloUnit};
pub use crate::output::SloResult;
use crate::output::{RunResult, Summary, Verdict};

/// Checks every assertion of the model against `run`, in file order.
pub fn check(slos: &[Slo], run: &RunResult) -> Vec<SloResult> {
    slos.iter()
        .map(|a| {
            let mut r = SloResult {
                key: a.key.clone(),
                condition: a.condition.clone(),
                ..SloResult::default()
            };
            evaluate(a, &run.summary, &mut r);
            r
        })
        .collect()
}

fn holds(op: SloOp, observed: f64, threshold: f64) -> bool {
    match op {
        SloOp::Lt => observed < threshold,
        SloOp::Le => observed <= threshold,
        SloOp::Gt => observed > threshold,
        SloOp::Ge => observed >= threshold,
    }
}

fn fmt_ms(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}ms")
    } else if v >= 10.0 {
        format!("{v:.1}ms")
    } else {
        format!("{v:.2}ms")
    }
}

fn evaluate(a: &Slo, s: &Summary, r: &mut SloResult) {
    let unit = a.metric.unit();
    r.scope = a.metric.scope().label().into();
    r.name = a.name.clone();
    r.metric = a.metric.name().into();
    let shown = |v: f64| {
        if unit == SloUnit::Ratio && a.percent {
            v * 100.0
        } else {
            v
        }
    };
    r.threshold = Some(shown(a.threshold));
    if a.class.is_some() {
        r.scope = "class".into();
    }
    let observed = match a.metric.scope() {
        _ if a.class.is_some() => class_metric(a, s),
        SloScope::Queue => queue_metric(a, s),
        SloScope::Service => service_metric(a, s),
        SloScope::Entry if a.metric == SloMetric::Recovered => return recovered(a, s, r),
        SloScope::Entry => entry_metric(a, s),
    };
    match observed {
        Ok(v) => {
            let v = shown(v);
            r.observed = Some(v);
            r.pass = holds(a.op, v, shown(a.threshold));
            r.observed_text = match unit {
                SloUnit::Millis => fmt_ms(v),
                SloUnit::Ratio if a.percent => format!("{v:.2}%"),
                SloUnit::Ratio => format!("{v:.4}"),
                SloUnit::PerSecond => format!("{v:.1}/s"),
                SloUnit::Count | SloUnit::Seconds => format!("{v:.1}"),
                SloUnit::Mebibytes => format!("{v:.1} MiB"),
            };
        }
        Err(m) => {
            r.pass = false;
            r.observed_text = "n/a".into();
            r.message = Some(m);
        }
    }
}

/// The observed value of a queue metric, in its unit.
fn queue_metric(a: &Slo, s: &Summary) -> Result<f64, String> {
    let Some(q) = s.queues.get(&a.name) else {
        return Err(format!("the run has no queue `{}`", a.name));
    };
    use SloMetric::*;
    match a.metric {
        LagP50 | LagP99 | LagMax if q.acked == 0 => {
            Err("no message acknowledged in the measured period".into())
        }
        LagP50 => Ok(q.latency_ms.p50),
        LagP99 => Ok(q.latency_ms.p99),
        LagMax => Ok(q.latency_ms.max),
        OldestAgeMax => Ok(q.oldest_age_max_s * 1e3),
        DepthMax => Ok(q.depth_max as f64),
        DeadLettered => Ok(q.dead_lettered as f64),
        Duplicates => Ok(q.duplicates as f64),
        DuplicateSideEffects => Ok(q.duplicate_side_effects as f64),
        PublishFailed => Ok(q.publish_failed as f64),
        QueuedAtEnd => Ok(q.queued_at_end as f64),
        other => unreachable!("`{}` is not a queue metric", other.name()),
    }
}

/// The observed value of a service metric, in its unit.
fn service_metric(a: &Slo, s: &Summary) -> Result<f64, String> {
    let Some(v) = s.services.get(&a.name) else {
        return Err(format!("the run has no service `{}`", a.name));
    };
    use SloMetric::*;
    let memory = || {
        v.memory.as_ref().ok_or_else(|| {
            format!(
                "service `{}` declares no `memory`: `{}` needs it",
                a.name,
                a.metric.name()
            )
        })
    };
    let event_loop = || {
        v.event_loop.as_ref().ok_or_else(|| {
            format!(
                "service `{}` is not an event loop: `{}` needs model = \"event_loop\"",
                a.name,
                a.metric.name()
            )
        })
    };
    Ok(match a.metric {
        Utilization => v.utilization,
        WastedWork => v.wasted_work_ratio,
        QueueLen => v.queue_len_mean,
        QueueLenMax => v.queue_len_max as f64,
        OomKills => memory()?.oom_kills as f64,
        Restarts => memory()?.restarts as f64,
        MemoryMax => memory()?.max_mib,
        MemoryP99 => memory()?.p99_mib,
        GcPauseShare => memory()?.gc_pause_share,
        LoopUtilization => event_loop()?.loop_utilization,
        ConnectionsMax => event_loop()?.connections_max as f64,
        Resets => {
            memory()?;
            v.reset.unwrap_or(0) as f64
        }
        other => unreachable!("`{}` is not a service metric", other.name()),
    })
}

/// The observed value of an entry metric (not `recovered`), in its unit.
fn entry_metric(a: &Slo, s: &Summary) -> Result<f64, String> {
    let Some(e) = s.entries.get(&a.name) else {
        return Err(format!("the run has no entry `{}`", a.name));
    };
    let done = e.ok + e.failed.timeout + e.failed.rejected + e.failed.error;
    use SloMetric::*;
    match a.metric {
        P50 | P90 | P99 | P999 | P99Dot9 | Max | Mean if e.ok == 0 => {
            Err("no successful request in the measured period".into())
        }
        P50 => Ok(e.latency_ms.p50),
        P90 => Ok(e.latency_ms.p90),
        P99 => Ok(e.latency_ms.p99),
        P999 | P99Dot9 => Ok(e.latency_ms.p999),
        Max => Ok(e.latency_ms.max),
        Mean => Ok(e.latency_ms.mean),
        ErrorRate if done == 0 => Err("no request finished in the measured period".into()),
        ErrorRate => Ok(e.error_rate),
        Availability if e.requests == 0 => Err("no request arrived in the measured period".into()),
        Availability => Ok(e.ok as f64 / e.requests as f64),
        Goodput => Ok(e.goodput_rps),
        Throughput => Ok(e.throughput_rps),
        other => unreachable!("`{}` is not an entry metric", other.name()),
    }
}

/// The observed value of an entry metric over one class's entries added
/// up (`summary.classes`), in its unit.
fn class_metric(a: &Slo, s: &Summary) -> Result<f64, String> {
    let Some(c) = s.classes.get(&a.name) else {
        return Err(format!("the run has no `{}` requests", a.name));
    };
    let done = c.ok + c.degraded + c.failed.timeout + c.failed.rejected + c.failed.error;
    use SloMetric::*;
    match a.metric {
        P50 | P90 | P99 | P999 | P99Dot9 | Max | Mean if c.ok == 0 => {
            Err("no successful request in the measured period".into())
        }
        P50 => Ok(c.latency_ms.p50),
        P90 => Ok(c.latency_ms.p90),
        P99 => Ok(c.latency_ms.p99),
        P999 | P99Dot9 => Ok(c.latency_ms.p999),
        Max => Ok(c.latency_ms.max),
        Mean => Ok(c.latency_ms.mean),
        ErrorRate if done == 0 => Err("no request finished in the measured period".into()),
        ErrorRate => Ok(c.error_rate),
        Availability if c.requests == 0 => Err("no request arrived in the measured period".into()),
        Availability => Ok(c.ok as f64 / c.requests as f64),
        Goodput => Ok(c.goodput_rps),
        other => unreachable!("`{}` is not a class metric", other.name()),
    }
}

/// `recovered`: every fault window must leave the entry recovered (or not
/// affected) within the time.
fn recovered(a: &Slo, s: &Summary, r: &mut SloResult) {
    let mine: Vec<_> = s.recovery.iter().filter(|x| x.entry == a.name).collect();
    if mine.is_empty() {
        r.pass = true;
        r.observed_text = "no faults".into();
        return;
    }
    let target = |i: usize| {
        s.faults
            .get(i)
            .map(|f| format!(" ({} on {})", f.kind, f.target))
            .unwrap_or_default()
    };
    if let Some(bad) = mine.iter().find(|x| !x.verdict.ok()) {
        r.pass = false;
        r.observed_text = match bad.verdict {
            Verdict::Interrupted => format!(
                "not recovered when the next fault began, after fault {}{}",
                bad.fault,
                target(bad.fault)
            ),
            Verdict::NoBaseline => format!("no baseline for fault {}", bad.fault),
            _ => format!(
                "did not recover after fault {}{}",
                bad.fault,
                target(bad.fault)
            ),
        };
        r.message = bad.note.clone();
        return;
    }
    let (worst, t) = mine
        .iter()
        .map(|x| (x.fault, x.recovery_time_s.unwrap_or(0.0)))
        .fold(
            (0, -1.0),
            |acc, (f, t)| if t > acc.1 { (f, t) } else { acc },
        );
    r.observed = Some(t);
    r.pass = holds(a.op, t, a.threshold);
    r.observed_text = if mine.iter().all(|x| x.verdict == Verdict::NotReached) {
        "no fault within the run".into()
    } else if mine
        .iter()
        .all(|x| matches!(x.verdict, Verdict::NotAffected | Verdict::NotReached))
    {
        "not affected".into()
    } else {
        format!("{t}s after fault {worst}{}", target(worst))
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::{EntrySummary, Recovery, ServiceSummary};

    fn slo(key: &str, name: &str, metric: SloMetric, op: SloOp, threshold: f64) -> Slo {
        Slo {
            key: key.into(),
            condition: "as written".into(),
            name: name.into(),
            metric,
            op,
            threshold,
            percent: false,
            class: None,
        }
    }

    fn run(ok: u64) -> RunResult {
        let mut r = RunResult {
            summary: serde_json::from_value(serde_json::json!({
                "scenario": "t", "seed": 1, "version": "0", "scenario_hash": "0",
                "overrides": [], "sim_duration_s": 10.0, "warmup_s": 0.0, "end_time_s": 10.0,
                "events": 0, "entries": {}, "services": {}, "edges": {}, "faults": []
            }))
            .expect("a minimal summary"),
            timeseries: Default::default(),
        };
        let mut e = EntrySummary {
            requests: 100,
            ok,
            ..Default::default()
        };
        e.failed.error = 100 - ok;
        e.error_rate = (100 - ok) as f64 / 100.0;
        e.latency_ms.p99 = 712.0;
        r.summary.entries.insert("checkout".into(), e);
        r.summary.services.insert(
            "db".into(),
            ServiceSummary {
                utilization: 0.5,
                ..Default::default()
            },
        );
        r
    }

    #[test]
    fn compares_in_the_threshold_unit_and_says_what_it_saw() {
        let mut rate = slo(
            "checkout.error_rate",
            "checkout",
            SloMetric::ErrorRate,
            SloOp::Le,
            0.01,
        );
        rate.percent = true;
        let out = check(
            &[
                slo("checkout.p99", "checkout", SloMetric::P99, SloOp::Lt, 800.0),
                rate,
                slo(
                    "service.db.utilization",
                    "db",
                    SloMetric::Utilization,
                    SloOp::Lt,
                    0.4,
                ),
            ],
            &run(98),
        );
        assert_eq!(
            (
                out[0].pass,
                out[0].observed_text.as_str(),
                out[0].scope.as_str()
            ),
            (true, "712ms", "entry")
        );
        assert_eq!(out[0].condition, "as written");
        assert_eq!((out[1].observed, out[1].threshold), (Some(2.0), Some(1.0)));
        assert_eq!(
            (out[1].pass, out[1].observed_text.as_str()),
            (false, "2.00%")
        );
        assert_eq!(
            (out[2].pass, out[2].metric.as_str()),
            (false, "utilization")
        );
    }

    #[test]
    fn what_cannot_be_measured_fails_with_a_reason() {
        let out = check(
            &[
                slo(
                    "checkout.p99.9",
                    "checkout",
                    SloMetric::P99Dot9,
                    SloOp::Lt,
                    1.0,
                ),
                slo(
                    "queue.q.depth_max",
                    "q",
                    SloMetric::DepthMax,
                    SloOp::Lt,
                    1.0,
                ),
            ],
            &run(0),
        );
        assert_eq!(out[0].metric, "p99.9");
        assert!(!out[0].pass && out[0].observed.is_none());
        assert!(out[0].message.as_deref().unwrap().contains("no successful"));
        assert_eq!(out[1].message.as_deref(), Some("the run has no queue `q`"));
    }

    #[test]
    fn recovered_takes_the_slowest_recovery() {
        let mut r = run(100);
        for (fault, t) in [(0, 4.0), (1, 9.0)] {
            r.summary.recovery.push(Recovery {
                fault,
                entry: "checkout".into(),
                verdict: Verdict::Recovered,
                recovery_time_s: Some(t),
                ..Default::default()
            });
        }
        let a = slo(
            "checkout.recovered",
            "checkout",
            SloMetric::Recovered,
            SloOp::Le,
            5.0,
        );
        let out = check(std::slice::from_ref(&a), &r);
        assert_eq!((out[0].pass, out[0].observed), (false, Some(9.0)));
        r.summary.recovery[1].verdict = Verdict::DidNotRecover;
        let out = check(&[a], &r);
        assert_eq!(out[0].observed_text, "did not recover after fault 1");
    }
}
