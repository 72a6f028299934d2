//! One service's figures from the solved rates and holds: utilisation,
//! Erlang-C wait, the workload timeline's peak and saturation time, and
//! memory at the expected concurrency.

use super::{Analysis, MIB, bounded, bounded_queue, erlang_c, servers};
use crate::check::types::{MemoryLoad, ServiceLoad};
use crate::model::Server;
use crate::time::secs;

impl Analysis<'_> {
    pub(super) fn service_load(&mut self, s: usize) -> ServiceLoad {
        let m = self.m;
        let svc = &m.services[s];
        let rate = self.service_rate(s);
        let (busy, hold) = self.offered(s);
        let c = servers(svc);
        let capacity = f64::from(c) * f64::from(svc.max_replicas());
        let rho = busy / capacity;
        let work_ns: f64 = svc
            .ops
            .iter()
            .map(|&op| self.op_rate[op as usize] * self.loop_work(op))
            .sum::<f64>()
            / rate.max(f64::MIN_POSITIVE);
        let cpu_rho = svc
            .cores
            .map(|k| self.cpu_offered(s) / (f64::from(k) * f64::from(svc.max_replicas())));
        let a = busy / f64::from(svc.max_replicas());
        let (p_wait, wait_ms, p_reject) = match bounded_queue(svc) {
            Some(q) if rate > 0.0 => {
                let b = bounded(c, q, a, hold);
                (Some(b.p_wait), Some(self.wait[s] / 1e6), Some(b.p_block))
            }
            None if rho < 1.0 && rate > 0.0 => {
                (Some(erlang_c(c, a)), Some(self.wait[s] / 1e6), None)
            }
            _ => (None, None, None),
        };
        // Over time: ρ(t) = Σ sources rate(t) × (erlangs per unit rate).
        let holds: Vec<f64> = svc.ops.iter().map(|&op| self.op_hold(op)).collect();
        let per_rate: Vec<(f64, f64, bool)> = (0..m.sources.len())
            .map(|i| {
                let v = &self.visits[i];
                let mut thread = 0.0;
                let mut cpu = 0.0;
                for (&op, hold) in svc.ops.iter().zip(&holds) {
                    let x = v.ops[op as usize];
                    if x > 0.0 {
                        thread += x * match svc.server {
                            Server::ThreadPool => *hold,
                            Server::EventLoop { .. } => self.loop_work(op),
                        };
                        cpu += x * self.cpu_work(op);
                    }
                }
                if svc.server == Server::ThreadPool {
                    for (q, queue) in m.queues.iter().enumerate() {
                        if queue.service.index() == s {
                            let b = &m.brokers[queue.broker as usize];
                            thread += v.queues[q] * self.means[b.delivery as usize];
                        }
                    }
                }
                let cores = svc.cores.map_or(f64::INFINITY, |k| {
                    f64::from(k) * f64::from(svc.max_replicas())
                });
                (
                    thread / 1e9 / capacity,
                    cpu / 1e9 / cores,
                    m.sources[i].closed.is_none(),
                )
            })
            .collect();
        let rho_at = |j: usize, open_only: bool| -> f64 {
            per_rate
                .iter()
                .zip(&self.rate_at)
                .filter(|((_, _, open), _)| *open || !open_only)
                .map(|((t, c, _), r)| r[j] * t.max(*c))
                .sum()
        };
        let mut peak = (0.0, 0);
        let mut saturates = None;
        let mut overloaded = false;
        for j in 0..self.timeline.len() {
            let r = rho_at(j, false);
            if r > peak.0 {
                peak = (r, j);
            }
            if r >= 1.0 && saturates.is_none() {
                saturates = Some(self.timeline[j]);
            }
            if rho_at(j, true) >= 1.0 {
                overloaded = true;
            }
        }
        // Holding times grow with waits that the timeline does not redo:
        // a mean ρ past 1 is a saturation too.
        if rho >= 1.0 && saturates.is_none() {
            saturates = Some(m.warmup);
        }
        let open_mean: f64 = per_rate
            .iter()
            .zip(&self.rates)
            .filter(|((_, _, open), _)| *open)
            .map(|((t, _, _), r)| r * t)
            .sum();
        if open_mean >= 1.0 || cpu_rho.is_some_and(|c| c >= 1.0 && open_mean > 0.0) {
            overloaded = true;
        }
        let memory = svc.memory.map(|mem| {
            let per_replica = |x: f64| x / f64::from(svc.max_replicas());
            let busy_requests = per_replica(match svc.server {
                Server::ThreadPool => busy,
                Server::EventLoop { .. } => {
                    let conn: f64 = svc
                        .ops
                        .iter()
                        .map(|&op| {
                            self.op_rate[op as usize] * self.hold[op as usize].unwrap_or(0.0)
                        })
                        .sum();
                    conn / 1e9
                }
            });
            let queued = per_replica(rate * self.wait[s] / 1e9);
            let bytes = mem.base as f64
                + mem.per_request as f64 * busy_requests
                + mem.per_queued as f64 * queued;
            MemoryLoad {
                limit_mib: mem.limit as f64 / MIB,
                expected_mib: bytes / MIB,
                busy: busy_requests,
                queued,
                over_limit: bytes >= mem.limit as f64,
            }
        });
        ServiceLoad {
            name: svc.name.clone(),
            server: match svc.server {
                Server::ThreadPool => "threads".into(),
                Server::EventLoop { .. } => "event_loop".into(),
            },
            replicas: svc.max_replicas(),
            servers: c,
            cores: svc.cores,
            arrival_rate: rate,
            work_ms: work_ns / 1e6,
            hold_ms: hold / 1e6,
            offered: busy,
            rho,
            cpu_rho,
            p_wait,
            wait_ms,
            p_reject,
            peak_rho: peak.0.max(rho),
            peak_at_s: secs(self.timeline.get(peak.1).copied().unwrap_or(0)),
            saturates_at_s: saturates.map(secs),
            overloaded,
            memory,
        }
    }
}
