//! Rule 1 (retry-provisioning): one test per branch, on hand-built snapshots.

use crate::support::plan as plan_support;

use plan_support::*;
use remediator::journal::{Attempt, AttemptKey};
use remediator::plan::{ActionKind, FindingKind, Precondition, SkipReason, Step, Target};
use remediator::policy::{RetryStrategy, Selector};

const TRANSIENT: &str = "HTTP 503 Service Unavailable from remote server";

fn one_failure(text: &str, minutes: i64) -> remediator::observe::Snapshot {
    let mut s = snapshot();
    s.apps = complete(vec![app("0oaS", "slack", "Slack", Some("ENABLED"))]);
    s.failed_assignments = complete(vec![failure("0oaS", "00u1", text, minutes_ago(minutes))]);
    s
}

#[test]
fn transient_error_old_enough_is_repushed_and_verified() {
    let plan = run(&policy(), &one_failure(TRANSIENT, 60), &journal());
    assert_eq!(plan.actions.len(), 1, "{plan:#?}");
    let a = &plan.actions[0];
    assert_eq!(a.kind, ActionKind::RetryProvisioning);
    assert_eq!(a.target, Target::app_user("0oaS", "00u1"));
    assert_eq!(
        a.steps[0],
        Step::RepushAppUser {
            app_id: "0oaS".into(),
            user_id: "00u1".into()
        }
    );
    assert!(matches!(a.steps[1], Step::Verify { .. }));
    assert_eq!(a.steps.len(), 2);
    assert_eq!(
        a.preconditions,
        vec![Precondition::AppUserSyncState {
            app_id: "0oaS".into(),
            user_id: "00u1".into(),
            sync_state: "ERROR".into()
        }]
    );
    assert!(plan.findings.is_empty() && plan.skipped.is_empty());
}

#[test]
fn admin_task_retry_uses_retry_tasks_only_when_the_path_is_set() {
    let mut p = policy();
    p.retry_provisioning.strategy = RetryStrategy::AdminTaskRetry;
    let plan = run(&p, &one_failure(TRANSIENT, 60), &journal());
    assert!(plan.actions.is_empty());
    assert_eq!(plan.findings[0].kind, FindingKind::RetryNotSafe);
    assert!(plan.findings[0].reason.contains("task_retry_path"));

    p.admin = admin_paths(r#"task_retry_path = "/admin/app/{appId}/tasks/{userId}/retry""#);
    let plan = run(&p, &one_failure(TRANSIENT, 60), &journal());
    assert_eq!(
        plan.actions[0].steps[0],
        Step::RetryTasks {
            app_id: "0oaS".into(),
            user_ids: vec!["00u1".into()]
        }
    );
}

#[test]
fn never_retry_error_without_drift_is_a_finding_not_an_action() {
    let plan = run(
        &policy(),
        &one_failure("User account is inactive", 60),
        &journal(),
    );
    assert!(plan.actions.is_empty());
    assert_eq!(plan.findings.len(), 1);
    assert_eq!(plan.findings[0].kind, FindingKind::RetryNotSafe);
    assert!(plan.findings[0].reason.contains("User account is inactive"));
    assert!(plan.findings[0]
        .manual_steps
        .iter()
        .any(|s| s.contains("Retry Selected")));
}

#[test]
fn credential_errors_go_to_the_credentials_finding() {
    let plan = run(
        &policy(),
        &one_failure("Invalid Credentials", 60),
        &journal(),
    );
    assert!(plan.actions.is_empty());
    let kinds: Vec<_> = plan.findings.iter().map(|f| f.kind).collect();
    assert_eq!(kinds, vec![FindingKind::ProvisioningCredentialsInvalid]);
}

#[test]
fn unknown_error_is_reported_unless_policy_retries_unknown_errors() {
    let plan = run(&policy(), &one_failure("something odd", 60), &journal());
    assert!(plan.actions.is_empty());
    assert_eq!(plan.findings[0].kind, FindingKind::RetryNotSafe);
    assert!(plan.findings[0].reason.contains("retry_unknown_errors"));

    let mut p = policy();
    p.retry_provisioning.retry_unknown_errors = true;
    let plan = run(&p, &one_failure("something odd", 60), &journal());
    assert_eq!(plan.actions.len(), 1);
}

#[test]
fn error_younger_than_min_error_age_is_skipped_too_recent() {
    let plan = run(&policy(), &one_failure(TRANSIENT, 5), &journal());
    assert!(plan.actions.is_empty());
    assert_eq!(plan.skipped.len(), 1);
    assert_eq!(plan.skipped[0].why, SkipReason::TooRecent);
    assert_eq!(plan.skipped[0].target, Target::app_user("0oaS", "00u1"));
}

fn with_attempts(count: u32, minutes: i64) -> remediator::journal::JournalView {
    let mut j = journal();
    j.attempts.insert(
        AttemptKey {
            action_kind: ActionKind::RetryProvisioning,
            target_key: Target::app_user("0oaS", "00u1").key(),
        },
        Attempt {
            count,
            last_attempt_at: minutes_ago(minutes),
        },
    );
    j
}

#[test]
fn max_attempts_quarantines_with_manual_steps() {
    let plan = run(
        &policy(),
        &one_failure(TRANSIENT, 600),
        &with_attempts(5, 600),
    );
    assert!(plan.actions.is_empty());
    assert_eq!(plan.findings.len(), 1);
    let f = &plan.findings[0];
    assert_eq!(f.kind, FindingKind::FixQuarantined);
    assert!(f
        .manual_steps
        .iter()
        .any(|s| s.contains("Dashboard > Tasks")));
}

#[test]
fn backoff_after_an_attempt_skips_until_the_delay_passed() {
    // Default backoff: 15 min after the first attempt, 30 min after the second.
    let plan = run(
        &policy(),
        &one_failure(TRANSIENT, 600),
        &with_attempts(2, 20),
    );
    assert_eq!(plan.skipped.len(), 1, "{plan:#?}");
    assert_eq!(plan.skipped[0].why, SkipReason::Backoff);
    let plan = run(
        &policy(),
        &one_failure(TRANSIENT, 600),
        &with_attempts(2, 31),
    );
    assert_eq!(plan.actions.len(), 1);
}

#[test]
fn apps_outside_the_rule_are_ignored_and_denied_apps_are_skipped() {
    let mut p = policy();
    p.retry_provisioning.apps = Selector::Only(vec!["Zoom".into()]);
    let plan = run(&p, &one_failure(TRANSIENT, 60), &journal());
    assert!(plan.actions.is_empty() && plan.skipped.is_empty() && plan.findings.is_empty());

    let mut p = policy();
    p.safety.apps.deny = vec!["slack".into()];
    let plan = run(&p, &one_failure(TRANSIENT, 60), &journal());
    assert!(plan.actions.is_empty());
    assert_eq!(plan.skipped[0].why, SkipReason::DeniedByPolicy);
}

#[test]
fn one_action_per_app_user_sorted_by_target() {
    let mut s = snapshot();
    s.apps = complete(vec![app("0oaS", "slack", "Slack", Some("ENABLED"))]);
    s.failed_assignments = complete(vec![
        failure("0oaS", "00u2", TRANSIENT, minutes_ago(60)),
        failure("0oaS", "00u1", TRANSIENT, minutes_ago(60)),
    ]);
    let plan = run(&policy(), &s, &journal());
    let targets: Vec<_> = plan.actions.iter().map(|a| a.target.clone()).collect();
    assert_eq!(
        targets,
        vec![
            Target::app_user("0oaS", "00u1"),
            Target::app_user("0oaS", "00u2")
        ]
    );
    assert_ne!(plan.actions[0].id, plan.actions[1].id);
}

#[test]
fn credential_error_on_an_app_the_credentials_rule_skips_is_still_not_retried() {
    let mut p = policy();
    p.provisioning_credentials.apps = Selector::Only(vec!["Zoom".into()]);
    let plan = run(&p, &one_failure("Invalid Credentials", 60), &journal());
    assert!(plan.actions.is_empty());
    let kinds: Vec<_> = plan.findings.iter().map(|f| f.kind).collect();
    assert_eq!(kinds, vec![FindingKind::RetryNotSafe]);
}
