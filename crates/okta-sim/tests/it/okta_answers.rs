//! okta-sim answers as recorded real Okta does (tests/fixtures/okta-recorded/): connection writes,
//! mapping deletes, `Link` headers and cursors, timestamp precision, nulls, error objects, groups,
//! agent pools an org cannot read, and Okta's transient 500.

use std::collections::HashSet;

use okta_sim::{EndpointAvailability, FaultKind, FaultRule, Scenario};
use reqwest::Method;
use serde_json::{json, Value};

use crate::support::{
    access_token, is_whole_second_millis, is_whole_second_no_fraction, start, start_scenario,
    Answer, Api,
};

const TOKEN: &str = "test-token-recorded";
const SERVICE_APP: &str = "0oarecsvcapp00000001";
const OIDC: &str = "0oarecoidc0000000001";
const AD: &str = "0oarecad000000000001";
const ORG2ORG: &str = "0oarecorg2org0000001";
const DEEL: &str = "0oarecdeelhr00000001";
const ORG2ORG_TOKEN: &str = "recorded-org2org-token";

fn recorded_scenario() -> Scenario {
    Scenario::from_toml_file(crate::repo_root().join("tests/scenarios/recorded-org.toml"))
        .expect("recorded-org.toml loads")
}

/// Events of one type in the System Log (bounded query, so no polling link is needed).
async fn events_of(api: &Api, event_type: &str) -> Vec<Value> {
    let q: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("filter", &format!("eventType eq \"{event_type}\""))
        .append_pair(
            "until",
            &(chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339(),
        )
        .finish();
    api.json(&format!("/api/v1/logs?{q}"))
        .await
        .as_array()
        .expect("array")
        .clone()
}

fn assert_empty_no_content_type(context: &str, answer: &Answer) {
    assert!(
        answer.bytes.is_empty(),
        "{context}: body {:?}",
        answer.bytes
    );
    assert!(
        answer.header("content-type").is_none(),
        "{context}: Content-Type {:?}",
        answer.header("content-type")
    );
}

fn link_rels(connection: &Value) -> Vec<String> {
    let mut rels: Vec<String> = connection["_links"]
        .as_object()
        .expect("_links")
        .keys()
        .cloned()
        .collect();
    rels.sort();
    rels
}

// ----- connections ----------------------------------------------------------------------------

#[tokio::test]
async fn connection_post_without_activate_stores_it_disabled_and_lifecycle_calls_answer_204() {
    let sim = start("recorded-org.toml").await;
    let api = Api::ssws(&sim, TOKEN);
    let base = format!("/api/v1/apps/{ORG2ORG}/connections/default");
    let posted = api
        .call(
            Method::POST,
            &base,
            Some(json!({
                "baseUrl": "https://integrator-1-admin.okta.example",
                "profile": { "authScheme": "TOKEN", "token": ORG2ORG_TOKEN },
            })),
        )
        .await;
    assert_eq!(posted.status, 200);
    let body = posted.json();
    assert_eq!(
        body["status"], "DISABLED",
        "no activate: stored, not enabled"
    );
    assert_eq!(body["baseUrl"], "https://integrator-1-admin.okta.example");
    assert_eq!(body["authScheme"], "TOKEN");
    assert_eq!(body["profile"], json!({ "authScheme": "TOKEN" }));
    assert_eq!(link_rels(&body), ["activate", "self"]);
    assert_eq!(
        body["_links"]["self"]["hints"]["allow"],
        json!(["POST", "GET"])
    );
    assert!(
        events_of(&api, "application.provision.connection.activate")
            .await
            .is_empty(),
        "a POST without activate activates nothing"
    );
    // Group Push writes still need provisioning turned on.
    assert_eq!(api.json(&base).await["status"], "DISABLED");

    let activated = api
        .call(Method::POST, &format!("{base}/lifecycle/activate"), None)
        .await;
    assert_eq!(activated.status, 204);
    assert_empty_no_content_type("activate", &activated);
    assert!(activated.header("content-length").is_none());
    let enabled = api.json(&base).await;
    assert_eq!(enabled["status"], "ENABLED");
    assert_eq!(
        enabled["baseUrl"],
        "https://integrator-1-admin.okta.example"
    );
    assert_eq!(link_rels(&enabled), ["deactivate", "self"]);
    assert_eq!(
        events_of(&api, "application.provision.connection.activate")
            .await
            .len(),
        1
    );

    let deactivated = api
        .call(Method::POST, &format!("{base}/lifecycle/deactivate"), None)
        .await;
    assert_eq!(deactivated.status, 204);
    assert_empty_no_content_type("deactivate", &deactivated);
    assert_eq!(api.json(&base).await["status"], "DISABLED");

    // A POST without activate keeps the state it finds: an ENABLED connection stays ENABLED.
    api.call(Method::POST, &format!("{base}/lifecycle/activate"), None)
        .await;
    let reposted = api
        .call(
            Method::POST,
            &base,
            Some(json!({ "profile": { "authScheme": "TOKEN", "token": ORG2ORG_TOKEN } })),
        )
        .await;
    assert_eq!(reposted.json()["status"], "ENABLED");
    assert_eq!(
        reposted.json()["baseUrl"],
        "https://integrator-1-admin.okta.example",
        "a POST without baseUrl keeps the stored one"
    );
}

#[tokio::test]
async fn connection_post_with_activate_true_validates_and_enables_at_once() {
    let sim = start("recorded-org.toml").await;
    let api = Api::ssws(&sim, TOKEN);
    let base = format!("/api/v1/apps/{ORG2ORG}/connections/default");
    let wrong = api
        .call(
            Method::POST,
            &format!("{base}?activate=true"),
            Some(json!({ "profile": { "authScheme": "TOKEN", "token": "wrong" } })),
        )
        .await;
    assert_eq!(wrong.status, 400);
    assert_eq!(wrong.json()["errorCode"], "E0000001");
    assert_eq!(api.json(&base).await["status"], "DISABLED");
    // Without activate the same wrong token is stored; activating it then fails.
    let stored = api
        .call(
            Method::POST,
            &base,
            Some(json!({ "profile": { "authScheme": "TOKEN", "token": "wrong" } })),
        )
        .await;
    assert_eq!(stored.status, 200);
    let refused = api
        .call(Method::POST, &format!("{base}/lifecycle/activate"), None)
        .await;
    assert_eq!(refused.status, 400);

    let ok = api
        .call(
            Method::POST,
            &format!("{base}?activate=true"),
            Some(json!({ "profile": { "authScheme": "TOKEN", "token": ORG2ORG_TOKEN } })),
        )
        .await;
    assert_eq!(ok.status, 200);
    let body = ok.json();
    assert_eq!(body["status"], "ENABLED");
    assert_eq!(body["baseUrl"], "https://partner-org.example.com");
    assert_eq!(link_rels(&body), ["deactivate", "self"]);
}

// ----- group push -----------------------------------------------------------------------------

#[tokio::test]
async fn mapping_delete_answers_200_with_content_length_zero_and_no_body() {
    let sim = start("recorded-org.toml").await;
    let api = Api::ssws(&sim, TOKEN);
    let one = format!("/api/v1/apps/{DEEL}/group-push/mappings/gPmrecinactive000001");
    let deleted = api
        .call(
            Method::DELETE,
            &format!("{one}?deleteTargetGroup=false"),
            None,
        )
        .await;
    assert_eq!(deleted.status, 200);
    assert_eq!(deleted.header("content-length").as_deref(), Some("0"));
    assert_empty_no_content_type("mapping delete", &deleted);
    assert_eq!(api.get(&one).await.status, 404);
}

#[tokio::test]
async fn mappings_have_whole_second_timestamps_and_no_invented_last_push() {
    let sim = start("recorded-org.toml").await;
    let api = Api::ssws(&sim, TOKEN);
    let list = api
        .json(&format!("/api/v1/apps/{DEEL}/group-push/mappings"))
        .await;
    let list = list.as_array().expect("array");
    assert_eq!(list.len(), 2);
    for m in list {
        let keys: HashSet<&str> = m
            .as_object()
            .expect("object")
            .keys()
            .map(String::as_str)
            .collect();
        let recorded: HashSet<&str> = [
            "created",
            "id",
            "lastUpdated",
            "sourceGroupId",
            "status",
            "targetGroupId",
            "_links",
        ]
        .into();
        assert_eq!(keys, recorded, "{m}");
        for field in ["created", "lastUpdated"] {
            let t = m[field].as_str().expect("timestamp");
            assert!(is_whole_second_no_fraction(t), "{field} {t}");
        }
    }
    let patched = api
        .call(
            Method::PATCH,
            &format!("/api/v1/apps/{DEEL}/group-push/mappings/gPmrecactive00000001"),
            Some(json!({ "status": "INACTIVE" })),
        )
        .await;
    assert_eq!(patched.status, 200);
    let t = patched.json()["lastUpdated"]
        .as_str()
        .expect("lastUpdated")
        .to_owned();
    assert!(is_whole_second_no_fraction(&t), "{t}");
    assert!(patched.json().get("lastPush").is_none());
}

// ----- lists ----------------------------------------------------------------------------------

#[tokio::test]
async fn lists_send_one_link_line_per_rel_and_next_starts_with_after_the_last_id() {
    let sim = start("all-situations.toml").await;
    let api = Api::ssws(&sim, "test-token-all");
    let page = api.get("/api/v1/apps?limit=2").await;
    assert_eq!(page.status, 200);
    assert_eq!(
        page.header_lines("link").len(),
        2,
        "self and next, one line each"
    );
    let rels: Vec<String> = page.links().into_iter().map(|(_, r)| r).collect();
    assert_eq!(rels, ["self", "next"]);
    let items = page.json();
    let ids: Vec<&str> = items
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|a| a["id"].as_str())
        .collect();
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    assert_eq!(ids, sorted, "listed in id order");
    assert_eq!(
        page.link_query("self").expect("self"),
        [("limit".to_owned(), "2".to_owned())]
    );
    assert_eq!(
        page.link_query("next").expect("next"),
        [
            ("after".to_owned(), ids[1].to_owned()),
            ("limit".to_owned(), "2".to_owned())
        ]
    );

    // The apps list's self link keeps q and filter, in that order, after the limit.
    let filtered = api
        .get("/api/v1/apps?filter=status+eq+%22ACTIVE%22&limit=1&q=Slack")
        .await;
    assert_eq!(filtered.status, 200);
    let self_query = filtered.link_query("self").expect("self");
    let keys: Vec<&str> = self_query.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, ["limit", "q", "filter"]);
    // next keeps the query, or the next page would answer another one.
    let next_query = filtered.link_query("next").expect("next");
    let keys: Vec<&str> = next_query.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, ["after", "limit", "filter", "q"]);

    // App users and mappings: the self link echoes the default limit and drops filters.
    let app_users = api.get("/api/v1/apps/0oahealthyslack00001/users").await;
    assert_eq!(
        app_users.link_query("self").expect("self"),
        [("limit".to_owned(), "50".to_owned())]
    );
    let mappings = api
        .get("/api/v1/apps/0oaorphorg2org000001/group-push/mappings?sourceGroupId=00gorphsales00000001")
        .await;
    assert_eq!(
        mappings.link_query("self").expect("self"),
        [("limit".to_owned(), "100".to_owned())]
    );

    // An empty after= is the first page.
    let empty_after = api
        .get("/api/v1/apps/0oaorphorg2org000001/group-push/mappings?after=")
        .await;
    assert_eq!(empty_after.status, 200);
    assert_eq!(
        empty_after.link_query("self").expect("self"),
        [("limit".to_owned(), "100".to_owned())]
    );
    assert_eq!(empty_after.json().as_array().map(Vec::len), Some(2));
    let empty_after = api.get("/api/v1/apps?after=&limit=2").await;
    assert_eq!(empty_after.status, 200);
    assert_eq!(empty_after.json(), items);
}

#[tokio::test]
async fn id_cursors_stay_valid_when_the_item_they_name_is_deleted() {
    let sim = start("recorded-org.toml").await;
    let api = Api::ssws(&sim, TOKEN);
    let list = format!("/api/v1/apps/{DEEL}/group-push/mappings?limit=1");
    let first = api.get(&list).await;
    let first_items = first.json();
    assert_eq!(first_items[0]["id"], "gPmrecactive00000001");
    let next = first.link("next").expect("a second page");
    // The mapping the cursor names goes away between the two pages.
    let one = format!("/api/v1/apps/{DEEL}/group-push/mappings/gPmrecactive00000001");
    api.call(Method::PATCH, &one, Some(json!({ "status": "INACTIVE" })))
        .await;
    let deleted = api
        .call(
            Method::DELETE,
            &format!("{one}?deleteTargetGroup=false"),
            None,
        )
        .await;
    assert_eq!(deleted.status, 200);
    let second = api.get(&next).await;
    assert_eq!(second.status, 200);
    let second_items = second.json();
    assert_eq!(second_items.as_array().map(Vec::len), Some(1));
    assert_eq!(
        second_items[0]["id"], "gPmrecinactive000001",
        "nothing skipped"
    );
    assert!(second.link("next").is_none());
}

// ----- timestamps and nulls -------------------------------------------------------------------

#[tokio::test]
async fn object_timestamps_are_whole_seconds_with_a_000_fraction() {
    let sim = start("recorded-org.toml").await;
    let api = Api::ssws(&sim, TOKEN);
    let app = api.json(&format!("/api/v1/apps/{OIDC}")).await;
    let app_user = api
        .json(&format!("/api/v1/apps/{OIDC}/users/00urecprovisioned001"))
        .await;
    let user = api.json("/api/v1/users/00urecprovisioned001").await;
    let group = api.json("/api/v1/groups/00grecpushsource0001").await;
    for (what, object, fields) in [
        ("app", &app, &["created", "lastUpdated"][..]),
        (
            "app user",
            &app_user,
            &["created", "lastUpdated", "statusChanged"][..],
        ),
        (
            "user",
            &user,
            &["created", "activated", "statusChanged", "lastUpdated"][..],
        ),
        (
            "group",
            &group,
            &["created", "lastUpdated", "lastMembershipUpdated"][..],
        ),
    ] {
        for field in fields {
            let t = object[field]
                .as_str()
                .unwrap_or_else(|| panic!("{what} {field}"));
            assert!(is_whole_second_millis(t), "{what} {field}: {t}");
        }
    }
}

#[tokio::test]
async fn recorded_nulls_are_sent_as_null() {
    let sim = start("recorded-org.toml").await;
    let api = Api::ssws(&sim, TOKEN);
    let ad = api.json(&format!("/api/v1/apps/{AD}")).await;
    assert!(ad.get("signOnMode").is_some_and(Value::is_null), "{ad}");
    assert_eq!(ad["universalLogout"], json!({ "status": "UNSUPPORTED" }));
    let deel = api.json(&format!("/api/v1/apps/{DEEL}")).await;
    assert!(deel["signOnMode"].is_null());
    assert_eq!(deel["features"], json!([]), "features is always an array");
    let oidc = api.json(&format!("/api/v1/apps/{OIDC}")).await;
    assert_eq!(oidc["signOnMode"], "OPENID_CONNECT");
    assert!(oidc.get("universalLogout").is_some_and(Value::is_null));
    for field in ["errorRedirectUrl", "loginRedirectUrl"] {
        assert!(oidc["accessibility"].get(field).is_some_and(Value::is_null));
    }
    assert_eq!(oidc["features"], json!([]));
    assert!(oidc["orn"]
        .as_str()
        .is_some_and(|orn| orn.ends_with(&format!(":apps:oidc_client:{OIDC}"))));

    let app_user = api
        .json(&format!("/api/v1/apps/{OIDC}/users/00urecprovisioned001"))
        .await;
    for field in ["externalId", "passwordChanged"] {
        assert!(
            app_user.get(field).is_some_and(Value::is_null),
            "{field}: {app_user}"
        );
    }
    assert!(
        app_user.get("lastSync").is_none(),
        "no lastSync key on an app without push or import"
    );
    assert_eq!(app_user["credentials"]["userName"], "testAcc-1@example.com");
    let profile = app_user["profile"].as_object().expect("profile");
    assert_eq!(profile.len(), 20, "every schema attribute is sent");
    assert!(profile["street_address"].is_null());
    assert_eq!(profile["given_name"], "TestAcc");

    let user = api.json("/api/v1/users/00urecprovisioned001").await;
    for field in ["lastLogin", "passwordChanged"] {
        assert!(
            user.get(field).is_some_and(Value::is_null),
            "{field}: {user}"
        );
    }
    for field in ["mobilePhone", "secondEmail"] {
        assert!(user["profile"].get(field).is_some_and(Value::is_null));
    }
    let active = api.json("/api/v1/users/00urecactive00000001").await;
    assert_eq!(active["profile"]["mobilePhone"], "+1 555 0100");
    let staged = api.json("/api/v1/users/00urecstaged00000001").await;
    for field in ["activated", "statusChanged"] {
        assert!(
            staged.get(field).is_some_and(Value::is_null),
            "{field}: {staged}"
        );
    }
}

#[tokio::test]
async fn app_users_of_pushing_apps_keep_last_sync() {
    let sim = start("all-situations.toml").await;
    let api = Api::ssws(&sim, "test-token-all");
    let au = api
        .json("/api/v1/apps/0oahealthyslack00001/users/00uhealthy0000000001")
        .await;
    assert!(
        au["lastSync"].as_str().is_some_and(is_whole_second_millis),
        "{au}"
    );
}

// ----- errors ---------------------------------------------------------------------------------

fn assert_recorded_error_form(context: &str, answer: &Answer, status: u16, code: &str) -> Value {
    assert_eq!(answer.status, status, "{context}");
    assert_eq!(
        answer.header("content-type").as_deref(),
        Some("application/json"),
        "{context}"
    );
    let text = String::from_utf8(answer.bytes.clone()).expect("utf-8");
    assert!(
        text.starts_with("{\"errorCode\":"),
        "{context}: Okta's member order: {text}"
    );
    let body = answer.json();
    assert_eq!(body["errorCode"], code, "{context}: {body}");
    assert_eq!(body["errorLink"], code, "{context}: errorLink is the code");
    assert!(body["errorCauses"].is_array(), "{context}: {body}");
    let id = body["errorId"].as_str().expect("errorId");
    assert!(
        id.len() == 25
            && id.starts_with("oae")
            && id[3..]
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
        "{context}: errorId {id}"
    );
    body
}

#[tokio::test]
async fn not_found_errors_name_the_resource_type() {
    let sim = start("recorded-org.toml").await;
    let api = Api::ssws(&sim, TOKEN);
    for (path, summary) in [
        (
            "/api/v1/apps/0oanosuchapp00000001".to_owned(),
            "Not found: Resource not found: 0oanosuchapp00000001 (AppInstance)",
        ),
        (
            "/api/v1/users/00unosuchuser0000001".to_owned(),
            "Not found: Resource not found: 00unosuchuser0000001 (User)",
        ),
        (
            "/api/v1/groups/00gnosuchgroup000001".to_owned(),
            "Not found: Resource not found: 00gnosuchgroup000001 (UserGroup)",
        ),
        (
            format!("/api/v1/apps/{OIDC}/users/00urecstaged00000001"),
            "Not found: Resource not found: 00urecstaged00000001 (AppUser)",
        ),
        (
            format!("/api/v1/apps/{DEEL}/group-push/mappings/gPmnosuchmapping0001"),
            "Not found: Resource not found: gPmnosuchmapping0001 (GroupPushMapping)",
        ),
    ] {
        let body = assert_recorded_error_form(&path, &api.get(&path).await, 404, "E0000007");
        assert_eq!(body["errorSummary"], summary);
        assert_eq!(body["errorCauses"], json!([]));
    }
}

#[tokio::test]
async fn invalid_and_expired_tokens_answer_401_e0000011() {
    let sim = start("recorded-org.toml").await;
    for auth in [None, Some("SSWS not-a-token"), Some("Bearer not-issued")] {
        let api = Api {
            http: reqwest::Client::new(),
            base: sim.base_url().to_owned(),
            auth: auth.map(str::to_owned),
        };
        let body = assert_recorded_error_form(
            &format!("{auth:?}"),
            &api.get("/api/v1/apps").await,
            401,
            "E0000011",
        );
        assert_eq!(body["errorSummary"], "Invalid token provided");
    }
    let mut scenario = recorded_scenario();
    scenario.org.access_token_ttl_secs = Some(0);
    let sim = start_scenario(scenario).await;
    let expired = access_token(&sim, SERVICE_APP, "okta.apps.read").await;
    let body = assert_recorded_error_form(
        "expired bearer",
        &Api::bearer(&sim, &expired).get("/api/v1/apps").await,
        401,
        "E0000011",
    );
    assert_eq!(body["errorSummary"], "Invalid token provided");
}

#[tokio::test]
async fn agent_pools_answer_403_without_the_scope_and_404_or_401_where_the_org_lacks_them() {
    let sim = start("recorded-org.toml").await;
    let pools = "/api/v1/agentPools?poolType=AD";
    let without = access_token(&sim, SERVICE_APP, "okta.apps.read okta.users.read").await;
    let answer = Api::bearer(&sim, &without).get(pools).await;
    let body = assert_recorded_error_form("missing scope", &answer, 403, "E0000006");
    assert_eq!(
        body["errorSummary"],
        "You do not have permission to perform the requested action"
    );
    let challenge = answer.header("www-authenticate").expect("WWW-Authenticate");
    assert!(
        challenge.contains("insufficient_scope") && challenge.contains("okta.agentPools.read"),
        "{challenge}"
    );
    let with = access_token(&sim, SERVICE_APP, "okta.agentPools.read").await;
    let listed = Api::bearer(&sim, &with).json(pools).await;
    assert_eq!(listed[0]["id"], AD, "the AD agent pool has its app's id");

    let mut scenario = recorded_scenario();
    scenario.org.agent_pools = EndpointAvailability::NotFound;
    let sim = start_scenario(scenario).await;
    let answer = Api::ssws(&sim, TOKEN).get(pools).await;
    assert_recorded_error_form("no agent pools", &answer, 404, "E0000007");

    let mut scenario = recorded_scenario();
    scenario.org.agent_pools = EndpointAvailability::FeatureNotEnabled;
    let sim = start_scenario(scenario).await;
    let answer = Api::ssws(&sim, TOKEN).get(pools).await;
    let body = assert_recorded_error_form("feature not enabled", &answer, 401, "E0000015");
    assert_eq!(
        body["errorSummary"],
        "You do not have permission to access the feature you are requesting"
    );
}

// ----- groups ---------------------------------------------------------------------------------

#[tokio::test]
async fn one_group_is_served_as_recorded() {
    let sim = start("recorded-org.toml").await;
    let api = Api::ssws(&sim, TOKEN);
    let group = api.json("/api/v1/groups/00grecpushsource0001").await;
    assert_eq!(group["id"], "00grecpushsource0001");
    assert_eq!(group["type"], "OKTA_GROUP");
    assert_eq!(group["objectClass"], json!(["okta:user_group"]));
    assert_eq!(
        group["profile"],
        json!({ "name": "testAcc-push-source", "description": "A Group" })
    );
    let listed = api.json("/api/v1/groups").await;
    assert_eq!(listed[0], group, "the list renders the same object");
}

// ----- the recorded transient 500 -------------------------------------------------------------

#[tokio::test]
async fn internal_error_fault_answers_the_recorded_500_n_times_then_succeeds() {
    let mut scenario = recorded_scenario();
    scenario.faults.push(FaultRule {
        path_prefix: Some(format!("/api/v1/apps/{OIDC}")),
        method: Some("GET".into()),
        kind: FaultKind::InternalError,
        count: Some(2),
        after: 0,
    });
    let sim = start_scenario(scenario).await;
    let api = Api::ssws(&sim, TOKEN);
    let path = format!("/api/v1/apps/{OIDC}");
    for attempt in 1..=2 {
        let answer = api.get(&path).await;
        let body =
            assert_recorded_error_form(&format!("attempt {attempt}"), &answer, 500, "E0000009");
        assert_eq!(body["errorSummary"], "Internal Server Error");
        assert_eq!(body["errorCauses"], json!([]));
        assert_eq!(body.as_object().map(|o| o.len()), Some(5));
    }
    assert_eq!(api.get(&path).await.status, 200, "the third try succeeds");
}
