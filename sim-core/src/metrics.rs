//! Measuring a run: counters, time-weighted levels, HDR histograms and the
//! windowed time series, then the `Summary`.
//!
//! Owns every number a run reports. The engine calls it at each state
//! change; it never changes the simulated state. Counters run for the whole
//! run and are snapshot at the end of the warm-up and at each window edge,
//! so the hot path increments one integer. Latencies go to histograms with
//! HDR buckets (`HISTOGRAM_DIGITS` significant digits, any u64: saturated
//! runs produce huge values), stored compactly (`histogram.rs`), never to a
//! list of samples.
//!
//! Past 900 lines: the per-service, per-edge, per-entry and per-queue
//! counters, their window snapshots and the `Summary` they become are one
//! bookkeeping (every figure is counted, snapshot and summed the same
//! way); histograms, series selection, queues, the latency log and the
//! summary assembly (`summary.rs`) already have their own files
//! (`metrics/`), and a source's figures (`EntryStats`, its window row and
//! its tests) are the next to move out.

mod autoscale;
mod caches;
mod classes;
mod histogram;
mod latency_log;
mod lazy_level;
mod log_batches;
mod logs;
mod outbox;
mod outlier;
mod pending;
pub mod polls;
mod pool;
mod queues;
mod runtime;
mod sagas;
mod series;
mod series_packed;
mod series_rows;
mod stores;
mod summary;
mod touched;
mod visits;
mod window_counts;

use histogram::{Histogram, HistogramSum, LeanHistogram};
use latency_log::{LatencyLog, Logged};
use pending::{Pending, WindowLatencies};

use queues::QueueWindow;
pub use queues::{QUEUE_METRICS, QueueStats};
pub use runtime::RuntimeStats;
pub use series::{NAMES_PER_SCOPE, RECOVERY_METRICS};
use series::{PackedSeries, Scope, SeriesWriter};
pub use summary::Finished;
use touched::Touched;
use window_counts::window_counts;

use crate::model::{Model, UNBOUNDED};
use crate::options::RunOptions;
use crate::outcome::Outcome;
use crate::output::*;
use crate::time::{Nanos, millis, secs};

/// Significant decimal digits of every latency histogram: quantiles are
/// exact to within 1 % (means are exact: they come from sums). Three digits
/// would make each histogram ten times larger, and recording is then
/// dominated by cache misses.
pub const HISTOGRAM_DIGITS: u8 = 2;

fn latency_of<const B: u64>(h: &Histogram<B>, sum: u128) -> Latency {
    if h.is_empty() {
        return Latency::default();
    }
    // One walk over the buckets for the four quantiles, not four.
    let [p50, p90, p99, p999] = h.values_at_quantiles([0.5, 0.9, 0.99, 0.999]);
    Latency {
        mean: sum as f64 / h.len() as f64 / 1e6,
        p50: millis(p50),
        p90: millis(p90),
        p99: millis(p99),
        p999: millis(p999),
        max: millis(h.max()),
    }
}

/// The quantiles at which `latency_cdf_ms` samples the distribution.
pub fn cdf_quantiles() -> Vec<f64> {
    let mut q: Vec<f64> = (1..100).map(|i| f64::from(i) / 100.0).collect();
    q.extend([0.995, 0.999, 0.9999, 1.0]);
    q
}

fn cdf_of(h: &Histogram) -> Vec<[f64; 2]> {
    if h.is_empty() {
        return Vec::new();
    }
    let qs = cdf_quantiles();
    let mut values = vec![0; qs.len()];
    h.fill_quantiles(&qs, &mut values);
    qs.into_iter()
        .zip(values)
        .map(|(q, v)| [q, millis(v)])
        .collect()
}

/// A level that changes at instants (busy threads, queue length), and its
/// integral over time.
#[derive(Clone, Debug, Default)]
pub struct TimeWeighted {
    value: u64,
    last: Nanos,
    area: u128,
    window_area: u128,
    max: u64,
    window_max: u64,
}

impl TimeWeighted {
    #[inline]
    fn add(&mut self, now: Nanos, delta: i64) {
        let dt = u128::from(now - self.last);
        let a = u128::from(self.value) * dt;
        self.area += a;
        self.window_area += a;
        self.last = now;
        self.value = (self.value as i64 + delta) as u64;
        // Both maxima are at least the level, so only a rise can move
        // them (and a call with a constant fall compiles to no test).
        if delta > 0 {
            if self.value > self.max {
                self.max = self.value;
            }
            if self.value > self.window_max {
                self.window_max = self.value;
            }
        }
    }

    fn flush(&mut self, now: Nanos) {
        self.add(now, 0);
    }

    fn restart(&mut self, now: Nanos) {
        self.flush(now);
        self.area = 0;
        self.max = self.value;
    }

    /// Mean over the window that ends at `now` and lasted `len`; starts the
    /// next one.
    fn close_window(&mut self, now: Nanos, len: Nanos) -> (f64, u64) {
        self.flush(now);
        let mean = if len == 0 {
            0.0
        } else {
            wide_to_f64(self.window_area) / len as f64
        };
        let max = self.window_max;
        self.window_area = 0;
        self.window_max = self.value;
        (mean, max)
    }
}

/// How many services ahead a wide model's window close asks for the
/// lines of the one it will visit then: enough for a miss (some hundred
/// nanoseconds) to land while the services in between are closed.
const WINDOW_PREFETCH_AHEAD: usize = 4;

/// Hints for the lines service `i`'s window close will read, if it will
/// visit it.
#[inline]
fn prefetch_window(services: &Touched<ServiceStats>, every_window: &[bool], i: usize) {
    if i < services.len() && (services.is_touched(i) || every_window[i]) {
        for p in services[i].window_lines() {
            prefetch::lines(p, 1);
        }
    }
}

/// `x as f64`, through `u64` when it fits (nearly always): the same
/// nearest float, without the software conversion a `u128` takes (about
/// 36 instructions), which every window close paid per changed service.
#[inline]
fn wide_to_f64(x: u128) -> f64 {
    match u64::try_from(x) {
        Ok(v) => v as f64,
        Err(_) => x as f64,
    }
}

/// Counters of one service since the start of the run. The five a
/// window's row reads (`WindowCounts`) come first, with the thread time a
/// completion adds, so a completion and a window close each touch one
/// cache line of them (`repr(C)` keeps that order).
#[derive(Clone, Copy, Debug, Default)]
#[repr(C)]
pub struct ServiceCounters {
    pub arrivals: u64,
    pub completed: u64,
    pub rejected: u64,
    pub refused: u64,
    pub orphaned_work_ns: u128,
    pub busy_work_ns: u128,
    pub injected_errors: u64,
    pub orphaned_requests: u64,
    /// Of that, thread time after the caller's attempt timed out.
    pub after_giveup_ns: u128,
    pub rate_limited: u64,
    pub concurrency_limited: u64,
    pub shed: u64,
    pub deadline_dropped: u64,
    pub blackholed: u64,
    pub connect_retries: u64,
    pub connect_timeouts: u64,
    /// Cut off by an OOM kill (their callers hear `reset`).
    pub reset: u64,
}

window_counts! {
    /// The service counters a window's row reads, as they were at the last
    /// window's end (or their differences over one window, or the sum of
    /// those over services).
    struct WindowCounts of ServiceCounters {
        arrivals: u64,
        completed: u64,
        rejected: u64,
        refused: u64,
        orphaned_work_ns: u128,
    }
}

impl ServiceCounters {
    fn minus(&self, o: &ServiceCounters) -> ServiceCounters {
        ServiceCounters {
            arrivals: self.arrivals - o.arrivals,
            completed: self.completed - o.completed,
            rejected: self.rejected - o.rejected,
            refused: self.refused - o.refused,
            injected_errors: self.injected_errors - o.injected_errors,
            orphaned_requests: self.orphaned_requests - o.orphaned_requests,
            orphaned_work_ns: self.orphaned_work_ns - o.orphaned_work_ns,
            after_giveup_ns: self.after_giveup_ns - o.after_giveup_ns,
            busy_work_ns: self.busy_work_ns - o.busy_work_ns,
            rate_limited: self.rate_limited - o.rate_limited,
            concurrency_limited: self.concurrency_limited - o.concurrency_limited,
            shed: self.shed - o.shed,
            deadline_dropped: self.deadline_dropped - o.deadline_dropped,
            blackholed: self.blackholed - o.blackholed,
            connect_retries: self.connect_retries - o.connect_retries,
            connect_timeouts: self.connect_timeouts - o.connect_timeouts,
            reset: self.reset - o.reset,
        }
    }
}

/// One service's figures, laid out (`repr(C)`) for the lines a request
/// touches: the busy level (line 0), the counters every request moves
/// (line 1, `ServiceCounters`' first), and its `RequestLine`: the warm-up mark, the
/// zero waits, the sojourns' sum and the last few sojourns waiting to go
/// into their histogram (`Pending`), whose header and buckets a request
/// then touches once in seven. A window close reads lines 0 and 1, the
/// queued level and the snapshot beside the wait histogram. At thousands
/// of services a service is rarely in cache when its next request comes,
/// so each line is a miss.
#[repr(C, align(64))]
pub struct ServiceStats {
    busy: TimeWeighted,
    pub c: ServiceCounters,
    wait_sum: u128,
    line: RequestLine,
    sojourn: LeanHistogram,
    queued: TimeWeighted,
    wait: LeanHistogram,
    at_window: WindowCounts,
    at_warmup: ServiceCounters,
    /// Busy thread-time before the warm-up ended (an autoscaler measures
    /// the whole run).
    busy_before_warmup: u128,
}

/// What a request's wait and sojourn touch besides the busy level and the
/// first counters: one cache line (`repr(C, align(64))`, 61 bytes).
#[derive(Default)]
#[repr(C, align(64))]
struct RequestLine {
    warmup: Nanos,
    /// Waits of zero (a thread was free): counted here, not in `wait`,
    /// whose header and buckets then stay out of the cache of a service
    /// that never queues. Added to `wait` for the summary.
    wait_zeros: u64,
    sojourn_sum: u128,
    /// Sojourns not in `sojourn` yet: drained before it is read.
    sojourn_pending: Pending,
}

impl std::ops::Deref for ServiceStats {
    type Target = ServiceCounters;
    fn deref(&self) -> &ServiceCounters {
        &self.c
    }
}
impl std::ops::DerefMut for ServiceStats {
    fn deref_mut(&mut self) -> &mut ServiceCounters {
        &mut self.c
    }
}

impl ServiceStats {
    /// The lines a request touches: the busy level, the first counters and
    /// the request line (for a prefetch hint). Not the sojourn histogram's
    /// header: a wide model's sojourns go through its latency log, whose
    /// fold asks for it (`latency_log.rs`).
    pub fn request_lines(&self) -> [*const u8; 3] {
        [
            (&self.busy as *const TimeWeighted).cast(),
            (&self.c as *const ServiceCounters).cast(),
            (&self.line as *const RequestLine).cast(),
        ]
    }

    /// The lines a window's close reads: the busy level, the first
    /// counters, the queued level and the snapshot.
    fn window_lines(&self) -> [*const u8; 4] {
        [
            (&self.busy as *const TimeWeighted).cast(),
            (&self.c as *const ServiceCounters).cast(),
            (&self.queued as *const TimeWeighted).cast(),
            (&self.at_window as *const WindowCounts).cast(),
        ]
    }

    #[inline]
    fn add_busy(&mut self, now: Nanos, delta: i64) {
        self.busy.add(now, delta);
    }

    /// Busy thread-nanoseconds since the start of the run.
    pub fn busy_integral(&mut self, now: Nanos) -> u128 {
        self.busy.flush(now);
        self.busy_before_warmup + self.busy.area
    }

    #[inline]
    fn add_queued(&mut self, now: Nanos, delta: i64) {
        self.queued.add(now, delta);
    }

    #[inline]
    pub fn record_wait(&mut self, arrived: Nanos, wait: Nanos) {
        if arrived >= self.line.warmup {
            if wait == 0 {
                self.line.wait_zeros += 1;
            } else {
                self.wait.record(wait);
                self.wait_sum += u128::from(wait);
            }
        }
    }

    /// Records the sojourn into its histogram through its buffer if the
    /// request is measured, or, where the model `logs` its latencies,
    /// returns it for `Recorder::log_value`.
    #[inline]
    fn record_done(
        &mut self,
        (arrived, started, now): (Nanos, Nanos, Nanos),
        orphan: bool,
        abandoned_at: Nanos,
        logs: bool,
    ) -> Option<Nanos> {
        self.c.completed += 1;
        let held = u128::from(now - started);
        self.c.busy_work_ns += held;
        if orphan {
            self.c.orphaned_requests += 1;
            self.c.orphaned_work_ns += held;
            self.c.after_giveup_ns += u128::from(now - started.max(abandoned_at.min(now)));
        }
        let line = &mut self.line;
        if arrived < line.warmup {
            return None;
        }
        let s = now - arrived;
        line.sojourn_sum += u128::from(s);
        if logs {
            return Some(s);
        }
        line.sojourn_pending.record(&mut self.sojourn, s);
        None
    }

    /// Records the sojourns waiting into their histogram: before reading it.
    fn drain_sojourns(&mut self) {
        self.line.sojourn_pending.drain_into(&mut self.sojourn);
    }
}

/// Counters of one call edge (or of a source's own requests). The four
/// every answered call moves (`calls`, `attempts`, `sent`, `ok`) come
/// first, with the failures a window's row reads, so such a call touches
/// one cache line (`repr(C, align(64))`), asked for ahead (`hints.rs`); a
/// window's row (`EdgeWindowCounts`) reads that line and the retries and
/// open-circuit counts on the next (a wide model's close reads only the
/// edges with series of their own: the rest are summed as they change).
#[derive(Clone, Copy, Debug, Default)]
#[repr(C, align(64))]
pub struct EdgeStats {
    /// Requests that went out on the network.
    pub calls: u64,
    /// Attempts started (first tries, retries and hedges), sent or not.
    pub attempts: u64,
    /// Attempts that left the caller; attempts that ended before leaving
    /// it (refused by a breaker, rate limit or bulkhead of the attempt).
    pub sent: u64,
    pub ok: u64,
    pub timeouts: u64,
    pub errors: u64,
    pub rejected: u64,
    pub late_replies: u64,
    pub retries: u64,
    pub circuit_open: u64,
    pub degraded: u64,
    pub retries_refused: u64,
    pub rate_limited: u64,
    pub bulkhead_rejected: u64,
    pub hedges: u64,
    pub hedges_won: u64,
    pub fallbacks: u64,
    /// Requests and answers lost to a partition.
    pub lost: u64,
    /// Attempts that ended before leaving the caller (see `sent`).
    pub refused_locally: u64,
    /// Retries not sent because the caller's failure ratio was too high.
    pub retries_suppressed: u64,
    /// Attempts the caller's adaptive throttling turned away.
    pub throttled: u64,
}

window_counts! {
    /// The edge counters a window's row reads, as they were at the last
    /// window's end (or their differences over one window, or the sum of
    /// those over edges).
    struct EdgeWindowCounts of EdgeStats {
        calls: u64,
        timeouts: u64,
        errors: u64,
        rejected: u64,
        late_replies: u64,
        attempts: u64,
        retries: u64,
        circuit_open: u64,
    }
}

/// An edge counter a window's row reads (the fields of
/// `EdgeWindowCounts`), as `Recorder::count_on_edge` and
/// `EdgeStats::count` name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EdgeCount {
    Calls,
    Timeouts,
    Errors,
    Rejected,
    LateReplies,
    Attempts,
    Retries,
    CircuitOpen,
}

/// Counter `what` of `$c` (an `EdgeStats` or an `EdgeWindowCounts`), up
/// by one.
macro_rules! count_edge {
    ($c:expr, $what:expr) => {
        match $what {
            EdgeCount::Calls => $c.calls += 1,
            EdgeCount::Timeouts => $c.timeouts += 1,
            EdgeCount::Errors => $c.errors += 1,
            EdgeCount::Rejected => $c.rejected += 1,
            EdgeCount::LateReplies => $c.late_replies += 1,
            EdgeCount::Attempts => $c.attempts += 1,
            EdgeCount::Retries => $c.retries += 1,
            EdgeCount::CircuitOpen => $c.circuit_open += 1,
        }
    };
}

impl EdgeWindowCounts {
    #[inline(always)]
    fn count(&mut self, what: EdgeCount) {
        count_edge!(self, what);
    }
}

impl EdgeStats {
    /// Row counter `what`, up by one: for a source's client figures only
    /// (an edge's go through `Recorder::count_on_edge`, which keeps the
    /// edge pool's sums).
    #[inline(always)]
    pub fn count(&mut self, what: EdgeCount) {
        count_edge!(self, what);
    }

    fn minus(&self, o: &EdgeStats) -> EdgeStats {
        EdgeStats {
            calls: self.calls - o.calls,
            ok: self.ok - o.ok,
            degraded: self.degraded - o.degraded,
            errors: self.errors - o.errors,
            rejected: self.rejected - o.rejected,
            timeouts: self.timeouts - o.timeouts,
            late_replies: self.late_replies - o.late_replies,
            attempts: self.attempts - o.attempts,
            retries: self.retries - o.retries,
            retries_refused: self.retries_refused - o.retries_refused,
            circuit_open: self.circuit_open - o.circuit_open,
            rate_limited: self.rate_limited - o.rate_limited,
            bulkhead_rejected: self.bulkhead_rejected - o.bulkhead_rejected,
            hedges: self.hedges - o.hedges,
            hedges_won: self.hedges_won - o.hedges_won,
            fallbacks: self.fallbacks - o.fallbacks,
            lost: self.lost - o.lost,
            sent: self.sent - o.sent,
            refused_locally: self.refused_locally - o.refused_locally,
            retries_suppressed: self.retries_suppressed - o.retries_suppressed,
            throttled: self.throttled - o.throttled,
        }
    }
}

/// Outcomes counted by completion time, for the time series.
#[derive(Clone, Copy, Debug, Default)]
struct OutcomeCounts {
    arrivals: u64,
    ok: u64,
    degraded: u64,
    timeout: u64,
    rejected: u64,
    error: u64,
}

impl OutcomeCounts {
    /// Answered with a failure, by kind.
    fn failed(&self) -> Failed {
        Failed {
            timeout: self.timeout,
            rejected: self.rejected,
            error: self.error,
        }
    }

    /// Answered with a success (ok or degraded).
    fn good(&self) -> u64 {
        self.ok + self.degraded
    }

    /// Answered at all.
    fn done(&self) -> u64 {
        self.good() + self.timeout + self.rejected + self.error
    }

    /// failed / answered (0 when nothing was answered).
    fn error_rate(&self) -> f64 {
        match self.done() {
            0 => 0.0,
            done => (done - self.good()) as f64 / done as f64,
        }
    }

    fn plus(&self, o: &OutcomeCounts) -> OutcomeCounts {
        OutcomeCounts {
            arrivals: self.arrivals + o.arrivals,
            ok: self.ok + o.ok,
            degraded: self.degraded + o.degraded,
            timeout: self.timeout + o.timeout,
            rejected: self.rejected + o.rejected,
            error: self.error + o.error,
        }
    }

    /// The window's `ENTRY_METRICS`, given its latencies of successes.
    fn row(&self, latency: &Histogram, per_s: f64) -> [f64; ENTRY_METRICS.len()] {
        let w = self;
        let good = w.ok + w.degraded;
        let done = good + w.timeout + w.rejected + w.error;
        let [p50, p99, p999] = latency.values_at_quantiles([0.5, 0.99, 0.999]);
        [
            w.arrivals as f64 * per_s,
            done as f64 * per_s,
            good as f64 * per_s,
            w.timeout as f64 * per_s,
            w.rejected as f64 * per_s,
            w.error as f64 * per_s,
            if done == 0 {
                0.0
            } else {
                (done - w.ok) as f64 / done as f64
            },
            millis(p50),
            millis(p99),
            millis(p999),
        ]
    }
}

/// A service's figures over one window (or the sum over services).
#[derive(Clone, Copy, Debug, Default)]
struct ServiceWindow {
    busy: f64,
    /// An event loop's utilisation is its loops' (`busy` counts its
    /// connections).
    loop_util: Option<f64>,
    /// An event loop's loops (all replicas): its workers in an aggregate.
    loops: f64,
    /// Threads available (on average, for an autoscaled service).
    capacity: f64,
    queue: f64,
    queue_max: u64,
    d: WindowCounts,
}

impl ServiceWindow {
    /// Adds `o`; the longest queue is the longest of either. An event
    /// loop adds its busy loops and its loops (not its connections and
    /// their limit): the aggregate counts workers.
    fn merge(&mut self, o: &ServiceWindow) {
        match o.loop_util {
            Some(util) => {
                self.busy += util * o.loops;
                self.capacity += o.loops;
            }
            None => {
                self.busy += o.busy;
                self.capacity += o.capacity;
            }
        }
        self.queue += o.queue;
        self.queue_max = self.queue_max.max(o.queue_max);
        self.d = self.d.plus(&o.d);
    }

    fn row(&self, per_s: f64) -> [f64; SERVICE_METRICS.len()] {
        let d = &self.d;
        [
            self.busy,
            self.loop_util.unwrap_or(self.busy / self.capacity),
            self.queue,
            self.queue_max as f64,
            d.arrivals as f64 * per_s,
            d.completed as f64 * per_s,
            d.rejected as f64 * per_s,
            d.refused as f64 * per_s,
            wide_to_f64(d.orphaned_work_ns) * per_s / 1e9,
        ]
    }
}

/// An edge's figures over one window (or the sum over edges).
#[derive(Clone, Copy, Debug, Default)]
struct EdgeWindow {
    d: EdgeWindowCounts,
    /// Sum of the edges' open-breaker shares, and how many edges.
    open: f64,
    edges: u32,
    in_flight: f64,
}

impl EdgeWindow {
    /// Adds `o`; the open share is the mean over edges.
    fn merge(&mut self, o: &EdgeWindow) {
        self.d = self.d.plus(&o.d);
        self.open += o.open;
        self.edges += o.edges;
        self.in_flight += o.in_flight;
    }

    fn row(&self, per_s: f64) -> [f64; EDGE_METRICS.len()] {
        let d = &self.d;
        [
            d.calls as f64 * per_s,
            d.timeouts as f64 * per_s,
            (d.errors + d.rejected + d.timeouts) as f64 * per_s,
            d.late_replies as f64 * per_s,
            d.attempts as f64 * per_s,
            d.retries as f64 * per_s,
            d.circuit_open as f64 * per_s,
            if self.edges == 0 {
                0.0
            } else {
                self.open / f64::from(self.edges)
            },
            self.in_flight,
        ]
    }
}

/// One source's figures, laid out (`repr(C)`) for the lines a request
/// touches: its sending touches the first (the window's outcomes and the
/// requests); its answer the first four (the outcomes, the sums, the
/// window's histogram, the last latencies waiting for their histogram,
/// `Pending`). At thousands of services a source answers a request a
/// second or so, and its whole-run histogram's bucket was a miss of its
/// own on every answer.
#[repr(C, align(64))]
pub struct EntryStats {
    /// Everything by completion time in the current window.
    window: OutcomeCounts,
    /// Requests that arrived after the warm-up, and their outcomes.
    requests: u64,
    measured: OutcomeCounts,
    latency_all_sum: u128,
    latency_ok_sum: u128,
    /// Through its buffer in a wide model (`WindowLatencies`).
    window_latency: WindowLatencies,
    /// Successes' latencies not in `latency_ok` yet: drained before it is
    /// read (`drain_latencies`).
    latency_ok_pending: Pending,
    latency_ok: Histogram,
    /// Failed requests only: merged with `latency_ok` at the end, so a
    /// success is recorded once.
    latency_failed: Histogram,
}

impl EntryStats {
    fn new() -> EntryStats {
        EntryStats {
            window: OutcomeCounts::default(),
            requests: 0,
            measured: OutcomeCounts::default(),
            latency_all_sum: 0,
            latency_ok_sum: 0,
            window_latency: WindowLatencies::default(),
            latency_ok_pending: Pending::default(),
            latency_ok: Histogram::new(),
            latency_failed: Histogram::new(),
        }
    }

    /// The lines answering a request touches (for a prefetch hint): the
    /// record's first four (a wide model's whole-run histogram is reached
    /// through its latency log, `latency_log.rs`).
    pub const ANSWER_LINES: usize = 4;
    pub fn answer_lines(&self) -> *const u8 {
        (self as *const EntryStats).cast()
    }

    /// Records the waiting latencies into `latency_ok`: before reading it.
    fn drain_latencies(&mut self) {
        self.latency_ok_pending.drain_into(&mut self.latency_ok);
    }
}

const ENTRY_METRICS: &[&str] = &[
    "arrivals_rps",
    "throughput_rps",
    "goodput_rps",
    "timeout_rps",
    "rejected_rps",
    "error_rps",
    "error_rate",
    "p50_ms",
    "p99_ms",
    "p999_ms",
];
const SERVICE_METRICS: &[&str] = &[
    "busy_threads",
    "utilization",
    "queue_len",
    "queue_len_max",
    "arrivals_rps",
    "completed_rps",
    "rejected_rps",
    "refused_rps",
    "orphaned_work",
];
const EDGE_METRICS: &[&str] = &[
    "calls_rps",
    "timeouts_rps",
    "failures_rps",
    "late_replies_rps",
    "attempts_rps",
    "retries_rps",
    "circuit_open_rps",
    "breaker_open",
    "in_flight",
];

pub struct Recorder {
    /// A wide model's latencies on their way to their histograms
    /// (`latency_log.rs`); `None`: each goes through its own `Pending`.
    latency_log: Option<LatencyLog>,
    /// A window's latencies over every entry, then its lags over every
    /// queue, as the close adds them up (`histogram/sum.rs`).
    window_sum: HistogramSum,
    warmup: Nanos,
    window: Nanos,
    window_start: Nanos,
    next_edge: Nanos,
    pub entries: Vec<EntryStats>,
    /// Per service and per edge, marked when the engine changes them: a
    /// window close visits the marked ones and those in `every_window`.
    pub services: Touched<ServiceStats>,
    pub edges: Touched<EdgeStats>,
    /// Services a window close visits whether or not they changed: those
    /// with series of their own, event loops, memory or an autoscaler.
    every_window: Vec<bool>,
    /// In a wide model, the other services' sums for the aggregate (no
    /// members otherwise): the close visits no member.
    pool: pool::ServicePool,
    /// The sums of the edges a wide model's window close does not visit.
    edge_pool: pool::EdgePool,
    pub queues: Vec<QueueStats>,
    /// Per service with an event loop or memory: their figures.
    pub runtime: Vec<Option<Box<RuntimeStats>>>,
    /// Per cache: lookups, hits, fills, evictions, keys resident.
    pub caches: Vec<caches::CacheStats>,
    /// Per saga: started, ended (how), running, times.
    pub sagas: Vec<sagas::SagaStats>,
    /// Per source: its own requests' attempts and retries.
    pub clients: Vec<EdgeStats>,
    clients_at_warmup: Vec<EdgeStats>,
    breakers: Vec<crate::patterns::BreakerStats>,
    /// Per edge, sampled by the engine at each window's end: the share of
    /// caller replicas whose breaker is open (half-open counts half), and
    /// attempts in flight.
    edge_gauges: Vec<(f64, f64)>,
    edges_at_warmup: Vec<EdgeStats>,
    edges_at_window: Vec<EdgeWindowCounts>,
    capacity: Vec<u64>,
    series: SeriesWriter,
    faults: Vec<FaultWindow>,
    seed: u64,
    /// Partitioned logs and consumer groups.
    pub logs: logs::LogStats,
    /// Per group: records not yet handled at the end (set by the engine).
    pub log_backlog: Vec<u64>,
    /// Autoscaled services' replicas (empty when none autoscales).
    pub autoscale: Vec<Option<Box<autoscale::ScaleStats>>>,
    /// Per outbox: records written, sent, marked, duplicates, depth.
    pub outboxes: Vec<outbox::OutboxStats>,
    /// Per source, when some source polls after an accepted answer.
    pub polls: Vec<polls::PollStats>,
    /// Versioned stores: reads, writes, conflicts (per store and service).
    pub stores: stores::StoreStats,
    /// Per service with outlier detection, its ejected replicas over time
    /// (empty when none detects).
    ejections: Vec<Option<Box<outlier::EjectionStats>>>,
}

impl Recorder {
    pub fn new(m: &Model, seed: u64) -> Recorder {
        let mut runtime = runtime::for_model(m);
        let mut series = SeriesWriter::new(
            m,
            [ENTRY_METRICS, SERVICE_METRICS, EDGE_METRICS, QUEUE_METRICS],
        );
        for (i, r) in runtime.iter_mut().enumerate() {
            if let Some(r) = r {
                r.add_series(&mut series, &m.services[i].name);
            }
        }
        let cache_stats = caches::for_model(m, &mut series);
        let log_stats = logs::for_model(m, &mut series);
        let saga_stats = sagas::for_model(m, &mut series);
        let autoscale = if m.services.iter().any(|s| s.autoscale.is_some()) {
            autoscale::for_model(m, &mut series)
        } else {
            Vec::new()
        };
        let outbox_stats = outbox::for_model(m, &mut series);
        let store_stats = stores::for_model(m, &mut series);
        let ejections = outlier::for_model(m, &mut series);
        let every_window: Vec<bool> = (0..m.services.len())
            .map(|i| {
                series.has(Scope::Service, i)
                    || runtime[i].is_some()
                    || autoscale.get(i).is_some_and(|a| a.is_some())
            })
            .collect();
        let capacity: Vec<u64> = m
            .services
            .iter()
            .map(|s| u64::from(s.threads) * u64::from(s.replicas))
            .collect();
        let pool = if series.aggregated(Scope::Service) && pool::pooling() {
            // The members: the services not visited every window.
            let threads = (0..capacity.len())
                .filter(|&i| !every_window[i])
                .map(|i| capacity[i] as f64)
                .sum();
            pool::ServicePool::new(threads)
        } else {
            pool::ServicePool::default()
        };
        let edge_pool = if series.aggregated(Scope::Edge) && pool::pooling() {
            pool::EdgePool::new()
        } else {
            pool::EdgePool::default()
        };
        Recorder {
            latency_log: None,
            window_sum: HistogramSum::default(),
            warmup: m.warmup,
            window: m.window,
            window_start: 0,
            next_edge: m.window,
            entries: m.sources.iter().map(|_| EntryStats::new()).collect(),
            services: Touched::new(
                m.services
                    .iter()
                    .map(|_| ServiceStats {
                        c: ServiceCounters::default(),
                        at_warmup: ServiceCounters::default(),
                        at_window: WindowCounts::default(),
                        busy: TimeWeighted::default(),
                        queued: TimeWeighted::default(),
                        line: RequestLine {
                            warmup: m.warmup,
                            ..RequestLine::default()
                        },
                        wait: LeanHistogram::empty(),
                        wait_sum: 0,
                        sojourn: LeanHistogram::empty(),
                        busy_before_warmup: 0,
                    })
                    .collect(),
            ),
            edges: Touched::new(vec![EdgeStats::default(); m.edges.len()]),
            every_window,
            pool,
            edge_pool,
            queues: (0..m.queues.len()).map(|q| QueueStats::new(m, q)).collect(),
            clients: vec![EdgeStats::default(); m.sources.len()],
            clients_at_warmup: vec![EdgeStats::default(); m.sources.len()],
            breakers: Vec::new(),
            edge_gauges: vec![(0.0, 0.0); m.edges.len()],
            edges_at_warmup: vec![EdgeStats::default(); m.edges.len()],
            edges_at_window: vec![EdgeWindowCounts::default(); m.edges.len()],
            capacity,
            series,
            caches: cache_stats,
            sagas: saga_stats,
            runtime,
            faults: m
                .faults
                .iter()
                .map(|f| FaultWindow {
                    kind: f.kind.label().into(),
                    target: f.target.clone(),
                    replica: f.replica,
                    start_s: secs(f.start),
                    end_s: secs(f.end),
                })
                .collect(),
            seed,
            logs: log_stats,
            log_backlog: vec![0; m.groups.len()],
            autoscale,
            outboxes: outbox_stats,
            polls: polls::for_model(m),
            stores: store_stats,
            ejections,
        }
    }

    /// Whether service `s` is a member of the pool: a wide model's service
    /// its window close visits only for the aggregate (`metrics/pool.rs`).
    #[inline(always)]
    fn pooled(&self, s: usize) -> bool {
        self.pool.on && !self.every_window[s]
    }

    /// Service `s`'s busy threads (connections) change by `delta` at `now`.
    /// (This and the next four are the only ways to change what a
    /// service's window row reads: they keep a wide model's pooled sums,
    /// `metrics/pool.rs`.)
    #[inline(always)]
    pub fn add_busy(&mut self, s: usize, now: Nanos, delta: i64) {
        self.services[s].add_busy(now, delta);
        if self.pooled(s) {
            self.pool.add_busy(now, delta);
        }
    }

    /// Service `s`'s queue changes by `delta` at `now`.
    #[inline(always)]
    pub fn add_queued(&mut self, s: usize, now: Nanos, delta: i64) {
        let stats = &mut self.services[s];
        let from = stats.queued.value;
        stats.add_queued(now, delta);
        if self.pooled(s) {
            self.pool.add_queued(now, from, delta);
        }
    }

    /// Sends every service's sojourns, every source's latencies and every
    /// queue's waits and latencies through one log (`latency_log.rs`)
    /// instead of a buffer each: for models too wide for their figures to
    /// stay in cache, where each histogram is a miss of its own (up to
    /// `latency_log::MAX_OWNERS` histograms: past that, the buffers stay).
    /// Changes no figure. Before the run.
    pub fn log_latencies(&mut self) {
        let owners = Logged::owners(self.services.len(), self.entries.len(), self.queues.len());
        self.latency_log = LatencyLog::new(owners);
    }

    /// Records `v` into `of`'s histogram: through the log on a wide model,
    /// through the histogram's own buffer otherwise (the callers on every
    /// request's path take that way themselves).
    #[inline(always)]
    fn log_value(&mut self, of: Logged, v: u64) {
        if v < u64::MAX
            && let Some(log) = &mut self.latency_log
        {
            if log.push(of.owner(self.services.len(), self.entries.len()), v) {
                self.fold_latencies();
            }
            return;
        }
        match of {
            Logged::Sojourns(s) => {
                let st = self.services.visit(s);
                st.line.sojourn_pending.record(&mut st.sojourn, v);
            }
            Logged::Latencies(i) => {
                let e = &mut self.entries[i];
                e.latency_ok_pending.record(&mut e.latency_ok, v);
            }
            Logged::QueueWaits(q) => {
                let st = &mut self.queues[q];
                st.wait_pending.record(&mut st.wait, v);
            }
            Logged::QueueLatencies(q) => {
                let st = &mut self.queues[q];
                st.latency_pending.record(&mut st.latency, v);
            }
        }
    }

    /// Records the latencies logged into their histograms (`LatencyLog::
    /// fold`): when the log is full, and before any of them is read.
    #[inline(never)]
    pub(super) fn fold_latencies(&mut self) {
        let Some(log) = &mut self.latency_log else {
            return;
        };
        let (services, entries) = (self.services.items_mut(), &mut self.entries);
        let (n_services, n_entries) = (services.len(), entries.len());
        let queues = &mut self.queues;
        log.fold(
            |owner, step| match Logged::of_owner(owner, n_services, n_entries) {
                Logged::Sojourns(s) => step.apply(&mut services[s].sojourn),
                Logged::Latencies(i) => step.apply(&mut entries[i].latency_ok),
                Logged::QueueWaits(q) => step.apply(&mut queues[q].wait),
                Logged::QueueLatencies(q) => step.apply(&mut queues[q].latency),
            },
        );
    }

    /// `log_value` for source `i`'s latency, out of line: inlined with
    /// `entry_done`, the wide model's path cost every request of a small
    /// model an instruction (M1).
    #[inline(never)]
    fn log_entry_latency(&mut self, i: usize, lat: u64) {
        self.log_value(Logged::Latencies(i), lat);
    }

    /// Queue `q` delivered a message published at `published` for the
    /// first time.
    pub fn record_queue_wait(&mut self, q: usize, published: Nanos, now: Nanos) {
        if let Some(w) = self.queues[q].record_wait(published, now) {
            self.log_value(Logged::QueueWaits(q), w);
        }
    }

    /// Queue `q`'s message published at `published` was acknowledged.
    pub fn record_queue_ack(&mut self, q: usize, published: Nanos, now: Nanos) {
        if let Some(lat) = self.queues[q].record_ack(published, now) {
            self.log_value(Logged::QueueLatencies(q), lat);
        }
    }

    /// Edge `e`'s row counter `what` went up by one (the only way the
    /// engine changes one: a wide model's pool sums them as they change).
    #[inline(always)]
    pub fn count_on_edge(&mut self, e: crate::model::EdgeId, what: EdgeCount) {
        self.edges[e].count(what);
        if self.edge_pool.on && !self.series.has(Scope::Edge, e.index()) {
            self.edge_pool.count(what);
        }
    }

    /// A request arrived at service `s` (before admission).
    #[inline(always)]
    pub fn count_arrival(&mut self, s: usize) {
        self.services[s].c.arrivals += 1;
        if self.pooled(s) {
            self.pool.c.arrivals += 1;
        }
    }

    /// Service `s` turned a request away: its queue was full, or it
    /// cannot take it (`refused` when it is down, not ready or cut off).
    #[inline(always)]
    pub fn count_rejected(&mut self, s: usize, refused: bool) {
        fn count(c: &mut ServiceCounters, refused: bool) {
            if refused {
                c.refused += 1;
            } else {
                c.rejected += 1;
            }
        }
        count(&mut self.services[s].c, refused);
        if self.pooled(s) {
            count(&mut self.pool.c, refused);
        }
    }

    /// Service `s` finished a request that arrived at `arrived` and
    /// started at `started` (`ServiceStats::record_done`).
    #[inline(always)]
    pub fn record_done(
        &mut self,
        s: usize,
        (arrived, started, now): (Nanos, Nanos, Nanos),
        orphan: bool,
        abandoned_at: Nanos,
    ) {
        let logs = self.latency_log.is_some();
        if let Some(sojourn) =
            self.services[s].record_done((arrived, started, now), orphan, abandoned_at, logs)
        {
            self.log_value(Logged::Sojourns(s), sojourn);
        }
        if self.pooled(s) {
            self.pool.c.completed += 1;
            if orphan {
                self.pool.c.orphaned_work_ns += u128::from(now - started);
            }
        }
    }

    /// Service `s`'s balancer has `count` replicas ejected from `now`.
    pub fn ejected_changed(&mut self, s: usize, now: Nanos, count: u32) {
        if let Some(e) = self.ejections.get_mut(s).and_then(|e| e.as_deref_mut()) {
            e.set(now, count);
        }
    }

    /// Whether `t` closes at least one window (the engine then samples its
    /// gauges first).
    #[inline]
    pub fn closes_window(&self, t: Nanos) -> bool {
        t >= self.next_edge
    }

    /// The edge gauges' vector, to be filled again and handed back by
    /// `set_edge_gauges` (no allocation per window).
    pub fn take_edge_gauges(&mut self) -> Vec<(f64, f64)> {
        std::mem::take(&mut self.edge_gauges)
    }

    pub fn set_edge_gauges(&mut self, gauges: Vec<(f64, f64)>) {
        self.edge_gauges = gauges;
    }

    #[inline]
    pub fn advance_windows(&mut self, t: Nanos) {
        while t >= self.next_edge {
            let edge = self.next_edge;
            self.close_window(edge);
        }
    }

    fn close_window(&mut self, end: Nanos) {
        let len = end - self.window_start;
        let per_s = if len == 0 { 0.0 } else { 1e9 / len as f64 };
        let series = &mut self.series;

        let all = series.aggregated(Scope::Entry);
        let mut total = OutcomeCounts::default();
        for (i, e) in self.entries.iter_mut().enumerate() {
            if series.has(Scope::Entry, i) {
                let row = e.window.row(e.window_latency.histogram(), per_s);
                series.put(Scope::Entry, i, &row);
            }
            if all {
                total = total.plus(&e.window);
                e.window_latency.add_to(&mut self.window_sum);
            }
            e.window = OutcomeCounts::default();
            e.window_latency.reset();
        }
        if all {
            let latency = self.window_sum.take();
            series.put_all(Scope::Entry, &total.row(&latency, per_s));
        }

        let all = series.aggregated(Scope::Service);
        let mut total = ServiceWindow::default();
        let pooled = self.pool.on;
        if pooled {
            let p = self.pool.close_window(end, len);
            total = ServiceWindow {
                busy: p.busy,
                capacity: self.pool.capacity,
                queue: p.queue,
                queue_max: p.queue_max,
                d: p.d,
                ..ServiceWindow::default()
            };
        }
        for i in 0..self.services.len() {
            if pooled {
                // Only in the aggregate, through the pool's sums (the
                // members: `pooled`).
                if !self.every_window[i] {
                    continue;
                }
            } else if all {
                // A wide model: its services are not in cache. Ask for a
                // later one's lines while this one is closed.
                prefetch_window(
                    &self.services,
                    &self.every_window,
                    i + WINDOW_PREFETCH_AHEAD,
                );
            }
            if !self.services.is_touched(i) && !self.every_window[i] {
                // Unchanged since the last close, with no thread busy and
                // nothing queued all window: its row would be zeros, and
                // of the aggregate it adds only its threads.
                if all {
                    total.capacity += self.capacity[i] as f64;
                }
                continue;
            }
            let s = self.services.visit(i);
            let (busy, _) = s.busy.close_window(end, len);
            let (queue, queue_max) = s.queued.close_window(end, len);
            let loop_util = match &mut self.runtime[i] {
                Some(r) => r.close_window(series, end, len, busy),
                None => None,
            };
            let capacity = match self.autoscale.get_mut(i).and_then(|a| a.as_deref_mut()) {
                Some(a) => a.close_window(series, end, len),
                None => self.capacity[i] as f64,
            };
            let now = WindowCounts::of(&s.c);
            let w = ServiceWindow {
                busy,
                loop_util,
                loops: self.runtime[i].as_ref().map_or(0.0, |r| r.loop_capacity()),
                capacity,
                queue,
                queue_max,
                d: now.minus(&s.at_window),
            };
            s.at_window = now;
            // A level still above zero is visited again next window.
            let busy_or_queued = s.busy.value != 0 || s.queued.value != 0;
            self.services.set_touched(i, busy_or_queued);
            if series.has(Scope::Service, i) {
                series.put(Scope::Service, i, &w.row(per_s));
            }
            if all {
                total.merge(&w);
            }
        }
        if all {
            series.put_all(Scope::Service, &total.row(per_s));
        }

        let all = series.aggregated(Scope::Edge);
        let mut total = EdgeWindow::default();
        let edges_pooled = self.edge_pool.on;
        if edges_pooled {
            total.d = self.edge_pool.close_window();
        }
        for i in 0..self.edges.len() {
            let (open, in_flight) = self.edge_gauges.get(i).copied().unwrap_or((0.0, 0.0));
            let has = series.has(Scope::Edge, i);
            if edges_pooled && !has {
                // A member: its counts are in the pool's, its gauges are
                // added here, in the order a visit adds them.
                total.merge(&EdgeWindow {
                    d: EdgeWindowCounts::default(),
                    open,
                    edges: 1,
                    in_flight,
                });
                continue;
            }
            let k = i + WINDOW_PREFETCH_AHEAD;
            if all && !edges_pooled && k < self.edges.len() {
                // As for services: a later edge's counters (both lines a
                // row reads, `EdgeStats`) and snapshot.
                prefetch::lines(&self.edges[k], 2);
                prefetch::line(&self.edges_at_window[k]);
            }
            if !self.edges.is_touched(i) && !has && open == 0.0 && in_flight == 0.0 {
                // Unchanged, no breaker open, nothing in flight: zeros.
                if all {
                    total.edges += 1;
                }
                continue;
            }
            self.edges.set_touched(i, false);
            let now = EdgeWindowCounts::of(&self.edges[i]);
            let w = EdgeWindow {
                d: now.minus(&self.edges_at_window[i]),
                open,
                edges: 1,
                in_flight,
            };
            self.edges_at_window[i] = now;
            if has {
                series.put(Scope::Edge, i, &w.row(per_s));
            }
            if all {
                total.merge(&w);
            }
        }
        if all {
            series.put_all(Scope::Edge, &total.row(per_s));
        }

        let all = series.aggregated(Scope::Queue);
        let mut total = QueueWindow::default();
        for (i, q) in self.queues.iter_mut().enumerate() {
            let w = q.close_window(end, len);
            if series.has(Scope::Queue, i) {
                series.put(Scope::Queue, i, &w.row(q.window_latency.histogram(), per_s));
            }
            if all {
                total.merge(&w);
                q.window_latency.add_to(&mut self.window_sum);
            }
            q.window_latency.reset();
        }
        if all {
            let lag = self.window_sum.take();
            series.put_all(Scope::Queue, &total.row(&lag, per_s));
        }

        for c in &mut self.caches {
            c.close_window(series, per_s);
        }
        if !self.logs.groups.is_empty() {
            self.logs.close_window(series, per_s);
        }
        for g in &mut self.sagas {
            g.close_window(series, per_s);
        }
        for o in &mut self.outboxes {
            o.close_window(series, end, len, per_s);
        }
        self.stores.close_window(series, per_s);
        for e in self.ejections.iter_mut().flatten() {
            e.close_window(series, end, len);
        }
        series.end_window(self.window_start, end);
        self.window_start = end;
        self.next_edge = end + self.window;
    }

    pub fn start_measuring(&mut self, now: Nanos) {
        self.stores.start_measuring();
        for c in &mut self.caches {
            c.start_measuring();
        }
        for g in &mut self.sagas {
            g.start_measuring();
        }
        for o in &mut self.outboxes {
            o.start_measuring(now);
        }
        for r in self.runtime.iter_mut().flatten() {
            r.start_measuring(now);
        }
        for a in self.autoscale.iter_mut().flatten() {
            a.start_measuring(now);
        }
        for s in self.services.items_mut() {
            s.at_warmup = s.c;
            s.busy.flush(now);
            s.busy_before_warmup = s.busy.area;
            s.busy.restart(now);
            s.queued.restart(now);
        }
        for q in &mut self.queues {
            q.start_measuring(now);
        }
        self.edges_at_warmup
            .clone_from_slice(self.edges.items_mut());
        self.clients_at_warmup.clone_from(&self.clients);
    }

    /// Breaker accounting per call spec, summed over caller replicas.
    pub fn breaker_totals(&mut self, per_spec: &[crate::patterns::BreakerStats]) {
        self.breakers = per_spec.to_vec();
    }

    #[inline]
    pub fn entry_arrival(&mut self, i: usize, now: Nanos) {
        let e = &mut self.entries[i];
        e.window.arrivals += 1;
        if now >= self.warmup {
            e.requests += 1;
        }
    }

    // Called once per request, from two places (`request_answered` and
    // an accepted request's result).
    #[inline(always)]
    pub fn entry_done(&mut self, i: usize, arrived: Nanos, now: Nanos, outcome: Outcome) {
        let e = &mut self.entries[i];
        let lat = now - arrived;
        let bump = |c: &mut OutcomeCounts| match outcome {
            Outcome::Ok => c.ok += 1,
            Outcome::Degraded => c.degraded += 1,
            Outcome::Timeout => c.timeout += 1,
            Outcome::Rejected | Outcome::Refused | Outcome::Reset => c.rejected += 1,
            // A conflict answers 409: an error to the client.
            Outcome::Error | Outcome::CircuitOpen | Outcome::Conflict => c.error += 1,
        };
        bump(&mut e.window);
        if outcome.is_success() {
            if self.latency_log.is_some() {
                e.window_latency.record(lat);
            } else {
                e.window_latency.record_direct(lat);
            }
        }
        if arrived >= self.warmup {
            bump(&mut e.measured);
            e.latency_all_sum += u128::from(lat);
            if !outcome.is_success() {
                e.latency_failed.record(lat);
            } else {
                e.latency_ok_sum += u128::from(lat);
                if self.latency_log.is_none() {
                    e.latency_ok_pending.record(&mut e.latency_ok, lat);
                } else {
                    self.log_entry_latency(i, lat);
                }
            }
        }
    }

    /// No log: every latency through its own buffer, as in a small model
    /// (for tests that hold a wide model's log to change no figure).
    #[cfg(test)]
    pub fn unlog_latencies(&mut self) {
        self.latency_log = None;
    }
}

#[cfg(test)]
mod tests {
    use super::{EdgeStats, EntryStats, wide_to_f64};

    /// A source's sending touches its figures' first line; its answer the
    /// first four (what `answer_lines` asks for), the whole-run histogram
    /// only when its waiting latencies are drained.
    #[test]
    fn a_request_touches_the_first_four_lines_of_its_source() {
        use std::mem::{offset_of, size_of};
        use std::ops::Range;
        let span =
            |offset: usize, size: usize| -> Range<usize> { offset / 64..(offset + size - 1) / 64 };
        let window = offset_of!(EntryStats, window);
        assert_eq!(span(window, size_of::<super::OutcomeCounts>()), 0..0);
        assert_eq!(span(offset_of!(EntryStats, requests), 8), 0..0);
        let pending = offset_of!(EntryStats, latency_ok_pending);
        assert!(span(pending, size_of::<super::Pending>()).end < 4);
        assert!(
            span(
                offset_of!(EntryStats, window_latency),
                size_of::<super::WindowLatencies>()
            )
            .end < 4
        );
        assert_eq!(EntryStats::ANSWER_LINES, 4);
        assert!(span(offset_of!(EntryStats, latency_ok_sum), 16).end < 4);
    }

    #[test]
    fn an_answered_call_moves_counters_on_one_line_of_its_edge() {
        use std::mem::offset_of;
        let line = |offset: usize| offset / 64;
        assert_eq!(line(offset_of!(EdgeStats, calls)), 0);
        assert_eq!(line(offset_of!(EdgeStats, attempts)), 0);
        assert_eq!(line(offset_of!(EdgeStats, ok)), 0);
        assert_eq!(line(offset_of!(EdgeStats, sent)), 0);
    }

    #[test]
    fn a_wide_count_converts_to_the_same_float_as_a_cast() {
        let mut lcg = crate::rng::TestLcg(7);
        let mut next = || lcg.next();
        let edges = [
            0,
            1,
            (1u128 << 53) + 1,
            u128::from(u64::MAX) - 1,
            u128::from(u64::MAX),
            u128::from(u64::MAX) + 1,
            u128::MAX,
        ];
        for v in edges {
            assert_eq!(wide_to_f64(v).to_bits(), (v as f64).to_bits(), "{v}");
        }
        for _ in 0..10_000 {
            // Every width, rounding-heavy low bits included.
            let v = (u128::from(next()) << 64 | u128::from(next())) >> (next() % 128);
            assert_eq!(wide_to_f64(v).to_bits(), (v as f64).to_bits(), "{v}");
        }
    }
}
