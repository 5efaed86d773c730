//! The observe stage against okta-sim over real HTTP: what a snapshot holds for the shipped
//! scenarios, and how a failed read makes a part incomplete rather than empty.

use crate::support::sim::{add_fault, client, serve_shipped};
use chrono::Utc;
use okta_sim::{FaultKind, FaultRule, SimHandle};
use remediator::observe::{observe, FailureKind, LogStart, Observation, PartId, ProfileValue};
use remediator::okta::ClientTuning;
use remediator::policy::Policy;

async fn observe_scenario(scenario: &str) -> (Observation, SimHandle) {
    let (sim, token) = serve_shipped(scenario).await;
    let api = client(&sim, &token, ClientTuning::default());
    let policy = Policy::default_embedded();
    let now = Utc::now();
    let since = now - chrono::Duration::days(7);
    let observation = observe(&api, sim.base_url(), &policy, LogStart::Since(since), now)
        .await
        .expect("the org is readable");
    (observation, sim)
}

#[tokio::test]
async fn healthy_org_observes_complete_and_without_problems() {
    let (observation, _sim) = observe_scenario("healthy").await;
    let snapshot = &observation.snapshot;
    assert!(snapshot.is_complete(), "{snapshot:#?}");
    assert!(!snapshot.apps.value.is_empty());
    assert!(snapshot.failed_assignments.value.is_empty());
}

#[tokio::test]
async fn failed_assignments_carry_their_error_text_from_the_system_log() {
    let (observation, _sim) = observe_scenario("features-disabled").await;
    let failed = &observation.snapshot.failed_assignments;
    assert!(failed.is_complete());
    assert!(!failed.value.is_empty());
    let texts: Vec<&str> = failed.value.iter().filter_map(|f| f.error_text()).collect();
    assert!(
        texts.iter().any(|t| t.contains("User account is inactive")),
        "{texts:?}"
    );
    for f in &failed.value {
        assert_eq!(f.sync_state, "ERROR");
        let event = f
            .error
            .as_ref()
            .expect("a failure event for each seeded error");
        assert_eq!(event.target_id("AppInstance"), Some(f.app_id.as_str()));
        assert_eq!(event.target_id("User"), Some(f.user_id.as_str()));
    }
}

#[tokio::test]
async fn orphaned_push_mapping_app_is_read_with_its_connection() {
    let (observation, _sim) = observe_scenario("orphaned-push-mappings").await;
    let snapshot = &observation.snapshot;
    let disabled: Vec<_> = snapshot
        .apps
        .value
        .iter()
        .filter(|a| a.provisioning_enabled() == Some(false))
        .collect();
    assert!(!disabled.is_empty(), "{:#?}", snapshot.apps);
    for app in disabled {
        let part = snapshot
            .push_mappings
            .get(&app.id)
            .expect("mappings were read for a provisioning-disabled app");
        assert!(part.is_complete(), "{part:?}");
        assert_eq!(part.value.len(), 2);
        assert!(part.value.iter().all(|m| m.status == "ACTIVE"));
    }
    assert!(snapshot
        .events
        .value
        .iter()
        .any(|e| e.event_type == "application.integration.authentication_failure"));
}

#[tokio::test]
async fn kpasswd_events_and_agents_are_observed() {
    let (observation, _sim) = observe_scenario("kpasswd-blocked").await;
    let snapshot = &observation.snapshot;
    let types: Vec<&str> = snapshot
        .events
        .value
        .iter()
        .map(|e| e.event_type.as_str())
        .collect();
    for wanted in [
        "system.agent.ad.write_ldap",
        "application.provision.user.sync",
        "system.agent.ad.invoke_dir",
    ] {
        assert!(types.contains(&wanted), "missing {wanted} in {types:?}");
    }
    assert!(snapshot.agents.is_complete());
    assert!(!snapshot.agents.value.is_empty());
    // Events come back oldest first.
    assert!(snapshot
        .events
        .value
        .windows(2)
        .all(|w| w[0].published <= w[1].published));
}

#[tokio::test]
async fn a_read_failing_mid_way_marks_the_part_incomplete_not_empty() {
    let (sim, token) = serve_shipped("all-situations").await;
    // Every app-user listing of one app fails for good (500, retried, then exhausted).
    let app = sim.state_json()["apps"][0]["id"]
        .as_str()
        .expect("an app id")
        .to_owned();
    let rule = FaultRule {
        path_prefix: Some(format!("/api/v1/apps/{app}/users")),
        method: Some("GET".into()),
        kind: FaultKind::ServerError { status: 500 },
        count: None,
        after: 0,
    };
    add_fault(&sim, &rule).await;
    let api = client(&sim, &token, ClientTuning::default());
    let now = Utc::now();
    let observation = observe(
        &api,
        sim.base_url(),
        &Policy::default_embedded(),
        LogStart::Since(now - chrono::Duration::days(7)),
        now,
    )
    .await
    .expect("the org is readable");
    let failed = &observation.snapshot.failed_assignments;
    let unread = failed
        .failure(&PartId::AppUsers(app.as_str().into()))
        .expect("the app's users are marked unread");
    assert_eq!(unread.failure.kind, FailureKind::ServerError);
    assert_eq!(unread.failure.request, "GET /api/v1/apps/{appId}/users");
    assert!(unread.failure.reason.starts_with("HTTP 500"), "{unread}");
    assert_eq!(failed.incomplete.len(), 1, "only that app");
    assert!(!observation.snapshot.is_complete());
    // The other apps were still read.
    assert!(!failed.value.is_empty());
}

#[tokio::test]
async fn directory_values_policy_expects_are_compared_with_the_app_user_profile() {
    let (observation, _sim) = observe_scenario("force-sync").await;
    let directory = observation
        .snapshot
        .directories
        .iter()
        .find(|d| d.label == "example.com AD")
        .expect("the directory policy names is read");
    assert!(directory.attributes.is_complete());
    // Alice: the app-user profile holds new values the Okta profile lacks.
    let alice: Vec<_> = directory
        .attributes
        .value
        .iter()
        .filter(|d| d.user_id == "00ufsync000000000001")
        .collect();
    assert_eq!(alice.len(), 2, "{alice:#?}");
    assert!(alice.iter().all(|d| d.app_user_value != d.okta_value));
    // Bob: policy says AD now holds "Staff Engineer", the app-user profile still says "Engineer".
    let bob = directory
        .attributes
        .value
        .iter()
        .find(|d| d.user_id == "00ufsync000000000002")
        .expect("Bob's stale attribute is reported");
    assert_eq!(bob.app_user_attribute, "title");
    assert_eq!(
        bob.app_user_value,
        ProfileValue::Known(serde_json::json!("Engineer"))
    );
    assert_eq!(
        bob.expected_directory_value,
        Some(serde_json::json!("Staff Engineer"))
    );
}
