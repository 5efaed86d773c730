//! `remediator plan` through the real binary against okta-sim, for every shipped scenario:
//! the table and the JSON plan are compared with golden files (tests/golden/plan/), after the
//! values that change between runs (loopback port, times, event uuids, ids derived from them)
//! are normalized. `UPDATE_GOLDEN=1 cargo test --test it plan_golden` rewrites the files.

use std::path::{Path, PathBuf};
use std::process::Output;

use crate::support::sim::serve;
use okta_sim::Scenario;
use regex::Regex;

const SCENARIOS: &[&str] = &[
    "healthy",
    "retry-transient",
    "force-sync",
    "orphaned-push-mappings",
    "features-disabled",
    "kpasswd-blocked",
    "credentials-invalid",
    "all-situations",
];

fn normalize(text: &str) -> String {
    let rules = [
        (r"http://127\.0\.0\.1:\d+", "<org>"),
        (r"act-[0-9a-f]{16}", "act-<id>"),
        (
            r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})",
            "<time>",
        ),
        (
            r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
            "<uuid>",
        ),
        (r"errorId oae[A-Za-z0-9_-]+", "errorId <id>"),
    ];
    let mut out = text.to_owned();
    for (pattern, replacement) in rules {
        let re = Regex::new(pattern).expect("valid pattern");
        out = re.replace_all(&out, replacement).into_owned();
    }
    out
}

async fn run_plan(scenario: &str, output: &str) -> Output {
    let path = format!("tests/scenarios/{scenario}.toml");
    let scenario = Scenario::from_toml_file(&path).expect("shipped scenario loads");
    let token = scenario.org.api_tokens[0].clone();
    let sim = serve(scenario).await;
    let base = sim.base_url().to_owned();
    let output = output.to_owned();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_remediator"))
            .args([
                "--policies",
                "policies",
                "--state",
                "target/no-such-journal",
            ])
            .args(["plan", "--detailed-exitcode", "--output", &output])
            .env("OKTA_CLIENT_ORGURL", &base)
            .env("OKTA_CLIENT_TOKEN", &token)
            .env("HOME", "target/no-home")
            .env_remove("RUST_LOG")
            .output()
            .expect("run remediator")
    })
    .await
    .expect("join");
    sim.shutdown().await;
    out
}

fn golden(name: &str) -> PathBuf {
    Path::new("tests/golden/plan").join(name)
}

fn check(name: &str, actual: &str) {
    let path = golden(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual).expect("write golden file");
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (run with UPDATE_GOLDEN=1 to create it)",
            path.display()
        )
    });
    assert!(
        expected == actual,
        "{} differs from the golden file.\n--- expected\n{expected}\n--- actual\n{actual}",
        path.display()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn plans_of_every_shipped_scenario_match_their_golden_files() {
    for scenario in SCENARIOS {
        let json = run_plan(scenario, "json").await;
        let code = json.status.code();
        let stdout = String::from_utf8(json.stdout).expect("utf-8 plan");
        let stderr = String::from_utf8_lossy(&json.stderr);
        assert!(
            matches!(code, Some(0 | 2)),
            "{scenario}: exit {code:?}: {stderr}"
        );
        let plan: serde_json::Value =
            serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{scenario}: {e}: {stdout}"));
        // 2 only for actions `apply` would carry out: previews of dry-run rules do not count.
        let has_enforced = plan["actions"]
            .as_array()
            .expect("actions array")
            .iter()
            .any(|a| a["mode"] == "enforce");
        assert_eq!(
            code,
            Some(if has_enforced { 2 } else { 0 }),
            "{scenario}: --detailed-exitcode"
        );
        for key in [
            "org",
            "generated_at",
            "complete",
            "actions",
            "findings",
            "skipped",
            "warnings",
        ] {
            assert!(plan.get(key).is_some(), "{scenario}: plan JSON lacks {key}");
        }
        check(&format!("{scenario}.json"), &normalize(&stdout));

        let table = run_plan(scenario, "table").await;
        let stdout = String::from_utf8(table.stdout).expect("utf-8 table");
        check(&format!("{scenario}.txt"), &normalize(&stdout));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn healthy_org_has_nothing_to_do() {
    let out = run_plan("healthy", "json").await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).expect("plan JSON");
    assert_eq!(plan["actions"], serde_json::json!([]));
    assert_eq!(plan["findings"], serde_json::json!([]));
    assert_eq!(plan["complete"], true);
}

#[test]
fn plan_without_org_settings_is_a_clear_error() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_remediator"))
        .args(["plan"])
        .env_remove("OKTA_CLIENT_ORGURL")
        .env_remove("OKTA_CLIENT_TOKEN")
        .env("HOME", "target/no-home")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run remediator");
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("OKTA_CLIENT_ORGURL") || stderr.contains("orgUrl"),
        "{stderr}"
    );
}
