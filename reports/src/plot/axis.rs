//! Numeric axes: linear or logarithmic, with 1-2-5 ticks chosen here
//! rather than by plotters, and their tick labels.
//!
//! Owns the range and ticks of every axis of every chart. Must not draw.

use std::ops::Range;

use crate::numbers::short;
use plotters::coord::ranged1d::{KeyPointHint, NoDefaultFormatting, Ranged, ValueFormatter};

/// Axis scale. `Auto` picks log when the data span more than a factor 30.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    Linear,
    Log,
    Auto,
}

/// How tick labels read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fmt {
    Number,
    /// Values are fractions, shown as percentages.
    Percent,
}

/// A numeric axis, linear or logarithmic, with ticks chosen here (1-2-5
/// steps) rather than by plotters.
#[derive(Debug, Clone)]
pub(super) struct Axis {
    pub(super) lo: f64,
    pub(super) hi: f64,
    log: bool,
    pub(super) ticks: Vec<f64>,
    fmt: Fmt,
}

impl Axis {
    pub(super) fn linear(lo: f64, hi: f64, n: usize, fmt: Fmt) -> Axis {
        let (lo, hi) = if hi > lo { (lo, hi) } else { (lo, lo + 1.0) };
        Axis {
            lo,
            hi,
            log: false,
            ticks: linear_ticks(lo, hi, n),
            fmt,
        }
    }

    /// A linear axis from `lo` up to a round number above `max`.
    pub(super) fn linear_fit(lo: f64, max: f64, n: usize, fmt: Fmt) -> Axis {
        let max = if max.is_finite() && max > lo {
            max
        } else {
            lo + 1.0
        };
        let step = nice_step((max - lo) / n as f64);
        let hi = lo + ((max - lo) / step * 1.0001).ceil() * step;
        Axis::linear(lo, hi, n, fmt)
    }

    pub(super) fn log(min: f64, max: f64, fmt: Fmt) -> Axis {
        let min = if min > 0.0 && min.is_finite() {
            min
        } else {
            1.0
        };
        let max = if max > min { max } else { min * 10.0 };
        let lo = step125_below(min);
        let hi = step125_above(max);
        let mut ticks = Vec::new();
        let mut decade = 10f64.powi(lo.log10().floor() as i32);
        while decade <= hi * 1.0001 {
            for m in [1.0, 2.0, 5.0] {
                let v = decade * m;
                if v >= lo * 0.9999 && v <= hi * 1.0001 {
                    ticks.push(v);
                }
            }
            decade *= 10.0;
        }
        if ticks.len() > 10 {
            ticks.retain(|v| (v.log10() - v.log10().round()).abs() < 1e-9);
        }
        Axis {
            lo,
            hi,
            log: true,
            ticks,
            fmt,
        }
    }

    /// Fits `values` on `scale`.
    pub(super) fn fit(
        values: impl Iterator<Item = f64> + Clone,
        scale: Scale,
        from_zero: bool,
        fmt: Fmt,
        n: usize,
    ) -> Axis {
        let finite = values.filter(|v| v.is_finite());
        let max = finite.clone().fold(f64::NEG_INFINITY, f64::max);
        let min = finite.clone().fold(f64::INFINITY, f64::min);
        let min_pos = finite.filter(|v| *v > 0.0).fold(f64::INFINITY, f64::min);
        let log = match scale {
            Scale::Linear => false,
            Scale::Log => true,
            Scale::Auto => min_pos.is_finite() && max / min_pos > 30.0,
        };
        if log {
            Axis::log(min_pos, max, fmt)
        } else if !max.is_finite() {
            Axis::linear(0.0, 1.0, n, fmt)
        } else if from_zero || min >= 0.0 && min < max * 0.5 {
            Axis::linear_fit(0.0_f64.min(min), max, n, fmt)
        } else {
            let step = nice_step((max - min) / n as f64);
            Axis::linear_fit((min / step).floor() * step, max, n, fmt)
        }
    }

    fn t(&self, v: f64) -> f64 {
        if self.log {
            let v = v.max(self.lo * 1e-3);
            (v.log10() - self.lo.log10()) / (self.hi.log10() - self.lo.log10())
        } else {
            (v - self.lo) / (self.hi - self.lo)
        }
    }

    /// Whether `v` can be drawn on this axis.
    pub(super) fn shows(&self, v: f64) -> bool {
        v.is_finite() && (!self.log || v > 0.0)
    }
}

impl Ranged for Axis {
    type FormatOption = NoDefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        let t = self.t(*value);
        (f64::from(limit.0) + t * f64::from(limit.1 - limit.0)).round() as i32
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> Range<f64> {
        self.lo..self.hi
    }
}

impl ValueFormatter<f64> for Axis {
    fn format_ext(&self, v: &f64) -> String {
        match self.fmt {
            Fmt::Number => short(*v),
            Fmt::Percent => format!("{}%", short(*v * 100.0)),
        }
    }
}

fn nice_step(raw: f64) -> f64 {
    if !(raw.is_finite() && raw > 0.0) {
        return 1.0;
    }
    let mag = 10f64.powf(raw.log10().floor());
    let f = raw / mag;
    let nf = if f <= 1.0 {
        1.0
    } else if f <= 2.0 {
        2.0
    } else if f <= 2.5 {
        2.5
    } else if f <= 5.0 {
        5.0
    } else {
        10.0
    };
    nf * mag
}

fn linear_ticks(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    let step = nice_step((hi - lo) / n.max(1) as f64);
    let first = (lo / step - 1e-9).ceil() as i64;
    let last = (hi / step + 1e-9).floor() as i64;
    (first..=last).map(|k| k as f64 * step).collect()
}

fn step125_below(v: f64) -> f64 {
    let mag = 10f64.powf(v.log10().floor());
    let f = v / mag;
    mag * if f >= 5.0 {
        5.0
    } else if f >= 2.0 {
        2.0
    } else {
        1.0
    }
}

fn step125_above(v: f64) -> f64 {
    let mag = 10f64.powf(v.log10().floor());
    let f = v / mag;
    mag * if f <= 1.0001 {
        1.0
    } else if f <= 2.0001 {
        2.0
    } else if f <= 5.0001 {
        5.0
    } else {
        10.0
    }
}

/// The x axis of a chart: a fixed `range`, or fitted to the data `xs`.
pub(super) fn x_axis_for(
    range: Option<(f64, f64)>,
    xs: impl Iterator<Item = f64> + Clone,
    scale: Scale,
    fmt: Fmt,
) -> Axis {
    match range {
        Some((lo, hi)) if scale == Scale::Log => {
            let mut a = Axis::log(lo, hi, fmt);
            a.lo = lo;
            a.hi = hi;
            a.ticks.retain(|v| *v >= lo && *v <= hi);
            a
        }
        Some((lo, hi)) => Axis::linear(lo, hi, 12, fmt),
        None => {
            let min = xs
                .clone()
                .filter(|v| v.is_finite())
                .fold(f64::INFINITY, f64::min);
            let max = xs
                .filter(|v| v.is_finite())
                .fold(f64::NEG_INFINITY, f64::max);
            match scale {
                Scale::Log => Axis::log(min, max, fmt),
                Scale::Auto if min > 0.0 && max / min > 30.0 => Axis::log(min, max, fmt),
                _ if min.is_finite() && max > min => Axis::linear(min, max, 12, fmt),
                _ => Axis::linear(0.0, 1.0, 12, fmt),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round() {
        assert_eq!(
            linear_ticks(0.0, 10.0, 5),
            vec![0.0, 2.0, 4.0, 6.0, 8.0, 10.0]
        );
        let a = Axis::linear_fit(0.0, 93.0, 7, Fmt::Number);
        assert_eq!((a.lo, a.hi), (0.0, 100.0));
        let l = Axis::log(3.2, 1300.0, Fmt::Number);
        assert_eq!((l.lo, l.hi), (2.0, 2000.0));
        assert_eq!(
            l.ticks,
            vec![
                2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0, 2000.0
            ]
        );
    }
}
