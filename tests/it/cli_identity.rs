//! What the binary says of itself, through the real binary: `--version` with the commit it was
//! built from, shell completions and the manual page, all from the command line's definition.

use std::process::Command;

fn remediator(args: &[&str]) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_remediator"))
        .args(args)
        .env_remove("REMEDIATOR_COMMIT")
        .output()
        .expect("run remediator");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn version_names_the_commit_it_was_built_from() {
    let (code, stdout) = remediator(&["--version"]);
    assert_eq!(code, Some(0));
    let built = env!("REMEDIATOR_COMMIT");
    assert_eq!(
        stdout.trim(),
        format!("remediator {} (commit {built})", env!("CARGO_PKG_VERSION"))
    );
    // Built from this checkout: the commit is git's (the build script exports it).
    if let Ok(out) = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
    {
        if out.status.success() {
            let head = String::from_utf8_lossy(&out.stdout).trim().to_owned();
            assert_eq!(built, head, "built from HEAD");
        }
    }
}

#[test]
fn completions_for_bash_zsh_and_fish_cover_the_commands() {
    for (shell, marker) in [
        ("bash", "_remediator()"),
        ("zsh", "#compdef remediator"),
        ("fish", "complete -c remediator"),
    ] {
        let (code, stdout) = remediator(&["completions", shell]);
        assert_eq!(code, Some(0), "{shell}");
        assert!(stdout.contains(marker), "{shell}: {stdout}");
        for command in ["plan", "apply", "journal", "run", "completions"] {
            assert!(stdout.contains(command), "{shell} completes {command}");
        }
    }
    let (code, _) = remediator(&["completions", "tcsh"]);
    assert_eq!(code, Some(64), "an unknown shell is a usage error");
}

#[test]
fn the_man_page_is_roff_naming_the_commands() {
    let (code, stdout) = remediator(&["man"]);
    assert_eq!(code, Some(0));
    assert!(stdout.contains(".TH remediator 1"), "{stdout}");
    for command in ["plan", "apply", "journal", "completions"] {
        assert!(stdout.contains(command), "the page names {command}");
    }
}
