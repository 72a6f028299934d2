//! Scenario-level SLO assertions (`[slo]`): parsed from the scenario and
//! checked against a run's summary, as k6 thresholds are.
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

pub use crate::output::SloResult;
use crate::output::{RunResult, Summary, Verdict};
use crate::scenario::ScenarioFile;
use crate::time::{NS_PER_MS, parse_duration};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Lt,
    Le,
    Gt,
    Ge,
}

impl Op {
    fn holds(self, observed: f64, threshold: f64) -> bool {
        match self {
            Op::Lt => observed < threshold,
            Op::Le => observed <= threshold,
            Op::Gt => observed > threshold,
            Op::Ge => observed >= threshold,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Milliseconds.
    Latency,
    /// A ratio, written as a fraction or a percentage.
    Ratio,
    /// Per second.
    Rate,
    /// A plain number.
    Count,
    /// Seconds of recovery.
    Recovery,
}

const ENTRY_METRICS: &[(&str, Kind)] = &[
    ("p50", Kind::Latency),
    ("p90", Kind::Latency),
    ("p99", Kind::Latency),
    ("p999", Kind::Latency),
    ("p99.9", Kind::Latency),
    ("max", Kind::Latency),
    ("mean", Kind::Latency),
    ("error_rate", Kind::Ratio),
    ("availability", Kind::Ratio),
    ("goodput", Kind::Rate),
    ("throughput", Kind::Rate),
    ("recovered", Kind::Recovery),
];

const SERVICE_METRICS: &[(&str, Kind)] = &[
    ("utilization", Kind::Ratio),
    ("wasted_work", Kind::Ratio),
    ("queue_len", Kind::Count),
    ("queue_len_max", Kind::Count),
];

const QUEUE_METRICS: &[(&str, Kind)] = &[
    ("lag_p50", Kind::Latency),
    ("lag_p99", Kind::Latency),
    ("lag_max", Kind::Latency),
    ("oldest_age_max", Kind::Latency),
    ("depth_max", Kind::Count),
    ("dead_lettered", Kind::Count),
    ("duplicates", Kind::Count),
    ("duplicate_side_effects", Kind::Count),
    ("publish_failed", Kind::Count),
    ("queued_at_end", Kind::Count),
];

/// What an assertion is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    Entry,
    Service,
    Queue,
}

impl Scope {
    fn label(self) -> &'static str {
        match self {
            Scope::Entry => "entry",
            Scope::Service => "service",
            Scope::Queue => "queue",
        }
    }
}

/// One understood assertion.
#[derive(Debug, Clone, PartialEq)]
struct Assertion {
    scope: Scope,
    name: String,
    metric: &'static str,
    kind: Kind,
    op: Op,
    /// In the canonical unit: ms, fraction, per second, count, seconds.
    threshold: f64,
    /// Ratios: the threshold was written as a percentage.
    percent: bool,
}

fn names(list: &[(&str, Kind)]) -> String {
    list.iter()
        .map(|(n, _)| *n)
        .filter(|n| *n != "p99.9")
        .collect::<Vec<_>>()
        .join(", ")
}

fn parse_key(
    file: &ScenarioFile,
    key: &str,
) -> Result<(Scope, String, &'static str, Kind), String> {
    let service_prefix = ["service.", "services."]
        .iter()
        .find_map(|p| key.strip_prefix(p));
    // Longest metric names first, so "p99.9" wins over a split at its dot.
    let mut entry_metrics: Vec<&(&str, Kind)> = ENTRY_METRICS.iter().collect();
    entry_metrics.sort_by_key(|(n, _)| std::cmp::Reverse(n.len()));
    for (metric, kind) in entry_metrics {
        if let Some(entry) = key.strip_suffix(metric).and_then(|k| k.strip_suffix('.'))
            && file.workload.contains_key(entry)
        {
            return Ok((Scope::Entry, entry.to_owned(), metric, *kind));
        }
    }
    if let Some(rest) = service_prefix {
        let Some((svc, metric)) = rest.rsplit_once('.') else {
            return Err(format!(
                "write service.<name>.<metric>, e.g. service.db.utilization (metrics: {})",
                names(SERVICE_METRICS)
            ));
        };
        if !file.services.contains_key(svc) {
            return Err(format!(
                "no service named `{svc}` (services: {})",
                file.services.keys().cloned().collect::<Vec<_>>().join(", ")
            ));
        }
        return match SERVICE_METRICS.iter().find(|(n, _)| *n == metric) {
            Some((n, k)) => Ok((Scope::Service, svc.to_owned(), n, *k)),
            None => Err(format!(
                "unknown service metric `{metric}` (use one of {})",
                names(SERVICE_METRICS)
            )),
        };
    }
    if let Some(rest) = ["queue.", "queues."]
        .iter()
        .find_map(|p| key.strip_prefix(p))
    {
        let Some((queue, metric)) = rest.rsplit_once('.') else {
            return Err(format!(
                "write queue.<name>.<metric>, e.g. queue.emails.lag_p99 (metrics: {})",
                names(QUEUE_METRICS)
            ));
        };
        if !file.queues.contains_key(queue) {
            return Err(format!(
                "no queue named `{queue}` (queues: {})",
                file.queues.keys().cloned().collect::<Vec<_>>().join(", ")
            ));
        }
        return match QUEUE_METRICS.iter().find(|(n, _)| *n == metric) {
            Some((n, k)) => Ok((Scope::Queue, queue.to_owned(), n, *k)),
            None => Err(format!(
                "unknown queue metric `{metric}` (use one of {})",
                names(QUEUE_METRICS)
            )),
        };
    }
    let Some((entry, metric)) = key.rsplit_once('.') else {
        return Err(format!(
            "write <entry>.<metric>, e.g. {}.p99, or service.<name>.<metric>",
            file.workload
                .keys()
                .next()
                .map_or("checkout", |k| k.as_str())
        ));
    };
    if !file.workload.contains_key(entry) {
        let entries = file.workload.keys().cloned().collect::<Vec<_>>().join(", ");
        return Err(format!(
            "no entry named `{entry}` (entries: {entries}; a service metric is written service.<name>.<metric>)"
        ));
    }
    Err(format!(
        "unknown metric `{metric}` (use one of {})",
        names(ENTRY_METRICS)
    ))
}

/// Splits "800ms" into ("800", "ms").
fn split_number(text: &str) -> Result<(f64, String), String> {
    let t: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let end = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '_'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(end);
    let num = num.replace('_', "");
    let value: f64 = num
        .parse()
        .map_err(|_| format!("`{}` does not start with a number", text.trim()))?;
    Ok((value, unit.to_owned()))
}

fn parse_condition(kind: Kind, metric: &str, text: &str) -> Result<(Op, f64, bool), String> {
    let t = text.trim();
    let (op, rest) = if let Some(r) = t.strip_prefix("within") {
        if kind != Kind::Recovery {
            return Err(format!(
                "`within` is for `recovered`; write e.g. \"< {}\"",
                example(kind)
            ));
        }
        (Op::Le, r)
    } else if let Some(r) = t.strip_prefix("<=").or_else(|| t.strip_prefix('≤')) {
        (Op::Le, r)
    } else if let Some(r) = t.strip_prefix(">=").or_else(|| t.strip_prefix('≥')) {
        (Op::Ge, r)
    } else if let Some(r) = t.strip_prefix('<') {
        (Op::Lt, r)
    } else if let Some(r) = t.strip_prefix('>') {
        (Op::Gt, r)
    } else {
        return Err(format!(
            "a condition starts with <, <=, > or >={}, e.g. \"{}\"",
            if kind == Kind::Recovery {
                " or within"
            } else {
                ""
            },
            if kind == Kind::Recovery {
                "within 30s".to_owned()
            } else {
                format!("< {}", example(kind))
            }
        ));
    };
    let rest = rest.trim();
    if rest.is_empty() {
        return Err(format!(
            "the condition has no threshold, e.g. \"{}\"",
            if kind == Kind::Recovery {
                "within 30s".to_owned()
            } else {
                format!("< {}", example(kind))
            }
        ));
    }
    match kind {
        Kind::Latency => {
            let (v, unit) = split_number(rest)?;
            let ms = if unit.is_empty() {
                v
            } else {
                let compact: String = rest.chars().filter(|c| !c.is_whitespace()).collect();
                parse_duration(&compact)? as f64 / NS_PER_MS as f64
            };
            Ok((op, ms, false))
        }
        Kind::Recovery => {
            let compact: String = rest.chars().filter(|c| !c.is_whitespace()).collect();
            let ns = parse_duration(&compact)
                .map_err(|e| format!("{e}; `recovered` takes a duration such as \"within 30s\""))?;
            if matches!(op, Op::Gt | Op::Ge) {
                return Err("`recovered` takes \"within <duration>\" (or < / <=)".into());
            }
            Ok((op, ns as f64 / 1e9, false))
        }
        Kind::Ratio => {
            let (v, unit) = split_number(rest)?;
            match unit.as_str() {
                "%" => {
                    if v > 100.0 {
                        return Err(format!("{v}% is more than 100%"));
                    }
                    Ok((op, v / 100.0, true))
                }
                "" => {
                    if v > 1.0 {
                        return Err(format!(
                            "`{metric}` is a fraction between 0 and 1 or a percentage: write \"{v}%\" or \"{}\"",
                            v / 100.0
                        ));
                    }
                    Ok((op, v, false))
                }
                u => Err(format!(
                    "unknown unit `{u}` for `{metric}`: write a percentage (\"1%\") or a fraction (\"0.01\")"
                )),
            }
        }
        Kind::Rate => {
            let (v, unit) = split_number(rest)?;
            match unit.as_str() {
                "" | "/s" | "rps" | "req/s" | "/sec" => Ok((op, v, false)),
                u => Err(format!(
                    "unknown unit `{u}` for `{metric}`: write requests per second, e.g. \"250\" or \"250/s\""
                )),
            }
        }
        Kind::Count => {
            let (v, unit) = split_number(rest)?;
            if !unit.is_empty() {
                return Err(format!("`{metric}` is a plain number, without a unit"));
            }
            Ok((op, v, false))
        }
    }
}

fn example(kind: Kind) -> &'static str {
    match kind {
        Kind::Latency => "800ms",
        Kind::Ratio => "1%",
        Kind::Rate => "250/s",
        Kind::Count => "10",
        Kind::Recovery => "30s",
    }
}

fn parse(file: &ScenarioFile, key: &str, condition: &str) -> Result<Assertion, String> {
    let (scope, name, metric, kind) = parse_key(file, key)?;
    let (op, threshold, percent) = parse_condition(kind, metric, condition)?;
    Ok(Assertion {
        scope,
        name,
        metric,
        kind,
        op,
        threshold,
        percent,
    })
}

/// Checks every `[slo]` key and condition; the error names the key
/// (`slo.<key>`, the key kept whole although it has dots) and says what is
/// wrong. `scenario::build` calls it so mistakes show at load time.
pub fn validate(file: &ScenarioFile) -> Result<(), (String, String)> {
    for (key, condition) in &file.slo {
        parse(file, key, condition).map_err(|m| (format!("slo.{key}"), m))?;
    }
    Ok(())
}

/// Checks every assertion of `file` against `run`. Never panics: a
/// malformed assertion is a failed one with a message.
pub fn check(file: &ScenarioFile, run: &RunResult) -> Vec<SloResult> {
    file.slo
        .iter()
        .map(|(key, condition)| {
            let mut r = SloResult {
                key: key.clone(),
                condition: condition.clone(),
                ..SloResult::default()
            };
            match parse(file, key, condition) {
                Ok(a) => evaluate(&a, &run.summary, &mut r),
                Err(m) => {
                    r.observed_text = "invalid".into();
                    r.message = Some(m);
                }
            }
            r
        })
        .collect()
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

fn evaluate(a: &Assertion, s: &Summary, r: &mut SloResult) {
    r.scope = a.scope.label().into();
    r.name = a.name.clone();
    r.metric = a.metric.into();
    let shown = |v: f64| {
        if a.kind == Kind::Ratio && a.percent {
            v * 100.0
        } else {
            v
        }
    };
    r.threshold = Some(shown(a.threshold));
    let observed: Result<f64, String> = if a.scope == Scope::Queue {
        match s.queues.get(&a.name) {
            None => Err(format!("the run has no queue `{}`", a.name)),
            Some(q) => match a.metric {
                "lag_p50" | "lag_p99" | "lag_max" if q.acked == 0 => {
                    Err("no message acknowledged in the measured period".into())
                }
                "lag_p50" => Ok(q.latency_ms.p50),
                "lag_p99" => Ok(q.latency_ms.p99),
                "lag_max" => Ok(q.latency_ms.max),
                "oldest_age_max" => Ok(q.oldest_age_max_s * 1e3),
                "depth_max" => Ok(q.depth_max as f64),
                "dead_lettered" => Ok(q.dead_lettered as f64),
                "duplicates" => Ok(q.duplicates as f64),
                "duplicate_side_effects" => Ok(q.duplicate_side_effects as f64),
                "publish_failed" => Ok(q.publish_failed as f64),
                _ => Ok(q.queued_at_end as f64),
            },
        }
    } else if a.scope == Scope::Service {
        match s.services.get(&a.name) {
            None => Err(format!("the run has no service `{}`", a.name)),
            Some(v) => Ok(match a.metric {
                "utilization" => v.utilization,
                "wasted_work" => v.wasted_work_ratio,
                "queue_len" => v.queue_len_mean,
                _ => v.queue_len_max as f64,
            }),
        }
    } else {
        match s.entries.get(&a.name) {
            None => Err(format!("the run has no entry `{}`", a.name)),
            Some(e) => {
                let done = e.ok + e.failed.timeout + e.failed.rejected + e.failed.error;
                match a.metric {
                    "p50" | "p90" | "p99" | "p999" | "p99.9" | "max" | "mean" if e.ok == 0 => {
                        Err("no successful request in the measured period".into())
                    }
                    "p50" => Ok(e.latency_ms.p50),
                    "p90" => Ok(e.latency_ms.p90),
                    "p99" => Ok(e.latency_ms.p99),
                    "p999" | "p99.9" => Ok(e.latency_ms.p999),
                    "max" => Ok(e.latency_ms.max),
                    "mean" => Ok(e.latency_ms.mean),
                    "error_rate" if done == 0 => {
                        Err("no request finished in the measured period".into())
                    }
                    "error_rate" => Ok(e.error_rate),
                    "availability" if e.requests == 0 => {
                        Err("no request arrived in the measured period".into())
                    }
                    "availability" => Ok(e.ok as f64 / e.requests as f64),
                    "goodput" => Ok(e.goodput_rps),
                    "throughput" => Ok(e.throughput_rps),
                    _ => return recovered(a, s, r),
                }
            }
        }
    };
    match observed {
        Ok(v) => {
            let v = shown(v);
            r.observed = Some(v);
            r.pass = a.op.holds(v, shown(a.threshold));
            r.observed_text = match a.kind {
                Kind::Latency => fmt_ms(v),
                Kind::Ratio if a.percent => format!("{v:.2}%"),
                Kind::Ratio => format!("{v:.4}"),
                Kind::Rate => format!("{v:.1}/s"),
                _ => format!("{v:.1}"),
            };
        }
        Err(m) => {
            r.pass = false;
            r.observed_text = "n/a".into();
            r.message = Some(m);
        }
    }
}

/// `recovered`: every fault window must leave the entry recovered (or not
/// affected) within the time.
fn recovered(a: &Assertion, s: &Summary, r: &mut SloResult) {
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
    r.pass = a.op.holds(t, a.threshold);
    r.observed_text = if mine.iter().all(|x| x.verdict == Verdict::NotAffected) {
        "not affected".into()
    } else {
        format!("{t}s after fault {worst}{}", target(worst))
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(slo: &[(&str, &str)]) -> ScenarioFile {
        let mut text = String::from(
            r#"
name = "t"
duration = "10s"
[workload.checkout]
target = "a"
rate = 10
[services.a]
threads = 1
[slo]
"#,
        );
        for (k, v) in slo {
            text.push_str(&format!("{k:?} = {v:?}\n"));
        }
        toml_edit::de::from_str(&text).expect("test scenario parses")
    }

    fn parsed(k: &str, c: &str) -> Result<Assertion, String> {
        parse(&file(&[]), k, c)
    }

    #[test]
    fn understands_each_metric_and_unit() {
        let a = parsed("checkout.p99", "< 800ms").unwrap();
        assert_eq!((a.metric, a.op, a.threshold), ("p99", Op::Lt, 800.0));
        assert_eq!(parsed("checkout.p99.9", "<1.5s").unwrap().threshold, 1500.0);
        assert_eq!(parsed("checkout.p999", "<= 250us").unwrap().threshold, 0.25);
        assert_eq!(parsed("checkout.mean", "< 20").unwrap().threshold, 20.0);
        let a = parsed("checkout.error_rate", "<= 1%").unwrap();
        assert_eq!((a.op, a.threshold, a.percent), (Op::Le, 0.01, true));
        let a = parsed("checkout.error_rate", "< 0.05").unwrap();
        assert_eq!((a.threshold, a.percent), (0.05, false));
        assert_eq!(
            parsed("checkout.availability", ">= 99.9%").unwrap().op,
            Op::Ge
        );
        assert_eq!(
            parsed("checkout.goodput", "> 250/s").unwrap().threshold,
            250.0
        );
        assert_eq!(
            parsed("checkout.throughput", ">= 9 rps").unwrap().threshold,
            9.0
        );
        let a = parsed("checkout.recovered", "within 30s").unwrap();
        assert_eq!((a.op, a.threshold), (Op::Le, 30.0));
        let a = parsed("service.a.utilization", "< 80%").unwrap();
        assert_eq!(a.scope, Scope::Service);
        assert_eq!(a.name, "a");
        assert_eq!(
            parsed("services.a.queue_len_max", "<= 5")
                .unwrap()
                .threshold,
            5.0
        );
    }

    #[test]
    fn explains_mistakes() {
        let e = |k: &str, c: &str| parsed(k, c).unwrap_err();
        assert!(e("checkout.p99", "800ms").contains("starts with <"));
        assert!(e("checkout.p99", "< 800 parsecs").contains("unknown time unit"));
        assert!(e("checkout.p99", "<").contains("no threshold"));
        assert!(e("checkout.error_rate", "< 5").contains("5%"));
        assert!(e("checkout.goodput", "> 5ms").contains("per second"));
        assert!(e("checkout.recovered", "within soon").contains("does not start with a number"));
        assert!(e("checkout.recovered", "> 3s").contains("within"));
        assert!(e("checkout.p99", "within 3s").contains("for `recovered`"));
        assert!(e("checkout.p98", "< 1s").contains("unknown metric `p98`"));
        assert!(e("cart.p99", "< 1s").contains("no entry named `cart`"));
        assert!(e("p99", "< 1s").contains("<entry>.<metric>"));
        assert!(e("service.zz.utilization", "< 1%").contains("no service named `zz`"));
        assert!(e("service.a.speed", "< 1%").contains("unknown service metric"));
        let f = file(&[("checkout.p99", "< 1s"), ("checkout.error_rate", "< 2")]);
        let (key, msg) = validate(&f).unwrap_err();
        assert_eq!(key, "slo.checkout.error_rate");
        assert!(msg.contains("fraction"));
    }

    #[test]
    fn comparisons() {
        assert!(Op::Lt.holds(1.0, 2.0) && !Op::Lt.holds(2.0, 2.0));
        assert!(Op::Le.holds(2.0, 2.0) && !Op::Gt.holds(2.0, 2.0));
        assert!(Op::Ge.holds(2.0, 2.0) && Op::Gt.holds(3.0, 2.0));
    }
}
