//! The `[logs]` and `[groups]` tables: partitioned logs (partitions,
//! retention, key space) and the consumer groups that read them (members,
//! batches, the poll interval, the rebalance pause, what a failed record
//! does), as written and checked into `model::Log` and `model::Group`.
//!
//! Owns these keys' syntax and checks; must not place `publish` steps
//! (that is `build`, which resolves a publish target to a log).

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::KeyError;
use super::keys::CacheKeysFile;
use super::values::positive_duration;
use crate::model::{Group, Log, Model, OnFailure, OpId};
use crate::time::{NS_PER_S, Nanos};

type R<T> = Result<T, KeyError>;

/// Partitions a log may have (each holds its own record list and, per
/// group, its offsets).
const MAX_PARTITIONS: u32 = 100_000;
/// Keys a log's key space may have.
const MAX_KEYS: u32 = 100_000_000;

/// A partitioned log (Kafka-style).
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LogFile {
    /// Partitions: a record's key picks one by a stable hash; order holds
    /// within a partition.
    pub partitions: u32,
    /// The broker whose acknowledgement latency (and outages) publishes
    /// see (default: the only broker).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub broker: Option<String>,
    /// Records are deleted after this time or past this count per
    /// partition, consumed or not (a loss, counted): `{ time = "10m" }`,
    /// `{ count = 100000 }` or both (default: kept for ever).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention: Option<RetentionFile>,
    /// The records' keys: `{ count, zipf }` as a cache's (default: one
    /// million keys, equally likely).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keys: Option<CacheKeysFile>,
}

/// How long a log keeps its records.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RetentionFile {
    /// A record older than this is deleted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
    /// Records kept per partition at most: the oldest goes first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u32>,
}

/// What a consumer group does with a record whose processing failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OnFailureFile {
    /// Process it again after `retry_backoff`: its partition waits.
    RetryInPlace,
    /// Append it to the log `retry_log` and go on.
    RetryLog,
    /// Count it as dead-lettered (appended to `dead_letter`, if given)
    /// and go on.
    DeadLetter,
}

/// A consumer group on a log.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupFile {
    /// The log it reads.
    pub log: String,
    /// The operation that processes one record: "service" or
    /// "service.operation".
    pub consumer: String,
    /// Consumer workers, placed round robin on the service's replicas;
    /// each takes one of its replica's threads while it processes. At most
    /// one per partition: the others idle (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub members: Option<u32>,
    /// Records per batch (default 500); the offsets are committed after
    /// each batch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_poll_records: Option<u32>,
    /// A member whose batch takes longer is evicted: a rebalance, and its
    /// batch goes to the next owner (default "5m").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_poll_interval: Option<String>,
    /// Every membership change (crash, restart, eviction) stops the whole
    /// group for this long (default "3s").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rebalance: Option<String>,
    /// "retry_in_place" (default), "retry_log" or "dead_letter".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_failure: Option<OnFailureFile>,
    /// With "retry_in_place": the wait before the record is tried again
    /// (default "100ms").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_backoff: Option<String>,
    /// With "retry_log": the log failed records go to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_log: Option<String>,
    /// With "dead_letter": a log that receives them (default: only
    /// counted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dead_letter: Option<String>,
    /// A poll batch's own cost on the member's thread: `{ fixed = "2ms",
    /// per_record = "0.1ms" }` holds it fixed + n × per_record for a batch
    /// of n records, before the consumer operation's steps run for each.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_cost: Option<super::log_batching::BatchCostFile>,
}

/// The logs of `logs`, each on the broker `broker_of` names for it.
pub(super) fn logs(
    logs: &IndexMap<String, LogFile>,
    taken: &[&str],
    broker_of: impl Fn(&str, &Option<String>) -> R<u32>,
) -> R<Vec<Log>> {
    let mut out = Vec::new();
    for (name, l) in logs {
        let key = format!("logs.{name}");
        if taken.contains(&name.as_str()) {
            return Err(KeyError::new(
                &key,
                format!("`{name}` is also a queue or a topic: publish targets need one name each"),
            ));
        }
        if l.partitions == 0 || l.partitions > MAX_PARTITIONS {
            return Err(KeyError::new(
                format!("{key}.partitions"),
                format!("must be 1..={MAX_PARTITIONS}, got {}", l.partitions),
            ));
        }
        let (keys, zipf) = match &l.keys {
            None => (1_000_000, None),
            Some(k) => {
                if k.count == 0 || k.count > MAX_KEYS {
                    return Err(KeyError::new(
                        format!("{key}.keys.count"),
                        format!("must be 1..={MAX_KEYS} keys, got {}", k.count),
                    ));
                }
                if let Some(s) = k.zipf
                    && !(s.is_finite() && s > 0.0 && s <= 10.0)
                {
                    return Err(KeyError::new(
                        format!("{key}.keys.zipf"),
                        format!(
                            "must be an exponent in (0, 10], got {s} (leave it out for uniform keys)"
                        ),
                    ));
                }
                (k.count, k.zipf)
            }
        };
        let (retention_time, retention_count) = match &l.retention {
            None => (None, None),
            Some(r) => {
                if r.time.is_none() && r.count.is_none() {
                    return Err(KeyError::new(
                        format!("{key}.retention"),
                        "give `time`, `count` or both (leave `retention` out to keep records for ever)",
                    ));
                }
                if r.count == Some(0) {
                    return Err(KeyError::new(
                        format!("{key}.retention.count"),
                        "must be at least 1 record",
                    ));
                }
                let time = match &r.time {
                    Some(t) => Some(positive_duration(&format!("{key}.retention.time"), t)?),
                    None => None,
                };
                (time, r.count)
            }
        };
        out.push(Log {
            name: name.clone(),
            broker: broker_of(&key, &l.broker)?,
            partitions: l.partitions,
            retention_time,
            retention_count,
            keys,
            zipf,
        });
    }
    Ok(out)
}

fn log_id(m: &Model, key: &str, name: &str) -> R<u32> {
    m.logs
        .iter()
        .position(|l| l.name == name)
        .map(|i| i as u32)
        .ok_or_else(|| {
            let known: Vec<&str> = m.logs.iter().map(|l| l.name.as_str()).collect();
            KeyError::new(
                key,
                if known.is_empty() {
                    format!("unknown log `{name}`: declare it as [logs.NAME]")
                } else {
                    format!("unknown log `{name}` (logs: {})", known.join(", "))
                },
            )
        })
}

fn opt_positive(key: &str, text: &Option<String>, default: Nanos) -> R<Nanos> {
    text.as_deref()
        .map_or(Ok(default), |t| positive_duration(key, t))
}

/// The consumer groups of `groups` on `m`'s logs; `resolve` turns a
/// consumer target into its operation.
pub(super) fn groups(
    groups: &IndexMap<String, GroupFile>,
    m: &Model,
    resolve: impl Fn(&str, &str) -> R<OpId>,
) -> R<Vec<Group>> {
    let mut out = Vec::new();
    for (name, g) in groups {
        let key = format!("groups.{name}");
        let log = log_id(m, &format!("{key}.log"), &g.log)?;
        let consumer = resolve(&format!("{key}.consumer"), &g.consumer)?;
        let service = m.ops[consumer as usize].service;
        let members = g.members.unwrap_or(1);
        if members == 0 || members > 100_000 {
            return Err(KeyError::new(
                format!("{key}.members"),
                format!("must be 1..=100000, got {members}"),
            ));
        }
        let max_poll_records = g.max_poll_records.unwrap_or(500);
        if max_poll_records == 0 {
            return Err(KeyError::new(
                format!("{key}.max_poll_records"),
                "must be at least 1 record",
            ));
        }
        let failure = g.on_failure.unwrap_or(OnFailureFile::RetryInPlace);
        let misplaced = [
            (
                "retry_backoff",
                g.retry_backoff.is_some(),
                OnFailureFile::RetryInPlace,
            ),
            ("retry_log", g.retry_log.is_some(), OnFailureFile::RetryLog),
            (
                "dead_letter",
                g.dead_letter.is_some(),
                OnFailureFile::DeadLetter,
            ),
        ]
        .into_iter()
        .find(|(_, given, kind)| *given && *kind != failure);
        if let Some((field, _, kind)) = misplaced {
            let word = serde_json::to_value(kind).expect("a unit variant");
            return Err(KeyError::new(
                format!("{key}.{field}"),
                format!("`{field}` belongs to on_failure = {word}"),
            ));
        }
        let on_failure = match failure {
            OnFailureFile::RetryInPlace => OnFailure::RetryInPlace {
                backoff: opt_positive(
                    &format!("{key}.retry_backoff"),
                    &g.retry_backoff,
                    NS_PER_S / 10,
                )?,
            },
            OnFailureFile::RetryLog => {
                let Some(target) = &g.retry_log else {
                    return Err(KeyError::new(
                        format!("{key}.on_failure"),
                        "\"retry_log\" needs `retry_log = \"LOG\"`",
                    ));
                };
                let to = log_id(m, &format!("{key}.retry_log"), target)?;
                if to == log {
                    return Err(KeyError::new(
                        format!("{key}.retry_log"),
                        "must be another log than the group's own",
                    ));
                }
                OnFailure::RetryLog(to)
            }
            OnFailureFile::DeadLetter => OnFailure::DeadLetter(match &g.dead_letter {
                Some(target) => {
                    let to = log_id(m, &format!("{key}.dead_letter"), target)?;
                    if to == log {
                        return Err(KeyError::new(
                            format!("{key}.dead_letter"),
                            "must be another log than the group's own",
                        ));
                    }
                    Some(to)
                }
                None => None,
            }),
        };
        out.push(Group {
            name: name.clone(),
            log,
            consumer,
            service,
            members,
            max_poll_records,
            max_poll_interval: opt_positive(
                &format!("{key}.max_poll_interval"),
                &g.max_poll_interval,
                300 * NS_PER_S,
            )?,
            rebalance: match &g.rebalance {
                Some(t) => super::values::duration(&format!("{key}.rebalance"), t)?,
                None => 3 * NS_PER_S,
            },
            on_failure,
            batch_cost: super::log_batching::batch_cost(&key, g.batch_cost.as_ref())?,
        });
    }
    Ok(out)
}
