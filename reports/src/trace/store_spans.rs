//! How a versioned store's read or write span is written: named after the
//! store (`accounts read`, `accounts write`), as an OTLP CLIENT span (the
//! job calls out to the store) with `db.operation.name`, `peer.service`,
//! the version (`cascade.store.version`: seen by a read, committed by a
//! write, found by a conflicting conditional write), `cascade.store.
//! conditional` and `cascade.store.conflict` for writes, and an error
//! status when the write conflicted or the store was down; in Perfetto
//! the same name and the same facts as arguments.
//!
//! Owns those names and attributes; must not decide what a span records
//! (the engine's `trace/store_spans.rs`).

use serde_json::{Value, json};
use sim_core::time::Nanos;
use sim_core::trace::{StepKind, TraceLog};

/// OTLP's CLIENT span kind.
const CLIENT: i64 = 3;

/// `store read` or `store write`.
pub(super) fn name(log: &TraceLog, kind: StepKind) -> String {
    match kind {
        StepKind::StoreRead { store, .. } => format!("{} read", store_name(log, store)),
        StepKind::StoreWrite { store, .. } => format!("{} write", store_name(log, store)),
        _ => String::new(),
    }
}

fn store_name(log: &TraceLog, store: u32) -> &str {
    log.stores
        .get(store as usize)
        .map_or("store", String::as_str)
}

/// The OTLP kind, name and start of a store span; its attributes pushed.
pub(super) fn otlp(
    log: &TraceLog,
    kind: StepKind,
    attrs: &mut Vec<Value>,
    start: Nanos,
) -> (i64, String, Nanos) {
    let str_attr = |k: &str, v: &str| json!({"key": k, "value": {"stringValue": v}});
    let bool_attr = |k: &str, v: bool| json!({"key": k, "value": {"boolValue": v}});
    let (store, version, write) = match kind {
        StepKind::StoreRead { store, version, .. } => (store, version, None),
        StepKind::StoreWrite {
            store,
            version,
            conditional,
            conflict,
            ..
        } => (store, version, Some((conditional, conflict))),
        _ => return (CLIENT, String::new(), start),
    };
    attrs.push(str_attr("peer.service", store_name(log, store)));
    attrs.push(str_attr(
        "db.operation.name",
        if write.is_some() { "write" } else { "read" },
    ));
    if failure(kind) != Some("unavailable") {
        attrs.push(json!({"key": "cascade.store.version",
            "value": {"intValue": version.to_string()}}));
    }
    if let Some((conditional, conflict)) = write {
        attrs.push(bool_attr("cascade.store.conditional", conditional));
        if conditional {
            attrs.push(bool_attr("cascade.store.conflict", conflict));
        }
    }
    if failure(kind) == Some("unavailable") {
        attrs.push(bool_attr("cascade.store.unavailable", true));
    }
    (CLIENT, name(log, kind), start)
}

/// Why a store span failed its request, if it did: "conflict" or
/// "unavailable" (an outage).
pub(super) fn failure(kind: StepKind) -> Option<&'static str> {
    match kind {
        StepKind::StoreRead {
            unavailable: true, ..
        }
        | StepKind::StoreWrite {
            unavailable: true, ..
        } => Some("unavailable"),
        StepKind::StoreWrite { conflict: true, .. } => Some("conflict"),
        _ => None,
    }
}

/// A store step's facts as Perfetto arguments (nothing for other steps).
pub(super) fn perfetto_args(kind: StepKind, args: &mut Value) {
    match kind {
        StepKind::StoreRead {
            version,
            unavailable,
            ..
        } => {
            args["version"] = json!(version);
            if unavailable {
                args["unavailable"] = json!(true);
            }
        }
        StepKind::StoreWrite {
            version,
            conditional,
            conflict,
            unavailable,
            ..
        } => {
            args["version"] = json!(version);
            args["conditional"] = json!(conditional);
            args["conflict"] = json!(conflict);
            if unavailable {
                args["unavailable"] = json!(true);
            }
        }
        _ => {}
    }
}
