//! Rule 4 (fix-provisioning-features) and its hand-off with rule 1.

use crate::support::plan as plan_support;

use plan_support::*;
use remediator::observe::{PartId, Snapshot};
use remediator::plan::{ActionKind, Evidence, FindingKind, Precondition, SkipReason, Step, Target};
use remediator::policy::{FeatureAction, Mode, Policy, RuleKind, WantedFeatures};

fn wanting(action: FeatureAction) -> Policy {
    let mut p = policy();
    p.provisioning_features.apps.push(WantedFeatures {
        app: "Slack".into(),
        create_users: true,
        update_attributes: true,
        deactivate_users: true,
        action,
    });
    p
}

/// Slack with Deactivate Users off and one user failing because of it, one failing transiently.
fn drifted(name: &str, connection: &str) -> Snapshot {
    let mut s = snapshot();
    let mut slack = app("0oaS", name, "Slack", Some(connection));
    slack.user_provisioning = Some(caps(true, true, false));
    s.apps = complete(vec![slack]);
    s.failed_assignments = complete(vec![
        failure("0oaS", "00u1", "User account is inactive", minutes_ago(60)),
        failure("0oaS", "00u2", "HTTP 503 from server", minutes_ago(60)),
    ]);
    s
}

#[test]
fn drift_is_fixed_then_the_explained_users_are_repushed() {
    let plan = run(
        &wanting(FeatureAction::Fix),
        &drifted("slack", "ENABLED"),
        &journal(),
    );
    let kinds: Vec<_> = plan.actions.iter().map(|a| a.kind).collect();
    assert_eq!(
        kinds,
        vec![
            ActionKind::RetryProvisioning,
            ActionKind::FixProvisioningFeatures
        ],
        "{plan:#?}"
    );
    assert_eq!(plan.actions[0].target, Target::app_user("0oaS", "00u2"));
    let fix = &plan.actions[1];
    assert_eq!(fix.target, Target::app("0oaS"));
    assert_eq!(
        fix.steps,
        vec![
            Step::UpdateProvisioningFeatures {
                app_id: "0oaS".into(),
                create_users: None,
                update_attributes: None,
                deactivate_users: Some(true),
            },
            Step::RepushAppUser {
                app_id: "0oaS".into(),
                user_id: "00u1".into()
            },
            fix.steps[2].clone(),
        ]
    );
    assert!(matches!(fix.steps[2], Step::Verify { .. }));
    assert!(fix.preconditions.contains(&Precondition::FeatureState {
        app_id: "0oaS".into(),
        feature: "deactivate_users".into(),
        enabled: false
    }));
    assert!(fix.evidence.contains(&Evidence::Feature {
        app_id: "0oaS".into(),
        feature: "deactivate_users".into(),
        wanted: true,
        actual: false
    }));
    assert!(plan.findings.is_empty(), "{:#?}", plan.findings);
}

#[test]
fn drift_on_an_app_without_the_features_api_is_a_finding_listing_the_users() {
    let plan = run(
        &wanting(FeatureAction::Fix),
        &drifted("acme_scim", "ENABLED"),
        &journal(),
    );
    assert!(plan
        .actions
        .iter()
        .all(|a| a.kind == ActionKind::RetryProvisioning
            && a.target.user_id.as_deref() == Some("00u2")));
    assert_eq!(plan.findings.len(), 1);
    let f = &plan.findings[0];
    assert_eq!(f.kind, FindingKind::ProvisioningFeaturesDrift);
    assert!(f.manual_steps[0].starts_with(
        "Applications > Slack > Provisioning > To App > Edit > enable Deactivate Users"
    ));
    assert!(f.manual_steps[1].contains("Retry Selected") && f.manual_steps[1].contains("00u1"));
}

#[test]
fn report_action_or_disabled_provisioning_gives_a_finding() {
    let plan = run(
        &wanting(FeatureAction::Report),
        &drifted("slack", "ENABLED"),
        &journal(),
    );
    assert!(plan
        .actions
        .iter()
        .all(|a| a.kind != ActionKind::FixProvisioningFeatures));
    assert_eq!(
        plan.findings[0].kind,
        FindingKind::ProvisioningFeaturesDrift
    );

    let plan = run(
        &wanting(FeatureAction::Fix),
        &drifted("slack", "DISABLED"),
        &journal(),
    );
    assert!(plan
        .actions
        .iter()
        .all(|a| a.kind != ActionKind::FixProvisioningFeatures));
    assert!(plan.findings[0].reason.contains("not enabled"));
}

#[test]
fn report_mode_skips_the_fix_and_reports_the_drift() {
    let mut p = wanting(FeatureAction::Fix);
    p.global
        .modes
        .insert(RuleKind::ProvisioningFeatures, Mode::Report);
    let plan = run(&p, &drifted("slack", "ENABLED"), &journal());
    assert!(plan
        .actions
        .iter()
        .all(|a| a.kind != ActionKind::FixProvisioningFeatures));
    let skip = plan
        .skipped
        .iter()
        .find(|s| s.kind == ActionKind::FixProvisioningFeatures)
        .expect("skipped for mode");
    assert_eq!(skip.why, SkipReason::Mode);
    assert_eq!(
        plan.findings[0].kind,
        FindingKind::ProvisioningFeaturesDrift
    );
}

#[test]
fn actual_state_falls_back_to_the_features_array() {
    let mut s = snapshot();
    let mut slack = app("0oaS", "slack", "Slack", Some("ENABLED"));
    slack.features = ["PUSH_NEW_USERS", "PUSH_PROFILE_UPDATES"]
        .into_iter()
        .map(String::from)
        .collect();
    s.apps = complete(vec![slack]);
    let plan = run(&wanting(FeatureAction::Fix), &s, &journal());
    assert_eq!(plan.actions.len(), 1);
    assert_eq!(
        plan.actions[0].steps[0],
        Step::UpdateProvisioningFeatures {
            app_id: "0oaS".into(),
            create_users: None,
            update_attributes: None,
            deactivate_users: Some(true),
        }
    );
}

#[test]
fn no_drift_no_action() {
    let mut s = drifted("slack", "ENABLED");
    s.apps.value[0].user_provisioning = Some(caps(true, true, true));
    s.failed_assignments.value.clear();
    let plan = run(&wanting(FeatureAction::Fix), &s, &journal());
    assert!(plan.actions.is_empty() && plan.findings.is_empty() && plan.skipped.is_empty());
}

#[test]
fn an_unread_feature_withholds_the_feature_change_and_the_app_s_retries() {
    let mut s = drifted("slack", "ENABLED");
    s.apps.value[0].user_provisioning = None;
    s.apps.mark(
        PartId::Features("0oaS".into()),
        server_error(
            "GET /api/v1/apps/{appId}/features/USER_PROVISIONING",
            "E0000009",
        ),
    );
    let plan = run(&wanting(FeatureAction::Fix), &s, &journal());
    assert!(!plan.complete);
    assert_eq!(plan.incomplete[0].part, PartId::Features("0oaS".into()));
    assert!(plan.actions.is_empty(), "{:#?}", plan.actions);
    assert!(plan.findings.is_empty(), "no drift finding from a guess");
    let retries: Vec<_> = plan
        .skipped
        .iter()
        .filter(|s| s.kind == ActionKind::RetryProvisioning)
        .collect();
    assert_eq!(retries.len(), 2, "the drift may explain them: {retries:#?}");
    assert!(retries
        .iter()
        .all(|s| s.part == Some(PartId::Features("0oaS".into()))));
    assert!(plan
        .actions
        .iter()
        .all(|a| a.kind != ActionKind::FixProvisioningFeatures));
    let skip = plan
        .skipped
        .iter()
        .find(|s| s.kind == ActionKind::FixProvisioningFeatures)
        .expect("skipped");
    assert_eq!(skip.why, SkipReason::IncompleteRead);
    assert!(skip.detail.contains("HTTP 500"));
}

#[test]
fn user_not_found_is_explained_by_create_users_off() {
    let mut s = drifted("slack", "ENABLED");
    s.apps.value[0].user_provisioning = Some(caps(false, true, true));
    s.failed_assignments.value[0] =
        failure("0oaS", "00u1", "Matching user not found", minutes_ago(60));
    let plan = run(&wanting(FeatureAction::Fix), &s, &journal());
    let fix = plan
        .actions
        .iter()
        .find(|a| a.kind == ActionKind::FixProvisioningFeatures)
        .expect("feature fix planned");
    assert_eq!(
        fix.steps[..2],
        [
            Step::UpdateProvisioningFeatures {
                app_id: "0oaS".into(),
                create_users: Some(true),
                update_attributes: None,
                deactivate_users: None,
            },
            Step::RepushAppUser {
                app_id: "0oaS".into(),
                user_id: "00u1".into()
            },
        ]
    );
    assert!(plan
        .actions
        .iter()
        .all(|a| a.target != Target::app_user("0oaS", "00u1")));
}

#[test]
fn denied_app_skips_the_fix_and_reports_the_drift() {
    let mut p = wanting(FeatureAction::Fix);
    p.safety.apps.deny = vec!["0oaS".into()];
    let plan = run(&p, &drifted("slack", "ENABLED"), &journal());
    assert!(plan.actions.is_empty(), "{:#?}", plan.actions);
    assert!(plan
        .skipped
        .iter()
        .all(|s| s.why == SkipReason::DeniedByPolicy));
    assert_eq!(plan.findings.len(), 1);
    assert_eq!(
        plan.findings[0].kind,
        FindingKind::ProvisioningFeaturesDrift
    );
}
