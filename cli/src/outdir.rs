//! `--out` directories: one run's files at a time, never two runs mixed,
//! never a file cascade did not write touched.
//!
//! A command claims its directory ([`OutDir::claim`]) before writing and
//! finishes it ([`OutDir::finish`]) with the list of files it wrote. The
//! claim takes a lock file holding the claimant's PID (refused while that
//! process lives; a lock whose process is gone is taken over) and reads
//! the manifest an earlier run left. Finishing removes the files that
//! manifest lists and this run did not write, then writes the new manifest
//! last. A non-empty directory without a manifest is accepted only when
//! every entry in it has a name cascade writes, next to one of its
//! results: anything else may be someone's work, so it is refused.
//!
//! Shards of one sweep may share a directory and run at once: they check
//! the directory ([`check_shared`]) but take no lock and keep no manifest.
//!
//! Must not delete anything a manifest does not list, nor anything outside
//! the directory.

use std::collections::BTreeSet;
use std::path::{Component, Path, PathBuf};

use crate::Failure;

/// The list of files the last finished run wrote, one relative path a line.
pub const MANIFEST: &str = ".cascade-manifest";
/// Held while a command writes: the holder's PID.
pub const LOCK: &str = ".cascade-lock";
const MANIFEST_HEADER: &str = "# cascade output manifest v1: files the last run wrote here";

/// A claimed output directory.
pub struct OutDir {
    dir: PathBuf,
    previous: Vec<String>,
}

impl OutDir {
    /// Creates `dir` if needed, checks it is ours, and locks it.
    pub fn claim(dir: &Path) -> Result<OutDir, Failure> {
        create(dir)?;
        lock(dir)?;
        // Held from here: dropped on an error below, it releases the lock.
        let mut claimed = OutDir {
            dir: dir.to_path_buf(),
            previous: Vec::new(),
        };
        claimed.previous = match read_manifest(dir)? {
            Some(list) => list,
            None => {
                check_ours(dir)?;
                Vec::new()
            }
        };
        Ok(claimed)
    }

    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Removes what the previous run wrote and this one did not, then
    /// writes the manifest of `written` (paths inside the directory) and
    /// releases the lock.
    pub fn finish(self, written: &[PathBuf]) -> Result<(), Failure> {
        let now: BTreeSet<String> = written.iter().filter_map(|p| self.relative(p)).collect();
        let mut emptied = BTreeSet::new();
        for old in &self.previous {
            if now.contains(old) || !is_plain_relative(old) {
                continue;
            }
            let path = self.dir.join(old);
            match std::fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    return Err(Failure::Io(format!(
                        "cannot remove {} (left by an earlier run): {e}",
                        path.display()
                    )));
                }
            }
            if let Some(parent) = Path::new(old)
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
            {
                emptied.insert(parent.to_path_buf());
            }
        }
        for d in emptied {
            // Only if nothing else is left in it.
            let _ = std::fs::remove_dir(self.dir.join(d));
        }
        let mut text = String::from(MANIFEST_HEADER);
        text.push('\n');
        for name in &now {
            text.push_str(name);
            text.push('\n');
        }
        let path = self.dir.join(MANIFEST);
        reports::atomic_write(&path, text.as_bytes())
            .map_err(|e| Failure::Io(format!("cannot write {}: {e}", path.display())))
    }

    /// `p` relative to the directory, with `/` separators.
    fn relative(&self, p: &Path) -> Option<String> {
        let rel = p.strip_prefix(&self.dir).unwrap_or(p);
        let parts: Vec<String> = rel
            .components()
            .map(|c| match c {
                Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
                _ => None,
            })
            .collect::<Option<_>>()?;
        (!parts.is_empty()).then(|| parts.join("/"))
    }
}

impl Drop for OutDir {
    fn drop(&mut self) {
        let path = self.dir.join(LOCK);
        if read_pid(&path) == Some(std::process::id()) {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// For shards of a sweep, which may share a directory: created if needed
/// and checked to be ours, but not locked.
pub fn check_shared(dir: &Path) -> Result<(), Failure> {
    create(dir)?;
    if read_manifest(dir)?.is_none() {
        check_ours(dir)?;
    }
    Ok(())
}

fn create(dir: &Path) -> Result<(), Failure> {
    std::fs::create_dir_all(dir)
        .map_err(|e| Failure::Io(format!("cannot create {}: {e}", dir.display())))
}

/// A manifest line names a file inside the directory: no `..`, not
/// absolute (a hand-edited manifest must not reach outside).
fn is_plain_relative(name: &str) -> bool {
    let p = Path::new(name);
    !name.is_empty() && p.components().all(|c| matches!(c, Component::Normal(_)))
}

fn read_manifest(dir: &Path) -> Result<Option<Vec<String>>, Failure> {
    let path = dir.join(MANIFEST);
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok(Some(
            text.lines()
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .map(str::to_owned)
                .collect(),
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Failure::Io(format!("cannot read {}: {e}", path.display()))),
    }
}

/// Names cascade writes into an output directory (`runs/` is checked
/// file by file).
fn is_our_name(name: &str) -> bool {
    const NAMES: &[&str] = &[
        "summary.json",
        "timeseries.csv",
        "timeseries.csv.gz",
        reports::SCENARIO_COPY,
        reports::REPORT,
        "compare.json",
        "blast.json",
        "blast.csv",
        "sweep.csv",
        "aggregate.csv",
        "sweep.json",
        LOCK,
    ];
    NAMES.contains(&name)
        || name.ends_with(".svg")
        || name.ends_with(".png")
        || (name.starts_with("shard-") && name.ends_with(".json"))
        || (name.starts_with('.') && name.ends_with(".tmp"))
}

/// Results only cascade writes: one of them must be present for a
/// directory without a manifest to count as ours.
fn is_anchor(name: &str) -> bool {
    matches!(
        name,
        "summary.json" | "compare.json" | "blast.json" | "sweep.json" | "runs"
    ) || (name.starts_with("shard-") && name.ends_with(".json"))
}

/// Refuses a directory without a manifest unless it is empty or clearly
/// an earlier cascade output (e.g. one written before manifests, or a
/// sweep killed before its end).
fn check_ours(dir: &Path) -> Result<(), Failure> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| Failure::Io(format!("cannot read {}: {e}", dir.display())))?;
    let mut names: Vec<(String, bool)> = entries
        .flatten()
        .map(|e| {
            let is_dir = e.file_type().is_ok_and(|t| t.is_dir());
            (e.file_name().to_string_lossy().into_owned(), is_dir)
        })
        .filter(|(n, _)| n != LOCK)
        .collect();
    names.sort();
    if names.is_empty() {
        return Ok(());
    }
    let foreign = names.iter().find(|(n, is_dir)| {
        if *is_dir {
            n != "runs" || !runs_are_ours(&dir.join(n))
        } else {
            !is_our_name(n)
        }
    });
    let anchored = names.iter().any(|(n, _)| is_anchor(n));
    match foreign {
        None if anchored => Ok(()),
        _ => {
            let example = foreign.map_or_else(
                || names[0].0.clone(),
                |(n, is_dir)| format!("{n}{}", if *is_dir { "/" } else { "" }),
            );
            Err(Failure::Input(format!(
                "error: --out {}: the directory is not empty and no cascade run wrote it \
                 (no {MANIFEST}; it holds `{example}`): give a new or empty directory, \
                 or one an earlier cascade run wrote",
                dir.display()
            )))
        }
    }
}

fn runs_are_ours(runs: &Path) -> bool {
    std::fs::read_dir(runs).is_ok_and(|entries| {
        entries.flatten().all(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            e.file_type().is_ok_and(|t| t.is_file())
                && ((n.starts_with("run-") && n.ends_with(".json"))
                    || (n.starts_with(".run-") && n.ends_with(".tmp")))
        })
    })
}

fn read_pid(lock: &Path) -> Option<u32> {
    std::fs::read_to_string(lock).ok()?.trim().parse().ok()
}

/// Whether process `pid` is alive. Where `/proc` exists (Linux) it says;
/// elsewhere every lock is taken as held (remove a stale one by hand).
fn alive(pid: u32) -> bool {
    if !Path::new("/proc/self").exists() {
        return true;
    }
    Path::new(&format!("/proc/{pid}")).exists()
}

/// Takes `dir`'s lock: created exclusively with our PID; a lock whose
/// holder is dead (or unreadable, e.g. half-written by a killed run) is
/// removed and taken again.
fn lock(dir: &Path) -> Result<(), Failure> {
    use std::io::Write;
    let path = dir.join(LOCK);
    for _ in 0..3 {
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(mut f) => {
                return writeln!(f, "{}", std::process::id())
                    .and_then(|()| f.sync_all())
                    .map_err(|e| Failure::Io(format!("cannot write {}: {e}", path.display())));
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                match read_pid(&path) {
                    Some(pid) if pid != std::process::id() && alive(pid) => {
                        return Err(Failure::Input(format!(
                            "error: --out {}: another cascade (pid {pid}) is writing there; \
                             wait for it to finish, or remove {} if that process is not cascade",
                            dir.display(),
                            path.display()
                        )));
                    }
                    _ => {
                        // Stale: its holder is gone. Whoever removes it
                        // first and creates it anew holds it.
                        let _ = std::fs::remove_file(&path);
                    }
                }
            }
            Err(e) => {
                return Err(Failure::Io(format!(
                    "cannot create {}: {e}",
                    path.display()
                )));
            }
        }
    }
    Err(Failure::Io(format!(
        "cannot take the lock {}: it keeps changing hands",
        path.display()
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("cascade-outdir-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn a_second_run_removes_only_what_the_first_wrote_and_it_did_not() {
        let d = temp("second");
        let first = OutDir::claim(&d).unwrap_or_else(|_| panic!("claim"));
        for f in ["a.svg", "b.svg", "summary.json"] {
            std::fs::write(d.join(f), f).unwrap();
        }
        first
            .finish(&[d.join("a.svg"), d.join("b.svg"), d.join("summary.json")])
            .unwrap_or_else(|_| panic!("finish"));
        assert!(!d.join(LOCK).exists());
        std::fs::write(d.join("notes.txt"), "mine").unwrap();
        let second = OutDir::claim(&d).unwrap_or_else(|_| panic!("claim again"));
        assert!(d.join(LOCK).exists());
        std::fs::write(d.join("summary.json"), "2").unwrap();
        second
            .finish(&[d.join("summary.json")])
            .unwrap_or_else(|_| panic!("finish"));
        assert!(!d.join("a.svg").exists() && !d.join("b.svg").exists());
        assert_eq!(
            std::fs::read_to_string(d.join("notes.txt")).unwrap(),
            "mine"
        );
        assert_eq!(
            std::fs::read_to_string(d.join(MANIFEST)).unwrap(),
            format!("{MANIFEST_HEADER}\nsummary.json\n")
        );
    }

    #[test]
    fn manifest_lines_never_reach_outside() {
        assert!(is_plain_relative("runs/run-000001.json"));
        for bad in ["../x", "/etc/passwd", "a/../../b", ""] {
            assert!(!is_plain_relative(bad), "{bad}");
        }
    }

    #[test]
    fn foreign_directories_are_refused_and_old_outputs_accepted() {
        let d = temp("foreign");
        std::fs::create_dir_all(d.join("runs")).unwrap();
        std::fs::write(d.join("runs/run-000000.json"), "{}").unwrap();
        assert!(check_ours(&d).is_ok(), "a killed sweep's directory");
        std::fs::write(d.join("thesis.tex"), "x").unwrap();
        assert!(matches!(check_ours(&d), Err(Failure::Input(m)) if m.contains("thesis.tex")));
        let pics = temp("pictures");
        std::fs::create_dir_all(&pics).unwrap();
        std::fs::write(pics.join("holiday.png"), "x").unwrap();
        assert!(check_ours(&pics).is_err(), "pictures alone are not ours");
    }

    #[test]
    fn a_live_lock_is_refused_and_a_dead_one_taken_over() {
        let d = temp("lock");
        std::fs::create_dir_all(&d).unwrap();
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        std::fs::write(d.join(LOCK), format!("{}\n", child.id())).unwrap();
        let held = OutDir::claim(&d);
        assert!(matches!(&held, Err(Failure::Input(m)) if m.contains("another cascade")));
        child.kill().unwrap();
        child.wait().unwrap();
        let taken = OutDir::claim(&d).unwrap_or_else(|_| panic!("stale lock taken over"));
        assert_eq!(read_pid(&d.join(LOCK)), Some(std::process::id()));
        drop(taken);
        assert!(!d.join(LOCK).exists());
    }
}
