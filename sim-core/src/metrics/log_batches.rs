//! Batching figures of partitioned logs: per log, the producer batches
//! sent and the records they carried; per consumer group with a
//! `batch_cost`, the poll batches that paid it.
//!
//! Owns the counting; must not decide when a batch is sent or paid for
//! (the engine's `log_batch.rs` does and tells it).

use crate::model::Group;
use crate::output::{PollBatchSummary, ProducerBatchSummary};
use crate::time::{Nanos, secs};

/// Producer batches sent to one log.
#[derive(Clone, Debug, Default)]
pub struct ProducerBatchStats {
    pub batches: u64,
    pub records: u64,
    pub failed_records: u64,
}

impl ProducerBatchStats {
    /// A batch left its producer: `appended` records reached the log,
    /// `failed` met a broker outage.
    pub fn sent(&mut self, appended: u64, failed: u64) {
        self.batches += 1;
        self.records += appended;
        self.failed_records += failed;
    }

    /// None for a log no batching publish writes to.
    pub fn summary(&self) -> Option<ProducerBatchSummary> {
        (self.batches > 0).then(|| ProducerBatchSummary {
            batches: self.batches,
            records: self.records,
            records_per_batch_mean: (self.records + self.failed_records) as f64
                / self.batches as f64,
            failed_records: self.failed_records,
        })
    }
}

/// Poll batches of one group that paid its `batch_cost`.
#[derive(Clone, Debug, Default)]
pub struct PollBatchStats {
    pub batches: u64,
    pub records: u64,
    pub cost_ns: Nanos,
}

impl PollBatchStats {
    pub fn paid(&mut self, records: u64, cost: Nanos) {
        self.batches += 1;
        self.records += records;
        self.cost_ns += cost;
    }

    /// None for a group without a `batch_cost`.
    pub fn summary(&self, g: &Group) -> Option<PollBatchSummary> {
        g.batch_cost.map(|_| PollBatchSummary {
            batches: self.batches,
            records: self.records,
            records_per_batch_mean: if self.batches == 0 {
                0.0
            } else {
                self.records as f64 / self.batches as f64
            },
            cost_s: secs(self.cost_ns),
        })
    }
}
