//! Unknown is not null: a directory's app users listed without their Okta user
//! (`_embedded.user`) have unknown Okta attributes. Against a scripted Okta over real HTTP, they
//! give no difference (not one per attribute against a "null" Okta value), the directory's part
//! is incomplete with the count, and its Force Sync (and any finding in its place) is withheld
//! naming that part; the app user read with its Okta user is compared as before.

use crate::support::client as client_support;
use crate::support::plan as plan_support;

use chrono::Utc;
use client_support::{json, Reply, TestServer};
use remediator::observe::{observe, FailureKind, LogStart, PartId, ProfileValue};
use remediator::plan::{ActionKind, SkipReason};
use remediator::policy::Policy;
use serde_json::json as value;

const AD: &str = "0oaprofilesad0000001";

fn app_user(
    id: &str,
    title: &str,
    login: Option<&str>,
    okta_title: Option<&str>,
) -> serde_json::Value {
    let mut user = value!({
        "id": id,
        "status": "ACTIVE",
        "syncState": "SYNCHRONIZED",
        "profile": { "title": title, "department": "Platform" }
    });
    if let Some(login) = login {
        user["_embedded"] = value!({ "user": { "id": id, "profile": {
            "login": login, "title": okta_title, "department": "Platform" } } });
    }
    user
}

fn reply(request: &client_support::Recorded) -> Reply {
    let path = request.path();
    if path == "/api/v1/apps" {
        return json(
            200,
            value!([{ "id": AD, "name": "active_directory", "label": "example.com AD",
                      "status": "ACTIVE", "signOnMode": null, "features": [] }])
            .to_string(),
        );
    }
    if path == format!("/api/v1/apps/{AD}/users") {
        if !request.target.contains("expand=user") {
            return json(200, "[]");
        }
        let users = value!([
            app_user(
                "00uprofiles000000001",
                "Senior Analyst",
                Some("alice@example.com"),
                Some("Analyst")
            ),
            app_user("00uprofiles000000002", "Engineer", None, None),
            app_user("00uprofiles000000003", "Designer", None, None),
            app_user("00uprofiles000000004", "Manager", None, None),
        ]);
        return json(200, users.to_string());
    }
    json(200, "[]")
}

#[tokio::test]
async fn app_users_without_their_okta_user_are_unknown_and_withhold_the_force_sync() {
    let server = TestServer::start(|request, _| reply(request)).await;
    let api = server.ssws_client("test-token");
    let mut policy = Policy::default_embedded();
    policy.global.default_mode = remediator::policy::Mode::Enforce;
    let now = Utc::now();
    let observation = observe(
        &api,
        &server.base,
        &policy,
        LogStart::Since(now - chrono::Duration::hours(1)),
        now,
    )
    .await
    .expect("the org is readable");
    let directory = &observation.snapshot.directories[0];
    let part = PartId::DirectoryProfiles(AD.into());
    let unread = directory
        .attributes
        .failure(&part)
        .expect("the part is incomplete");
    assert_eq!(unread.failure.kind, FailureKind::Malformed);
    assert_eq!(
        unread.failure.request,
        "GET /api/v1/apps/{appId}/users?expand=user"
    );
    assert!(
        unread
            .failure
            .reason
            .starts_with("3 of 4 app user(s) came without their Okta user"),
        "{unread}"
    );
    // Only Alice, whose Okta user came, is compared: one difference, no false ones.
    let diffs = &directory.attributes.value;
    assert_eq!(diffs.len(), 1, "{diffs:#?}");
    assert_eq!(diffs[0].user_id, "00uprofiles000000001");
    assert_eq!(diffs[0].okta_value, ProfileValue::Known(value!("Analyst")));

    let plan = plan_support::run(&policy, &observation.snapshot, &plan_support::journal());
    assert!(!plan.complete);
    assert_eq!(plan.incomplete[0].part, part);
    assert!(plan.actions.is_empty(), "{:#?}", plan.actions);
    assert!(plan.findings.is_empty(), "{:#?}", plan.findings);
    let skip = plan
        .skipped
        .iter()
        .find(|s| s.kind == ActionKind::ForceSync)
        .expect("the Force Sync is withheld");
    assert_eq!(skip.why, SkipReason::IncompleteRead);
    assert_eq!(skip.part.as_ref(), Some(&part));
}
