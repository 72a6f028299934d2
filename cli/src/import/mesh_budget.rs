//! Envoy retry budgets for `import mesh`: reading them (Istio's
//! `DestinationRule` `trafficPolicy.retryBudget`, and an Envoy cluster's
//! `circuit_breakers.thresholds[].retry_budget`) and writing them as
//! cascade's `retry.in_flight_budget`, which is Envoy's limit itself:
//! retries in flight ≤ max(`min_retry_concurrency`, `budget_percent` × the
//! requests in flight on the cluster, retries included), per caller
//! replica (Envoy instance) and edge (upstream cluster). `budget_percent`
//! → `percent`, `min_retry_concurrency` → `min_in_flight`, one to one.
//!
//! Not modelled, and said so: a non-zero `budget_interval` (Istio's
//! `budgetInterval`), with which newer Envoys take the percentage of the
//! requests sent over that fixed window instead of those in flight; the
//! cap then still counts the requests in flight.
//!
//! Must not touch the scenario document (that is `mesh.rs`).

use sim_core::time::{Nanos, format_duration, parse_duration};
use yaml_rust2::Yaml;

use crate::Failure;

/// A retry budget as the mesh wrote it.
#[derive(Clone, Debug, PartialEq)]
pub struct EnvoyBudget {
    /// Share of active requests that may be retries, 0–100.
    pub percent: f64,
    /// Retries always allowed in flight.
    pub min_concurrency: u32,
    /// Istio's `budgetInterval` / Envoy's `budget_interval`, when given.
    pub interval: Option<Nanos>,
}

/// Envoy's defaults (`budget_percent` 20 %, `min_retry_concurrency` 3).
const DEFAULT_PERCENT: f64 = 20.0;
const DEFAULT_MIN_CONCURRENCY: u32 = 3;

/// A malformed key: an error naming the file, the resource and the key.
fn bad(at: &str, key: &str, why: String) -> Failure {
    Failure::Input(format!("error: {at}: `{key}` {why}"))
}

fn number(y: &Yaml) -> Option<f64> {
    match y {
        Yaml::Integer(i) => Some(*i as f64),
        Yaml::Real(_) => y.as_f64(),
        _ => None,
    }
}

fn percent(y: &Yaml, at: &str, key: &str) -> Result<f64, Failure> {
    if y.is_badvalue() {
        return Ok(DEFAULT_PERCENT);
    }
    match number(y) {
        Some(p) if (0.0..=100.0).contains(&p) => Ok(p),
        _ => Err(bad(
            at,
            key,
            format!("must be a percentage from 0 to 100, got {}", shown(y)),
        )),
    }
}

fn concurrency(y: &Yaml, at: &str, key: &str) -> Result<u32, Failure> {
    if y.is_badvalue() {
        return Ok(DEFAULT_MIN_CONCURRENCY);
    }
    match y.as_i64().and_then(|c| u32::try_from(c).ok()) {
        Some(c) => Ok(c),
        None => Err(bad(
            at,
            key,
            format!(
                "must be a whole number of retries, 0 or more, got {}",
                shown(y)
            ),
        )),
    }
}

fn interval(y: &Yaml, at: &str, key: &str) -> Result<Option<Nanos>, Failure> {
    if y.is_badvalue() {
        return Ok(None);
    }
    let parsed = y.as_str().map(parse_duration);
    match parsed {
        Some(Ok(0)) => Ok(None),
        Some(Ok(ns)) => Ok(Some(ns)),
        Some(Err(e)) => Err(bad(at, key, format!("is not a duration: {e}"))),
        None => Err(bad(
            at,
            key,
            format!("must be a duration such as \"10s\", got {}", shown(y)),
        )),
    }
}

/// A YAML value as the user wrote it, for messages.
fn shown(y: &Yaml) -> String {
    match y {
        Yaml::String(s) => format!("{s:?}"),
        Yaml::Integer(i) => i.to_string(),
        Yaml::Real(r) => r.clone(),
        Yaml::Boolean(b) => b.to_string(),
        Yaml::Null => "null".into(),
        Yaml::Array(_) => "a list".into(),
        Yaml::Hash(_) => "a mapping".into(),
        _ => "nothing".into(),
    }
}

/// Keys of a mapping other than `known`, listed as not understood.
fn others(y: &Yaml, known: &[&str], at: &str, ignored: &mut Vec<String>) {
    if let Some(h) = y.as_hash() {
        for k in h.keys() {
            let k = k.as_str().unwrap_or("?");
            if !known.contains(&k) {
                ignored.push(format!("{at}: `{k}` is not understood"));
            }
        }
    }
}

/// Istio's `trafficPolicy.retryBudget` (`percent`, `minRetryConcurrency`,
/// `budgetInterval`).
pub fn istio(y: &Yaml, at: &str, ignored: &mut Vec<String>) -> Result<EnvoyBudget, Failure> {
    let key = "trafficPolicy.retryBudget";
    if y.as_hash().is_none() {
        return Err(bad(at, key, format!("must be a mapping, got {}", shown(y))));
    }
    others(
        y,
        &["percent", "minRetryConcurrency", "budgetInterval"],
        &format!("{at}: {key}"),
        ignored,
    );
    Ok(EnvoyBudget {
        percent: percent(&y["percent"], at, &format!("{key}.percent"))?,
        min_concurrency: concurrency(
            &y["minRetryConcurrency"],
            at,
            &format!("{key}.minRetryConcurrency"),
        )?,
        interval: interval(&y["budgetInterval"], at, &format!("{key}.budgetInterval"))?,
    })
}

/// An Envoy cluster's `circuit_breakers.thresholds[].retry_budget`: the
/// first threshold with a budget whose priority is DEFAULT (or unset), as
/// Envoy uses the first threshold of each priority; `None` without one.
/// Other keys of the thresholds are listed.
pub fn envoy(
    breakers: &Yaml,
    at: &str,
    ignored: &mut Vec<String>,
) -> Result<Option<EnvoyBudget>, Failure> {
    others(
        breakers,
        &["thresholds"],
        &format!("{at}: circuit_breakers"),
        ignored,
    );
    let mut found = None;
    for (i, t) in breakers["thresholds"]
        .as_vec()
        .into_iter()
        .flatten()
        .enumerate()
    {
        let key = format!("circuit_breakers.thresholds[{i}]");
        let priority = t["priority"].as_str().unwrap_or("DEFAULT");
        others(
            t,
            &["priority", "retry_budget"],
            &format!("{at}: {key}"),
            ignored,
        );
        let b = &t["retry_budget"];
        if b.is_badvalue() {
            continue;
        }
        if priority != "DEFAULT" {
            ignored.push(format!(
                "{at}: {key}: a retry budget for priority {priority} is not modelled (requests have no routing priority)"
            ));
            continue;
        }
        if found.is_some() {
            ignored.push(format!(
                "{at}: {key}: a second DEFAULT threshold is ignored, as Envoy ignores it"
            ));
            continue;
        }
        let key = format!("{key}.retry_budget");
        if b.as_hash().is_none() {
            return Err(bad(
                at,
                &key,
                format!("must be a mapping, got {}", shown(b)),
            ));
        }
        others(
            b,
            &["budget_percent", "min_retry_concurrency", "budget_interval"],
            &format!("{at}: {key}"),
            ignored,
        );
        // `budget_percent` is an envoy.type.v3.Percent: `{value: 25.0}`.
        let p = &b["budget_percent"];
        let percent = if p.is_badvalue() {
            DEFAULT_PERCENT
        } else if p.as_hash().is_some() {
            self::percent(&p["value"], at, &format!("{key}.budget_percent.value"))?
        } else {
            return Err(bad(
                at,
                &format!("{key}.budget_percent"),
                format!(
                    "must be a Percent mapping such as {{value: 25.0}}, got {}",
                    shown(p)
                ),
            ));
        };
        // min_retry_concurrency is a UInt32Value: a bare number in YAML.
        found = Some(EnvoyBudget {
            percent,
            min_concurrency: concurrency(
                &b["min_retry_concurrency"],
                at,
                &format!("{key}.min_retry_concurrency"),
            )?,
            interval: interval(&b["budget_interval"], at, &format!("{key}.budget_interval"))?,
        });
    }
    Ok(found)
}

/// The service an Envoy cluster name stands for: Istio's
/// `outbound|80||reviews.prod.svc.cluster.local` → `reviews`, a plain
/// `reviews` → itself.
pub fn cluster_service(name: &str) -> String {
    let host = name.rsplit('|').next().unwrap_or(name);
    host.split('.').next().unwrap_or(host).to_owned()
}

/// One line saying what the mesh asked for and what cascade runs.
pub fn explain(b: &EnvoyBudget) -> String {
    format!(
        "Envoy allows retries in flight ≤ max({}, {} % of requests in flight) per caller proxy and upstream cluster → retry.in_flight_budget = {{ percent = {}, min_in_flight = {} }}, the same limit per caller replica and edge",
        b.min_concurrency, b.percent, b.percent, b.min_concurrency
    )
}

/// What of the budget cascade does not model, if anything.
pub fn not_modelled(b: &EnvoyBudget) -> Option<String> {
    b.interval.map(|i| {
        format!(
            "budget_interval {}: Envoy then takes the percentage of the requests sent over that window, not of those in flight; cascade's cap counts those in flight",
            format_duration(i)
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim_core::time::NS_PER_S;

    #[test]
    fn the_budget_is_written_as_it_is_and_an_interval_is_said_not_modelled() {
        let b = EnvoyBudget {
            percent: 20.0,
            min_concurrency: 3,
            interval: None,
        };
        assert!(
            explain(&b).contains("retry.in_flight_budget = { percent = 20, min_in_flight = 3 }")
        );
        assert_eq!(not_modelled(&b), None);
        let windowed = EnvoyBudget {
            interval: Some(5 * NS_PER_S),
            ..b
        };
        assert!(
            not_modelled(&windowed)
                .unwrap()
                .starts_with("budget_interval 5s")
        );
    }

    #[test]
    fn cluster_names_give_their_service() {
        assert_eq!(
            cluster_service("outbound|80||reviews.prod.svc.cluster.local"),
            "reviews"
        );
        assert_eq!(cluster_service("payment"), "payment");
    }
}
