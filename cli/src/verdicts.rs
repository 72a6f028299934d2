//! Recovery times and SLO verdicts for the terminal, printed by `cascade
//! run` after the summary tables: a table per fault × entry, then one ✓/✗
//! line per assertion (as k6 prints its thresholds).

use comfy_table::{Cell, CellAlignment, Table, presets::UTF8_FULL_CONDENSED};
use reports::numbers::{seconds, sig3};
use sim_core::output::Summary;
use sim_core::recovery::{Params, Recovery, Verdict};

/// What the recovery column says.
pub fn recovery_cell(r: &Recovery) -> String {
    match r.verdict {
        Verdict::Recovered => {
            let time = match r.recovery_time_s {
                Some(t) if t > 0.0 => format!("recovered in {}", seconds(t)),
                _ => format!("recovered in <{}", seconds(r.window_s)),
            };
            match r.relapses {
                0 => time,
                n => format!("{time} ({n} relapse{})", if n == 1 { "" } else { "s" }),
            }
        }
        Verdict::NotAffected => "not affected".into(),
        Verdict::DidNotRecover => "DID NOT RECOVER".into(),
        Verdict::Interrupted => "not back before next fault".into(),
        Verdict::NoBaseline => "no baseline".into(),
        Verdict::NotReached => "not reached (the run ended first)".into(),
        Verdict::Relapsed => "RELAPSED".into(),
    }
}

pub fn render(s: &Summary) -> String {
    let mut out = String::new();
    if !s.recovery.is_empty() {
        let p = Params::default();
        out.push_str(&format!(
            "recovery after each fault: goodput back above its pre-fault baseline less {}%\n  (or {}σ of window noise) for {} windows, and no relapse ({} windows below) after\n",
            p.band * 100.0,
            p.noise_z,
            p.sustain,
            p.hold
        ));
        let mut t = Table::new();
        t.load_style(UTF8_FULL_CONDENSED);
        t.set_header(
            [
                "fault",
                "entry",
                "baseline good/s",
                "baseline p99 ms",
                "min good/s",
                "peak p99 ms",
                "recovery",
            ]
            .iter()
            .map(Cell::new),
        );
        for r in &s.recovery {
            let fault = s
                .faults
                .get(r.fault)
                .map(|f| {
                    format!(
                        "{} {} on {} {}–{}",
                        r.fault,
                        f.kind,
                        f.target,
                        seconds(f.start_s),
                        seconds(f.end_s)
                    )
                })
                .unwrap_or_else(|| r.fault.to_string());
            let base = if r.baseline_source == "offered_load" {
                format!("{} (offered)", sig3(r.baseline_goodput_rps))
            } else {
                sig3(r.baseline_goodput_rps)
            };
            // Nothing was measured for a fault the run never reached.
            let measured = |v: String| {
                if r.verdict == Verdict::NotReached {
                    "-".to_owned()
                } else {
                    v
                }
            };
            t.add_row(vec![
                fault,
                r.entry.clone(),
                measured(base),
                r.baseline_p99_ms.map_or("-".into(), sig3),
                measured(sig3(r.min_goodput_rps)),
                measured(sig3(r.peak_p99_ms)),
                recovery_cell(r),
            ]);
        }
        for i in 2..t.column_count() - 1 {
            if let Some(c) = t.column_mut(i) {
                c.set_cell_alignment(CellAlignment::Right);
            }
        }
        out.push_str(&format!("{}\n", crate::table::shown(&mut t)));
        for r in &s.recovery {
            if let Some(note) = &r.note
                && !r.verdict.ok()
            {
                out.push_str(&format!("  fault {} · {}: {note}\n", r.fault, r.entry));
            }
        }
    }
    if !s.slo.is_empty() {
        let passed = s.slo.iter().filter(|x| x.pass).count();
        out.push_str(&format!("SLOs: {passed} of {} passed\n", s.slo.len()));
        let width = s
            .slo
            .iter()
            .map(|x| x.key.chars().count() + x.condition.chars().count() + 1)
            .max()
            .unwrap_or(0);
        for x in &s.slo {
            let what = format!("{} {}", x.key, x.condition);
            let pad = width.saturating_sub(what.chars().count());
            out.push_str(&format!(
                "  {} {what}{}  observed {}\n",
                if x.pass { "✓" } else { "✗" },
                " ".repeat(pad),
                x.observed_text
            ));
            if let Some(m) = &x.message {
                out.push_str(&format!("      {m}\n"));
            }
        }
    }
    out
}
