//! Rule 3 (remove-push-mappings).

use crate::support::plan as plan_support;

use plan_support::*;
use remediator::observe::{FailureKind, Part, PartId, ReadFailure, Snapshot};
use remediator::plan::{ActionKind, Evidence, FindingKind, Precondition, SkipReason, Step, Target};
use remediator::policy::{CredentialSource, Policy, PushMappingRemoval};

fn orphaned() -> Snapshot {
    let mut s = snapshot();
    s.apps = complete(vec![app(
        "0oaG",
        "google",
        "Google Workspace",
        Some("DISABLED"),
    )]);
    s.push_mappings.insert(
        "0oaG".into(),
        Part::complete(vec![mapping("gPm2", "INACTIVE"), mapping("gPm1", "ACTIVE")]),
    );
    s.events = complete(vec![
        event(
            "imp",
            "system.import.complete",
            "FAILURE",
            Some("Invalid Credentials"),
            minutes_ago(50),
            None,
            Some("0oaG"),
        ),
        event(
            "gp",
            "application.provision.group_push.mapping.update.or.delete.failed.with.error",
            "FAILURE",
            None,
            minutes_ago(40),
            None,
            Some("0oaG"),
        ),
        event(
            "other",
            "user.session.start",
            "SUCCESS",
            None,
            minutes_ago(30),
            None,
            Some("0oaG"),
        ),
    ]);
    s
}

fn with_credential() -> Policy {
    let mut p = policy();
    p.remove_push_mappings.apps.push(PushMappingRemoval {
        app: "google workspace".into(),
        credential: CredentialSource::Env("GOOGLE_PROVISIONING_TOKEN".into()),
        delete_target_groups: false,
    });
    p
}

fn target() -> Target {
    Target {
        app_id: Some("0oaG".into()),
        mapping_ids: vec!["gPm1".into(), "gPm2".into()],
        ..Target::default()
    }
}

#[test]
fn enables_removes_each_mapping_and_disables_again() {
    let plan = run(&with_credential(), &orphaned(), &journal());
    assert_eq!(plan.actions.len(), 1, "{plan:#?}");
    let a = &plan.actions[0];
    assert_eq!(a.kind, ActionKind::RemovePushMappings);
    assert_eq!(a.target, target());
    let app = || remediator::okta::AppId::new("0oaG");
    assert_eq!(
        a.steps[..5],
        [
            Step::EnableProvisioning {
                app_id: app(),
                credential: "environment variable GOOGLE_PROVISIONING_TOKEN".into()
            },
            Step::DeactivatePushMapping {
                app_id: app(),
                mapping_id: "gPm1".into()
            },
            Step::DeletePushMapping {
                app_id: app(),
                mapping_id: "gPm1".into(),
                delete_target_group: false
            },
            Step::DeletePushMapping {
                app_id: app(),
                mapping_id: "gPm2".into(),
                delete_target_group: false
            },
            Step::DisableProvisioning { app_id: app() },
        ]
    );
    assert!(matches!(a.steps[5], Step::Verify { .. }));
    assert_eq!(
        a.preconditions,
        vec![
            Precondition::ConnectionStatus {
                app_id: app(),
                status: "DISABLED".into()
            },
            Precondition::PushMappingStatus {
                app_id: app(),
                mapping_id: "gPm1".into(),
                status: "ACTIVE".into()
            },
            Precondition::PushMappingStatus {
                app_id: app(),
                mapping_id: "gPm2".into(),
                status: "INACTIVE".into()
            },
        ]
    );
    let json = serde_json::to_string(&plan).expect("serializes");
    assert!(json.contains("GOOGLE_PROVISIONING_TOKEN") && !json.contains("secret"));
}

#[test]
fn without_a_credential_the_orphaned_mappings_are_a_finding_with_the_symptoms() {
    let plan = run(&policy(), &orphaned(), &journal());
    assert!(plan.actions.is_empty());
    assert_eq!(plan.findings.len(), 1);
    let f = &plan.findings[0];
    assert_eq!(f.kind, FindingKind::PushMappingsOrphanedNoCredential);
    assert_eq!(f.target, target());
    let uuids: Vec<_> = f
        .evidence
        .iter()
        .filter_map(|e| match e {
            Evidence::LogEvent { uuid, .. } => Some(uuid.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(uuids, vec!["imp", "gp"]);
    assert_eq!(
        f.evidence
            .iter()
            .filter(|e| matches!(e, Evidence::PushMapping { .. }))
            .count(),
        2
    );
    assert!(f.manual_steps.iter().any(|s| s.contains("Push Groups")));
    assert!(f
        .manual_steps
        .iter()
        .any(|s| s.contains("remove the affected users")));
}

#[test]
fn incomplete_mapping_read_withholds_the_removal() {
    let mut s = orphaned();
    s.push_mappings.get_mut("0oaG").expect("inserted").mark(
        PartId::PushMappings("0oaG".into()),
        server_error(
            "GET /api/v1/apps/{appId}/group-push/mappings",
            "page 2 failed",
        ),
    );
    let plan = run(&with_credential(), &s, &journal());
    assert!(plan.actions.is_empty());
    assert!(
        plan.findings.is_empty(),
        "no orphaned-mappings finding from part of the list"
    );
    assert_eq!(plan.skipped.len(), 1);
    assert_eq!(plan.skipped[0].why, SkipReason::IncompleteRead);
    assert_eq!(
        plan.skipped[0].part,
        Some(PartId::PushMappings("0oaG".into()))
    );
    assert!(plan.skipped[0].detail.contains("page 2 failed"));
}

#[test]
fn an_unread_connection_withholds_the_removal_naming_it() {
    let mut s = orphaned();
    s.apps.value[0].connection = None;
    s.apps.mark(
        PartId::Connections("0oaG".into()),
        server_error("GET /api/v1/apps/{appId}/connections/default", "E0000009"),
    );
    let plan = run(&with_credential(), &s, &journal());
    assert!(plan.actions.is_empty());
    assert_eq!(plan.skipped[0].why, SkipReason::IncompleteRead);
    assert_eq!(
        plan.skipped[0].part,
        Some(PartId::Connections("0oaG".into()))
    );
    assert!(!plan.complete);
}

#[test]
fn a_connection_okta_does_not_expose_drops_the_removal_with_its_answer() {
    let mut s = orphaned();
    s.apps.value[0].connection = None;
    s.apps.value[0].no_connection = Some(ReadFailure::new(
        "GET /api/v1/apps/{appId}/connections/default",
        FailureKind::NotFound,
        "HTTP 404 E0000007 Not found: Resource not found: 0oaG (AppInstance)",
    ));
    let plan = run(&with_credential(), &s, &journal());
    assert!(plan.complete, "Okta answered: the read is complete");
    assert!(plan.actions.is_empty());
    let skip = &plan.skipped[0];
    assert_eq!(skip.why, SkipReason::ConnectionUnknown);
    assert!(skip.detail.contains("HTTP 404 E0000007"), "{}", skip.detail);
    assert!(
        skip.detail.contains("2 Group Push mapping(s)"),
        "{}",
        skip.detail
    );
    assert!(skip
        .evidence
        .iter()
        .any(|e| matches!(e, Evidence::Note { text } if text.contains("404"))));
    assert_eq!(
        skip.evidence
            .iter()
            .filter(|e| matches!(e, Evidence::PushMapping { .. }))
            .count(),
        2
    );
}

#[test]
fn enabled_provisioning_or_no_mappings_is_left_alone() {
    let mut s = orphaned();
    s.apps.value[0].connection.as_mut().expect("set").status = "ENABLED".into();
    let plan = run(&with_credential(), &s, &journal());
    assert!(plan.actions.is_empty() && plan.findings.is_empty() && plan.skipped.is_empty());

    let mut s = orphaned();
    s.push_mappings
        .insert("0oaG".into(), Part::complete(vec![]));
    let plan = run(&with_credential(), &s, &journal());
    assert!(plan.actions.is_empty() && plan.findings.is_empty());
}

#[test]
fn target_groups_are_deleted_only_when_policy_says_so() {
    let mut p = with_credential();
    p.remove_push_mappings.apps[0].delete_target_groups = true;
    let plan = run(&p, &orphaned(), &journal());
    assert!(plan.actions[0].steps.iter().any(|s| matches!(
        s,
        Step::DeletePushMapping {
            delete_target_group: true,
            ..
        }
    )));
}

#[test]
fn in_report_mode_the_orphaned_mappings_are_a_finding() {
    let mut p = with_credential();
    p.global.modes.insert(
        remediator::policy::RuleKind::RemovePushMappings,
        remediator::policy::Mode::Report,
    );
    let plan = run(&p, &orphaned(), &journal());
    assert!(plan.actions.is_empty());
    assert_eq!(plan.skipped.len(), 1);
    assert_eq!(plan.skipped[0].why, SkipReason::Mode);
    let finding = plan
        .findings
        .iter()
        .find(|f| f.kind == FindingKind::PushMappingsOrphaned)
        .expect("a push-mappings-orphaned finding");
    assert_eq!(finding.target, target());
    assert!(finding.reason.contains("report mode"), "{}", finding.reason);
    assert!(finding
        .manual_steps
        .iter()
        .any(|s| s.contains("Deactivate, then Delete")));
    assert!(finding
        .evidence
        .iter()
        .any(|e| matches!(e, Evidence::LogEvent { .. })));
}
