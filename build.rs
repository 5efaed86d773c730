//! Exports `REMEDIATOR_COMMIT` for `remediator --version`: the environment's value when set (a
//! build outside git, such as a container build, passes it), else the commit of the checkout
//! (its short hash; uncommitted changes are not marked, as
//! the build script does not run again for them), else `unknown`.

use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=REMEDIATOR_COMMIT");
    let commit = std::env::var("REMEDIATOR_COMMIT")
        .ok()
        .filter(|c| !c.trim().is_empty())
        .or_else(git_commit)
        .unwrap_or_else(|| "unknown".to_owned());
    println!("cargo:rustc-env=REMEDIATOR_COMMIT={commit}");
}

/// The checkout's commit, and a rebuild when HEAD moves; `None` outside git.
fn git_commit() -> Option<String> {
    let git_dir = git(&["rev-parse", "--git-dir"])?;
    // HEAD names the branch; its reflog changes with every commit and checkout.
    println!("cargo:rerun-if-changed={git_dir}/HEAD");
    println!("cargo:rerun-if-changed={git_dir}/logs/HEAD");
    git(&["rev-parse", "--short=12", "HEAD"])
}

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    Some(String::from_utf8(out.stdout).ok()?.trim().to_owned())
}
