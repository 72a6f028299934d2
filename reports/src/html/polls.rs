//! The note under the entries table of `report.html` for sources that
//! poll after an accepted answer: their latency is the time to result;
//! the note adds the time to the accepted answer and the poll load.
//!
//! Must not print anything for a run without polling.

use std::fmt::Write as _;

use sim_core::output::Summary;

use super::escape;
use crate::numbers::sig3;

pub(super) fn note(h: &mut String, s: &Summary) {
    for (name, p) in &s.polls {
        let mut trouble = Vec::new();
        if p.polls_failed > 0 {
            trouble.push(format!("{} polls failed", p.polls_failed));
        }
        if p.async_failed > 0 {
            trouble.push(format!("{} failed after acceptance", p.async_failed));
        }
        if p.gave_up > 0 {
            trouble.push(format!("{} gave up polling", p.gave_up));
        }
        let trouble = if trouble.is_empty() {
            String::new()
        } else {
            format!("; {}", trouble.join(", "))
        };
        let _ = writeln!(
            h,
            "<p class=\"note\"><b>{}</b> is answered <i>accepted</i> and polled: its latency above is the time to result (from the send to the poll that saw the work done). Accepted answer p50 {} ms, p99 {} ms; {:.2} polls per request, {:.1} polls/s on {} every {} ms{}.</p>",
            escape(name),
            sig3(p.accepted_ms.p50),
            sig3(p.accepted_ms.p99),
            p.polls_per_request,
            p.poll_rps,
            escape(&p.status),
            sig3(p.every_ms),
            escape(&trouble),
        );
    }
}
