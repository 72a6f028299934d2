//! Distributions of work times and network latencies.
//!
//! Owns the sampling of durations in whole nanoseconds from a caller-given
//! stream. Parameters arrive already validated (see `scenario`); this module
//! must not know about scenario files. `rand_distr` is pinned to std's maths
//! (workspace `Cargo.toml`), and the golden test below fails if a dependency
//! change ever moves a single sample.

use crate::rng::Stream;
use crate::time::Nanos;
use rand::RngExt;
use rand_distr::{Distribution, Exp, LogNormal, Normal, Pareto};

/// z of the 99th percentile of the standard normal.
pub const Z99: f64 = 2.326_347_874_040_840_8;

/// A distribution of durations. Every variant samples in nanoseconds.
#[derive(Clone, Debug)]
pub enum Dist {
    Constant(Nanos),
    /// Uniform on `[lo, hi)` nanoseconds.
    Uniform {
        lo: f64,
        hi: f64,
    },
    Exponential {
        exp: Exp<f64>,
        mean: f64,
    },
    /// Normal truncated at 0: negative draws are drawn again.
    Normal(Normal<f64>),
    LogNormal(LogNormal<f64>),
    Pareto(Pareto<f64>),
    /// A value/weight table; `cumulative` holds the running sums of the
    /// weights normalised to end at 1.
    Empirical {
        values: Vec<Nanos>,
        cumulative: Vec<f64>,
    },
    /// A mixture: part `i` is drawn with probability `cumulative[i] −
    /// cumulative[i − 1]`, then sampled from the same stream ("The Tail at
    /// Scale"'s stragglers: 99 % fast, 1 % slow).
    Mixture {
        parts: Vec<Dist>,
        cumulative: Vec<f64>,
    },
}

/// What went wrong building a distribution (the scenario layer adds the key).
pub type DistError = String;

impl Dist {
    pub fn constant(v: Nanos) -> Dist {
        Dist::Constant(v)
    }

    pub fn uniform(lo: Nanos, hi: Nanos) -> Result<Dist, DistError> {
        if hi < lo {
            return Err(format!(
                "uniform needs min <= max, got min {lo} ns > max {hi} ns"
            ));
        }
        Ok(Dist::Uniform {
            lo: lo as f64,
            hi: hi as f64,
        })
    }

    pub fn exponential(mean: Nanos) -> Result<Dist, DistError> {
        if mean == 0 {
            return Err("exponential needs a mean > 0".into());
        }
        Exp::new(1.0 / mean as f64)
            .map(|exp| Dist::Exponential {
                exp,
                mean: mean as f64,
            })
            .map_err(|e| e.to_string())
    }

    pub fn normal(mean: Nanos, sd: Nanos) -> Result<Dist, DistError> {
        if mean == 0 {
            return Err("normal needs a mean > 0".into());
        }
        Normal::new(mean as f64, sd as f64)
            .map(Dist::Normal)
            .map_err(|e| e.to_string())
    }

    /// Lognormal with the given median and 99th percentile.
    pub fn lognormal_median_p99(median: Nanos, p99: Nanos) -> Result<Dist, DistError> {
        if median == 0 {
            return Err("lognormal needs a median > 0".into());
        }
        if p99 < median {
            return Err("lognormal needs p99 >= median".into());
        }
        let mu = (median as f64).ln();
        let sigma = ((p99 as f64).ln() - mu) / Z99;
        LogNormal::new(mu, sigma)
            .map(Dist::LogNormal)
            .map_err(|e| e.to_string())
    }

    /// Lognormal with the given mean and coefficient of variation (sd / mean).
    pub fn lognormal_mean_cv(mean: Nanos, cv: f64) -> Result<Dist, DistError> {
        if mean == 0 {
            return Err("lognormal needs a mean > 0".into());
        }
        if !(cv.is_finite() && cv >= 0.0) {
            return Err(format!("cv must be a finite number >= 0, got {cv}"));
        }
        let sigma2 = (1.0 + cv * cv).ln();
        let mu = (mean as f64).ln() - sigma2 / 2.0;
        LogNormal::new(mu, sigma2.sqrt())
            .map(Dist::LogNormal)
            .map_err(|e| e.to_string())
    }

    /// Pareto with minimum `scale` and tail index `shape` (mean is finite
    /// only for shape > 1).
    pub fn pareto(scale: Nanos, shape: f64) -> Result<Dist, DistError> {
        if scale == 0 {
            return Err("pareto needs a scale > 0".into());
        }
        if !(shape.is_finite() && shape > 0.0) {
            return Err(format!("pareto needs a shape > 0, got {shape}"));
        }
        Pareto::new(scale as f64, shape)
            .map(Dist::Pareto)
            .map_err(|e| e.to_string())
    }

    pub fn empirical(values: Vec<Nanos>, weights: &[f64]) -> Result<Dist, DistError> {
        if values.is_empty() {
            return Err("empirical needs at least one value".into());
        }
        if values.len() != weights.len() {
            return Err(format!(
                "empirical needs as many weights as values ({} values, {} weights)",
                values.len(),
                weights.len()
            ));
        }
        if weights.iter().any(|w| !(w.is_finite() && *w >= 0.0)) {
            return Err("empirical weights must be finite and >= 0".into());
        }
        let total: f64 = weights.iter().sum();
        if total <= 0.0 {
            return Err("empirical weights must not all be 0".into());
        }
        let mut run = 0.0;
        let cumulative = weights
            .iter()
            .map(|w| {
                run += w;
                run / total
            })
            .collect();
        Ok(Dist::Empirical { values, cumulative })
    }

    /// A mixture of `parts`, each with its probability; the probabilities
    /// must sum to 1 within 1e-9.
    pub fn mixture(parts: Vec<(f64, Dist)>) -> Result<Dist, DistError> {
        if parts.is_empty() {
            return Err("a mixture needs at least one part".into());
        }
        if let Some((p, _)) = parts.iter().find(|(p, _)| !(p.is_finite() && *p >= 0.0)) {
            return Err(format!(
                "a mixture's probabilities must be in [0, 1], got {p}"
            ));
        }
        let total: f64 = parts.iter().map(|(p, _)| p).sum();
        if (total - 1.0).abs() > 1e-9 {
            return Err(format!(
                "a mixture's probabilities must sum to 1, got {total}"
            ));
        }
        let mut run = 0.0;
        let mut cumulative = Vec::with_capacity(parts.len());
        let mut dists = Vec::with_capacity(parts.len());
        for (p, d) in parts {
            run += p;
            cumulative.push(run / total);
            dists.push(d);
        }
        Ok(Dist::Mixture {
            parts: dists,
            cumulative,
        })
    }

    /// One draw, in whole nanoseconds. The exponential, the law of most
    /// arrivals and work in a model, is drawn inline at each call site;
    /// the others (and a mixture's recursion) out of line.
    #[inline(always)]
    pub fn sample(&self, rng: &mut Stream) -> Nanos {
        if let Dist::Exponential { exp, .. } = self {
            return to_ns(exp.sample(rng));
        }
        self.sample_other(rng)
    }

    #[inline(never)]
    fn sample_other(&self, rng: &mut Stream) -> Nanos {
        match self {
            Dist::Constant(v) => *v,
            Dist::Uniform { lo, hi } => to_ns(lo + (hi - lo) * rng.random::<f64>()),
            Dist::Exponential { exp, .. } => to_ns(exp.sample(rng)),
            Dist::Normal(d) => {
                for _ in 0..64 {
                    let x = d.sample(rng);
                    if x >= 0.0 {
                        return to_ns(x);
                    }
                }
                0
            }
            Dist::LogNormal(d) => to_ns(d.sample(rng)),
            Dist::Pareto(d) => to_ns(d.sample(rng)),
            Dist::Empirical { values, cumulative } => {
                let u: f64 = rng.random();
                let i = cumulative
                    .partition_point(|c| *c <= u)
                    .min(values.len() - 1);
                values[i]
            }
            Dist::Mixture { parts, cumulative } => {
                let u: f64 = rng.random();
                let i = cumulative.partition_point(|c| *c <= u).min(parts.len() - 1);
                parts[i].sample(rng)
            }
        }
    }

    /// The distribution's mean in nanoseconds, where it is finite.
    pub fn mean(&self) -> Option<f64> {
        match self {
            Dist::Constant(v) => Some(*v as f64),
            Dist::Uniform { lo, hi } => Some((lo + hi) / 2.0),
            Dist::Exponential { mean, .. } => Some(*mean),
            Dist::Normal(d) => Some(d.mean()),
            Dist::LogNormal(_) | Dist::Pareto(_) => None,
            Dist::Empirical { values, cumulative } => {
                let mut prev = 0.0;
                Some(
                    values
                        .iter()
                        .zip(cumulative)
                        .map(|(v, c)| {
                            let p = c - prev;
                            prev = *c;
                            *v as f64 * p
                        })
                        .sum(),
                )
            }
            Dist::Mixture { parts, cumulative } => {
                let mut prev = 0.0;
                let mut mean = 0.0;
                for (d, c) in parts.iter().zip(cumulative) {
                    mean += d.mean()? * (c - prev);
                    prev = *c;
                }
                Some(mean)
            }
        }
    }
}

/// Rounds a non-negative sample to whole nanoseconds (half up). `as`
/// saturates, and maps NaN and negatives to 0; adding 0.5 and truncating
/// avoids a libm call per sample.
#[inline]
fn to_ns(x: f64) -> Nanos {
    (x + 0.5) as Nanos
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{stream, stream_id};

    fn all() -> Vec<(&'static str, Dist)> {
        vec![
            ("constant", Dist::constant(1_000_000)),
            ("uniform", Dist::uniform(1_000_000, 3_000_000).unwrap()),
            ("exponential", Dist::exponential(5_000_000).unwrap()),
            ("normal", Dist::normal(5_000_000, 2_000_000).unwrap()),
            (
                "lognormal_p99",
                Dist::lognormal_median_p99(5_000_000, 40_000_000).unwrap(),
            ),
            (
                "lognormal_cv",
                Dist::lognormal_mean_cv(5_000_000, 1.5).unwrap(),
            ),
            ("pareto", Dist::pareto(1_000_000, 2.5).unwrap()),
            (
                "empirical",
                Dist::empirical(vec![1_000_000, 10_000_000, 100_000_000], &[90.0, 9.0, 1.0])
                    .unwrap(),
            ),
        ]
    }

    /// FNV-1a of the little-endian bytes of 10,000 samples from seed 42.
    /// A change here means the stream moved: a new version, and a note in
    /// the changelog, never a silent update.
    #[test]
    fn golden_samples_never_move() {
        let mut got = Vec::new();
        for (name, d) in all() {
            let mut rng = stream(42, name);
            let mut bytes = Vec::with_capacity(80_000);
            for _ in 0..10_000 {
                bytes.extend_from_slice(&d.sample(&mut rng).to_le_bytes());
            }
            // stream_id is FNV-1a over a &str; hash the bytes the same way.
            let text: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
            got.push((name, stream_id(&text)));
        }
        let expected: &[(&str, u64)] = GOLDEN;
        assert_eq!(got, expected, "a distribution's samples changed");
    }

    const GOLDEN: &[(&str, u64)] = &[
        ("constant", 7401192665490192165),
        ("uniform", 10817314103670805849),
        ("exponential", 14566561008376826563),
        ("normal", 1935129490944935565),
        ("lognormal_p99", 15195742963049294142),
        ("lognormal_cv", 514006945314817855),
        ("pareto", 18164064114731497904),
        ("empirical", 10743205611971341345),
    ];

    fn mean_of(d: &Dist, n: usize) -> f64 {
        let mut rng = stream(1, "mean-check");
        (0..n).map(|_| d.sample(&mut rng) as f64).sum::<f64>() / n as f64
    }

    #[test]
    fn sample_means_match_parameters() {
        // 200k samples: relative sd of the mean is cv / sqrt(n) <= 0.34 %
        // for cv <= 1.5; 2 % leaves more than 5 sd.
        let n = 200_000;
        let close = |got: f64, want: f64| (got / want - 1.0).abs() < 0.02;
        assert!(close(
            mean_of(&Dist::exponential(5_000_000).unwrap(), n),
            5e6
        ));
        assert!(close(
            mean_of(&Dist::uniform(1_000_000, 3_000_000).unwrap(), n),
            2e6
        ));
        assert!(close(
            mean_of(&Dist::lognormal_mean_cv(5_000_000, 1.5).unwrap(), n),
            5e6
        ));
        // Pareto(xm, a): mean a xm / (a - 1).
        assert!(close(
            mean_of(&Dist::pareto(1_000_000, 3.0).unwrap(), n),
            1.5e6
        ));
        let emp =
            Dist::empirical(vec![1_000_000, 10_000_000, 100_000_000], &[90.0, 9.0, 1.0]).unwrap();
        assert!(close(mean_of(&emp, n), emp.mean().unwrap()));
    }

    #[test]
    fn lognormal_by_median_and_p99_hits_both() {
        let d = Dist::lognormal_median_p99(5_000_000, 40_000_000).unwrap();
        let mut rng = stream(3, "q");
        let mut v: Vec<u64> = (0..200_000).map(|_| d.sample(&mut rng)).collect();
        v.sort_unstable();
        let med = v[100_000] as f64;
        let p99 = v[198_000] as f64;
        assert!((med / 5e6 - 1.0).abs() < 0.02, "median {med}");
        assert!((p99 / 4e7 - 1.0).abs() < 0.05, "p99 {p99}");
    }

    #[test]
    fn truncated_normal_is_never_negative() {
        let d = Dist::normal(1_000_000, 2_000_000).unwrap();
        let mut rng = stream(3, "n");
        assert!((0..10_000).all(|_| d.sample(&mut rng) < u64::MAX / 2));
    }

    #[test]
    fn bad_parameters_are_refused() {
        assert!(Dist::exponential(0).is_err());
        assert!(Dist::uniform(5, 1).is_err());
        assert!(Dist::lognormal_median_p99(10, 5).is_err());
        assert!(Dist::pareto(10, 0.0).is_err());
        assert!(Dist::empirical(vec![1, 2], &[1.0]).is_err());
        assert!(Dist::empirical(vec![1], &[0.0]).is_err());
    }

    /// 99 % exponential(1 ms), 1 % constant 100 ms: mean 0.99 + 1 = 1.99 ms,
    /// and P(X ≥ 100 ms) = 0.01 exactly (the exponential never gets there
    /// in practice: e^-100). With n = 400,000 draws the sd of the sample
    /// mean is √(Var/n) ≈ √(99.97/4e5) ms ≈ 0.0158 ms (Var = E[X²] − mean²
    /// = 0.99·2 + 0.01·10⁴ − 1.99² ≈ 97.98 ms²), so ±4 sd is ±0.063 ms;
    /// the straggler share's sd is √(0.01·0.99/4e5) ≈ 1.6e-4, ±4 sd 6.3e-4.
    #[test]
    fn mixture_mean_and_straggler_share() {
        let d = Dist::mixture(vec![
            (0.99, Dist::exponential(1_000_000).unwrap()),
            (0.01, Dist::constant(100_000_000)),
        ])
        .unwrap();
        assert!((d.mean().unwrap() - 1_990_000.0).abs() < 1e-3);
        let mut rng = stream(11, "mixture");
        let n = 400_000;
        let xs: Vec<Nanos> = (0..n).map(|_| d.sample(&mut rng)).collect();
        let mean_ms = xs.iter().map(|x| *x as f64).sum::<f64>() / n as f64 / 1e6;
        assert!((mean_ms - 1.99).abs() < 0.063, "mean {mean_ms} ms");
        let share = xs.iter().filter(|x| **x >= 100_000_000).count() as f64 / n as f64;
        assert!((share - 0.01).abs() < 6.3e-4, "straggler share {share}");
        assert!(Dist::mixture(vec![(0.5, Dist::constant(1))]).is_err());
        assert!(Dist::mixture(vec![]).is_err());
        assert!(Dist::mixture(vec![(1.5, Dist::constant(1)), (-0.5, Dist::constant(2))]).is_err());
    }
}
