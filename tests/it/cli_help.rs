//! Every value `--help` names for an option parses, through the real binary: the values come
//! from the kinds' definitions (journal entry kinds, outcomes, action kinds), and the examples in
//! the help text are held to them too.

use std::process::{Command, Output, Stdio};

use remediator::journal::SledJournal;

fn remediator(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_remediator"))
        .args(args)
        .env("HOME", "target/no-home")
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .output()
        .expect("run remediator")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The help text of `option` in `help`: from its line to the next option (clap may wrap it).
fn option_help<'a>(help: &'a str, option: &str) -> &'a str {
    let start = help
        .find(&format!("{option} <"))
        .unwrap_or_else(|| panic!("{option} is in the help:\n{help}"));
    let rest = &help[start..];
    let end = rest[option.len()..]
        .find("\n      --")
        .map_or(rest.len(), |i| i + option.len());
    &rest[..end]
}

/// Comma-separated words after `marker` up to the first of `ends`.
fn list_after(text: &str, marker: &str, ends: &[char]) -> Vec<String> {
    let Some(start) = text.find(marker) else {
        return Vec::new();
    };
    let rest = &text[start + marker.len()..];
    let end = rest.find(ends).unwrap_or(rest.len());
    rest[..end]
        .split(',')
        .map(|v| v.split_whitespace().collect::<String>())
        .filter(|v| !v.is_empty())
        .collect()
}

/// The possible values and the examples (`e.g. ...`) the help names for `option`.
fn named_values(help: &str, option: &str) -> (Vec<String>, Vec<String>) {
    let text = option_help(help, option);
    let possible = list_after(text, "[possible values: ", &[']']);
    let examples = list_after(text, "e.g. ", &[':', ')', ';']);
    (possible, examples)
}

#[test]
fn every_kind_and_outcome_journal_list_names_parses() {
    let help = stdout(&remediator(&["journal", "list", "--help"]));
    let dir = tempfile::tempdir().expect("temp dir");
    drop(SledJournal::open(dir.path()).expect("a journal"));
    let state = dir.path().to_str().expect("utf-8 path");
    for option in ["--kind", "--outcome"] {
        let (possible, examples) = named_values(&help, option);
        assert!(possible.len() >= 5, "{option}: {possible:?} in\n{help}");
        assert!(!examples.is_empty(), "{option} gives examples:\n{help}");
        for value in possible.iter().chain(&examples) {
            let out = remediator(&["--state", state, "journal", "list", option, value]);
            assert_eq!(
                out.status.code(),
                Some(0),
                "{option} {value}: {}",
                stderr(&out)
            );
        }
    }
    let (kinds, _) = named_values(&help, "--kind");
    assert!(kinds.contains(&"step_finished".to_owned()), "{kinds:?}");
    let bad = remediator(&["--state", state, "journal", "list", "--kind", "steps"]);
    assert_eq!(
        bad.status.code(),
        Some(64),
        "clap refuses an unknown kind (a usage error)"
    );
    assert!(stderr(&bad).contains("step_finished"), "{}", stderr(&bad));
}

#[test]
fn every_action_kind_apply_only_names_parses() {
    let help = stdout(&remediator(&["apply", "--help"]));
    let text = option_help(&help, "--only");
    let kinds = list_after(text, "(repeatable): ", &['\n']);
    assert_eq!(kinds.len(), 4, "{text}");
    let dir = tempfile::tempdir().expect("temp dir");
    let state = dir.path().to_str().expect("utf-8 path");
    for kind in &kinds {
        let out = remediator(&["--state", state, "apply", "--only", kind]);
        // Parsed: apply goes on to refuse acting without a terminal.
        assert_eq!(out.status.code(), Some(1), "--only {kind}");
        assert!(
            stderr(&out).contains("refusing to act without --yes"),
            "--only {kind}: {}",
            stderr(&out)
        );
    }
    let bad = remediator(&["--state", state, "apply", "--only", "reboot"]);
    assert_eq!(bad.status.code(), Some(1));
    let err = stderr(&bad);
    assert!(err.contains("--only reboot"), "{err}");
    for kind in &kinds {
        assert!(err.contains(kind.as_str()), "the error names {kind}: {err}");
    }
}
