//! The terminal tables of services that declare an event loop or memory:
//! loops, run queue and connections; memory, OOM kills, restarts and GC.
//! Printed only when such a service exists.

use reports::numbers::sig3;
use sim_core::output::Summary;

use super::{right, table};

pub fn render(s: &Summary) -> String {
    let mut out = String::new();
    let loops: Vec<_> = s
        .services
        .iter()
        .filter_map(|(n, v)| v.event_loop.as_ref().map(|l| (n, v, l)))
        .collect();
    if !loops.is_empty() {
        let mut t = table(&[
            "event loop",
            "loops",
            "loop util %",
            "run queue",
            "run max",
            "run wait p99 ms",
            "connections",
            "conn max",
            "conn limit",
            "blocking s",
        ]);
        for (name, v, l) in loops {
            t.add_row(vec![
                name.clone(),
                format!("{}×{}", v.replicas, l.loops),
                format!("{:.1}", l.loop_utilization * 100.0),
                format!("{:.1}", l.run_queue_mean),
                l.run_queue_max.to_string(),
                sig3(l.run_queue_wait_ms.p99),
                format!("{:.1}", l.connections_mean),
                l.connections_max.to_string(),
                l.max_connections
                    .map_or_else(|| "none".to_string(), |c| c.to_string()),
                format!("{:.1}", l.blocking_s),
            ]);
        }
        right(&mut t, 1);
        out.push_str(&format!("{}\n", super::shown(&mut t)));
    }
    let memory: Vec<_> = s
        .services
        .iter()
        .filter_map(|(n, v)| v.memory.as_ref().map(|m| (n, m, v.reset.unwrap_or(0))))
        .collect();
    if !memory.is_empty() {
        let mut t = table(&[
            "memory (per replica)",
            "limit MiB",
            "mean MiB",
            "p99 MiB",
            "max MiB",
            "OOM kills",
            "reset",
            "restarts",
            "down s",
            "cold s",
            "GC pauses",
            "GC time %",
        ]);
        for (name, m, reset) in memory {
            t.add_row(vec![
                name.clone(),
                sig3(m.limit_mib),
                sig3(m.mean_mib),
                sig3(m.p99_mib),
                sig3(m.max_mib),
                m.oom_kills.to_string(),
                reset.to_string(),
                m.restarts.to_string(),
                format!("{:.1}", m.down_s),
                format!("{:.1}", m.cold_s),
                m.gc_pauses.to_string(),
                format!("{:.1}", m.gc_pause_share * 100.0),
            ]);
        }
        right(&mut t, 1);
        out.push_str(&format!("{}\n", super::shown(&mut t)));
    }
    out
}
