//! The terminal tables of criticality classes (the entries of each class
//! added up), of outlier ejection and of autoscaling (per service that
//! declares it). Each printed only when the scenario has it.

use reports::numbers::sig3;
use sim_core::output::Summary;

use super::{right, shown, table};

pub fn classes(s: &Summary) -> String {
    if s.classes.is_empty() {
        return String::new();
    }
    let mut t = table(&[
        "class",
        "entries",
        "requests",
        "ok",
        "failed",
        "goodput/s",
        "err %",
        "p99 ms",
    ]);
    for (name, c) in &s.classes {
        t.add_row(vec![
            name.clone(),
            c.entries.join(", "),
            c.requests.to_string(),
            c.ok.to_string(),
            (c.failed.timeout + c.failed.rejected + c.failed.error).to_string(),
            format!("{:.1}", c.goodput_rps),
            format!("{:.2}", c.error_rate * 100.0),
            sig3(c.latency_ms.p99),
        ]);
    }
    right(&mut t, 2);
    format!("{}\n", shown(&mut t))
}

pub fn ejection(s: &Summary) -> String {
    let rows: Vec<_> = s
        .services
        .iter()
        .filter_map(|(name, v)| v.outlier.as_ref().map(|o| (name, v, o)))
        .collect();
    if rows.is_empty() {
        return String::new();
    }
    let mut t = table(&[
        "ejecting",
        "replicas",
        "ejections",
        "most out at once",
        "replica-s out",
    ]);
    for (name, v, o) in rows {
        t.add_row(vec![
            name.clone(),
            v.replicas.to_string(),
            o.ejections.to_string(),
            o.ejected_max.to_string(),
            format!("{:.1}", o.ejected_replica_s),
        ]);
    }
    right(&mut t, 1);
    format!("{}\n", shown(&mut t))
}

pub fn autoscaling(s: &Summary) -> String {
    let rows: Vec<_> = s
        .services
        .iter()
        .filter_map(|(name, v)| v.autoscale.as_ref().map(|a| (name, v, a)))
        .collect();
    if rows.is_empty() {
        return String::new();
    }
    let mut t = table(&[
        "autoscaled",
        "min-max",
        "start",
        "end",
        "most",
        "mean",
        "ups",
        "downs",
        "replica-s",
    ]);
    for (name, v, a) in rows {
        t.add_row(vec![
            name.clone(),
            format!("{}-{}", a.min, a.max),
            v.replicas.to_string(),
            a.replicas_at_end.to_string(),
            a.replicas_max.to_string(),
            format!("{:.2}", a.replicas_mean),
            a.scale_ups.to_string(),
            a.scale_downs.to_string(),
            format!("{:.0}", a.replica_seconds),
        ]);
    }
    right(&mut t, 1);
    format!("{}\n", shown(&mut t))
}
