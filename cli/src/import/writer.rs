//! The derived system as a commented scenario (TOML) that says which
//! values are measured and which are guesses, and `import-report.md`:
//! what was read, what is partial, what could not be derived and why.
//!
//! Must not derive anything: every figure comes from `derive::Derived`.

use std::fmt::Write;

use super::derive::{Callee, Derived, OpStats, Reservoir};
use super::links::LinkCounts;

/// Quantile points of an empirical distribution.
const POINTS: usize = 32;
/// A call made in at least this share of invocations is always made.
const ALWAYS: f64 = 0.995;
/// Two callees that overlap in at least this share of the invocations
/// that make both are called in parallel.
const PARALLEL: f64 = 0.5;

/// A string as a TOML basic string (JSON's escapes are TOML's).
fn quote(s: &str) -> String {
    serde_json::to_string(s).expect("a string serialises")
}

/// ns as a duration the scenario reads ("12.345us").
fn duration(ns: f64) -> String {
    if ns >= 1e6 {
        format!("{}ms", trim(ns / 1e6, 6))
    } else {
        format!("{}us", trim(ns / 1e3, 3))
    }
}

fn trim(v: f64, decimals: usize) -> String {
    let s = format!("{v:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        s
    }
}

/// A sample as a distribution: a constant, or an empirical one of
/// `POINTS` equal-count buckets of the sorted sample, each at its mean (so
/// the distribution keeps the sample's mean), with equal weights.
fn dist(r: &Reservoir) -> String {
    let mut v = r.values.clone();
    v.sort_unstable();
    if v.is_empty() {
        return "\"0ms\"".into();
    }
    if v[0] == v[v.len() - 1] {
        return quote(&duration(v[0] as f64));
    }
    let n = POINTS.min(v.len());
    let values: Vec<String> = (0..n)
        .map(|i| {
            let bucket = &v[i * v.len() / n..(i + 1) * v.len() / n];
            let mean = bucket.iter().map(|&x| x as f64).sum::<f64>() / bucket.len().max(1) as f64;
            quote(&duration(mean))
        })
        .collect();
    format!(
        "{{ dist = \"empirical\", values = [{}] }}",
        values.join(", ")
    )
}

fn target(service: &str, op: &str, ops_of_service: usize) -> String {
    if ops_of_service > 1 {
        format!("{service}.{op}")
    } else {
        service.to_owned()
    }
}

/// The scenario text.
pub fn scenario(d: &Derived, sources: &[String]) -> String {
    let window_s = d.window_ns as f64 / 1e9;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Imported by `cascade import traces` from {} spans in {} traces ({}).\n\
         # Measured from the traces: services, operations, calls and their\n\
         # probabilities, parallel fan-outs, work (server self-time), network\n\
         # latency (client - server), queues, entry rates.\n\
         # GUESSES (not in traces), marked `# guess`: threads, queues, the run's\n\
         # duration. Timeouts and retries are not in traces either: add them\n\
         # (or `cascade import mesh`). See import-report.md.\n",
        d.spans,
        d.traces,
        sources.join(", ")
    );
    let _ = writeln!(out, "name = \"imported\"");
    let _ = writeln!(out, "duration = \"120s\"   # guess");
    let _ = writeln!(out, "warmup = \"10s\"      # guess\n");
    if !d.network.is_empty() {
        let _ = writeln!(out, "[network]");
        for (edge, r) in &d.network {
            let _ = writeln!(
                out,
                "edges.{} = {}   # measured: {} client/server pairs",
                quote(edge),
                dist(r),
                r.seen
            );
        }
        let _ = writeln!(out);
    }
    for ((service, op), count) in &d.entries {
        let ops = d.services.get(service).map_or(1, |s| s.ops.len());
        let rate = if window_s > 0.0 {
            *count as f64 / window_s
        } else {
            *count as f64
        };
        let _ = writeln!(
            out,
            "[workload.{}]\ntarget = {}\nrate = {}   # measured: {count} requests over {}s\n",
            quote(&format!("{service}-{op}")),
            quote(&target(service, op, ops)),
            trim(rate, 3),
            trim(window_s, 3)
        );
    }
    for (name, svc) in &d.services {
        let busy = svc.busy_ns as f64 / d.window_ns.max(1) as f64;
        let threads = ((4.0 * busy).ceil() as u32).max(8);
        let _ = writeln!(out, "[services.{}]", quote(name));
        if svc.uninstrumented {
            let _ = writeln!(
                out,
                "# Uninstrumented: seen only on its callers' client spans; its work is\n\
                 # their whole duration (network included)."
            );
        }
        let _ = writeln!(
            out,
            "threads = {threads}   # guess: 4 × the {} requests it held on average\n\
             queue = {threads}     # guess",
            trim(busy, 2)
        );
        if svc.ops.len() == 1 {
            let (_, st) = svc.ops.first().expect("one operation");
            let _ = write!(out, "steps = ");
            steps(&mut out, d, st);
        } else {
            for (op, st) in &svc.ops {
                let _ = write!(out, "operations.{}.steps = ", quote(op));
                steps(&mut out, d, st);
            }
        }
        let _ = writeln!(out);
    }
    for (q, (service, op)) in &d.queues {
        let ops = d.services.get(service).map_or(1, |s| s.ops.len());
        let _ = writeln!(
            out,
            "[queues.{}]\nconsumer = {}\n",
            quote(q),
            quote(&target(service, op, ops))
        );
    }
    out
}

/// An operation's steps: its work, then its calls in their usual order,
/// callees that overlap grouped in a `parallel`.
fn steps(out: &mut String, d: &Derived, st: &OpStats) {
    let n = st.invocations.max(1) as f64;
    let mut lines = vec![format!(
        "{{ work = {} }},   # measured: self-time of {} spans",
        dist(&st.self_time),
        st.invocations
    )];
    // Callees by when they are first called.
    let mut order: Vec<usize> = (0..st.calls.len()).collect();
    order.sort_by(|&a, &b| {
        let m = |i: usize| {
            let c = &st.calls[i];
            c.offset_sum / c.offsets.max(1) as f64
        };
        m(a).total_cmp(&m(b))
    });
    let always_once = |i: usize| {
        let c = &st.calls[i];
        c.at_least.len() == 1 && c.at_least[0] as f64 / n >= ALWAYS
    };
    let mut k = 0;
    while k < order.len() {
        let i = order[k];
        let (callee, c) = st.calls.get_index(i).expect("index");
        // A parallel group: following callees that overlap this one.
        let mut group = vec![i];
        if always_once(i) && callee.queue.is_none() {
            while k + group.len() < order.len() {
                let j = order[k + group.len()];
                let overlapping = group.iter().all(|&g| {
                    st.overlaps
                        .get(&(g.min(j), g.max(j)))
                        .is_some_and(|&(both, over)| over as f64 >= PARALLEL * both as f64)
                });
                if overlapping
                    && always_once(j)
                    && st
                        .calls
                        .get_index(j)
                        .is_some_and(|(c, _)| c.queue.is_none())
                {
                    group.push(j);
                } else {
                    break;
                }
            }
        }
        if group.len() > 1 {
            let calls: Vec<String> = group
                .iter()
                .map(|&g| {
                    format!(
                        "{{ call = {} }}",
                        quote(&call_target(d, st.calls.get_index(g).expect("index").0))
                    )
                })
                .collect();
            lines.push(format!(
                "{{ parallel = [{}] }},   # measured: they overlap",
                calls.join(", ")
            ));
            k += group.len();
            continue;
        }
        for (j, at_least) in c.at_least.iter().enumerate() {
            let p = *at_least as f64 / n;
            let what = match &callee.queue {
                Some(q) => format!("publish = {}", quote(q)),
                None => format!("call = {}", quote(&call_target(d, callee))),
            };
            let nth = if j == 0 {
                String::new()
            } else {
                format!(" (call {} of the same)", j + 1)
            };
            lines.push(if p >= ALWAYS {
                format!("{{ {what} }},   # measured: always{nth}")
            } else if callee.queue.is_none() {
                format!("{{ {what}, p = {} }},   # measured: in {} of {} invocations{nth}", trim(p, 4), at_least, st.invocations)
            } else {
                format!(
                    "{{ branch = [{{ p = {0}, steps = [{{ {what} }}] }}, {{ p = {1}, steps = [{{ work = \"0ms\" }}] }}] }},   # measured: in {2} of {3} invocations{nth}",
                    trim(p, 4),
                    trim(1.0 - trim(p, 4).parse::<f64>().unwrap_or(p), 4),
                    at_least,
                    st.invocations
                )
            });
        }
        k += 1;
    }
    out.push_str("[\n");
    for l in lines {
        out.push_str("  ");
        out.push_str(&l);
        out.push('\n');
    }
    out.push_str("]\n");
}

fn call_target(d: &Derived, c: &Callee) -> String {
    let ops = d.services.get(&c.service).map_or(1, |s| s.ops.len());
    target(&c.service, &c.op, ops)
}

/// `import-report.md`.
pub fn report(d: &Derived, sources: &[String], dropped: &[String]) -> String {
    let mut out = String::from("# Trace import report\n\n");
    let _ = writeln!(out, "Read: {}.\n", sources.join(", "));
    let complete = d.traces - d.partial_traces;
    let _ = writeln!(
        out,
        "- spans read: {}\n- spans refused: {}\n- traces: {} ({} complete, {} partial: a span's parent is missing or there is no root)\n- spans whose parent is not in the input: {}\n- observed window: {:.3} s\n",
        d.spans,
        dropped.len(),
        d.traces,
        complete,
        d.partial_traces,
        d.orphans,
        d.window_ns as f64 / 1e9
    );
    if d.links != LinkCounts::default() {
        let _ = writeln!(
            out,
            "- span links: {} followed (a trace that starts with a linked span joins the linked span's trace, under it: a producer → consumer hand-off across traces becomes a queue), {} dangling (the linked span is not in the input: its trace stays an entry of its own), {} not followed (from a span with a parent in its trace, or a further link to a span that is no producer or hands to another consumer already); a batch consumer linked to several producers is one message from each, its work and calls shared among them\n",
            d.links.followed, d.links.dangling, d.links.not_followed
        );
    }
    out.push_str("## Services and operations\n\n| service | operation | invocations | errors | mean self-time ms |\n|---|---|---:|---:|---:|\n");
    for (name, svc) in &d.services {
        for (op, st) in &svc.ops {
            let _ = writeln!(
                out,
                "| {name}{} | {op} | {} | {} ({:.2} %) | {:.3} |",
                if svc.uninstrumented {
                    " (uninstrumented)"
                } else {
                    ""
                },
                st.invocations,
                st.errors,
                100.0 * st.errors as f64 / st.invocations.max(1) as f64,
                st.self_time.mean() / 1e6
            );
        }
    }
    out.push_str("\n## Network\n\n");
    if d.network.is_empty() && d.skewed.is_empty() {
        out.push_str("No client/server span pairs: no network latency measured.\n");
    }
    for (edge, r) in &d.network {
        let _ = writeln!(
            out,
            "- {edge}: {} pairs, mean one-way {:.3} ms",
            r.seen,
            r.mean() / 1e6
        );
    }
    for (edge, n) in &d.skewed {
        let _ = writeln!(
            out,
            "- {edge}: {n} pairs where the server span is longer than the client span (clock skew between the hosts): reported, not used"
        );
    }
    out.push_str("\n## Not derived\n\n");
    let mut not = vec![
        "threads, accept queues and replicas: traces show work, not capacity (guessed: 4 × the mean concurrency)".to_owned(),
        "timeouts, retries, circuit breakers: not in traces (see `cascade import mesh`)".into(),
        "errors: ratios are listed above; a scenario has errors only as faults, so none are written".into(),
        "topics: a destination consumed by several services becomes one queue, its first consumer".into(),
    ];
    not.extend(d.notes.iter().cloned());
    for n in not {
        let _ = writeln!(out, "- {n}");
    }
    if !dropped.is_empty() {
        out.push_str("\n## Refused spans\n\n");
        for line in dropped.iter().take(100) {
            let _ = writeln!(out, "- {line}");
        }
        if dropped.len() > 100 {
            let _ = writeln!(out, "- … and {} more", dropped.len() - 100);
        }
    }
    out
}
