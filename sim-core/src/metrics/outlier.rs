//! Outlier ejection over time: per service with `outlier_detection`, the
//! replicas its balancer has ejected, as a time-weighted mean per window
//! (the series `ejected` of scope `service`), so an ejection that
//! overloads the replicas left shows beside their saturation.
//!
//! Kept only for services that declare outlier detection (no column
//! otherwise). Owns this series; must not decide ejections (that is the
//! engine's `outlier`) nor change simulated state. The summary's totals
//! (`services.NAME.outlier`) are the engine's.

use super::TimeWeighted;
use super::series::SeriesWriter;
use crate::model::Model;
use crate::time::Nanos;

/// The series of a service with outlier detection.
pub const OUTLIER_METRICS: &[&str] = &["ejected"];

pub struct EjectionStats {
    ejected: TimeWeighted,
    slot: u32,
}

impl EjectionStats {
    /// The count of replicas ejected became `count` at `now`.
    pub fn set(&mut self, now: Nanos, count: u32) {
        let delta = i64::from(count) - self.ejected.value as i64;
        self.ejected.add(now, delta);
    }

    pub fn close_window(&mut self, series: &mut SeriesWriter, now: Nanos, len: Nanos) {
        let (mean, _) = self.ejected.close_window(now, len);
        series.put_at(self.slot, &[mean]);
    }
}

/// One per service (`None` without `outlier_detection`); empty when no
/// service declares it.
pub fn for_model(m: &Model, series: &mut SeriesWriter) -> Vec<Option<Box<EjectionStats>>> {
    if m.services.iter().all(|s| s.outlier.is_none()) {
        return Vec::new();
    }
    m.services
        .iter()
        .map(|s| {
            s.outlier.map(|_| {
                Box::new(EjectionStats {
                    ejected: TimeWeighted::default(),
                    slot: series.add_series("service", &s.name, OUTLIER_METRICS),
                })
            })
        })
        .collect()
}
