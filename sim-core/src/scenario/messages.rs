//! Wording of serde's type errors for people: a duration key given a bare
//! number says that a duration needs a unit, instead of serde's "expected a
//! string".
//!
//! Owns which string keys of the file syntax are durations. Must not judge
//! values: it only rewords a message serde already produced.

/// String-typed keys that are not durations; every other string key of the
/// syntax is one (a test walks the JSON Schema to keep both lists whole).
const NOT_DURATIONS: &[&str] = &[
    "arrivals",
    "broker",
    "cache",
    "call",
    "consumer",
    "dead_letter",
    "description",
    "log",
    "name",
    "node",
    "publish",
    "read",
    "retry_log",
    "saga",
    "rates",
    "steps",
    "subscriptions",
    "target",
    "write",
    "zone",
    "zones",
    "status",
    "via",
    "store",
];

/// String-typed keys that are sizes ("512MiB"): memory and allocation.
const SIZES: &[&str] = &["allocation", "base", "limit", "per_queued", "per_request"];

/// `message` for the value at `key`, reworded when a duration (or size) key
/// was given something other than a string.
pub(super) fn explain(key: &str, message: String) -> String {
    const SERDE: &str = "expected a string";
    if !message.ends_with(SERDE) || key.starts_with("slo.") || key == "slo" {
        return message;
    }
    // `values.3` is an entry of the list `values`.
    let field = key
        .rsplit('.')
        .find(|s| s.parse::<usize>().is_err())
        .unwrap_or(key);
    if NOT_DURATIONS.contains(&field) {
        return message;
    }
    if SIZES.contains(&field) {
        return format!(
            "{}expected a size with a unit, e.g. \"512MiB\"",
            &message[..message.len() - SERDE.len()]
        );
    }
    format!(
        "{}expected a duration with a unit, e.g. \"300ms\"",
        &message[..message.len() - SERDE.len()]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bare_number_for_a_duration_asks_for_a_unit() {
        let m = explain(
            "workload.w.timeout",
            "invalid type: integer `300`, expected a string".into(),
        );
        assert_eq!(
            m,
            "invalid type: integer `300`, expected a duration with a unit, e.g. \"300ms\""
        );
        let m = explain(
            "services.a.steps.0.work.values.2",
            "invalid type: integer `3`, expected a string".into(),
        );
        assert!(m.contains("with a unit"), "{m}");
        for key in [
            "name",
            "workload.w.target",
            "slo.w.p99",
            "topics.t.subscriptions.0",
        ] {
            let m = explain(key, "invalid type: integer `3`, expected a string".into());
            assert!(m.ends_with("expected a string"), "{key}: {m}");
        }
    }

    /// Every string key of the schema is either in `NOT_DURATIONS` or a key
    /// whose builder parses a duration: a new string key must be placed.
    #[test]
    fn every_string_key_of_the_syntax_is_classified() {
        const DURATIONS: &[&str] = &[
            "at",
            "base_ejection",
            "deadline",
            "delay",
            "drain",
            "duration",
            "every",
            "for",
            "hedging_delay",
            "initial_interval",
            "interval",
            "connect",
            "connect_backoff",
            "critical",
            "default",
            "latency",
            "max",
            "max_ejection",
            "max_block",
            "max_delay",
            "max_interval",
            "failure_window",
            "max_wait_duration",
            "max_wait_duration_in_half_open_state",
            "max_poll_interval",
            "max_window_time",
            "mean",
            "median",
            "min",
            "min_rtt_threshold",
            "min_window_time",
            "p99",
            "per_live_mib",
            "read",
            "period",
            "rebalance",
            "stale_while_revalidate",
            "ready_after",
            "redelivery_backoff",
            "redelivery_backoff_max",
            "reset_after",
            "retry_backoff",
            "scale",
            "scale_down_stabilization",
            "sd",
            "sheddable",
            "slow_call_duration_threshold",
            "startup",
            "time",
            "timeout",
            "ttl",
            "value",
            "values",
            "visibility_timeout",
            "wait_duration_in_open_state",
            "warmup",
            "window",
            "young_pause",
            // `cross_zone` is a duration or a table of them (`zone_routing.rs`):
            // its own deserialiser names what it expects.
            // Batching on logs (`log_batching.rs`, `build/linger.rs`).
            "fixed",
            "linger",
            "per_record",
        ];
        let schema = serde_json::to_value(schemars::schema_for!(super::super::ScenarioFile))
            .expect("schema serialises");
        let mut found = std::collections::BTreeSet::new();
        string_keys(&schema, &mut found);
        for k in &found {
            assert!(
                DURATIONS.contains(&k.as_str())
                    || NOT_DURATIONS.contains(&k.as_str())
                    || SIZES.contains(&k.as_str()),
                "string key `{k}`: add it to DURATIONS, SIZES or NOT_DURATIONS"
            );
        }
        for k in DURATIONS.iter().chain(NOT_DURATIONS).chain(SIZES) {
            assert!(found.contains(*k), "`{k}` is no longer a string key");
        }
    }

    fn string_keys(v: &serde_json::Value, out: &mut std::collections::BTreeSet<String>) {
        let is_string = |s: &serde_json::Value| match s.get("type") {
            Some(serde_json::Value::String(t)) => t == "string",
            Some(serde_json::Value::Array(ts)) => ts.iter().any(|t| t == "string"),
            _ => false,
        };
        match v {
            serde_json::Value::Object(m) => {
                if let Some(serde_json::Value::Object(props)) = m.get("properties") {
                    for (k, s) in props {
                        let items_string = s.get("items").is_some_and(is_string);
                        if (is_string(s) && s.get("enum").is_none()) || items_string {
                            out.insert(k.clone());
                        }
                    }
                }
                m.values().for_each(|x| string_keys(x, out));
            }
            serde_json::Value::Array(a) => a.iter().for_each(|x| string_keys(x, out)),
            _ => {}
        }
    }
}
