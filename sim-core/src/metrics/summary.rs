//! The end of a run: the recorder's figures drained, summed and turned
//! into the `Summary` and the time series (`Recorder::finish`), and an
//! edge's summary row.
//!
//! Owns the assembly only: what each figure counts, and how it is kept
//! during the run, is `metrics.rs`'s and its other files'. Reads the
//! recorder once, at the end; must not be called mid-run.

use super::*;

impl Recorder {
    pub fn finish(
        mut self,
        m: &Model,
        end: Nanos,
        duration: Nanos,
        events: u64,
        in_flight: &[u64],
        opts: &RunOptions,
    ) -> Finished {
        // Close the last, possibly partial, window.
        self.advance_windows(end);
        if end > self.window_start {
            self.close_window(end);
        }
        let measured = duration.saturating_sub(m.warmup);
        let measured_s = secs(measured);
        let service_span = end.saturating_sub(m.warmup).max(1);
        // Every histogram whole before any is read.
        self.fold_latencies();
        self.entries
            .iter_mut()
            .for_each(EntryStats::drain_latencies);
        let mut entries = indexmap::IndexMap::new();
        for (i, (src, e)) in m.sources.iter().zip(&self.entries).enumerate() {
            let c = e.measured;
            let op = &m.ops[src.op as usize];
            let svc = &m.services[op.service];
            let target = if svc.ops.len() == 1 {
                svc.name.clone()
            } else {
                format!("{}.{}", svc.name, op.name)
            };
            entries.insert(
                src.name.clone(),
                EntrySummary {
                    target,
                    requests: e.requests,
                    ok: c.ok,
                    degraded: c.degraded,
                    failed: c.failed(),
                    in_flight_at_end: in_flight[i],
                    throughput_rps: c.done() as f64 / measured_s,
                    goodput_rps: c.good() as f64 / measured_s,
                    error_rate: c.error_rate(),
                    latency_ms: latency_of(&e.latency_ok, e.latency_ok_sum),
                    latency_all_ms: {
                        let mut all = e.latency_ok.clone();
                        all.add(&e.latency_failed);
                        latency_of(&all, e.latency_all_sum)
                    },
                    latency_cdf_ms: cdf_of(&e.latency_ok),
                },
            );
        }
        let mut services = indexmap::IndexMap::new();
        for (i, (svc, s)) in m.services.iter().zip(self.services.items_mut()).enumerate() {
            s.busy.flush(end);
            s.queued.flush(end);
            s.drain_sojourns();
            let c = s.c.minus(&s.at_warmup);
            let busy_mean = s.busy.area as f64 / service_span as f64;
            let queue_mean = s.queued.area as f64 / service_span as f64;
            let (event_loop, memory) = match &mut self.runtime[i] {
                Some(r) => r.summary(svc, end, service_span, (busy_mean, s.busy.max)),
                None => (None, None),
            };
            services.insert(
                svc.name.clone(),
                ServiceSummary {
                    replicas: svc.declared_replicas(),
                    threads: svc.threads,
                    queue_capacity: (svc.queue != UNBOUNDED).then_some(svc.queue),
                    arrivals: c.arrivals,
                    completed: s.sojourn.len(),
                    rejected: c.rejected,
                    refused: c.refused,
                    injected_errors: c.injected_errors,
                    rate_limited: c.rate_limited,
                    concurrency_limited: c.concurrency_limited,
                    shed: c.shed,
                    deadline_dropped: c.deadline_dropped,
                    blackholed: c.blackholed,
                    connect_retries: c.connect_retries,
                    connect_timeouts: c.connect_timeouts,
                    utilization: event_loop.as_ref().map_or(
                        busy_mean
                            / match self.autoscale.get_mut(i).and_then(|a| a.as_deref_mut()) {
                                Some(a) => a.capacity(end, service_span),
                                None => self.capacity[i] as f64,
                            },
                        |l| l.loop_utilization,
                    ),
                    busy_threads_mean: busy_mean,
                    queue_len_mean: queue_mean,
                    queue_len_max: s.queued.max,
                    in_system_mean: busy_mean + queue_mean,
                    queue_wait_ms: {
                        if s.line.wait_zeros > 0 {
                            s.wait.record_n(0, s.line.wait_zeros);
                        }
                        latency_of(&s.wait, s.wait_sum)
                    },
                    sojourn_ms: latency_of(&s.sojourn, s.line.sojourn_sum),
                    orphaned_work_s: c.orphaned_work_ns as f64 / 1e9,
                    work_after_giveup_s: c.after_giveup_ns as f64 / 1e9,
                    orphaned_requests: c.orphaned_requests,
                    wasted_work_ratio: if c.busy_work_ns == 0 {
                        0.0
                    } else {
                        c.orphaned_work_ns as f64 / c.busy_work_ns as f64
                    },
                    event_loop,
                    memory,
                    outlier: None,
                    zones: None,
                    visits_per_request: None,
                    conflicts: self.stores.service_conflicts(i),
                    autoscale: self
                        .autoscale
                        .get_mut(i)
                        .and_then(|a| a.as_deref_mut())
                        .map(|a| a.summary(svc, end, service_span)),
                    reset: svc.memory.is_some().then_some(c.reset),
                },
            );
        }
        // Breakers are per call spec; an edge reports the sum of its specs'
        // (a source's call has no edge).
        let mut breakers = vec![crate::patterns::BreakerStats::default(); m.edges.len()];
        for (spec, stats) in m.calls.iter().zip(&self.breakers) {
            if let Some(b) = spec.edge.and_then(|e| breakers.get_mut(e.index())) {
                b.state_changes += stats.state_changes;
                b.times_opened += stats.times_opened;
                b.time_open += stats.time_open;
                b.time_half_open += stats.time_half_open;
            }
        }
        let mut edges = indexmap::IndexMap::new();
        for (i, e) in m.edges.iter().enumerate() {
            let d = self.edges[i].minus(&self.edges_at_warmup[i]);
            edges.insert(e.name.clone(), edge_summary(&d, &breakers[i]));
        }
        let producers = m.producers_by_queue();
        let queues = (0..m.queues.len())
            .map(|q| {
                let summary = self.queues[q].summary(m, q, &producers[q], end);
                (m.queues[q].name.clone(), summary)
            })
            .collect();
        let mut clients = indexmap::IndexMap::new();
        for (i, src) in m.sources.iter().enumerate() {
            let d = self.clients[i].minus(&self.clients_at_warmup[i]);
            if d.retries > 0 || m.calls[src.call as usize].policy != crate::model::NO_POLICY {
                clients.insert(src.name.clone(), edge_summary(&d, &Default::default()));
            }
        }
        let entry_requests: u64 = entries.values().map(|e: &EntrySummary| e.requests).sum();
        if !m.branches.is_empty() && entry_requests > 0 {
            for s in services.values_mut() {
                s.visits_per_request = Some(s.arrivals as f64 / entry_requests as f64);
            }
        }
        let requests: Vec<u64> = entries.values().map(|e| e.requests).collect();
        for (e, p) in edges
            .values_mut()
            .zip(visits::call_probabilities(m, &requests))
        {
            e.call_probability = p;
        }
        let amplification = services
            .iter()
            .map(|(name, s): (&String, &ServiceSummary)| {
                (
                    name.clone(),
                    if entry_requests == 0 {
                        0.0
                    } else {
                        s.arrivals as f64 / entry_requests as f64
                    },
                )
            })
            .collect();
        let result = RunResult {
            summary: Summary {
                clients,
                amplification,
                scenario: m.name.clone(),
                seed: self.seed,
                version: crate::VERSION.into(),
                scenario_hash: format!("{:016x}", opts.scenario_hash),
                overrides: opts.overrides.clone(),
                sim_duration_s: measured_s,
                warmup_s: secs(m.warmup),
                end_time_s: secs(end),
                events,
                partial: None,
                entries,
                services,
                edges,
                queues,
                caches: m
                    .caches
                    .iter()
                    .zip(&self.caches)
                    .enumerate()
                    .map(|(i, (c, s))| {
                        let lookers = caches::lookers(m, i as u32);
                        (c.name.clone(), s.summary(c.capacity, c.keys, lookers))
                    })
                    .collect(),
                classes: classes::summary(m, &self.entries, measured_s),
                faults: self.faults,
                recovery: Vec::new(),
                slo: Vec::new(),
                logs: self.logs.summary(m, &self.log_backlog, measured_s),
                sagas: m
                    .sagas
                    .iter()
                    .zip(&self.sagas)
                    .enumerate()
                    .map(|(i, (g, st))| (g.name.clone(), st.summary(m, i)))
                    .collect(),
                outboxes: self
                    .outboxes
                    .iter_mut()
                    .enumerate()
                    .map(|(o, st)| {
                        let service = m.outboxes[o].service.index();
                        (m.services[service].name.clone(), st.summary(m, o, end))
                    })
                    .collect(),
                polls: self
                    .polls
                    .iter()
                    .enumerate()
                    .filter_map(|(i, p)| {
                        Some((m.sources[i].name.clone(), p.summary(m, i, measured_s)?))
                    })
                    .collect(),
                stores: (0..m.stores.len())
                    .map(|i| (m.stores[i].name.clone(), self.stores.summary(m, i)))
                    .collect(),
            },
            timeseries: TimeSeries::default(),
        };
        Finished {
            result,
            series: self.series.finish(),
        }
    }
}

/// A run's results with its time series still packed. The engine drops
/// its state before `unpack` makes the plain lists, so they do not add to
/// the run's peak memory.
#[derive(Debug)]
pub struct Finished {
    /// Everything but the series' values, which `unpack` fills in.
    pub result: RunResult,
    series: PackedSeries,
}

impl Finished {
    /// The results, the time series made plain.
    pub fn unpack(self) -> RunResult {
        let mut result = self.result;
        result.timeseries = self.series.unpack();
        result
    }
}

fn edge_summary(d: &EdgeStats, b: &crate::patterns::BreakerStats) -> EdgeSummary {
    EdgeSummary {
        calls: d.calls,
        ok: d.ok,
        degraded: d.degraded,
        errors: d.errors,
        rejected: d.rejected,
        timeouts: d.timeouts,
        late_replies: d.late_replies,
        attempts: d.attempts,
        retries: d.retries,
        retries_refused_by_budget: d.retries_refused,
        circuit_open: d.circuit_open,
        rate_limited: d.rate_limited,
        bulkhead_rejected: d.bulkhead_rejected,
        hedges: d.hedges,
        hedges_won: d.hedges_won,
        fallbacks: d.fallbacks,
        lost_to_partition: d.lost,
        breaker_state_changes: b.state_changes,
        breaker_times_opened: b.times_opened,
        breaker_open_s: secs(b.time_open),
        breaker_half_open_s: secs(b.time_half_open),
        call_probability: None,
        // Only where something was refused locally: elsewhere every
        // attempt was sent, and the file stays as it was.
        attempts_sent: (d.refused_locally > 0 || d.sent != d.attempts).then_some(d.sent),
        attempts_refused_locally: d.refused_locally,
        retries_suppressed: d.retries_suppressed,
        throttled: d.throttled,
    }
}
