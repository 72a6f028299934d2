//! The workload over time: the instants `check` looks at, a rate's mean
//! over the measured period, and when a request limit stops a source.

use crate::model::Model;
use crate::time::{Nanos, secs};

/// Points of the workload timeline (plus every shape's own break points).
const TIMELINE_POINTS: usize = 4_000;

/// Times at which the workload is looked at: an even grid over the run
/// and every shape's break points (and the instant before each).
pub fn timeline(m: &Model) -> Vec<Nanos> {
    use crate::model::Shape;
    let d = m.duration.max(1);
    let mut t: Vec<Nanos> = (0..TIMELINE_POINTS as u64)
        .map(|i| (u128::from(d) * u128::from(i) / TIMELINE_POINTS as u128) as Nanos)
        .collect();
    let mut add = |x: Nanos| {
        if x < d {
            t.push(x);
            t.push(x.saturating_sub(1));
        }
    };
    for src in &m.sources {
        match &src.shape {
            Shape::Constant | Shape::Sine { .. } => {}
            Shape::Steps(steps) => steps.iter().for_each(|(at, _)| add(*at)),
            Shape::Ramp { start, end, .. } | Shape::Spike { start, end, .. } => {
                add(*start);
                add(*end);
            }
            Shape::Points { points, .. } => points.iter().for_each(|(at, _)| add(*at)),
        }
    }
    t.sort_unstable();
    t.dedup();
    t
}

/// The mean of `rate` over [from, to), by the midpoint rule.
pub fn mean_over(from: Nanos, to: Nanos, rate: &impl Fn(Nanos) -> f64) -> f64 {
    if to <= from {
        return rate(from);
    }
    let n = TIMELINE_POINTS as u128;
    let span = u128::from(to - from);
    (0..n)
        .map(|i| rate(from + ((2 * i + 1) * span / (2 * n)) as Nanos))
        .sum::<f64>()
        / n as f64
}

/// When the expected arrivals of `rate` reach `limit` (or `duration`).
pub fn limit_time(duration: Nanos, limit: u64, rate: &impl Fn(Nanos) -> f64) -> Nanos {
    let n = TIMELINE_POINTS as u64 * 4;
    let step = (duration / n).max(1);
    let mut count = 0.0;
    let mut t = 0;
    while t < duration {
        let r = rate(t);
        let dt = step.min(duration - t);
        let gain = r * secs(dt);
        if count + gain >= limit as f64 {
            let need = (limit as f64 - count) / r.max(f64::MIN_POSITIVE);
            return t + crate::time::from_secs_f64(need);
        }
        count += gain;
        t += dt;
    }
    duration
}
