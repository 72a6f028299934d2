//! The checks of a service's `autoscale` table: its settings (see
//! `patterns::autoscale`), the replicas it starts with, the metric the
//! server model can measure, and a consumer group's members per replica.
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
    let event_loop = s.model == Some(ServerModel::EventLoop);
    let metric_key = format!("{key}.autoscale.metric");
    match cfg.metric {
        ScaleMetric::Cpu if s.node.is_some() => {
            return Err(KeyError::new(
                metric_key,
                "a service on a node shares the node's cores with others: its own busy cores are not measured; use \"threads\" (or \"connections\" on an event loop)",
            ));
        }
        ScaleMetric::Cpu if s.cores.is_none() => {
            return Err(KeyError::new(
                metric_key,
                "the cpu metric measures busy cores: give the service `cores` (or use \"threads\")",
            ));
        }
        ScaleMetric::Threads if event_loop => {
            return Err(KeyError::new(
                metric_key,
                "an event loop has no thread pool: use metric = \"connections\" (open connections / max_connections) or \"cpu\"",
            ));
        }
        ScaleMetric::Connections if !event_loop => {
            return Err(KeyError::new(
                metric_key,
                "connections is an event loop's metric (`model = \"event_loop\"`): use \"threads\" or \"cpu\"",
            ));
        }
        ScaleMetric::Connections if s.max_connections.is_none() => {
            return Err(KeyError::new(
                metric_key,
                "the connections metric is a share of `max_connections`: give the service `max_connections`",
            ));
        }
        _ => {}
    }
    // A consumer group on an autoscaled service has the same members on
    // every replica, so its `members` is a whole number per replica.
    let consumes = |consumer: &str| consumer.split('.').next() == Some(name);
    for (g, group) in &file.groups {
        let members = group.members.unwrap_or(1);
        if consumes(&group.consumer) && members % cfg.initial != 0 {
            return Err(KeyError::new(
                format!("groups.{g}.members"),
                format!(
                    "the consumer `{name}` autoscales: every replica runs the same members, so give a multiple of its {} replicas at the start, got {members}",
                    cfg.initial
                ),
            ));
        }
    }
    Ok(Some(cfg))
}
