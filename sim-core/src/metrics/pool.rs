//! `ServicePool`: the services a wide model's window close does not visit,
//! summed as they change.
//!
//! A model of more than `NAMES_PER_SCOPE` services writes series for 64 of
//! them and one aggregate (`services,all`) over every service. Summing the
//! aggregate at each window's close visited every service that changed,
//! several cache lines each; at thousands of services that see a request
//! a second each, that is every service in every window, and as much work
//! as the requests themselves. Here the services the close would visit
//! only for the aggregate — those without series of their own, an event
//! loop, memory or an autoscaler (`every_window`) — are *members*: their
//! busy and queued levels and their row's counters go into sums kept as
//! they change (a few adds on one line in cache), and the close reads the
//! sums instead of the services. The longest queue among members in a
//! window is kept from a count of members at each queue length.
//!
//! The aggregate's counts, its longest queue and its capacity are the
//! same as visiting would give; its busy and queue means are the same
//! integrals divided once rather than summed per service, so they may
//! differ from the visit's in the last bits (only wide models have an
//! aggregate). The engine must change a member's busy level, queued level
//! and row counters through `Recorder`'s methods, which keep the sums.
//!
//! `EdgePool` does the same for the edges' row counters (a wide model's
//! edges each see a call a second or so, so closing a window visited
//! every edge's counters and their snapshot, two lines each): the counts
//! of the edges without series of their own are summed as they change,
//! through `Recorder::count_on_edge`, the one way the engine changes a
//! row counter of an edge. The breaker and in-flight gauges are still read
//! per edge, from the gauges' dense vector. The edges' aggregate is the
//! visit's exactly (counts are integers, the gauges summed in the same
//! order).
//!
//! Owns the sums; which services and edges are members and how a window
//! is written is `metrics.rs`'s.

use super::{EdgeCount, EdgeWindowCounts, ServiceCounters, TimeWeighted, WindowCounts};
use crate::time::Nanos;

/// Whether a wide model pools its services (always, but for the test that
/// holds pooling to visiting every service).
pub(super) fn pooling() -> bool {
    #[cfg(test)]
    if tests::VISIT_ALL.with(std::cell::Cell::get) {
        return false;
    }
    true
}

/// How many members are at each queue length above zero, and the longest.
#[derive(Default)]
struct QueueLengths {
    at: Vec<u32>,
    longest: u64,
}

impl QueueLengths {
    /// A member's queue went from `from` to `to`.
    fn moved(&mut self, from: u64, to: u64) {
        if from > 0 {
            self.at[from as usize - 1] -= 1;
        }
        if to > 0 {
            let k = to as usize - 1;
            if self.at.len() <= k {
                self.at.resize(k + 1, 0);
            }
            self.at[k] += 1;
            self.longest = self.longest.max(to);
        }
        while self.longest > 0 && self.at[self.longest as usize - 1] == 0 {
            self.longest -= 1;
        }
    }
}

#[derive(Default)]
pub(super) struct ServicePool {
    /// Whether the model pools its services (it is wide): the members are
    /// then the services a window close would not visit but for the
    /// aggregate (`Recorder::pooled`).
    pub on: bool,
    /// Sums over members.
    busy: TimeWeighted,
    queued: TimeWeighted,
    pub c: ServiceCounters,
    at_window: WindowCounts,
    /// Members' threads (they have no autoscaler: constant).
    pub capacity: f64,
    lengths: QueueLengths,
    /// The longest queue of a member this window.
    window_longest: u64,
}

/// A pooled window: what the members add to the aggregate row.
pub(super) struct PoolWindow {
    pub busy: f64,
    pub queue: f64,
    pub queue_max: u64,
    pub d: WindowCounts,
}

impl ServicePool {
    /// A pool in force, of members whose threads are `capacity`.
    pub fn new(capacity: f64) -> ServicePool {
        ServicePool {
            on: true,
            capacity,
            ..ServicePool::default()
        }
    }

    #[inline]
    pub fn add_busy(&mut self, now: Nanos, delta: i64) {
        self.busy.add(now, delta);
    }

    /// A member's queue went from `from` by `delta`.
    #[inline]
    pub fn add_queued(&mut self, now: Nanos, from: u64, delta: i64) {
        self.queued.add(now, delta);
        let to = (from as i64 + delta) as u64;
        self.lengths.moved(from, to);
        self.window_longest = self.window_longest.max(to);
    }

    /// The members' window that ends at `now` and lasted `len`; starts
    /// the next one.
    pub fn close_window(&mut self, now: Nanos, len: Nanos) -> PoolWindow {
        let (busy, _) = self.busy.close_window(now, len);
        let (queue, _) = self.queued.close_window(now, len);
        let counts = WindowCounts::of(&self.c);
        let w = PoolWindow {
            busy,
            queue,
            queue_max: self.window_longest,
            d: counts.minus(&self.at_window),
        };
        self.at_window = counts;
        self.window_longest = self.lengths.longest;
        w
    }
}

/// The row counters of a wide model's edges without series (members),
/// summed as they change.
#[derive(Default)]
pub(super) struct EdgePool {
    /// Whether the model pools its edges (more edges than get series).
    pub on: bool,
    c: EdgeWindowCounts,
    at_window: EdgeWindowCounts,
}

impl EdgePool {
    pub fn new() -> EdgePool {
        EdgePool {
            on: true,
            ..EdgePool::default()
        }
    }

    /// A member's counter `what` went up by one.
    #[inline(always)]
    pub fn count(&mut self, what: EdgeCount) {
        self.c.count(what);
    }

    /// The members' counts over the window that ends now; starts the next.
    pub fn close_window(&mut self) -> EdgeWindowCounts {
        let d = self.c.minus(&self.at_window);
        self.at_window = self.c;
        d
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    thread_local! {
        /// Set: this thread's recorders visit every service (no pool).
        pub static VISIT_ALL: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }

    /// 90 services in chains of ten with two threads and short queues,
    /// loaded past what they serve (waits, full queues, timeouts), one of
    /// them crashed for a second (its jobs cut off), one an event loop
    /// (visited, not pooled); some calls retry, some break. 81 edges: the
    /// edges are pooled too.
    fn wide() -> String {
        let mut t = String::from("name = \"pool\"\nduration = \"4s\"\nseed = 3\n");
        for g in 0..9 {
            t += &format!("[workload.w{g}]\ntarget = \"s{}\"\nrate = 900\n", g * 10);
        }
        for i in 0..90 {
            let work = "{ work = { dist = \"exponential\", mean = \"2ms\" } }";
            // Every third call retries; every fourth breaks (retries,
            // open breakers and late replies in the edges' aggregate).
            let patterns = match i % 12 {
                3 | 6 | 9 => ", retry = { max_attempts = 2, initial_interval = \"5ms\" }",
                4 | 8 => {
                    ", breaker = { sliding_window_size = 10, minimum_number_of_calls = 5, \
                     failure_rate_threshold = 50, wait_duration_in_open_state = \"200ms\" }"
                }
                0 => {
                    ", retry = { max_attempts = 3, initial_interval = \"2ms\" }, breaker = { \
                     sliding_window_size = 10, minimum_number_of_calls = 5, \
                     failure_rate_threshold = 50, wait_duration_in_open_state = \"100ms\" }"
                }
                _ => "",
            };
            let next = if i % 10 == 9 {
                String::new()
            } else {
                format!(
                    ", {{ call = \"s{}\", timeout = \"30ms\"{patterns} }}",
                    i + 1
                )
            };
            let model = if i == 77 {
                "model = \"event_loop\"\nloops = 2\nmax_connections = 8"
            } else {
                "threads = 2\nqueue = 4"
            };
            t += &format!("[services.s{i}]\n{model}\nsteps = [{work}{next}]\n");
        }
        t += "[[fault]]\ntarget = \"s84\"\ncrash = true\nat = \"1s\"\nfor = \"1s\"\n";
        t
    }

    fn run(visit_all: bool) -> crate::output::RunResult {
        let s = crate::load("pool.toml", &wide(), &[]).expect("loads");
        VISIT_ALL.with(|v| v.set(visit_all));
        let r = crate::run(&s.model, &crate::RunOptions::default());
        VISIT_ALL.with(|v| v.set(false));
        r
    }

    /// The pool's aggregate is the visit's: counts and the longest queue
    /// exactly, means to rounding; every other figure is untouched.
    #[test]
    fn pooling_gives_the_aggregate_visiting_every_service_gives() {
        let (pooled, visited) = (run(false), run(true));
        assert_eq!(pooled.summary, visited.summary);
        let s = &visited.summary.services;
        assert!(s.values().any(|s| s.rejected > 0), "queues overflow");
        let (a, b) = (&pooled.timeseries, &visited.timeseries);
        assert_eq!(a.series.len(), b.series.len());
        let mut aggregate = 0;
        let mut edge_metrics = Vec::new();
        for (x, y) in a.series.iter().zip(&b.series) {
            assert_eq!(
                (&x.scope, &x.name, &x.metric),
                (&y.scope, &y.name, &y.metric)
            );
            if x.scope == "edges" && x.name == "all" {
                edge_metrics.push(x.metric.clone());
                assert!(y.values.iter().any(|v| *v > 0.0), "{} moves", x.metric);
            }
            if x.scope != "services" {
                assert_eq!(x.values, y.values, "{} {}", x.name, x.metric);
                continue;
            }
            aggregate += 1;
            let exact = !matches!(
                x.metric.as_str(),
                "busy_threads" | "utilization" | "queue_len"
            );
            for (w, (u, v)) in x.values.iter().zip(&y.values).enumerate() {
                if exact {
                    assert_eq!(u, v, "{} window {w}", x.metric);
                } else {
                    assert!(
                        (u - v).abs() <= 1e-12 * v.abs().max(1.0),
                        "{} window {w}: {u} {v}",
                        x.metric
                    );
                }
            }
            assert!(y.values.iter().any(|v| *v > 0.0), "{} moves", x.metric);
        }
        assert!(aggregate >= 9, "the services' aggregate is written");
        assert_eq!(
            edge_metrics.len(),
            super::super::EDGE_METRICS.len(),
            "{edge_metrics:?}"
        );
    }

    #[test]
    fn the_longest_queue_follows_members_up_and_down() {
        let mut q = QueueLengths::default();
        q.moved(0, 1);
        q.moved(0, 1);
        q.moved(1, 2);
        q.moved(2, 3);
        assert_eq!(q.longest, 3);
        q.moved(3, 2);
        assert_eq!(q.longest, 2);
        q.moved(2, 1);
        assert_eq!(q.longest, 1, "two members at one");
        q.moved(1, 0);
        q.moved(1, 0);
        assert_eq!(q.longest, 0);
        assert!(q.at.iter().all(|&n| n == 0));
    }

    #[test]
    fn a_window_keeps_its_longest_queue_and_the_next_starts_at_the_current() {
        let mut p = ServicePool::new(2.0);
        p.add_queued(0, 0, 1);
        p.add_queued(10, 1, 1);
        p.add_queued(20, 2, -1);
        p.c.arrivals += 3;
        let w = p.close_window(100, 100);
        assert_eq!(w.queue_max, 2);
        assert_eq!(w.d.arrivals, 3);
        // Queued 1 for 10 ns, 2 for 10, 1 for 80: 110 over 100 ns.
        assert!((w.queue - 1.1).abs() < 1e-12, "{}", w.queue);
        let w = p.close_window(200, 100);
        assert_eq!(w.queue_max, 1, "one still queued at the window's start");
        assert_eq!(w.d.arrivals, 0);
        assert!((w.queue - 1.0).abs() < 1e-12);
    }
}
