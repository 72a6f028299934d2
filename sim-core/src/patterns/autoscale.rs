//! Autoscaling's settings and its decision, with the names and defaults of
//! Kubernetes' HorizontalPodAutoscaler (`autoscaling/v2`): `min` =
//! minReplicas (1), `max` = maxReplicas (required), `target` = the metric's
//! averageUtilization as a share (required), `period` = the controller's
//! `--horizontal-pod-autoscaler-sync-period` (15 s), `tolerance` =
//! `--horizontal-pod-autoscaler-tolerance` (0.1), `scale_down_stabilization`
//! = behavior.scaleDown.stabilizationWindowSeconds (300 s), and the default
//! scale-up policy (at most double, or four more, per period). `startup` is
//! how long a new pod takes to become ready (0).
//!
//! The decision, each period ([`Hpa::decide`]):
//! 1. `ratio = usage / (target × current)`, where `usage` is the metric's
//!    mean over the last period summed over every pod (in pods' worth: busy
//!    threads / threads, or busy cores / cores) and `current` the replicas
//!    the scale holds (ready or starting: a starting pod counts as idle,
//!    as the HPA counts not-yet-ready pods at 0 % when scaling up);
//! 2. within the tolerance (`|ratio − 1| ≤ tolerance`) nothing changes;
//! 3. else the recommendation is `ceil(usage / target)`, clamped to
//!    [`min`, `max`];
//! 4. a scale-up is limited to `max(2 × current, current + 4)`; a
//!    scale-down takes the *highest* recommendation of the stabilisation
//!    window (so one quiet period does not shrink the service).
//!
//! Owns the settings as written and validated and that arithmetic; the
//! engine's `autoscale` owns the replicas it starts and drains.

use std::collections::VecDeque;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{FieldError, duration, err, positive_duration};
use crate::time::{NS_PER_S, Nanos};

/// What the autoscaler measures, per pod.
#[derive(Deserialize, Serialize, JsonSchema, Debug, Clone, Copy, PartialEq, Eq, Default)]
#[serde(rename_all = "snake_case")]
pub enum ScaleMetric {
    /// Busy threads / threads (a custom "threads in use" metric).
    #[default]
    Threads,
    /// Busy cores / cores (the HPA's CPU utilisation; needs `cores`).
    Cpu,
    /// An event loop's open connections / `max_connections` (a custom
    /// "connections per pod" metric as a share of the limit).
    Connections,
}

#[derive(Deserialize, Serialize, JsonSchema, Debug, Clone, Default)]
#[serde(deny_unknown_fields)]
pub struct AutoscaleFile {
    /// The fewest replicas (default 1).
    #[serde(default)]
    pub min: Option<u32>,
    /// The most replicas (required).
    #[serde(default)]
    pub max: Option<u32>,
    /// The metric's target per pod, a share in (0, 1] (e.g. 0.6).
    #[serde(default)]
    pub target: Option<f64>,
    /// "threads" (default: busy threads / threads), "cpu" (busy cores /
    /// cores; the service needs `cores`) or "connections" (an event loop's
    /// open connections / `max_connections`).
    #[serde(default)]
    pub metric: Option<ScaleMetric>,
    /// How often the autoscaler decides (default 15s).
    #[serde(default)]
    pub period: Option<String>,
    /// No change while the usage is within this share of the target
    /// (default 0.1).
    #[serde(default)]
    pub tolerance: Option<f64>,
    /// A scale-down takes the highest recommendation of this window
    /// (default 300s; "0s" scales down at once).
    #[serde(default)]
    pub scale_down_stabilization: Option<String>,
    /// A new replica takes traffic this long after it is created
    /// (default 0s); then it is cold, if the service has `cold_start`.
    #[serde(default)]
    pub startup: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Autoscale {
    pub min: u32,
    pub max: u32,
    pub target: f64,
    pub metric: ScaleMetric,
    pub period: Nanos,
    pub tolerance: f64,
    pub scale_down_stabilization: Nanos,
    pub startup: Nanos,
    /// Replicas at the start of the run (the service's `replicas`, or
    /// `min`).
    pub initial: u32,
}

impl Autoscale {
    /// Replica slots the engine keeps: `max` serving or starting, and as
    /// many draining (finishing what they hold) beside them.
    pub fn slots(&self) -> u32 {
        self.max.saturating_mul(2)
    }
}

impl AutoscaleFile {
    /// The settings, with `replicas` (as declared, if it was) the initial
    /// count.
    pub fn validate(&self, replicas: Option<u32>) -> Result<Autoscale, FieldError> {
        let min = self.min.unwrap_or(1);
        if min == 0 {
            return err("min", "must be at least 1");
        }
        let Some(max) = self.max else {
            return err("max", "give the most replicas the autoscaler may run");
        };
        if max < min {
            return err("max", format!("must be at least min ({min}), got {max}"));
        }
        if max > 10_000 {
            return err("max", format!("at most 10000 replicas, got {max}"));
        }
        let target = match self.target {
            Some(t) if t.is_finite() && t > 0.0 && t <= 1.0 => t,
            Some(t) => return err("target", format!("must be a share in (0, 1], got {t}")),
            None => return err("target", "give the metric's target per pod, e.g. 0.6"),
        };
        let tolerance = match self.tolerance {
            None => 0.1,
            Some(t) if t.is_finite() && (0.0..1.0).contains(&t) => t,
            Some(t) => return err("tolerance", format!("must be a share in [0, 1), got {t}")),
        };
        let initial = replicas.unwrap_or(min);
        if initial < min || initial > max {
            return err(
                "replicas",
                format!(
                    "the replicas at the start ({initial}) must be within autoscale's min ({min}) and max ({max})"
                ),
            );
        }
        let window = duration(
            "scale_down_stabilization",
            self.scale_down_stabilization.as_ref(),
            300 * NS_PER_S,
        )?;
        let startup = duration("startup", self.startup.as_ref(), 0)?;
        Ok(Autoscale {
            min,
            max,
            target,
            metric: self.metric.unwrap_or_default(),
            period: positive_duration("period", self.period.as_ref(), 15 * NS_PER_S)?,
            tolerance,
            scale_down_stabilization: window,
            startup,
            initial,
        })
    }
}

/// One autoscaler's memory: its recent recommendations (for the
/// scale-down stabilisation window).
#[derive(Clone, Debug)]
pub struct Hpa {
    cfg: Autoscale,
    /// (time, recommendation), oldest first, within the window.
    recent: VecDeque<(Nanos, u32)>,
}

impl Hpa {
    pub fn new(cfg: Autoscale) -> Hpa {
        Hpa {
            cfg,
            recent: VecDeque::new(),
        }
    }

    /// The replicas to run from `now`, given `current` (ready or starting)
    /// and the metric's `usage` over the last period in pods' worth.
    pub fn decide(&mut self, now: Nanos, current: u32, usage: f64) -> u32 {
        let c = &self.cfg;
        let current = current.max(1);
        let ratio = usage / (c.target * f64::from(current));
        let recommended = if (ratio - 1.0).abs() <= c.tolerance {
            current
        } else {
            let want = (usage / c.target - 1e-9).ceil().max(0.0);
            (want.min(f64::from(c.max)) as u32).clamp(c.min, c.max)
        };
        // Stabilisation: keep the window's recommendations; a scale-down
        // goes only as low as the highest of them.
        while self
            .recent
            .front()
            .is_some_and(|&(t, _)| now.saturating_sub(t) > c.scale_down_stabilization)
        {
            self.recent.pop_front();
        }
        self.recent.push_back((now, recommended));
        let stable = self
            .recent
            .iter()
            .map(|&(_, r)| r)
            .max()
            .unwrap_or(recommended);
        if recommended > current {
            let limit = current.saturating_mul(2).max(current + 4);
            recommended.min(limit).min(c.max)
        } else if stable < current {
            stable.max(c.min)
        } else {
            current
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> Autoscale {
        AutoscaleFile {
            max: Some(20),
            target: Some(0.5),
            min: Some(2),
            ..Default::default()
        }
        .validate(None)
        .unwrap()
    }

    #[test]
    fn defaults_are_the_hpa_controllers() {
        let c = cfg();
        assert_eq!(c.period, 15 * NS_PER_S);
        assert_eq!(c.tolerance, 0.1);
        assert_eq!(c.scale_down_stabilization, 300 * NS_PER_S);
        assert_eq!(c.initial, 2);
    }

    #[test]
    fn scales_up_by_the_formula_within_the_rate_limit() {
        // 4 pods at 90 % against a 50 % target: ceil(4 × 0.9 / 0.5) = 8.
        let mut h = Hpa::new(cfg());
        assert_eq!(h.decide(15 * NS_PER_S, 4, 3.6), 8);
        // 2 pods at 100 % of 20 threads' worth: ceil(2 / 0.5) = 4... with
        // usage 10 pods' worth, 20 wanted, but at most max(2 × 2, 2 + 4) = 6.
        let mut h = Hpa::new(cfg());
        assert_eq!(h.decide(15 * NS_PER_S, 2, 10.0), 6);
    }

    #[test]
    fn tolerance_holds_still() {
        let mut h = Hpa::new(cfg());
        // ratio = 2.1 / (0.5 × 4) = 1.05: within 0.1.
        assert_eq!(h.decide(15 * NS_PER_S, 4, 2.1), 4);
        // ratio 1.2: out of it, ceil(2.4 / 0.5) = 5.
        assert_eq!(h.decide(30 * NS_PER_S, 4, 2.4), 5);
    }

    #[test]
    fn scale_down_waits_for_the_stabilisation_window() {
        let s = NS_PER_S;
        let mut h = Hpa::new(cfg());
        // Busy at t = 15 s: recommendation 8.
        assert_eq!(h.decide(15 * s, 8, 3.6), 8);
        // Idle afterwards: recommendation 2 (min), but 8 is in the window.
        for k in 2..=21 {
            assert_eq!(h.decide(15 * k * s, 8, 0.2), 8, "at {} s", 15 * k);
        }
        // At 330 s the 15 s recommendation is more than 300 s old.
        assert_eq!(h.decide(330 * s, 8, 0.2), 2);
    }

    #[test]
    fn bad_settings_name_their_field() {
        let bad = |f: AutoscaleFile, replicas: Option<u32>, field: &str| {
            let (f, m) = f.validate(replicas).unwrap_err();
            assert_eq!(f, field, "{m}");
        };
        bad(AutoscaleFile::default(), None, "max");
        bad(
            AutoscaleFile {
                max: Some(3),
                ..Default::default()
            },
            None,
            "target",
        );
        let ok = AutoscaleFile {
            max: Some(3),
            target: Some(0.7),
            ..Default::default()
        };
        bad(ok.clone(), Some(5), "replicas");
        bad(
            AutoscaleFile {
                min: Some(4),
                ..ok.clone()
            },
            None,
            "max",
        );
        bad(
            AutoscaleFile {
                target: Some(1.5),
                ..ok.clone()
            },
            None,
            "target",
        );
        bad(
            AutoscaleFile {
                period: Some("0s".into()),
                ..ok
            },
            None,
            "period",
        );
    }
}
