//! What a service's runtime holds and how it fares: event loops (busy
//! loops, run queue, its wait), memory (an exact gauge per replica, its
//! time-weighted distribution), OOM kills, restarts, downtime, cold time and
//! GC pauses.
//!
//! Kept only for services that declare an event loop or memory, so a model
//! without them pays nothing. Owns these figures, their windows and their
//! summary; must not change simulated state.

use super::histogram::Histogram;
use super::lazy_level::LazyLevel;
use super::series::SeriesWriter;
use super::{TimeWeighted, latency_of};
use crate::model::{Model, Service};
use crate::output::{EventLoopSummary, MemorySummary};
use crate::time::Nanos;

const MIB: f64 = 1024.0 * 1024.0;

/// The series of an event-loop service.
pub const LOOP_METRICS: &[&str] = &["loop_utilization", "run_queue", "connections"];
/// The series of a service with memory.
pub const MEMORY_METRICS: &[&str] = &[
    "memory_mib",
    "memory_max_mib",
    "memory_limit_mib",
    "replicas_down",
    "oom_kills",
    "gc_pause_share",
    "reset_rps",
];

#[derive(Clone, Copy, Debug, Default)]
struct Counts {
    oom_kills: u64,
    restarts: u64,
    gc_pauses: u64,
    gc_pause_ns: u128,
    blocking_ns: u128,
    /// Requests cut off by OOM kills.
    resets: u64,
}

impl Counts {
    fn minus(&self, o: &Counts) -> Counts {
        Counts {
            oom_kills: self.oom_kills - o.oom_kills,
            restarts: self.restarts - o.restarts,
            gc_pauses: self.gc_pauses - o.gc_pauses,
            gc_pause_ns: self.gc_pause_ns - o.gc_pause_ns,
            blocking_ns: self.blocking_ns - o.blocking_ns,
            resets: self.resets - o.resets,
        }
    }
}

pub struct RuntimeStats {
    replicas: u32,
    /// Loops per replica (0 for a thread pool).
    loops: u32,
    limit: u64,
    warmup: Nanos,
    /// Loops running a continuation, over all replicas: lazy, and kept
    /// per replica by the engine, which adds them up here before a read
    /// (`sync_loops`).
    busy_loops: LazyLevel,
    run_queue: TimeWeighted,
    run_wait: Histogram,
    run_wait_sum: u128,
    /// Continuations that found a loop free (wait 0): counted by the
    /// replicas, added up here by `sync_loops` and to `run_wait` at the
    /// end, a histogram record saved on the common path.
    run_wait_zero: u64,
    /// The warm-up is over (or there is none): the zero waits `sync_loops`
    /// hands over count. The engine counts every continuation, so those
    /// it hands over before are the warm-up's, dropped here.
    measuring: bool,
    /// Sum of the replicas' gauges, bytes.
    memory: TimeWeighted,
    /// Replicas up (memory mean is over them).
    up: TimeWeighted,
    down: TimeWeighted,
    paused: TimeWeighted,
    mem_now: Vec<u64>,
    mem_since: Vec<Nanos>,
    /// Each replica's gauge, weighted by the microseconds it held.
    mem_time: Histogram,
    mem_max: u64,
    window_mem_max: u64,
    cold_ns: u128,
    cold_until: Vec<Nanos>,
    c: Counts,
    at_warmup: Counts,
    at_window: Counts,
    /// Series slots: loop metrics, then memory metrics.
    loop_slots: Option<u32>,
    memory_slots: Option<u32>,
    /// Autoscaled: shares are of the replicas up (`up`), not of the slots.
    scaled: bool,
}

impl RuntimeStats {
    /// Stats for `s`, if it has an event loop or memory.
    pub fn new(s: &Service, warmup: Nanos) -> Option<Box<RuntimeStats>> {
        if s.loops().is_none() && s.memory.is_none() {
            return None;
        }
        let n = s.replicas as usize;
        let base = s.memory.map_or(0, |m| m.base);
        // An autoscaled service's slots past its first replicas are off.
        let existing = s.declared_replicas();
        let mut up = TimeWeighted::default();
        up.add(0, i64::from(existing));
        let mut memory = TimeWeighted::default();
        memory.add(0, (base * u64::from(existing)) as i64);
        let mut mem_now = vec![base; n];
        mem_now[existing as usize..].fill(0);
        Some(Box::new(RuntimeStats {
            replicas: s.replicas,
            loops: s.loops().unwrap_or(0),
            limit: s.memory.map_or(0, |m| m.limit),
            warmup,
            busy_loops: LazyLevel::default(),
            run_queue: TimeWeighted::default(),
            run_wait: Histogram::new(),
            run_wait_sum: 0,
            run_wait_zero: 0,
            measuring: warmup == 0,
            memory,
            up,
            down: TimeWeighted::default(),
            paused: TimeWeighted::default(),
            mem_now,
            mem_since: vec![0; n],
            mem_time: Histogram::new(),
            mem_max: if s.memory.is_some() { base } else { 0 },
            window_mem_max: base,
            cold_ns: 0,
            cold_until: vec![0; n],
            c: Counts::default(),
            at_warmup: Counts::default(),
            at_window: Counts::default(),
            loop_slots: None,
            memory_slots: None,
            scaled: s.autoscale.is_some(),
        }))
    }

    /// The replicas' busy loops now, their lazy area (summed), and the
    /// zero run-queue waits counted since the last sync (kept once the
    /// warm-up is over: every continuation after it comes after the
    /// warm-up's own sync).
    pub fn sync_loops(&mut self, busy: i128, area: i128, zero_waits: u64) {
        self.busy_loops.set(busy, area);
        if self.measuring {
            self.run_wait_zero += zero_waits;
        }
    }

    /// Run-queue waits counted so far (zeros included), for tests.
    #[cfg(test)]
    pub fn run_waits(&self) -> u64 {
        self.run_wait_zero + self.run_wait.len()
    }

    #[inline]
    pub fn add_run_queue(&mut self, now: Nanos, delta: i64) {
        self.run_queue.add(now, delta);
    }

    #[inline]
    pub fn record_run_wait(&mut self, ready: Nanos, now: Nanos) {
        if ready >= self.warmup {
            self.run_wait.record(now - ready);
            self.run_wait_sum += u128::from(now - ready);
        }
    }

    pub fn add_blocking(&mut self, ns: Nanos) {
        self.c.blocking_ns += u128::from(ns);
    }

    /// Replica `r`'s gauge is now `bytes`.
    #[inline]
    pub fn set_memory(&mut self, now: Nanos, r: usize, bytes: u64) {
        let old = self.mem_now[r];
        let from = self.mem_since[r].max(self.warmup);
        if now > from {
            let micros = (now - from) / 1000;
            if micros > 0 {
                self.mem_time.record_n(old, micros);
            }
        }
        self.mem_since[r] = now;
        self.mem_now[r] = bytes;
        self.memory.add(now, bytes as i64 - old as i64);
        if now >= self.warmup {
            self.mem_max = self.mem_max.max(bytes);
        }
        self.window_mem_max = self.window_mem_max.max(bytes);
    }

    /// An autoscaler created replica `r`: a process with `base` bytes.
    pub fn replica_up(&mut self, now: Nanos, r: usize, base: u64) {
        self.up.add(now, 1);
        self.set_memory(now, r, base);
    }

    /// An autoscaled replica is off (its gauge ends at 0); `down` if it
    /// was killed and not restarted.
    pub fn replica_off(&mut self, now: Nanos, r: usize, down: bool) {
        if down {
            self.down.add(now, -1);
        } else {
            self.up.add(now, -1);
        }
        self.set_memory(now, r, 0);
    }

    /// A kill, `cold_left` before the replica would have warmed up.
    pub fn oom_kill(&mut self, now: Nanos, r: usize, cold_left: Nanos) {
        self.c.oom_kills += 1;
        self.cold_ns -= u128::from(cold_left);
        self.cold_until[r] = self.cold_until[r].min(now);
        self.up.add(now, -1);
        self.down.add(now, 1);
    }

    pub fn restart(&mut self, now: Nanos, r: usize, cold_for: Nanos) {
        self.c.restarts += 1;
        self.up.add(now, 1);
        self.down.add(now, -1);
        if cold_for > 0 {
            // Counted whole now; `summary` takes back what lies past the end.
            self.cold_ns += u128::from(cold_for);
            self.cold_until[r] = now.saturating_add(cold_for);
        }
    }

    /// A request cut off by an OOM kill.
    pub fn reset(&mut self) {
        self.c.resets += 1;
    }

    pub fn gc_start(&mut self, now: Nanos, pause: Nanos) {
        self.c.gc_pauses += 1;
        self.c.gc_pause_ns += u128::from(pause);
        self.paused.add(now, 1);
    }

    pub fn gc_end(&mut self, now: Nanos) {
        self.paused.add(now, -1);
    }

    pub fn start_measuring(&mut self, now: Nanos) {
        self.measuring = true;
        self.at_warmup = self.c;
        self.busy_loops.restart(now);
        for tw in [
            &mut self.run_queue,
            &mut self.memory,
            &mut self.up,
            &mut self.down,
            &mut self.paused,
        ] {
            tw.restart(now);
        }
        self.mem_max = self.mem_now.iter().copied().max().unwrap_or(0);
    }

    /// Creates this service's series (after the four scopes).
    pub fn add_series(&mut self, series: &mut SeriesWriter, name: &str) {
        if self.loops > 0 {
            self.loop_slots = Some(series.add_series("service", name, LOOP_METRICS));
        }
        if self.limit > 0 {
            self.memory_slots = Some(series.add_series("service", name, MEMORY_METRICS));
        }
    }

    /// Loop utilisation over the window ending at `now` (the service's
    /// `utilization` for an event loop), after `close_window`.
    pub fn close_window(
        &mut self,
        series: &mut SeriesWriter,
        now: Nanos,
        len: Nanos,
        connections: f64,
    ) -> Option<f64> {
        let busy = self.busy_loops.close_window(now, len);
        let (queue, _) = self.run_queue.close_window(now, len);
        let (memory, _) = self.memory.close_window(now, len);
        let (up, _) = self.up.close_window(now, len);
        let (down, _) = self.down.close_window(now, len);
        let (paused, _) = self.paused.close_window(now, len);
        let d = self.c.minus(&self.at_window);
        self.at_window = self.c;
        let replicas = if self.scaled {
            up
        } else {
            f64::from(self.replicas)
        };
        let util = (self.loops > 0).then(|| busy / (f64::from(self.loops) * replicas).max(1.0));
        if let (Some(slot), Some(u)) = (self.loop_slots, util) {
            series.put_at(slot, &[u, queue, connections]);
        }
        if let Some(slot) = self.memory_slots {
            let mean = if up > 0.0 { memory / up / MIB } else { 0.0 };
            let pause_share = paused / replicas.max(1e-9);
            series.put_at(
                slot,
                &[
                    mean,
                    self.window_mem_max as f64 / MIB,
                    self.limit as f64 / MIB,
                    down,
                    d.oom_kills as f64,
                    pause_share,
                    d.resets as f64 * 1e9 / len.max(1) as f64,
                ],
            );
        }
        self.window_mem_max = self.mem_now.iter().copied().max().unwrap_or(0);
        util
    }

    /// The summaries over the measured period `[warmup, end]`.
    pub fn summary(
        &mut self,
        s: &Service,
        end: Nanos,
        span: Nanos,
        connections: (f64, u64),
    ) -> (Option<EventLoopSummary>, Option<MemorySummary>) {
        let span = span.max(1) as f64;
        for r in 0..self.mem_now.len() {
            let bytes = self.mem_now[r];
            self.set_memory(end, r, bytes);
        }
        for tw in [
            &mut self.run_queue,
            &mut self.memory,
            &mut self.up,
            &mut self.down,
            &mut self.paused,
        ] {
            tw.flush(end);
        }
        let d = self.c.minus(&self.at_warmup);
        if self.run_wait_zero > 0 {
            self.run_wait.record_n(0, self.run_wait_zero);
            self.run_wait_zero = 0;
        }
        // Replicas on average: the slots, or an autoscaled service's up.
        let replicas = if self.scaled {
            self.up.area as f64 / span
        } else {
            f64::from(s.replicas)
        };
        let event_loop = s.loops().map(|loops| EventLoopSummary {
            loops,
            loop_utilization: self.busy_loops.area(end) as f64
                / span
                / (f64::from(loops) * replicas).max(1.0),
            run_queue_mean: self.run_queue.area as f64 / span,
            run_queue_max: self.run_queue.max,
            run_queue_wait_ms: latency_of(&self.run_wait, self.run_wait_sum),
            connections_mean: connections.0,
            connections_max: connections.1,
            max_connections: (s.threads != crate::model::UNBOUNDED).then_some(s.threads),
            blocking_s: d.blocking_ns as f64 / 1e9,
        });
        let memory = s.memory.map(|m| {
            let overshoot: u128 = self
                .cold_until
                .iter()
                .map(|&u| u128::from(u.saturating_sub(end)))
                .sum();
            let up = self.up.area as f64;
            MemorySummary {
                limit_mib: m.limit as f64 / MIB,
                mean_mib: if up > 0.0 {
                    self.memory.area as f64 / up / MIB
                } else {
                    0.0
                },
                // The histogram's bucket may round above the exact maximum.
                p99_mib: if self.mem_time.is_empty() {
                    self.mem_max
                } else {
                    self.mem_time.value_at_quantile(0.99).min(self.mem_max)
                } as f64
                    / MIB,
                max_mib: self.mem_max as f64 / MIB,
                oom_kills: d.oom_kills,
                restarts: d.restarts,
                down_s: self.down.area as f64 / 1e9,
                cold_s: self.cold_ns.saturating_sub(overshoot) as f64 / 1e9,
                gc_pauses: d.gc_pauses,
                gc_pause_s: d.gc_pause_ns as f64 / 1e9,
                gc_pause_share: self.paused.area as f64 / span / replicas.max(1e-9),
            }
        });
        (event_loop, memory)
    }

    /// Loops over all replicas (0 for a thread pool).
    pub fn loop_capacity(&self) -> f64 {
        f64::from(self.loops) * f64::from(self.replicas)
    }

    pub fn memory_of(&self, r: usize) -> u64 {
        self.mem_now[r]
    }
}

/// Stats per service, `None` for services with neither feature.
pub fn for_model(m: &Model) -> Vec<Option<Box<RuntimeStats>>> {
    m.services
        .iter()
        .map(|s| RuntimeStats::new(s, m.warmup))
        .collect()
}
