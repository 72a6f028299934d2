//! The patterns of one `call` step, in an explicit order, and the ingress
//! admission of a service.
//!
//! Order matters: a breaker inside a retry sees (and counts) every attempt;
//! a retry inside a breaker is one call to it however many attempts it
//! makes. `order` lists the layers outermost first. The default is
//! Resilience4j's aspect order,
//! `Retry ( CircuitBreaker ( RateLimiter ( TimeLimiter ( Bulkhead ( call ) ) ) ) )`,
//! with a fallback outside everything and hedging just inside the retry:
//! `fallback, retry, hedge, breaker, throttle, rate_limit, timeout, bulkhead`.
//! `timeout` is the step's per-attempt timeout; when a given `order` leaves
//! it out it wraps the network call itself (innermost). The call's
//! `deadline` covers every attempt, wait and hedge, inside the fallback.

use std::fmt;

use schemars::JsonSchema;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};

use super::breaker::{BreakerConfig, BreakerFile};
use super::bulkhead::{BulkheadConfig, BulkheadFile};
use super::concurrency_limit::{ConcurrencyLimitConfig, ConcurrencyLimitFile};
use super::hedge::{HedgeConfig, HedgeFile};
use super::priority::{PerClassFile, ShedTimeFile, shed_in_flight, shed_times};
use super::rate_limit::{RateLimitConfig, RateLimitFile};
use super::retry::{RetryConfig, RetryFile};
use super::throttle::{ThrottleConfig, ThrottleFile};
use super::{FailureKind, FailureSet, FieldError, duration, err, nested, positive_duration};
use crate::time::Nanos;

/// One layer around a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Layer {
    Fallback,
    Retry,
    Hedge,
    Breaker,
    /// Client-side adaptive throttling (`throttle`).
    Throttle,
    RateLimit,
    /// The step's per-attempt `timeout`.
    Timeout,
    Bulkhead,
}

impl Layer {
    /// Resilience4j's aspect order, outermost first, with fallback and
    /// hedge placed.
    pub const DEFAULT_ORDER: [Layer; 8] = [
        Layer::Fallback,
        Layer::Retry,
        Layer::Hedge,
        Layer::Breaker,
        Layer::Throttle,
        Layer::RateLimit,
        Layer::Timeout,
        Layer::Bulkhead,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Layer::Fallback => "fallback",
            Layer::Retry => "retry",
            Layer::Hedge => "hedge",
            Layer::Breaker => "breaker",
            Layer::Throttle => "throttle",
            Layer::RateLimit => "rate_limit",
            Layer::Timeout => "timeout",
            Layer::Bulkhead => "bulkhead",
        }
    }
}

/// A fallback: `true`, or a table.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum FallbackFile {
    /// `true` turns failures into degraded answers at once; `false` is no
    /// fallback.
    Flag(bool),
    Table(FallbackTable),
}

/// A fallback's settings.
#[derive(Deserialize, Serialize, JsonSchema, Debug, Clone, Default)]
#[serde(deny_unknown_fields)]
pub struct FallbackTable {
    /// Time the fallback takes to answer, e.g. a cache read (default "0").
    #[serde(default)]
    pub latency: Option<String>,
    /// Failures that fall back (default: every failure kind).
    #[serde(default)]
    pub on: Option<Vec<FailureKind>>,
}

impl<'de> Deserialize<'de> for FallbackFile {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // Hand-written rather than `untagged`, so errors inside the table
        // keep their own key.
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = FallbackFile;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("true, false or a table such as { latency = \"1ms\" }")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<FallbackFile, E> {
                Ok(FallbackFile::Flag(v))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<FallbackFile, A::Error> {
                FallbackTable::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(FallbackFile::Table)
            }
        }
        d.deserialize_any(V)
    }
}

/// A validated fallback.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FallbackConfig {
    pub latency: Nanos,
    pub on: FailureSet,
}

impl FallbackTable {
    pub fn validate(&self) -> Result<FallbackConfig, FieldError> {
        Ok(FallbackConfig {
            latency: duration("latency", self.latency.as_ref(), 0)?,
            on: match &self.on {
                None => FailureSet::ALL,
                Some(list) => FailureSet::of(list),
            },
        })
    }
}

/// The resilience patterns of one call step, as written in a scenario.
#[derive(Deserialize, Serialize, JsonSchema, Debug, Clone, Default)]
#[serde(deny_unknown_fields)]
pub struct CallPolicyFile {
    /// Retry failed attempts.
    #[serde(default)]
    pub retry: Option<RetryFile>,
    /// Fail fast while the callee keeps failing.
    #[serde(default)]
    pub breaker: Option<BreakerFile>,
    /// Cap the calls in flight from this caller to this callee.
    #[serde(default)]
    pub bulkhead: Option<BulkheadFile>,
    /// Cap the rate of calls from this caller to this callee.
    #[serde(default)]
    pub rate_limit: Option<RateLimitFile>,
    /// Send more attempts if the first is slow; the first answer wins.
    #[serde(default)]
    pub hedge: Option<HedgeFile>,
    /// Turn a failure into a degraded answer: true, or a table.
    #[serde(default)]
    pub fallback: Option<FallbackFile>,
    /// Time budget of the whole call, every attempt, wait and hedge
    /// included (Envoy's route timeout, a gRPC deadline); default none.
    #[serde(default)]
    pub deadline: Option<String>,
    /// The layers, outermost first, e.g. ["retry", "breaker", "bulkhead"];
    /// must list every pattern configured here ("timeout" optional).
    /// Default: fallback, retry, hedge, breaker, throttle, rate_limit, timeout,
    /// bulkhead (Resilience4j's order).
    #[serde(default)]
    pub order: Option<Vec<Layer>>,
    /// Client-side adaptive throttling: `{ k = 2, window = "120s" }`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub throttle: Option<ThrottleFile>,
}

/// The validated patterns of one call step.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CallPolicy {
    /// Configured layers outermost first; always holds `Timeout` (a no-op
    /// when the step has no timeout).
    pub order: Vec<Layer>,
    pub retry: Option<RetryConfig>,
    pub breaker: Option<BreakerConfig>,
    pub bulkhead: Option<BulkheadConfig>,
    pub rate_limit: Option<RateLimitConfig>,
    pub hedge: Option<HedgeConfig>,
    pub fallback: Option<FallbackConfig>,
    pub deadline: Option<Nanos>,
    pub throttle: Option<ThrottleConfig>,
}

impl CallPolicy {
    /// Whether layer `outer` wraps layer `inner` (both present).
    pub fn wraps(&self, outer: Layer, inner: Layer) -> bool {
        let pos = |l| self.order.iter().position(|x| *x == l);
        matches!((pos(outer), pos(inner)), (Some(a), Some(b)) if a < b)
    }

    fn has(&self, l: Layer) -> bool {
        match l {
            Layer::Fallback => self.fallback.is_some(),
            Layer::Retry => self.retry.is_some(),
            Layer::Hedge => self.hedge.is_some(),
            Layer::Breaker => self.breaker.is_some(),
            Layer::Throttle => self.throttle.is_some(),
            Layer::RateLimit => self.rate_limit.is_some(),
            Layer::Timeout => true,
            Layer::Bulkhead => self.bulkhead.is_some(),
        }
    }
}

fn opt<F, C>(
    prefix: &str,
    file: &Option<F>,
    validate: impl Fn(&F) -> Result<C, FieldError>,
) -> Result<Option<C>, FieldError> {
    file.as_ref()
        .map(|f| nested(prefix, validate(f)))
        .transpose()
}

impl CallPolicyFile {
    pub fn validate(&self) -> Result<CallPolicy, FieldError> {
        let mut p = CallPolicy {
            order: Vec::new(),
            retry: opt("retry", &self.retry, RetryFile::validate)?,
            breaker: opt("breaker", &self.breaker, BreakerFile::validate)?,
            bulkhead: opt("bulkhead", &self.bulkhead, BulkheadFile::validate)?,
            rate_limit: opt("rate_limit", &self.rate_limit, RateLimitFile::validate)?,
            hedge: opt("hedge", &self.hedge, HedgeFile::validate)?,
            fallback: match &self.fallback {
                None | Some(FallbackFile::Flag(false)) => None,
                Some(FallbackFile::Flag(true)) => Some(FallbackConfig {
                    latency: 0,
                    on: FailureSet::ALL,
                }),
                Some(FallbackFile::Table(t)) => Some(nested("fallback", t.validate())?),
            },
            deadline: self
                .deadline
                .as_ref()
                .map(|d| positive_duration("deadline", Some(d), 0))
                .transpose()?,
            throttle: opt("throttle", &self.throttle, ThrottleFile::validate)?,
        };
        p.order = match &self.order {
            None => Layer::DEFAULT_ORDER
                .into_iter()
                .filter(|l| p.has(*l))
                .collect(),
            Some(list) => {
                for (i, l) in list.iter().enumerate() {
                    if list[..i].contains(l) {
                        return err("order", format!("lists `{}` twice", l.name()));
                    }
                    if !p.has(*l) {
                        return err(
                            "order",
                            format!("lists `{}`, which this call does not configure", l.name()),
                        );
                    }
                }
                if let Some(missing) = Layer::DEFAULT_ORDER
                    .into_iter()
                    .find(|l| *l != Layer::Timeout && p.has(*l) && !list.contains(l))
                {
                    return err(
                        "order",
                        format!(
                            "leaves out `{}`, which this call configures: list every pattern, outermost first",
                            missing.name()
                        ),
                    );
                }
                let mut order = list.clone();
                if !order.contains(&Layer::Timeout) {
                    order.push(Layer::Timeout);
                }
                order
            }
        };
        Ok(p)
    }
}

/// Ingress admission of a service, as written in a scenario.
#[derive(Deserialize, Serialize, JsonSchema, Debug, Clone, Default)]
#[serde(deny_unknown_fields)]
pub struct AdmissionFile {
    /// Token-bucket limit on arriving requests; the excess is shed.
    #[serde(default)]
    pub rate_limit: Option<RateLimitFile>,
    /// Drop a request that waited in the queue longer than this when a
    /// worker takes it: one duration, or one per criticality
    /// (`{ sheddable = "20ms", default = "200ms" }`).
    #[serde(default)]
    pub shed_queue_time: Option<ShedTimeFile>,
    /// Serve the accept queue by criticality (critical first, FIFO within a
    /// class; non-preemptive), and let a full queue make room for a more
    /// important request by shedding the newest of the least important.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority_queue: Option<bool>,
    /// Per criticality, refuse the class at the door while the replica
    /// holds this many requests (busy + queued).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shed_in_flight: Option<PerClassFile<u32>>,
    /// Adaptive limit on requests in flight (aimd or gradient2).
    #[serde(default)]
    pub concurrency_limit: Option<ConcurrencyLimitFile>,
}

/// Validated ingress admission. `repr(C)`: what every request reads (the
/// in-flight limits, the queue times) first, beside the service's own
/// figures (`model::Service`).
#[derive(Clone, Copy, Debug, PartialEq)]
#[repr(C)]
pub struct Admission {
    /// Per criticality; `u32::MAX` when the class is never refused so.
    pub shed_in_flight: [u32; 3],
    pub priority_queue: bool,
    /// Per criticality (`Criticality::index`).
    pub shed_queue_time: [Option<Nanos>; 3],
    pub rate_limit: Option<RateLimitConfig>,
    pub concurrency_limit: Option<ConcurrencyLimitConfig>,
}

impl Default for Admission {
    fn default() -> Self {
        Admission {
            rate_limit: None,
            shed_queue_time: [None; 3],
            concurrency_limit: None,
            priority_queue: false,
            shed_in_flight: [u32::MAX; 3],
        }
    }
}

impl Admission {
    /// Whether any rule of this admission looks at criticality.
    pub fn uses_classes(&self) -> bool {
        self.priority_queue
            || self.shed_in_flight != [u32::MAX; 3]
            || self
                .shed_queue_time
                .iter()
                .any(|t| *t != self.shed_queue_time[0])
    }
}

impl AdmissionFile {
    pub fn validate(&self) -> Result<Admission, FieldError> {
        Ok(Admission {
            rate_limit: opt("rate_limit", &self.rate_limit, RateLimitFile::validate)?,
            shed_queue_time: match &self.shed_queue_time {
                None => [None; 3],
                Some(f) => shed_times("shed_queue_time", f)?,
            },
            priority_queue: self.priority_queue.unwrap_or(false),
            shed_in_flight: match &self.shed_in_flight {
                None => [u32::MAX; 3],
                Some(per) => shed_in_flight("shed_in_flight", per)?,
            },
            concurrency_limit: opt(
                "concurrency_limit",
                &self.concurrency_limit,
                ConcurrencyLimitFile::validate,
            )?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::patterns::{Backoff, Jitter};
    use crate::time::{NS_PER_MS, NS_PER_S};

    fn parse(text: &str) -> CallPolicyFile {
        toml_edit::de::from_str(text).unwrap()
    }

    /// The example of the module docs and the final report.
    const EXAMPLE: &str = r#"
        order = ["fallback", "retry", "breaker", "timeout", "bulkhead"]
        deadline = "2s"
        retry = { max_attempts = 4, retry_on = ["timeout", "rejected"], backoff = "exponential", initial_interval = "25ms", max_interval = "1s", jitter = "full", budget = { ratio = 0.1 } }
        breaker = { sliding_window_size = 50, minimum_number_of_calls = 20, failure_rate_threshold = 50, wait_duration_in_open_state = "5s" }
        bulkhead = { max_concurrent_calls = 32, max_wait_duration = "10ms" }
        fallback = { latency = "1ms" }
    "#;

    #[test]
    fn the_example_call_step_validates() {
        let p = parse(EXAMPLE).validate().unwrap();
        assert_eq!(
            p.order,
            [
                Layer::Fallback,
                Layer::Retry,
                Layer::Breaker,
                Layer::Timeout,
                Layer::Bulkhead
            ]
        );
        assert!(
            p.wraps(Layer::Retry, Layer::Breaker),
            "the breaker counts every attempt"
        );
        let r = p.retry.unwrap();
        assert_eq!(r.max_attempts, 4);
        assert_eq!(r.backoff, Backoff::Exponential);
        assert_eq!(r.jitter, Jitter::Full);
        assert_eq!(r.budget.unwrap().cost, 10_000);
        assert_eq!(p.breaker.unwrap().sliding_window_size, 50);
        assert_eq!(p.bulkhead.unwrap().max_wait_duration, 10 * NS_PER_MS);
        assert_eq!(p.fallback.unwrap().latency, NS_PER_MS);
        assert_eq!(p.deadline, Some(2 * NS_PER_S));
        assert!(p.hedge.is_none() && p.rate_limit.is_none());
    }

    #[test]
    fn the_default_order_is_resilience4j_s() {
        let p = parse(
            r#"
            bulkhead = {}
            breaker = {}
            retry = {}
            fallback = true
            "#,
        )
        .validate()
        .unwrap();
        assert_eq!(
            p.order,
            [
                Layer::Fallback,
                Layer::Retry,
                Layer::Breaker,
                Layer::Timeout,
                Layer::Bulkhead
            ]
        );
        assert_eq!(p.fallback.unwrap().on, FailureSet::ALL);
        // Nothing configured: just the timeout.
        let p = parse("").validate().unwrap();
        assert_eq!(p.order, [Layer::Timeout]);
        assert_eq!(parse("fallback = false").validate().unwrap().fallback, None);
    }

    #[test]
    fn a_given_order_puts_an_unlisted_timeout_innermost() {
        let p = parse(
            r#"
            order = ["breaker", "retry", "bulkhead"]
            retry = {}
            breaker = {}
            bulkhead = {}
            "#,
        )
        .validate()
        .unwrap();
        assert_eq!(
            p.order,
            [
                Layer::Breaker,
                Layer::Retry,
                Layer::Bulkhead,
                Layer::Timeout
            ]
        );
        assert!(p.wraps(Layer::Breaker, Layer::Retry));
        assert!(!p.wraps(Layer::Retry, Layer::Breaker));
    }

    #[test]
    fn order_errors_say_what_is_wrong() {
        let e = parse("order = [\"retry\", \"retry\"]\nretry = {}")
            .validate()
            .unwrap_err();
        assert_eq!(e.0, "order");
        assert!(e.1.contains("twice"), "{}", e.1);
        let e = parse("order = [\"retry\", \"hedge\"]\nretry = {}")
            .validate()
            .unwrap_err();
        assert!(
            e.1.contains("`hedge`, which this call does not configure"),
            "{}",
            e.1
        );
        let e = parse("order = [\"retry\"]\nretry = {}\nbreaker = {}")
            .validate()
            .unwrap_err();
        assert!(e.1.contains("leaves out `breaker`"), "{}", e.1);
        let e = toml_edit::de::from_str::<CallPolicyFile>("order = [\"retries\"]").unwrap_err();
        assert!(e.to_string().contains("unknown variant `retries`"), "{e}");
    }

    #[test]
    fn nested_errors_carry_the_table_name() {
        let field = |t: &str| parse(t).validate().unwrap_err().0;
        assert_eq!(field("retry = { max_attempts = 0 }"), "retry.max_attempts");
        assert_eq!(
            field("retry = { budget = { ttl = \"0\" } }"),
            "retry.budget.ttl"
        );
        assert_eq!(
            field("breaker = { failure_rate_threshold = 0.5e3 }"),
            "breaker.failure_rate_threshold"
        );
        assert_eq!(
            field("bulkhead = { max_concurrent_calls = 0 }"),
            "bulkhead.max_concurrent_calls"
        );
        assert_eq!(field("hedge = { max_attempts = 9 }"), "hedge.max_attempts");
        assert_eq!(field("rate_limit = { rate = 0 }"), "rate_limit.rate");
        assert_eq!(
            field("fallback = { latency = \"fast\" }"),
            "fallback.latency"
        );
        assert_eq!(field("deadline = \"0\""), "deadline");
        let e = toml_edit::de::from_str::<CallPolicyFile>(
            "fallback = { latency = \"1ms\", delay = 1 }",
        )
        .unwrap_err();
        assert!(e.to_string().contains("unknown field `delay`"), "{e}");
        let e = toml_edit::de::from_str::<CallPolicyFile>("fallback = 3").unwrap_err();
        assert!(e.to_string().contains("true, false or a table"), "{e}");
    }

    #[test]
    fn admission_validates_each_part() {
        let a: AdmissionFile = toml_edit::de::from_str(
            r#"
            rate_limit = { rate = 100, burst = 20 }
            shed_queue_time = "200ms"
            concurrency_limit = { algorithm = "aimd", min_limit = 5, backoff_ratio = 0.5 }
            "#,
        )
        .unwrap();
        let a = a.validate().unwrap();
        assert_eq!(a.rate_limit.unwrap().burst, 20);
        assert_eq!(a.shed_queue_time, [Some(200 * NS_PER_MS); 3]);
        assert_eq!(a.concurrency_limit.unwrap().min_limit, 5);
        let bad: AdmissionFile = toml_edit::de::from_str(
            "concurrency_limit = { algorithm = \"gradient2\", timeout = \"1s\" }",
        )
        .unwrap();
        assert_eq!(bad.validate().unwrap_err().0, "concurrency_limit.timeout");
        let bad: AdmissionFile = toml_edit::de::from_str("shed_queue_time = \"0\"").unwrap();
        assert_eq!(bad.validate().unwrap_err().0, "shed_queue_time");
    }

    #[test]
    fn the_schema_documents_every_field() {
        let schema = serde_json::to_value(schemars::schema_for!(CallPolicyFile)).unwrap();
        let text = schema.to_string();
        for needle in [
            "failure_rate_threshold",
            "Failure rate, in percent, at which the breaker opens",
            "decorrelated",
            "circuit_open",
            "Retries allowed per first attempt",
            "outermost first",
        ] {
            assert!(text.contains(needle), "schema lacks {needle}");
        }
        let schema = serde_json::to_value(schemars::schema_for!(AdmissionFile)).unwrap();
        assert!(schema.to_string().contains("gradient2"));
    }
}
