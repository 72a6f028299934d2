//! The batching lines under the logs tables: per log with batching
//! publishes, its producer batches; per group with a `batch_cost`, its
//! poll batches. Nothing for a run without either.

use sim_core::output::Summary;

pub fn render(s: &Summary) -> String {
    let mut out = String::new();
    for (l, log) in &s.logs {
        if let Some(pb) = &log.producer_batches {
            out.push_str(&format!(
                "batching: {l}: {} producer batches, {:.2} records each{}\n",
                pb.batches,
                pb.records_per_batch_mean,
                if pb.failed_records > 0 {
                    format!(" ({} records failed with the broker)", pb.failed_records)
                } else {
                    String::new()
                }
            ));
        }
        for (g, gs) in &log.groups {
            if let Some(b) = &gs.poll_batches {
                out.push_str(&format!(
                    "batching: {g}: {} poll batches, {:.2} records each, {:.1} s of batch cost\n",
                    b.batches, b.records_per_batch_mean, b.cost_s
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use sim_core::output::{GroupSummary, LogSummary, PollBatchSummary, ProducerBatchSummary};

    #[test]
    fn a_line_per_batching_log_and_group_and_none_without() {
        let mut s: Summary = serde_json::from_str(
            r#"{"scenario":"t","seed":1,"version":"0","scenario_hash":"0","overrides":[],
                "sim_duration_s":1,"warmup_s":0,"end_time_s":1,"events":0,"entries":{},
                "services":{},"edges":{},"faults":[]}"#,
        )
        .expect("a minimal summary");
        s.logs.insert("plain".into(), LogSummary::default());
        assert!(render(&s).is_empty());
        let mut log = LogSummary {
            producer_batches: Some(ProducerBatchSummary {
                batches: 10,
                records: 25,
                records_per_batch_mean: 2.5,
                failed_records: 0,
            }),
            ..LogSummary::default()
        };
        log.groups.insert(
            "billing".into(),
            GroupSummary {
                poll_batches: Some(PollBatchSummary {
                    batches: 5,
                    records: 25,
                    records_per_batch_mean: 5.0,
                    cost_s: 0.25,
                }),
                ..GroupSummary::default()
            },
        );
        s.logs.insert("orders".into(), log);
        let out = render(&s);
        assert_eq!(
            out,
            "batching: orders: 10 producer batches, 2.50 records each\n\
             batching: billing: 5 poll batches, 5.00 records each, 0.2 s of batch cost\n"
        );
    }
}
