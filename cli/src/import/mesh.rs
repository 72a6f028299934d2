//! `cascade import mesh FILES… --into scenario.toml`: Istio
//! `VirtualService` and `DestinationRule` resources applied to the calls
//! into the service each names (its host's first label), in place, with
//! the scenario's comments and layout kept (toml_edit).
//!
//! Understood: a VirtualService's `timeout` (→ the call's `deadline`) and
//! `retries` (`attempts` → `retry.max_attempts` = attempts + 1,
//! `perTryTimeout` → the call's `timeout`, `retryOn` → `retry_on`); a
//! DestinationRule's `connectionPool` (`tcp.maxConnections` and
//! `http.http2MaxRequests` → a `bulkhead`). `outlierDetection` is listed as
//! not modelled yet. Every other key is listed, never silently dropped.
//! The result is loaded as a scenario before it is written: a change that
//! would make it invalid writes nothing.

use std::path::{Path, PathBuf};

use toml_edit::{Array, DocumentMut, InlineTable, Item, Value};
use yaml_rust2::{Yaml, YamlLoader};

use crate::{Failure, term};

#[derive(clap::Args)]
pub struct MeshArgs {
    /// Istio YAML files (several resources per file, separated by ---).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// The scenario to change in place.
    #[arg(long)]
    pub into: PathBuf,
}

/// What to set on every call into one service.
#[derive(Default, Debug)]
struct Policy {
    source: String,
    deadline: Option<String>,
    per_try_timeout: Option<String>,
    max_attempts: Option<i64>,
    retry_on: Vec<&'static str>,
    bulkhead: Option<i64>,
}

pub fn cmd_mesh(a: &MeshArgs) -> Result<(), Failure> {
    let mut policies: Vec<(String, Policy)> = Vec::new();
    let mut ignored: Vec<String> = Vec::new();
    for file in &a.files {
        let name = file.display().to_string();
        let text = std::fs::read_to_string(file)
            .map_err(|e| Failure::Io(format!("cannot read {name}: {e}")))?;
        let docs = YamlLoader::load_from_str(&text).map_err(|e| {
            Failure::Input(format!(
                "error: {name}: line {} column {}: not YAML: {e}",
                e.marker().line(),
                e.marker().col() + 1
            ))
        })?;
        for (i, doc) in docs.iter().enumerate() {
            let at = format!("{name} (document {})", i + 1);
            resource(doc, &at, &mut policies, &mut ignored);
        }
    }
    let path = &a.into;
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::Io(format!("cannot read {}: {e}", path.display())))?;
    let mut doc: DocumentMut = text
        .parse()
        .map_err(|e| Failure::Input(format!("error: {}: not TOML: {e}", path.display())))?;
    let mut applied = Vec::new();
    let mut replaced = Vec::new();
    for (service, p) in &policies {
        let n = apply(&mut doc, service, p, &mut replaced);
        if n == 0 {
            ignored.push(format!(
                "{}: no call into `{service}` in {}",
                p.source,
                path.display()
            ));
        } else {
            applied.push(format!("{}: {n} call(s) into `{service}`", p.source));
        }
    }
    let out = doc.to_string();
    let shown = path.display().to_string();
    sim_core::load(&shown, &out, &[]).map_err(|e| Failure::Input(crate::errors::render(&e)))?;
    write(path, &out)?;
    let mut msg = String::new();
    for a in &applied {
        msg.push_str(&format!("applied: {a}\n"));
    }
    for r in &replaced {
        msg.push_str(&format!("replaced: {r}\n"));
    }
    for i in &ignored {
        msg.push_str(&format!("not applied: {i}\n"));
    }
    term::out(&msg)
}

fn write(path: &Path, text: &str) -> Result<(), Failure> {
    std::fs::write(path, text)
        .map_err(|e| Failure::Io(format!("cannot write {}: {e}", path.display())))
}

/// A host's service: its first DNS label (`reviews.prod.svc.cluster.local`
/// → `reviews`).
fn service_of(host: &str) -> String {
    host.split('.').next().unwrap_or(host).to_owned()
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

fn resource(doc: &Yaml, at: &str, policies: &mut Vec<(String, Policy)>, ignored: &mut Vec<String>) {
    let kind = doc["kind"].as_str().unwrap_or("");
    let name = doc["metadata"]["name"].as_str().unwrap_or("?");
    let at = format!("{at}: {kind} {name}");
    let spec = &doc["spec"];
    match kind {
        "VirtualService" => {
            others(spec, &["hosts", "http"], &at, ignored);
            let hosts: Vec<&str> = spec["hosts"]
                .as_vec()
                .map(|v| v.iter().filter_map(Yaml::as_str).collect())
                .unwrap_or_default();
            for (r, route) in spec["http"].as_vec().into_iter().flatten().enumerate() {
                let rat = format!("{at}: http[{r}]");
                others(
                    route,
                    &["route", "timeout", "retries", "name"],
                    &rat,
                    ignored,
                );
                let mut p = Policy {
                    source: rat.clone(),
                    deadline: route["timeout"].as_str().map(str::to_owned),
                    ..Policy::default()
                };
                let retries = &route["retries"];
                if !retries.is_badvalue() {
                    others(
                        retries,
                        &["attempts", "perTryTimeout", "retryOn"],
                        &rat,
                        ignored,
                    );
                    p.max_attempts = retries["attempts"].as_i64().map(|a| a + 1);
                    p.per_try_timeout = retries["perTryTimeout"].as_str().map(str::to_owned);
                    for cond in retries["retryOn"].as_str().unwrap_or("").split(',') {
                        match retry_on(cond.trim()) {
                            Some(kinds) => {
                                for k in kinds {
                                    if !p.retry_on.contains(k) {
                                        p.retry_on.push(k);
                                    }
                                }
                            }
                            None if cond.trim().is_empty() => {}
                            None => ignored
                                .push(format!("{rat}: retryOn `{}` is not modelled", cond.trim())),
                        }
                    }
                }
                // The destination: the route's single destination, else
                // the first host.
                let dests: Vec<&str> = route["route"]
                    .as_vec()
                    .map(|v| {
                        v.iter()
                            .filter_map(|d| d["destination"]["host"].as_str())
                            .collect()
                    })
                    .unwrap_or_default();
                if dests.len() > 1 {
                    ignored.push(format!(
                        "{rat}: a split over {} destinations is not modelled: applied to the first",
                        dests.len()
                    ));
                }
                match dests.first().or(hosts.first()) {
                    Some(h) => policies.push((service_of(h), p)),
                    None => ignored.push(format!("{rat}: no host")),
                }
            }
        }
        "DestinationRule" => {
            others(spec, &["host", "trafficPolicy"], &at, ignored);
            let Some(host) = spec["host"].as_str() else {
                ignored.push(format!("{at}: no host"));
                return;
            };
            let tp = &spec["trafficPolicy"];
            others(tp, &["connectionPool", "outlierDetection"], &at, ignored);
            if !tp["outlierDetection"].is_badvalue() {
                ignored.push(format!(
                    "{at}: outlierDetection (ejecting failing replicas) is not modelled yet"
                ));
            }
            let pool = &tp["connectionPool"];
            let mut p = Policy {
                source: at.clone(),
                ..Policy::default()
            };
            others(pool, &["tcp", "http"], &at, ignored);
            others(
                &pool["tcp"],
                &["maxConnections"],
                &format!("{at}: tcp"),
                ignored,
            );
            others(
                &pool["http"],
                &["http2MaxRequests", "http1MaxPendingRequests"],
                &format!("{at}: http"),
                ignored,
            );
            let limits = [
                pool["tcp"]["maxConnections"].as_i64(),
                pool["http"]["http2MaxRequests"].as_i64(),
            ];
            p.bulkhead = limits.into_iter().flatten().min();
            if !pool["http"]["http1MaxPendingRequests"].is_badvalue() {
                ignored.push(format!(
                    "{at}: http1MaxPendingRequests is not modelled (a bulkhead bounds the wait's time, not the waiters' count)"
                ));
            }
            if p.bulkhead.is_some() {
                policies.push((service_of(host), p));
            }
        }
        other => ignored.push(format!("{at}: kind `{other}` is not understood")),
    }
}

/// Envoy's retry conditions as cascade's failure kinds.
fn retry_on(cond: &str) -> Option<&'static [&'static str]> {
    Some(match cond {
        "5xx" | "gateway-error" => &["error", "timeout"],
        "connect-failure" | "reset" | "unavailable" => &["refused"],
        "refused-stream" | "resource-exhausted" => &["rejected"],
        "deadline-exceeded" => &["timeout"],
        _ => return None,
    })
}

/// Sets `p` on every call step into `service`; the number changed.
fn apply(doc: &mut DocumentMut, service: &str, p: &Policy, replaced: &mut Vec<String>) -> usize {
    let mut n = 0;
    let Some(services) = doc.get_mut("services").and_then(Item::as_table_like_mut) else {
        return 0;
    };
    for (_, svc) in services.iter_mut() {
        let Some(svc) = svc.as_table_like_mut() else {
            continue;
        };
        if let Some(steps) = svc.get_mut("steps").and_then(Item::as_array_mut) {
            n += steps_into(steps, service, p, replaced);
        }
        if let Some(ops) = svc.get_mut("operations").and_then(Item::as_table_like_mut) {
            for (_, op) in ops.iter_mut() {
                if let Some(steps) = op
                    .as_table_like_mut()
                    .and_then(|o| o.get_mut("steps"))
                    .and_then(Item::as_array_mut)
                {
                    n += steps_into(steps, service, p, replaced);
                }
            }
        }
    }
    n
}

fn steps_into(steps: &mut Array, service: &str, p: &Policy, replaced: &mut Vec<String>) -> usize {
    let mut n = 0;
    for step in steps.iter_mut() {
        let Some(t) = step.as_inline_table_mut() else {
            continue;
        };
        n += call_into(t, service, p, replaced);
        if let Some(par) = t.get_mut("parallel").and_then(Value::as_array_mut) {
            for b in par.iter_mut() {
                if let Some(b) = b.as_inline_table_mut() {
                    n += call_into(b, service, p, replaced);
                }
            }
        }
        if let Some(arms) = t.get_mut("branch").and_then(Value::as_array_mut) {
            for arm in arms.iter_mut() {
                if let Some(s) = arm
                    .as_inline_table_mut()
                    .and_then(|a| a.get_mut("steps"))
                    .and_then(Value::as_array_mut)
                {
                    n += steps_into(s, service, p, replaced);
                }
            }
        }
    }
    n
}

fn call_into(t: &mut InlineTable, service: &str, p: &Policy, replaced: &mut Vec<String>) -> usize {
    let target = t.get("call").and_then(Value::as_str).unwrap_or("");
    if target != service && target.split('.').next() != Some(service) {
        return 0;
    }
    for key in ["deadline", "timeout", "retry", "bulkhead"] {
        let set = match key {
            "deadline" => p.deadline.is_some(),
            "timeout" => p.per_try_timeout.is_some(),
            "retry" => p.max_attempts.is_some(),
            _ => p.bulkhead.is_some(),
        };
        if let Some(old) = t.get(key).filter(|_| set) {
            replaced.push(format!(
                "{}: the call into `{service}` had {key} = {}: replaced",
                p.source,
                old.to_string().trim()
            ));
        }
    }
    if let Some(d) = &p.deadline {
        t.insert("deadline", d.as_str().into());
    }
    if let Some(d) = &p.per_try_timeout {
        t.insert("timeout", d.as_str().into());
    }
    if let Some(a) = p.max_attempts {
        let mut retry = InlineTable::new();
        retry.insert("max_attempts", a.into());
        if !p.retry_on.is_empty() {
            let kinds: Array = p.retry_on.iter().copied().collect();
            retry.insert("retry_on", Value::Array(kinds));
        }
        t.insert("retry", Value::InlineTable(retry));
    }
    if let Some(b) = p.bulkhead {
        let mut bulkhead = InlineTable::new();
        bulkhead.insert("max_concurrent_calls", b.into());
        t.insert("bulkhead", Value::InlineTable(bulkhead));
    }
    1
}
