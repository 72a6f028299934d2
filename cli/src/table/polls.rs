//! The lines under the entries table for sources that poll after an
//! accepted answer: their latency there is the time to result, and these
//! lines add the time to the accepted answer and the poll load. Printed
//! only when some source polls.

use indexmap::IndexMap;
use reports::numbers::sig3;
use sim_core::output::PollSummary;

/// `summary.polls`, one line per polling source.
pub fn render(polls: &IndexMap<String, PollSummary>) -> String {
    let mut out = String::new();
    for (name, p) in polls {
        out.push_str(&format!(
            "{name}: latency is time to result (send → the poll that saw the work done); \
             accepted answer p50 {} ms, p99 {} ms; {:.2} polls per request, \
             {:.1} polls/s on {} (every {} ms){}\n",
            sig3(p.accepted_ms.p50),
            sig3(p.accepted_ms.p99),
            p.polls_per_request,
            p.poll_rps,
            p.status,
            sig3(p.every_ms),
            troubles(p),
        ));
    }
    out
}

/// What went wrong after acceptance, when anything did.
fn troubles(p: &PollSummary) -> String {
    let mut parts = Vec::new();
    if p.polls_failed > 0 {
        parts.push(format!("{} polls failed", p.polls_failed));
    }
    if p.async_failed > 0 {
        parts.push(format!("{} failed after acceptance", p.async_failed));
    }
    if p.gave_up > 0 {
        parts.push(format!("{} gave up polling", p.gave_up));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!("; {}", parts.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_polled_entry_reads_as_time_to_result_with_its_poll_load() {
        let mut polls = IndexMap::new();
        assert_eq!(render(&polls), "");
        polls.insert(
            "orders".into(),
            PollSummary {
                status: "status".into(),
                every_ms: 200.0,
                accepted: 10,
                polls: 16,
                polls_per_request: 1.6,
                poll_rps: 157.0,
                gave_up: 2,
                ..Default::default()
            },
        );
        let text = render(&polls);
        assert!(
            text.starts_with("orders: latency is time to result"),
            "{text}"
        );
        assert!(text.contains("1.60 polls per request"), "{text}");
        assert!(
            text.contains("157.0 polls/s on status (every 200 ms)"),
            "{text}"
        );
        assert!(text.ends_with("; 2 gave up polling\n"), "{text}");
    }
}
