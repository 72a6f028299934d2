//! The windowed time series as it is written: which names get series of
//! their own, and the columns.
//!
//! Every series grows by one value per window, so memory is names ×
//! windows. To keep it bounded at thousands of services, each scope
//! (entries, services, edges, queues) keeps series for at most
//! `NAMES_PER_SCOPE` names; a scope with more also gets one aggregate over
//! all its names (scope `entries`, `services`, `edges` or `queues`, name
//! `all`). The names kept are those the scenario points at (fault targets,
//! SLO keys) first, then the rest in file order. When the scenario has
//! faults, every entry keeps the three series recovery is judged from
//! (`RECOVERY_METRICS`). Scopes within the limit are written exactly as
//! they always were.
//!
//! During the run each series' values are packed (`series_packed.rs`);
//! `finish` hands them over still packed, and `PackedSeries::unpack`
//! makes the plain lists the outputs read once the engine's state is gone.

use crate::model::{Model, SloScope};
use crate::output::{Series, TimeSeries};
use crate::time::{Nanos, secs};

use super::series_packed::PackedValues;
use super::series_rows::Rows;

/// Names per scope with series of their own.
pub const NAMES_PER_SCOPE: usize = 64;

/// The entry series `recovery` reads: kept for every entry of a scenario
/// with faults.
pub const RECOVERY_METRICS: &[&str] = &["arrivals_rps", "goodput_rps", "p99_ms"];

/// The four scopes, in the order their series are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    Entry = 0,
    Service = 1,
    Edge = 2,
    Queue = 3,
}

impl Scope {
    /// The scope of one name's series, and that of the aggregate.
    fn labels(self) -> (&'static str, &'static str) {
        match self {
            Scope::Entry => ("entry", "entries"),
            Scope::Service => ("service", "services"),
            Scope::Edge => ("edge", "edges"),
            Scope::Queue => ("queue", "queues"),
        }
    }
}

const NONE: u32 = u32::MAX;

/// One scope's columns.
struct Columns {
    metrics: usize,
    /// Per name and metric (name-major): the index in `series`, or `NONE`.
    slot: Vec<u32>,
    /// Per name: whether it has any series.
    has: Vec<bool>,
    /// The aggregate's first series, when the scope has too many names.
    all: Option<u32>,
}

pub struct SeriesWriter {
    /// The windows, and each series' names; its values are in `packed`.
    ts: TimeSeries,
    /// Per series (the same order as `ts.series`): its values.
    packed: Vec<PackedValues>,
    scopes: [Columns; 4],
    /// The values written, staged a window's row at a time before they
    /// go onto `packed`'s lists (`series_rows.rs`).
    rows: Rows,
}

/// The names of a scope to keep: `named` first (deduplicated), then the
/// others in order, up to `NAMES_PER_SCOPE`.
fn keep(count: usize, named: impl IntoIterator<Item = usize>) -> Vec<bool> {
    let mut kept = vec![false; count];
    let mut n = 0;
    for i in named.into_iter().chain(0..count) {
        if n == NAMES_PER_SCOPE {
            break;
        }
        if i < count && !kept[i] {
            kept[i] = true;
            n += 1;
        }
    }
    kept
}

/// Windows a run is likely to close, as a capacity hint for the windows'
/// bounds: arrivals, then a drain no longer than the arrivals; at most
/// 2^14 (a run that stops early should not hold room it never uses;
/// longer ones grow as usual).
fn expected_windows(m: &Model) -> usize {
    let span = m.duration.saturating_add(m.drain.min(m.duration));
    let windows = span / m.window.max(1) + 1;
    windows.min(1 << 14) as usize
}

impl SeriesWriter {
    /// The columns of `m`: `metrics[scope]` names each scope's series, in
    /// the order `put` takes their values.
    pub fn new(m: &Model, metrics: [&[&str]; 4]) -> SeriesWriter {
        let slo_names = |scope: SloScope| -> Vec<&str> {
            m.slos
                .iter()
                .filter(|s| s.metric.scope() == scope)
                .map(|s| s.name.as_str())
                .collect()
        };
        let by_name = |names: Vec<&str>, all: &mut dyn Iterator<Item = &String>| {
            let all: Vec<&String> = all.collect();
            names
                .into_iter()
                .filter_map(|n| all.iter().position(|a| *a == n))
                .collect::<Vec<usize>>()
        };
        let entries = {
            let mut named: Vec<usize> = m
                .faults
                .iter()
                .filter_map(|f| f.source)
                .map(|s| s as usize)
                .collect();
            named.extend(by_name(
                slo_names(SloScope::Entry),
                &mut m.sources.iter().map(|s| &s.name),
            ));
            keep(m.sources.len(), named)
        };
        let services = {
            let mut named: Vec<usize> = m
                .faults
                .iter()
                .filter_map(|f| f.service)
                .map(|s| s.index())
                .collect();
            named.extend(by_name(
                slo_names(SloScope::Service),
                &mut m.services.iter().map(|s| &s.name),
            ));
            keep(m.services.len(), named)
        };
        let edges = keep(
            m.edges.len(),
            m.faults
                .iter()
                .flat_map(|f| f.edges.iter().map(|&e| e.index())),
        );
        let queues = {
            let mut named = by_name(
                slo_names(SloScope::Queue),
                &mut m.queues.iter().map(|q| &q.name),
            );
            for f in &m.faults {
                if let Some(b) = f.broker {
                    named.extend((0..m.queues.len()).filter(|&q| m.queues[q].broker == b));
                }
            }
            keep(m.queues.len(), named)
        };
        let names: [Vec<&str>; 4] = [
            m.sources.iter().map(|s| s.name.as_str()).collect(),
            m.services.iter().map(|s| s.name.as_str()).collect(),
            m.edges.iter().map(|e| e.name.as_str()).collect(),
            m.queues.iter().map(|q| q.name.as_str()).collect(),
        ];
        let kept = [entries, services, edges, queues];
        let windows = expected_windows(m);
        let mut series = Vec::new();
        let mut column = |scope: &str, name: &str, metric: &str| {
            series.push(Series {
                scope: scope.into(),
                name: name.into(),
                metric: metric.into(),
                values: Vec::new(),
            });
            (series.len() - 1) as u32
        };
        let scopes = [Scope::Entry, Scope::Service, Scope::Edge, Scope::Queue].map(|scope| {
            let k = scope as usize;
            let (label, all_label) = scope.labels();
            let mut slot = Vec::with_capacity(names[k].len() * metrics[k].len());
            for (i, name) in names[k].iter().enumerate() {
                for metric in metrics[k] {
                    let recovery = scope == Scope::Entry
                        && !m.faults.is_empty()
                        && RECOVERY_METRICS.contains(metric);
                    slot.push(if kept[k][i] || recovery {
                        column(label, name, metric)
                    } else {
                        NONE
                    });
                }
            }
            let all = (names[k].len() > NAMES_PER_SCOPE).then(|| {
                let first = column(all_label, "all", metrics[k][0]);
                for metric in &metrics[k][1..] {
                    column(all_label, "all", metric);
                }
                first
            });
            let has = slot
                .chunks(metrics[k].len().max(1))
                .map(|c| c.iter().any(|&x| x != NONE))
                .collect();
            Columns {
                metrics: metrics[k].len(),
                slot,
                has,
                all,
            }
        });
        let packed = vec![PackedValues::new(); series.len()];
        let mut rows = Rows::default();
        rows.widen(packed.len());
        SeriesWriter {
            ts: TimeSeries {
                window_s: secs(m.window),
                window_start_s: Vec::with_capacity(windows),
                window_end_s: Vec::with_capacity(windows),
                series,
            },
            packed,
            scopes,
            rows,
        }
    }

    /// Whether `scope` has more names than series of their own (and so an
    /// aggregate, which the caller computes and hands to `put_all`).
    pub fn aggregated(&self, scope: Scope) -> bool {
        self.scopes[scope as usize].all.is_some()
    }

    /// Whether name `i` has series of its own (else `put` is not needed).
    #[inline]
    pub fn has(&self, scope: Scope, i: usize) -> bool {
        self.scopes[scope as usize].has[i]
    }

    /// Name `i`'s values of the window, in the scope's metric order. (This,
    /// `put_all` and `put_at` write each series at most once a window:
    /// `series_rows.rs` keeps one value a series a window.)
    #[inline]
    pub fn put(&mut self, scope: Scope, i: usize, row: &[f64]) {
        let c = &self.scopes[scope as usize];
        debug_assert_eq!(row.len(), c.metrics);
        for (&slot, &v) in c.slot[i * c.metrics..(i + 1) * c.metrics].iter().zip(row) {
            if slot != NONE {
                self.rows.put(slot as usize, v);
            }
        }
    }

    /// The aggregate's values of the window.
    pub fn put_all(&mut self, scope: Scope, row: &[f64]) {
        if let Some(first) = self.scopes[scope as usize].all {
            self.put_at(first, row);
        }
    }

    /// Adds series of `name` for `metrics` after every scope's (so a
    /// model without them writes exactly what it always did); returns the
    /// first one's slot, for `put_at`.
    pub fn add_series(&mut self, scope: &str, name: &str, metrics: &[&str]) -> u32 {
        let first = self.ts.series.len() as u32;
        for metric in metrics {
            self.ts.series.push(Series {
                scope: scope.into(),
                name: name.into(),
                metric: (*metric).into(),
                values: Vec::new(),
            });
            self.packed.push(PackedValues::new());
        }
        self.rows.widen(self.packed.len());
        first
    }

    /// The window's values of the series from slot `first` on.
    #[inline]
    pub fn put_at(&mut self, first: u32, row: &[f64]) {
        for (k, &v) in row.iter().enumerate() {
            self.rows.put(first as usize + k, v);
        }
    }

    /// Closes the window `[start, end)` once every value is in.
    pub fn end_window(&mut self, start: Nanos, end: Nanos) {
        self.ts.window_start_s.push(secs(start));
        self.ts.window_end_s.push(secs(end));
        self.rows.end_window(&mut self.packed);
    }

    /// Every value written, still packed.
    pub fn finish(mut self) -> PackedSeries {
        // Values written after the last closed window go at the end.
        self.rows.end_window(&mut self.packed);
        PackedSeries {
            ts: self.ts,
            packed: self.packed,
        }
    }
}

/// A run's time series with the values still packed.
#[derive(Debug)]
pub struct PackedSeries {
    ts: TimeSeries,
    packed: Vec<PackedValues>,
}

impl PackedSeries {
    /// The plain series, each list made as its packed one is dropped.
    pub fn unpack(self) -> TimeSeries {
        let mut ts = self.ts;
        for (s, p) in ts.series.iter_mut().zip(self.packed) {
            debug_assert!(p.len() <= ts.window_start_s.len());
            s.values = p.unpack();
        }
        ts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `n` chains a → b, each with its own source, and `extra` TOML.
    fn run(n: usize, extra: &str) -> crate::output::RunResult {
        let mut text = String::from("name = \"wide\"\nduration = \"5s\"\nseed = 3\n");
        for i in 0..n {
            text.push_str(&format!(
                "[workload.w{i}]\ntarget = \"a{i}\"\nrate = 20\n\
                 [services.a{i}]\nthreads = 2\nsteps = [{{ work = \"1ms\" }}, {{ call = \"b{i}\" }}]\n\
                 [services.b{i}]\nthreads = 2\nsteps = [{{ work = \"2ms\" }}]\n"
            ));
        }
        text.push_str(extra);
        let s = crate::scenario::load("wide.toml", &text, &[]).expect("scenario loads");
        crate::run_scenario(&s, None, &[])
    }

    fn names(ts: &TimeSeries, scope: &str) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for s in ts.series.iter().filter(|s| s.scope == scope) {
            if !out.contains(&s.name) {
                out.push(s.name.clone());
            }
        }
        out
    }

    #[test]
    fn a_wide_model_keeps_a_bounded_set_and_sums_the_rest() {
        let r = run(
            40,
            "[[fault]]\ntarget = \"b39\"\nslowdown = 3\nat = \"1s\"\nfor = \"1s\"\n\
             [slo]\n\"service.a38.utilization\" = \"< 90%\"\n",
        );
        let ts = &r.timeseries;
        // 80 services: the fault's and the SLO's targets, then file order.
        let services = names(ts, "service");
        assert_eq!(services.len(), NAMES_PER_SCOPE);
        assert!(services.contains(&"b39".to_string()) && services.contains(&"a38".to_string()));
        assert!(services.contains(&"a0".to_string()) && !services.contains(&"a37".to_string()));
        // Kept names are written in file order, each with every metric.
        assert_eq!(services[0], "a0");
        assert_eq!(ts.series.iter().filter(|s| s.name == "b39").count(), 9);
        // The aggregate counts every service, kept or not.
        let all = ts
            .get("services", "all", "arrivals_rps")
            .expect("aggregate");
        let arrivals: f64 = all
            .values
            .iter()
            .zip(ts.window_start_s.iter().zip(&ts.window_end_s))
            .map(|(v, (a, b))| v * (b - a))
            .sum();
        let total: u64 = r.summary.services.values().map(|s| s.arrivals).sum();
        assert!(
            (arrivals - total as f64).abs() < 1e-6,
            "{arrivals} vs {total}"
        );
        let util = ts.get("services", "all", "utilization").unwrap();
        let busy = ts.get("services", "all", "busy_threads").unwrap();
        assert!((util.values[2] - busy.values[2] / 160.0).abs() < 1e-12);
        // 40 edges and 40 entries are within the limit: no aggregate.
        assert!(
            ts.series
                .iter()
                .all(|s| s.scope != "edges" && s.scope != "entries")
        );
        assert_eq!(names(ts, "entry").len(), 40);
        // The summary still has everyone.
        assert_eq!(r.summary.services.len(), 80);
    }

    #[test]
    fn with_faults_every_entry_keeps_what_recovery_reads() {
        let r = run(
            NAMES_PER_SCOPE + 2,
            "[[fault]]\ntarget = \"b0\"\nslowdown = 3\nat = \"1s\"\nfor = \"1s\"\n",
        );
        let ts = &r.timeseries;
        let last = format!("w{}", NAMES_PER_SCOPE + 1);
        let mine: Vec<&str> = ts
            .series
            .iter()
            .filter(|s| s.scope == "entry" && s.name == last)
            .map(|s| s.metric.as_str())
            .collect();
        assert_eq!(mine, RECOVERY_METRICS);
        assert_eq!(names(ts, "entry").len(), NAMES_PER_SCOPE + 2);
        assert!(ts.get("entries", "all", "p99_ms").is_some());
        assert!(r.summary.recovery.iter().any(|x| x.entry == last));
        assert!(
            r.summary
                .recovery
                .iter()
                .all(|x| x.verdict != crate::output::Verdict::NoBaseline)
        );
    }

    #[test]
    fn keeps_named_first_then_file_order_up_to_the_limit() {
        let k = keep(100, [90, 3, 90]);
        assert_eq!(k.iter().filter(|x| **x).count(), NAMES_PER_SCOPE);
        assert!(k[90] && k[3] && k[0] && k[NAMES_PER_SCOPE - 2]);
        assert!(!k[NAMES_PER_SCOPE - 1] && !k[99]);
        assert_eq!(keep(3, [7]), [true, true, true]);
    }
}
