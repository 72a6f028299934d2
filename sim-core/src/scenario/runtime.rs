//! The checks of how a service runs and what it holds: thread pool or
//! event loop, memory and its OOM limit, garbage collection, and the
//! restart after an OOM kill (CrashLoopBackOff, cold start, readiness).
//!
//! Owns the size syntax ("512MiB") and these keys' rules; must not build
//! steps or calls (that is `build`).

use super::KeyError;
use super::dto::{ServerModel, ServiceFile};
use super::values::{duration, opt_duration};
use crate::model::{Gc, Lifecycle, Memory, Server, UNBOUNDED};

type R<T> = Result<T, KeyError>;

/// A size in bytes: a number with a unit (B, KB, MB, GB, TB in powers of
/// 1000; KiB, MiB, GiB, TiB in powers of 1024).
pub fn parse_bytes(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let unit = unit.trim();
    let factor: f64 = match unit {
        "B" => 1.0,
        "KB" | "kB" => 1e3,
        "MB" => 1e6,
        "GB" => 1e9,
        "TB" => 1e12,
        "KiB" => 1024.0,
        "MiB" => 1024.0 * 1024.0,
        "GiB" => 1024.0 * 1024.0 * 1024.0,
        "TiB" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        "" => {
            return Err(format!(
                "`{text}` needs a unit: a size such as \"512MiB\", \"64KiB\" or \"1GB\""
            ));
        }
        _ => {
            return Err(format!(
                "unknown size unit `{unit}` in `{text}`: use B, KB, MB, GB, TB, KiB, MiB, GiB or TiB"
            ));
        }
    };
    let value: f64 = num
        .parse()
        .map_err(|_| format!("`{text}` is not a size such as \"512MiB\""))?;
    let bytes = value * factor;
    if !bytes.is_finite() || bytes >= 2f64.powi(62) {
        return Err(format!("`{text}` is too large (at most 4 EiB)"));
    }
    Ok(bytes.round() as u64)
}

fn bytes(key: &str, text: &str) -> R<u64> {
    parse_bytes(text).map_err(|m| KeyError::new(key, m))
}

fn opt_bytes(key: &str, text: &Option<String>) -> R<u64> {
    text.as_deref().map_or(Ok(0), |t| bytes(key, t))
}

/// The server model and the per-replica request limit it implies (threads,
/// or connections for an event loop).
pub fn server(key: &str, s: &ServiceFile) -> R<(Server, u32)> {
    match s.model.unwrap_or(ServerModel::ThreadPool) {
        ServerModel::ThreadPool => {
            for (name, given) in [
                ("loops", s.loops.is_some()),
                ("max_connections", s.max_connections.is_some()),
            ] {
                if given {
                    return Err(KeyError::new(
                        format!("{key}.{name}"),
                        format!(
                            "`{name}` belongs to an event-loop service: add model = \"event_loop\" (a thread-pool service has `threads`)"
                        ),
                    ));
                }
            }
            match s.threads {
                None => Err(KeyError::new(
                    format!("{key}.threads"),
                    "a thread-pool service needs `threads` (or model = \"event_loop\" with `loops`)",
                )),
                Some(0) => Err(KeyError::new(
                    format!("{key}.threads"),
                    "must be at least 1",
                )),
                Some(n) => Ok((Server::ThreadPool, n)),
            }
        }
        ServerModel::EventLoop => {
            if s.threads.is_some() {
                return Err(KeyError::new(
                    format!("{key}.threads"),
                    "an event-loop service has `loops` (its event-loop threads) and `max_connections`, not `threads`",
                ));
            }
            if s.cores.is_some() {
                return Err(KeyError::new(
                    format!("{key}.cores"),
                    "an event-loop service's loops are its CPUs: give `loops`, not `cores`",
                ));
            }
            let loops = match s.loops {
                None => {
                    return Err(KeyError::new(
                        format!("{key}.loops"),
                        "an event-loop service needs `loops` (event-loop threads per replica)",
                    ));
                }
                Some(0) => {
                    return Err(KeyError::new(format!("{key}.loops"), "must be at least 1"));
                }
                Some(n) => n,
            };
            let connections = match s.max_connections {
                None => UNBOUNDED,
                Some(0) => {
                    return Err(KeyError::new(
                        format!("{key}.max_connections"),
                        "must be at least 1 (leave it out for no limit)",
                    ));
                }
                Some(n) => n,
            };
            Ok((Server::EventLoop { loops }, connections))
        }
    }
}

/// The replica's memory and GC, if declared.
pub fn memory(key: &str, s: &ServiceFile) -> R<Option<Memory>> {
    let Some(m) = &s.memory else {
        if s.gc.is_some() {
            return Err(KeyError::new(
                format!("{key}.gc"),
                "garbage collection needs `memory` (its limit sets the heap)",
            ));
        }
        return Ok(None);
    };
    let k = format!("{key}.memory");
    let limit = bytes(&format!("{k}.limit"), &m.limit)?;
    let base = opt_bytes(&format!("{k}.base"), &m.base)?;
    if limit == 0 {
        return Err(KeyError::new(format!("{k}.limit"), "must be larger than 0"));
    }
    if base >= limit {
        return Err(KeyError::new(
            format!("{k}.base"),
            format!(
                "the base ({}) must be below the limit ({}): the replica would be killed before its first request",
                m.base.as_deref().unwrap_or("0"),
                m.limit
            ),
        ));
    }
    let gc = match &s.gc {
        None => None,
        Some(g) => {
            let gk = format!("{key}.gc");
            let allocation = bytes(&format!("{gk}.allocation"), &g.allocation)?;
            if allocation == 0 {
                return Err(KeyError::new(
                    format!("{gk}.allocation"),
                    "must be larger than 0",
                ));
            }
            let young_pause = duration(&format!("{gk}.young_pause"), &g.young_pause)?;
            let per_live_mib = opt_duration(&format!("{gk}.per_live_mib"), &g.per_live_mib, 0)?;
            Some(Gc {
                allocation,
                young_pause,
                per_live_mib: per_live_mib as f64,
            })
        }
    };
    Ok(Some(Memory {
        limit,
        base,
        per_request: opt_bytes(&format!("{k}.per_request"), &m.per_request)?,
        per_queued: opt_bytes(&format!("{k}.per_queued"), &m.per_queued)?,
        gc,
    }))
}

/// How a replica comes back after an OOM kill.
pub fn lifecycle(key: &str, s: &ServiceFile) -> R<Lifecycle> {
    let d = Lifecycle::default();
    if s.memory.is_none() {
        for (name, given) in [
            ("restart", s.restart.is_some()),
            (
                "cold_start",
                s.cold_start.is_some() && s.autoscale.is_none(),
            ),
            ("ready_after", s.ready_after.is_some()),
        ] {
            if given {
                return Err(KeyError::new(
                    format!("{key}.{name}"),
                    "only a replica that can be OOM-killed restarts: give the service `memory` with a limit",
                ));
            }
        }
        if s.autoscale.is_none() {
            return Ok(d);
        }
        // An autoscaled replica starts cold (`cold_start`), like a restart.
    }
    let mut l = d;
    if let Some(r) = &s.restart {
        let k = format!("{key}.restart");
        l.delay = opt_duration(&format!("{k}.delay"), &r.delay, d.delay)?;
        l.max_delay = opt_duration(&format!("{k}.max_delay"), &r.max_delay, d.max_delay)?;
        l.reset_after = opt_duration(&format!("{k}.reset_after"), &r.reset_after, d.reset_after)?;
        if l.max_delay < l.delay {
            return Err(KeyError::new(
                format!("{k}.max_delay"),
                "must be at least `delay`",
            ));
        }
    }
    if let Some(c) = &s.cold_start {
        let k = format!("{key}.cold_start");
        l.cold_for = duration(&format!("{k}.for"), &c.lasts)?;
        if !(c.slowdown.is_finite() && (1.0..=1e6).contains(&c.slowdown)) {
            return Err(KeyError::new(
                format!("{k}.slowdown"),
                format!("must be a factor in [1, 1e6], got {}", c.slowdown),
            ));
        }
        l.cold_slowdown = c.slowdown;
    }
    l.ready_after = opt_duration(&format!("{key}.ready_after"), &s.ready_after, 0)?;
    Ok(l)
}

#[cfg(test)]
mod tests {
    use super::parse_bytes;

    #[test]
    fn sizes_read_in_decimal_and_binary_units() {
        assert_eq!(parse_bytes("512MiB"), Ok(512 << 20));
        assert_eq!(parse_bytes("1.5 KiB"), Ok(1536));
        assert_eq!(parse_bytes("2GB"), Ok(2_000_000_000));
        assert_eq!(parse_bytes("0B"), Ok(0));
        assert!(parse_bytes("512").unwrap_err().contains("needs a unit"));
        assert!(
            parse_bytes("5 parsecs")
                .unwrap_err()
                .contains("unknown size unit")
        );
        assert!(parse_bytes("1e30GB").is_err());
        assert!(parse_bytes("-3MiB").is_err());
    }
}
