//! Transparent huge pages for the heap: the process re-executes itself
//! once with glibc's `glibc.malloc.hugetlb=1` tunable set.
//!
//! Why: at thousands of services a request touches a few lines of each
//! service's records, spread over a hundred megabytes of heap, so with
//! 4 KiB pages nearly every such line also misses the TLB. With the tunable
//! glibc asks the kernel for 2 MiB pages (`madvise(MADV_HUGEPAGE)`, which
//! Linux honours under its default "madvise" policy): a 5,000-service run
//! is about a fifth faster, a 10-service one unchanged (README,
//! Performance). glibc reads its tunables only when a process starts,
//! hence the re-execution; it happens before anything else, keeps the
//! process id, the arguments and the rest of the environment, and nothing
//! in a run's results depends on it (the goldens are byte-identical).
//!
//! Owns that one decision; must not do anything else before `main` runs.
//! Skipped where it means nothing (not Linux with glibc), when the user
//! has already set the tunable (to any value: `GLIBC_TUNABLES=
//! glibc.malloc.hugetlb=0` turns it off), and if the re-execution fails
//! (the run then goes on as it is).

/// The tunable, as glibc spells it in `GLIBC_TUNABLES`.
const TUNABLE: &str = "glibc.malloc.hugetlb";

/// `GLIBC_TUNABLES` with huge pages asked for, or `None` when the user's
/// own setting already names the tunable (or is not text).
fn tunables_with_huge_pages(current: Option<&std::ffi::OsStr>) -> Option<String> {
    match current.map(|v| v.to_str()) {
        None => Some(format!("{TUNABLE}=1")),
        Some(None) => None,
        Some(Some(v)) if v.split(':').any(|t| t.split('=').next() == Some(TUNABLE)) => None,
        Some(Some("")) => Some(format!("{TUNABLE}=1")),
        Some(Some(v)) => Some(format!("{v}:{TUNABLE}=1")),
    }
}

/// Re-executes the process with huge pages asked for, unless it is not
/// needed or not possible (then returns, and the run goes on).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn ask_for_huge_pages() {
    use std::os::unix::process::CommandExt;
    let Some(tunables) = tunables_with_huge_pages(std::env::var_os("GLIBC_TUNABLES").as_deref())
    else {
        return;
    };
    let Ok(exe) = std::env::current_exe() else {
        return;
    };
    // `exec` returns only if it failed; the run then goes on without.
    let _failed = std::process::Command::new(exe)
        .args(std::env::args_os().skip(1))
        .env("GLIBC_TUNABLES", tunables)
        .exec();
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn ask_for_huge_pages() {}

#[cfg(test)]
mod tests {
    use super::tunables_with_huge_pages as with;
    use std::ffi::OsStr;

    #[test]
    fn adds_the_tunable_unless_the_user_set_it() {
        assert_eq!(with(None).as_deref(), Some("glibc.malloc.hugetlb=1"));
        assert_eq!(
            with(Some(OsStr::new(""))).as_deref(),
            Some("glibc.malloc.hugetlb=1")
        );
        assert_eq!(
            with(Some(OsStr::new("glibc.malloc.arena_max=2"))).as_deref(),
            Some("glibc.malloc.arena_max=2:glibc.malloc.hugetlb=1")
        );
        // The user's own choice stands, whatever it is; so does the
        // re-executed process's (which must not loop).
        assert_eq!(with(Some(OsStr::new("glibc.malloc.hugetlb=0"))), None);
        assert_eq!(
            with(Some(OsStr::new(
                "glibc.malloc.arena_max=2:glibc.malloc.hugetlb=1"
            ))),
            None
        );
        assert_eq!(
            with(Some(OsStr::new("glibc.malloc.hugetlb_x=1"))).as_deref(),
            Some("glibc.malloc.hugetlb_x=1:glibc.malloc.hugetlb=1")
        );
    }
}
