//! Test scaffolding shared by the engine's log tests (`log_tests.rs`) and
//! the end-to-end ones (`tests/it/logs.rs` includes this file by path):
//! workload `w` into service `producer`, whose one step publishes to log
//! `events`; service `worker` consumes it as group `g`. A test gives only
//! the lines that differ, so the scenarios read as their differences.

/// The lines of each table; empty ones keep the defaults.
#[derive(Default)]
pub struct Pipeline<'a> {
    /// Top-level keys after the name (`duration`, `warmup`, `drain`).
    pub run: &'a str,
    pub workload: &'a str,
    /// The producer's keys (default `threads = 64`).
    pub producer: &'a str,
    /// Keys added to the publish step after `publish = "events"`, e.g.
    /// `poison = 0.002`.
    pub publish: &'a str,
    pub worker: &'a str,
    pub log: &'a str,
    /// The group's keys after `log` and `consumer`.
    pub group: &'a str,
    /// Tables after the group (faults, other logs).
    pub tail: &'a str,
}

impl Pipeline<'_> {
    pub fn toml(&self, name: &str) -> String {
        let producer = if self.producer.is_empty() {
            "threads = 64"
        } else {
            self.producer
        };
        let publish = if self.publish.is_empty() {
            String::new()
        } else {
            format!(", {}", self.publish)
        };
        format!(
            "name = \"{name}\"\n{}\n[workload.w]\ntarget = \"producer\"\n{}\n\
             [services.producer]\n{producer}\nsteps = [{{ publish = \"events\"{publish} }}]\n\
             [services.worker]\n{}\n[logs.events]\n{}\n\
             [groups.g]\nlog = \"events\"\nconsumer = \"worker\"\n{}\n{}\n",
            self.run, self.workload, self.worker, self.log, self.group, self.tail
        )
    }
}
