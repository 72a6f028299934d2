//! Observation: the gauges the recorder samples at each window's end
//! (breaker states, attempts in flight per edge) and the totals gathered
//! when the run ends.
//!
//! Observing never changes a run: sampling a breaker only applies the
//! transitions already due, at their own times. Must not schedule events.

use super::World;
use super::records::Caller;
use crate::metrics::Finished;
use crate::options::RunOptions;
use crate::output::RunResult;
use crate::patterns::{BreakerState, BreakerStats};

impl World<'_> {
    /// Per edge: the share of caller replicas whose breaker is open (half
    /// open counts half), and attempts in flight, written into `out` (the
    /// recorder's, reused: a wide model closes thousands of windows).
    /// Sampled at window ends.
    pub(super) fn edge_gauges(&mut self, out: &mut Vec<(f64, f64)>) {
        out.clear();
        out.extend(self.in_flight.iter().map(|&n| (0.0, f64::from(n))));
        if self.breaker_specs.is_empty() {
            return;
        }
        let mut breakers = vec![0u32; self.m.edges.len()];
        for i in 0..self.breaker_specs.len() {
            let (spec, edge) = self.breaker_specs[i];
            let slots = self.pattern_slots(spec as usize);
            for p in &mut self.patterns[slots] {
                if let Some(b) = &mut p.breaker {
                    b.poll(self.now);
                    breakers[edge] += 1;
                    out[edge].0 += match b.state() {
                        BreakerState::Open => 1.0,
                        BreakerState::HalfOpen => 0.5,
                        BreakerState::Closed => 0.0,
                    };
                }
            }
        }
        for (o, &n) in out.iter_mut().zip(&breakers) {
            if n > 0 {
                o.0 /= f64::from(n);
            }
        }
    }

    /// The run's results: client requests still in flight, breaker time
    /// totals, and the recorder's summary and time series.
    pub(super) fn finish(self, opts: &RunOptions) -> RunResult {
        // The world is dropped when `finish_packed` returns: the series'
        // plain lists take the room its state held.
        self.finish_packed(opts).unpack()
    }

    /// As `finish`, the time series still packed.
    fn finish_packed(mut self, opts: &RunOptions) -> Finished {
        let end = self.now;
        debug_assert!(
            self.msg.no_settled_message_left(),
            "a settled message with no processing left was never freed"
        );
        let mut in_flight = vec![0u64; self.m.sources.len()];
        for c in self.calls.iter() {
            if let Caller::Source(i) = c.caller
                && c.pending
                && c.t_sent >= self.m.warmup
            {
                in_flight[i as usize] += 1;
            }
        }
        self.direct_in_flight(&mut in_flight);
        if self.accepted.on {
            self.tickets_in_flight(&mut in_flight);
        }
        // Breaker time open / half open, summed over caller replicas.
        let mut breakers = vec![BreakerStats::default(); self.m.calls.len()];
        for (spec, stats) in breakers.iter_mut().enumerate() {
            let slots = self.pattern_slots(spec);
            for p in &mut self.patterns[slots] {
                if let Some(b) = &mut p.breaker {
                    let s = b.stats(end);
                    stats.state_changes += s.state_changes;
                    stats.times_opened += s.times_opened;
                    stats.time_open += s.time_open;
                    stats.time_half_open += s.time_half_open;
                }
            }
        }
        let events = self.events;
        let outliers = self.outlier_summaries();
        let zones = self.zone_summaries();
        let group_scaling = self.group_scaling_summaries();
        self.rec.breaker_totals(&breakers);
        if !self.m.logs.is_empty() {
            self.rec.log_backlog = self.log_totals();
        }
        self.sync_loop_figures();
        let mut finished = self
            .rec
            .finish(self.m, end, self.duration, events, &in_flight, opts);
        let result = &mut finished.result;
        result.summary.partial = self.stopped.take();
        for (s, o) in outliers {
            if let Some(svc) = result.summary.services.get_index_mut(s) {
                svc.1.outlier = Some(o);
            }
        }
        for (s, z) in zones {
            if let Some(svc) = result.summary.services.get_index_mut(s) {
                svc.1.zones = Some(z);
            }
        }
        for (g, x) in group_scaling {
            let grp = &self.m.groups[g];
            if let Some(log) = result
                .summary
                .logs
                .get_mut(&self.m.logs[grp.log as usize].name)
                && let Some(group) = log.groups.get_mut(&grp.name)
            {
                group.scaling = Some(x);
            }
        }
        finished
    }
}
