//! Zones: the names a service spreads its replicas over (replica `r` in
//! `zones[r % zones.len()]`), and a fault that strikes a zone — every
//! replica of every service placed in it — expanded here into one fault
//! per replica, so the engine knows nothing of zones.
//!
//! Owns these rules; must not build the expanded faults' effects (that is
//! `build::fault`).

use super::KeyError;
use super::dto::{FaultFile, ServiceFile};
use crate::model::Model;

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
