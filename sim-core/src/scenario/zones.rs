//! Zones: the names a service spreads its replicas over (replica `r` in
//! `zones[r % zones.len()]`), and a fault that strikes a zone — every
//! replica of every service placed in it — expanded here into one fault
//! per replica, so the engine knows nothing of zones.
//!
//! Also checks zone-aware balancing (`zone_aware` on a service), sources'
//! zones and `[network] cross_zone` into `model::Zoning`.
//!
//! Owns these rules; must not build the expanded faults' effects (that is
//! `build::fault`) nor pick replicas (that is the engine's `zones`).

use super::KeyError;
use super::dto::{FaultFile, ScenarioFile, ServiceFile};
use super::zone_routing::{self, ZoneRule};
use crate::model::{Model, Zoning};

type R<T> = Result<T, KeyError>;

/// The zones of a service, checked: at least one, each named once.
pub fn zones(key: &str, s: &ServiceFile) -> R<Vec<String>> {
    let Some(zones) = &s.zones else {
        return Ok(Vec::new());
    };
    if zones.is_empty() {
        return Err(KeyError::new(
            format!("{key}.zones"),
            "name at least one zone, or leave out `zones`",
        ));
    }
    for (i, z) in zones.iter().enumerate() {
        if z.trim().is_empty() {
            return Err(KeyError::new(
                format!("{key}.zones.{i}"),
                "a zone needs a name",
            ));
        }
        if zones[..i].contains(z) {
            return Err(KeyError::new(
                format!("{key}.zones.{i}"),
                format!("zone `{z}` is listed twice"),
            ));
        }
    }
    Ok(zones.clone())
}

/// The faults `f` (fault number `i`) stands for: itself, or for a zone
/// fault one per replica in the zone, each aimed at its service and
/// replica.
pub fn expand(m: &Model, i: usize, f: &FaultFile) -> R<Vec<FaultFile>> {
    let key = format!("fault.{i}");
    let Some(zone) = &f.zone else {
        if f.target.is_empty() {
            return Err(KeyError::new(
                format!("{key}.target"),
                "a fault needs a `target` (or a `zone`)",
            ));
        }
        return Ok(vec![f.clone()]);
    };
    if !f.target.is_empty() {
        return Err(KeyError::new(
            format!("{key}.target"),
            "a zone fault strikes every replica in the zone: leave out `target`",
        ));
    }
    if f.replica.is_some() || f.steps.is_some() {
        return Err(KeyError::new(
            format!(
                "{key}.{}",
                if f.replica.is_some() {
                    "replica"
                } else {
                    "steps"
                }
            ),
            "a zone fault strikes whole replicas: leave out `replica` and `steps`",
        ));
    }
    let replica_kind = f.crash.is_some()
        || f.hang.is_some()
        || f.slowdown.is_some()
        || f.errors.is_some()
        || f.lost_threads.is_some()
        || f.pause.is_some();
    if !replica_kind {
        return Err(KeyError::new(
            format!("{key}.zone"),
            "a zone fault is one of `crash`, `hang`, `slowdown`, `errors`, `lost_threads` or `pause`",
        ));
    }
    let mut known: Vec<&str> = Vec::new();
    let mut out = Vec::new();
    for s in &m.services {
        for z in &s.zones {
            if !known.contains(&z.as_str()) {
                known.push(z);
            }
        }
        if !s.zones.contains(zone) {
            continue;
        }
        for r in 0..s.replicas {
            if s.zone_of(r) == Some(zone.as_str()) {
                out.push(FaultFile {
                    target: s.name.clone(),
                    replica: Some(r),
                    zone: None,
                    ..f.clone()
                });
            }
        }
    }
    if out.is_empty() {
        return Err(KeyError::new(
            format!("{key}.zone"),
            format!(
                "no replica is in zone `{zone}` (zones: {})",
                if known.is_empty() {
                    "none; give services `zones = [\"a\", \"b\"]`".to_owned()
                } else {
                    known.join(", ")
                }
            ),
        ));
    }
    Ok(out)
}

/// Zone-aware balancing and the cross-zone latency, checked: `None` when
/// the scenario declares neither (the engine then pays nothing).
pub fn routing(file: &ScenarioFile, m: &Model) -> R<Option<Zoning>> {
    let mut known: Vec<&str> = Vec::new();
    for s in &m.services {
        for z in &s.zones {
            if !known.contains(&z.as_str()) {
                known.push(z);
            }
        }
    }
    let listed = || {
        if known.is_empty() {
            "no service lists `zones`".to_owned()
        } else {
            format!("zones: {}", known.join(", "))
        }
    };
    let mut aware = Vec::with_capacity(m.services.len());
    let mut spill = Vec::with_capacity(m.services.len());
    for s in &m.services {
        let key = format!("services.{}.zone_aware", s.name);
        let rule = zone_routing::rule(
            &key,
            file.services
                .get(&s.name)
                .and_then(|f| f.zone_aware.as_ref()),
        )?;
        let on = rule != ZoneRule::Off;
        if on && s.zones.is_empty() {
            return Err(KeyError::new(
                key,
                "zone-aware balancing needs the service's replicas in zones: give it `zones = [\"a\", \"b\"]`",
            ));
        }
        aware.push(on);
        spill.push(match rule {
            ZoneRule::Spill { min_cluster_size } => Some(min_cluster_size),
            _ => None,
        });
    }
    let mut source_zone = Vec::with_capacity(m.sources.len());
    for src in &m.sources {
        let zone = file.workload.get(&src.name).and_then(|w| w.zone.clone());
        if let Some(z) = &zone
            && !known.contains(&z.as_str())
        {
            return Err(KeyError::new(
                format!("workload.{}.zone", src.name),
                format!("no service has a replica in zone `{z}` ({})", listed()),
            ));
        }
        source_zone.push(zone);
    }
    let (cross_zone, pairs) = zone_routing::crossings(
        file.network.as_ref().and_then(|n| n.cross_zone.as_ref()),
        &known,
    )?;
    if cross_zone == 0
        && pairs.is_empty()
        && !aware.contains(&true)
        && source_zone.iter().all(Option::is_none)
    {
        return Ok(None);
    }
    Ok(Some(Zoning {
        cross_zone,
        aware,
        source_zone,
        pairs,
        spill,
    }))
}
