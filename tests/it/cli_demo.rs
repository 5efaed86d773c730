//! `remediator demo` (the README's first command) through the real binary: it plans the
//! embedded simulated org, carries the plan out under the shipped policies, and plans again.

use std::process::Command;

fn demo(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_remediator"))
        .arg("demo")
        .args(args)
        .env("HOME", "target/no-home")
        .env_remove("RUST_LOG")
        .output()
        .expect("run remediator demo")
}

#[test]
fn the_demo_plans_applies_and_plans_again() {
    let out = demo(&[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("ACTIONS (4)"), "{stdout}");
    // retry x2 (one transient failure), features fix; the push-mapping removal is a preview
    // (its rule is in dry-run mode).
    assert!(
        stdout.contains("3 taken, 2 verified, 1 failed, 0 held"),
        "{stdout}"
    );
    assert!(stdout.contains("previewed only"), "{stdout}");
    assert!(
        stdout.contains("Planning again: 1 action(s) (1 previewed only"),
        "{stdout}"
    );
}

#[test]
fn the_demo_prints_its_plan_as_json() {
    let out = demo(&["--output", "json"]);
    assert_eq!(out.status.code(), Some(0));
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON plan");
    assert_eq!(plan["actions"].as_array().map(Vec::len), Some(4));
    assert_eq!(plan["complete"], true);
}
