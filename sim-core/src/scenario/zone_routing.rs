//! How zones route and what crossing them costs, as written and checked:
//! a service's `zone_aware` (`true`, or `{ spill = true, min_cluster_size
//! }` for Envoy's percentage spill-over) and `[network] cross_zone` (one
//! latency, or `{ default = "1ms", a.c = "5ms" }`: a latency per pair of
//! zones, the same both ways unless given both ways).
//!
//! Owns this syntax and its checks; must not pick replicas (that is the
//! engine's `zoning` and `zone_spill`) nor know a service's other keys.

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};
use std::fmt;

use super::KeyError;
use super::values::duration;
use crate::model::ZonePair;
use crate::time::Nanos;

/// Envoy's default `min_cluster_size`: below it zone-aware routing is off.
pub const ENVOY_MIN_CLUSTER_SIZE: u32 = 6;

/// Zone-aware balancing (needs `zones`): `true` serves a caller in zone z
/// from the service's replicas in z while one of them is usable (ready,
/// not ejected), from any replica otherwise; `{ spill = true,
/// min_cluster_size = 6 }` is Envoy's zone-aware routing: local while the
/// zone's share of the healthy replicas is at least its share of the
/// callers, else a computed share across, by the other zones' residual
/// capacity; off (any replica) below `min_cluster_size` healthy replicas.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum ZoneAwareFile {
    On(bool),
    Rule(ZoneRuleFile),
}

/// Zone-aware balancing with its rule spelled out.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ZoneRuleFile {
    /// Envoy's percentage spill-over (default false: local while one
    /// replica of the zone is usable).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spill: Option<bool>,
    /// With `spill`: fewer healthy replicas than this and the service is
    /// balanced over all of them, zones ignored (default 6, Envoy's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_cluster_size: Option<u32>,
}

impl<'de> Deserialize<'de> for ZoneAwareFile {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // Hand-written rather than `untagged`, so errors inside the table
        // keep their own key and position.
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ZoneAwareFile;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("true, false or a table such as { spill = true, min_cluster_size = 6 }")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<ZoneAwareFile, E> {
                Ok(ZoneAwareFile::On(v))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<ZoneAwareFile, A::Error> {
                ZoneRuleFile::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(ZoneAwareFile::Rule)
            }
        }
        d.deserialize_any(V)
    }
}

/// The latency added each way to a call between zones: one for every
/// pair ("1ms"), or a table: `default` for pairs not listed and
/// `a = { c = "5ms" }` (in TOML `a.c = "5ms"`) for a pair, the same both
/// ways unless `c.a` is given too.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum CrossZoneFile {
    All(String),
    Pairs(IndexMap<String, CrossZoneEntry>),
}

/// In a `cross_zone` table: `default = "1ms"`, or a zone's latencies to
/// other zones (`a = { b = "2ms", c = "5ms" }`).
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum CrossZoneEntry {
    Latency(String),
    To(IndexMap<String, String>),
}

impl<'de> Deserialize<'de> for CrossZoneFile {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = CrossZoneFile;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a duration such as \"1ms\" or a table such as { default = \"1ms\", a = { c = \"5ms\" } }")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<CrossZoneFile, E> {
                Ok(CrossZoneFile::All(v.to_owned()))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<CrossZoneFile, A::Error> {
                IndexMap::<String, CrossZoneEntry>::deserialize(
                    de::value::MapAccessDeserializer::new(map),
                )
                .map(CrossZoneFile::Pairs)
            }
        }
        d.deserialize_any(V)
    }
}

impl<'de> Deserialize<'de> for CrossZoneEntry {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = CrossZoneEntry;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a duration (for `default`) or a table of zones and durations, such as { c = \"5ms\" }")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<CrossZoneEntry, E> {
                Ok(CrossZoneEntry::Latency(v.to_owned()))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<CrossZoneEntry, A::Error> {
                IndexMap::<String, String>::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(CrossZoneEntry::To)
            }
        }
        d.deserialize_any(V)
    }
}

/// What a service's `zone_aware` asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ZoneRule {
    Off,
    /// Local while one replica of the caller's zone is usable.
    Local,
    /// Envoy's spill-over, off below `min_cluster_size` healthy replicas.
    Spill {
        min_cluster_size: u32,
    },
}

/// `services.NAME.zone_aware`, checked.
pub fn rule(key: &str, z: Option<&ZoneAwareFile>) -> Result<ZoneRule, KeyError> {
    Ok(match z {
        None | Some(ZoneAwareFile::On(false)) => ZoneRule::Off,
        Some(ZoneAwareFile::On(true)) => ZoneRule::Local,
        Some(ZoneAwareFile::Rule(r)) => match (r.spill.unwrap_or(false), r.min_cluster_size) {
            (true, m) => ZoneRule::Spill {
                min_cluster_size: m.unwrap_or(ENVOY_MIN_CLUSTER_SIZE),
            },
            (false, Some(_)) => {
                return Err(KeyError::new(
                    format!("{key}.min_cluster_size"),
                    "`min_cluster_size` belongs to the spill-over rule: add `spill = true`",
                ));
            }
            (false, None) => ZoneRule::Local,
        },
    })
}

/// `[network] cross_zone`, checked against the zones some service lists:
/// the latency of pairs not listed, and each listed pair one way (a pair
/// given one way only is added the other way too).
pub fn crossings(
    text: Option<&CrossZoneFile>,
    known: &[&str],
) -> Result<(Nanos, Vec<ZonePair>), KeyError> {
    const KEY: &str = "network.cross_zone";
    let Some(text) = text else {
        return Ok((0, Vec::new()));
    };
    if known.is_empty() {
        return Err(KeyError::new(
            KEY,
            "a cross-zone latency needs replicas in zones: give services `zones = [\"a\", \"b\"]`",
        ));
    }
    let table = match text {
        CrossZoneFile::All(t) => return Ok((duration(KEY, t)?, Vec::new())),
        CrossZoneFile::Pairs(t) => t,
    };
    let zone = |key: String, name: &str| {
        if known.contains(&name) {
            Ok(())
        } else {
            Err(KeyError::new(
                key,
                format!(
                    "no service has a replica in zone `{name}` (zones: {})",
                    known.join(", ")
                ),
            ))
        }
    };
    let mut default = 0;
    let mut given: Vec<ZonePair> = Vec::new();
    for (from, entry) in table {
        let key = format!("{KEY}.{from}");
        match entry {
            CrossZoneEntry::Latency(t) if from == "default" => default = duration(&key, t)?,
            CrossZoneEntry::Latency(_) => {
                zone(key.clone(), from)?;
                return Err(KeyError::new(
                    key,
                    format!(
                        "a pair of zones is written `{from}.b = \"2ms\"`; the one plain duration is `default`"
                    ),
                ));
            }
            CrossZoneEntry::To(to) => {
                zone(key.clone(), from)?;
                for (other, t) in to {
                    let key = format!("{key}.{other}");
                    zone(key.clone(), other)?;
                    if other == from {
                        return Err(KeyError::new(
                            key,
                            "a call within a zone crosses nothing: name two different zones",
                        ));
                    }
                    given.push(ZonePair {
                        from: from.clone(),
                        to: other.clone(),
                        latency: duration(&key, t)?,
                    });
                }
            }
        }
    }
    // The way back of a pair given one way only.
    let mut pairs = given.clone();
    for p in &given {
        if !given.iter().any(|q| q.from == p.to && q.to == p.from) {
            pairs.push(ZonePair {
                from: p.to.clone(),
                to: p.from.clone(),
                latency: p.latency,
            });
        }
    }
    Ok((default, pairs))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> CrossZoneFile {
        #[derive(Deserialize)]
        struct Doc {
            cross_zone: CrossZoneFile,
        }
        toml_edit::de::from_str::<Doc>(text)
            .expect("valid")
            .cross_zone
    }

    #[test]
    fn a_pair_given_one_way_holds_both_ways_and_both_ways_stay_apart() {
        let f =
            parse("[cross_zone]\ndefault = \"1ms\"\na.c = \"5ms\"\nb.c = \"2ms\"\nc.b = \"3ms\"");
        let (default, pairs) = crossings(Some(&f), &["a", "b", "c"]).expect("valid");
        assert_eq!(default, 1_000_000);
        let of = |from: &str, to: &str| {
            pairs
                .iter()
                .find(|p| p.from == from && p.to == to)
                .map(|p| p.latency)
        };
        assert_eq!(of("a", "c"), Some(5_000_000));
        assert_eq!(of("c", "a"), Some(5_000_000));
        assert_eq!(of("b", "c"), Some(2_000_000));
        assert_eq!(of("c", "b"), Some(3_000_000));
        assert_eq!(of("a", "b"), None, "the default");
    }

    #[test]
    fn unknown_zones_and_plain_keys_are_named() {
        let known = ["a", "b"];
        let err = |text: &str| crossings(Some(&parse(text)), &known).unwrap_err();
        let e = err("[cross_zone]\na.x = \"1ms\"");
        assert_eq!(e.key, "network.cross_zone.a.x");
        assert!(e.message.contains("zone `x`"), "{}", e.message);
        let e = err("[cross_zone]\nx.a = \"1ms\"");
        assert_eq!(e.key, "network.cross_zone.x");
        let e = err("[cross_zone]\na = \"1ms\"");
        assert!(e.message.contains("`a.b = \"2ms\"`"), "{}", e.message);
        let e = err("[cross_zone]\na.a = \"1ms\"");
        assert_eq!(e.key, "network.cross_zone.a.a");
    }

    #[test]
    fn min_cluster_size_needs_the_spill_over() {
        let r = |spill, min| {
            rule(
                "k",
                Some(&ZoneAwareFile::Rule(ZoneRuleFile {
                    spill,
                    min_cluster_size: min,
                })),
            )
        };
        assert_eq!(
            r(Some(true), None),
            Ok(ZoneRule::Spill {
                min_cluster_size: 6
            })
        );
        assert_eq!(
            r(Some(true), Some(2)),
            Ok(ZoneRule::Spill {
                min_cluster_size: 2
            })
        );
        assert_eq!(r(None, Some(2)).unwrap_err().key, "k.min_cluster_size");
        assert_eq!(
            rule("k", Some(&ZoneAwareFile::On(true))),
            Ok(ZoneRule::Local)
        );
    }
}
