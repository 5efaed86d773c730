//! Incomplete reads through the real binary against okta-sim over loopback: the agent pools
//! answering 404 or 403 (an optional part, named as such, withholding nothing), a 404 on one
//! app's provisioning connection (evidence, and why the removal was dropped), a connection read
//! that fails (only that app's removal withheld). The plan JSON and table name each part not
//! read and why; stderr says so; `--detailed-exitcode` never exits 0; `apply` exits 3 and
//! journals the run as incomplete.

use crate::support::act as act_support;
use crate::support::cli as cli_support;

use cli_support::{parts, with_service_app, Cli};
use okta_sim::{EndpointAvailability, FaultKind, FaultRule};
use serde_json::Value;

use crate::support::sim::add_fault;

const PARTNER_ORG: &str = "0oaorphorg2org000001";

fn plan_json(out: &std::process::Output) -> Value {
    let (code, stdout, stderr) = parts(out);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    serde_json::from_str(&stdout).expect("the plan is JSON")
}

/// The plan's `incomplete` entry for `part`.
fn incomplete<'a>(plan: &'a Value, part: &str) -> &'a Value {
    plan["incomplete"]
        .as_array()
        .expect("an incomplete list")
        .iter()
        .find(|i| i["part"] == part)
        .unwrap_or_else(|| panic!("{part} not in {}", plan["incomplete"]))
}

async fn fault(cli: &Cli, rule: FaultRule) {
    add_fault(cli.sim(), &rule).await;
}

fn connection_fault(kind: FaultKind) -> FaultRule {
    FaultRule {
        path_prefix: Some(format!("/api/v1/apps/{PARTNER_ORG}/connections/default")),
        method: Some("GET".into()),
        kind,
        count: None,
        after: 0,
    }
}

#[tokio::test]
async fn agent_pools_not_found_are_an_optional_part_named_in_the_plan() {
    let mut scenario = act_support::scenario("kpasswd-blocked");
    scenario.org.agent_pools = EndpointAvailability::NotFound;
    let cli = Cli::start(scenario).await;
    let out = cli.run(&["plan", "--output", "json"]).await;
    let stderr = parts(&out).2;
    let plan = plan_json(&out);
    assert_eq!(plan["complete"], false);
    assert_eq!(plan["incomplete"].as_array().map(Vec::len), Some(1));
    let agents = incomplete(&plan, "agents");
    assert_eq!(agents["optional"], true);
    assert_eq!(agents["kind"], "not-found");
    assert_eq!(agents["request"], "GET /api/v1/agentPools");
    assert_eq!(agents["status"], 404);
    assert_eq!(agents["code"], "E0000007");
    // Nothing depends on the agents but the diagnosis's evidence, which says they were not read.
    assert!(plan["skipped"]
        .as_array()
        .expect("skipped")
        .iter()
        .all(|s| s.get("part").is_none()));
    let kpasswd = plan["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["kind"] == "kpasswd-blocked")
        .expect("the diagnosis stays");
    assert!(kpasswd["evidence"]
        .as_array()
        .expect("evidence")
        .iter()
        .any(|e| e["type"] == "note"
            && e["text"]
                .as_str()
                .is_some_and(|t| t.starts_with("agents was not read"))));
    let warning = stderr
        .lines()
        .find(|l| l.starts_with("warning: incomplete read of "))
        .unwrap_or_else(|| panic!("a warning on stderr: {stderr}"));
    assert!(
        warning.contains("not read: agents (GET /api/v1/agentPools: HTTP 404 E0000007"),
        "{warning}"
    );

    let (_, table, _) = parts(&cli.run(&["plan"]).await);
    assert!(
        table
            .lines()
            .next()
            .is_some_and(|l| l.contains("INCOMPLETE read: agents not read")),
        "{table}"
    );
    assert!(
        table.contains("agents (optional)  GET /api/v1/agentPools  HTTP 404 E0000007"),
        "{table}"
    );
    assert!(
        table.contains("withheld: nothing that was found depends on it"),
        "{table}"
    );

    let (code, stdout, stderr) = parts(&cli.run(&["plan", "--detailed-exitcode"]).await);
    assert_eq!(code, Some(1), "never 0 from an incomplete read: {stderr}");
    assert!(stdout.contains("INCOMPLETE"), "the plan is still shown");
    assert!(stderr.starts_with("error: incomplete read of "), "{stderr}");
}

#[tokio::test]
async fn agent_pools_refused_for_a_missing_scope_are_named_with_okta_s_answer() {
    let scenario = with_service_app(
        act_support::scenario("kpasswd-blocked"),
        &["okta.apps.read", "okta.logs.read"],
    );
    let cli = Cli::start(scenario)
        .await
        .service_app("okta.apps.read okta.logs.read");
    let plan = plan_json(&cli.run(&["plan", "--output", "json"]).await);
    let agents = incomplete(&plan, "agents");
    assert_eq!(agents["kind"], "authorization");
    assert_eq!(agents["status"], 403);
    assert_eq!(agents["code"], "E0000006");
    assert_eq!(agents["optional"], true);
    assert!(!plan["findings"].as_array().expect("findings").is_empty());
}

#[tokio::test]
async fn a_404_on_one_app_s_connection_drops_its_removal_with_okta_s_answer() {
    let cli = Cli::start(act_support::scenario("orphaned-push-mappings")).await;
    fault(&cli, connection_fault(FaultKind::NotFound)).await;
    let plan = plan_json(&cli.run(&["plan", "--output", "json"]).await);
    assert_eq!(
        plan["complete"], true,
        "Okta answered: {}",
        plan["incomplete"]
    );
    assert!(plan["actions"]
        .as_array()
        .expect("actions")
        .iter()
        .all(|a| a["kind"] != "remove-push-mappings"));
    let skip = plan["skipped"]
        .as_array()
        .expect("skipped")
        .iter()
        .find(|s| s["kind"] == "remove-push-mappings")
        .expect("the dropped removal is listed");
    assert_eq!(skip["why"], "connection-unknown");
    assert_eq!(skip["target"]["app_id"], PARTNER_ORG);
    let detail = skip["detail"].as_str().expect("detail");
    assert!(
        detail.contains("GET /api/v1/apps/{appId}/connections/default: HTTP 404 E0000007"),
        "{detail}"
    );
    let evidence = skip["evidence"].as_array().expect("evidence");
    assert!(evidence.iter().any(|e| e["type"] == "note"));
    assert_eq!(
        evidence
            .iter()
            .filter(|e| e["type"] == "push-mapping")
            .count(),
        2
    );
}

#[tokio::test]
async fn a_failing_connection_read_withholds_only_that_app_s_removal() {
    let cli = Cli::start(act_support::scenario("all-situations")).await;
    fault(
        &cli,
        connection_fault(FaultKind::ServerError { status: 500 }),
    )
    .await;
    let plan = plan_json(&cli.run(&["plan", "--output", "json"]).await);
    let part = format!("connections({PARTNER_ORG})");
    let unread = incomplete(&plan, &part);
    assert_eq!(unread["kind"], "server-error");
    assert_eq!(
        unread["request"],
        "GET /api/v1/apps/{appId}/connections/default"
    );
    assert!(
        unread["reason"]
            .as_str()
            .is_some_and(|r| r.starts_with("HTTP 500 E0000009 Internal Server Error")),
        "{unread}"
    );
    let withheld: Vec<&Value> = plan["skipped"]
        .as_array()
        .expect("skipped")
        .iter()
        .filter(|s| s["part"] == part.as_str())
        .collect();
    assert_eq!(withheld.len(), 1, "{withheld:#?}");
    assert_eq!(withheld[0]["kind"], "remove-push-mappings");
    assert_eq!(withheld[0]["why"], "incomplete-read");
    // Everything else is still planned.
    let kinds: Vec<&str> = plan["actions"]
        .as_array()
        .expect("actions")
        .iter()
        .filter_map(|a| a["kind"].as_str())
        .collect();
    assert!(kinds.contains(&"retry-provisioning"), "{kinds:?}");
    assert!(kinds.contains(&"force-sync"), "{kinds:?}");
    assert!(!kinds.contains(&"remove-push-mappings"), "{kinds:?}");

    let (_, table, _) = parts(&cli.run(&["plan"]).await);
    assert!(
        table.contains(&format!(
            "withheld: remove-push-mappings app={PARTNER_ORG};mappings="
        )),
        "{table}"
    );

    let (code, stdout, stderr) = parts(&cli.run(&["apply", "--yes"]).await);
    assert_eq!(code, Some(3), "{stdout}\n{stderr}");
    assert!(stderr.contains(&format!("not read: {part} (")), "{stderr}");
    let (_, list, _) = parts(&cli.run(&["journal", "list"]).await);
    let finished = list
        .lines()
        .find(|l| l.contains("run_finished"))
        .expect("the run finished");
    assert!(finished.contains(" incomplete "), "{finished}");
    assert!(
        finished.contains(&format!("not read: {part}")),
        "{finished}"
    );
}
