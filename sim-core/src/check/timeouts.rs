//! Caller timeouts shorter than the mean or p99 of the attempt they wrap.

use crate::rng::Stream;

use super::walk::Sampler;
use super::{Analysis, TREE_DRAWS};
use crate::check::types::TimeoutRisk;
use crate::rng::stream;

impl Analysis<'_> {
    /// Calls whose timeout is shorter than the mean or p99 of the attempt.
    pub(super) fn timeouts(&mut self) -> Vec<TimeoutRisk> {
        let m = self.m;
        let mut out = Vec::new();
        for (c, spec) in m.calls.iter().enumerate() {
            // A split timeout's connect part does not bound the work.
            let Some(limit) = spec.timeout.filter(|_| !spec.split_timeout) else {
                continue;
            };
            let mean = {
                let mut t = self.response(spec.op);
                if let Some(edge) = spec.edge {
                    t += 2.0 * self.means[m.edges[edge].latency as usize];
                }
                t
            };
            let p99 = self.p99(c as u32);
            let limit = limit as f64;
            let shorter_than = if limit < mean {
                "mean"
            } else if limit < p99 {
                "p99"
            } else {
                continue;
            };
            let callee = &m.services[m.ops[spec.op as usize].service].name;
            let caller = match spec.edge {
                None => "client".to_owned(),
                Some(edge) => m.services[m.edges[edge].from].name.clone(),
            };
            out.push(TimeoutRisk {
                site: m.call_sites[c].clone(),
                caller,
                callee: callee.clone(),
                timeout_ms: limit / 1e6,
                mean_ms: mean / 1e6,
                p99_ms: p99 / 1e6,
                shorter_than: shorter_than.into(),
            });
        }
        out
    }

    /// The p99 of an attempt of call `c` with no queueing and no timeout
    /// of its own (the callee's calls keep theirs), ns.
    fn p99(&self, c: u32) -> f64 {
        let m = self.m;
        let spec = &m.calls[c as usize];
        let sampler = Sampler {
            m,
            stretch: &self.stretch,
        };
        let mut rng: Stream = stream(m.seed, &format!("check/p99/{}", m.call_sites[c as usize]));
        let mut draws: Vec<f64> = (0..TREE_DRAWS)
            .map(|_| {
                let mut t = sampler.op(spec.op, &mut rng, 1);
                if let Some(edge) = spec.edge {
                    let lat = &m.dists[m.edges[edge].latency as usize];
                    t += (lat.sample(&mut rng) + lat.sample(&mut rng)) as f64;
                }
                t
            })
            .collect();
        draws.sort_by(f64::total_cmp);
        draws[(draws.len() * 99 / 100).min(draws.len() - 1)]
    }
}
