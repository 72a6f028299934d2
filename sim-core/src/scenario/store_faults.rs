//! Faults of a versioned store: `[[fault]] store = "NAME"` with
//! `outage = true` (every read and write fails its request with an error
//! after the operation's latency) or `slowdown = X` (reads and writes take
//! X times longer), in the `at` / `for` window every fault has. Compiled
//! into `FaultKind::StoreOutage` / `StoreSlowdown`.
//!
//! Owns those checks; must not decide what a read or write does during
//! the fault (the engine's `store_fault.rs`).

use super::KeyError;
use super::dto::FaultFile;
use super::values::{duration, positive_duration};
use crate::model::{Fault, FaultKind, Model};

/// The fault written as `fault.<i>`, if it names a `store`; `None` for
/// every other fault.
pub(super) fn store_fault(m: &Model, i: usize, f: &FaultFile) -> Result<Option<Fault>, KeyError> {
    let Some(name) = &f.store else {
        return Ok(None);
    };
    let key = format!("fault.{i}");
    let Some(store) = m.stores.iter().position(|s| &s.name == name) else {
        let known: Vec<&str> = m.stores.iter().map(|s| s.name.as_str()).collect();
        return Err(KeyError::new(
            format!("{key}.store"),
            if known.is_empty() {
                format!("unknown store `{name}` (declare it as [stores.{name}])")
            } else {
                format!("unknown store `{name}` (stores: {})", known.join(", "))
            },
        ));
    };
    let start = duration(&format!("{key}.at"), &f.at)?;
    let length = positive_duration(&format!("{key}.for"), &f.length)?;
    for (what, given) in [
        ("target", !f.target.is_empty()),
        ("zone", f.zone.is_some()),
        ("replica", f.replica.is_some()),
        ("steps", f.steps.is_some()),
        ("on_error", f.on_error.is_some()),
    ] {
        if given {
            return Err(KeyError::new(
                format!("{key}.{what}"),
                "a store fault hits the whole store named by `store`: leave out `target`, `zone`, `replica`, `steps` and `on_error`",
            ));
        }
    }
    // Any kind given but the two a store fault is.
    if let Some((other, _)) = f
        .kinds_given()
        .into_iter()
        .find(|&(kind, given)| given && !matches!(kind, "slowdown" | "outage"))
    {
        return Err(KeyError::new(
            format!("{key}.{other}"),
            "a store fault is an `outage = true` or a `slowdown = <factor>`",
        ));
    }
    let store = store as u32;
    let kind = match (f.outage, f.slowdown) {
        (Some(true), None) => FaultKind::StoreOutage { store },
        (Some(_), None) => {
            return Err(KeyError::new(
                format!("{key}.outage"),
                "write `outage = true` (or remove the fault)",
            ));
        }
        (None, Some(x)) if x.is_finite() && x >= 1.0 => {
            FaultKind::StoreSlowdown { store, factor: x }
        }
        (None, Some(x)) => {
            return Err(KeyError::new(
                format!("{key}.slowdown"),
                format!("must be a factor ≥ 1 on the store's read and write latencies, got {x}"),
            ));
        }
        (None, None) | (Some(_), Some(_)) => {
            return Err(KeyError::new(
                &key,
                "a store fault has exactly one of `outage = true` or `slowdown = <factor>`",
            ));
        }
    };
    let stream = crate::streams::fault(name, kind.label(), &f.at);
    Ok(Some(Fault::new(
        kind,
        name.clone(),
        stream,
        start,
        start.saturating_add(length),
    )))
}

#[cfg(test)]
mod tests {
    use crate::model::FaultKind;
    use crate::time::NS_PER_S;

    const BASE: &str = "name = \"t\"\nduration = \"10s\"\n[workload.w]\ntarget = \"api\"\nrate = 1\n\
         [stores.k]\nkeys = { count = 3 }\n[services.api]\nthreads = 1\n\
         steps = [{ read = \"k\" }, { write = \"k\", conditional = true }]\n";

    fn load(fault: &str) -> Result<crate::model::Model, String> {
        let text = format!("{BASE}[[fault]]\n{fault}\n");
        crate::scenario::load("t.toml", &text, &[])
            .map(|l| l.model)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn an_outage_and_a_slowdown_of_a_store() {
        let m = load("store = \"k\"\nat = \"2s\"\nfor = \"3s\"\noutage = true").expect("loads");
        let f = &m.faults[0];
        assert!(matches!(f.kind, FaultKind::StoreOutage { store: 0 }));
        assert_eq!((f.start, f.end), (2 * NS_PER_S, 5 * NS_PER_S));
        assert_eq!((f.target.as_str(), f.kind.label()), ("k", "store_outage"));
        let m = load("store = \"k\"\nat = \"2s\"\nfor = \"3s\"\nslowdown = 4").expect("loads");
        assert!(matches!(
            m.faults[0].kind,
            FaultKind::StoreSlowdown { store: 0, factor } if factor == 4.0
        ));
    }

    #[test]
    fn bad_store_faults_name_their_key() {
        for (fault, key, says) in [
            (
                "store = \"nope\"\nat = \"1s\"\nfor = \"1s\"\noutage = true",
                "fault.0.store",
                "unknown store `nope` (stores: k)",
            ),
            (
                "store = \"k\"\nat = \"1s\"\nfor = \"1s\"\nslowdown = 0.5",
                "fault.0.slowdown",
                "factor ≥ 1",
            ),
            (
                "store = \"k\"\nat = \"1s\"\nfor = \"1s\"\noutage = false",
                "fault.0.outage",
                "outage = true",
            ),
            (
                "store = \"k\"\nat = \"1s\"\nfor = \"1s\"\ncrash = true",
                "fault.0.crash",
                "`outage = true` or a `slowdown",
            ),
            (
                "store = \"k\"\nat = \"1s\"\nfor = \"1s\"",
                "fault.0",
                "exactly one",
            ),
            (
                "store = \"k\"\ntarget = \"api\"\nat = \"1s\"\nfor = \"1s\"\noutage = true",
                "fault.0.target",
                "leave out",
            ),
            (
                "store = \"k\"\nat = \"1s\"\nfor = \"0s\"\noutage = true",
                "fault.0.for",
                "longer than 0",
            ),
        ] {
            let e = load(fault).expect_err(fault);
            assert!(e.contains(key) && e.contains(says), "{fault}: {e}");
            assert!(e.contains("t.toml:"), "located: {e}");
        }
    }
}
