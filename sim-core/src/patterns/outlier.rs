//! Outlier detection's settings, with Envoy's names and defaults
//! (`envoy.config.cluster.v3.OutlierDetection`): `consecutive_errors` =
//! consecutive_5xx (5), `interval` (10 s), `base_ejection` =
//! base_ejection_time (30 s), `max_ejection` = max_ejection_time (300 s),
//! `max_ejection_percent` (10, but one replica may always be ejected), and
//! the cluster's `panic_threshold` = healthy_panic_threshold (50 %).
//!
//! Owns the settings as written and validated; the engine's `outlier`
//! owns the state.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{FieldError, err, positive_duration};
use crate::time::{NS_PER_S, Nanos};

#[derive(Deserialize, Serialize, JsonSchema, Debug, Clone, Default)]
#[serde(deny_unknown_fields)]
pub struct OutlierDetectionFile {
    /// Failures in a row (errors, refusals, rejections, timeouts) that eject
    /// a replica (default 5).
    #[serde(default)]
    pub consecutive_errors: Option<u32>,
    /// How often ejected replicas are looked at to come back (default 10s).
    #[serde(default)]
    pub interval: Option<String>,
    /// An ejection lasts this × the times the replica was ejected
    /// (default 30s).
    #[serde(default)]
    pub base_ejection: Option<String>,
    /// The longest an ejection lasts (default 300s).
    #[serde(default)]
    pub max_ejection: Option<String>,
    /// At most this share of the replicas ejected at once, in % (default
    /// 10; one replica may always be ejected).
    #[serde(default)]
    pub max_ejection_percent: Option<u32>,
    /// Below this share of replicas in service, in %, the balancer ignores
    /// ejection and spreads over all (default 50; 0 never panics).
    #[serde(default)]
    pub panic_threshold: Option<u32>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OutlierDetection {
    pub consecutive_errors: u32,
    pub interval: Nanos,
    pub base_ejection: Nanos,
    pub max_ejection: Nanos,
    pub max_ejection_percent: u32,
    pub panic_threshold: u32,
}

impl OutlierDetectionFile {
    pub fn validate(&self) -> Result<OutlierDetection, FieldError> {
        let consecutive_errors = self.consecutive_errors.unwrap_or(5);
        if consecutive_errors == 0 {
            return err("consecutive_errors", "must be at least 1");
        }
        let percent = |field: &str, v: Option<u32>, default: u32| match v.unwrap_or(default) {
            p if p > 100 => err(field, format!("{p} is not a percentage (0 to 100)")),
            p => Ok(p),
        };
        let base_ejection =
            positive_duration("base_ejection", self.base_ejection.as_ref(), 30 * NS_PER_S)?;
        let max_ejection =
            positive_duration("max_ejection", self.max_ejection.as_ref(), 300 * NS_PER_S)?;
        if max_ejection < base_ejection {
            return err("max_ejection", "must be at least base_ejection");
        }
        Ok(OutlierDetection {
            consecutive_errors,
            interval: positive_duration("interval", self.interval.as_ref(), 10 * NS_PER_S)?,
            base_ejection,
            max_ejection,
            max_ejection_percent: percent("max_ejection_percent", self.max_ejection_percent, 10)?,
            panic_threshold: percent("panic_threshold", self.panic_threshold, 50)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envoys_defaults() {
        let c = OutlierDetectionFile::default().validate().unwrap();
        assert_eq!(c.consecutive_errors, 5);
        assert_eq!(c.interval, 10 * NS_PER_S);
        assert_eq!(c.base_ejection, 30 * NS_PER_S);
        assert_eq!(c.max_ejection, 300 * NS_PER_S);
        assert_eq!(c.max_ejection_percent, 10);
        assert_eq!(c.panic_threshold, 50);
    }

    #[test]
    fn bad_settings_name_their_field() {
        let bad = |f: OutlierDetectionFile| f.validate().unwrap_err().0;
        let zero = OutlierDetectionFile {
            consecutive_errors: Some(0),
            ..Default::default()
        };
        assert_eq!(bad(zero), "consecutive_errors");
        let pct = OutlierDetectionFile {
            max_ejection_percent: Some(150),
            ..Default::default()
        };
        assert_eq!(bad(pct), "max_ejection_percent");
        let short = OutlierDetectionFile {
            base_ejection: Some("60s".into()),
            max_ejection: Some("30s".into()),
            ..Default::default()
        };
        assert_eq!(bad(short), "max_ejection");
    }
}
