//! Rules 2 (force-sync), 5 (KPASSWD) and 6 (invalid provisioning credentials).

use crate::support::plan as plan_support;

use chrono::Duration;
use plan_support::*;
use remediator::observe::{
    AgentInfo, AttributeDiff, DirectoryInfo, Part, ProbeResult, ProfileValue, Snapshot,
};
use remediator::plan::{ActionKind, Evidence, FindingKind, Precondition, Step, Target};
use remediator::policy::{DomainController, Policy};
use serde_json::json;

fn value(v: Option<&str>) -> ProfileValue {
    v.map_or(ProfileValue::Null, |v| ProfileValue::Known(json!(v)))
}

fn diff(
    user: &str,
    app_user: Option<&str>,
    okta: Option<&str>,
    reported: Option<&str>,
) -> AttributeDiff {
    AttributeDiff {
        user_id: user.into(),
        app_user_attribute: "title".into(),
        app_user_value: value(app_user),
        okta_attribute: "title".into(),
        okta_value: value(okta),
        expected_directory_value: reported.map(|v| json!(v)),
    }
}

fn directory(diffs: Vec<AttributeDiff>) -> Snapshot {
    let mut s = snapshot();
    s.directories = vec![DirectoryInfo {
        app_id: "0oaAD".into(),
        label: "corp.example.com".into(),
        name: "active_directory".into(),
        attributes: Part::complete(diffs),
    }];
    s
}

fn force_sync_enabled() -> Policy {
    let mut p = policy();
    p.admin = admin_paths(r#"force_sync_path = "/admin/app/{appId}/forceSync""#);
    p.force_sync.use_admin_path = true;
    p
}

fn dir_target() -> Target {
    Target {
        directory_id: Some("0oaAD".into()),
        ..Target::default()
    }
}

#[test]
fn one_force_sync_per_directory_with_every_compared_attribute_as_evidence() {
    let s = directory(vec![
        diff("00u2", Some("Engineer"), Some("Intern"), None),
        diff("00u1", Some("Manager"), None, Some("Manager")),
        diff("00u3", Some("Lead"), Some("Staff"), None),
    ]);
    let plan = run(&force_sync_enabled(), &s, &journal());
    assert_eq!(plan.actions.len(), 1, "{plan:#?}");
    let a = &plan.actions[0];
    assert_eq!(a.kind, ActionKind::ForceSync);
    assert_eq!(a.target, dir_target());
    assert_eq!(a.evidence.len(), 3);
    assert!(matches!(&a.evidence[0], Evidence::Attribute { user_id, .. } if user_id == "00u1"));
    assert_eq!(
        a.steps[0],
        Step::ForceSyncDirectory {
            directory_id: "0oaAD".into()
        }
    );
    assert!(matches!(a.steps[1], Step::Verify { .. }));
    assert_eq!(a.preconditions.len(), 3);
    assert_eq!(
        a.preconditions[1],
        Precondition::AttributeDiffers {
            user_id: "00u2".into(),
            okta_attribute: "title".into(),
            expected: Some(json!("Intern"))
        }
    );
}

#[test]
fn without_the_admin_path_force_sync_is_a_finding_with_console_steps() {
    let s = directory(vec![diff("00u1", Some("Engineer"), Some("Intern"), None)]);
    let plan = run(&policy(), &s, &journal());
    assert!(plan.actions.is_empty());
    assert_eq!(plan.findings.len(), 1);
    assert_eq!(plan.findings[0].kind, FindingKind::ForceSyncNeeded);
    assert_eq!(
        plan.findings[0].manual_steps,
        vec!["Directory > Directory Integrations > corp.example.com > Provisioning > To Okta > Force Sync"]
    );
}

#[test]
fn a_change_the_app_user_does_not_hold_is_force_sync_would_not_help() {
    let s = directory(vec![diff(
        "00u1",
        Some("Engineer"),
        Some("Engineer"),
        Some("Director"),
    )]);
    let plan = run(&force_sync_enabled(), &s, &journal());
    assert!(plan.actions.is_empty(), "{plan:#?}");
    assert_eq!(plan.findings.len(), 1);
    let f = &plan.findings[0];
    assert_eq!(f.kind, FindingKind::ForceSyncWouldNotHelp);
    assert!(f.manual_steps.iter().any(|s| s.contains("Import")));
    assert!(f
        .manual_steps
        .last()
        .is_some_and(|s| s.ends_with("Force Sync")));
}

#[test]
fn denied_directory_is_skipped() {
    let mut p = force_sync_enabled();
    p.safety.directories.deny = vec!["0oaAD".into()];
    let s = directory(vec![diff("00u1", Some("Engineer"), Some("Intern"), None)]);
    let plan = run(&p, &s, &journal());
    assert!(plan.actions.is_empty());
    assert_eq!(
        plan.skipped[0].why,
        remediator::plan::SkipReason::DeniedByPolicy
    );
}

/// The KPASSWD triple for `user` starting `offset` minutes ago, with a `gap` between write and sync.
fn kpasswd_events(user: &str, offset: i64, gap_secs: i64) -> Vec<remediator::observe::EventInfo> {
    let t0 = minutes_ago(offset);
    let t1 = t0 + Duration::seconds(gap_secs);
    vec![
        event(
            &format!("w-{user}"),
            "system.agent.ad.write_ldap",
            "SUCCESS",
            None,
            t0,
            Some(user),
            Some("0oaAD"),
        ),
        event(
            &format!("s-{user}"),
            "application.provision.user.sync",
            "FAILURE",
            None,
            t1,
            Some(user),
            Some("0oaAD"),
        ),
        event(
            &format!("i-{user}"),
            "system.agent.ad.invoke_dir",
            "SUCCESS",
            None,
            t1 + Duration::seconds(5),
            Some(user),
            Some("0oaAD"),
        ),
    ]
}

fn kpasswd_snapshot(gap_secs: i64) -> Snapshot {
    let mut s = snapshot();
    s.apps = complete(vec![app(
        "0oaAD",
        "active_directory",
        "corp.example.com",
        None,
    )]);
    s.events = complete(kpasswd_events("00u1", 120, gap_secs));
    s.agents = complete(vec![AgentInfo {
        id: "a1".into(),
        name: "dc-agent-1".into(),
        pool_id: "p1".into(),
        operational_status: "OPERATIONAL".into(),
        last_connection: None,
    }]);
    s.failed_assignments = complete(vec![{
        let mut fa = failure("0oaAD", "00u1", "", minutes_ago(120));
        fa.error.as_mut().expect("built with an event").reason = None;
        fa.error
            .as_mut()
            .expect("built with an event")
            .display_message = "HTTP 503 retry".into();
        fa
    }]);
    s
}

#[test]
fn kpasswd_pattern_is_a_finding_and_its_users_are_not_retried() {
    let plan = run(&policy(), &kpasswd_snapshot(30), &journal());
    assert!(plan.actions.is_empty(), "{plan:#?}");
    assert_eq!(plan.findings.len(), 1);
    let f = &plan.findings[0];
    assert_eq!(f.kind, FindingKind::KpasswdBlocked);
    assert_eq!(f.target, dir_target());
    let uuids: Vec<_> = f
        .evidence
        .iter()
        .filter_map(|e| match e {
            Evidence::LogEvent { uuid, .. } => Some(uuid.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(uuids, vec!["w-00u1", "s-00u1", "i-00u1"]);
    assert!(f
        .evidence
        .iter()
        .any(|e| matches!(e, Evidence::Agent { agent_id, .. } if agent_id == "a1")));
    assert!(f.manual_steps[0].contains("464"));
}

#[test]
fn kpasswd_gap_beyond_max_gap_is_no_match() {
    let plan = run(&policy(), &kpasswd_snapshot(120), &journal());
    assert!(plan
        .findings
        .iter()
        .all(|f| f.kind != FindingKind::KpasswdBlocked));
    assert_eq!(plan.actions.len(), 1, "the transient failure is retried");
}

#[test]
fn kpasswd_users_are_retried_once_every_probe_passes_and_policy_asks() {
    let mut p = policy();
    p.kpasswd.retry_after_probe_passes = true;
    p.kpasswd.domain_controllers = vec![DomainController {
        host: "dc1".into(),
        port: 464,
    }];
    let mut s = kpasswd_snapshot(30);
    s.kpasswd_probes = vec![ProbeResult {
        host: "dc1".into(),
        port: 464,
        reachable: true,
        error: None,
    }];
    let plan = run(&p, &s, &journal());
    assert_eq!(plan.actions.len(), 1);
    assert_eq!(plan.actions[0].target, Target::app_user("0oaAD", "00u1"));
    assert!(plan.findings[0]
        .evidence
        .iter()
        .any(|e| matches!(e, Evidence::Note { text } if text.contains("dc1:464 reachable"))));

    s.kpasswd_probes[0].reachable = false;
    let plan = run(&p, &s, &journal());
    assert!(plan.actions.is_empty());
}

#[test]
fn authentication_failures_give_a_credentials_finding_per_app() {
    let mut s = snapshot();
    s.apps = complete(vec![app("0oaZ", "zoomus", "Zoom", Some("ENABLED"))]);
    s.events = complete(vec![event(
        "af1",
        "application.integration.authentication_failure",
        "FAILURE",
        Some("401"),
        minutes_ago(30),
        None,
        Some("0oaZ"),
    )]);
    s.failed_assignments = complete(vec![failure(
        "0oaZ",
        "00u9",
        "Unauthorized",
        minutes_ago(30),
    )]);
    let plan = run(&policy(), &s, &journal());
    assert!(plan.actions.is_empty());
    assert_eq!(plan.findings.len(), 1);
    let f = &plan.findings[0];
    assert_eq!(f.kind, FindingKind::ProvisioningCredentialsInvalid);
    assert_eq!(f.target, Target::app("0oaZ"));
    assert!(
        f.manual_steps[0].starts_with("Applications > Zoom > Provisioning > Integration > Edit")
    );
    assert!(f.manual_steps[0].contains("Test API Credentials"));
    assert!(f.manual_steps[1].contains("00u9"));
    assert_eq!(
        f.evidence.len(),
        3,
        "the event, the app user and its failure event"
    );
}

#[test]
fn report_mode_force_sync_is_skipped_and_reported_with_console_steps() {
    let mut p = force_sync_enabled();
    p.global.modes.insert(
        remediator::policy::RuleKind::ForceSync,
        remediator::policy::Mode::Report,
    );
    let s = directory(vec![diff("00u1", Some("Engineer"), Some("Intern"), None)]);
    let plan = run(&p, &s, &journal());
    assert!(plan.actions.is_empty());
    assert_eq!(plan.skipped[0].why, remediator::plan::SkipReason::Mode);
    assert_eq!(plan.findings[0].kind, FindingKind::ForceSyncNeeded);
}
