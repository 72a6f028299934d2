//! Checks the meaning of a `ScenarioFile` and compiles it into a `Model`.
//!
//! Owns the semantic rules (positive rates and threads, known targets, no
//! synchronous call cycle, one kind per fault…). Every error carries the
//! dotted key path of the offending value; `scenario::load` turns that path
//! into a line and column.
//!
//! Past 900 lines: every section of the file (services and steps,
//! workload, brokers and queues, faults, cycles) has its checks here, and
//! the sections share the builder's tables of names and ids. The server
//! model, memory and limits already have files of their own (`runtime.rs`,
//! `limits.rs`); splitting the rest by section, as `scenario/slo.rs` is,
//! is the next step.

use super::KeyError;
use super::dto::{
    ArrivalProcess, BacklogFull, Balancer as BalancerFile, BranchFile, CallFile, DistFile,
    DistKind, FaultFile, QueueFile, ScenarioFile, StepFile, TimeoutFile, WhenFullFile,
};
use super::values::{duration, opt_duration, positive_duration};
use crate::dist::Dist;
use crate::model::*;
use crate::patterns::{CallPolicyFile, FieldError};
use crate::time::{NS_PER_S, Nanos};

type R<T> = Result<T, KeyError>;

/// `p` if it is a probability (NaN and infinities are not), else an error
/// at `key`.
fn probability(key: String, p: f64) -> R<f64> {
    if (0.0..=1.0).contains(&p) {
        Ok(p)
    } else {
        Err(KeyError::new(
            key,
            format!("must be a probability in [0, 1], got {p}"),
        ))
    }
}

/// Compiles a distribution written at `key`.
pub fn dist(key: &str, d: &DistFile) -> R<Dist> {
    let t = match d {
        DistFile::Constant(text) => return duration(key, text).map(Dist::constant),
        DistFile::Table(t) => t,
    };
    if t.blocking.is_some() {
        return Err(KeyError::new(
            format!("{key}.blocking"),
            "`blocking` belongs to a `work` step's distribution",
        ));
    }
    let need = |name: &str, v: &Option<String>| -> R<Nanos> {
        let k = format!("{key}.{name}");
        let text = v.as_deref().ok_or_else(|| {
            KeyError::new(&k, format!("{:?} needs `{name}`", t.dist).to_lowercase())
        })?;
        duration(&k, text)
    };
    let set: Vec<&str> = [
        ("value", t.value.is_some()),
        ("mean", t.mean.is_some()),
        ("min", t.min.is_some()),
        ("max", t.max.is_some()),
        ("sd", t.sd.is_some()),
        ("median", t.median.is_some()),
        ("p99", t.p99.is_some()),
        ("cv", t.cv.is_some()),
        ("scale", t.scale.is_some()),
        ("shape", t.shape.is_some()),
        ("values", t.values.is_some()),
        ("weights", t.weights.is_some()),
        ("p", t.p.is_some()),
        ("of", t.of.is_some()),
    ]
    .iter()
    .filter(|(_, s)| *s)
    .map(|(n, _)| *n)
    .collect();
    let allowed: &[&str] = match t.dist {
        DistKind::Constant => &["value"],
        DistKind::Uniform => &["min", "max"],
        DistKind::Exponential => &["mean"],
        DistKind::Normal => &["mean", "sd"],
        DistKind::Lognormal => &["median", "p99", "mean", "cv"],
        DistKind::Pareto => &["scale", "shape"],
        DistKind::Empirical => &["values", "weights"],
        DistKind::Mixture => &["of"],
    };
    if t.p.is_some() {
        return Err(KeyError::new(
            format!("{key}.p"),
            "`p` belongs to a part of a mixture: { dist = \"mixture\", of = [{ p = 0.99, dist = ... }, ...] }",
        ));
    }
    if let Some(extra) = set.iter().find(|n| !allowed.contains(n)) {
        return Err(KeyError::new(
            format!("{key}.{extra}"),
            format!(
                "`{extra}` does not apply to {:?} (it takes {})",
                t.dist,
                allowed.join(", ")
            )
            .to_lowercase(),
        ));
    }
    let built = match t.dist {
        DistKind::Mixture => {
            let of =
                t.of.as_ref()
                    .ok_or_else(|| KeyError::new(format!("{key}.of"), "mixture needs `of`"))?;
            let mut parts = Vec::with_capacity(of.len());
            for (i, part) in of.iter().enumerate() {
                let k = format!("{key}.of.{i}");
                let p = part.p.ok_or_else(|| {
                    KeyError::new(&k, "each part of a mixture needs its probability `p`")
                })?;
                let p = probability(format!("{k}.p"), p)?;
                let inner = super::dto::DistTable {
                    p: None,
                    ..part.clone()
                };
                parts.push((p, dist(&k, &DistFile::Table(Box::new(inner)))?));
            }
            let total: f64 = parts.iter().map(|x| x.0).sum();
            if (total - 1.0).abs() > 1e-9 {
                return Err(KeyError::new(
                    format!("{key}.of"),
                    format!("the parts' probabilities must sum to 1, got {total}"),
                ));
            }
            Dist::mixture(parts)
        }
        DistKind::Constant => Ok(Dist::constant(need("value", &t.value)?)),
        DistKind::Uniform => Dist::uniform(need("min", &t.min)?, need("max", &t.max)?),
        DistKind::Exponential => Dist::exponential(need("mean", &t.mean)?),
        DistKind::Normal => Dist::normal(need("mean", &t.mean)?, need("sd", &t.sd)?),
        DistKind::Lognormal => match (&t.median, &t.mean) {
            (Some(_), None) => {
                Dist::lognormal_median_p99(need("median", &t.median)?, need("p99", &t.p99)?)
            }
            (None, Some(_)) => {
                let cv = t.cv.ok_or_else(|| {
                    KeyError::new(format!("{key}.cv"), "lognormal by mean needs `cv`")
                })?;
                Dist::lognormal_mean_cv(need("mean", &t.mean)?, cv)
            }
            _ => {
                return Err(KeyError::new(
                    key,
                    "lognormal takes either `median` and `p99`, or `mean` and `cv`",
                ));
            }
        },
        DistKind::Pareto => {
            let shape = t
                .shape
                .ok_or_else(|| KeyError::new(format!("{key}.shape"), "pareto needs `shape`"))?;
            Dist::pareto(need("scale", &t.scale)?, shape)
        }
        DistKind::Empirical => {
            let values = t
                .values
                .as_ref()
                .ok_or_else(|| KeyError::new(format!("{key}.values"), "empirical needs `values`"))?
                .iter()
                .enumerate()
                .map(|(i, v)| duration(&format!("{key}.values.{i}"), v))
                .collect::<R<Vec<_>>>()?;
            let weights = t.weights.clone().unwrap_or_else(|| vec![1.0; values.len()]);
            Dist::empirical(values, &weights)
        }
    };
    built.map_err(|m| KeyError::new(key, m))
}

/// Turns a pattern's (field, message) into an error at `key.field`.
fn field_error(key: &str) -> impl Fn(FieldError) -> KeyError + '_ {
    move |(field, message)| KeyError::new(format!("{key}.{field}"), message)
}

/// The patterns written on a `call` step or a `parallel` branch.
macro_rules! policy_of {
    ($x:expr) => {
        CallPolicyFile {
            retry: $x.retry.clone(),
            breaker: $x.breaker.clone(),
            bulkhead: $x.bulkhead.clone(),
            rate_limit: $x.rate_limit.clone(),
            hedge: $x.hedge.clone(),
            fallback: $x.fallback.clone(),
            deadline: $x.deadline.clone(),
            order: $x.order.clone(),
            throttle: $x.throttle.clone(),
        }
    };
}

fn has_patterns(p: &CallPolicyFile) -> bool {
    p.retry.is_some()
        || p.breaker.is_some()
        || p.bulkhead.is_some()
        || p.rate_limit.is_some()
        || p.hedge.is_some()
        || p.fallback.is_some()
        || p.deadline.is_some()
        || p.order.is_some()
        || p.throttle.is_some()
}

fn rate(key: &str, r: f64) -> R<f64> {
    if !(r.is_finite() && r >= 0.0) {
        return Err(KeyError::new(
            key,
            format!("must be a rate >= 0 (requests per second), got {r}"),
        ));
    }
    Ok(r)
}

fn shape(key: &str, s: &super::dto::ShapeFile) -> R<Shape> {
    let n = [
        s.steps.is_some(),
        s.ramp.is_some(),
        s.spike.is_some(),
        s.sine.is_some(),
        s.points.is_some(),
    ]
    .iter()
    .filter(|x| **x)
    .count();
    if n != 1 {
        return Err(KeyError::new(
            key,
            "a shape has exactly one of `steps`, `ramp`, `spike`, `sine` or `points`",
        ));
    }
    if s.interpolate.is_some() && s.points.is_none() {
        return Err(KeyError::new(
            format!("{key}.interpolate"),
            "`interpolate` belongs to a `points` shape",
        ));
    }
    if let Some(points) = &s.points {
        if points.is_empty() {
            return Err(KeyError::new(
                format!("{key}.points"),
                "give at least one point: [[\"0s\", 40], [\"60s\", 80]]",
            ));
        }
        let mut out: Vec<(Nanos, f64)> = Vec::new();
        for (i, (at, r)) in points.iter().enumerate() {
            let at = duration(&format!("{key}.points.{i}"), at)?;
            if out.last().is_some_and(|(prev, _)| *prev >= at) {
                return Err(KeyError::new(
                    format!("{key}.points.{i}"),
                    "points must be in increasing time",
                ));
            }
            out.push((at, rate(&format!("{key}.points.{i}"), *r)?));
        }
        if out.iter().all(|(_, r)| *r == 0.0) {
            return Err(KeyError::new(
                format!("{key}.points"),
                "every rate is 0: the source would send nothing",
            ));
        }
        return Ok(Shape::Points {
            points: out,
            linear: s.interpolate != Some(super::dto::Interpolate::Step),
        });
    }
    if let Some(steps) = &s.steps {
        let mut out = Vec::new();
        for (i, st) in steps.iter().enumerate() {
            let at = duration(&format!("{key}.steps.{i}.at"), &st.at)?;
            if out.last().is_some_and(|(prev, _)| *prev >= at) {
                return Err(KeyError::new(
                    format!("{key}.steps.{i}.at"),
                    "steps must be in increasing time",
                ));
            }
            out.push((at, rate(&format!("{key}.steps.{i}.rate"), st.rate)?));
        }
        return Ok(Shape::Steps(out));
    }
    if let Some(r) = &s.ramp {
        let start = duration(&format!("{key}.ramp.at"), &r.at)?;
        let len = positive_duration(&format!("{key}.ramp.for"), &r.length)?;
        return Ok(Shape::Ramp {
            start,
            end: start + len,
            to: rate(&format!("{key}.ramp.to"), r.to)?,
        });
    }
    if let Some(sp) = &s.spike {
        let start = duration(&format!("{key}.spike.at"), &sp.at)?;
        let len = positive_duration(&format!("{key}.spike.for"), &sp.length)?;
        return Ok(Shape::Spike {
            start,
            end: start + len,
            rate: rate(&format!("{key}.spike.rate"), sp.rate)?,
        });
    }
    let sine = s.sine.as_ref().expect("one kind is set");
    if !(0.0..=1.0).contains(&sine.amplitude) {
        return Err(KeyError::new(
            format!("{key}.sine.amplitude"),
            format!("must be in 0..1, got {}", sine.amplitude),
        ));
    }
    Ok(Shape::Sine {
        amplitude: sine.amplitude,
        period: positive_duration(&format!("{key}.sine.period"), &sine.period)?,
    })
}

fn check_name(key: &str, name: &str) -> R<()> {
    if name.is_empty()
        || name.contains('.')
        || name.contains("->")
        || name.contains(char::is_whitespace)
    {
        return Err(KeyError::new(
            key,
            format!("`{name}` is not a usable name: no dots, spaces or `->`"),
        ));
    }
    Ok(())
}

fn when_full(key: &str, w: Option<WhenFullFile>, max_block: &Option<String>) -> R<WhenFull> {
    match w.unwrap_or(WhenFullFile::Fail) {
        WhenFullFile::Fail => {
            if max_block.is_some() {
                return Err(KeyError::new(
                    format!("{key}.max_block"),
                    "`max_block` goes with `when_full = \"block\"`",
                ));
            }
            Ok(WhenFull::Fail)
        }
        WhenFullFile::Block => Ok(WhenFull::Block(match max_block {
            Some(t) => positive_duration(&format!("{key}.max_block"), t)?,
            None => 60 * NS_PER_S,
        })),
    }
}

/// A caller's timeout as written at `key`: the timer armed when an
/// attempt starts (a total, or a split timeout's connect part) and the
/// read part.
#[derive(Clone, Copy, Default)]
struct Timeouts {
    first: Option<Nanos>,
    read: Option<Nanos>,
    split: bool,
}

fn timeouts(key: &str, t: &Option<TimeoutFile>) -> R<Timeouts> {
    let k = format!("{key}.timeout");
    let part = |name: &str, v: &Option<String>| -> R<Option<Nanos>> {
        v.as_ref()
            .map(|v| positive_duration(&format!("{k}.{name}"), v))
            .transpose()
    };
    Ok(match t {
        None => Timeouts::default(),
        Some(TimeoutFile::Total(v)) => Timeouts {
            first: Some(positive_duration(&k, v)?),
            read: None,
            split: false,
        },
        Some(TimeoutFile::Split(s)) => {
            if s.connect.is_none() && s.read.is_none() {
                return Err(KeyError::new(&k, "give `connect`, `read` or both"));
            }
            Timeouts {
                first: part("connect", &s.connect)?,
                read: part("read", &s.read)?,
                split: true,
            }
        }
    })
}

/// Marks a split timeout on `spec`: its parts belong to each attempt, so
/// the timeout must sit inside any retry or hedge.
fn split_timeout(key: &str, mut spec: CallSpec, t: Timeouts) -> R<CallSpec> {
    spec.split_timeout = t.split;
    if t.split && spec.layers()[..spec.split as usize].contains(&crate::patterns::Layer::Timeout) {
        return Err(KeyError::new(
            format!("{key}.order"),
            "a `{ connect, read }` timeout belongs to each attempt: put `timeout` after `retry` and `hedge` in `order`",
        ));
    }
    Ok(spec)
}

/// The client side of a dropped connection, as written at `key`, and the
/// read part of a split timeout.
fn connect(
    key: &str,
    retries: Option<u32>,
    backoff: &Option<String>,
    read: Option<Nanos>,
) -> R<Connect> {
    let d = Connect::default();
    let retries = retries.unwrap_or(d.retries);
    if retries > 30 {
        return Err(KeyError::new(
            format!("{key}.connect_retries"),
            format!("at most 30 (the waits double each time), got {retries}"),
        ));
    }
    Ok(Connect {
        read,
        retries,
        backoff: match backoff {
            Some(b) => positive_duration(&format!("{key}.connect_backoff"), b)?,
            None => d.backoff,
        },
    })
}

/// The `[nodes]` table: machines and their cores.
fn nodes(file: &ScenarioFile) -> R<Vec<Node>> {
    file.nodes
        .iter()
        .map(|(name, n)| {
            check_name(&format!("nodes.{name}"), name)?;
            if n.cores == 0 {
                return Err(KeyError::new(
                    format!("nodes.{name}.cores"),
                    "must be at least 1",
                ));
            }
            Ok(Node {
                name: name.clone(),
                cores: n.cores,
            })
        })
        .collect()
}

// After `policy_of!`, which it uses.
mod sagas;

mod accepted;
mod choreo;
mod linger;
mod outbox;
mod stores;

struct Builder<'a> {
    file: &'a ScenarioFile,
    m: Model,
    /// Named steps: (name, absolute step index), for faults scoped to
    /// steps; those of the operation being compiled start at `names_from`.
    step_names: Vec<(String, u32)>,
    names_from: usize,
    /// Compiling a cache step's `miss` steps.
    in_miss: bool,
    /// The stores read so far by the step lists being compiled (a
    /// conditional write needs one).
    stores_read: Vec<u32>,
    /// Each distinct distribution's id, by its exact parameters.
    dist_ids: std::collections::BTreeMap<String, DistId>,
    /// Each service's id by name, and each edge's by its ends: a call
    /// step names its callee, and at thousands of services a scan of the
    /// list per call made building quadratic.
    service_ids: std::collections::BTreeMap<String, ServiceId>,
    edge_ids: std::collections::BTreeMap<(ServiceId, ServiceId), EdgeId>,
}

impl Builder<'_> {
    /// The id of `d`: one already added with exactly the same parameters
    /// (sampling depends on nothing else), or a new one. Five thousand
    /// services with the same work time then share one `Dist`, which
    /// stays in cache, instead of each reading its own.
    fn add_dist(&mut self, d: Dist) -> DistId {
        let key = format!("{d:?}");
        if let Some(&id) = self.dist_ids.get(&key) {
            return id;
        }
        self.m.dists.push(d);
        let id = (self.m.dists.len() - 1) as DistId;
        self.dist_ids.insert(key, id);
        id
    }

    /// The service called `name`, once every service is built.
    fn service_named(&self, name: &str) -> Option<ServiceId> {
        self.service_ids.get(name).copied()
    }

    /// Resolves "service" or "service.operation" written at `key`.
    fn resolve_target(&self, key: &str, target: &str) -> R<OpId> {
        let (svc, op) = match target.split_once('.') {
            Some((s, o)) => (s, Some(o)),
            None => (target, None),
        };
        let sid = self.service_named(svc).ok_or_else(|| {
            let known: Vec<&str> = self.m.services.iter().map(|s| s.name.as_str()).collect();
            KeyError::new(
                key,
                format!("unknown service `{svc}` (services: {})", known.join(", ")),
            )
        })?;
        let service = &self.m.services[sid];
        match op {
            None => Ok(service.ops[0]),
            Some(op) => service
                .ops
                .iter()
                .copied()
                .find(|o| self.m.ops[*o as usize].name == op)
                .ok_or_else(|| {
                    let known: Vec<&str> = service
                        .ops
                        .iter()
                        .map(|o| self.m.ops[*o as usize].name.as_str())
                        .collect();
                    KeyError::new(
                        key,
                        format!(
                            "service `{svc}` has no operation `{op}` (it has: {})",
                            known.join(", ")
                        ),
                    )
                }),
        }
    }

    fn edge(&mut self, from: ServiceId, to: ServiceId) -> R<EdgeId> {
        if let Some(&id) = self.edge_ids.get(&(from, to)) {
            return Ok(id);
        }
        let name = format!(
            "{}->{}",
            self.m.services[from].name, self.m.services[to].name
        );
        let net = self.file.network.as_ref();
        let spec = net.and_then(|n| {
            n.edges
                .get(&name)
                .map(|d| (format!("network.edges.{name}"), d))
        });
        let d = match spec {
            Some((key, d)) => dist(&key, d)?,
            None => match net.and_then(|n| n.latency.as_ref()) {
                Some(d) => dist("network.latency", d)?,
                None => Dist::constant(0),
            },
        };
        let latency = self.add_dist(d);
        self.m.edges.push(Edge {
            from,
            to,
            latency,
            name,
        });
        let id = EdgeId::at(self.m.edges.len() - 1);
        self.edge_ids.insert((from, to), id);
        Ok(id)
    }

    fn call(
        &mut self,
        key: &str,
        from: ServiceId,
        target: &str,
        timeout: &Option<TimeoutFile>,
        policy: &CallPolicyFile,
    ) -> R<(CallSpec, Option<Nanos>)> {
        let op = self.resolve_target(&format!("{key}.call"), target)?;
        let to = self.m.ops[op as usize].service;
        let t = timeouts(key, timeout)?;
        let spec = CallSpec::new(Some(self.edge(from, to)?), op, t.first);
        let spec = self.attach_policy(key, spec, policy)?;
        Ok((split_timeout(key, spec, t)?, t.read))
    }

    fn attach_policy(&mut self, key: &str, spec: CallSpec, policy: &CallPolicyFile) -> R<CallSpec> {
        if !has_patterns(policy) {
            return Ok(spec);
        }
        let p = policy.validate().map_err(field_error(key))?;
        let spec = spec.with_policy(self.m.policies.len() as u32, &p);
        self.m.policies.push(p);
        Ok(spec)
    }

    fn steps(&mut self, key: &str, sid: ServiceId, steps: &[StepFile]) -> R<(u32, u32)> {
        if steps.is_empty() {
            return Err(KeyError::new(key, "an operation needs at least one step"));
        }
        // Compile into a local list first: parallel branches append to
        // `calls`, and the operation's steps must stay contiguous. A
        // branch's arms are laid out inline after it (see `branch`), so
        // step indices are absolute from `base`.
        let base = self.m.steps.len() as u32;
        self.names_from = self.step_names.len();
        let mut out = Vec::with_capacity(steps.len());
        self.compile_steps(key, sid, steps, base, &mut out)?;
        let n = out.len() as u32;
        self.m.steps.extend(out);
        Ok((base, n))
    }

    fn compile_steps(
        &mut self,
        key: &str,
        sid: ServiceId,
        steps: &[StepFile],
        base: u32,
        out: &mut Vec<Step>,
    ) -> R<()> {
        // A read inside this list counts for what follows it here only.
        let reads_in_scope = self.stores_read.len();
        for (i, st) in steps.iter().enumerate() {
            let k = format!("{key}.{i}");
            let kinds = [
                st.cache.is_some(),
                st.work.is_some(),
                st.wait.is_some(),
                st.call.is_some(),
                st.parallel.is_some(),
                st.publish.is_some(),
                st.branch.is_some(),
                st.saga.is_some(),
                st.respond.is_some(),
                st.read.is_some(),
                st.write.is_some(),
            ]
            .iter()
            .filter(|x| **x)
            .count();
            if kinds != 1 {
                return Err(KeyError::new(
                    &k,
                    "a step has exactly one of `work`, `wait`, `call`, `parallel`, `publish`, `branch`, `cache`, `saga`, `respond`, `read` or `write`",
                ));
            }
            self.check_store_keys(&k, st)?;
            if st.miss.is_some() && st.cache.is_none() {
                return Err(KeyError::new(
                    format!("{k}.miss"),
                    "`miss` belongs to a `cache` step",
                ));
            }
            if let Some(name) = &st.name {
                self.name_step(&format!("{k}.name"), name, base + out.len() as u32)?;
            }
            if st.p.is_some() && st.call.is_none() {
                return Err(KeyError::new(
                    format!("{k}.p"),
                    "`p` makes a `call` optional; to choose between step lists use `branch`",
                ));
            }
            if st.poison.is_some() && st.publish.is_none() {
                return Err(KeyError::new(
                    format!("{k}.poison"),
                    "`poison` belongs to a `publish` step",
                ));
            }
            if st.outbox.is_some() && st.publish.is_none() {
                return Err(KeyError::new(
                    format!("{k}.outbox"),
                    "`outbox` belongs to a `publish` step",
                ));
            }
            linger::belongs_to_publish(&k, st)?;
            let policy = policy_of!(st);
            let connects = st.connect_retries.is_some() || st.connect_backoff.is_some();
            if (st.timeout.is_some() || has_patterns(&policy) || connects) && st.call.is_none() {
                return Err(KeyError::new(
                    &k,
                    "`timeout`, `retry` and the other call patterns belong to a `call` step (in `parallel`, put them on each branch)",
                ));
            }
            if st.read.is_some() || st.write.is_some() {
                out.push(self.store_step(&k, st)?);
            } else if let Some(name) = &st.saga {
                out.push(self.saga_step(&k, sid, name)?);
            } else if let Some(r) = st.respond {
                out.push(self.respond_step(&k, r)?);
            } else if let Some(name) = &st.cache {
                self.cache_step(&k, sid, name, st.miss.as_deref(), base, out)?;
            } else if let Some(arms) = &st.branch {
                self.branch(&k, sid, arms, base, out)?;
            } else if let Some(target) = &st.publish {
                let mut p = self.publish(&k, target, st.poison)?;
                p.outbox = self.outbox(&k, sid, st.outbox.as_ref())?;
                p.batching = self.linger(&k, &p, st.linger.as_deref(), st.batch)?;
                self.m.publishes.push(p);
                self.m.publish_sites.push(k.clone());
                out.push(Step::Publish((self.m.publishes.len() - 1) as u32));
            } else if let Some(w) = &st.work {
                let (w, blocking) = match w {
                    DistFile::Table(t) if t.blocking.is_some() => {
                        let mut plain = t.clone();
                        plain.blocking = None;
                        (DistFile::Table(plain), t.blocking == Some(true))
                    }
                    _ => (w.clone(), false),
                };
                let d = self.add_dist(dist(&format!("{k}.work"), &w)?);
                if !blocking {
                    out.push(Step::Work(d));
                } else if self.m.services[sid].loops().is_some() {
                    out.push(Step::Blocking(d));
                } else {
                    return Err(KeyError::new(
                        format!("{k}.work.blocking"),
                        "`blocking` means holding an event loop: it belongs to a service with model = \"event_loop\" (on a thread pool every step holds its thread)",
                    ));
                }
            } else if let Some(w) = &st.wait {
                let d = self.add_dist(dist(&format!("{k}.wait"), w)?);
                out.push(Step::Wait(d));
            } else if let Some(target) = &st.call {
                let (c, read) = self.call(&k, sid, target, &st.timeout, &policy)?;
                self.m.calls.push(c);
                self.m.call_sites.push(k.clone());
                let connect = connect(&k, st.connect_retries, &st.connect_backoff, read)?;
                self.m.connects.push(connect);
                let call = Step::Call((self.m.calls.len() - 1) as u32);
                match st.p {
                    None => out.push(call),
                    Some(p) => self.optional_call(&k, p, call, base, out)?,
                }
            } else if let Some(branches) = &st.parallel {
                if branches.is_empty() {
                    return Err(KeyError::new(
                        format!("{k}.parallel"),
                        "`parallel` needs at least one call",
                    ));
                }
                let mut specs = Vec::new();
                let mut connects = Vec::new();
                for (j, b) in branches.iter().enumerate() {
                    let b: &CallFile = b;
                    let policy = policy_of!(b);
                    let (spec, read) = self.call(
                        &format!("{k}.parallel.{j}"),
                        sid,
                        &b.call,
                        &b.timeout,
                        &policy,
                    )?;
                    specs.push(spec);
                    connects.push(connect(
                        &format!("{k}.parallel.{j}"),
                        b.connect_retries,
                        &b.connect_backoff,
                        read,
                    )?);
                }
                let first = self.m.calls.len() as u32;
                self.m.calls.extend(specs);
                self.m.connects.extend(connects);
                self.m
                    .call_sites
                    .extend((0..branches.len()).map(|j| format!("{k}.parallel.{j}")));
                out.push(Step::Parallel {
                    first,
                    count: branches.len() as u32,
                });
            }
        }
        self.stores_read.truncate(reads_in_scope);
        Ok(())
    }

    /// A `cache` step at `key`: `Cache`, the miss steps, then `Fill`.
    fn cache_step(
        &mut self,
        key: &str,
        sid: ServiceId,
        name: &str,
        miss: Option<&[StepFile]>,
        base: u32,
        out: &mut Vec<Step>,
    ) -> R<()> {
        let cache = self
            .m
            .caches
            .iter()
            .position(|c| c.name == name)
            .ok_or_else(|| {
                let known: Vec<&str> = self.m.caches.iter().map(|c| c.name.as_str()).collect();
                KeyError::new(
                    format!("{key}.cache"),
                    format!(
                        "unknown cache `{name}` (caches: {})",
                        if known.is_empty() {
                            "none; declare it as [caches.NAME]".to_owned()
                        } else {
                            known.join(", ")
                        }
                    ),
                )
            })?;
        let miss = match miss {
            Some(m) if !m.is_empty() => m,
            _ => {
                return Err(KeyError::new(
                    format!("{key}.miss"),
                    "a `cache` step needs `miss = [steps]`: what a miss does before the key is filled",
                ));
            }
        };
        if self.in_miss {
            return Err(KeyError::new(
                format!("{key}.cache"),
                "a `cache` step inside another cache step's `miss` is not supported",
            ));
        }
        match self.m.caches[cache].local {
            Some(owner) if owner == super::caches::LOCAL_OWNER_UNKNOWN => {
                self.m.caches[cache].local = Some(sid)
            }
            Some(owner) if owner != sid => {
                return Err(KeyError::new(
                    format!("{key}.cache"),
                    format!(
                        "`{name}` is local (one per replica of `{}`): only that service can look it up",
                        self.m.services[owner].name
                    ),
                ));
            }
            _ => {}
        }
        let i = self.m.cache_steps.len() as u32;
        self.m.cache_steps.push(CacheStep {
            cache: cache as u32,
            fill: 0,
            site: key.to_owned(),
        });
        out.push(Step::Cache(i));
        self.in_miss = true;
        let compiled = self.compile_steps(&format!("{key}.miss"), sid, miss, base, out);
        self.in_miss = false;
        compiled?;
        self.m.cache_steps[i as usize].fill = base + out.len() as u32;
        out.push(Step::Fill(i));
        Ok(())
    }

    /// Records step `at`'s name, unique in its operation.
    fn name_step(&mut self, key: &str, name: &str, at: u32) -> R<()> {
        check_name(key, name)?;
        if self.step_names[self.names_from..]
            .iter()
            .any(|(n, _)| n == name)
        {
            return Err(KeyError::new(
                key,
                format!("two steps of this operation are named `{name}`"),
            ));
        }
        self.step_names.push((name.to_owned(), at));
        Ok(())
    }

    /// A branch point at `key`: a `Branch` step, then each arm's steps
    /// ending in a `Jump` past the last arm.
    fn branch(
        &mut self,
        key: &str,
        sid: ServiceId,
        arms: &[BranchFile],
        base: u32,
        out: &mut Vec<Step>,
    ) -> R<()> {
        let bkey = format!("{key}.branch");
        if arms.is_empty() {
            return Err(KeyError::new(&bkey, "`branch` needs at least one arm"));
        }
        let mut cumulative = Vec::with_capacity(arms.len());
        let mut total = 0.0;
        for (a, arm) in arms.iter().enumerate() {
            let akey = format!("{bkey}.{a}");
            probability(format!("{akey}.p"), arm.p)?;
            if arm.steps.is_empty() {
                return Err(KeyError::new(
                    format!("{akey}.steps"),
                    "an arm of a branch needs at least one step",
                ));
            }
            total += arm.p;
            cumulative.push(total);
        }
        if (total - 1.0).abs() > 1e-9 {
            let ps: Vec<String> = arms.iter().map(|a| a.p.to_string()).collect();
            return Err(KeyError::new(
                &bkey,
                format!(
                    "the arms' probabilities must sum to 1, got {} = {total}",
                    ps.join(" + ")
                ),
            ));
        }
        let id = self.m.branches.len();
        self.m.branches.push(Branch {
            cumulative: Vec::new(),
            first: Vec::new(),
            site: key.to_owned(),
        });
        out.push(Step::Branch(id as u32));
        let mut first = Vec::with_capacity(arms.len());
        let mut jumps = Vec::with_capacity(arms.len());
        for (a, arm) in arms.iter().enumerate() {
            first.push(base + out.len() as u32);
            self.compile_steps(&format!("{bkey}.{a}.steps"), sid, &arm.steps, base, out)?;
            jumps.push(out.len());
            out.push(Step::Jump(0));
        }
        let join = base + out.len() as u32;
        for j in jumps {
            out[j] = Step::Jump(join);
        }
        // Rounding: the last running sum is exactly 1.
        *cumulative.last_mut().expect("at least one arm") = 1.0;
        self.m.branches[id].cumulative = cumulative;
        self.m.branches[id].first = first;
        Ok(())
    }

    /// `{ call = ..., p = P }`: a branch point whose first arm is the call
    /// and whose other arm skips it.
    fn optional_call(
        &mut self,
        key: &str,
        p: f64,
        call: Step,
        base: u32,
        out: &mut Vec<Step>,
    ) -> R<()> {
        let p = probability(format!("{key}.p"), p)?;
        let id = self.m.branches.len() as u32;
        out.push(Step::Branch(id));
        let at_call = base + out.len() as u32;
        out.push(call);
        let after = base + out.len() as u32;
        self.m.branches.push(Branch {
            cumulative: vec![p, 1.0],
            first: vec![at_call, after],
            site: key.to_owned(),
        });
        Ok(())
    }

    /// The network's default latency (0 without one), as brokers' default.
    fn default_latency(&self) -> R<Dist> {
        match self.file.network.as_ref().and_then(|n| n.latency.as_ref()) {
            Some(d) => dist("network.latency", d),
            None => Ok(Dist::constant(0)),
        }
    }

    /// Brokers, topics and queues (after services, before steps).
    fn messaging(&mut self) -> R<()> {
        let file = self.file;
        if file.brokers.is_empty()
            && (!file.queues.is_empty() || !file.topics.is_empty() || !file.logs.is_empty())
        {
            let d = self.default_latency()?;
            let ack = self.add_dist(d.clone());
            let delivery = self.add_dist(d);
            self.m.brokers.push(Broker {
                name: "broker".into(),
                ack,
                delivery,
            });
        }
        for (name, b) in &file.brokers {
            let key = format!("brokers.{name}");
            check_name(&key, name)?;
            let mut latency = |field: &str, d: &Option<DistFile>| -> R<DistId> {
                let d = match d {
                    Some(d) => dist(&format!("{key}.{field}"), d)?,
                    None => self.default_latency()?,
                };
                Ok(self.add_dist(d))
            };
            let ack = latency("ack", &b.ack)?;
            let delivery = latency("delivery", &b.delivery)?;
            self.m.brokers.push(Broker {
                name: name.clone(),
                ack,
                delivery,
            });
        }
        for (name, q) in &file.queues {
            let key = format!("queues.{name}");
            check_name(&key, name)?;
            if file.topics.contains_key(name) {
                return Err(KeyError::new(
                    &key,
                    format!(
                        "`{name}` is both a queue and a topic: publish targets need one name each"
                    ),
                ));
            }
            let broker = self.broker_of(&key, &q.broker)?;
            let consumer = self.resolve_target(&format!("{key}.consumer"), &q.consumer)?;
            let service = self.m.ops[consumer as usize].service;
            let concurrency = q.concurrency.unwrap_or(1);
            let threads = self.m.services[service].threads;
            if concurrency == 0 || concurrency > threads {
                return Err(KeyError::new(
                    format!("{key}.concurrency"),
                    format!(
                        "must be 1..={threads}: consumers take threads of `{}`",
                        self.m.services[service].name
                    ),
                ));
            }
            // Zero would let a consumer that fails in no time take the same
            // message again at the same instant, for ever.
            let backoff = match &q.redelivery_backoff {
                Some(t) => positive_duration(&format!("{key}.redelivery_backoff"), t)?,
                None => NS_PER_S,
            };
            let backoff_max = opt_duration(
                &format!("{key}.redelivery_backoff_max"),
                &q.redelivery_backoff_max,
                backoff,
            )?;
            if backoff_max < backoff {
                return Err(KeyError::new(
                    format!("{key}.redelivery_backoff_max"),
                    "must be at least `redelivery_backoff`",
                ));
            }
            if q.max_deliveries == Some(0) {
                return Err(KeyError::new(
                    format!("{key}.max_deliveries"),
                    "must be at least 1",
                ));
            }
            self.m.queues.push(Queue {
                name: name.clone(),
                broker,
                topic: None,
                capacity: match q.capacity {
                    None | Some(QueueFile::Unbounded(_)) => UNBOUNDED,
                    Some(QueueFile::Slots(0)) => {
                        return Err(KeyError::new(
                            format!("{key}.capacity"),
                            "must be at least 1 (or \"unbounded\")",
                        ));
                    }
                    Some(QueueFile::Slots(n)) => n,
                },
                when_full: when_full(&key, q.when_full, &q.max_block)?,
                visibility: match &q.visibility_timeout {
                    Some(t) => positive_duration(&format!("{key}.visibility_timeout"), t)?,
                    None => 30 * NS_PER_S,
                },
                max_deliveries: q.max_deliveries.unwrap_or(u32::MAX),
                backoff,
                backoff_max,
                dead_letter: None,
                consumer,
                service,
                concurrency,
                idempotent: q.idempotent.unwrap_or(false),
                idempotency_ttl: super::workflows::idempotency_ttl(&key, &q.idempotency)?,
            });
        }
        for (i, q) in file.queues.values().enumerate() {
            if let Some(d) = &q.dead_letter {
                let key = format!("queues.{}.dead_letter", self.m.queues[i].name);
                let target = self.queue_id(&key, d)?;
                if self.m.queues[target as usize].broker != self.m.queues[i].broker {
                    return Err(KeyError::new(key, format!("`{d}` is on another broker")));
                }
                self.m.queues[i].dead_letter = Some(target);
            }
        }
        // A message must not be dead-lettered round a loop for ever.
        for start in 0..self.m.queues.len() {
            let mut at = start;
            for _ in 0..self.m.queues.len() {
                match self.m.queues[at].dead_letter {
                    Some(next) if next as usize == start => {
                        let name = &self.m.queues[start].name;
                        return Err(KeyError::new(
                            format!("queues.{name}.dead_letter"),
                            "dead-letter queues form a loop back to this queue",
                        ));
                    }
                    Some(next) => at = next as usize,
                    None => break,
                }
            }
        }
        for (name, t) in &file.topics {
            let key = format!("topics.{name}");
            check_name(&key, name)?;
            let broker = self.broker_of(&key, &t.broker)?;
            if t.subscriptions.is_empty() {
                return Err(KeyError::new(
                    format!("{key}.subscriptions"),
                    "a topic needs at least one subscription (a queue name)",
                ));
            }
            let tid = self.m.topics.len() as u32;
            let mut queues = Vec::new();
            for (i, sub) in t.subscriptions.iter().enumerate() {
                let k = format!("{key}.subscriptions.{i}");
                let qid = self.queue_id(&k, sub)?;
                let q = &mut self.m.queues[qid as usize];
                if let Some(other) = q.topic {
                    let other = &file
                        .topics
                        .get_index(other as usize)
                        .expect("known topic")
                        .0;
                    return Err(KeyError::new(
                        k,
                        format!("queue `{sub}` already subscribes to topic `{other}`"),
                    ));
                }
                if q.broker != broker {
                    return Err(KeyError::new(
                        k,
                        format!("queue `{sub}` is on another broker than the topic"),
                    ));
                }
                q.topic = Some(tid);
                queues.push(qid);
            }
            self.m.topics.push(Topic {
                name: name.clone(),
                broker,
                queues,
                when_full: when_full(&key, t.when_full, &t.max_block)?,
            });
        }
        Ok(())
    }

    fn broker_of(&self, key: &str, named: &Option<String>) -> R<u32> {
        let names: Vec<&str> = self.m.brokers.iter().map(|b| b.name.as_str()).collect();
        match named {
            Some(n) => names
                .iter()
                .position(|b| b == n)
                .map(|i| i as u32)
                .ok_or_else(|| {
                    KeyError::new(
                        format!("{key}.broker"),
                        format!("unknown broker `{n}` (brokers: {})", names.join(", ")),
                    )
                }),
            None if names.len() == 1 => Ok(0),
            None => Err(KeyError::new(
                format!("{key}.broker"),
                format!("name the broker (brokers: {})", names.join(", ")),
            )),
        }
    }

    fn queue_id(&self, key: &str, name: &str) -> R<u32> {
        self.m
            .queues
            .iter()
            .position(|q| q.name == name)
            .map(|i| i as u32)
            .ok_or_else(|| {
                let known: Vec<&str> = self.m.queues.iter().map(|q| q.name.as_str()).collect();
                KeyError::new(
                    key,
                    format!("unknown queue `{name}` (queues: {})", known.join(", ")),
                )
            })
    }

    /// A `publish` step's target: a topic or a queue.
    fn publish(&mut self, key: &str, target: &str, poison: Option<f64>) -> R<Publish> {
        let poison = probability(format!("{key}.poison"), poison.unwrap_or(0.0))?;
        if let Some(l) = self.m.logs.iter().position(|l| l.name == target) {
            return Ok(Publish {
                target: target.to_owned(),
                broker: self.m.logs[l].broker,
                queues: smallvec::SmallVec::new(),
                when_full: WhenFull::Fail,
                poison,
                log: Some(l as u32),
                outbox: None,
                batching: None,
            });
        }
        let (broker, queues, when_full) = if let Some(t) =
            self.m.topics.iter().find(|t| t.name == target)
        {
            (t.broker, t.queues.iter().copied().collect(), t.when_full)
        } else if let Some(i) = self.m.queues.iter().position(|q| q.name == target) {
            let q = &self.m.queues[i];
            (q.broker, smallvec::smallvec![i as u32], q.when_full)
        } else {
            let mut known: Vec<&str> = self.m.topics.iter().map(|t| t.name.as_str()).collect();
            known.extend(self.m.queues.iter().map(|q| q.name.as_str()));
            return Err(KeyError::new(
                format!("{key}.publish"),
                if known.is_empty() {
                    format!(
                        "unknown queue or topic `{target}`: declare it under [queues] or [topics]"
                    )
                } else {
                    format!(
                        "unknown queue or topic `{target}` (declared: {})",
                        known.join(", ")
                    )
                },
            ));
        };
        Ok(Publish {
            target: target.to_owned(),
            broker,
            queues,
            when_full,
            poison,
            log: None,
            outbox: None,
            batching: None,
        })
    }

    fn fault(&mut self, i: usize, f: &FaultFile) -> R<Fault> {
        let key = format!("fault.{i}");
        let start = duration(&format!("{key}.at"), &f.at)?;
        let length = positive_duration(&format!("{key}.for"), &f.length)?;
        let kinds: Vec<&str> = f
            .kinds_given()
            .iter()
            .filter(|(_, s)| *s)
            .map(|(n, _)| *n)
            .collect();
        if kinds.len() != 1 {
            return Err(KeyError::new(
                &key,
                format!(
                    "a fault has exactly one of `slowdown`, `latency`, `errors`, `crash`, `hang`, `lost_threads`, `pause`, `partition`, `surge`, `outage` or `flush` (found {})",
                    if kinds.is_empty() {
                        "none".to_owned()
                    } else {
                        kinds.join(", ")
                    }
                ),
            ));
        }
        let flag = |name: &str, v: Option<bool>| -> R<()> {
            if v != Some(true) {
                return Err(KeyError::new(
                    format!("{key}.{name}"),
                    format!("write `{name} = true` (or remove the fault)"),
                ));
            }
            Ok(())
        };
        let tkey = format!("{key}.target");
        if f.flush.is_some() {
            flag("flush", f.flush)?;
            let c = self
                .m
                .caches
                .iter()
                .position(|c| c.name == f.target)
                .ok_or_else(|| {
                    let known: Vec<&str> = self.m.caches.iter().map(|c| c.name.as_str()).collect();
                    KeyError::new(
                        &tkey,
                        format!(
                            "a flush targets a cache; unknown `{}` (caches: {})",
                            f.target,
                            if known.is_empty() {
                                "none".to_owned()
                            } else {
                                known.join(", ")
                            }
                        ),
                    )
                })?;
            if f.steps.is_some() {
                return Err(KeyError::new(
                    format!("{key}.steps"),
                    "a flush empties the whole cache: leave out `steps`",
                ));
            }
            let kind = FaultKind::Flush;
            let stream = crate::streams::fault(&f.target, kind.label(), &f.at);
            return Ok(Fault {
                cache: Some(c as u32),
                replica: f.replica,
                ..Fault::new(kind, f.target.clone(), stream, start, start + length)
            });
        }
        if let Some(fault) = super::caches::cache_fault(&self.m, &key, f, start, length)? {
            return Ok(fault);
        }
        if f.on_error.is_some() {
            return Err(KeyError::new(
                format!("{key}.on_error"),
                "`on_error` belongs to an `outage` of a cache",
            ));
        }
        let broker = self.m.brokers.iter().position(|b| b.name == f.target);
        let is_service = self.service_named(&f.target).is_some();
        if f.outage.is_some() || (f.slowdown.is_some() && broker.is_some() && !is_service) {
            let Some(b) = broker else {
                let known: Vec<&str> = self.m.brokers.iter().map(|b| b.name.as_str()).collect();
                return Err(KeyError::new(
                    &tkey,
                    format!(
                        "an outage targets a broker; unknown `{}` (brokers: {})",
                        f.target,
                        if known.is_empty() {
                            "none".to_owned()
                        } else {
                            known.join(", ")
                        }
                    ),
                ));
            };
            if f.replica.is_some() {
                return Err(KeyError::new(
                    format!("{key}.replica"),
                    "a broker has no replicas",
                ));
            }
            if f.steps.is_some() {
                return Err(KeyError::new(
                    format!("{key}.steps"),
                    "a broker has no steps: `steps` scopes a service's slowdown",
                ));
            }
            let kind = if f.outage.is_some() {
                flag("outage", f.outage)?;
                FaultKind::Outage
            } else {
                let x = f.slowdown.expect("checked above");
                if !(x.is_finite() && x > 0.0) {
                    return Err(KeyError::new(
                        format!("{key}.slowdown"),
                        format!("must be a factor > 0, got {x}"),
                    ));
                }
                FaultKind::SlowBroker(x)
            };
            let stream = crate::streams::fault(&f.target, kind.label(), &f.at);
            return Ok(Fault {
                broker: Some(b as u32),
                ..Fault::new(kind, f.target.clone(), stream, start, start + length)
            });
        }
        let edge_fault = f.latency.is_some() || f.partition.is_some();
        let mut source = None;
        let mut scope_op = None;
        let (service, edges) = if let Some(factor) = f.surge {
            let idx = self
                .m
                .sources
                .iter()
                .position(|s| s.name == f.target)
                .ok_or_else(|| {
                    let known: Vec<&str> = self.m.sources.iter().map(|s| s.name.as_str()).collect();
                    KeyError::new(
                        &tkey,
                        format!(
                            "a surge targets a workload source; unknown `{}` (sources: {})",
                            f.target,
                            known.join(", ")
                        ),
                    )
                })?;
            if !(factor.is_finite() && factor > 0.0) {
                return Err(KeyError::new(
                    format!("{key}.surge"),
                    format!("must be a rate factor > 0, got {factor}"),
                ));
            }
            source = Some(idx as u32);
            (None, Vec::new())
        } else if let Some((a, b)) = f.target.split_once("->") {
            let e = self
                .m
                .edges
                .iter()
                .position(|e| e.name == format!("{}->{}", a.trim(), b.trim()))
                .ok_or_else(|| {
                    KeyError::new(&tkey, format!("no call goes along `{}`", f.target))
                })?;
            if !edge_fault {
                return Err(KeyError::new(
                    &tkey,
                    "only `latency` and `partition` faults target an edge; name a service",
                ));
            }
            (None, vec![EdgeId::at(e)])
        } else if let Some((svc, _)) = f.target.split_once('.')
            && self.service_named(svc).is_some()
        {
            if edge_fault {
                return Err(KeyError::new(
                    &tkey,
                    "a `latency` or `partition` fault targets an edge or a service, not an operation",
                ));
            }
            let op = self.resolve_target(&tkey, &f.target)?;
            scope_op = Some(op);
            (Some(self.m.ops[op as usize].service), Vec::new())
        } else {
            let sid = self.service_named(&f.target).ok_or_else(|| {
                let known: Vec<&str> = self.m.services.iter().map(|s| s.name.as_str()).collect();
                KeyError::new(
                    &tkey,
                    format!(
                        "unknown service `{}` (services: {})",
                        f.target,
                        known.join(", ")
                    ),
                )
            })?;
            let into: Vec<EdgeId> = (0..self.m.edges.len())
                .map(EdgeId::at)
                .filter(|e| self.m.edges[*e].to == sid)
                .collect();
            if edge_fault && into.is_empty() {
                return Err(KeyError::new(
                    &tkey,
                    format!("no service calls `{}`: this fault needs an edge", f.target),
                ));
            }
            (Some(sid), into)
        };
        if let (Some(r), Some(s)) = (f.replica, service) {
            let n = self.m.services[s].replicas;
            if r >= n {
                return Err(KeyError::new(
                    format!("{key}.replica"),
                    format!("`{}` has {n} replicas (0..{})", f.target, n - 1),
                ));
            }
        }
        let kind = if let Some(x) = f.slowdown {
            if !(x.is_finite() && x > 0.0) {
                return Err(KeyError::new(
                    format!("{key}.slowdown"),
                    format!("must be a factor > 0, got {x}"),
                ));
            }
            FaultKind::Slowdown(x)
        } else if let Some(d) = &f.latency {
            let d = dist(&format!("{key}.latency"), d)?;
            FaultKind::Latency(self.add_dist(d))
        } else if let Some(p) = f.errors {
            FaultKind::Errors(probability(format!("{key}.errors"), p)?)
        } else if f.crash.is_some() {
            flag("crash", f.crash)?;
            FaultKind::Crash
        } else if f.hang.is_some() {
            flag("hang", f.hang)?;
            FaultKind::Hang
        } else if let Some(n) = f.lost_threads {
            let target = &self.m.services[(service.expect("a service target")).index()];
            if target.loops().is_some() {
                return Err(KeyError::new(
                    format!("{key}.lost_threads"),
                    format!(
                        "`{}` is an event-loop service: it has no thread pool to lose threads from",
                        target.name
                    ),
                ));
            }
            let threads = target.threads;
            if n == 0 || n > threads {
                return Err(KeyError::new(
                    format!("{key}.lost_threads"),
                    format!("must be 1..={threads} (the service's threads)"),
                ));
            }
            FaultKind::LostThreads(n)
        } else if f.pause.is_some() {
            flag("pause", f.pause)?;
            FaultKind::Pause
        } else if f.partition.is_some() {
            flag("partition", f.partition)?;
            FaultKind::Partition
        } else {
            FaultKind::Surge(f.surge.expect("the one kind left"))
        };
        if service.is_none()
            && source.is_none()
            && !matches!(kind, FaultKind::Latency(_) | FaultKind::Partition)
        {
            return Err(KeyError::new(
                &tkey,
                "name a service: only `latency` and `partition` faults target an edge",
            ));
        }
        let steps = self.fault_scope(&key, f, &kind, service, scope_op)?;
        let stream = crate::streams::fault(&f.target, kind.label(), &f.at);
        Ok(Fault {
            source,
            cache: None,
            broker: None,
            kind,
            target: f.target.clone(),
            service,
            edges,
            replica: f.replica,
            op: scope_op,
            steps,
            start,
            end: start + length,
            stream,
        })
    }
}

impl Builder<'_> {
    /// The steps a scoped slowdown stretches (every timed step of the
    /// operation, or the named ones), after checking that only a
    /// `slowdown` or an operation's `errors` is scoped.
    fn fault_scope(
        &self,
        key: &str,
        f: &FaultFile,
        kind: &FaultKind,
        service: Option<ServiceId>,
        op: Option<OpId>,
    ) -> R<Option<Vec<u32>>> {
        let slowdown = matches!(kind, FaultKind::Slowdown(_));
        if op.is_some() && !slowdown && !matches!(kind, FaultKind::Errors(_)) {
            return Err(KeyError::new(
                format!("{key}.target"),
                format!(
                    "a `{}` fault hits whole replicas: target the service, not one operation",
                    kind.label()
                ),
            ));
        }
        if f.steps.is_some() && !slowdown {
            return Err(KeyError::new(
                format!("{key}.steps"),
                "`steps` scopes a `slowdown` to named steps",
            ));
        }
        if !slowdown || (op.is_none() && f.steps.is_none()) {
            return Ok(None);
        }
        let sid = service.expect("a slowdown of steps names a service");
        let ops: Vec<OpId> = match op {
            Some(o) => vec![o],
            None => self.m.services[sid].ops.clone(),
        };
        let ranges: Vec<(u32, u32)> = ops
            .iter()
            .map(|o| {
                let o = &self.m.ops[*o as usize];
                (o.first_step, o.first_step + o.step_count)
            })
            .collect();
        let within = |i: u32| ranges.iter().any(|(a, b)| (*a..*b).contains(&i));
        let mut steps: Vec<u32> = match &f.steps {
            None => ranges.iter().flat_map(|(a, b)| *a..*b).collect(),
            Some(names) => {
                if names.is_empty() {
                    return Err(KeyError::new(
                        format!("{key}.steps"),
                        "name at least one step (or leave `steps` out)",
                    ));
                }
                let mut out = Vec::new();
                for (i, name) in names.iter().enumerate() {
                    let found: Vec<u32> = self
                        .step_names
                        .iter()
                        .filter(|(n, at)| n == name && within(*at))
                        .map(|(_, at)| *at)
                        .collect();
                    if found.is_empty() {
                        let known: Vec<&str> = self
                            .step_names
                            .iter()
                            .filter(|(_, at)| within(*at))
                            .map(|(n, _)| n.as_str())
                            .collect();
                        return Err(KeyError::new(
                            format!("{key}.steps.{i}"),
                            format!(
                                "`{}` has no step named `{name}` (named steps: {})",
                                f.target,
                                if known.is_empty() {
                                    "none; give a step `name = \"...\"`".to_owned()
                                } else {
                                    known.join(", ")
                                }
                            ),
                        ));
                    }
                    out.extend(found);
                }
                out
            }
        };
        steps.retain(|i| {
            matches!(
                self.m.steps[*i as usize],
                Step::Work(_) | Step::Blocking(_) | Step::Wait(_)
            )
        });
        steps.sort_unstable();
        steps.dedup();
        if steps.is_empty() {
            return Err(KeyError::new(
                format!("{key}.steps"),
                "the scoped slowdown covers no `work` or `wait` step",
            ));
        }
        Ok(Some(steps))
    }
}

/// Checks `file` and compiles it.
pub fn build(file: &ScenarioFile) -> R<Model> {
    if file.name.trim().is_empty() {
        return Err(KeyError::new("name", "must not be empty"));
    }
    let duration = positive_duration("duration", &file.duration)?;
    let warmup = opt_duration("warmup", &file.warmup, 0)?;
    if warmup >= duration {
        return Err(KeyError::new("warmup", "must be shorter than `duration`"));
    }
    let drain = opt_duration("drain", &file.drain, 60 * NS_PER_S)?;
    let window = match &file.window {
        Some(w) => positive_duration("window", w)?,
        None => NS_PER_S,
    };
    let mut b = Builder {
        step_names: Vec::new(),
        names_from: 0,
        in_miss: false,
        stores_read: Vec::new(),
        dist_ids: std::collections::BTreeMap::new(),
        service_ids: std::collections::BTreeMap::new(),
        edge_ids: std::collections::BTreeMap::new(),
        file,
        m: Model {
            name: file.name.clone(),
            seed: file.seed.unwrap_or(1),
            duration,
            warmup,
            drain,
            window,
            services: Vec::new(),
            nodes: nodes(file)?,
            ops: Vec::new(),
            steps: Vec::new(),
            branches: Vec::new(),
            caches: Vec::new(),
            cache_steps: Vec::new(),
            calls: Vec::new(),
            call_sites: Vec::new(),
            connects: Vec::new(),
            policies: Vec::new(),
            edges: Vec::new(),
            dists: Vec::new(),
            sources: Vec::new(),
            faults: Vec::new(),
            brokers: Vec::new(),
            queues: Vec::new(),
            topics: Vec::new(),
            publishes: Vec::new(),
            publish_sites: Vec::new(),
            slos: Vec::new(),
            logs: Vec::new(),
            groups: Vec::new(),
            max_in_flight: match file.max_in_flight {
                None => DEFAULT_MAX_IN_FLIGHT,
                Some(n) if n >= 1000 => n,
                Some(n) => {
                    return Err(KeyError::new(
                        "max_in_flight",
                        format!("must be at least 1000, got {n}"),
                    ));
                }
            },
            sagas: super::workflows::sagas(file)?,
            saga_sites: Vec::new(),
            outboxes: Vec::new(),
            stores: Vec::new(),
            store_steps: Vec::new(),
            zoning: None,
        },
    };
    if file.services.is_empty() {
        return Err(KeyError::new(
            "services",
            "a scenario needs at least one service",
        ));
    }
    // First pass: services and their operation names, so calls may point
    // forward.
    for (name, s) in &file.services {
        let key = format!("services.{name}");
        check_name(&key, name)?;
        let (server, threads) = super::runtime::server(&key, s)?;
        let memory = super::runtime::memory(&key, s)?;
        let lifecycle = super::runtime::lifecycle(&key, s)?;
        let autoscale = super::autoscale::autoscale(&key, name, s, file)?;
        let replicas = match autoscale {
            Some(a) => a.slots(),
            None => s.replicas.unwrap_or(1),
        };
        if replicas == 0 {
            return Err(KeyError::new(
                format!("{key}.replicas"),
                "must be at least 1",
            ));
        }
        let queue = match s.queue {
            None => 0,
            Some(QueueFile::Slots(n)) => n,
            Some(QueueFile::Unbounded(_)) => UNBOUNDED,
        };
        let sid = ServiceId::at(b.m.services.len());
        let names: Vec<String> = match (&s.steps, s.operations.is_empty()) {
            (Some(_), true) => vec!["default".to_owned()],
            (None, false) => s.operations.keys().cloned().collect(),
            (Some(_), false) => {
                return Err(KeyError::new(
                    &key,
                    "give either `steps` or `operations`, not both",
                ));
            }
            (None, true) => {
                return Err(KeyError::new(
                    format!("{key}.steps"),
                    "a service needs `steps` (or `operations`)",
                ));
            }
        };
        let mut ops = Vec::new();
        for op in names {
            check_name(&format!("{key}.operations.{op}"), &op)?;
            b.m.ops.push(Operation {
                name: op,
                service: sid,
                first_step: 0,
                step_count: 0,
            });
            ops.push((b.m.ops.len() - 1) as OpId);
        }
        b.m.services.push(Service {
            name: name.clone(),
            replicas,
            threads,
            queue,
            drops_when_full: match s.when_full {
                Some(BacklogFull::Drop) if queue == UNBOUNDED => {
                    return Err(KeyError::new(
                        format!("{key}.when_full"),
                        "an unbounded queue is never full: give `queue` a size",
                    ));
                }
                w => w == Some(BacklogFull::Drop),
            },
            server,
            memory,
            lifecycle,
            work_per_in_flight: match &s.work_law {
                None => None,
                Some(l)
                    if l.per_in_flight.is_finite() && (0.0..=1e6).contains(&l.per_in_flight) =>
                {
                    Some(l.per_in_flight)
                }
                Some(l) => {
                    return Err(KeyError::new(
                        format!("{key}.work_law.per_in_flight"),
                        format!("must be a factor in [0, 1e6], got {}", l.per_in_flight),
                    ));
                }
            },
            ops,
            balancer: match s.balancer.unwrap_or(BalancerFile::RoundRobin) {
                BalancerFile::RoundRobin => Balancer::RoundRobin,
                BalancerFile::Random => Balancer::Random,
                BalancerFile::LeastOutstanding => Balancer::LeastOutstanding,
                BalancerFile::PowerOfTwo => Balancer::PowerOfTwo,
            },
            cores: match s.cores {
                Some(0) => return Err(KeyError::new(format!("{key}.cores"), "must be at least 1")),
                c => c,
            },
            node: match &s.node {
                None => None,
                Some(_) if s.cores.is_some() => {
                    return Err(KeyError::new(
                        format!("{key}.node"),
                        "a service on a node shares the node's cores: leave out `cores`",
                    ));
                }
                Some(n) => Some(file.nodes.get_index_of(n).ok_or_else(|| {
                    let known: Vec<&str> = file.nodes.keys().map(|k| k.as_str()).collect();
                    KeyError::new(
                        format!("{key}.node"),
                        format!(
                            "unknown node `{n}` (nodes: {})",
                            if known.is_empty() {
                                "none; declare it as [nodes.NAME] cores = N".to_owned()
                            } else {
                                known.join(", ")
                            }
                        ),
                    )
                })? as u32),
            },
            admission: match &s.admission {
                Some(a) => a
                    .validate()
                    .map_err(field_error(&format!("{key}.admission")))?,
                None => Default::default(),
            },
            outlier: match &s.outlier_detection {
                Some(o) => Some(
                    o.validate()
                        .map_err(field_error(&format!("{key}.outlier_detection")))?,
                ),
                None => None,
            },
            autoscale,
            zones: super::zones::zones(&key, s)?,
        });
        b.service_ids.insert(name.clone(), sid);
    }
    b.messaging()?;
    let taken: Vec<&str> = file
        .queues
        .keys()
        .chain(file.topics.keys())
        .map(|k| k.as_str())
        .collect();
    let logs = super::logs::logs(&file.logs, &taken, |k, n| b.broker_of(k, n))?;
    b.m.logs = logs;
    let groups = super::logs::groups(&file.groups, &b.m, |k, t| b.resolve_target(k, t))?;
    b.m.groups = groups;
    for (mut c, lookup) in super::caches::caches(file)? {
        let lookup = match lookup {
            Some(d) => dist(&format!("caches.{}.lookup", c.name), d)?,
            None => Dist::constant(0),
        };
        c.lookup = b.add_dist(lookup);
        b.m.caches.push(c);
    }
    b.add_stores()?;
    for (si, (name, s)) in file.services.iter().enumerate() {
        let sid = ServiceId::at(si);
        let ops = b.m.services[si].ops.clone();
        match &s.steps {
            Some(steps) => {
                let (first, n) = b.steps(&format!("services.{name}.steps"), sid, steps)?;
                b.m.ops[ops[0] as usize].first_step = first;
                b.m.ops[ops[0] as usize].step_count = n;
            }
            None => {
                for (oi, (op, of)) in s.operations.iter().enumerate() {
                    let (first, n) = b.steps(
                        &format!("services.{name}.operations.{op}.steps"),
                        sid,
                        &of.steps,
                    )?;
                    b.m.ops[ops[oi] as usize].first_step = first;
                    b.m.ops[ops[oi] as usize].step_count = n;
                }
            }
        }
    }
    b.choreographed_sagas()?;
    check_cycles(&b.m)?;
    if let Some(net) = &file.network {
        for edge in net.edges.keys() {
            if !b.m.edges.iter().any(|e| &e.name == edge) {
                return Err(KeyError::new(
                    format!("network.edges.{edge}"),
                    format!("no call goes along `{edge}` (write \"caller->callee\")"),
                ));
            }
        }
        if let Some(d) = &net.latency {
            dist("network.latency", d)?;
        }
    }
    if file.workload.is_empty() {
        return Err(KeyError::new(
            "workload",
            "a scenario needs at least one workload source",
        ));
    }
    for (name, w) in &file.workload {
        let key = format!("workload.{name}");
        check_name(&key, name)?;
        let op = b.resolve_target(&format!("{key}.target"), &w.target)?;
        let (rate, closed) = match (w.rate, w.users) {
            (Some(r), None) => {
                if !(r.is_finite() && r > 0.0) {
                    return Err(KeyError::new(
                        format!("{key}.rate"),
                        format!("must be a number of requests per second > 0, got {r}"),
                    ));
                }
                (r, None)
            }
            (None, Some(n)) => {
                if n == 0 {
                    return Err(KeyError::new(format!("{key}.users"), "must be at least 1"));
                }
                if w.shape.is_some() || w.arrivals.is_some() {
                    return Err(KeyError::new(
                        &key,
                        "a closed-loop source (`users`) has no `shape` or `arrivals`",
                    ));
                }
                let think = match &w.think {
                    Some(d) => dist(&format!("{key}.think"), d)?,
                    None => Dist::constant(0),
                };
                let id = b.add_dist(think);
                (0.0, Some((n, id)))
            }
            (Some(_), Some(_)) => {
                return Err(KeyError::new(
                    &key,
                    "give either `rate` (open loop) or `users` (closed loop), not both",
                ));
            }
            // A replayed source's rate comes from its file (`replay.rs`).
            (None, None) if w.replay.is_some() => (1.0, None),
            // A `points` shape gives its own rates.
            (None, None)
                if w.shape
                    .as_ref()
                    .and_then(|s| s.points.as_ref())
                    .is_some_and(|p| !p.is_empty()) =>
            {
                (
                    w.shape
                        .as_ref()
                        .and_then(|s| s.points.as_ref())
                        .map_or(1.0, |p| p.iter().map(|(_, r)| *r).fold(0.0, f64::max)),
                    None,
                )
            }
            (None, None) => {
                return Err(KeyError::new(
                    format!("{key}.rate"),
                    "a source needs `rate` (open loop) or `users` (closed loop)",
                ));
            }
        };
        if w.think.is_some() && closed.is_none() {
            return Err(KeyError::new(
                format!("{key}.think"),
                "`think` belongs to a closed-loop source (`users`)",
            ));
        }
        let t = timeouts(&key, &w.timeout)?;
        let timeout = t.first;
        if w.requests == Some(0) {
            return Err(KeyError::new(
                format!("{key}.requests"),
                "must be at least 1",
            ));
        }
        let client_policy = CallPolicyFile {
            retry: w.retry.clone(),
            ..Default::default()
        };
        let spec = b.attach_policy(&key, CallSpec::new(None, op, timeout), &client_policy)?;
        b.m.calls.push(split_timeout(&key, spec, t)?);
        b.m.call_sites.push(key.clone());
        b.m.connects.push(connect(
            &key,
            w.connect_retries,
            &w.connect_backoff,
            t.read,
        )?);
        let call = (b.m.calls.len() - 1) as u32;
        let propagate_deadline = w.propagate_deadline.unwrap_or(false);
        if propagate_deadline && t.split {
            return Err(KeyError::new(
                format!("{key}.propagate_deadline"),
                "needs a total `timeout` (\"3s\"), not `{ connect, read }`: the deadline is arrival + timeout",
            ));
        }
        if propagate_deadline && timeout.is_none() {
            return Err(KeyError::new(
                format!("{key}.propagate_deadline"),
                "needs the source's `timeout`: the deadline is arrival + timeout",
            ));
        }
        let hop = match &w.latency {
            Some(d) => dist(&format!("{key}.latency"), d)?,
            None => b.default_latency()?,
        };
        let latency = match hop {
            Dist::Constant(0) => None,
            d => Some(b.add_dist(d)),
        };
        let poll = b.poll(&key, op, &w.poll, timeout)?;
        b.m.sources.push(Source {
            latency,
            name: name.clone(),
            op,
            rate,
            closed,
            arrivals: match w.arrivals.unwrap_or(ArrivalProcess::Poisson) {
                ArrivalProcess::Poisson => Arrivals::Poisson,
                ArrivalProcess::Deterministic => Arrivals::Deterministic,
            },
            timeout,
            limit: w.requests,
            shape: match &w.shape {
                None => Shape::Constant,
                Some(sh) => shape(&format!("{key}.shape"), sh)?,
            },
            call,
            propagate_deadline,
            criticality: w.criticality.unwrap_or_default(),
            replayed: Vec::new(),
            poll,
        });
    }
    b.m.zoning = super::zones::routing(file, &b.m)?;
    for (i, f) in file.fault.iter().enumerate() {
        if let Some(fault) = super::store_faults::store_fault(&b.m, i, f)? {
            b.m.faults.push(fault);
            continue;
        }
        for f in super::zones::expand(&b.m, i, f)? {
            let fault = b.fault(i, &f)?;
            b.m.faults.push(fault);
        }
    }
    b.m.slos = super::slo::compile(file)?;
    Ok(b.m)
}

/// A synchronous call cycle would hold threads for ever: refuse it, naming
/// the call that closes the loop.
fn check_cycles(m: &Model) -> R<()> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Active,
        Done,
    }
    /// (call spec, callee operation) of every call `op` makes, arms of
    /// branches included.
    fn callees(m: &Model, op: OpId) -> Vec<(usize, OpId)> {
        let mut out = Vec::new();
        for st in m.op_steps(op) {
            match *st {
                Step::Call(c) => out.push((c as usize, m.calls[c as usize].op)),
                Step::Parallel { first, count } => {
                    out.extend(
                        (first..first + count).map(|c| (c as usize, m.calls[c as usize].op)),
                    );
                }
                Step::Work(_)
                | Step::Blocking(_)
                | Step::Wait(_)
                | Step::Cache(_)
                | Step::Fill(_)
                | Step::Publish(_)
                | Step::Branch(_)
                | Step::Jump(_)
                | Step::Accept
                | Step::Read(_)
                | Step::Write(_) => {}
                Step::Saga(site) => {
                    out.extend(sagas::calls(m, site).map(|c| (c as usize, m.calls[c as usize].op)))
                }
            }
        }
        out
    }
    fn visit(
        m: &Model,
        op: OpId,
        marks: &mut [Mark],
        stack: &mut Vec<(OpId, usize)>,
    ) -> Option<(Vec<OpId>, OpId, usize)> {
        marks[op as usize] = Mark::Active;
        for (step, next) in callees(m, op) {
            stack.push((op, step));
            match marks[next as usize] {
                Mark::Active => {
                    let start = stack.iter().position(|(o, _)| *o == next).unwrap_or(0);
                    let mut cycle: Vec<OpId> = stack[start..].iter().map(|(o, _)| *o).collect();
                    cycle.push(next);
                    return Some((cycle, op, step));
                }
                Mark::New => {
                    if let Some(found) = visit(m, next, marks, stack) {
                        return Some(found);
                    }
                }
                Mark::Done => {}
            }
            stack.pop();
        }
        marks[op as usize] = Mark::Done;
        None
    }
    let mut marks = vec![Mark::New; m.ops.len()];
    for op in 0..m.ops.len() as OpId {
        if marks[op as usize] != Mark::New {
            continue;
        }
        let mut stack = Vec::new();
        if let Some((cycle, _, call)) = visit(m, op, &mut marks, &mut stack) {
            let name = |o: OpId| {
                let op = &m.ops[o as usize];
                let svc = &m.services[op.service].name;
                if m.services[op.service].ops.len() == 1 {
                    svc.clone()
                } else {
                    format!("{svc}.{}", op.name)
                }
            };
            let path: Vec<String> = cycle.iter().map(|o| name(*o)).collect();
            return Err(KeyError::new(
                m.call_sites[call].clone(),
                format!("synchronous call cycle: {}", path.join(" -> ")),
            ));
        }
    }
    Ok(())
}
