//! What the model's probabilities say about the call graph, for the
//! summary: each edge's expected calls per request at its caller (the
//! `p` of an optional call, a branch's share), and whether the model
//! branches at all (then every service reports its measured visits per
//! entry request).
//!
//! Owns these model-side figures; must not count anything the engine
//! does (the measured visits are arrivals ÷ entry requests, in `finish`).

use crate::check::walk::Graph;
use crate::model::{Model, Step};

/// Below this, a call site is reached with a probability (not always).
const ALWAYS: f64 = 1.0 - 1e-12;

/// Per edge (model order): expected calls over it per request arriving at
/// its caller, when a branch or optional call decides them. `None` for an
/// edge every request calls a fixed number of times, and for one called
/// inside a cache's miss steps (its share is the measured miss ratio, not
/// a probability of the model). A caller with several operations weighs
/// each by its visits per entry request, entries by `requests` (measured
/// requests per source, model order).
pub fn call_probabilities(m: &Model, requests: &[u64]) -> Vec<Option<f64>> {
    let mut out = vec![None; m.edges.len()];
    if m.branches.is_empty() {
        return out;
    }
    let graph = Graph::new(m);
    // Visits of each operation, summed over sources by their requests
    // (each source once when none were measured).
    let mut weight = vec![0.0; m.ops.len()];
    let unmeasured = requests.iter().all(|&r| r == 0);
    for (i, src) in m.sources.iter().enumerate() {
        let w = if unmeasured {
            1.0
        } else {
            requests.get(i).copied().unwrap_or(0) as f64
        };
        let v = graph.visits(m, src.op);
        for (acc, x) in weight.iter_mut().zip(&v.ops) {
            *acc += w * x;
        }
    }
    // Per edge: Σ weight × reach over its call sites, whether any site is
    // probabilistic, whether any sits in a cache's miss steps.
    let mut expected = vec![0.0; m.edges.len()];
    let mut branched = vec![false; m.edges.len()];
    let mut cached = vec![false; m.edges.len()];
    for (op, o) in m.ops.iter().enumerate() {
        let first = o.first_step as usize;
        let end = first + o.step_count as usize;
        let mut miss_until = 0;
        for pc in first..end {
            let reach = graph.reach[pc];
            let mut site = |c: u32| {
                if let Some(e) = m.calls[c as usize].edge {
                    expected[e] += weight[op] * reach;
                    branched[e] |= reach < ALWAYS;
                    cached[e] |= pc <= miss_until;
                }
            };
            match m.steps[pc] {
                Step::Call(c) => site(c),
                Step::Parallel { first, count } => (first..first + count).for_each(site),
                Step::Cache(i) => miss_until = m.cache_steps[i as usize].fill as usize,
                _ => {}
            }
        }
    }
    // Requests at each caller service: its operations' weights.
    let mut at_service = vec![0.0; m.services.len()];
    for (op, o) in m.ops.iter().enumerate() {
        at_service[o.service] += weight[op];
    }
    for (e, edge) in m.edges.iter().enumerate() {
        let base = at_service.get(edge.from.index()).copied().unwrap_or(0.0);
        if branched[e] && !cached[e] && base > 0.0 {
            out[e] = Some(expected[e] / base);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(text: &str) -> Model {
        crate::scenario::load("t.toml", text, &[])
            .unwrap_or_else(|e| panic!("{e:?}"))
            .model
    }

    #[test]
    fn optional_calls_and_branch_shares_become_edge_probabilities() {
        let m = model(
            r#"
            name = "t"
            duration = "1s"
            [workload.w]
            target = "a"
            rate = 1
            [services.a]
            threads = 1
            steps = [
              { branch = [
                  { p = 0.8, steps = [{ call = "c" }] },
                  { p = 0.2, steps = [{ call = "b" }, { call = "c" }] },
              ] },
              { call = "d", p = 0.3 },
              { call = "e" },
            ]
            [services.b]
            threads = 1
            steps = [{ work = "1ms" }]
            [services.c]
            threads = 1
            steps = [{ work = "1ms" }]
            [services.d]
            threads = 1
            steps = [{ work = "1ms" }]
            [services.e]
            threads = 1
            steps = [{ work = "1ms" }]
            "#,
        );
        let p = call_probabilities(&m, &[10]);
        let of = |name: &str| {
            let i = m.edges.iter().position(|e| e.name == name).unwrap();
            p[i]
        };
        assert!((of("a->b").unwrap() - 0.2).abs() < 1e-12);
        // Reached on both arms: 0.8 + 0.2 calls per request, still decided
        // by a branch.
        assert!((of("a->c").unwrap() - 1.0).abs() < 1e-12);
        assert!((of("a->d").unwrap() - 0.3).abs() < 1e-12);
        assert_eq!(of("a->e"), None);
    }
}
