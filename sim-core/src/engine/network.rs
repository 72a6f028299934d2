//! The network between services: a latency per hop (the edge's
//! distribution, plus any latency fault in force), partitions that lose
//! what crosses them, and answers travelling back to callers.
//!
//! Owns hops and what crosses them; must not decide what a caller does with
//! an answer (that is `call`).

use super::World;
use super::event::Ev;
use super::ids::{AttemptId, JobId};
use crate::metrics::EdgeCount;
use crate::model::{EdgeId, FaultKind};
use crate::outcome::Outcome;
use crate::time::Nanos;

/// What a hop reads of its edge: its latency and the faults in force.
/// Dense (16 bytes an edge, aligned so one never straddles two lines),
/// so a hop reads no line of the model's edge.
#[derive(Clone, Copy, Debug)]
#[repr(C, align(16))]
pub(super) struct EdgeNet {
    /// Partitions: what crosses is lost.
    pub partitions: u32,
    /// Latency faults (their indices are `World::edge_faults`).
    pub latency_faults: u32,
    /// The edge's latency distribution (`Model::dists`).
    pub latency: crate::model::DistId,
}

/// Every edge's slot, no fault in force.
pub(super) fn edge_nets(m: &crate::model::Model) -> Vec<EdgeNet> {
    m.edges
        .iter()
        .map(|e| EdgeNet {
            partitions: 0,
            latency_faults: 0,
            latency: e.latency,
        })
        .collect()
}

impl World<'_> {
    /// One crossing of edge `e`: its latency draw plus active latency
    /// faults' draws.
    #[inline]
    pub(super) fn hop(&mut self, e: EdgeId) -> Nanos {
        let net = self.edge_net[e.index()];
        let mut t = self.m.dists[net.latency as usize].sample(&mut self.edge_rng[e]);
        if net.latency_faults != 0 {
            for k in 0..self.edge_faults[e].len() {
                let f = self.edge_faults[e][k] as usize;
                if let FaultKind::Latency(d) = self.m.faults[f].kind {
                    t = t.saturating_add(self.m.dists[d as usize].sample(&mut self.fault_rng[f]));
                }
            }
        }
        t
    }

    /// A request leaves along `edge` for its callee: it arrives a hop
    /// later, or is lost in a partition (the caller waits for its timeout).
    pub(super) fn send_job(&mut self, edge: EdgeId, job: JobId) {
        let e = edge.index();
        self.rec.count_on_edge(edge, EdgeCount::Calls);
        self.in_flight[e] += 1;
        if self.edge_net[e].partitions > 0 {
            self.rec.edges[e].lost += 1;
            self.jobs.free(job);
        } else {
            let hop = self.hop(edge);
            let generation = self.jobs[job].generation;
            self.schedule(self.at(hop), Ev::Arrive { job, generation });
            if self.prefetching {
                self.prefetch_arrival(job);
            }
        }
    }

    /// Sends an answer back to the caller's attempt along `edge`, a hop
    /// away (lost in a partition).
    pub(super) fn reply(
        &mut self,
        attempt: AttemptId,
        generation: u32,
        edge: EdgeId,
        outcome: Outcome,
    ) {
        self.reply_after(attempt, generation, edge, outcome, 0);
    }

    /// `reply`, `extra` later than the hop (crossing zones).
    #[inline]
    pub(super) fn reply_after(
        &mut self,
        attempt: AttemptId,
        generation: u32,
        edge: EdgeId,
        outcome: Outcome,
        extra: Nanos,
    ) {
        if self.edge_net[edge.index()].partitions > 0 {
            self.rec.edges[edge].lost += 1;
            return;
        }
        let hop = self.hop(edge);
        let t = self.at(hop.saturating_add(extra));
        if self.prefetching {
            self.prefetch_reply(attempt, edge);
        }
        self.schedule(
            t,
            Ev::Reply {
                attempt,
                generation,
                edge,
                outcome,
            },
        );
    }
}
