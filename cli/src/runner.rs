//! Independent jobs run in parallel on `--jobs` threads, their results
//! returned in index order: the one parallel loop of `sweep`, `compare`
//! and `blast`.
//!
//! A job's result lands at its own index whatever thread ran it and
//! whenever it finished, so what a command prints or writes from the
//! results does not depend on the thread count. Must not fold results
//! (a float sum across threads would depend on the order jobs finish):
//! callers fold the returned `Vec` sequentially.

use indicatif::ProgressBar;
use rayon::prelude::*;

use crate::Failure;

/// A pool of `threads` workers.
pub struct Runner {
    pool: rayon::ThreadPool,
    threads: usize,
}

impl Runner {
    /// A runner of `threads` workers (at least 1: see `args::Jobs`).
    pub fn new(threads: usize) -> Result<Runner, Failure> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads.max(1))
            .build()
            .map_err(|e| Failure::Io(format!("cannot start {threads} threads: {e}")))?;
        Ok(Runner { pool, threads })
    }

    /// How many of `jobs` jobs run at once.
    pub fn busy(&self, jobs: usize) -> usize {
        self.threads.min(jobs).max(1)
    }

    /// `f` of every item, on the pool; `out[i] = f(&items[i])`.
    pub fn map<T, R>(&self, items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R>
    where
        T: Sync,
        R: Send,
    {
        self.pool.install(|| items.par_iter().map(&f).collect())
    }

    /// As `map`, with a progress bar of `what` on stderr advanced as each
    /// job finishes (drawn only on a terminal, after a second: see
    /// `term::progress`), cleared at the end.
    pub fn map_showing<T, R>(&self, items: &[T], what: &str, f: impl Fn(&T) -> R + Sync) -> Vec<R>
    where
        T: Sync,
        R: Send,
    {
        let progress = crate::term::progress(items.len() as u64, what);
        let out = self.map_with_progress(items, &progress, f);
        progress.finish_and_clear();
        out
    }

    /// As `map`, advancing `progress` as each job finishes.
    pub fn map_with_progress<T, R>(
        &self,
        items: &[T],
        progress: &ProgressBar,
        f: impl Fn(&T) -> R + Sync,
    ) -> Vec<R>
    where
        T: Sync,
        R: Send,
    {
        self.map(items, |item| {
            let r = f(item);
            progress.inc(1);
            r
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Condvar, Mutex};
    use std::time::Duration;

    #[test]
    fn results_come_in_index_order_whatever_finishes_first() {
        // Job 0 waits until job 1 has finished: job 1 always finishes first.
        let done = (Mutex::new(false), Condvar::new());
        let finished = Mutex::new(Vec::new());
        let runner = Runner::new(2).unwrap_or_else(|_| panic!("2 threads"));
        let out = runner.map(&[0u32, 1], |&i| {
            let (flag, cv) = &done;
            if i == 0 {
                let (flag, timeout) = cv
                    .wait_timeout_while(flag.lock().unwrap(), Duration::from_secs(20), |d| !*d)
                    .unwrap();
                assert!(
                    *flag && !timeout.timed_out(),
                    "job 1 never ran beside job 0"
                );
                finished.lock().unwrap().push(i);
            } else {
                // Recorded before job 0 is woken, so the order is sure.
                finished.lock().unwrap().push(i);
                *flag.lock().unwrap() = true;
                cv.notify_all();
            }
            format!("result {i}")
        });
        assert_eq!(finished.into_inner().unwrap(), [1, 0]);
        assert_eq!(out, ["result 0", "result 1"]);
    }

    #[test]
    fn one_thread_and_many_agree_and_progress_counts_every_job() {
        let items: Vec<String> = (0..50).map(|i| format!("job {i}")).collect();
        let one = Runner::new(1).unwrap_or_else(|_| panic!("1 thread"));
        let many = Runner::new(3).unwrap_or_else(|_| panic!("3 threads"));
        let pb = ProgressBar::hidden();
        let a = one.map(&items, |s| s.len());
        let b = many.map_with_progress(&items, &pb, |s| s.len());
        assert_eq!(a, b);
        assert_eq!(pb.position(), 50);
        assert_eq!((many.busy(2), many.busy(10), many.busy(0)), (2, 3, 1));
    }
}
