//! Deadline propagation (gRPC deadlines, Envoy's `x-envoy-expected-rq-timeout-ms`):
//! a workload source stamps each request with an absolute deadline, every
//! downstream call carries it, and a callee drops a dequeued request whose
//! deadline has passed and stops before each step once it is gone. Without
//! propagation only the source's own timeout applies and the work it
//! abandons is orphaned.
//!
//! Nothing here is stateful: the deadline travels with the request.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{FieldError, positive_duration};
use crate::time::Nanos;

/// Deadline settings of a workload source.
#[derive(Deserialize, Serialize, JsonSchema, Debug, Clone, Default)]
#[serde(deny_unknown_fields)]
pub struct DeadlineFile {
    /// Carry the deadline to every callee, which drops expired work
    /// (default true).
    #[serde(default)]
    pub propagate: Option<bool>,
    /// Time from arrival to deadline (default: the source's `timeout`).
    #[serde(default)]
    pub timeout: Option<String>,
}

/// Validated deadline settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeadlineConfig {
    pub propagate: bool,
    /// `None`: the source's own timeout.
    pub timeout: Option<Nanos>,
}

impl DeadlineFile {
    pub fn validate(&self) -> Result<DeadlineConfig, FieldError> {
        Ok(DeadlineConfig {
            propagate: self.propagate.unwrap_or(true),
            timeout: match &self.timeout {
                None => None,
                Some(t) => Some(positive_duration("timeout", Some(t), 0)?),
            },
        })
    }
}

impl DeadlineConfig {
    /// The absolute deadline of a request that arrived at `arrival`, given
    /// the source's own timeout; `None` = no deadline.
    pub fn deadline(&self, arrival: Nanos, source_timeout: Option<Nanos>) -> Option<Nanos> {
        self.timeout
            .or(source_timeout)
            .map(|t| arrival.saturating_add(t))
    }
}

/// Whether work carrying `deadline` must be dropped at `now` (a deadline
/// reached is gone: nothing useful can be returned in zero time).
pub fn expired(deadline: Option<Nanos>, now: Nanos) -> bool {
    deadline.is_some_and(|d| now >= d)
}

/// The tighter of a propagated deadline and a call's own (`now + timeout`).
pub fn tighter(propagated: Option<Nanos>, now: Nanos, timeout: Option<Nanos>) -> Option<Nanos> {
    let own = timeout.map(|t| now.saturating_add(t));
    match (propagated, own) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::NS_PER_MS;

    #[test]
    fn deadlines_come_from_the_source_unless_set() {
        let c = DeadlineFile::default().validate().unwrap();
        assert!(c.propagate);
        assert_eq!(c.deadline(1_000, Some(500)), Some(1_500));
        assert_eq!(c.deadline(1_000, None), None);
        let c = DeadlineFile {
            propagate: Some(false),
            timeout: Some("2ms".into()),
        }
        .validate()
        .unwrap();
        assert!(!c.propagate);
        assert_eq!(c.deadline(0, Some(1)), Some(2 * NS_PER_MS));
    }

    #[test]
    fn expiry_and_the_tighter_deadline() {
        assert!(!expired(None, u64::MAX));
        assert!(!expired(Some(10), 9));
        assert!(expired(Some(10), 10));
        assert_eq!(tighter(Some(100), 50, Some(20)), Some(70));
        assert_eq!(tighter(Some(60), 50, Some(20)), Some(60));
        assert_eq!(tighter(None, 50, Some(20)), Some(70));
        assert_eq!(tighter(Some(60), 50, None), Some(60));
        assert_eq!(tighter(None, 50, None), None);
    }

    #[test]
    fn validation_names_the_field() {
        let e = DeadlineFile {
            propagate: None,
            timeout: Some("0".into()),
        }
        .validate()
        .unwrap_err();
        assert_eq!(e.0, "timeout");
    }
}
