//! Compiles the `[slo]` table into `model::Slo` assertions, once, at load
//! time: a key names an entry, a service or a queue and one of its metrics;
//! a condition is an operator and a threshold in the metric's unit (README,
//! "SLO assertions, recovery and blast radius").
//!
//! Owns every message about a malformed assertion; each names the key.

use super::KeyError;
use super::dto::ScenarioFile;
use crate::model::{Slo, SloMetric, SloOp, SloUnit};
use crate::patterns::Criticality;
use crate::time::{NS_PER_MS, parse_duration};

/// Every assertion of `file`, in file order; the error names the key
/// (`slo.<key>`, the key kept whole although it has dots).
pub(super) fn compile(file: &ScenarioFile) -> Result<Vec<Slo>, KeyError> {
    file.slo
        .iter()
        .map(|(key, condition)| {
            compile_one(file, key, condition).map_err(|m| KeyError::new(format!("slo.{key}"), m))
        })
        .collect()
}

fn compile_one(file: &ScenarioFile, key: &str, condition: &str) -> Result<Slo, String> {
    let class = class_key(file, key)?;
    let (name, metric) = match class {
        Some((c, metric)) => (c.name().to_owned(), metric),
        None => parse_key(file, key)?,
    };
    let (op, threshold, percent) = parse_condition(metric, condition)?;
    Ok(Slo {
        key: key.to_owned(),
        condition: condition.to_owned(),
        name,
        metric,
        op,
        threshold,
        percent,
        class: class.map(|(c, _)| c),
    })
}

/// The entry metrics that make sense for a class's entries added up
/// (`summary.classes.<class>` has no throughput and no recovery), in the
/// entries' order.
fn class_metrics() -> Vec<SloMetric> {
    SloMetric::ENTRY
        .iter()
        .copied()
        .filter(|m| !matches!(m, SloMetric::Throughput | SloMetric::Recovered))
        .collect()
}

/// `class.<class>.<metric>` (or `classes.`): the class and the metric, or
/// `None` for any other key. The class must be one some source tags its
/// requests with.
fn class_key(file: &ScenarioFile, key: &str) -> Result<Option<(Criticality, SloMetric)>, String> {
    let Some(rest) = ["class.", "classes."]
        .iter()
        .find_map(|p| key.strip_prefix(p))
    else {
        return Ok(None);
    };
    let Some((class, metric)) = rest.split_once('.') else {
        return Err(format!(
            "write class.<class>.<metric>, e.g. class.critical.p99 (metrics: {})",
            names(&class_metrics())
        ));
    };
    let Some(c) = Criticality::ALL.into_iter().find(|c| c.name() == class) else {
        return Err(format!(
            "no criticality named `{class}` (classes: critical, default, sheddable)"
        ));
    };
    let used: Vec<&str> = Criticality::ALL
        .into_iter()
        .filter(|x| {
            file.workload
                .values()
                .any(|w| w.criticality.unwrap_or_default() == *x)
        })
        .map(Criticality::name)
        .collect();
    let tagged = file
        .workload
        .values()
        .any(|w| w.criticality.is_some_and(|x| x != Criticality::Default));
    if !used.contains(&class) || !tagged {
        return Err(if tagged {
            format!(
                "no source sends `{class}` requests (classes used: {})",
                used.join(", ")
            )
        } else {
            format!(
                "no source sets a `criticality`, so there are no per-class results: use the entries' own keys (<entry>.{metric})"
            )
        });
    }
    let metrics = class_metrics();
    match metrics.iter().find(|m| m.name() == metric) {
        Some(m) => Ok(Some((c, *m))),
        None => Err(format!(
            "unknown class metric `{metric}` (use one of {})",
            names(&metrics)
        )),
    }
}

/// The metrics' names for a message ("p99.9" is only another spelling).
fn names(list: &[SloMetric]) -> String {
    list.iter()
        .filter(|m| **m != SloMetric::P99Dot9)
        .map(|m| m.name())
        .collect::<Vec<_>>()
        .join(", ")
}

fn parse_key(file: &ScenarioFile, key: &str) -> Result<(String, SloMetric), String> {
    let service_prefix = ["service.", "services."]
        .iter()
        .find_map(|p| key.strip_prefix(p));
    // Longest metric names first, so "p99.9" wins over a split at its dot.
    let mut entry_metrics = SloMetric::ENTRY.to_vec();
    entry_metrics.sort_by_key(|m| std::cmp::Reverse(m.name().len()));
    for metric in entry_metrics {
        if let Some(entry) = key
            .strip_suffix(metric.name())
            .and_then(|k| k.strip_suffix('.'))
            && file.workload.contains_key(entry)
        {
            return Ok((entry.to_owned(), metric));
        }
    }
    if let Some(rest) = service_prefix {
        let Some((svc, metric)) = rest.rsplit_once('.') else {
            return Err(format!(
                "write service.<name>.<metric>, e.g. service.db.utilization (metrics: {})",
                names(SloMetric::SERVICE)
            ));
        };
        if !file.services.contains_key(svc) {
            return Err(format!(
                "no service named `{svc}` (services: {})",
                file.services.keys().cloned().collect::<Vec<_>>().join(", ")
            ));
        }
        return match SloMetric::SERVICE.iter().find(|m| m.name() == metric) {
            Some(m) => Ok((svc.to_owned(), *m)),
            None => Err(format!(
                "unknown service metric `{metric}` (use one of {})",
                names(SloMetric::SERVICE)
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
                names(SloMetric::QUEUE)
            ));
        };
        if !file.queues.contains_key(queue) {
            return Err(format!(
                "no queue named `{queue}` (queues: {})",
                file.queues.keys().cloned().collect::<Vec<_>>().join(", ")
            ));
        }
        return match SloMetric::QUEUE.iter().find(|m| m.name() == metric) {
            Some(m) => Ok((queue.to_owned(), *m)),
            None => Err(format!(
                "unknown queue metric `{metric}` (use one of {})",
                names(SloMetric::QUEUE)
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
        names(SloMetric::ENTRY)
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

/// The operator, the threshold in the metric's unit, and whether a ratio
/// was written as a percentage.
fn parse_condition(metric: SloMetric, text: &str) -> Result<(SloOp, f64, bool), String> {
    let unit = metric.unit();
    let name = metric.name();
    let recovery = unit == SloUnit::Seconds;
    let t = text.trim();
    let (op, rest) = if let Some(r) = t.strip_prefix("within") {
        if !recovery {
            return Err(format!(
                "`within` is for `recovered`; write e.g. \"< {}\"",
                example(unit)
            ));
        }
        (SloOp::Le, r)
    } else if let Some(r) = t.strip_prefix("<=").or_else(|| t.strip_prefix('≤')) {
        (SloOp::Le, r)
    } else if let Some(r) = t.strip_prefix(">=").or_else(|| t.strip_prefix('≥')) {
        (SloOp::Ge, r)
    } else if let Some(r) = t.strip_prefix('<') {
        (SloOp::Lt, r)
    } else if let Some(r) = t.strip_prefix('>') {
        (SloOp::Gt, r)
    } else {
        return Err(format!(
            "a condition starts with <, <=, > or >={}, e.g. \"{}\"",
            if recovery { " or within" } else { "" },
            condition_example(unit)
        ));
    };
    let rest = rest.trim();
    if rest.is_empty() {
        return Err(format!(
            "the condition has no threshold, e.g. \"{}\"",
            condition_example(unit)
        ));
    }
    match unit {
        SloUnit::Millis => {
            let (v, suffix) = split_number(rest)?;
            let ms = if suffix.is_empty() {
                v
            } else {
                let compact: String = rest.chars().filter(|c| !c.is_whitespace()).collect();
                parse_duration(&compact)? as f64 / NS_PER_MS as f64
            };
            Ok((op, ms, false))
        }
        SloUnit::Seconds => {
            let compact: String = rest.chars().filter(|c| !c.is_whitespace()).collect();
            let ns = parse_duration(&compact)
                .map_err(|e| format!("{e}; `recovered` takes a duration such as \"within 30s\""))?;
            if matches!(op, SloOp::Gt | SloOp::Ge) {
                return Err("`recovered` takes \"within <duration>\" (or < / <=)".into());
            }
            Ok((op, ns as f64 / 1e9, false))
        }
        SloUnit::Ratio => {
            let (v, suffix) = split_number(rest)?;
            match suffix.as_str() {
                "%" => {
                    if v > 100.0 {
                        return Err(format!("{v}% is more than 100%"));
                    }
                    Ok((op, v / 100.0, true))
                }
                "" => {
                    if v > 1.0 {
                        return Err(format!(
                            "`{name}` is a fraction between 0 and 1 or a percentage: write \"{v}%\" or \"{}\"",
                            v / 100.0
                        ));
                    }
                    Ok((op, v, false))
                }
                u => Err(format!(
                    "unknown unit `{u}` for `{name}`: write a percentage (\"1%\") or a fraction (\"0.01\")"
                )),
            }
        }
        SloUnit::PerSecond => {
            let (v, suffix) = split_number(rest)?;
            match suffix.as_str() {
                "" | "/s" | "rps" | "req/s" | "/sec" => Ok((op, v, false)),
                u => Err(format!(
                    "unknown unit `{u}` for `{name}`: write requests per second, e.g. \"250\" or \"250/s\""
                )),
            }
        }
        SloUnit::Mebibytes => {
            let compact: String = rest.chars().filter(|c| !c.is_whitespace()).collect();
            let bytes = super::runtime::parse_bytes(&compact)
                .map_err(|e| format!("{e}; `{name}` takes a size such as \"900MiB\""))?;
            Ok((op, bytes as f64 / (1024.0 * 1024.0), false))
        }
        SloUnit::Count => {
            let (v, suffix) = split_number(rest)?;
            if !suffix.is_empty() {
                return Err(format!("`{name}` is a plain number, without a unit"));
            }
            Ok((op, v, false))
        }
    }
}

fn example(unit: SloUnit) -> &'static str {
    match unit {
        SloUnit::Millis => "800ms",
        SloUnit::Ratio => "1%",
        SloUnit::PerSecond => "250/s",
        SloUnit::Count => "10",
        SloUnit::Seconds => "30s",
        SloUnit::Mebibytes => "900MiB",
    }
}

/// A whole condition for a message: "within 30s" or "< 800ms".
fn condition_example(unit: SloUnit) -> String {
    if unit == SloUnit::Seconds {
        "within 30s".to_owned()
    } else {
        format!("< {}", example(unit))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SloScope;

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
[queues.jobs]
consumer = "a"
[slo]
"#,
        );
        for (k, v) in slo {
            text.push_str(&format!("{k:?} = {v:?}\n"));
        }
        toml_edit::de::from_str(&text).expect("test scenario parses")
    }

    fn parsed(k: &str, c: &str) -> Result<Slo, String> {
        compile_one(&file(&[]), k, c)
    }

    #[test]
    fn understands_each_metric_and_unit() {
        let a = parsed("checkout.p99", "< 800ms").unwrap();
        assert_eq!(
            (a.metric, a.op, a.threshold),
            (SloMetric::P99, SloOp::Lt, 800.0)
        );
        assert_eq!(
            (a.key.as_str(), a.condition.as_str()),
            ("checkout.p99", "< 800ms")
        );
        let a = parsed("checkout.p99.9", "<1.5s").unwrap();
        assert_eq!((a.metric, a.threshold), (SloMetric::P99Dot9, 1500.0));
        assert_eq!(parsed("checkout.p999", "<= 250us").unwrap().threshold, 0.25);
        assert_eq!(parsed("checkout.mean", "< 20").unwrap().threshold, 20.0);
        let a = parsed("checkout.error_rate", "<= 1%").unwrap();
        assert_eq!((a.op, a.threshold, a.percent), (SloOp::Le, 0.01, true));
        let a = parsed("checkout.error_rate", "< 0.05").unwrap();
        assert_eq!((a.threshold, a.percent), (0.05, false));
        assert_eq!(
            parsed("checkout.availability", ">= 99.9%").unwrap().op,
            SloOp::Ge
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
        assert_eq!((a.op, a.threshold), (SloOp::Le, 30.0));
        let a = parsed("service.a.utilization", "< 80%").unwrap();
        assert_eq!(
            (a.metric.scope(), a.name.as_str()),
            (SloScope::Service, "a")
        );
        assert_eq!(
            parsed("services.a.queue_len_max", "<= 5")
                .unwrap()
                .threshold,
            5.0
        );
        let a = parsed("queue.jobs.lag_p99", "< 2s").unwrap();
        assert_eq!(
            (a.metric, a.metric.scope(), a.threshold),
            (SloMetric::LagP99, SloScope::Queue, 2000.0)
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
        assert!(e("queue.zz.lag_p99", "< 1s").contains("no queue named `zz`"));
        assert!(e("queue.jobs.depth", "< 1").contains("unknown queue metric"));
        // Help lists name each metric once.
        assert!(!e("checkout.p98", "< 1s").contains("p99.9"));
    }

    #[test]
    fn class_keys_name_a_class_some_source_sends() {
        let text = r#"
name = "t"
duration = "10s"
[workload.checkout]
target = "a"
rate = 10
criticality = "critical"
[workload.browse]
target = "a"
rate = 10
[services.a]
threads = 1
"#;
        let f: ScenarioFile = toml_edit::de::from_str(text).unwrap();
        let a = compile_one(&f, "class.critical.p99", "< 100ms").unwrap();
        assert_eq!(
            (a.class, a.name.as_str(), a.metric, a.threshold),
            (
                Some(Criticality::Critical),
                "critical",
                SloMetric::P99,
                100.0
            )
        );
        let a = compile_one(&f, "classes.default.error_rate", "< 1%").unwrap();
        assert_eq!(a.class, Some(Criticality::Default));
        let e = |k: &str| compile_one(&f, k, "< 1%").unwrap_err();
        assert!(e("class.sheddable.p99").contains("no source sends `sheddable`"));
        assert!(e("class.urgent.p99").contains("no criticality named `urgent`"));
        assert!(e("class.critical.throughput").contains("unknown class metric"));
        assert!(e("class.critical").contains("class.<class>.<metric>"));
        // Without any tag there are no per-class results at all.
        let untagged = compile_one(&file(&[]), "class.default.p99", "< 1s").unwrap_err();
        assert!(
            untagged.contains("no source sets a `criticality`"),
            "{untagged}"
        );
    }

    #[test]
    fn the_first_bad_assertion_names_its_whole_key() {
        let f = file(&[("checkout.p99", "< 1s"), ("checkout.error_rate", "< 2")]);
        let err = compile(&f).unwrap_err();
        assert_eq!(err.key, "slo.checkout.error_rate");
        assert!(err.message.contains("fraction"));
        let ok = file(&[("checkout.p99", "< 1s"), ("service.a.queue_len", "< 3")]);
        let slos = compile(&ok).unwrap();
        assert_eq!(
            slos.iter().map(|s| s.metric).collect::<Vec<_>>(),
            [SloMetric::P99, SloMetric::QueueLen]
        );
    }
}
