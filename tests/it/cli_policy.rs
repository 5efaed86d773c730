//! `remediator policy validate` through the real binary.

use std::process::Command;

fn remediator() -> Command {
    Command::new(env!("CARGO_BIN_EXE_remediator"))
}

#[test]
fn shipped_policies_validate() {
    let out = remediator()
        .args(["policy", "validate", "policies"])
        .output()
        .expect("run remediator");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("policy is valid"));
}

#[test]
fn broken_policy_names_file_line_and_field_and_exits_1() {
    let out = remediator()
        .args([
            "--policies",
            "tests/fixtures/policy/invalid/unknown-key",
            "policy",
            "validate",
        ])
        .output()
        .expect("run remediator");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("tests/fixtures/policy/invalid/unknown-key/retry.toml:4:1: retry_provisioning.max_attempt: unknown field"),
        "{stderr}"
    );
}

#[test]
fn inline_secret_is_refused_without_echoing_it() {
    let out = remediator()
        .args([
            "policy",
            "validate",
            "tests/fixtures/policy/invalid/inline-secret",
        ])
        .output()
        .expect("run remediator");
    assert_eq!(out.status.code(), Some(1));
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(all.contains("push.toml:2:14"), "{all}");
    assert!(
        !all.contains("00aSECRETtokenVALUE123"),
        "the secret leaked: {all}"
    );
}

#[test]
fn missing_directory_is_an_error() {
    let out = remediator()
        .args(["policy", "validate", "no/such/dir"])
        .output()
        .expect("run remediator");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no/such/dir"));
}
