//! The results of a comparison (`cascade compare`) as plain data: the
//! layout of `compare.json`, which the compare report reads too, and how
//! a compared metric reads (its unit, values, differences and interval
//! half-widths), in the report and on the terminal alike.
//!
//! Owns the types and the formatting. Must not compute: the cli pairs the
//! runs on their seeds and fills these types; nothing here runs anything.

use serde::Serialize;

use crate::numbers::{fixed, fixed_signed, sig_decimals, sig3, sig3_signed};

/// `compare.json`: every scenario, the seeds, and each headline metric's
/// values and paired differences.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    pub format: u32,
    pub version: String,
    pub scenarios: Vec<ScenarioOut>,
    pub overrides: Vec<String>,
    pub master_seed: u64,
    /// The seeds of the first scenario, rep by rep; with common random
    /// numbers every scenario runs on exactly these.
    pub seeds: Vec<u64>,
    pub reps: u32,
    pub common_random_numbers: bool,
    pub metrics: indexmap::IndexMap<String, MetricOut>,
    /// Why the comparison stopped before its last rep (Ctrl-C,
    /// `--max-wall`), when it did: `reps` and `seeds` then count only the
    /// reps every scenario finished.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partial: Option<Partial>,
}

/// A comparison cut short: what it planned and why it stopped.
#[derive(Debug, Clone, Serialize)]
pub struct Partial {
    pub reason: String,
    pub reps_planned: u32,
}

/// One compared scenario.
#[derive(Debug, Clone, Serialize)]
pub struct ScenarioOut {
    /// Its column header: the file stem, made unique.
    pub label: String,
    pub file: String,
    /// The `name` the scenario gives itself.
    pub name: String,
    pub scenario_hash: String,
    pub seeds: Vec<u64>,
}

/// One headline metric of one item (entry, queue, service).
#[derive(Debug, Clone, Serialize)]
pub struct MetricOut {
    /// `entries`, `queues` or `services`.
    pub section: String,
    /// The item's name.
    pub name: String,
    /// Dotted path inside the item's summary (`latency_ms.p99`).
    pub field: String,
    pub unit: Unit,
    /// Per scenario, in command-line order.
    pub scenarios: Vec<ValuesOut>,
    /// Per scenario after the first: its paired differences against it.
    pub pairs: Vec<PairOut>,
}

/// One scenario's values of a metric.
#[derive(Debug, Clone, Serialize)]
pub struct ValuesOut {
    /// Per rep; `None` when the scenario lacks the metric.
    pub values: Option<Vec<f64>>,
    pub mean: Option<f64>,
}

/// A scenario's paired differences against the baseline.
#[derive(Debug, Clone, Serialize)]
pub struct PairOut {
    pub scenario: usize,
    pub baseline: usize,
    /// Per rep: scenario − baseline on the same seed.
    pub differences: Option<Vec<f64>>,
    pub mean: Option<f64>,
    /// Half-width of the 95 % CI of the mean difference (Student t).
    pub ci95: Option<f64>,
    /// Sample standard deviation of the per-rep differences.
    pub sd: Option<f64>,
    pub ci_excludes_zero: Option<bool>,
}

/// How a metric reads, from its field name.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    Ms,
    Fraction,
    PerSecond,
    Seconds,
    Count,
}

impl Unit {
    /// The unit written after a value, a difference or a half-width:
    /// empty for counts and fractions (`fmt_value` and `fmt_diff` give
    /// fractions their `%` and `pp`).
    pub fn suffix(self) -> &'static str {
        match self {
            Unit::Ms => " ms",
            Unit::PerSecond => "/s",
            Unit::Seconds => " s",
            Unit::Fraction | Unit::Count => "",
        }
    }
}

pub fn unit_of(field: &str) -> Unit {
    let last = field.rsplit('.').next().unwrap_or(field);
    if field.contains("_ms.") || last.ends_with("_ms") {
        Unit::Ms
    } else if last.ends_with("_rate")
        || last.ends_with("_ratio")
        || last.ends_with("_share")
        || last.ends_with("utilization")
    {
        Unit::Fraction
    } else if last.ends_with("_rps") {
        Unit::PerSecond
    } else if last.ends_with("_s") {
        Unit::Seconds
    } else {
        Unit::Count
    }
}

/// A value without its unit; fractions as percentages.
pub fn fmt_value(u: Unit, v: f64) -> String {
    match u {
        Unit::Ms | Unit::Seconds => sig3(v),
        Unit::Fraction => format!("{}%", fixed(v * 100.0, 2)),
        Unit::PerSecond => fixed(v, 1),
        Unit::Count if v.fract() == 0.0 || v.abs() >= 100.0 => fixed(v, 0),
        Unit::Count => fixed(v, 1),
    }
}

/// A difference, signed; fractions in percentage points.
pub fn fmt_diff(u: Unit, d: f64) -> String {
    match u {
        Unit::Ms | Unit::Seconds => sig3_signed(d),
        Unit::Fraction => format!("{} pp", fixed_signed(d * 100.0, 2)),
        Unit::PerSecond => fixed_signed(d, 1),
        Unit::Count if d.fract() == 0.0 || d.abs() >= 100.0 => fixed_signed(d, 0),
        Unit::Count => fixed_signed(d, 1),
    }
}

/// The half-width of an interval, with the decimals of its mean.
pub fn fmt_half(u: Unit, mean: f64, h: f64) -> String {
    match u {
        Unit::Ms | Unit::Seconds => fixed(h, sig_decimals(if mean == 0.0 { h } else { mean })),
        Unit::Fraction => fixed(h * 100.0, 2),
        Unit::PerSecond => fixed(h, 1),
        Unit::Count if h == 0.0 || h.abs() >= 10.0 => fixed(h, 0),
        Unit::Count => fixed(h, 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_from_names() {
        assert_eq!(unit_of("latency_ms.p99"), Unit::Ms);
        assert_eq!(unit_of("error_rate"), Unit::Fraction);
        assert_eq!(unit_of("utilization"), Unit::Fraction);
        assert_eq!(unit_of("goodput_rps"), Unit::PerSecond);
        assert_eq!(unit_of("drain_s"), Unit::Seconds);
        assert_eq!(unit_of("failed.timeout"), Unit::Count);
    }

    #[test]
    fn numbers_read_well() {
        assert_eq!(fmt_value(Unit::Ms, 1291.8), "1292");
        assert_eq!(fmt_value(Unit::Ms, 41.156), "41.2");
        assert_eq!(fmt_value(Unit::Fraction, 0.17676), "17.68%");
        assert_eq!(fmt_diff(Unit::Fraction, -0.031), "-3.10 pp");
        assert_eq!(fmt_diff(Unit::Count, -0.0), "0");
        assert_eq!(fmt_diff(Unit::Ms, 0.0), "0");
        assert_eq!(fmt_diff(Unit::PerSecond, 12.34), "+12.3");
        assert_eq!(fmt_value(Unit::Count, 1884.0), "1884");
        assert_eq!(fmt_diff(Unit::Fraction, 0.00001), "0.00 pp");
        assert_eq!(fmt_diff(Unit::Fraction, -0.0), "0.00 pp");
        assert_eq!(fmt_half(Unit::Ms, 41.2, 3.456), "3.5");
    }
}
