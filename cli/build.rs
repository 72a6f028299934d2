//! Records the git commit the binary is built from, for `cascade
//! --version`. Outside a git checkout (a source tarball, a vendored copy)
//! or without git installed it says "unknown": the build never fails here.

use std::process::Command;

fn main() {
    let commit = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty() && s.chars().all(|c| c.is_ascii_hexdigit()))
        .unwrap_or_else(|| "unknown".to_owned());
    println!("cargo:rustc-env=CASCADE_GIT_COMMIT={commit}");
    // Rebuild when HEAD moves: HEAD names the branch (in a worktree's own
    // git dir), the branch's ref file or packed-refs (in the common dir)
    // change on each commit. Only files that exist: a missing one would
    // rerun this script on every build.
    let git = |arg: &str| {
        Command::new("git")
            .args(["rev-parse", arg])
            .output()
            .ok()
            .filter(|o| o.status.success())
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .map(|s| std::path::PathBuf::from(s.trim()))
    };
    if let (Some(git_dir), Some(common)) = (git("--git-dir"), git("--git-common-dir")) {
        let mut watched = vec![git_dir.join("HEAD"), common.join("packed-refs")];
        if let Ok(head) = std::fs::read_to_string(git_dir.join("HEAD"))
            && let Some(r) = head.strip_prefix("ref: ")
        {
            watched.push(common.join(r.trim()));
        }
        for f in watched.iter().filter(|f| f.is_file()) {
            println!("cargo:rerun-if-changed={}", f.display());
        }
    }
    println!("cargo:rerun-if-changed=build.rs");
}
