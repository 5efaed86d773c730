//! Orphaned Group Push mappings found from the org's structure, through the real binary against
//! okta-sim over loopback: apps no policy names, with provisioning disabled and ACTIVE mappings,
//! whose last import failure is older than `log_lookback` or absent, are found (a finding naming
//! the mappings, or a removal where policy names a credential); apps that cannot hold mappings
//! are never asked; a mappings read that failed withholds the app's decision and says why.

use crate::support::act as act_support;
use crate::support::cli as cli_support;

use cli_support::{parts, Cli};
use okta_sim::{FaultKind, FaultRule};
use serde_json::Value;

const SCENARIO: &str = "orphaned-push-mappings-quiet";
const DEEL: &str = "0oaquietdeel00000001";
const ACME: &str = "0oaquietscim00000001";

fn plan_json(out: &std::process::Output) -> Value {
    let (code, stdout, stderr) = parts(out);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    serde_json::from_str(&stdout).expect("the plan is JSON")
}

fn list<'a>(plan: &'a Value, key: &str) -> &'a Vec<Value> {
    plan[key]
        .as_array()
        .unwrap_or_else(|| panic!("{key} in {plan}"))
}

/// The entries of `key` about `app`.
fn about<'a>(plan: &'a Value, key: &str, app: &str) -> Vec<&'a Value> {
    list(plan, key)
        .iter()
        .filter(|e| e["target"]["app_id"] == app)
        .collect()
}

fn mapping_evidence(entry: &Value) -> Vec<&str> {
    entry["evidence"]
        .as_array()
        .expect("evidence")
        .iter()
        .filter(|e| e["type"] == "push-mapping")
        .filter_map(|e| e["mapping_id"].as_str())
        .collect()
}

async fn fault(cli: &Cli, rule: FaultRule) {
    let sim = cli.sim.as_ref().expect("a sim");
    let response = reqwest::Client::new()
        .post(format!("{}/__sim/faults", sim.base_url()))
        .json(&rule)
        .send()
        .await
        .expect("control call");
    assert_eq!(response.status(), 201);
}

/// Fails every mappings request of `app` after the first `after`.
fn mappings_fault(app: &str, after: u64) -> FaultRule {
    FaultRule {
        path_prefix: Some(format!("/api/v1/apps/{app}/group-push/mappings")),
        method: Some("GET".into()),
        kind: FaultKind::ServerError { status: 503 },
        count: None,
        after,
    }
}

#[tokio::test]
async fn unnamed_apps_with_old_or_no_failures_are_found_with_their_mappings() {
    let cli = Cli::start(act_support::scenario(SCENARIO)).await;
    let plan = plan_json(&cli.run(&["plan", "--output", "json"]).await);
    assert_eq!(plan["complete"], true, "{}", plan["incomplete"]);
    for (app, mappings) in [
        (DEEL, vec!["gPmquietdeel00000001", "gPmquietdeel00000002"]),
        (ACME, vec!["gPmquietscim00000001"]),
    ] {
        let findings = about(&plan, "findings", app);
        assert_eq!(findings.len(), 1, "{app}: {}", plan["findings"]);
        let finding = findings[0];
        assert_eq!(finding["kind"], "push-mappings-orphaned-no-credential");
        assert_eq!(
            finding["target"]["mapping_ids"],
            serde_json::json!(mappings)
        );
        assert_eq!(mapping_evidence(finding), mappings, "{finding}");
    }
    // Provisioning enabled (Slack), only an INACTIVE mapping (Zoom), no provisioning at all
    // (a custom OpenID Connect app, a bookmark): nothing to report.
    for app in [
        "0oaquietslack0000001",
        "0oaquietzoom00000001",
        "0oaquietoidc00000001",
        "0oaquietbookmark0001",
    ] {
        for key in ["findings", "actions", "skipped"] {
            assert!(about(&plan, key, app).is_empty(), "{app} in {key}");
        }
    }
}

#[tokio::test]
async fn only_apps_that_can_hold_mappings_are_asked_and_only_what_is_needed() {
    let cli = Cli::start(act_support::scenario(SCENARIO)).await;
    plan_json(&cli.run(&["plan", "--output", "json"]).await);
    let stats = cli.sim.as_ref().expect("a sim").stats();
    // Four apps can hold mappings (not the OpenID Connect app, not the bookmark). Slack is named
    // by the shipped features policy, so its connection was read (ENABLED) and it is not asked;
    // the other three get one question each, and the full list only the two with provisioning
    // disabled and an ACTIVE mapping (Zoom has only an INACTIVE one).
    assert_eq!(
        stats.count("GET /api/v1/apps/{id}/group-push/mappings"),
        3 + 2
    );
    // Slack's (for its features), then only those of the two with an ACTIVE mapping.
    assert_eq!(
        stats.count("GET /api/v1/apps/{id}/connections/default"),
        1 + 2
    );
}

#[tokio::test]
async fn a_swept_app_named_with_a_credential_gets_its_removal_planned() {
    let cli = Cli::start(act_support::scenario(SCENARIO)).await;
    let file = cli.dir.path().join("policies").join("push-mappings.toml");
    let mut text = std::fs::read_to_string(&file).expect("policy");
    text.push_str(
        "\n[remove_push_mappings.apps.\"acme scim (eu)\"]\ncredential = { env = \"PARTNER_ORG_TOKEN\" }\n",
    );
    std::fs::write(&file, text).expect("policy written");
    let plan = plan_json(&cli.run(&["plan", "--output", "json"]).await);
    let actions = about(&plan, "actions", ACME);
    assert_eq!(actions.len(), 1, "{}", plan["actions"]);
    assert_eq!(actions[0]["kind"], "remove-push-mappings");
    assert_eq!(mapping_evidence(actions[0]), ["gPmquietscim00000001"]);
    // The other one, unnamed, stays a finding.
    assert_eq!(about(&plan, "findings", DEEL).len(), 1);
}

#[tokio::test]
async fn a_failed_mappings_read_withholds_that_app_s_decision_and_says_why() {
    // Deel HR's question is answered, its full list fails; Acme's question itself fails.
    let cli = Cli::start(act_support::scenario(SCENARIO)).await;
    fault(&cli, mappings_fault(DEEL, 1)).await;
    fault(&cli, mappings_fault(ACME, 0)).await;
    let plan = plan_json(&cli.run(&["plan", "--output", "json"]).await);
    assert_eq!(plan["complete"], false);
    for app in [DEEL, ACME] {
        let part = format!("push-mappings({app})");
        let unread = list(&plan, "incomplete")
            .iter()
            .find(|i| i["part"] == part.as_str())
            .unwrap_or_else(|| panic!("{part} not in {}", plan["incomplete"]));
        assert_eq!(
            unread["request"],
            "GET /api/v1/apps/{appId}/group-push/mappings"
        );
        assert!(
            unread["reason"]
                .as_str()
                .is_some_and(|r| r.starts_with("HTTP 503")),
            "{unread}"
        );
        assert!(about(&plan, "findings", app).is_empty(), "{app}");
        let skipped = about(&plan, "skipped", app);
        assert_eq!(skipped.len(), 1, "{app}: {}", plan["skipped"]);
        assert_eq!(skipped[0]["kind"], "remove-push-mappings");
        assert_eq!(skipped[0]["why"], "incomplete-read");
        assert_eq!(skipped[0]["part"], part.as_str());
    }
}
