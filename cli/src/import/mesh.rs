//! `cascade import mesh FILES… --into scenario.toml`: Istio
//! `VirtualService` and `DestinationRule` resources, and Envoy clusters'
//! retry budgets, applied to the calls into the service each names (its
//! host's first label), in place, with the scenario's comments and layout
//! kept (toml_edit).
//!
//! Understood: a VirtualService's `timeout` (→ the call's `deadline`) and
//! `retries` (`attempts` → `retry.max_attempts` = attempts + 1,
//! `perTryTimeout` → the call's `timeout`, `retryOn` → `retry_on`); a
//! DestinationRule's `connectionPool` (`tcp.maxConnections` and
//! `http.http2MaxRequests` → a `bulkhead`) and `retryBudget`; an Envoy
//! bootstrap's, CDS response's or bare cluster's
//! `circuit_breakers.thresholds[].retry_budget` (`mesh_budget.rs` reads
//! them; written as `retry.in_flight_budget`, the same limit, applied
//! after every other policy).
//! `outlierDetection` is listed as not modelled yet. Every other key is
//! listed, never silently dropped; so is a host no call targets. What was
//! applied and what was not also goes to `import-report.md` beside the
//! scenario (its `## import mesh` section, replaced on each import), and a
//! comment at the scenario's top says where each retry budget went.
//! The result is loaded as a scenario before it is written: a change that
//! would make it invalid writes nothing.

use std::path::{Path, PathBuf};

use toml_edit::{Array, DocumentMut, InlineTable, Item, Value};
use yaml_rust2::{Yaml, YamlLoader};

use super::mesh_budget::{self, EnvoyBudget};
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
    /// An Envoy retry budget, set on the calls' `retry` (applied after
    /// every other policy, so a VirtualService's `retries` do not replace
    /// it).
    budget: Option<EnvoyBudget>,
}

/// What applying the policies did, beyond the calls counted.
#[derive(Default)]
struct Log {
    replaced: Vec<String>,
    /// One line per retry budget mapped: the policy, the service, the
    /// mapping and how it differs from Envoy's.
    budgets: Vec<String>,
    /// Calls a budget found with no `retry` to limit.
    unretried: usize,
    /// Parts of a retry budget cascade does not model.
    not_modelled: Vec<String>,
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
            resource(doc, &at, &mut policies, &mut ignored)?;
        }
    }
    // Budgets last: a retry they limit must be written first.
    policies.sort_by_key(|(_, p)| p.budget.is_some());
    let path = &a.into;
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::Io(format!("cannot read {}: {e}", path.display())))?;
    let mut doc: DocumentMut = text
        .parse()
        .map_err(|e| Failure::Input(format!("error: {}: not TOML: {e}", path.display())))?;
    let mut applied = Vec::new();
    let mut log = Log::default();
    for (service, p) in &policies {
        log.unretried = 0;
        let n = apply(&mut doc, service, p, &mut log);
        if n == 0 {
            ignored.push(format!(
                "{}: no call into `{service}` in {}",
                p.source,
                path.display()
            ));
            continue;
        }
        if p.budget.is_some() && log.unretried > 0 {
            ignored.push(format!(
                "{}: {} call(s) into `{service}` have no retry for the retry budget to limit",
                p.source, log.unretried
            ));
        }
        if n > log.unretried {
            let what = if p.budget.is_some() {
                "retry budget on "
            } else {
                ""
            };
            applied.push(format!(
                "{}: {what}{} call(s) into `{service}`",
                p.source,
                n - log.unretried
            ));
        }
    }
    ignored.append(&mut log.not_modelled);
    let out = with_budget_comment(&doc.to_string(), &log.budgets);
    let shown = path.display().to_string();
    sim_core::load(&shown, &out, &[]).map_err(|e| Failure::Input(crate::errors::render(&e)))?;
    write(path, &out)?;
    let mut msg = String::new();
    for a in &applied {
        msg.push_str(&format!("applied: {a}\n"));
    }
    for b in &log.budgets {
        msg.push_str(&format!("retry budget: {b}\n"));
    }
    for r in &log.replaced {
        msg.push_str(&format!("replaced: {r}\n"));
    }
    for i in &ignored {
        msg.push_str(&format!("not applied: {i}\n"));
    }
    let files: Vec<String> = a.files.iter().map(|f| f.display().to_string()).collect();
    write_report(path, &files, &msg)?;
    term::out(&msg)
}

/// The first line of the scenario's comment block on retry budgets; an
/// earlier block (a previous import) is replaced.
const BUDGET_COMMENT: &str = "# import mesh: Envoy retry budgets";

/// The scenario with a comment at its top saying where each Envoy retry
/// budget was written.
fn with_budget_comment(text: &str, budgets: &[String]) -> String {
    // A `#:schema` directive stays the first line.
    let (schema, mut rest) = match text.split_once('\n') {
        Some((first, after)) if first.starts_with("#:schema") => (&text[..first.len() + 1], after),
        _ => ("", text),
    };
    if rest.starts_with(BUDGET_COMMENT) {
        // Drop the previous block: its lines up to the first blank one.
        rest = rest.split_once("\n\n").map_or("", |(_, after)| after);
    }
    if budgets.is_empty() {
        return format!("{schema}{rest}");
    }
    let mut out = format!(
        "{schema}{BUDGET_COMMENT} written as `retry.in_flight_budget` (Envoy's cap on retries in flight):\n"
    );
    for b in budgets {
        out.push_str(&format!("# - {b}\n"));
    }
    out.push('\n');
    out.push_str(rest);
    out
}

/// The heading of `import mesh`'s section of `import-report.md`.
const REPORT_SECTION: &str = "## import mesh";

/// `import-report.md` beside the scenario gets (or has replaced) a
/// section saying what this import applied and what it did not.
fn write_report(scenario: &Path, files: &[String], msg: &str) -> Result<(), Failure> {
    let path = scenario
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .join("import-report.md");
    let old = std::fs::read_to_string(&path).unwrap_or_default();
    let kept = match old.find(REPORT_SECTION) {
        Some(i) => &old[..i],
        None => old.as_str(),
    };
    let mut text = kept.to_owned();
    if !text.is_empty() && !text.ends_with("\n\n") {
        text.push_str(if text.ends_with('\n') { "\n" } else { "\n\n" });
    }
    text.push_str(&format!(
        "{REPORT_SECTION} ({})\n\nInto `{}`.\n\n",
        files.join(", "),
        scenario.display()
    ));
    for line in msg.lines() {
        text.push_str(&format!("- {line}\n"));
    }
    if msg.is_empty() {
        text.push_str("- nothing to apply\n");
    }
    write(&path, &text)
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

fn resource(
    doc: &Yaml,
    at: &str,
    policies: &mut Vec<(String, Policy)>,
    ignored: &mut Vec<String>,
) -> Result<(), Failure> {
    let kind = doc["kind"].as_str().unwrap_or("");
    let name = doc["metadata"]["name"].as_str().unwrap_or("?");
    let file_at = at;
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
                return Ok(());
            };
            let tp = &spec["trafficPolicy"];
            others(
                tp,
                &["connectionPool", "outlierDetection", "retryBudget"],
                &at,
                ignored,
            );
            if !tp["retryBudget"].is_badvalue() {
                let budget = mesh_budget::istio(&tp["retryBudget"], &at, ignored)?;
                policies.push((
                    service_of(host),
                    Policy {
                        source: at.clone(),
                        budget: Some(budget),
                        ..Policy::default()
                    },
                ));
            }
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
        "" if envoy_config(doc) => envoy_clusters(doc, file_at, policies, ignored)?,
        other => ignored.push(format!("{at}: kind `{other}` is not understood")),
    }
    Ok(())
}

/// A document of Envoy's own configuration: a bootstrap
/// (`static_resources`), a CDS response (`resources`) or one cluster.
fn envoy_config(doc: &Yaml) -> bool {
    !doc["static_resources"].is_badvalue()
        || !doc["resources"].is_badvalue()
        || !doc["circuit_breakers"].is_badvalue()
}

/// Envoy clusters' retry budgets, for the service each cluster's name
/// stands for; everything else in the document is listed.
fn envoy_clusters(
    doc: &Yaml,
    at: &str,
    policies: &mut Vec<(String, Policy)>,
    ignored: &mut Vec<String>,
) -> Result<(), Failure> {
    let clusters: Vec<&Yaml> = if !doc["static_resources"].is_badvalue() {
        others(doc, &["static_resources"], at, ignored);
        others(&doc["static_resources"], &["clusters"], at, ignored);
        doc["static_resources"]["clusters"]
            .as_vec()
            .map(|v| v.iter().collect())
            .unwrap_or_default()
    } else if !doc["resources"].is_badvalue() {
        others(doc, &["resources", "version_info", "type_url"], at, ignored);
        doc["resources"]
            .as_vec()
            .map(|v| v.iter().collect())
            .unwrap_or_default()
    } else {
        vec![doc]
    };
    for c in clusters {
        let name = c["name"].as_str().unwrap_or("?");
        let cat = format!("{at}: Envoy cluster {name}");
        others(c, &["name", "@type", "circuit_breakers"], &cat, ignored);
        if c["circuit_breakers"].is_badvalue() {
            continue;
        }
        if let Some(budget) = mesh_budget::envoy(&c["circuit_breakers"], &cat, ignored)? {
            if c["name"].as_str().is_none() {
                ignored.push(format!(
                    "{cat}: a cluster with no name: its budget matches no service"
                ));
                continue;
            }
            policies.push((
                mesh_budget::cluster_service(name),
                Policy {
                    source: cat.clone(),
                    budget: Some(budget),
                    ..Policy::default()
                },
            ));
        }
    }
    Ok(())
}

/// Envoy's retry conditions as cascade's failure kinds.
fn retry_on(cond: &str) -> Option<&'static [&'static str]> {
    Some(match cond {
        "5xx" | "gateway-error" => &["error", "timeout"],
        "connect-failure" | "unavailable" => &["refused"],
        // A reset is a refused connection or one cut off mid-request (an
        // OOM-killed replica's requests end `reset`).
        "reset" => &["refused", "reset"],
        "refused-stream" | "resource-exhausted" => &["rejected"],
        "deadline-exceeded" => &["timeout"],
        _ => return None,
    })
}

/// Sets `p` on every call step into `service`; the number changed.
fn apply(doc: &mut DocumentMut, service: &str, p: &Policy, log: &mut Log) -> usize {
    let mut n = 0;
    let Some(services) = doc.get_mut("services").and_then(Item::as_table_like_mut) else {
        return 0;
    };
    for (_, svc) in services.iter_mut() {
        let Some(svc) = svc.as_table_like_mut() else {
            continue;
        };
        if let Some(steps) = svc.get_mut("steps").and_then(Item::as_array_mut) {
            n += steps_into(steps, service, p, log);
        }
        if let Some(ops) = svc.get_mut("operations").and_then(Item::as_table_like_mut) {
            for (_, op) in ops.iter_mut() {
                if let Some(steps) = op
                    .as_table_like_mut()
                    .and_then(|o| o.get_mut("steps"))
                    .and_then(Item::as_array_mut)
                {
                    n += steps_into(steps, service, p, log);
                }
            }
        }
    }
    n
}

fn steps_into(steps: &mut Array, service: &str, p: &Policy, log: &mut Log) -> usize {
    let mut n = 0;
    for step in steps.iter_mut() {
        let Some(t) = step.as_inline_table_mut() else {
            continue;
        };
        n += call_into(t, service, p, log);
        if let Some(par) = t.get_mut("parallel").and_then(Value::as_array_mut) {
            for b in par.iter_mut() {
                if let Some(b) = b.as_inline_table_mut() {
                    n += call_into(b, service, p, log);
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
                    n += steps_into(s, service, p, log);
                }
            }
        }
    }
    n
}

fn call_into(t: &mut InlineTable, service: &str, p: &Policy, log: &mut Log) -> usize {
    let target = t.get("call").and_then(Value::as_str).unwrap_or("");
    if target != service && target.split('.').next() != Some(service) {
        return 0;
    }
    if let Some(b) = &p.budget {
        budget_into(t, service, p, b, log);
        return 1;
    }
    let replaced = &mut log.replaced;
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

/// Sets an Envoy retry budget on a call's `retry` as
/// `retry.in_flight_budget` (the same limit); a call with no retry is
/// counted, not given one. A Finagle-style `retry.budget` already there
/// stays: both apply.
fn budget_into(t: &mut InlineTable, service: &str, p: &Policy, b: &EnvoyBudget, log: &mut Log) {
    let Some(retry) = t.get_mut("retry").and_then(Value::as_inline_table_mut) else {
        log.unretried += 1;
        return;
    };
    if let Some(old) = retry.get("in_flight_budget") {
        log.replaced.push(format!(
            "{}: the call into `{service}` had retry.in_flight_budget = {}: replaced",
            p.source,
            old.to_string().trim()
        ));
    }
    let mut budget = InlineTable::new();
    // A whole percentage is written as one (`20`, not `20.0`).
    if b.percent.fract() == 0.0 {
        budget.insert("percent", (b.percent as i64).into());
    } else {
        budget.insert("percent", b.percent.into());
    }
    budget.insert("min_in_flight", i64::from(b.min_concurrency).into());
    retry.insert("in_flight_budget", Value::InlineTable(budget));
    let line = format!(
        "{} → calls into `{service}`: {}",
        p.source,
        mesh_budget::explain(b)
    );
    if !log.budgets.contains(&line) {
        log.budgets.push(line);
    }
    if let Some(note) = mesh_budget::not_modelled(b) {
        let note = format!("{}: {note}", p.source);
        if !log.not_modelled.contains(&note) {
            log.not_modelled.push(note);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::retry_on;

    #[test]
    fn envoy_reset_retries_refused_connections_and_cut_off_requests() {
        assert_eq!(retry_on("reset"), Some(&["refused", "reset"][..]));
        assert_eq!(retry_on("connect-failure"), Some(&["refused"][..]));
        assert_eq!(retry_on("retriable-4xx"), None);
    }
}
