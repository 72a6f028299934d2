//! Envoy retry budgets for `import mesh`: reading them (Istio's
//! `DestinationRule` `trafficPolicy.retryBudget`, and an Envoy cluster's
//! `circuit_breakers.thresholds[].retry_budget`) and mapping them onto
//! cascade's retry budget (Finagle's token budget, `retry.budget`).
//!
//! The two are not the same limit, and the mapping says so wherever it
//! lands (the scenario's comment, `import-report.md`, the terminal):
//!
//! - Envoy bounds retries *in flight*: at most max(`min_retry_concurrency`,
//!   `budget_percent` × the requests active and pending on the cluster),
//!   retries included, per caller proxy and upstream cluster.
//! - cascade bounds retries *per first attempt over a window*: over any
//!   `ttl`, retries ≤ `ratio` × first attempts + `min_retries_per_second` ×
//!   `ttl`, per call step and caller replica.
//!
//! By Little's law the two agree when a retry holds its slot as long as a
//! first try does: retries ≤ p × (first tries + retries) is ratio =
//! p ⁄ (1 − p); `min_retry_concurrency` c retries in flight, each lasting
//! at most the call's per-attempt timeout W (1 s when the call has none),
//! sustain c ⁄ W retries a second; Envoy's instantaneous count is taken
//! over cascade's shortest window, 1 s (or Istio's `budgetInterval` /
//! Envoy's `budget_interval`, held to cascade's 1–60 s).
//!
//! Must not touch the scenario document (that is `mesh.rs`).

use sim_core::time::{NS_PER_S, Nanos, format_duration, parse_duration};
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
/// cascade's largest `ratio`.
const MAX_RATIO: f64 = 1000.0;

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

/// cascade's budget for one call: what to write and why it differs.
#[derive(Clone, Debug, PartialEq)]
pub struct Mapped {
    pub ratio: f64,
    pub min_retries_per_second: u32,
    pub ttl: Nanos,
    /// The per-attempt time the floor was converted with.
    pub slot: Nanos,
}

/// Envoy's budget as cascade's, for a call whose attempts time out after
/// `per_try_timeout` (see the module's comment for why).
pub fn map(b: &EnvoyBudget, per_try_timeout: Option<Nanos>) -> Mapped {
    let p = b.percent / 100.0;
    let ratio = if p >= MAX_RATIO / (1.0 + MAX_RATIO) {
        MAX_RATIO
    } else {
        // Four decimals: what the scenario shows is what runs.
        (p / (1.0 - p) * 1e4).round() / 1e4
    };
    let slot = per_try_timeout.filter(|&t| t > 0).unwrap_or(NS_PER_S);
    let per_second = (b.min_concurrency as f64 * NS_PER_S as f64 / slot as f64).ceil();
    let ttl = b
        .interval
        .unwrap_or(NS_PER_S)
        .clamp(NS_PER_S, 60 * NS_PER_S);
    Mapped {
        ratio,
        min_retries_per_second: per_second.min(u32::MAX as f64) as u32,
        ttl,
        slot,
    }
}

/// One line saying what the mesh asked for, what cascade runs, and how
/// they differ.
pub fn explain(b: &EnvoyBudget, m: &Mapped) -> String {
    let interval = match b.interval {
        Some(i) if i != m.ttl => format!(
            ", interval {} held to cascade's 1–60 s as ttl {}",
            format_duration(i),
            format_duration(m.ttl)
        ),
        Some(_) => format!(", interval → ttl {}", format_duration(m.ttl)),
        None => format!(
            "; Envoy counts requests in flight now, cascade over ttl {}",
            format_duration(m.ttl)
        ),
    };
    format!(
        "Envoy allows retries in flight ≤ max({}, {} % of requests in flight); cascade allows retries ≤ ratio {} × first attempts + {}/s × ttl: ratio = p/(1−p) (retries count among Envoy's active requests) and {} retries in flight ÷ {} per attempt = {}/s, equal only when a retry lasts as long as a first try (Little's law){interval}; per call step and caller replica, where Envoy's is per caller proxy and upstream cluster",
        b.min_concurrency,
        b.percent,
        m.ratio,
        m.min_retries_per_second,
        b.min_concurrency,
        format_duration(m.slot),
        m.min_retries_per_second,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim_core::time::NS_PER_MS;

    #[test]
    fn twenty_percent_and_three_in_flight_over_half_a_second() {
        let b = EnvoyBudget {
            percent: 20.0,
            min_concurrency: 3,
            interval: None,
        };
        let m = map(&b, Some(500 * NS_PER_MS));
        assert_eq!(m.ratio, 0.25);
        assert_eq!(m.min_retries_per_second, 6);
        assert_eq!(m.ttl, NS_PER_S);
        // No timeout: a retry is taken to hold its slot for a second.
        assert_eq!(map(&b, None).min_retries_per_second, 3);
    }

    #[test]
    fn a_full_budget_is_cascades_largest_ratio_and_intervals_are_held_to_its_window() {
        let b = EnvoyBudget {
            percent: 100.0,
            min_concurrency: 0,
            interval: Some(120 * NS_PER_S),
        };
        let m = map(&b, None);
        assert_eq!(m.ratio, MAX_RATIO);
        assert_eq!(m.min_retries_per_second, 0);
        assert_eq!(m.ttl, 60 * NS_PER_S);
        assert!(explain(&b, &m).contains("held to cascade's 1–60 s"));
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
