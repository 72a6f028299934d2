//! `--out` directories: one run's files at a time, never two runs mixed,
//! never a file cascade did not write touched.
//!
//! A command claims its directory before writing and finishes it with the
//! list of files it wrote. The claim takes a lock file holding the
//! claimant's PID (refused while that process lives; a lock whose process
//! is gone is taken over) and reads the manifest an earlier run left. A
//! non-empty directory without a manifest is accepted only when every
//! entry in it has a name cascade writes, next to one of its results:
//! anything else may be someone's work, so it is refused.
//!
//! Two ways to write:
//! - **staged** ([`OutDir::claim`]: `run`, `report`, `compare`, `blast`):
//!   the command writes into a hidden sibling, `.NAME.cascade-PID.tmp`;
//!   finishing writes the manifest there, hard-links in whatever the
//!   previous run did not write (someone's notes), and swaps the two
//!   directories in one atomic rename (`RENAME_EXCHANGE` on Linux). A run
//!   killed at any moment leaves the directory as the previous run left it
//!   or as this one made it, never a mix; its staging directory is removed
//!   by the next claim of the same directory. (`--out .`, or a directory
//!   holding the working directory, is written in place instead.)
//! - **in place** ([`OutDir::claim_in_place`]: `sweep` and `merge`, whose
//!   run files are the resume state and must land as each run ends):
//!   finishing removes the files the previous manifest lists and this run
//!   did not write, then writes the new manifest last.
//!
//! Shards of one sweep may share a directory and run at once: they check
//! the directory ([`check_shared`]) but take no lock and keep no manifest.
//!
//! Must not delete anything a manifest does not list (except its own
//! staging directories and dead processes' temporary files), nor anything
//! outside the directory.
//!
//! Past 600 lines with its unit tests: the staged and in-place writes
//! share the claim, the lock, the manifest and the checks of what is ours,
//! and splitting them would spread one invariant over two files.

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
    /// The directory as the user named it (for messages; in-place writers
    /// name their files from it).
    given: PathBuf,
    /// The same, symlinks resolved.
    dir: PathBuf,
    /// Where this run writes, when staged; removed on drop unless swapped
    /// into place.
    staging: Option<PathBuf>,
    /// Files the previous run wrote (from its manifest). For a staged
    /// claim of a directory without one, every file in it (all of them
    /// cascade's, or the claim would have refused it); in place, none (a
    /// killed sweep's run files are its resume state).
    previous: Vec<String>,
    /// Whether the directory had a manifest.
    manifest: bool,
}

impl OutDir {
    /// Claims `dir` for a staged write: locked, checked to be ours, with a
    /// fresh staging directory beside it ([`OutDir::path`]).
    pub fn claim(dir: &Path) -> Result<OutDir, Failure> {
        let mut claimed = Self::claim_in_place(dir)?;
        // The working directory (or one it is inside) cannot be swapped
        // away under the shell that runs us: written in place.
        if std::env::current_dir()
            .and_then(std::fs::canonicalize)
            .is_ok_and(|cwd| cwd.starts_with(&claimed.dir))
        {
            return Ok(claimed);
        }
        if !claimed.manifest {
            claimed.previous = files_under(&claimed.dir);
        }
        let staging = staging_path(&claimed.dir, std::process::id());
        remove_dead_staging(&claimed.dir);
        let _ = std::fs::remove_dir_all(&staging);
        create(&staging)?;
        claimed.staging = Some(staging);
        Ok(claimed)
    }

    /// Creates `dir` if needed, checks it is ours, and locks it; the
    /// command writes into it directly.
    pub fn claim_in_place(given: &Path) -> Result<OutDir, Failure> {
        create(given)?;
        // A symlink to a directory: the swap must replace what it points
        // at, not the link.
        let dir = std::fs::canonicalize(given)
            .map_err(|e| Failure::Io(format!("cannot resolve {}: {e}", given.display())))?;
        lock(&dir)?;
        remove_dead_temp_files(&dir);
        // Held from here: dropped on an error below, it releases the lock.
        let mut claimed = OutDir {
            given: given.to_path_buf(),
            dir,
            staging: None,
            previous: Vec::new(),
            manifest: true,
        };
        match read_manifest(&claimed.dir)? {
            Some(list) => claimed.previous = list,
            None => {
                check_ours(&claimed.dir)?;
                claimed.manifest = false;
            }
        }
        Ok(claimed)
    }

    /// Where the command writes: the staging directory, or the directory
    /// itself when in place.
    pub fn path(&self) -> &Path {
        self.staging.as_deref().unwrap_or(&self.dir)
    }

    /// The directory the user named, for messages.
    pub fn target(&self) -> &Path {
        &self.given
    }

    /// Carries files of the previous run into this one unchanged (hard
    /// links into the staging directory): `report` redraws the views of a
    /// run and keeps its results. Returns the paths as written; names
    /// absent from the directory are skipped.
    pub fn keep(&self, names: &[&str]) -> Result<Vec<PathBuf>, Failure> {
        let mut kept = Vec::new();
        for name in names {
            let from = self.dir.join(name);
            if !from.is_file() {
                continue;
            }
            let to = self.path().join(name);
            if to != from {
                link_or_copy(&from, &to)?;
            }
            kept.push(to);
        }
        Ok(kept)
    }

    /// Ends the write: `written` (paths inside [`OutDir::path`]) become the
    /// directory's contents, beside whatever the previous run did not
    /// write; the manifest lists `written`; the lock is released.
    pub fn finish(self, written: &[PathBuf]) -> Result<(), Failure> {
        let now: BTreeSet<String> = written.iter().filter_map(|p| self.relative(p)).collect();
        if let Some(staging) = &self.staging {
            return self.swap_in(staging, &now);
        }
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
        write_manifest(&self.dir, &now)
    }

    /// The staged finish: the manifest, then the previous directory's
    /// files that are not the previous run's (nor overwritten by this
    /// one) linked in, then one atomic swap, then the old contents removed.
    fn swap_in(&self, staging: &Path, now: &BTreeSet<String>) -> Result<(), Failure> {
        write_manifest(staging, now)?;
        let previous: BTreeSet<&str> = self.previous.iter().map(String::as_str).collect();
        for rel in files_under(&self.dir) {
            if previous.contains(rel.as_str())
                || now.contains(&rel)
                || rel == LOCK
                || rel == MANIFEST
            {
                continue;
            }
            let to = staging.join(&rel);
            if let Some(parent) = to.parent() {
                create(parent)?;
            }
            link_or_copy(&self.dir.join(&rel), &to)?;
        }
        exchange(staging, &self.dir).map_err(|e| {
            Failure::Io(format!(
                "cannot move {} into place at {}: {e}",
                staging.display(),
                self.dir.display()
            ))
        })?;
        // The staging path now holds the previous contents (and our lock).
        let _ = std::fs::remove_dir_all(staging);
        Ok(())
    }

    /// `p` relative to where the command writes, with `/` separators.
    fn relative(&self, p: &Path) -> Option<String> {
        let rel = p
            .strip_prefix(self.path())
            .or_else(|_| p.strip_prefix(&self.given))
            .unwrap_or(p);
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
        // Not swapped in (an error): this run's files go, the previous
        // run's stay. Swapped in: it holds the previous contents, removed
        // already, or a remnant of them.
        if let Some(staging) = &self.staging {
            let _ = std::fs::remove_dir_all(staging);
        }
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

fn write_manifest(dir: &Path, names: &BTreeSet<String>) -> Result<(), Failure> {
    let mut text = String::from(MANIFEST_HEADER);
    text.push('\n');
    for name in names {
        text.push_str(name);
        text.push('\n');
    }
    let path = dir.join(MANIFEST);
    reports::atomic_write(&path, text.as_bytes())
        .map_err(|e| Failure::Io(format!("cannot write {}: {e}", path.display())))
}

/// The staging directory of process `pid` for `dir`: a hidden sibling,
/// on the same file system (a rename cannot cross one).
fn staging_path(dir: &Path, pid: u32) -> PathBuf {
    let name = dir
        .file_name()
        .map_or_else(|| "out".into(), |n| n.to_string_lossy().into_owned());
    dir.with_file_name(format!(".{name}.cascade-{pid}.tmp"))
}

/// Removes staging directories for `dir` left by processes that are gone
/// (killed before their swap). Called with `dir`'s lock held, so no live
/// process is staging for it, bar one cleaning up after its swap.
fn remove_dead_staging(dir: &Path) {
    let (Some(parent), Some(name)) = (dir.parent(), dir.file_name()) else {
        return;
    };
    let prefix = format!(".{}.cascade-", name.to_string_lossy());
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    for e in entries.flatten() {
        let n = e.file_name().to_string_lossy().into_owned();
        let pid = n
            .strip_prefix(&prefix)
            .and_then(|r| r.strip_suffix(".tmp"))
            .and_then(|p| p.parse::<u32>().ok());
        if let Some(pid) = pid
            && pid != std::process::id()
            && !alive(pid)
        {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

/// Removes the temporary files (`.NAME.PID.tmp`, see
/// `reports::atomic_write`) that processes now gone left at the top of
/// `dir` (a sweep's tables, a manifest, killed mid-write). Called with
/// `dir`'s lock held; `runs/` is the sweep's own business.
fn remove_dead_temp_files(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let pid = name
            .strip_prefix('.')
            .and_then(|n| n.strip_suffix(".tmp"))
            .and_then(|n| n.rsplit_once('.'))
            .and_then(|(_, pid)| pid.parse::<u32>().ok());
        if let Some(pid) = pid
            && pid != std::process::id()
            && !alive(pid)
            && e.file_type().is_ok_and(|t| t.is_file())
        {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

/// Every file under `dir`, relative, with `/` separators, sorted (an
/// explicit stack: no recursion as deep as the tree).
fn files_under(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![(dir.to_path_buf(), String::new())];
    while let Some((d, prefix)) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let rel = format!("{prefix}{}", e.file_name().to_string_lossy());
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                stack.push((e.path(), format!("{rel}/")));
            } else {
                out.push(rel);
            }
        }
    }
    out.sort();
    out
}

/// `to` becomes another name of `from` (a copy where hard links fail).
fn link_or_copy(from: &Path, to: &Path) -> Result<(), Failure> {
    let _ = std::fs::remove_file(to);
    std::fs::hard_link(from, to)
        .or_else(|_| std::fs::copy(from, to).map(|_| ()))
        .map_err(|e| {
            Failure::Io(format!(
                "cannot carry {} over to the new output: {e}",
                from.display()
            ))
        })
}

/// Swaps directories `a` and `b` in one atomic rename.
#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    use rustix::fs::{CWD, RenameFlags, renameat_with};
    match renameat_with(CWD, a, CWD, b, RenameFlags::EXCHANGE) {
        Ok(()) => Ok(()),
        // A file system without RENAME_EXCHANGE (some network ones).
        Err(rustix::io::Errno::INVAL | rustix::io::Errno::NOSYS) => exchange_by_two_renames(a, b),
        Err(e) => Err(e.into()),
    }
}

#[cfg(not(target_os = "linux"))]
fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    exchange_by_two_renames(a, b)
}

/// The swap where no atomic exchange exists: `b` is absent for the moment
/// between the two renames (a kill then leaves it under `a`'s name).
fn exchange_by_two_renames(a: &Path, b: &Path) -> std::io::Result<()> {
    let aside = a.with_extension("old");
    std::fs::rename(b, &aside)?;
    std::fs::rename(a, b)?;
    std::fs::rename(&aside, a)
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
        let first = OutDir::claim_in_place(&d).unwrap_or_else(|_| panic!("claim"));
        for f in ["a.svg", "b.svg", "summary.json"] {
            std::fs::write(d.join(f), f).unwrap();
        }
        first
            .finish(&[d.join("a.svg"), d.join("b.svg"), d.join("summary.json")])
            .unwrap_or_else(|_| panic!("finish"));
        assert!(!d.join(LOCK).exists());
        std::fs::write(d.join("notes.txt"), "mine").unwrap();
        let second = OutDir::claim_in_place(&d).unwrap_or_else(|_| panic!("claim again"));
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

    fn names(d: &Path) -> Vec<String> {
        files_under(d)
    }

    #[test]
    fn a_staged_run_replaces_the_previous_whole_and_keeps_foreign_files() {
        let d = temp("staged");
        let first = OutDir::claim(&d).unwrap_or_else(|_| panic!("claim"));
        let staging = first.path().to_path_buf();
        assert_ne!(staging, first.target());
        for f in ["a.svg", "summary.json"] {
            std::fs::write(staging.join(f), "1").unwrap();
        }
        assert!(
            names(&d).iter().all(|n| n == LOCK),
            "nothing shows before the swap"
        );
        first
            .finish(&[staging.join("a.svg"), staging.join("summary.json")])
            .unwrap_or_else(|_| panic!("finish"));
        assert!(!staging.exists(), "the staging directory is gone");
        assert_eq!(names(&d), [MANIFEST, "a.svg", "summary.json"]);
        std::fs::create_dir_all(d.join("notes")).unwrap();
        std::fs::write(d.join("notes/mine.txt"), "mine").unwrap();

        // A second run that fails before finishing leaves the first whole.
        let failed = OutDir::claim(&d).unwrap_or_else(|_| panic!("claim"));
        std::fs::write(failed.path().join("summary.json"), "half").unwrap();
        let failed_staging = failed.path().to_path_buf();
        drop(failed);
        assert!(!failed_staging.exists());
        assert_eq!(
            std::fs::read_to_string(d.join("summary.json")).unwrap(),
            "1"
        );

        let second = OutDir::claim(&d).unwrap_or_else(|_| panic!("claim"));
        std::fs::write(second.path().join("summary.json"), "2").unwrap();
        let written = [second.path().join("summary.json")];
        second.finish(&written).unwrap_or_else(|_| panic!("finish"));
        assert_eq!(names(&d), [MANIFEST, "notes/mine.txt", "summary.json"]);
        assert_eq!(
            std::fs::read_to_string(d.join("summary.json")).unwrap(),
            "2"
        );
        assert_eq!(
            std::fs::read_to_string(d.join("notes/mine.txt")).unwrap(),
            "mine"
        );
        let siblings: Vec<String> = std::fs::read_dir(d.parent().unwrap())
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains("cascade-outdir") && n.contains("staged") && n.ends_with(".tmp"))
            .collect();
        assert!(siblings.is_empty(), "{siblings:?}");
    }

    #[test]
    fn a_dead_runs_staging_directory_and_temporary_files_go_at_the_next_claim() {
        let d = temp("orphan");
        std::fs::create_dir_all(&d).unwrap();
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead = child.id();
        child.wait().unwrap();
        let orphan = staging_path(&std::fs::canonicalize(&d).unwrap(), dead);
        std::fs::create_dir_all(&orphan).unwrap();
        std::fs::write(orphan.join("summary.json"), "x").unwrap();
        let half_written = d.join(format!(".sweep.csv.{dead}.tmp"));
        std::fs::write(&half_written, "x").unwrap();
        let claimed = OutDir::claim(&d).unwrap_or_else(|_| panic!("claim"));
        assert!(!orphan.exists());
        assert!(!half_written.exists(), "a dead process's temporary file");
        drop(claimed);
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
