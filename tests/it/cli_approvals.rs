//! Approvals through the real binary against okta-sim over loopback, with the real sled
//! journal: with `approval = "required"` on the orphaned-mapping removal, `apply` plans it,
//! holds it and journals `awaiting_approval` once (a second pass does not ask again); `approve`
//! journals who and the plan hash, and the next `apply` carries it out and verifies it;
//! `reject` keeps it held; an approval that expired (the policy's expiry shortened) or whose
//! action changed (the policy now deletes target groups: same id, another plan hash) is not
//! used and the action is asked for again; `status` and `plan` show it as awaiting approval.

use crate::support::act as act_support;
use crate::support::cli as cli_support;

use cli_support::{parts, stdout_if_exit, Cli, ORG2ORG};
use remediator::journal::{EntryKind, EntryKindTag, JournalStore};
use serde_json::Value;

/// The orphaned-mappings org with the removal requiring approval.
pub async fn approval_org() -> Cli {
    let cli = Cli::start(act_support::scenario("orphaned-push-mappings")).await;
    let push = cli.dir.path().join("policies/push-mappings.toml");
    let text = std::fs::read_to_string(&push).expect("push-mappings.toml");
    let text = format!("[remove_push_mappings]\napproval = \"required\"\n\n{text}");
    std::fs::write(&push, text).expect("write push-mappings.toml");
    cli
}

fn set_expiry(cli: &Cli, expiry: &str) {
    let safety = cli.dir.path().join("policies/safety.toml");
    let text = std::fs::read_to_string(&safety).expect("safety.toml");
    let line = text
        .lines()
        .find(|l| l.starts_with("cooldown = "))
        .expect("safety.toml sets the cooldown")
        .to_owned();
    let text = text.replacen(&line, &format!("{line}\napproval_expiry = \"{expiry}\""), 1);
    std::fs::write(&safety, text).expect("write safety.toml");
}

/// The `awaiting_approval` entries: (action id, plan hash, asked).
pub fn asked(cli: &Cli) -> Vec<(String, String, String)> {
    entries(cli, EntryKindTag::AwaitingApproval)
        .into_iter()
        .filter_map(|(id, kind)| match kind {
            EntryKind::AwaitingApproval {
                plan_hash, asked, ..
            } => Some((id, plan_hash, asked)),
            _ => None,
        })
        .collect()
}

fn entries(cli: &Cli, kind: EntryKindTag) -> Vec<(String, EntryKind)> {
    cli.entries(kind)
        .into_iter()
        .map(|e| {
            (
                e.action_id.map(|a| a.to_string()).unwrap_or_default(),
                e.kind,
            )
        })
        .collect()
}

/// `apply --yes`, its exit code and stdout.
async fn apply(cli: &Cli) -> (Option<i32>, String) {
    let out = cli.run(&["apply", "--yes"]).await;
    let (code, stdout, stderr) = parts(&out);
    assert!(matches!(code, Some(0 | 3)), "{stdout}\n{stderr}");
    (code, stdout)
}

/// The plan's removal action (JSON).
async fn planned_removal(cli: &Cli) -> Value {
    let out = cli.run(&["plan", "-o", "json"]).await;
    let plan: Value = serde_json::from_str(&stdout_if_exit(&out, 0, "plan: ")).expect("JSON");
    plan["actions"]
        .as_array()
        .expect("actions")
        .iter()
        .find(|a| a["kind"] == "remove-push-mappings")
        .cloned()
        .unwrap_or_else(|| panic!("a removal in {plan}"))
}

fn mappings(cli: &Cli) -> usize {
    act_support::app_state(cli.sim(), ORG2ORG)["mappings"]
        .as_array()
        .map_or(0, Vec::len)
}

fn removal_outcomes(cli: &Cli, action: &str) -> Vec<String> {
    entries(cli, EntryKindTag::Outcome)
        .into_iter()
        .filter(|(id, _)| id == action)
        .filter_map(|(_, kind)| match kind {
            EntryKind::Outcome { outcome, .. } => Some(outcome.as_str().to_owned()),
            _ => None,
        })
        .collect()
}

async fn decide(cli: &Cli, verb: &str, action: &str) -> String {
    let out = cli
        .run(&[verb, action, "--by", "alice", "--reason", "CHG-42"])
        .await;
    stdout_if_exit(&out, 0, &format!("{verb}: "))
}

#[tokio::test]
async fn an_approval_required_fix_is_held_asked_once_then_approved_and_carried_out() {
    let cli = approval_org().await;
    let before = mappings(&cli);
    assert!(before > 0);
    let (code, stdout) = apply(&cli).await;
    assert_eq!(code, Some(0), "{stdout}");
    assert!(stdout.contains("awaiting approval"), "{stdout}");
    assert!(stdout.contains("0 taken"), "{stdout}");
    assert_eq!(mappings(&cli), before, "nothing removed before approval");
    let asked_once = asked(&cli);
    assert_eq!(asked_once.len(), 1, "{asked_once:?}");
    let (action, hash, why) = asked_once[0].clone();
    assert!(action.starts_with("act-") && hash.starts_with("sha256:"));
    assert_eq!(why, "new");
    let entry = entries(&cli, EntryKindTag::AwaitingApproval).remove(0).1;
    let EntryKind::AwaitingApproval {
        org,
        summary,
        expires_at,
        ..
    } = entry
    else {
        unreachable!("filtered by kind");
    };
    assert_eq!(org, cli.org_url());
    assert!(!summary.is_empty());
    assert!(expires_at > chrono::Utc::now() + chrono::Duration::hours(23));

    // Waiting unchanged: not asked again; apply's report, the plan and status show it waiting.
    let out = cli.run(&["apply", "--yes", "-o", "json"]).await;
    let report: Value = serde_json::from_str(&stdout_if_exit(&out, 0, "apply -o json: "))
        .expect("the run report is JSON");
    assert_eq!(
        report["awaiting_approval"][0]["id"],
        action.as_str(),
        "{report}"
    );
    assert_eq!(
        report["awaiting_approval"][0]["approval"]["status"],
        "awaiting"
    );
    assert_eq!(asked(&cli).len(), 1, "asked once while it waits unchanged");
    let planned = planned_removal(&cli).await;
    assert_eq!(planned["id"], action.as_str());
    assert_eq!(planned["approval"]["status"], "awaiting");
    assert_eq!(planned["approval"]["plan_hash"], hash.as_str());
    let table = stdout_if_exit(&cli.run(&["plan"]).await, 0, "plan: ");
    assert!(table.contains("AWAITING APPROVAL"), "{table}");
    assert!(table.contains("1 awaiting approval"), "{table}");
    let detailed = cli.run(&["plan", "--detailed-exitcode"]).await;
    assert_eq!(
        detailed.status.code(),
        Some(0),
        "an action awaiting approval is not one apply would carry out"
    );
    let status = stdout_if_exit(&cli.run(&["status", "-o", "json"]).await, 0, "status: ");
    let status: Value = serde_json::from_str(&status).expect("JSON");
    let held = status["orgs"][0]["held"]
        .as_array()
        .expect("held")
        .iter()
        .find(|h| h["why"] == "awaiting-approval")
        .cloned()
        .unwrap_or_else(|| panic!("awaiting approval in {status}"));
    assert_eq!(held["action_id"], action.as_str());
    assert!(held["until"].is_string(), "{held}");
    let table = stdout_if_exit(&cli.run(&["status"]).await, 0, "status: ");
    assert!(
        table.contains("awaiting-approval") && table.contains(&action),
        "{table}"
    );

    let approved = decide(&cli, "approve", &action).await;
    assert!(approved.contains(&hash), "{approved}");
    let granted = entries(&cli, EntryKindTag::ApprovalGranted);
    assert!(
        matches!(&granted[..], [(id, EntryKind::ApprovalGranted { by, plan_hash, .. })]
            if *id == action && by == "alice" && *plan_hash == hash),
        "{granted:?}"
    );
    let planned = planned_removal(&cli).await;
    assert_eq!(planned["approval"]["status"], "approved");
    let (code, stdout) = apply(&cli).await;
    assert_eq!(code, Some(0), "{stdout}");
    assert!(stdout.contains("1 taken, 1 verified"), "{stdout}");
    assert_eq!(mappings(&cli), 0, "the approved removal was carried out");
    assert_eq!(removal_outcomes(&cli, &action), ["verified"]);
    assert!(
        cli.journal().approvals().expect("approvals").is_empty(),
        "an approval is used once"
    );
}

#[tokio::test]
async fn a_rejected_fix_stays_held_and_is_not_asked_again() {
    let cli = approval_org().await;
    let before = mappings(&cli);
    apply(&cli).await;
    let (action, _, _) = asked(&cli).remove(0);
    let rejected = decide(&cli, "reject", &action).await;
    assert!(rejected.contains("rejected"), "{rejected}");
    let (code, stdout) = apply(&cli).await;
    assert_eq!(code, Some(0), "{stdout}");
    assert!(stdout.contains("rejected"), "{stdout}");
    assert_eq!(
        mappings(&cli),
        before,
        "a rejected removal is not carried out"
    );
    assert_eq!(asked(&cli).len(), 1, "a rejection is not asked again");
    assert!(removal_outcomes(&cli, &action).is_empty());
    let planned = planned_removal(&cli).await;
    assert_eq!(planned["approval"]["status"], "rejected");
    assert_eq!(planned["approval"]["by"], "alice");
    let unknown = cli
        .run(&["approve", "act-0000000000000000", "--by", "alice"])
        .await;
    let (code, _, stderr) = parts(&unknown);
    assert_eq!(code, Some(1));
    assert!(
        stderr.contains("no action act-0000000000000000 awaits approval"),
        "{stderr}"
    );
}

#[tokio::test]
async fn an_expired_approval_is_not_used_and_the_fix_is_asked_for_again() {
    let cli = approval_org().await;
    let before = mappings(&cli);
    apply(&cli).await;
    let (action, hash, _) = asked(&cli).remove(0);
    decide(&cli, "approve", &action).await;
    // The policy's expiry shortened below the time since it was asked: it applies at once.
    set_expiry(&cli, "1s");
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let (code, stdout) = apply(&cli).await;
    assert_eq!(code, Some(0), "{stdout}");
    assert!(stdout.contains("0 taken"), "{stdout}");
    assert_eq!(mappings(&cli), before, "an expired approval is not used");
    let again = asked(&cli);
    assert_eq!(
        again
            .iter()
            .map(|(_, _, why)| why.as_str())
            .collect::<Vec<_>>(),
        ["new", "expired"],
        "{again:?}"
    );
    assert_eq!(again[1].0, action);
    assert_eq!(again[1].1, hash);
    assert!(removal_outcomes(&cli, &action).is_empty());
}

#[tokio::test]
async fn an_approval_of_an_action_that_changed_is_not_used_and_the_fix_is_asked_for_again() {
    let cli = approval_org().await;
    let before = mappings(&cli);
    apply(&cli).await;
    let (action, hash, _) = asked(&cli).remove(0);
    decide(&cli, "approve", &action).await;
    // The same removal (same id: the same evidence) with other steps: target groups deleted.
    let push = cli.dir.path().join("policies/push-mappings.toml");
    let text = std::fs::read_to_string(&push)
        .expect("push-mappings.toml")
        .replace(
            "delete_target_groups = false",
            "delete_target_groups = true",
        );
    std::fs::write(&push, text).expect("write push-mappings.toml");
    let planned = planned_removal(&cli).await;
    assert_eq!(planned["id"], action.as_str());
    assert_eq!(planned["approval"]["status"], "changed");
    assert_ne!(planned["approval"]["plan_hash"], hash.as_str());
    let (code, stdout) = apply(&cli).await;
    assert_eq!(code, Some(0), "{stdout}");
    assert_eq!(mappings(&cli), before, "the approval was for another plan");
    let again = asked(&cli);
    assert_eq!(again.len(), 2, "{again:?}");
    assert_eq!(again[1].0, action);
    assert_eq!(again[1].2, "changed");
    assert_ne!(again[1].1, hash);
    assert!(removal_outcomes(&cli, &action).is_empty());
    let stale = cli.journal().approvals().expect("approvals");
    assert!(
        stale.iter().all(|r| r.decision.is_none()),
        "the new request waits for a new decision: {stale:?}"
    );
}

#[tokio::test]
async fn an_approval_is_not_used_once_the_org_changed_and_the_new_action_is_asked_for() {
    let cli = approval_org().await;
    apply(&cli).await;
    let (action, _, _) = asked(&cli).remove(0);
    decide(&cli, "approve", &action).await;
    // An admin deactivates one of the mappings (enabling provisioning for it and disabling it
    // again, as Okta requires): the removal planned now has other evidence.
    let app = act_support::app_state(cli.sim(), ORG2ORG);
    let mapping = app["mappings"][0]["id"]
        .as_str()
        .expect("a mapping")
        .to_owned();
    let base = format!("{}/api/v1/apps/{ORG2ORG}", cli.sim().base_url());
    let admin = reqwest::Client::new();
    let auth = format!("SSWS {}", cli.token());
    let calls = [
        (
            reqwest::Method::POST,
            format!("{base}/connections/default?activate=true"),
            serde_json::json!({ "profile": { "authScheme": "TOKEN", "token": act_support::PARTNER_TOKEN } }),
        ),
        (
            reqwest::Method::PATCH,
            format!("{base}/group-push/mappings/{mapping}"),
            serde_json::json!({ "status": "INACTIVE" }),
        ),
        (
            reqwest::Method::POST,
            format!("{base}/connections/default/lifecycle/deactivate"),
            serde_json::json!({}),
        ),
    ];
    for (method, url, body) in calls {
        let response = admin
            .request(method, &url)
            .header("Authorization", &auth)
            .json(&body)
            .send()
            .await
            .expect("the admin's call");
        assert!(
            response.status().is_success(),
            "{url}: {}",
            response.status()
        );
    }
    let before = mappings(&cli);
    let (code, stdout) = apply(&cli).await;
    assert_eq!(code, Some(0), "{stdout}");
    assert_eq!(
        mappings(&cli),
        before,
        "the approval was for the org as it was"
    );
    let again = asked(&cli);
    assert_eq!(again.len(), 2, "{again:?}");
    assert_ne!(again[1].0, action, "another action: another state");
    assert_eq!(again[1].2, "new");
    assert!(removal_outcomes(&cli, &action).is_empty());
    let records = cli.journal().approvals().expect("approvals");
    assert_eq!(
        records
            .iter()
            .map(|r| r.action_id.to_string())
            .collect::<Vec<_>>(),
        [again[1].0.clone()],
        "the old request is withdrawn"
    );
}

#[tokio::test]
async fn a_policy_approval_value_that_is_not_required_or_none_is_refused_with_its_line() {
    let cli = Cli::start(act_support::scenario("healthy")).await;
    let push = cli.dir.path().join("policies/push-mappings.toml");
    let text = std::fs::read_to_string(&push).expect("push-mappings.toml");
    std::fs::write(
        &push,
        format!("[remove_push_mappings]\napproval = \"yes\"\n\n{text}"),
    )
    .expect("write");
    set_expiry(&cli, "0s");
    let out = cli.run(&["policy", "validate"]).await;
    let (code, stdout, stderr) = parts(&out);
    assert_ne!(code, Some(0), "{stdout}");
    let all = format!("{stdout}{stderr}");
    assert!(
        all.contains("push-mappings.toml:2:")
            && all.contains("remove_push_mappings.approval")
            && all.contains("expected one of required, none"),
        "{all}"
    );
    assert!(
        all.contains("safety.approval_expiry") && all.contains("expected a duration from 1s"),
        "{all}"
    );
}
