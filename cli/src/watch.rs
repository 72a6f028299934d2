//! Stopping and following long work: Ctrl-C (SIGINT), SIGTERM and
//! `--max-wall` request a stop of every run in flight, through one
//! [`StopSignal`] the engine reads at its periodic check; stopped runs end
//! with their summaries marked partial (exit 4, see `docs/errors.md`). A
//! second Ctrl-C quits at once (exit 130): output directories are
//! transactions (`outdir.rs`), so even that leaves the previous results.
//!
//! Also the progress line of one run (simulated time, events, ETA), fed by
//! the engine's [`Progress`] gauge.
//!
//! Must not decide what a stopped command writes: commands do, asking
//! [`stopped`] whether a stop was requested.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use sim_core::time::Nanos;
use sim_core::{Progress, StopSignal, Watch};

use crate::{Failure, term};

static STOP: OnceLock<Arc<StopSignal>> = OnceLock::new();

/// The process's stop signal (requested by a signal or `--max-wall`).
fn signal() -> &'static Arc<StopSignal> {
    STOP.get_or_init(|| Arc::new(StopSignal::default()))
}

/// Whether a stop was requested: commands then start no new run.
pub fn stopped() -> bool {
    STOP.get().is_some_and(|s| s.requested())
}

/// Why, when [`stopped`].
pub fn reason() -> String {
    STOP.get()
        .map(|s| s.reason().to_owned())
        .unwrap_or_default()
}

/// Makes this command stoppable: Ctrl-C and SIGTERM request a stop (a
/// second one quits at once), and so does `max_wall` once that much wall
/// time has passed. Returns the watch to give every run.
pub fn arm(max_wall: Option<Duration>, max_wall_text: Option<&str>) -> Result<Watch, Failure> {
    static INSTALLED: AtomicBool = AtomicBool::new(false);
    if !INSTALLED.swap(true, Ordering::SeqCst) {
        static SIGNALS: AtomicU32 = AtomicU32::new(0);
        // ctrlc runs this on its own thread, not in the signal handler, so
        // it may print and allocate.
        ctrlc::set_handler(|| {
            if SIGNALS.fetch_add(1, Ordering::SeqCst) > 0 {
                term::error("interrupted again: quitting at once");
                std::process::exit(130);
            }
            term::error(
                "interrupted: stopping the runs in flight (press Ctrl-C again to quit at once)",
            );
            signal().request("interrupted (Ctrl-C or SIGTERM)");
        })
        .map_err(|e| Failure::Io(format!("cannot handle Ctrl-C: {e}")))?;
    }
    if let Some(wall) = max_wall {
        let text = max_wall_text.unwrap_or_default().to_owned();
        std::thread::spawn(move || {
            std::thread::sleep(wall);
            signal().request(format!("the wall-clock budget --max-wall {text} ran out"));
        });
    }
    Ok(Watch {
        stop: Some(signal().clone()),
        progress: None,
    })
}

/// A progress line for one run of `total` simulated ns, drawn (on a
/// terminal, after a second) until [`Following::done`].
pub struct Following {
    done: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// Adds a progress gauge to `watch` and follows it on stderr, the line
/// starting with `label` (if not empty).
pub fn follow(watch: &mut Watch, label: &str, total: Nanos) -> Following {
    let progress = Arc::new(Progress::default());
    watch.progress = Some(progress.clone());
    let done = Arc::new(AtomicBool::new(false));
    // The bar starts hidden and shows itself after a second: ask whether
    // it may show at all.
    if !term::progress_allowed() {
        return Following { done, thread: None };
    }
    let bar = term::sim_progress(total);
    let label = label.to_owned();
    let finished = done.clone();
    let thread = std::thread::spawn(move || {
        let total_s = total as f64 / 1e9;
        let label = if label.is_empty() {
            String::new()
        } else {
            format!("{label}: ")
        };
        while !finished.load(Ordering::Relaxed) {
            let now = progress.now();
            bar.set_position(now / 1_000_000);
            bar.set_message(format!(
                "{label}{:.0}/{total_s:.0} s simulated, {} events",
                now as f64 / 1e9,
                reports::numbers::short(progress.events() as f64)
            ));
            std::thread::sleep(Duration::from_millis(100));
        }
        bar.finish_and_clear();
    });
    Following {
        done,
        thread: Some(thread),
    }
}

impl Following {
    /// Clears the line (before the results are printed).
    pub fn done(mut self) {
        self.done.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The failure of a command whose results need every run (`compare`, and
/// `blast` before its baseline ended) when it was stopped: nothing new is written (its `--out`
/// directory keeps what it held: see `outdir.rs`), and it says how many
/// runs had finished and how to go on.
pub fn stopped_midway(command: &str, finished: usize, total: usize) -> Failure {
    Failure::Partial(format!(
        "{command} was stopped: {}; {finished} of its {total} runs had finished. Its \
         results need every run, so nothing was written (an --out directory keeps what \
         it held). There is nothing to resume: run the command again, with a larger \
         --max-wall or fewer runs",
        reason()
    ))
}
