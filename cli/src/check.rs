//! `cascade check FILE`: loads a scenario, asks `sim_core::check` for the
//! analytic picture and prints it (tables, or `--json`). Exit 3 when a
//! service is certainly overloaded, so it can gate CI like `[slo]`.
//!
//! Owns only the printing: the figures are `sim_core::check`'s.

use std::path::PathBuf;

use comfy_table::{Cell, CellAlignment, Table, presets::UTF8_FULL_CONDENSED};
use reports::numbers::{pct, sig3};
use sim_core::check::Check;

use crate::{Failure, args, load, print_warnings, term};

#[derive(clap::Args)]
pub struct CheckArgs {
    /// Scenario file (.toml, or .json with the same schema; - for stdin).
    pub file: PathBuf,
    #[command(flatten)]
    pub set: args::Sets,
    /// Print the analysis as JSON instead of tables.
    #[arg(long)]
    pub json: bool,
}

pub fn cmd_check(a: &CheckArgs) -> Result<(), Failure> {
    let overrides = a.set.overrides()?;
    let s = load(&a.file, &overrides)?;
    print_warnings(&s);
    let check = sim_core::check::analyze(&s.model);
    if a.json {
        let mut text = serde_json::to_string_pretty(&check).expect("plain data serialises");
        text.push('\n');
        term::data(&text)?;
    } else {
        term::out(&render(&check))?;
    }
    if check.overloaded {
        term::error(&format!(
            "error: {}: certain overload: {}",
            crate::source_name(&a.file),
            overloaded_names(&check)
        ));
        return Err(Failure::SloFailed);
    }
    Ok(())
}

fn overloaded_names(c: &Check) -> String {
    c.services
        .iter()
        .filter_map(|s| {
            if s.overloaded {
                Some(match s.saturates_at_s {
                    Some(t) => format!("{} saturates at {}", s.name, secs(t)),
                    None => format!("{} saturates", s.name),
                })
            } else if s.memory.as_ref().is_some_and(|m| m.over_limit) {
                Some(format!("{} is over its memory limit", s.name))
            } else {
                None
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn secs(t: f64) -> String {
    format!("{}s", sig3(t))
}

fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_style(UTF8_FULL_CONDENSED);
    t.set_header(header.iter().map(Cell::new));
    t
}

fn right(t: &mut Table, from: usize) {
    for i in from..t.column_count() {
        if let Some(c) = t.column_mut(i) {
            c.set_cell_alignment(CellAlignment::Right);
        }
    }
}

fn opt(v: Option<f64>, f: impl Fn(f64) -> String) -> String {
    v.map_or_else(|| "–".into(), f)
}

/// The analysis as terminal tables.
pub fn render(c: &Check) -> String {
    let mut out = format!(
        "check of scenario {} · mean load over {}s after {}s warm-up (no faults)\n",
        c.scenario,
        sig3(c.duration_s - c.warmup_s),
        sig3(c.warmup_s)
    );
    let mut t = table(&["source", "target", "rate/s", "peak/s"]);
    for s in &c.sources {
        t.add_row(vec![
            if s.closed_loop {
                format!("{} (closed)", s.name)
            } else {
                s.name.clone()
            },
            s.target.clone(),
            sig3(s.rate),
            sig3(s.peak_rate),
        ]);
    }
    right(&mut t, 2);
    out.push_str(&format!("{t}\n"));
    let mut t = table(&[
        "service",
        "servers",
        "arrivals/s",
        "work ms",
        "hold ms",
        "busy",
        "ρ",
        "cpu ρ",
        "P(wait)",
        "wait ms",
        "P(reject)",
        "peak ρ",
        "saturates at",
    ]);
    for s in &c.services {
        t.add_row(vec![
            s.name.clone(),
            if s.server == "event_loop" {
                format!("{}×{} loops", s.replicas, s.servers)
            } else {
                format!("{}×{}", s.replicas, s.servers)
            },
            sig3(s.arrival_rate),
            sig3(s.work_ms),
            sig3(s.hold_ms),
            sig3(s.offered),
            pct(s.rho),
            opt(s.cpu_rho, pct),
            opt(s.p_wait, pct),
            opt(s.wait_ms, sig3),
            opt(s.p_reject, pct),
            pct(s.peak_rho),
            match s.saturates_at_s {
                Some(t) if s.overloaded => format!("{} OVERLOAD", secs(t)),
                Some(t) => secs(t),
                None => "–".into(),
            },
        ]);
    }
    right(&mut t, 1);
    out.push_str(&format!("{t}\n"));
    let memory: Vec<_> = c
        .services
        .iter()
        .filter_map(|s| s.memory.as_ref().map(|m| (s, m)))
        .collect();
    if !memory.is_empty() {
        let mut t = table(&["memory", "busy", "queued", "expected MiB", "limit MiB", ""]);
        for (s, m) in memory {
            t.add_row(vec![
                s.name.clone(),
                sig3(m.busy),
                sig3(m.queued),
                sig3(m.expected_mib),
                sig3(m.limit_mib),
                if m.over_limit { "OVER" } else { "ok" }.into(),
            ]);
        }
        right(&mut t, 1);
        out.push_str(&format!("{t}\n"));
    }
    out.push_str(&logs(c));
    for r in &c.timeouts {
        out.push_str(&format!(
            "timeout: {} ({} → {}): {} ms is shorter than the {} of what it wraps (mean {} ms, p99 {} ms)\n",
            r.site,
            r.caller,
            r.callee,
            sig3(r.timeout_ms),
            r.shorter_than,
            sig3(r.mean_ms),
            sig3(r.p99_ms)
        ));
    }
    for r in &c.retries {
        let attempts: Vec<String> = r.attempts.iter().map(u32::to_string).collect();
        out.push_str(&format!(
            "retries: {}: up to {}× ({}) requests per entry request at the last hop\n",
            r.path.join(" → "),
            sig3(r.amplification),
            attempts.join(" × ")
        ));
    }
    for n in &c.notes {
        out.push_str(&format!("note: {n}\n"));
    }
    for a in &c.assumptions {
        out.push_str(&format!("assumed: {a}\n"));
    }
    out
}

/// The logs' table: records per second into each log and, per group, its
/// capacity and ρ (past 1 its lag grows without end).
fn logs(c: &Check) -> String {
    if c.logs.is_empty() {
        return String::new();
    }
    let mut t = table(&[
        "log → group",
        "partitions",
        "records/s",
        "consumer",
        "members",
        "hold ms",
        "capacity/s",
        "ρ",
    ]);
    for l in &c.logs {
        if l.groups.is_empty() {
            t.add_row(vec![
                l.name.clone(),
                l.partitions.to_string(),
                sig3(l.rate),
                "–".into(),
                "–".into(),
                "–".into(),
                "–".into(),
                "–".into(),
            ]);
        }
        for g in &l.groups {
            t.add_row(vec![
                format!("{} → {}", l.name, g.name),
                l.partitions.to_string(),
                sig3(l.rate),
                g.consumer.clone(),
                g.active_members.to_string(),
                sig3(g.hold_ms),
                if g.capacity_rps.is_finite() {
                    sig3(g.capacity_rps)
                } else {
                    "∞".into()
                },
                if g.rho >= 1.0 {
                    format!("{} OVER", sig3(g.rho))
                } else {
                    sig3(g.rho)
                },
            ]);
        }
    }
    right(&mut t, 1);
    format!("{t}\n")
}
