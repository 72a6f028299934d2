//! The checks of a service's `autoscale` table: its settings (see
//! `patterns::autoscale`), the replicas it starts with, and what it cannot
//! be combined with yet.
//!
//! Owns these rules; must not build steps or calls (that is `build`).

use super::KeyError;
use super::dto::{ScenarioFile, ServerModel, ServiceFile};
use crate::patterns::autoscale::{Autoscale, ScaleMetric};

type R<T> = Result<T, KeyError>;

/// The autoscaler of service `name`, if it declares one.
pub fn autoscale(
    key: &str,
    name: &str,
    s: &ServiceFile,
    file: &ScenarioFile,
) -> R<Option<Autoscale>> {
    let Some(a) = &s.autoscale else {
        return Ok(None);
    };
    let cfg = a.validate(s.replicas).map_err(|(field, message)| {
        if field == "replicas" {
            KeyError::new(format!("{key}.replicas"), message)
        } else {
            KeyError::new(format!("{key}.autoscale.{field}"), message)
        }
    })?;
    if cfg.metric == ScaleMetric::Cpu && s.cores.is_none() {
        return Err(KeyError::new(
            format!("{key}.autoscale.metric"),
            "the cpu metric measures busy cores: give the service `cores` (or use \"threads\")",
        ));
    }
    let consumes = |consumer: &str| consumer.split('.').next() == Some(name);
    let not_yet = [
        (
            s.model == Some(ServerModel::EventLoop),
            "an event loop (`model = \"event_loop\"`)",
        ),
        (s.memory.is_some(), "`memory` (OOM kills and restarts)"),
        (s.outlier_detection.is_some(), "`outlier_detection`"),
        (s.node.is_some(), "a `node` (shared cores)"),
        (
            file.queues.values().any(|q| consumes(&q.consumer))
                || file.groups.values().any(|g| consumes(&g.consumer)),
            "consuming a queue or a consumer group",
        ),
    ];
    if let Some((_, what)) = not_yet.iter().find(|(given, _)| *given) {
        return Err(KeyError::new(
            format!("{key}.autoscale"),
            format!("autoscaling cannot be combined with {what} yet (not built; see the README)"),
        ));
    }
    Ok(Some(cfg))
}
