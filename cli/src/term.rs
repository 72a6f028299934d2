//! Everything the binary prints goes through here: data to stdout, notes,
//! errors and progress to stderr, and the decisions that depend on the
//! terminal (`--quiet`, `NO_COLOR`, `TERM=dumb`, whether stderr is a
//! terminal).
//!
//! Owns the rule that a closed or full stream never panics: `print!` and
//! `eprintln!` panic when a write fails (and release builds abort on a
//! panic), so nothing in the binary uses them. Stdout writes return a
//! [`Failure`]: a closed pipe (EPIPE) is [`Failure::Closed`], which `main`
//! turns into a quiet exit 0 as `head` expects of Unix tools; any other
//! error (ENOSPC on /dev/full) is an I/O failure (exit 1). Stderr writes
//! ignore errors: a message nobody can read is not worth failing a run.
//!
//! Must not decide what is printed, only how and whether.

use std::io::{self, IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::Failure;

static QUIET: AtomicBool = AtomicBool::new(false);

/// `--quiet`: from now on only errors and asked-for data are printed.
pub fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

pub fn quiet() -> bool {
    QUIET.load(Ordering::Relaxed)
}

/// A failed write to stdout as the failure it means.
pub fn stdout_failure(e: &io::Error) -> Failure {
    if e.kind() == io::ErrorKind::BrokenPipe {
        Failure::Closed
    } else {
        Failure::Io(format!("cannot write to standard output: {e}"))
    }
}

/// Writes data to stdout and flushes it: printed whatever `--quiet` says
/// (the user asked for it: `--json`, `--list`, `schema`, …).
pub fn data(text: &str) -> Result<(), Failure> {
    with_stdout(|w| w.write_all(text.as_bytes()))
}

/// Writes a human-readable result to stdout (tables, "wrote …" lines);
/// nothing under `--quiet`.
pub fn out(text: &str) -> Result<(), Failure> {
    if quiet() {
        return Ok(());
    }
    data(text)
}

/// Streams data to stdout through a buffer, flushed at the end; for
/// output too large to build as one string (a sweep's `--list`).
pub fn with_stdout(write: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> Result<(), Failure> {
    let stdout = io::stdout();
    let mut w = io::BufWriter::new(stdout.lock());
    write(&mut w)
        .and_then(|()| w.flush())
        .map_err(|e| stdout_failure(&e))
}

/// A note on stderr (what a command is about to do, what it wrote);
/// nothing under `--quiet`; a write error is ignored.
pub fn note(text: &str) {
    if !quiet() {
        to_stderr(text);
    }
}

/// An error message on stderr, whatever `--quiet` says; a write error is
/// ignored (the exit code still tells).
pub fn error(text: &str) {
    to_stderr(text);
}

fn to_stderr(text: &str) {
    let mut e = io::stderr().lock();
    let _ = e.write_all(text.as_bytes());
    if !text.ends_with('\n') {
        let _ = e.write_all(b"\n");
    }
    let _ = e.flush();
}

/// Whether `TERM=dumb`: a terminal that can move no cursor and show no
/// colour.
fn dumb_terminal() -> bool {
    std::env::var_os("TERM").is_some_and(|t| t == "dumb")
}

/// Colour on stderr: only on a terminal, and never with `NO_COLOR` (any
/// value, see no-color.org) or `TERM=dumb`.
pub fn colour_on_stderr() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        && !dumb_terminal()
        && io::stderr().is_terminal()
}

/// Whether progress may be drawn: stderr is a terminal that can redraw a
/// line, and `--quiet` is off. Never in tests or CI, whose stderr is a
/// pipe or a file.
pub fn progress_allowed() -> bool {
    !quiet() && !dumb_terminal() && io::stderr().is_terminal()
}

/// A progress bar of `len` runs on stderr, or a hidden one (which still
/// counts) when progress is not allowed. It appears only once the work has
/// taken a second: short commands print no bar at all.
pub fn progress(len: u64, what: &str) -> ProgressBar {
    delayed_bar(
        len,
        40,
        &format!("{{pos}}/{{len}} {what}  {{per_sec}}  elapsed {{elapsed}}  ETA {{eta}}"),
    )
}

/// A progress bar of one run's simulated time (`total` ns; its position
/// is in ms), hidden as [`progress`] is; its message says what the
/// position means.
pub fn sim_progress(total: u64) -> ProgressBar {
    // Narrower than a runs bar: the line fits 80 columns.
    delayed_bar(
        (total / 1_000_000).max(1),
        16,
        "{msg}  elapsed {elapsed}  ETA {eta}",
    )
}

/// A bar of `len` drawn with `template` after a bar-graph `width` wide, on
/// stderr once a second has passed (hidden when progress is not allowed).
fn delayed_bar(len: u64, width: usize, template: &str) -> ProgressBar {
    if !progress_allowed() {
        return ProgressBar::hidden();
    }
    let bar = if colour_on_stderr() {
        format!("{{bar:{width}.cyan/blue}}")
    } else {
        format!("{{bar:{width}}}")
    };
    let pb = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::hidden());
    pb.set_style(
        ProgressStyle::with_template(&format!("{bar} {template}"))
            .expect("valid template")
            .progress_chars("=> "),
    );
    let shown = pb.clone();
    // Drawn from a timer thread once a second has passed: a bar that
    // flashes for a fast command is noise.
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(1));
        if !shown.is_finished() {
            shown.set_draw_target(ProgressDrawTarget::stderr());
            shown.tick();
        }
    });
    pb
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_closed_pipe_is_not_an_error_but_a_full_disk_is() {
        let pipe = io::Error::from(io::ErrorKind::BrokenPipe);
        assert!(matches!(stdout_failure(&pipe), Failure::Closed));
        let full = io::Error::from_raw_os_error(28); // ENOSPC
        assert!(matches!(
            stdout_failure(&full),
            Failure::Io(m) if m.starts_with("cannot write to standard output:")
        ));
    }

    #[test]
    fn progress_is_hidden_off_a_terminal() {
        // Test harnesses capture stderr: never a terminal here.
        if !io::stderr().is_terminal() {
            assert!(progress(10, "runs").is_hidden());
        }
    }
}
