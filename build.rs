//! Exports `REMEDIATOR_COMMIT`, the short commit the build was made from (`git rev-parse --short
//! HEAD`), or `unknown` outside a git checkout or without git; metrics (`remediator_build_info`)
//! and `--version` read it.

use std::process::Command;

fn main() {
    let commit = git(&["rev-parse", "--short", "HEAD"])
        .filter(|text| !text.is_empty() && text.chars().all(|c| c.is_ascii_hexdigit()))
        .unwrap_or_else(|| "unknown".to_owned());
    println!("cargo:rustc-env=REMEDIATOR_COMMIT={commit}");
    // A new commit (or a checkout) moves HEAD or the branch it names.
    for path in git_paths() {
        println!("cargo:rerun-if-changed={path}");
    }
    println!("cargo:rerun-if-changed=build.rs");
}

/// The files whose change means another commit: HEAD, and the ref it points at (in a
/// worktree, HEAD is the worktree's and the refs are the repository's).
fn git_paths() -> Vec<String> {
    let (Some(git_dir), Some(common_dir)) = (
        git(&["rev-parse", "--git-dir"]),
        git(&["rev-parse", "--git-common-dir"]),
    ) else {
        return Vec::new();
    };
    let head = format!("{git_dir}/HEAD");
    let mut paths = vec![head.clone(), format!("{common_dir}/packed-refs")];
    if let Ok(text) = std::fs::read_to_string(&head) {
        if let Some(reference) = text.trim().strip_prefix("ref: ") {
            paths.push(format!("{common_dir}/{reference}"));
        }
    }
    // A path that does not exist would make the script run on every build.
    paths.retain(|path| std::path::Path::new(path).exists());
    paths
}

/// What `git args` prints, trimmed, when it succeeds.
fn git(args: &[&str]) -> Option<String> {
    Command::new("git")
        .args(args)
        .output()
        .ok()
        .filter(|out| out.status.success())
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .map(|text| text.trim().to_owned())
}
