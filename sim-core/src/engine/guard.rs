//! The overload guard: a run whose simulated state outgrows
//! `max_in_flight` (requests in flight, messages, pending events) stops
//! before it exhausts the machine, with a message naming the saturated
//! services, and its results are marked partial. The same check reports
//! progress to, and takes a stop request from, the run's [`Watch`] (Ctrl-C,
//! a wall-clock budget): a stopped run ends the same way, partial.
//!
//! Owns the budget check, the watch's check and their messages; must not
//! change simulated state.

use super::World;
use crate::options::Watch;
use crate::time::secs;

impl World<'_> {
    /// The periodic check (every 65,536 events): reports progress, then
    /// whether the run must stop (a stop was requested, or the state
    /// outgrew the budget); if so, records why.
    pub(super) fn must_stop(&mut self, watch: &Watch) -> bool {
        if let Some(p) = &watch.progress {
            p.record(self.now, self.events);
        }
        if let Some(stop) = watch.stop.as_ref().filter(|s| s.requested()) {
            self.stopped = Some(format!(
                "stopped at {:.1} s of simulated time: {}",
                secs(self.now),
                stop.reason()
            ));
            return true;
        }
        self.over_budget()
    }

    /// Whether the state outgrew the budget; if so, records why.
    fn over_budget(&mut self) -> bool {
        let live = u64::from(self.jobs.live())
            + u64::from(self.calls.live())
            + self.direct_pending
            + u64::from(self.msg.live)
            + self.queue.len() as u64;
        if live <= self.m.max_in_flight {
            return false;
        }
        let t = secs(self.now).max(1e-9);
        // The services holding the most requests, with what came in and
        // what went out per second so far.
        let mut held: Vec<(u64, usize)> = self
            .replicas
            .iter()
            .enumerate()
            .map(|(s, reps)| {
                let n: u64 = reps
                    .iter()
                    .map(|r| u64::from(r.busy) + u64::from(r.queued()))
                    .sum();
                (n, s)
            })
            .filter(|(n, _)| *n > 0)
            .collect();
        held.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        let names: Vec<String> = held
            .iter()
            .take(3)
            .map(|&(n, s)| {
                let st = &self.rec.services[s];
                format!(
                    "{} ({n} requests held; {:.0}/s arrived, {:.0}/s completed)",
                    self.m.services[s].name,
                    st.arrivals as f64 / t,
                    st.completed as f64 / t
                )
            })
            .collect();
        self.stopped = Some(format!(
            "stopped at {:.1} s of simulated time: {live} requests, messages and events in flight exceed max_in_flight = {} (raise it with --set max_in_flight=N if the machine has the memory); saturated: {}",
            t,
            self.m.max_in_flight,
            if names.is_empty() {
                "none held requests (the events are timers)".to_owned()
            } else {
                names.join(", ")
            }
        ));
        true
    }
}
