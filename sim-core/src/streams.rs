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

use crate::model::{Broker, Edge, Model, Queue, Service, Source, Step};

/// A source's arrival gaps and think times.
pub fn arrivals(s: &Source) -> String {
    format!("arrivals/{}", s.name)
}

/// A service's work times.
pub fn work(s: &Service) -> String {
    format!("work/{}", s.name)
}

/// A service's random and power-of-two balancer draws.
pub fn balancer(s: &Service) -> String {
    format!("lb/{}", s.name)
}

/// An edge's network latency.
pub fn network(e: &Edge) -> String {
    format!("net/{}", e.name)
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

/// The place of every call spec in the model: `client/<source>` for a
/// source's request, `<service>/<operation>/<step>` for a call step and
/// `<service>/<operation>/<step>/<branch>` for a parallel branch (steps
/// and branches counted from 0 within their operation).
pub fn call_sites(m: &Model) -> Vec<String> {
    let mut sites = vec![String::new(); m.calls.len()];
    for s in &m.sources {
        sites[s.call as usize] = format!("client/{}", s.name);
    }
    for (op, step, k) in steps(m) {
        match *step {
            Step::Call(c) => sites[c as usize] = format!("{op}/{k}"),
            Step::Parallel { first, count } => {
                for b in 0..count {
                    sites[(first + b) as usize] = format!("{op}/{k}/{b}");
                }
            }
            Step::Work(_) | Step::Publish(_) | Step::Branch(_) | Step::Jump(_) => {}
        }
    }
    sites
}

/// The place of every publish step (`<service>/<operation>/<step>`).
pub fn publish_sites(m: &Model) -> Vec<String> {
    let mut sites = vec![String::new(); m.publishes.len()];
    for (op, step, k) in steps(m) {
        if let Step::Publish(p) = *step {
            sites[p as usize] = format!("{op}/{k}");
        }
    }
    sites
}

/// Every step with its operation's `<service>/<operation>` and its index.
fn steps(m: &Model) -> impl Iterator<Item = (String, &Step, usize)> {
    m.ops.iter().flat_map(move |o| {
        let name = format!("{}/{}", m.services[o.service as usize].name, o.name);
        let first = o.first_step as usize;
        m.steps[first..first + o.step_count as usize]
            .iter()
            .enumerate()
            .map(move |(k, s)| (name.clone(), s, k))
    })
}

/// A branch point's draws, by where it is written
/// (`services.a.steps.2`, `services.a.steps.2.branch.0.steps.1`).
pub fn branch(site: &str) -> String {
    format!("branch/{site}")
}

/// A call's retry jitter, by the call's site.
pub fn retry(site: &str) -> String {
    format!("retry/{site}")
}

/// A publish step's poison coin flips, by target and the step's site.
pub fn poison(target: &str, site: &str) -> String {
    format!("poison/{target}/{site}")
}

/// A publish step's acknowledgement latency, by broker, target and site.
pub fn ack(b: &Broker, target: &str, site: &str) -> String {
    format!("broker/{}/ack/{target}/{site}", b.name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::load;

    #[test]
    fn call_sites_name_the_step_not_the_list_position() {
        let text = r#"
            name = "t"
            duration = "1s"
            [workload.w]
            target = "a"
            rate = 1
            [services.a]
            threads = 1
            steps = [{ call = "b" }, { work = "1ms" }, { parallel = [{ call = "b" }, { call = "c" }] }]
            [services.b]
            threads = 1
            steps = [{ call = "c" }]
            [services.c]
            threads = 1
            steps = [{ work = "1ms" }]
        "#;
        let m = load("t.toml", text, &[]).expect("valid").model;
        let mut sites = call_sites(&m);
        sites.sort();
        assert_eq!(
            sites,
            [
                "a/default/0",
                "a/default/2/0",
                "a/default/2/1",
                "b/default/0",
                "client/w"
            ]
        );
    }
}
