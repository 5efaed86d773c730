//! `remediator plan` through the real binary against okta-sim, on an org where two apps share a
//! label (tests/scenarios/duplicate-labels.toml) and a policy whose selectors match several
//! apps or none (tests/fixtures/policy/selectors): the JSON plan and the table warn about each,
//! a label matching two apps selects neither, an id selects its app, a deny label denies both.

use std::process::Output;

use crate::support::sim::serve;
use okta_sim::Scenario;
use serde_json::{json, Value};

const SLACK_1: &str = "0oadupslack000000001";
const SLACK_2: &str = "0oadupslack000000002";
const ACME: &str = "0oadupscim0000000001";
const PAYROLL_1: &str = "0oaduppayroll0000001";
const PAYROLL_2: &str = "0oaduppayroll0000002";
const POLICY: &str = "tests/fixtures/policy/selectors/policy.toml";

async fn plan(output: &str) -> Output {
    let scenario =
        Scenario::from_toml_file("tests/scenarios/duplicate-labels.toml").expect("scenario loads");
    let token = scenario.org.api_tokens[0].clone();
    let sim = serve(scenario).await;
    let base = sim.base_url().to_owned();
    let output = output.to_owned();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_remediator"))
            .args([
                "--policies",
                "tests/fixtures/policy/selectors",
                "--state",
                "target/no-such-journal",
            ])
            .args(["plan", "--output", &output])
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

fn app_ids(items: &Value) -> Vec<String> {
    let mut ids: Vec<String> = items
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|i| i["target"]["app_id"].as_str().map(str::to_owned))
        .collect();
    ids.sort();
    ids
}

#[tokio::test(flavor = "multi_thread")]
async fn plan_warns_about_every_selector_that_matched_no_app_or_several() {
    let out = plan("json").await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let plan: Value = serde_json::from_slice(&out.stdout).expect("plan JSON");
    assert_eq!(
        plan["warnings"],
        json!([
            {
                "selector": "Legacy Payroll",
                "field": "safety.apps.deny",
                "where": format!("{POLICY}:8:9: safety.apps.deny"),
                "matched": [PAYROLL_1, PAYROLL_2],
                "applied": [PAYROLL_1, PAYROLL_2],
                "message": format!("matched 2 apps by label ({PAYROLL_1}, {PAYROLL_2}): denied to all of them; name one by id to deny only it"),
            },
            {
                "selector": "Payrol (legacy)",
                "field": "safety.apps.deny",
                "where": format!("{POLICY}:8:27: safety.apps.deny"),
                "matched": [],
                "applied": [],
                "message": "matched no app",
            },
            {
                "selector": "Slack",
                "field": "retry_provisioning.apps",
                "where": format!("{POLICY}:11:9: retry_provisioning.apps"),
                "matched": [SLACK_1, SLACK_2],
                "applied": [],
                "message": format!("matched 2 apps by label ({SLACK_1}, {SLACK_2}): applied to none of them; name the app by id"),
            },
            {
                "selector": "Slakc",
                "field": "retry_provisioning.apps",
                "where": format!("{POLICY}:11:18: retry_provisioning.apps"),
                "matched": [],
                "applied": [],
                "message": "matched no app",
            },
        ])
    );
    assert_eq!(
        app_ids(&plan["actions"]),
        vec![ACME.to_owned(), SLACK_2.to_owned()],
        "the app named by id and the one label that is unique"
    );
    let denied: Vec<Value> = plan["skipped"]
        .as_array()
        .expect("skipped")
        .iter()
        .filter(|s| s["why"] == "denied-by-policy")
        .cloned()
        .collect();
    assert_eq!(
        app_ids(&Value::Array(denied)),
        vec![PAYROLL_1.to_owned(), PAYROLL_2.to_owned()],
        "a deny label matching two apps denies both"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_table_prints_the_warnings() {
    let out = plan("table").await;
    assert!(out.status.success());
    let table = String::from_utf8(out.stdout).expect("utf-8");
    let start = table
        .find("WARNINGS (4)")
        .unwrap_or_else(|| panic!("{table}"));
    let section: Vec<&str> = table[start..].lines().take(6).collect();
    assert_eq!(
        section[0],
        "WARNINGS (4): policy selectors that matched no app or several"
    );
    assert!(section[1].starts_with("SELECTOR"), "{table}");
    for (line, (selector, place)) in section[2..].iter().zip([
        ("\"Legacy Payroll\"", ":8:9: safety.apps.deny"),
        ("\"Payrol (legacy)\"", ":8:27: safety.apps.deny"),
        ("\"Slack\"", ":11:9: retry_provisioning.apps"),
        ("\"Slakc\"", ":11:18: retry_provisioning.apps"),
    ]) {
        assert!(line.starts_with(selector), "{line}");
        assert!(line.contains(&format!("{POLICY}{place}")), "{line}");
    }
    assert!(section[4].ends_with("applied to none of them; name the app by id"));
    assert!(section[3].ends_with("matched no app"));
}
