//! The exit codes scripts rely on, through the real binary: a usage error is 64 (never 2,
//! `--detailed-exitcode`'s "changes pending"), `--detailed-exitcode` counts only the actions
//! `apply` would carry out, and a reader that closes stdout early (`| head`) ends a command
//! quietly with 141, as a shell reports for `ls`.

use std::process::Stdio;

use crate::support::act::scenario;
use crate::support::cli::{parts, stdout_if_exit, Cli};

/// The shipped policies (remove_push_mappings in dry-run mode) in `setup`'s policy directory.
fn shipped_policies(setup: &Cli) {
    let policies = setup.dir.path().join("policies");
    for entry in std::fs::read_dir("policies").expect("shipped policies") {
        let path = entry.expect("entry").path();
        std::fs::copy(&path, policies.join(path.file_name().expect("name"))).expect("copy");
    }
}

/// Runs `remediator ARGS` with stdout a pipe whose reader is already gone.
async fn with_stdout_closed(setup: &Cli, args: &[&str]) -> (Option<i32>, String) {
    let mut command = setup.command(args);
    let (reader, writer) = std::io::pipe().expect("a pipe");
    drop(reader);
    command
        .stdin(Stdio::null())
        .stdout(writer)
        .stderr(Stdio::piped());
    let out = tokio::task::spawn_blocking(move || command.output().expect("run remediator"))
        .await
        .expect("join");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn a_usage_error_exits_64_and_help_exits_0() {
    let setup = Cli::closed_port();
    for args in [
        &["plan", "--no-such-option"][..],
        &["journal", "list", "--since", "yesterday-ish"],
        &["no-such-command"],
        &["journal"],
    ] {
        let (code, stdout, stderr) = parts(&setup.run(args).await);
        assert_eq!(code, Some(64), "{args:?}: {stdout}{stderr}");
        assert!(
            stderr.starts_with("error:") || stderr.contains("Usage"),
            "{args:?}: {stderr}"
        );
    }
    let (code, stdout, _) = parts(&setup.run(&["--help"]).await);
    assert_eq!(code, Some(0));
    assert!(stdout.contains("Usage"), "{stdout}");
}

#[tokio::test]
async fn detailed_exitcode_counts_only_what_apply_would_carry_out() {
    // Only a preview: remove_push_mappings is in dry-run mode in the shipped policies.
    let previews = Cli::start(scenario("orphaned-push-mappings")).await;
    shipped_policies(&previews);
    let out = previews.run(&["plan", "--detailed-exitcode"]).await;
    let stdout = stdout_if_exit(&out, 0, "a preview is no pending change: ");
    assert!(stdout.contains("remove-push-mappings"), "{stdout}");
    assert!(
        stdout.contains("0 action(s) `apply` would carry out; 1 previewed only"),
        "{stdout}"
    );
    // An enforced fix is pending.
    let enforced = Cli::start(scenario("features-disabled")).await;
    let out = enforced.run(&["plan", "--detailed-exitcode"]).await;
    let stdout = stdout_if_exit(&out, 2, "");
    assert!(
        stdout.contains("1 action(s) `apply` would carry out; 0 previewed only"),
        "{stdout}"
    );
}

#[tokio::test]
async fn a_closed_stdout_ends_a_command_quietly_with_141() {
    let setup = Cli::start(scenario("features-disabled")).await;
    stdout_if_exit(&setup.run(&["apply", "--yes"]).await, 0, "");
    for args in [
        &["journal", "list"][..],
        &["journal", "export"],
        &["journal", "verify"],
        &["plan"],
        &["policy", "validate"],
        &["--help"],
    ] {
        let (code, stderr) = with_stdout_closed(&setup, args).await;
        let expected = if args == ["--help"] { 0 } else { 141 };
        assert_eq!(code, Some(expected), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(!stderr.contains("error"), "{args:?}: {stderr}");
    }
}

#[test]
fn the_demo_into_a_closed_pipe_exits_141_without_a_panic() {
    let (reader, writer) = std::io::pipe().expect("a pipe");
    drop(reader);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_remediator"))
        .arg("demo")
        .env("HOME", "target/no-home")
        .env_remove("RUST_LOG")
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .expect("run remediator demo");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(141), "{stderr}");
    assert!(stderr.is_empty(), "{stderr}");
}
