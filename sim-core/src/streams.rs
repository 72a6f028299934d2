//! The name of every random stream of a run, in one place.
//!
//! A stream is a ChaCha8 generator keyed by (master seed, name) (`rng`).
//! Names come from stable identities — a service's, an edge's or a
//! source's name, a fault's target, kind and start, a step's place in its
//! operation — never from a position in one of the model's lists, so
//! adding a service, a call or a queue anywhere in a scenario moves no
//! other draw (common random numbers hold across designs).
//!
//! Owns names only; must not create generators or read the seed.

use std::fmt;

use crate::model::{Broker, Edge, Queue, Service, Source};
use crate::rng::{StreamName, stream_id_of};

/// A name written as its pieces: hashed piece by piece (the same id as its
/// text, `rng::stream_id_of`), so that naming the streams of thousands of
/// services, edges and call sites builds no string (formatting them was a
/// tenth of the set-up of a 5,000-service run). `Display` writes the text.
#[derive(Clone, Copy, Debug)]
pub struct Name<'a, const N: usize>([&'a str; N]);

impl<const N: usize> StreamName for Name<'_, N> {
    fn stream_id(&self) -> u64 {
        stream_id_of(&self.0)
    }
}

impl<const N: usize> fmt::Display for Name<'_, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|p| f.write_str(p))
    }
}

/// A source's arrival gaps and think times.
pub fn arrivals(s: &Source) -> Name<'_, 2> {
    Name(["arrivals/", &s.name])
}

/// A service's work times.
pub fn work(s: &Service) -> Name<'_, 2> {
    Name(["work/", &s.name])
}

/// A service's random and power-of-two balancer draws.
pub fn balancer(s: &Service) -> Name<'_, 2> {
    Name(["lb/", &s.name])
}

/// An edge's network latency.
pub fn network(e: &Edge) -> Name<'_, 2> {
    Name(["net/", &e.name])
}

/// The hop between a source's clients and its entry service.
pub fn source_network(s: &Source) -> Name<'_, 2> {
    Name(["net-source/", &s.name])
}

/// A cache's lookup latencies.
pub fn cache_lookup(cache: &str) -> String {
    format!("cache/{cache}/lookup")
}

/// A cache step's key draws, by where the step is written.
pub fn cache_keys(site: &str) -> String {
    format!("cache-keys/{site}")
}

/// A publish step's record keys for a log, by log and where the step is
/// written.
pub fn log_keys(log: &str, site: &str) -> String {
    format!("log-keys/{log}/{site}")
}

/// A fault's own draws (injected errors, extra latency): by target, kind
/// and start as written in the file.
pub fn fault(target: &str, kind: &str, at: &str) -> String {
    format!("fault/{target}/{kind}/{at}")
}

/// A broker's delivery hops to one queue's consumers.
pub fn delivery(b: &Broker, q: &Queue) -> String {
    format!("broker/{}/delivery/{}", b.name, q.name)
}

/// A branch point's draws, by where it is written
/// (`services.a.steps.2`, `services.a.steps.2.branch.0.steps.1`).
pub fn branch(site: &str) -> Name<'_, 2> {
    Name(["branch/", site])
}

/// A call's retry jitter, by where the call is written (`Model::call_sites`:
/// `services.a.steps.1`, `services.a.steps.2.parallel.0`, `workload.w`).
pub fn retry(site: &str) -> Name<'_, 2> {
    Name(["retry/", site])
}

/// A call site's adaptive-throttling coin flips.
pub fn throttle(site: &str) -> Name<'_, 2> {
    Name(["throttle/", site])
}

/// A publish step's poison coin flips, by target and where the step is
/// written (`Model::publish_sites`).
pub fn poison(target: &str, site: &str) -> String {
    format!("poison/{target}/{site}")
}

/// A publish step's acknowledgement latency, by broker, target and site.
pub fn ack(b: &Broker, target: &str, site: &str) -> String {
    format!("broker/{}/ack/{target}/{site}", b.name)
}

/// Which of a source's requests `--trace` samples (read by nothing else).
pub fn trace_sample(s: &Source) -> String {
    format!("trace-sample/{}", s.name)
}

/// Which sampled request `--trace`'s full reservoir replaces (read by
/// nothing else; drawn only once `--trace-max` requests are kept).
pub fn trace_reservoir() -> String {
    "trace-reservoir".into()
}

/// The broker's acknowledgements of an outbox relay's batches, by the
/// producing service.
pub fn outbox_ack(s: &Service) -> String {
    format!("outbox-ack/{}", s.name)
}

/// A store's read and write latencies.
pub fn store_latency(store: &str) -> String {
    format!("store/{store}/latency")
}

/// A store step's key draws, by where the step is written.
pub fn store_keys(site: &str) -> String {
    format!("store-keys/{site}")
}

/// A zone-aware service's draws of Envoy's spill-over: local or across,
/// and which zone across.
pub fn zone_spill(s: &Service) -> String {
    format!("zone-spill/{}", s.name)
}

#[cfg(test)]
mod tests {
    use crate::scenario::load;

    fn sites(api_steps: &str) -> Vec<String> {
        let text = format!(
            r#"
            name = "t"
            duration = "1s"
            [workload.w]
            target = "a"
            rate = 1
            [services.a]
            threads = 1
            steps = {api_steps}
            [services.b]
            threads = 1
            steps = [{{ call = "c" }}]
            [services.c]
            threads = 1
            steps = [{{ work = "1ms" }}]
        "#
        );
        load("t.toml", &text, &[]).expect("valid").model.call_sites
    }

    /// A call is named where it is written: an optional call or a branch
    /// added before it in its operation does not rename it.
    #[test]
    fn call_sites_are_the_keys_the_calls_are_written_at() {
        let plain = sites(r#"[{ call = "b" }, { parallel = [{ call = "b" }, { call = "c" }] }]"#);
        assert_eq!(
            plain,
            [
                "services.a.steps.0",
                "services.a.steps.1.parallel.0",
                "services.a.steps.1.parallel.1",
                "services.b.steps.0",
                "workload.w",
            ]
        );
        let optional =
            sites(r#"[{ call = "b", p = 0.5 }, { parallel = [{ call = "b" }, { call = "c" }] }]"#);
        assert_eq!(optional, plain);
        let branched = sites(
            r#"[{ branch = [{ p = 0.5, steps = [{ call = "c" }] }, { p = 0.5, steps = [{ work = "1ms" }] }] }, { call = "b" }]"#,
        );
        assert_eq!(
            branched,
            [
                "services.a.steps.0.branch.0.steps.0",
                "services.a.steps.1",
                "services.b.steps.0",
                "workload.w",
            ]
        );
    }
}
