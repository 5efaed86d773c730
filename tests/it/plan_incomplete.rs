//! The planner on an incomplete read: each decision is withheld exactly when a part it depends
//! on (docs/executor.md, "What depends on what") was not read, as `skipped` with reason
//! `incomplete-read` naming the part; everything else is planned as on a complete read; the
//! table's banner names each part and what it withheld.

use crate::support::plan as plan_support;

use plan_support::*;
use remediator::observe::{FailureKind, PartId, ReadFailure, Snapshot};
use remediator::plan::{render_table, ActionKind, Evidence, FindingKind, Plan, SkipReason};
use remediator::policy::{CredentialSource, Policy, PushMappingRemoval};

const SLACK: &str = "0oaS";
const GOOGLE: &str = "0oaG";
const OTHER: &str = "0oaO";

/// Slack with transient failures, and two apps with provisioning disabled and orphaned
/// mappings, each removable with a credential policy names.
fn org() -> Snapshot {
    let mut s = snapshot();
    s.apps = complete(vec![
        app(GOOGLE, "google", "Google Workspace", Some("DISABLED")),
        app(OTHER, "okta_org2org", "Partner Org", Some("DISABLED")),
        app(SLACK, "slack", "Slack", Some("ENABLED")),
    ]);
    s.failed_assignments = complete(vec![
        failure(SLACK, "00u1", "connection timed out", minutes_ago(60)),
        failure(SLACK, "00u2", "connection timed out", minutes_ago(60)),
    ]);
    for id in [GOOGLE, OTHER] {
        s.push_mappings.insert(
            id.into(),
            complete(vec![mapping(&format!("gPm{id}"), "ACTIVE")]),
        );
    }
    s
}

fn removing() -> Policy {
    let mut p = policy();
    for app in ["Google Workspace", "Partner Org"] {
        p.remove_push_mappings.apps.push(PushMappingRemoval {
            app: app.into(),
            credential: CredentialSource::Env("PARTNER_TOKEN".into()),
            delete_target_groups: false,
        });
    }
    p
}

fn kinds(plan: &Plan) -> Vec<(ActionKind, String)> {
    plan.actions
        .iter()
        .map(|a| {
            (
                a.kind,
                a.target
                    .app_id
                    .clone()
                    .map(|a| a.to_string())
                    .unwrap_or_default(),
            )
        })
        .collect()
}

fn withheld(plan: &Plan, part: &PartId) -> Vec<(ActionKind, String)> {
    plan.withheld_by(part)
        .inspect(|s| assert_eq!(s.why, SkipReason::IncompleteRead))
        .map(|s| (s.kind, s.target.key()))
        .collect()
}

#[test]
fn a_complete_read_plans_every_fix() {
    let plan = run(&removing(), &org(), &journal());
    assert!(plan.complete && plan.incomplete.is_empty());
    assert_eq!(plan.actions.len(), 4, "{:#?}", kinds(&plan));
    assert!(plan.skipped.is_empty(), "{:#?}", plan.skipped);
}

#[test]
fn an_unread_system_log_withholds_the_retries_only() {
    let mut s = org();
    s.events.mark(
        PartId::SystemLog,
        ReadFailure::limit(
            "GET /api/v1/logs",
            "the System Log still had events after 200 pages",
        ),
    );
    let plan = run(&removing(), &s, &journal());
    assert_eq!(
        kinds(&plan),
        vec![
            (ActionKind::RemovePushMappings, GOOGLE.to_owned()),
            (ActionKind::RemovePushMappings, OTHER.to_owned())
        ]
    );
    assert_eq!(
        withheld(&plan, &PartId::SystemLog),
        vec![
            (
                ActionKind::RetryProvisioning,
                format!("app={SLACK};user=00u1")
            ),
            (
                ActionKind::RetryProvisioning,
                format!("app={SLACK};user=00u2")
            )
        ]
    );
    assert!(plan.skipped[0]
        .detail
        .starts_with("system-log was not read: GET /api/v1/logs: "));
}

#[test]
fn an_unread_connection_withholds_that_app_s_removal_only() {
    let mut s = org();
    s.apps.value[0].connection = None;
    let part = PartId::Connections(GOOGLE.into());
    s.apps.mark(
        part.clone(),
        server_error("GET /api/v1/apps/{appId}/connections/default", "E0000009"),
    );
    let plan = run(&removing(), &s, &journal());
    assert_eq!(
        withheld(&plan, &part),
        vec![(
            ActionKind::RemovePushMappings,
            format!("app={GOOGLE};mappings=gPm{GOOGLE}")
        )]
    );
    assert_eq!(plan.skipped.len(), 1);
    let planned = kinds(&plan);
    assert!(planned.contains(&(ActionKind::RemovePushMappings, OTHER.to_owned())));
    assert_eq!(
        planned
            .iter()
            .filter(|(k, _)| *k == ActionKind::RetryProvisioning)
            .count(),
        2,
        "Slack's retries do not depend on Google's connection"
    );
}

#[test]
fn an_unread_directory_withholds_its_force_sync_and_its_findings() {
    let mut s = org();
    let part = PartId::DirectoryProfiles("0oaAD".into());
    s.directories = vec![remediator::observe::DirectoryInfo {
        app_id: "0oaAD".into(),
        label: "corp".into(),
        name: "active_directory".into(),
        attributes: remediator::observe::Part::incomplete(
            Vec::new(),
            part.clone(),
            ReadFailure::new(
                "GET /api/v1/apps/{appId}/users?expand=user",
                FailureKind::Unreachable,
                "no connection: Connection reset by peer",
            ),
        ),
    }];
    let plan = run(&removing(), &s, &journal());
    assert_eq!(
        withheld(&plan, &part),
        vec![(ActionKind::ForceSync, "dir=0oaAD".to_owned())]
    );
    assert_eq!(plan.actions.len(), 4, "the rest is planned");
    assert!(plan
        .findings
        .iter()
        .all(|f| f.kind != FindingKind::ForceSyncNeeded
            && f.kind != FindingKind::ForceSyncWouldNotHelp));
}

#[test]
fn unread_agents_withhold_nothing_and_the_table_says_so() {
    let mut s = org();
    s.agents.mark(
        PartId::Agents,
        ReadFailure::new(
            "GET /api/v1/agentPools",
            FailureKind::Authorization,
            "HTTP 403 E0000006 You do not have permission to perform the requested action",
        ),
    );
    let plan = run(&removing(), &s, &journal());
    assert!(!plan.complete);
    assert!(plan.incomplete[0].optional);
    assert_eq!(plan.actions.len(), 4);
    assert!(plan.skipped.is_empty());
    let table = render_table(&plan);
    assert!(table.lines().next().is_some_and(
        |l| l.ends_with("(INCOMPLETE read: agents not read; what depends on it is withheld)")
    ));
    assert!(
        table.contains("agents (optional)  GET /api/v1/agentPools  HTTP 403 E0000006"),
        "{table}"
    );
    assert!(
        table.contains("withheld: nothing that was found depends on it"),
        "{table}"
    );
}

#[test]
fn the_table_names_each_part_and_what_it_withheld() {
    let mut s = org();
    s.apps.value[1].connection = None;
    s.apps.mark(
        PartId::Connections(OTHER.into()),
        server_error(
            "GET /api/v1/apps/{appId}/connections/default",
            "E0000009 Internal Server Error",
        ),
    );
    s.events.mark(
        PartId::SystemLog,
        server_error("GET /api/v1/logs", "E0000009 Internal Server Error"),
    );
    let table = render_table(&run(&removing(), &s, &journal()));
    let first = table.lines().next().expect("a title");
    assert!(
        first.ends_with(&format!(
            "(INCOMPLETE read: connections({OTHER}), system-log not read; what depends on it is withheld)"
        )),
        "{first}"
    );
    assert!(table.contains("INCOMPLETE READ (2)"), "{table}");
    assert!(
        table.contains(&format!(
        "connections({OTHER})  GET /api/v1/apps/{{appId}}/connections/default  HTTP 500 E0000009"
    )),
        "{table}"
    );
    assert!(
        table.contains(&format!(
            "    withheld: remove-push-mappings app={OTHER};mappings=gPm{OTHER}"
        )),
        "{table}"
    );
    assert!(
        table.contains(&format!(
            "    withheld: retry-provisioning app={SLACK};user=00u1"
        )),
        "{table}"
    );
    assert!(
        table.contains(&format!(
            "    withheld: retry-provisioning app={SLACK};user=00u2"
        )),
        "{table}"
    );
    assert!(table.contains("ACTIONS (1)"), "{table}");
}

#[test]
fn diagnoses_stay_and_say_the_system_log_was_incomplete() {
    let mut s = org();
    s.events = complete(vec![event(
        "auth",
        "application.integration.authentication_failure",
        "FAILURE",
        Some("Invalid Credentials"),
        minutes_ago(30),
        None,
        Some(SLACK),
    )]);
    s.events.mark(
        PartId::SystemLog,
        server_error("GET /api/v1/logs", "page 2"),
    );
    let plan = run(&removing(), &s, &journal());
    let finding = plan
        .findings
        .iter()
        .find(|f| f.kind == FindingKind::ProvisioningCredentialsInvalid)
        .expect("the diagnosis stays");
    assert!(finding.evidence.iter().any(|e| matches!(
        e,
        Evidence::Note { text } if text.starts_with("system-log was not read completely: GET /api/v1/logs")
    )));
}
