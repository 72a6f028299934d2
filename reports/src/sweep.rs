//! The results of a parameter sweep (`cascade sweep`, `cascade merge`) as
//! plain data: what was swept, and each point's mean and confidence
//! interval per headline metric. The sweep's charts (`charts::sweep`) and
//! report page (`html::sweep`) read it.
//!
//! Owns the types and how a metric column reads. Must not compute: the
//! cli aggregates the runs (in canonical order, so sharded and unsharded
//! sweeps give the same bytes) and fills these types.

use crate::numbers::{fixed, pct, sig_decimals, sig3};

/// A sweep's points, aggregated over their replications.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepTable {
    /// The scenario's name.
    pub scenario: String,
    pub scenario_hash: String,
    pub version: String,
    pub seed: u64,
    /// Replications per point.
    pub reps: u32,
    /// Fixed overrides of every run, `path=value`.
    pub set: Vec<String>,
    /// Swept parameter paths, in axis order (the first varies slowest).
    pub params: Vec<String>,
    pub runs_total: u64,
    /// Metric columns (`entry.api.p99_ms`), as in `aggregate.csv`.
    pub columns: Vec<String>,
    /// In canonical order.
    pub points: Vec<SweepPoint>,
}

/// One point of a sweep.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepPoint {
    pub point: u64,
    /// Parameter values as written, in the order of `SweepTable::params`.
    pub params: Vec<String>,
    /// Runs aggregated.
    pub runs: usize,
    /// Per column: the mean over the runs that have it.
    pub mean: Vec<Option<f64>>,
    /// Per column: half-width of the 95 % confidence interval (`None`
    /// with fewer than two runs).
    pub ci95: Vec<Option<f64>>,
}

/// What a metric column measures, from its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnUnit {
    Ms,
    PerSecond,
    Fraction,
    Seconds,
    Count,
}

impl ColumnUnit {
    pub fn of(column: &str) -> ColumnUnit {
        let last = column.rsplit('.').next().unwrap_or(column);
        if last.ends_with("_ms") {
            ColumnUnit::Ms
        } else if last.ends_with("_rps") {
            ColumnUnit::PerSecond
        } else if last.ends_with("_rate") || last == "utilization" {
            ColumnUnit::Fraction
        } else if last.ends_with("_s") {
            ColumnUnit::Seconds
        } else {
            ColumnUnit::Count
        }
    }

    /// The unit's name for an axis or a header.
    pub fn label(self) -> &'static str {
        match self {
            ColumnUnit::Ms => "ms",
            ColumnUnit::PerSecond => "requests/s",
            ColumnUnit::Fraction => "%",
            ColumnUnit::Seconds => "s",
            ColumnUnit::Count => "count",
        }
    }

    /// A value as people read it: three significant digits, fractions as
    /// percentages.
    pub fn fmt(self, v: f64) -> String {
        match self {
            ColumnUnit::Fraction => pct(v),
            _ => sig3(v),
        }
    }

    /// The half-width of an interval around `mean`, with the mean's
    /// decimals; fractions in percentage points.
    pub fn fmt_half(self, mean: f64, half: f64) -> String {
        match self {
            ColumnUnit::Fraction => {
                let pp = half * 100.0;
                format!("{} pp", fixed(pp, sig_decimals(pp).min(2)))
            }
            _ => fixed(half, sig_decimals(if mean == 0.0 { half } else { mean })),
        }
    }
}

/// `entry.api.p99_ms` → (`entry`, `api`, `p99_ms`); a name may hold dots.
pub fn split_column(column: &str) -> (&str, &str, &str) {
    let (scope, rest) = column.split_once('.').unwrap_or(("", column));
    let (name, metric) = rest.rsplit_once('.').unwrap_or((rest, ""));
    (scope, name, metric)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_name_their_unit() {
        assert_eq!(ColumnUnit::of("entry.api.p99_ms"), ColumnUnit::Ms);
        assert_eq!(
            ColumnUnit::of("entry.api.goodput_rps"),
            ColumnUnit::PerSecond
        );
        assert_eq!(ColumnUnit::of("entry.api.error_rate"), ColumnUnit::Fraction);
        assert_eq!(
            ColumnUnit::of("service.db.utilization"),
            ColumnUnit::Fraction
        );
        assert_eq!(
            ColumnUnit::of("queue.q.oldest_age_max_s"),
            ColumnUnit::Seconds
        );
        assert_eq!(ColumnUnit::of("queue.q.depth_max"), ColumnUnit::Count);
        assert_eq!(ColumnUnit::Fraction.fmt(0.0731), "7.3%");
        assert_eq!(ColumnUnit::Ms.fmt(41.156), "41.2");
        assert_eq!(ColumnUnit::PerSecond.fmt_half(304.0, 0.998), "1");
        assert_eq!(ColumnUnit::Ms.fmt_half(9.24, 0.0), "0.00");
        assert_eq!(ColumnUnit::Fraction.fmt_half(0.04, 0.028), "2.80 pp");
    }

    #[test]
    fn columns_split_at_the_first_and_last_dot() {
        assert_eq!(split_column("entry.a.b.p99_ms"), ("entry", "a.b", "p99_ms"));
    }
}
