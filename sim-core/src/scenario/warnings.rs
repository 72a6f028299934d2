//! Load-time warnings: a scenario that is valid but probably not what its
//! author meant — a fault window (partly) outside the run, a distribution
//! whose draws often outlast the run, an entry service whose unbounded
//! queue can only grow.
//!
//! Reads the checked file and its model; must not refuse anything (that is
//! `build` and `limits`) nor change the model.

use std::fmt;

use crate::model::{Model, UNBOUNDED};
use crate::time::{NS_PER_S, format_duration, parse_duration};

use super::dto::{DistFile, DistKind, DistTable, ScenarioFile, StepFile};

/// A draw beyond the run with at least this probability is worth a word.
const TAIL: f64 = 1e-6;

/// Something valid but suspicious, at a key of a file.
#[derive(Debug, Clone, PartialEq)]
pub struct Warning {
    pub file: String,
    pub key: String,
    pub message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}: {}", self.file, self.key, self.message)
    }
}

/// The warnings of a scenario that built into `m`, in file order.
pub(super) fn collect(name: &str, file: &ScenarioFile, m: &Model) -> Vec<Warning> {
    let mut out = Vec::new();
    let mut warn = |key: String, message: String| {
        out.push(Warning {
            file: name.to_owned(),
            key,
            message,
        })
    };
    for (i, f) in m.faults.iter().enumerate() {
        if f.start >= m.duration {
            warn(
                format!("fault.{i}.at"),
                format!(
                    "the fault starts at {}, at or after the end of the run ({}): no request arrives while it lasts",
                    format_duration(f.start),
                    format_duration(m.duration)
                ),
            );
        } else if f.end > m.duration {
            warn(
                format!("fault.{i}.for"),
                format!(
                    "the fault ends at {}, after the end of the run ({}): its last {} see no new request",
                    format_duration(f.end),
                    format_duration(m.duration),
                    format_duration(f.end - m.duration)
                ),
            );
        }
    }
    let horizon = m.duration as f64 / NS_PER_S as f64;
    for (key, d) in dists(file) {
        if let Some(p) = tail(&d, horizon)
            && p > TAIL
        {
            warn(
                key,
                format!(
                    "a draw exceeds the run's duration ({}) with probability {p:.2e}: such draws outlast the run",
                    format_duration(m.duration)
                ),
            );
        }
    }
    for (si, s) in m.services.iter().enumerate() {
        if s.queue != UNBOUNDED {
            continue;
        }
        let capacity =
            f64::from(s.max_replicas()) * f64::from(s.cores.unwrap_or(s.threads).min(s.threads));
        let offered: f64 = m
            .sources
            .iter()
            .filter(|src| src.closed.is_none() && (m.ops[src.op as usize].service).index() == si)
            .map(|src| src.rate * op_work(file, &s.name, &m.ops[src.op as usize].name))
            .sum();
        if offered > capacity {
            warn(
                format!("services.{}.queue", s.name),
                format!(
                    "the workload offers {offered:.3} threads' worth of work (rate × mean work) to {capacity} threads, and the accept queue is unbounded: it grows for the whole run"
                ),
            );
        }
    }
    out
}

/// Mean seconds of work of an operation's own `work` steps (calls are not
/// counted; a branch counts each arm by its probability).
fn op_work(file: &ScenarioFile, service: &str, op: &str) -> f64 {
    let Some(s) = file.services.get(service) else {
        return 0.0;
    };
    let steps = match (&s.steps, s.operations.get(op)) {
        (Some(steps), _) => steps,
        (None, Some(o)) => &o.steps,
        (None, None) => return 0.0,
    };
    steps_work(steps)
}

fn steps_work(steps: &[StepFile]) -> f64 {
    steps
        .iter()
        .map(|st| {
            let work = st.work.as_ref().and_then(mean).unwrap_or(0.0);
            let arms: f64 = st
                .branch
                .iter()
                .flatten()
                .map(|arm| arm.p * steps_work(&arm.steps))
                .sum();
            work + arms
        })
        .sum()
}

/// Every distribution of the file with its key.
fn dists(file: &ScenarioFile) -> Vec<(String, DistFile)> {
    let mut out = Vec::new();
    for (name, s) in &file.services {
        if let Some(st) = &s.steps {
            step_dists(&format!("services.{name}.steps"), st, &mut out);
        }
        for (op, o) in &s.operations {
            step_dists(
                &format!("services.{name}.operations.{op}.steps"),
                &o.steps,
                &mut out,
            );
        }
    }
    if let Some(net) = &file.network {
        if let Some(l) = &net.latency {
            out.push(("network.latency".into(), l.clone()));
        }
        for (edge, d) in &net.edges {
            out.push((format!("network.edges.{edge}"), d.clone()));
        }
    }
    for (name, w) in &file.workload {
        if let Some(t) = &w.think {
            out.push((format!("workload.{name}.think"), t.clone()));
        }
    }
    for (name, b) in &file.brokers {
        for (k, d) in [("ack", &b.ack), ("delivery", &b.delivery)] {
            if let Some(d) = d {
                out.push((format!("brokers.{name}.{k}"), d.clone()));
            }
        }
    }
    for (i, f) in file.fault.iter().enumerate() {
        if let Some(l) = &f.latency {
            out.push((format!("fault.{i}.latency"), l.clone()));
        }
    }
    out
}

/// The distributions of `steps` (and of their branches' arms).
fn step_dists(key: &str, steps: &[StepFile], out: &mut Vec<(String, DistFile)>) {
    for (i, st) in steps.iter().enumerate() {
        if let Some(w) = &st.work {
            out.push((format!("{key}.{i}.work"), w.clone()));
        }
        for (a, arm) in st.branch.iter().flatten().enumerate() {
            step_dists(&format!("{key}.{i}.branch.{a}.steps"), &arm.steps, out);
        }
    }
}

fn secs(text: &Option<String>) -> Option<f64> {
    parse_duration(text.as_deref()?)
        .ok()
        .map(|ns| ns as f64 / NS_PER_S as f64)
}

/// Lognormal (μ, σ) of a table by median and p99, or by mean and cv.
fn lognormal(t: &DistTable) -> Option<(f64, f64)> {
    if let (Some(median), Some(p99)) = (secs(&t.median), secs(&t.p99)) {
        // z of the 99th percentile.
        return Some((median.ln(), (p99 / median).ln() / 2.326_347_874));
    }
    let (mean, cv) = (secs(&t.mean)?, t.cv?);
    let s2 = (1.0 + cv * cv).ln();
    Some((mean.ln() - s2 / 2.0, s2.sqrt()))
}

/// Mean of a distribution, in seconds (`None` when it has none or the
/// table is not one this reads).
fn mean(d: &DistFile) -> Option<f64> {
    let t = match d {
        DistFile::Constant(v) => return secs(&Some(v.clone())),
        DistFile::Table(t) => t,
    };
    table_mean(t)
}

fn table_mean(t: &DistTable) -> Option<f64> {
    match t.dist {
        DistKind::Constant => secs(&t.value),
        DistKind::Uniform => Some((secs(&t.min)? + secs(&t.max)?) / 2.0),
        DistKind::Exponential | DistKind::Normal => secs(&t.mean),
        DistKind::Lognormal => lognormal(t).map(|(mu, s)| (mu + s * s / 2.0).exp()),
        DistKind::Pareto => {
            let (xm, a) = (secs(&t.scale)?, t.shape?);
            (a > 1.0).then(|| a * xm / (a - 1.0))
        }
        DistKind::Empirical => {
            let values = t.values.as_ref()?;
            let weights = t.weights.clone().unwrap_or_else(|| vec![1.0; values.len()]);
            let total: f64 = weights.iter().sum();
            let sum: f64 = values
                .iter()
                .zip(&weights)
                .map(|(v, w)| secs(&Some(v.clone())).unwrap_or(0.0) * w)
                .sum();
            Some(sum / total)
        }
        DistKind::Mixture => {
            t.of.as_ref()?
                .iter()
                .map(|part| Some(part.p? * table_mean(part)?))
                .sum()
        }
    }
}

/// P(draw > h seconds) for the distributions with a closed-form tail.
fn tail(d: &DistFile, h: f64) -> Option<f64> {
    match d {
        DistFile::Constant(v) => secs(&Some(v.clone())).map(|c| if c > h { 1.0 } else { 0.0 }),
        DistFile::Table(t) => table_tail(t, h),
    }
}

fn table_tail(t: &DistTable, h: f64) -> Option<f64> {
    match t.dist {
        DistKind::Constant => secs(&t.value).map(|c| if c > h { 1.0 } else { 0.0 }),
        DistKind::Uniform => {
            let (lo, hi) = (secs(&t.min)?, secs(&t.max)?);
            Some(((hi - h.max(lo)) / (hi - lo)).clamp(0.0, 1.0))
        }
        DistKind::Exponential => secs(&t.mean).map(|m| (-h / m).exp()),
        DistKind::Lognormal => {
            let (mu, s) = lognormal(t)?;
            Some(0.5 * erfc((h.ln() - mu) / (s * std::f64::consts::SQRT_2)))
        }
        DistKind::Pareto => {
            let (xm, a) = (secs(&t.scale)?, t.shape?);
            Some(if h <= xm { 1.0 } else { (xm / h).powf(a) })
        }
        DistKind::Mixture => {
            t.of.as_ref()?
                .iter()
                .map(|part| Some(part.p? * table_tail(part, h)?))
                .sum()
        }
        DistKind::Normal | DistKind::Empirical => None,
    }
}

/// Complementary error function (Numerical Recipes' `erfcc`, relative error
/// below 1.2e-7: ample to compare with 1e-6).
fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let r = t
        * (-z * z - 1.265_512_23
            + t * (1.000_023_68
                + t * (0.374_091_96
                    + t * (0.096_784_18
                        + t * (-0.186_288_06
                            + t * (0.278_868_07
                                + t * (-1.135_203_98
                                    + t * (1.488_515_87
                                        + t * (-0.822_152_23 + t * 0.170_872_77)))))))))
            .exp();
    if x >= 0.0 { r } else { 2.0 - r }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erfc_matches_known_values() {
        for (x, want) in [
            (0.0, 1.0),
            (1.0, 0.157_299_207),
            (3.0, 2.209_049_7e-5),
            (-1.0, 1.842_700_79),
        ] {
            assert!(
                (erfc(x) - want).abs() <= 1.2e-7 * want.max(1e-300) + 1e-12,
                "erfc({x}) = {}",
                erfc(x)
            );
        }
    }

    #[test]
    fn closed_form_tails() {
        let t = |text: &str| -> DistFile { serde_json::from_str(text).unwrap() };
        let p = tail(&t(r#"{"dist": "exponential", "mean": "1s"}"#), 10.0).unwrap();
        assert!((p - (-10.0f64).exp()).abs() < 1e-12);
        assert_eq!(tail(&t(r#""20s""#), 10.0), Some(1.0));
        assert_eq!(
            tail(
                &t(r#"{"dist": "pareto", "scale": "1s", "shape": 1.0}"#),
                10.0
            ),
            Some(0.1)
        );
        // Median 1 s, p99 10 s: P(> 10 s) = 1 %.
        let p = tail(
            &t(r#"{"dist": "lognormal", "median": "1s", "p99": "10s"}"#),
            10.0,
        )
        .unwrap();
        assert!((p - 0.01).abs() < 1e-6, "{p}");
        assert_eq!(
            mean(&t(r#"{"dist": "uniform", "min": "1s", "max": "3s"}"#)),
            Some(2.0)
        );
    }
}
