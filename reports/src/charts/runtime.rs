//! The charts of services with memory or an event loop: memory per replica
//! against its limit with the OOM kills and restarts marked, and open
//! connections with the event loop's run queue.
//!
//! Owns which runtime series these charts claim (`CLAIMED`); must not draw.

use super::shared::Run;
use crate::plot::{Chart, Dash, Line, Rgb, series_style};

/// The runtime series these charts show ("More series" leaves them).
pub(super) const CLAIMED: &[&str] = &[
    "memory_mib",
    "memory_max_mib",
    "memory_limit_mib",
    "oom_kills",
    "replicas_down",
    "connections",
    "run_queue",
    "loop_utilization",
];

const KILL: Rgb = Rgb(213, 94, 0);
const RESTART: Rgb = Rgb(0, 158, 115);

/// Vertical marks at `times`, from 0 to `top`, as one broken line.
fn marks(times: &[f64], top: f64) -> Vec<(f64, f64)> {
    let mut points = Vec::new();
    for &t in times {
        points.extend([(t, 0.0), (t, top), (t, f64::NAN)]);
    }
    points
}

/// When a single replica went down and came back, from the share of each
/// window it spent down: a window it went down in is down from
/// `end - share × length`, one it came back in up from `start + share ×
/// length` (exact for one replica; for several, the window's moment).
fn kills_and_restarts(run: &Run, service: &str) -> (Vec<f64>, Vec<f64>) {
    let ts = run.ts;
    let (Some(kills), Some(down)) = (
        run.get("service", service, "oom_kills"),
        run.get("service", service, "replicas_down"),
    ) else {
        return (Vec::new(), Vec::new());
    };
    let (mut k, mut r) = (Vec::new(), Vec::new());
    let mut was_down = false;
    for (i, (&n, &d)) in kills.values.iter().zip(&down.values).enumerate() {
        let (start, end) = (ts.window_start_s[i], ts.window_end_s[i]);
        let len = end - start;
        if n > 0.0 {
            k.push((end - d * len).clamp(start, end));
        }
        let down_at_end = n > 0.0 && d > 0.0 || (was_down && d >= 0.999_999);
        if was_down && d < 0.999_999 && n == 0.0 {
            r.push((start + d * len).clamp(start, end));
        }
        was_down = down_at_end;
    }
    (k, r)
}

/// Memory per replica (mean and peak per window) against the limit, with
/// OOM kills and restarts marked.
pub(super) fn memory(run: &Run) -> Option<Chart> {
    let mut lines = Vec::new();
    let mut kills_total = 0usize;
    let mut top: f64 = 0.0;
    let mut marked = (Vec::new(), Vec::new());
    let services: Vec<&String> = run
        .order
        .iter()
        .filter(|n| run.get("service", n, "memory_mib").is_some())
        .collect();
    for (i, name) in services.iter().enumerate() {
        let (color, _) = series_style(i);
        let mean = run.get("service", name, "memory_mib")?;
        lines.push(
            Line::new(format!("{name} mean"), run.points(&mean.values)).styled(color, Dash::Solid),
        );
        if let Some(peak) = run.get("service", name, "memory_max_mib") {
            top = top.max(peak.values.iter().copied().fold(0.0, f64::max));
            lines.push(
                Line::new(format!("{name} peak"), run.points(&peak.values))
                    .styled(color, Dash::Dotted),
            );
        }
        if let Some(limit) = run.get("service", name, "memory_limit_mib") {
            top = top.max(limit.values.first().copied().unwrap_or(0.0));
            lines.push(
                Line::new(
                    format!("{name} limit (OOM kill above)"),
                    run.points(&limit.values),
                )
                .styled(color, Dash::Dashed),
            );
        }
        let (k, r) = kills_and_restarts(run, name);
        kills_total += k.len();
        marked.0.extend(k);
        marked.1.extend(r);
    }
    if lines.is_empty() {
        return None;
    }
    if !marked.0.is_empty() {
        lines.push(Line::new("OOM kill", marks(&marked.0, top)).styled(KILL, Dash::Solid));
    }
    if !marked.1.is_empty() {
        lines.push(Line::new("restart", marks(&marked.1, top)).styled(RESTART, Dash::Solid));
    }
    let subtitle = if kills_total == 0 {
        "per replica: the mean and the peak of each window, and the limit; never killed".to_owned()
    } else {
        format!(
            "per replica: the mean and the peak of each window, and the limit; {kills_total} OOM kill{} (a replica is empty while down)",
            if kills_total == 1 { "" } else { "s" }
        )
    };
    Some(run.time_chart("Memory", ("memory", "MiB"), subtitle, lines, false))
}

/// Open connections (requests accepted and not yet answered) and run-queue
/// length of each event-loop service.
pub(super) fn connections(run: &Run) -> Option<Chart> {
    let mut lines = Vec::new();
    for (i, name) in run
        .order
        .iter()
        .filter(|n| run.get("service", n, "connections").is_some())
        .enumerate()
    {
        let (color, _) = series_style(i);
        if let Some(c) = run.get("service", name, "connections") {
            lines.push(
                Line::new(format!("{name} open connections"), run.points(&c.values))
                    .styled(color, Dash::Solid),
            );
        }
        if let Some(q) = run.get("service", name, "run_queue") {
            lines.push(
                Line::new(format!("{name} run queue"), run.points(&q.values))
                    .styled(color, Dash::Dotted),
            );
        }
    }
    if lines.is_empty() {
        return None;
    }
    Some(run.time_chart(
        "Event loops: open connections and run queue",
        ("requests", "mean per window"),
        "a slow dependency fills connections (each holds memory), not the loops; a busy loop fills the run queue".to_owned(),
        lines,
        true,
    ))
}
