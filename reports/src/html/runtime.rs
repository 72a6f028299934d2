//! The report's tables of event loops and memory: one row per service that
//! declares them, beside the services table. Absent otherwise.

use std::fmt::Write as _;

use sim_core::output::Summary;

use super::escape;
use crate::numbers::sig3;

fn cell(h: &mut String, text: String) {
    let _ = write!(h, "<td>{text}</td>");
}

pub(super) fn runtime_tables(h: &mut String, s: &Summary) {
    let loops: Vec<_> = s
        .services
        .iter()
        .filter_map(|(n, v)| Some((n, v, v.event_loop.as_ref()?)))
        .collect();
    if !loops.is_empty() {
        h.push_str("<h3>Event loops</h3>\n<div class=\"table-wrap\"><table>\n<tr><th>service</th><th>loops</th><th>loop utilisation</th><th>run queue mean</th><th>run queue max</th><th>run wait p99 ms</th><th>open connections mean</th><th>max</th><th>limit</th><th>blocking s</th></tr>\n");
        for (name, v, l) in loops {
            let _ = write!(h, "<tr><td>{}</td>", escape(name));
            cell(h, format!("{}×{}", v.replicas, l.loops));
            cell(h, format!("{:.1}%", l.loop_utilization * 100.0));
            cell(h, sig3(l.run_queue_mean));
            cell(h, l.run_queue_max.to_string());
            cell(h, sig3(l.run_queue_wait_ms.p99));
            cell(h, sig3(l.connections_mean));
            cell(h, l.connections_max.to_string());
            cell(
                h,
                l.max_connections.map_or("none".into(), |c| c.to_string()),
            );
            cell(h, sig3(l.blocking_s));
            h.push_str("</tr>\n");
        }
        h.push_str("</table></div>\n");
    }
    let memory: Vec<_> = s
        .services
        .iter()
        .filter_map(|(n, v)| Some((n, v.memory.as_ref()?, v.reset.unwrap_or(0))))
        .collect();
    if !memory.is_empty() {
        h.push_str("<h3>Memory (per replica)</h3>\n<div class=\"table-wrap\"><table>\n<tr><th>service</th><th>limit MiB</th><th>mean MiB</th><th>p99 MiB</th><th>max MiB</th><th>OOM kills</th><th>requests reset</th><th>restarts</th><th>down s</th><th>cold s</th><th>GC pauses</th><th>GC time</th></tr>\n");
        for (name, m, reset) in memory {
            let _ = write!(h, "<tr><td>{}</td>", escape(name));
            for v in [m.limit_mib, m.mean_mib, m.p99_mib, m.max_mib] {
                cell(h, sig3(v));
            }
            cell(h, m.oom_kills.to_string());
            cell(h, reset.to_string());
            cell(h, m.restarts.to_string());
            cell(h, format!("{:.1}", m.down_s));
            cell(h, format!("{:.1}", m.cold_s));
            cell(h, m.gc_pauses.to_string());
            cell(h, format!("{:.1}%", m.gc_pause_share * 100.0));
            h.push_str("</tr>\n");
        }
        h.push_str("</table></div>\n");
    }
}
