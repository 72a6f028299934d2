//! Retry amplification per path: the attempts of every call along a chain
//! from an entry, multiplied.

use super::types::RetryPath;
use super::walk::MAX_DEPTH;
use crate::model::{Model, OpId, ServiceId, Step};

/// Every chain of calls from an entry whose attempts multiply (retries ×
/// hedges), one per distinct path, worst first.
pub fn retry_paths(m: &Model) -> Vec<RetryPath> {
    let mut out = Vec::new();
    for src in &m.sources {
        let attempts = call_attempts(m, src.call);
        let entry_service = &m.services[m.ops[src.op as usize].service].name;
        let mut path = vec![src.name.clone(), entry_service.clone()];
        let mut counts = vec![attempts];
        walk_retries(m, src.op, &mut path, &mut counts, &mut out);
    }
    out.sort_by(|a, b| b.amplification.total_cmp(&a.amplification));
    out.truncate(64);
    out
}

/// At most attempts per call of spec `c`: retries × hedges.
fn call_attempts(m: &Model, c: u32) -> u32 {
    let spec = &m.calls[c as usize];
    m.policies.get(spec.policy as usize).map_or(1, |p| {
        p.retry.as_ref().map_or(1, |r| r.max_attempts.max(1))
            * p.hedge.as_ref().map_or(1, |h| h.max_attempts.max(1))
    })
}

fn walk_retries(
    m: &Model,
    op: OpId,
    path: &mut Vec<String>,
    counts: &mut Vec<u32>,
    out: &mut Vec<RetryPath>,
) {
    let o = &m.ops[op as usize];
    let first = o.first_step as usize;
    let mut leaf = true;
    if path.len() <= MAX_DEPTH && out.len() < 4096 {
        for step in &m.steps[first..first + o.step_count as usize] {
            let specs = match *step {
                Step::Call(c) => c..c + 1,
                Step::Parallel { first, count } => first..first + count,
                _ => continue,
            };
            for c in specs {
                leaf = false;
                let spec = &m.calls[c as usize];
                let callee: ServiceId = m.ops[spec.op as usize].service;
                path.push(m.services[callee].name.clone());
                counts.push(call_attempts(m, c));
                walk_retries(m, spec.op, path, counts, out);
                path.pop();
                counts.pop();
            }
        }
    }
    let amplification: f64 = counts.iter().map(|&a| f64::from(a)).product();
    if leaf && amplification > 1.0 {
        out.push(RetryPath {
            path: path.clone(),
            attempts: counts.clone(),
            amplification,
        });
    }
}
