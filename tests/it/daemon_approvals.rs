//! Approvals through a running daemon, with the real binary against okta-sim over loopback and
//! the real sled journal: the daemon's own pass asks for the approval-required removal;
//! `status` (through the daemon), `/v1/status` and `remediator_approvals_pending` show it;
//! `POST /v1/actions/{id}/approve` without the API token is refused and journals nothing,
//! `remediator approve` goes through the daemon with the token and is journaled with who; once
//! the daemon stops, `apply` carries the approved removal out. On a loopback-only listener with
//! no token configured, a reject is accepted without one.

use std::process::Stdio;
use std::time::Duration;

use crate::cli_approvals::approval_org;
use crate::support::cli as cli_support;
use crate::support::daemon::Daemon;

use cli_support::{stdout_if_exit, Cli, ORG2ORG};
use remediator::journal::{EntryFilter, EntryKind, EntryKindTag, JournalStore};
use serde_json::{json, Value};

/// How long the daemon is given to start and finish its first run (a bound, not a figure).
const FIRST_RUN_BOUND: Duration = Duration::from_secs(180);
const API_TOKEN: &str = "test-api-token-approvals-0123";

/// `remediator run` (acting), once its first run asked for approval.
async fn start(cli: &Cli) -> Daemon {
    let daemon = Daemon::spawn(cli, &[], &[], Stdio::null());
    daemon
        .status_when(FIRST_RUN_BOUND, "ask for the approval", |s| {
            awaiting(s).is_some()
        })
        .await;
    daemon
}

/// The held entry awaiting approval in a status answer.
fn awaiting(status: &Value) -> Option<&Value> {
    status["orgs"][0]["held"]
        .as_array()?
        .iter()
        .find(|h| h["why"] == "awaiting-approval")
}

/// Stops the daemon with SIGTERM and waits for a clean exit (the journal is free again).
async fn stop(daemon: Daemon) {
    let exit = daemon.stop().await;
    assert!(exit.success(), "{exit:?}");
}

fn decisions(cli: &Cli, kind: EntryKindTag) -> Vec<String> {
    cli.entries(kind)
        .into_iter()
        .filter_map(|e| match e.kind {
            EntryKind::ApprovalGranted { by, .. } | EntryKind::ApprovalRejected { by, .. } => {
                Some(by)
            }
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn approve_goes_through_the_running_daemon_with_its_token_and_apply_carries_it_out() {
    let cli = approval_org().await.env("REMEDIATOR_API_TOKEN", API_TOKEN);
    let daemon = start(&cli).await;
    let status = stdout_if_exit(&cli.run(&["status", "-o", "json"]).await, 0, "status: ");
    let status: Value = serde_json::from_str(&status).expect("status JSON");
    let held = awaiting(&status).unwrap_or_else(|| panic!("awaiting approval in {status}"));
    let action = held["action_id"].as_str().expect("an action id").to_owned();
    assert!(held["until"].is_string(), "{held}");
    let metrics = reqwest::get(format!("{}/metrics", daemon.base))
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("remediator_approvals_pending{") && l.ends_with(" 1")),
        "{metrics}"
    );

    let refused = reqwest::Client::new()
        .post(format!("{}/v1/actions/{action}/approve", daemon.base))
        .json(&json!({ "by": "mallory" }))
        .send()
        .await
        .expect("answer");
    assert_eq!(refused.status().as_u16(), 401);
    let out = cli
        .run(&["approve", &action, "--by", "alice", "--reason", "CHG-7"])
        .await;
    let approved = stdout_if_exit(&out, 0, "approve through the daemon: ");
    assert!(
        approved.contains("approved") && approved.contains(&action),
        "{approved}"
    );
    let journal: Value = daemon.get_json("/v1/journal?kind=approval_granted").await;
    let bys: Vec<&Value> = journal
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| &e["kind"]["by"])
        .collect();
    assert_eq!(bys, [&json!("alice")], "only the authorized approval");
    stop(daemon).await;

    // The daemon's next pass or this apply carries it out, once.
    let out = cli.run(&["apply", "--yes"]).await;
    stdout_if_exit(&out, 0, "apply: ");
    let app = crate::support::act::app_state(cli.sim(), ORG2ORG);
    assert_eq!(app["mappings"].as_array().map_or(0, Vec::len), 0, "{app}");
    let verified = cli
        .journal()
        .list(&EntryFilter::default())
        .expect("list")
        .into_iter()
        .filter(|e| e.action_id.as_ref().is_some_and(|a| a.as_str() == action))
        .filter(|e| e.outcome().is_some_and(|o| o.as_str() == "verified"))
        .count();
    assert_eq!(verified, 1);
    assert_eq!(decisions(&cli, EntryKindTag::ApprovalGranted), ["alice"]);
}

#[tokio::test]
async fn a_loopback_only_daemon_without_a_token_accepts_a_reject_and_journals_who() {
    let cli = approval_org().await;
    let daemon = start(&cli).await;
    let (action, _, asked) = cli_reader(&cli).await.awaiting().remove(0);
    assert_eq!(asked, "new");
    let answer = reqwest::Client::new()
        .post(format!("{}/v1/actions/{action}/reject", daemon.base))
        .json(&json!({ "by": "bob", "reason": "not in the change window" }))
        .send()
        .await
        .expect("answer");
    assert_eq!(answer.status().as_u16(), 200);
    let body: Value = answer.json().await.expect("JSON");
    assert_eq!(body["entry"]["kind"]["type"], "approval_rejected");
    assert_eq!(body["entry"]["action_id"], action.as_str());
    let unknown = reqwest::Client::new()
        .post(format!(
            "{}/v1/actions/act-0000000000000000/approve",
            daemon.base
        ))
        .json(&json!({ "by": "bob" }))
        .send()
        .await
        .expect("answer");
    assert_eq!(unknown.status().as_u16(), 404);
    stop(daemon).await;
    assert_eq!(decisions(&cli, EntryKindTag::ApprovalRejected), ["bob"]);
}

/// The journal's entries while the daemon holds it, read through `journal export`.
async fn cli_reader(cli: &Cli) -> ExportedJournal {
    let out = cli.run(&["journal", "export"]).await;
    ExportedJournal(stdout_if_exit(&out, 0, "journal export: "))
}

/// Exported journal lines.
struct ExportedJournal(String);

impl ExportedJournal {
    fn awaiting(&self) -> Vec<(String, String, String)> {
        self.0
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|e| e["kind"]["type"] == "awaiting_approval")
            .map(|e| {
                let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
                (
                    text(&e["action_id"]),
                    text(&e["kind"]["plan_hash"]),
                    text(&e["kind"]["asked"]),
                )
            })
            .collect()
    }
}
