//! Request criticality and the admission rules that use it: a source tags
//! its requests `critical`, `default` or `sheddable` (calls inherit the
//! tag of the request they serve, as gRPC's criticality propagates), and a
//! service's admission may serve its accept queue by class and shed the
//! lowest classes first.
//!
//! Owns the classes, their order and the per-class settings as written and
//! as validated; must not hold queues (the engine's `accept` does).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{FieldError, err, positive_duration};
use crate::time::Nanos;

/// How important a request is; lower sorts first (served first, shed
/// last).
#[derive(
    Deserialize, Serialize, JsonSchema, Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord,
)]
#[serde(rename_all = "snake_case")]
#[repr(u8)]
pub enum Criticality {
    Critical = 0,
    #[default]
    Default = 1,
    Sheddable = 2,
}

impl Criticality {
    /// Every class, most important first.
    pub const ALL: [Criticality; 3] = [
        Criticality::Critical,
        Criticality::Default,
        Criticality::Sheddable,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Criticality::Critical => "critical",
            Criticality::Default => "default",
            Criticality::Sheddable => "sheddable",
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }
}

/// A setting given per class, as written: `{ sheddable = …, default = … }`.
#[derive(Deserialize, Serialize, JsonSchema, Debug, Clone, Default)]
#[serde(deny_unknown_fields)]
pub struct PerClassFile<T> {
    #[serde(default)]
    pub critical: Option<T>,
    #[serde(default)]
    pub default: Option<T>,
    #[serde(default)]
    pub sheddable: Option<T>,
}

impl<T> PerClassFile<T> {
    fn by_class(&self) -> [(Criticality, &Option<T>); 3] {
        [
            (Criticality::Critical, &self.critical),
            (Criticality::Default, &self.default),
            (Criticality::Sheddable, &self.sheddable),
        ]
    }
}

/// `shed_queue_time` as written: one duration for every class, or one per
/// class.
#[derive(Deserialize, Serialize, JsonSchema, Debug, Clone)]
#[serde(untagged)]
pub enum ShedTimeFile {
    All(String),
    PerClass(PerClassFile<String>),
}

/// The longest each class may wait in the accept queue (`None`: no limit).
pub fn shed_times(field: &str, file: &ShedTimeFile) -> Result<[Option<Nanos>; 3], FieldError> {
    match file {
        ShedTimeFile::All(text) => {
            let d = positive_duration(field, Some(text), 0)?;
            Ok([Some(d); 3])
        }
        ShedTimeFile::PerClass(per) => {
            let mut out = [None; 3];
            for (class, text) in per.by_class() {
                if let Some(text) = text {
                    let key = format!("{field}.{}", class.name());
                    out[class.index()] = Some(positive_duration(&key, Some(text), 0)?);
                }
            }
            ordered(field, &out, |a, b| a >= b)?;
            Ok(out)
        }
    }
}

/// Per class, the requests in flight (busy + queued) at a replica from
/// which that class is refused at the door (`u32::MAX`: never).
pub fn shed_in_flight(field: &str, per: &PerClassFile<u32>) -> Result<[u32; 3], FieldError> {
    let mut out = [u32::MAX; 3];
    for (class, n) in per.by_class() {
        if let Some(n) = *n {
            if n == 0 {
                return err(
                    &format!("{field}.{}", class.name()),
                    "must be at least 1 (0 would refuse every request of the class)",
                );
            }
            out[class.index()] = n;
        }
    }
    let set: [Option<u32>; 3] = out.map(|n| (n != u32::MAX).then_some(n));
    ordered(field, &set, |a, b| a >= b)?;
    Ok(out)
}

/// A more important class must not be shed before a less important one:
/// where both are given, `keeps_order(more, less)` must hold.
fn ordered<T: Copy + std::fmt::Debug>(
    field: &str,
    per: &[Option<T>; 3],
    keeps_order: impl Fn(T, T) -> bool,
) -> Result<(), FieldError> {
    for more in 0..3 {
        for less in more + 1..3 {
            if let (Some(a), Some(b)) = (per[more], per[less])
                && !keeps_order(a, b)
            {
                return err(
                    &format!("{field}.{}", Criticality::ALL[more].name()),
                    format!(
                        "a {} request would be shed before a {} one: give the more important class the larger limit",
                        Criticality::ALL[more].name(),
                        Criticality::ALL[less].name()
                    ),
                );
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::NS_PER_MS;

    #[test]
    fn classes_sort_by_importance() {
        assert!(Criticality::Critical < Criticality::Default);
        assert!(Criticality::Default < Criticality::Sheddable);
        assert_eq!(Criticality::default(), Criticality::Default);
    }

    #[test]
    fn one_time_applies_to_every_class() {
        let t = shed_times("shed_queue_time", &ShedTimeFile::All("20ms".into())).unwrap();
        assert_eq!(t, [Some(20 * NS_PER_MS); 3]);
    }

    #[test]
    fn per_class_times_must_shed_the_less_important_first() {
        let ok = PerClassFile {
            critical: None,
            default: Some("200ms".to_string()),
            sheddable: Some("20ms".to_string()),
        };
        let t = shed_times("s", &ShedTimeFile::PerClass(ok)).unwrap();
        assert_eq!(t, [None, Some(200 * NS_PER_MS), Some(20 * NS_PER_MS)]);
        let bad = PerClassFile {
            critical: Some("10ms".to_string()),
            default: None,
            sheddable: Some("20ms".to_string()),
        };
        let e = shed_times("s", &ShedTimeFile::PerClass(bad)).unwrap_err();
        assert_eq!(e.0, "s.critical");
    }

    #[test]
    fn in_flight_limits_are_positive_and_ordered() {
        let per = PerClassFile {
            critical: None,
            default: Some(80),
            sheddable: Some(40),
        };
        assert_eq!(shed_in_flight("x", &per).unwrap(), [u32::MAX, 80, 40]);
        let zero = PerClassFile {
            critical: None,
            default: None,
            sheddable: Some(0),
        };
        assert_eq!(shed_in_flight("x", &zero).unwrap_err().0, "x.sheddable");
        let reversed = PerClassFile {
            critical: None,
            default: Some(10),
            sheddable: Some(40),
        };
        assert!(shed_in_flight("x", &reversed).is_err());
    }
}
