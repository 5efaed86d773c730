//! okta-sim over real HTTP on loopback: reads, paging, auth, writes, admin endpoints, logs.

use std::path::PathBuf;

use okta_sim::{Scenario, Sim, SimHandle};
use reqwest::{Client, Response, StatusCode};
use serde_json::{json, Value};

fn scenario_path(name: &str) -> PathBuf {
    crate::repo_root().join("tests/scenarios").join(name)
}

async fn start(name: &str) -> SimHandle {
    let scenario = Scenario::from_toml_file(scenario_path(name)).expect("shipped scenario loads");
    Sim::start(scenario, "127.0.0.1:0")
        .await
        .expect("sim starts on loopback")
}

/// A client bound to one sim and one SSWS token.
struct Api {
    http: Client,
    base: String,
    auth: String,
}

impl Api {
    fn new(sim: &SimHandle, token: &str) -> Self {
        Api {
            http: Client::new(),
            base: sim.base_url().to_owned(),
            auth: format!("SSWS {token}"),
        }
    }

    fn url(&self, path: &str) -> String {
        if path.starts_with("http") {
            path.to_owned()
        } else {
            format!("{}{path}", self.base)
        }
    }

    async fn get(&self, path: &str) -> Response {
        self.http
            .get(self.url(path))
            .header("Authorization", &self.auth)
            .send()
            .await
            .expect("request")
    }

    async fn send(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Response {
        let mut req = self
            .http
            .request(method, self.url(path))
            .header("Authorization", &self.auth);
        if let Some(b) = body {
            req = req.json(&b);
        }
        req.send().await.expect("request")
    }

    async fn json(&self, path: &str) -> Value {
        let r = self.get(path).await;
        assert_eq!(r.status(), StatusCode::OK, "GET {path}");
        r.json().await.expect("json body")
    }

    /// Follows `rel="next"` links only, collecting every item.
    async fn all_pages(&self, first: &str) -> (Vec<Value>, usize) {
        let mut items = Vec::new();
        let mut next = Some(self.url(first));
        let mut pages = 0;
        while let Some(url) = next.take() {
            let r = self.get(&url).await;
            assert_eq!(r.status(), StatusCode::OK, "GET {url}");
            next = next_link(&r);
            let page: Vec<Value> = r.json().await.expect("json array");
            pages += 1;
            if page.is_empty() {
                break;
            }
            items.extend(page);
        }
        (items, pages)
    }
}

/// The `rel="next"` target among the `Link` header lines (one link value per line, as Okta).
fn next_link(r: &Response) -> Option<String> {
    r.headers()
        .get_all("link")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|l| l.ends_with("rel=\"next\""))
        .map(|l| {
            l.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_owned()
        })
}

async fn assert_error(r: Response, status: StatusCode, code: &str) -> Value {
    assert_eq!(r.status(), status);
    let body: Value = r.json().await.expect("error body is JSON");
    assert_eq!(body["errorCode"], code, "{body}");
    for key in ["errorSummary", "errorLink", "errorId", "errorCauses"] {
        assert!(body.get(key).is_some(), "error object lacks {key}: {body}");
    }
    body
}

async fn events_of(api: &Api, event_type: &str) -> Vec<Value> {
    let filter = format!("eventType eq \"{event_type}\"");
    let q: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("filter", &filter)
        .append_pair(
            "until",
            &chrono::Utc::now()
                .checked_add_signed(chrono::Duration::hours(1))
                .expect("time")
                .to_rfc3339(),
        )
        .finish();
    api.json(&format!("/api/v1/logs?{q}"))
        .await
        .as_array()
        .expect("array")
        .clone()
}

// ----- reads ----------------------------------------------------------------------------------

#[tokio::test]
async fn apps_and_app_users_have_okta_shapes() {
    let sim = start("healthy.toml").await;
    let api = Api::new(&sim, "test-token-healthy");
    let r = api.get("/api/v1/apps").await;
    assert!(r.headers().contains_key("x-okta-request-id"));
    assert!(r.headers().contains_key("date"));
    let apps: Vec<Value> = r.json().await.expect("json");
    assert_eq!(apps.len(), 1);
    let app = &apps[0];
    assert_eq!(app["id"], "0oahealthyslack00001");
    assert_eq!(app["name"], "slack");
    assert_eq!(app["status"], "ACTIVE");
    let features: Vec<&str> = app["features"]
        .as_array()
        .expect("features")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for f in [
        "PUSH_NEW_USERS",
        "PUSH_PROFILE_UPDATES",
        "PUSH_USER_DEACTIVATION",
        "REACTIVATE_USERS",
        "GROUP_PUSH",
    ] {
        assert!(features.contains(&f), "{f} missing from {features:?}");
    }
    let one = api.json("/api/v1/apps/0oahealthyslack00001").await;
    assert_eq!(one["label"], "Slack");
    let users = api.json("/api/v1/apps/0oahealthyslack00001/users").await;
    let au = &users[0];
    assert_eq!(au["syncState"], "SYNCHRONIZED");
    assert_eq!(au["status"], "PROVISIONED");
    assert_eq!(au["scope"], "USER");
    assert!(
        au.get("cause").is_none()
            && au.get("error_text").is_none()
            && au.get("errorText").is_none()
    );
    assert!(au["_links"]["app"]["href"]
        .as_str()
        .expect("href")
        .ends_with("/api/v1/apps/0oahealthyslack00001"));
    let by_login = api.json("/api/v1/users/ada@example.com").await;
    assert_eq!(by_login["id"], "00uhealthy0000000001");
    assert_eq!(by_login["profile"]["title"], "Engineer");
    let groups = api.json("/api/v1/groups").await;
    assert_eq!(groups[0]["profile"]["name"], "Engineering");
}

#[tokio::test]
async fn unknown_ids_and_bad_input_give_okta_errors() {
    let sim = start("healthy.toml").await;
    let api = Api::new(&sim, "test-token-healthy");
    assert_error(
        api.get("/api/v1/apps/0oanope").await,
        StatusCode::NOT_FOUND,
        "E0000007",
    )
    .await;
    assert_error(
        api.get("/api/v1/apps/0oahealthyslack00001/users/00unope")
            .await,
        StatusCode::NOT_FOUND,
        "E0000007",
    )
    .await;
    assert_error(
        api.get("/api/v1/users/nobody@example.com").await,
        StatusCode::NOT_FOUND,
        "E0000007",
    )
    .await;
    assert_error(
        api.get("/api/v1/apps?after=%%%").await,
        StatusCode::BAD_REQUEST,
        "E0000001",
    )
    .await;
    assert_error(
        api.get("/api/v1/apps?filter=status%20gt%20%22x%22").await,
        StatusCode::BAD_REQUEST,
        "E0000001",
    )
    .await;
    let by_label = api
        .get("/api/v1/apps?filter=label%20eq%20%22Slack%22")
        .await;
    assert_error(by_label, StatusCode::BAD_REQUEST, "E0000001").await;
    let r = api
        .http
        .post(api.url("/api/v1/apps/0oahealthyslack00001/users/00uhealthy0000000001"))
        .header("Authorization", &api.auth)
        .header("Content-Type", "application/json")
        .body("{not json")
        .send()
        .await
        .expect("request");
    assert_error(r, StatusCode::BAD_REQUEST, "E0000003").await;
}

#[tokio::test]
async fn app_filter_selects_by_status_and_name() {
    let sim = start("all-situations.toml").await;
    let api = Api::new(&sim, "test-token-all");
    let slack = api
        .json("/api/v1/apps?filter=name%20eq%20%22slack%22")
        .await;
    let names: Vec<&str> = slack
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|a| a["name"].as_str())
        .collect();
    assert_eq!(names, ["slack", "slack"]);
    let active = api
        .json("/api/v1/apps?filter=status%20eq%20%22ACTIVE%22&limit=200")
        .await;
    assert_eq!(active.as_array().expect("array").len(), 9);
    let inactive = api
        .json("/api/v1/apps?filter=status%20eq%20%22INACTIVE%22")
        .await;
    assert!(inactive.as_array().expect("array").is_empty());
}

#[tokio::test]
async fn pagination_follows_link_headers_across_many_pages() {
    let scenario = okta_sim::generate(okta_sim::GenerateSpec {
        users: 1_234,
        apps: 3,
        assignments: 1_500,
        error_ratio: 0.0,
        seed: 7,
    });
    let sim = Sim::start(scenario, "127.0.0.1:0").await.expect("start");
    let api = Api::new(&sim, "generated-test-token");
    let (users, pages) = api.all_pages("/api/v1/users?limit=100").await;
    assert_eq!(users.len(), 1_234);
    assert_eq!(pages, 13);
    let ids: std::collections::HashSet<&str> =
        users.iter().filter_map(|u| u["id"].as_str()).collect();
    assert_eq!(ids.len(), 1_234, "no duplicates across pages");
    let (app_users, pages) = api
        .all_pages("/api/v1/apps/0oa00000000000000000/users?limit=37")
        .await;
    assert_eq!(app_users.len(), 500);
    assert_eq!(pages, 14);
    // limits are clamped to the documented maximum
    let r = api.get("/api/v1/users?limit=5000").await;
    let link = next_link(&r).expect("a next page");
    assert!(link.contains("&limit=200"), "{link}");
    assert_eq!(r.json::<Vec<Value>>().await.expect("json").len(), 200);
    // a self link is always present; the last page has no next
    let r = api.get("/api/v1/apps").await;
    assert!(next_link(&r).is_none());
    assert!(r.headers()["link"]
        .to_str()
        .expect("ascii")
        .contains("rel=\"self\""));
}

// ----- auth -----------------------------------------------------------------------------------

#[tokio::test]
async fn ssws_tokens_are_checked() {
    let sim = start("healthy.toml").await;
    let good = Api::new(&sim, "test-token-healthy");
    assert_eq!(good.get("/api/v1/apps").await.status(), StatusCode::OK);
    let bad = Api::new(&sim, "wrong");
    assert_error(
        bad.get("/api/v1/apps").await,
        StatusCode::UNAUTHORIZED,
        "E0000011",
    )
    .await;
    let none = Client::new()
        .get(format!("{}/api/v1/apps", sim.base_url()))
        .send()
        .await
        .expect("request");
    let body = assert_error(none, StatusCode::UNAUTHORIZED, "E0000011").await;
    assert_eq!(body["errorSummary"], "Invalid token provided");
}

fn client_assertion(base: &str, client_id: &str) -> String {
    let pem = std::fs::read(
        crate::repo_root().join("tests/fixtures/TEST-ONLY-oauth-client-private-key.pem"),
    )
    .expect("fixture key");
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(&pem).expect("fixture key is RSA PEM");
    let now = chrono::Utc::now().timestamp();
    let claims = json!({ "iss": client_id, "sub": client_id, "aud": format!("{base}/oauth2/v1/token"),
                         "exp": now + 300, "iat": now, "jti": uuid::Uuid::new_v4().to_string() });
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256),
        &claims,
        &key,
    )
    .expect("sign")
}

async fn request_token(sim: &SimHandle, assertion: &str, scope: &str) -> Response {
    Client::new()
        .post(format!("{}/oauth2/v1/token", sim.base_url()))
        .form(&[
            ("grant_type", "client_credentials"),
            ("scope", scope),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ),
            ("client_assertion", assertion),
        ])
        .send()
        .await
        .expect("token request")
}

#[tokio::test]
async fn oauth_private_key_jwt_round_trip_and_scopes() {
    let sim = start("healthy.toml").await;
    let assertion = client_assertion(sim.base_url(), "0oaremediatorsvc0001");
    let r = request_token(&sim, &assertion, "okta.apps.read").await;
    assert_eq!(r.status(), StatusCode::OK);
    let token: Value = r.json().await.expect("json");
    assert_eq!(token["token_type"], "Bearer");
    assert_eq!(token["expires_in"], 3600);
    assert_eq!(token["scope"], "okta.apps.read");
    let access = token["access_token"].as_str().expect("access token");
    let http = Client::new();
    let bearer = format!("Bearer {access}");
    let r = http
        .get(format!("{}/api/v1/apps", sim.base_url()))
        .header("Authorization", &bearer)
        .send()
        .await
        .expect("req");
    assert_eq!(r.status(), StatusCode::OK);
    let r = http
        .get(format!("{}/api/v1/logs", sim.base_url()))
        .header("Authorization", &bearer)
        .send()
        .await
        .expect("req");
    assert_error(r, StatusCode::FORBIDDEN, "E0000006").await;
    let r = http
        .post(format!(
            "{}/api/v1/apps/0oahealthyslack00001/users/00uhealthy0000000001",
            sim.base_url()
        ))
        .header("Authorization", &bearer)
        .json(&json!({ "profile": {} }))
        .send()
        .await
        .expect("req");
    assert_error(r, StatusCode::FORBIDDEN, "E0000006").await;
    let r = http
        .get(format!("{}/api/v1/apps", sim.base_url()))
        .header("Authorization", "Bearer forged")
        .send()
        .await
        .expect("req");
    assert_error(r, StatusCode::UNAUTHORIZED, "E0000011").await;
    // group push needs okta.groups.read as well as okta.apps.read
    let mappings = format!(
        "{}/api/v1/apps/0oahealthyslack00001/group-push/mappings",
        sim.base_url()
    );
    let r = http
        .get(&mappings)
        .header("Authorization", &bearer)
        .send()
        .await
        .expect("req");
    assert_error(r, StatusCode::FORBIDDEN, "E0000006").await;
    let both = request_token(&sim, &assertion, "okta.apps.read okta.groups.read").await;
    let both: Value = both.json().await.expect("json");
    let both = format!("Bearer {}", both["access_token"].as_str().expect("token"));
    let r = http
        .get(&mappings)
        .header("Authorization", &both)
        .send()
        .await
        .expect("req");
    assert_eq!(r.status(), StatusCode::OK);
}

#[tokio::test]
async fn oauth_rejects_ungranted_scopes_and_bad_assertions() {
    let sim = start("healthy.toml").await;
    let assertion = client_assertion(sim.base_url(), "0oaremediatorsvc0001");
    let r = request_token(&sim, &assertion, "okta.users.manage").await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        r.json::<Value>().await.expect("json")["error"],
        "invalid_scope"
    );
    let wrong_aud = client_assertion("http://elsewhere", "0oaremediatorsvc0001");
    let r = request_token(&sim, &wrong_aud, "okta.apps.read").await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let unknown = client_assertion(sim.base_url(), "0oaunknownclient0001");
    let r = request_token(&sim, &unknown, "okta.apps.read").await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = request_token(&sim, "not.a.jwt", "okta.apps.read").await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
}

// ----- app user writes ------------------------------------------------------------------------

const RETRY_APP: &str = "0oaretryscim00000001";

#[tokio::test]
async fn repush_of_transient_error_succeeds_and_logs() {
    let sim = start("retry-transient.toml").await;
    let api = Api::new(&sim, "test-token-retry");
    let seeded = events_of(&api, "application.provision.user.push").await;
    assert_eq!(
        seeded.len(),
        2,
        "one seeded failure event per app user in ERROR"
    );
    let ev = seeded
        .iter()
        .find(|e| e["target"][0]["id"] == "00uretry000000000001")
        .expect("grace's failure");
    assert_eq!(ev["outcome"]["result"], "FAILURE");
    assert!(ev["outcome"]["reason"]
        .as_str()
        .expect("reason")
        .contains("Read timed out"));
    let types: Vec<&str> = ev["target"]
        .as_array()
        .expect("targets")
        .iter()
        .filter_map(|t| t["type"].as_str())
        .collect();
    assert_eq!(types, ["User", "AppInstance", "AppUser"]);

    let path = format!("/api/v1/apps/{RETRY_APP}/users/00uretry000000000001");
    let r = api
        .send(reqwest::Method::POST, &path, Some(json!({})))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let au: Value = r.json().await.expect("json");
    assert_eq!(au["syncState"], "SYNCHRONIZED");
    let ok = events_of(&api, "application.provision.user.push_profile").await;
    assert_eq!(ok.len(), 1);
    assert_eq!(ok[0]["outcome"]["result"], "SUCCESS");
    assert_eq!(ok[0]["transaction"]["type"], "WEB");
    assert!(ok[0]["transaction"]["detail"]["requestApiTokenId"].is_string());
}

#[tokio::test]
async fn transient_times_fails_n_times_then_succeeds() {
    let sim = start("retry-transient.toml").await;
    let api = Api::new(&sim, "test-token-retry");
    let path = format!("/api/v1/apps/{RETRY_APP}/users/00uretry000000000002");
    for attempt in 0..2 {
        let au: Value = api
            .send(reqwest::Method::POST, &path, Some(json!({})))
            .await
            .json()
            .await
            .expect("json");
        assert_eq!(au["syncState"], "ERROR", "attempt {attempt}");
    }
    let au: Value = api
        .send(reqwest::Method::POST, &path, Some(json!({})))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(au["syncState"], "SYNCHRONIZED");
    assert_eq!(
        events_of(&api, "application.provision.user.push")
            .await
            .len(),
        4,
        "2 seeded + 2 fresh failures"
    );
}

#[tokio::test]
async fn unchanged_profile_on_synchronized_user_pushes_nothing() {
    let sim = start("retry-transient.toml").await;
    let api = Api::new(&sim, "test-token-retry");
    let path = format!("/api/v1/apps/{RETRY_APP}/users/00uretry000000000003");
    let before = sim.event_count();
    let au: Value = api
        .send(
            reqwest::Method::POST,
            &path,
            Some(json!({ "profile": { "email": "barbara@example.com" } })),
        )
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(au["syncState"], "SYNCHRONIZED");
    assert_eq!(sim.event_count(), before);
    let au: Value = api
        .send(
            reqwest::Method::POST,
            &path,
            Some(json!({ "profile": { "nickName": "Babs" } })),
        )
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(au["profile"]["nickName"], "Babs");
    assert_eq!(sim.event_count(), before + 1, "a changed profile is pushed");
}

#[tokio::test]
async fn credentials_invalid_clears_only_with_a_valid_token() {
    let sim = start("credentials-invalid.toml").await;
    let api = Api::new(&sim, "test-token-creds");
    let app = "0oacredszoom00000001";
    let user = format!("/api/v1/apps/{app}/users/00ucreds000000000001");
    let au: Value = api
        .send(reqwest::Method::POST, &user, Some(json!({})))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(au["syncState"], "ERROR");
    // a token the app does not accept is refused
    let conn = format!("/api/v1/apps/{app}/connections/default?activate=true");
    let r = api
        .send(
            reqwest::Method::POST,
            &conn,
            Some(json!({ "profile": { "authScheme": "TOKEN", "token": "nope" } })),
        )
        .await;
    assert_error(r, StatusCode::BAD_REQUEST, "E0000001").await;
    let r = api
        .send(
            reqwest::Method::POST,
            &conn,
            Some(json!({ "profile": { "authScheme": "TOKEN", "token": "zoom-fresh-token" } })),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let c: Value = r.json().await.expect("json");
    assert_eq!(c["status"], "ENABLED");
    assert_eq!(c["authScheme"], "TOKEN");
    assert!(
        c.get("token").is_none() && c["profile"].get("token").is_none(),
        "tokens never echo"
    );
    let au: Value = api
        .send(reqwest::Method::POST, &user, Some(json!({})))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(au["syncState"], "SYNCHRONIZED");
    assert_eq!(
        events_of(&api, "application.integration.authentication_failure")
            .await
            .len(),
        2
    );
    assert_eq!(
        events_of(&api, "application.provision.connection.activate")
            .await
            .len(),
        1
    );
}

// ----- connections ----------------------------------------------------------------------------

#[tokio::test]
async fn connection_lifecycle_and_stale_tokens() {
    let sim = start("orphaned-push-mappings.toml").await;
    let api = Api::new(&sim, "test-token-orphaned");
    let app = "0oaorphorg2org000001";
    let c = api
        .json(&format!("/api/v1/apps/{app}/connections/default"))
        .await;
    assert_eq!(c["status"], "DISABLED");
    let r = api
        .send(
            reqwest::Method::POST,
            &format!("/api/v1/apps/{app}/connections/default/lifecycle/activate"),
            None,
        )
        .await;
    assert_error(r, StatusCode::BAD_REQUEST, "E0000001").await;
    let r = api
        .send(
            reqwest::Method::POST,
            &format!("/api/v1/apps/{app}/connections/default?activate=false"),
            Some(json!({ "profile": { "authScheme": "TOKEN", "token": "org2org-fresh-token" } })),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.expect("json")["status"], "DISABLED");
    let r = api
        .send(
            reqwest::Method::POST,
            &format!("/api/v1/apps/{app}/connections/default/lifecycle/activate"),
            None,
        )
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        api.json(&format!("/api/v1/apps/{app}/connections/default"))
            .await["status"],
        "ENABLED"
    );
    let r = api
        .send(
            reqwest::Method::POST,
            &format!("/api/v1/apps/{app}/connections/default/lifecycle/deactivate"),
            None,
        )
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        api.json(&format!("/api/v1/apps/{app}/connections/default"))
            .await["status"],
        "DISABLED"
    );
    assert_eq!(
        events_of(&api, "application.provision.connection.deactivate")
            .await
            .len(),
        1
    );
}

// ----- features -------------------------------------------------------------------------------

#[tokio::test]
async fn features_partial_update_keeps_app_features_consistent_and_clears_errors() {
    let sim = start("features-disabled.toml").await;
    let api = Api::new(&sim, "test-token-features");
    let app = "0oafeatslack00000001";
    let list = api.json(&format!("/api/v1/apps/{app}/features")).await;
    let f = &list[0];
    assert_eq!(f["name"], "USER_PROVISIONING");
    assert_eq!(f["status"], "ENABLED");
    assert_eq!(
        f["capabilities"]["create"]["lifecycleCreate"]["status"],
        "DISABLED"
    );
    assert_eq!(
        f["capabilities"]["update"]["lifecycleDeactivate"]["status"],
        "DISABLED"
    );
    assert_eq!(f["capabilities"]["update"]["profile"]["status"], "ENABLED");

    let user = format!("/api/v1/apps/{app}/users/00ufeat0000000000001");
    let au: Value = api
        .send(reqwest::Method::POST, &user, Some(json!({})))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(
        au["syncState"], "ERROR",
        "inactive user stays in error while Deactivate Users is off"
    );

    let r = api
        .send(
            reqwest::Method::PUT,
            &format!("/api/v1/apps/{app}/features/USER_PROVISIONING"),
            Some(json!({ "update": { "lifecycleDeactivate": { "status": "ENABLED" } } })),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let f: Value = r.json().await.expect("json");
    assert_eq!(
        f["capabilities"]["update"]["lifecycleDeactivate"]["status"],
        "ENABLED"
    );
    assert_eq!(
        f["capabilities"]["create"]["lifecycleCreate"]["status"], "DISABLED",
        "partial update"
    );
    let features = api.json(&format!("/api/v1/apps/{app}")).await["features"].clone();
    let features: Vec<&str> = features
        .as_array()
        .expect("array")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(features.contains(&"PUSH_USER_DEACTIVATION") && features.contains(&"REACTIVATE_USERS"));
    assert!(!features.contains(&"PUSH_NEW_USERS"));
    let au: Value = api
        .send(reqwest::Method::POST, &user, Some(json!({})))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(au["syncState"], "SYNCHRONIZED");
    assert_eq!(
        events_of(&api, "application.lifecycle.update").await.len(),
        1
    );

    let r = api
        .send(
            reqwest::Method::PUT,
            &format!("/api/v1/apps/{app}/features/USER_PROVISIONING"),
            Some(json!({ "create": { "lifecycleCreate": { "status": "MAYBE" } } })),
        )
        .await;
    assert_error(r, StatusCode::BAD_REQUEST, "E0000001").await;
}

#[tokio::test]
async fn features_api_refuses_undocumented_apps_and_disabled_provisioning() {
    let sim = start("all-situations.toml").await;
    let api = Api::new(&sim, "test-token-all");
    let r = api.get("/api/v1/apps/0oafeatscim000000001/features").await;
    assert_error(r, StatusCode::BAD_REQUEST, "E0000001").await;
    let r = api.get("/api/v1/apps/0oaorphorg2org000001/features").await;
    let body = assert_error(r, StatusCode::BAD_REQUEST, "E0000001").await;
    assert_eq!(
        body["errorCauses"][0]["errorSummary"],
        "Provisioning is not enabled for the app instance."
    );
    assert_error(
        api.get("/api/v1/apps/0oafeatslack00000001/features/NOPE")
            .await,
        StatusCode::NOT_FOUND,
        "E0000007",
    )
    .await;
}

// ----- group push -----------------------------------------------------------------------------

#[tokio::test]
async fn group_push_requires_enabled_provisioning_and_inactive_mappings_for_delete() {
    let sim = start("orphaned-push-mappings.toml").await;
    let api = Api::new(&sim, "test-token-orphaned");
    let app = "0oaorphorg2org000001";
    let mappings = format!("/api/v1/apps/{app}/group-push/mappings");
    // Reads work while provisioning is disabled (the default modelled assumption); writes do not.
    let listed = api.json(&mappings).await;
    assert_eq!(listed.as_array().expect("array").len(), 2);
    let first = listed[0]["id"].as_str().expect("mapping id").to_owned();
    let body = assert_error(
        api.send(
            reqwest::Method::PATCH,
            &format!("{mappings}/{first}"),
            Some(json!({ "status": "INACTIVE" })),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "E0000001",
    )
    .await;
    assert_eq!(
        body["errorCauses"][0]["errorSummary"],
        "Provisioning is not enabled for the app instance."
    );

    let r = api
        .send(
            reqwest::Method::POST,
            &format!("/api/v1/apps/{app}/connections/default?activate=true"),
            Some(json!({ "profile": { "authScheme": "TOKEN", "token": "org2org-fresh-token" } })),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);

    let list = api.json(&format!("{mappings}?status=ACTIVE")).await;
    assert_eq!(list.as_array().expect("array").len(), 2);
    assert_eq!(list[0]["status"], "ACTIVE");
    let filtered = api
        .json(&format!("{mappings}?sourceGroupId=00gorphsales00000001"))
        .await;
    assert_eq!(filtered.as_array().expect("array").len(), 1);
    let m1 = format!("{mappings}/gPmorph0000000000001");
    assert_error(
        api.send(reqwest::Method::DELETE, &m1, None).await,
        StatusCode::BAD_REQUEST,
        "E0000001",
    )
    .await;
    let active_delete = api
        .send(
            reqwest::Method::DELETE,
            &format!("{m1}?deleteTargetGroup=false"),
            None,
        )
        .await;
    assert_error(active_delete, StatusCode::BAD_REQUEST, "E0000001").await;
    let r = api
        .send(
            reqwest::Method::PATCH,
            &m1,
            Some(json!({ "status": "ERROR" })),
        )
        .await;
    assert_error(r, StatusCode::BAD_REQUEST, "E0000001").await;
    let r = api
        .send(
            reqwest::Method::PATCH,
            &m1,
            Some(json!({ "status": "INACTIVE" })),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.expect("json")["status"], "INACTIVE");
    let r = api
        .send(
            reqwest::Method::DELETE,
            &format!("{m1}?deleteTargetGroup=false"),
            None,
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_error(api.get(&m1).await, StatusCode::NOT_FOUND, "E0000007").await;
    assert_eq!(
        events_of(&api, "application.provision.group_push.deactivate_mapping")
            .await
            .len(),
        1
    );
    assert_eq!(
        events_of(&api, "application.provision.group_push.delete_mapping")
            .await
            .len(),
        1
    );
    assert!(
        events_of(&api, "application.provision.group_push.delete_appgroup")
            .await
            .is_empty()
    );
    let m2 = format!("{mappings}/gPmorph0000000000002");
    api.send(
        reqwest::Method::PATCH,
        &m2,
        Some(json!({ "status": "INACTIVE" })),
    )
    .await;
    let r = api
        .send(
            reqwest::Method::DELETE,
            &format!("{m2}?deleteTargetGroup=true"),
            None,
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        events_of(&api, "application.provision.group_push.delete_appgroup")
            .await
            .len(),
        1
    );
}

// ----- logs -----------------------------------------------------------------------------------

#[tokio::test]
async fn logs_filter_paging_and_polling() {
    let sim = start("kpasswd-blocked.toml").await;
    let api = Api::new(&sim, "test-token-kpasswd");
    let bounded = format!(
        "until={}",
        url::form_urlencoded::byte_serialize(chrono::Utc::now().to_rfc3339().as_bytes())
            .collect::<String>()
    );
    let (all, pages) = api
        .all_pages(&format!("/api/v1/logs?limit=2&{bounded}"))
        .await;
    assert_eq!(all.len(), 6);
    assert_eq!(pages, 3);
    let published: Vec<&str> = all.iter().filter_map(|e| e["published"].as_str()).collect();
    let mut sorted = published.clone();
    sorted.sort();
    assert_eq!(published, sorted, "ascending by default");
    let sync = all
        .iter()
        .find(|e| e["eventType"] == "application.provision.user.sync")
        .expect("sync event");
    assert!(
        sync["outcome"]["reason"].is_null() && sync["outcome"].get("reason").is_some(),
        "reason null, as in the KPASSWD pattern"
    );
    assert!(
        sync["uuid"].is_string() && sync["actor"].is_object() && sync["transaction"].is_object()
    );

    let filter = url::form_urlencoded::byte_serialize(
        br#"(eventType eq "system.agent.ad.write_ldap" or eventType sw "application.provision") and target.id eq "00ukpwd0000000000002""#,
    )
    .collect::<String>();
    let got = api.json(&format!("/api/v1/logs?filter={filter}")).await;
    let types: Vec<&str> = got
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|e| e["eventType"].as_str())
        .collect();
    assert_eq!(
        types,
        [
            "system.agent.ad.write_ldap",
            "application.provision.user.sync"
        ]
    );

    // polling: the last page still carries a next link, which later yields new events only
    let r = api.get("/api/v1/logs?limit=1000").await;
    let next = next_link(&r).expect("polling always returns next");
    assert_eq!(r.json::<Vec<Value>>().await.expect("json").len(), 6);
    let r = api.get(&next).await;
    let again = next_link(&r).expect("still a next link");
    assert!(r.json::<Vec<Value>>().await.expect("json").is_empty());
    Client::new()
        .post(format!("{}/__sim/events", sim.base_url()))
        .json(&json!({ "eventType": "user.session.start" }))
        .send()
        .await
        .expect("inject");
    let fresh: Vec<Value> = api.get(&again).await.json().await.expect("json");
    assert_eq!(fresh.len(), 1);
    assert_eq!(fresh[0]["eventType"], "user.session.start");

    let desc = api
        .json(&format!("/api/v1/logs?sortOrder=DESCENDING&{bounded}"))
        .await;
    assert_eq!(desc[0]["eventType"], "system.agent.ad.invoke_dir");
}

#[tokio::test]
async fn logs_reject_bad_queries() {
    let sim = start("healthy.toml").await;
    let api = Api::new(&sim, "test-token-healthy");
    let old = (chrono::Utc::now() - chrono::Duration::days(200)).to_rfc3339();
    let old = url::form_urlencoded::byte_serialize(old.as_bytes()).collect::<String>();
    assert_error(
        api.get(&format!("/api/v1/logs?since={old}")).await,
        StatusCode::BAD_REQUEST,
        "E0000053",
    )
    .await;
    assert_error(
        api.get("/api/v1/logs?filter=eventType%20eq").await,
        StatusCode::BAD_REQUEST,
        "E0000053",
    )
    .await;
    assert_error(
        api.get("/api/v1/logs?since=yesterday").await,
        StatusCode::BAD_REQUEST,
        "E0000053",
    )
    .await;
    assert_error(
        api.get("/api/v1/logs?after=garbage").await,
        StatusCode::BAD_REQUEST,
        "E0000053",
    )
    .await;
}

// ----- agent pools and admin endpoints --------------------------------------------------------

#[tokio::test]
async fn agent_pools_and_kpasswd_retry() {
    let sim = start("kpasswd-blocked.toml").await;
    let api = Api::new(&sim, "test-token-kpasswd");
    let pools = api.json("/api/v1/agentPools?poolType=AD").await;
    assert_eq!(pools[0]["type"], "AD");
    assert_eq!(pools[0]["agents"][0]["operationalStatus"], "OPERATIONAL");
    assert!(api
        .json("/api/v1/agentPools?poolType=LDAP")
        .await
        .as_array()
        .expect("array")
        .is_empty());

    let app = "0oakpwdad00000000001";
    let retry = format!("/api/v1/internal/apps/{app}/tasks/retry");
    let body = json!({ "userIds": ["00ukpwd0000000000001"] });
    let r = api
        .send(reqwest::Method::POST, &retry, Some(body.clone()))
        .await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    assert_eq!(
        sim.app_user_sync_state(app, "00ukpwd0000000000001")
            .as_deref(),
        Some("ERROR")
    );
    let r = Client::new()
        .post(format!(
            "{}/__sim/directories/{app}/kpasswd",
            sim.base_url()
        ))
        .json(&json!({ "open": true }))
        .send()
        .await
        .expect("control");
    assert_eq!(r.status(), StatusCode::OK);
    api.send(reqwest::Method::POST, &retry, Some(body)).await;
    assert_eq!(
        sim.app_user_sync_state(app, "00ukpwd0000000000001")
            .as_deref(),
        Some("SYNCHRONIZED")
    );
    assert_eq!(
        sim.app_user_sync_state(app, "00ukpwd0000000000002")
            .as_deref(),
        Some("ERROR")
    );
    // a re-push of a directory app user goes through too, now that port 464 is open
    let path = format!("/api/v1/apps/{app}/users/00ukpwd0000000000002");
    let au: Value = api
        .send(reqwest::Method::POST, &path, Some(json!({})))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(au["syncState"], "SYNCHRONIZED");
    let r = api
        .send(reqwest::Method::POST, &retry, Some(json!({ "ids": [] })))
        .await;
    assert_error(r, StatusCode::BAD_REQUEST, "E0000003").await;
}

#[tokio::test]
async fn force_sync_copies_mapped_directory_attributes() {
    let sim = start("force-sync.toml").await;
    let api = Api::new(&sim, "test-token-forcesync");
    let r = api
        .send(
            reqwest::Method::POST,
            "/api/v1/internal/directories/0oafsyncad0000000001/force-sync",
            None,
        )
        .await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let mut done = Vec::new();
    for _ in 0..100 {
        done = events_of(&api, "app.app_instance.provision_sync_job.completed").await;
        if !done.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(done.len(), 1, "the job completes");
    assert_eq!(
        events_of(&api, "app.app_instance.provision_sync_job.started")
            .await
            .len(),
        1
    );
    let alice = api.json("/api/v1/users/00ufsync000000000001").await;
    assert_eq!(alice["profile"]["title"], "Senior Analyst");
    assert_eq!(alice["profile"]["department"], "Treasury");
    let bob = api.json("/api/v1/users/00ufsync000000000002").await;
    assert_eq!(bob["profile"]["title"], "Engineer");
    let updates = events_of(&api, "user.account.update_profile").await;
    assert_eq!(updates.len(), 1, "only alice changed");
    assert_eq!(updates[0]["target"][0]["id"], "00ufsync000000000001");
    let r = api
        .send(
            reqwest::Method::POST,
            "/api/v1/internal/directories/0oanope/force-sync",
            None,
        )
        .await;
    assert_error(r, StatusCode::NOT_FOUND, "E0000007").await;
}

#[tokio::test]
async fn dropping_the_handle_stops_the_server() {
    let sim = start("healthy.toml").await;
    let base = sim.base_url().to_owned();
    sim.shutdown().await;
    let r = Client::new()
        .get(format!("{base}/api/v1/apps"))
        .send()
        .await;
    assert!(r.is_err(), "server is gone");
}

#[tokio::test]
async fn staged_user_is_created_once_create_users_is_enabled() {
    let sim = start("features-disabled.toml").await;
    let api = Api::new(&sim, "test-token-features");
    let app = "0oafeatslack00000001";
    let retry = format!("/api/v1/internal/apps/{app}/tasks/retry");
    let body = json!({ "userIds": ["00ufeat0000000000002", "00ufeat0000000000003", "00unotassigned000001"] });
    let r: Value = api
        .send(reqwest::Method::POST, &retry, Some(body.clone()))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(r["results"]["00ufeat0000000000002"], "FAILED");
    assert_eq!(r["results"]["00unotassigned000001"], "NOT_FOUND");
    let fresh = events_of(&api, "application.provision.user.push").await;
    let last = fresh.last().expect("a fresh failure event");
    assert_eq!(last["outcome"]["result"], "FAILURE");
    assert!(last["outcome"]["reason"]
        .as_str()
        .expect("reason")
        .ends_with("Matching user not found"));
    assert_eq!(
        last["displayMessage"],
        "Push new user to external application"
    );
    api.send(
        reqwest::Method::PUT,
        &format!("/api/v1/apps/{app}/features/USER_PROVISIONING"),
        Some(json!({ "create": { "lifecycleCreate": { "status": "ENABLED" } } })),
    )
    .await;
    let r: Value = api
        .send(reqwest::Method::POST, &retry, Some(body))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(r["results"]["00ufeat0000000000002"], "SUCCEEDED");
    let au = api
        .json(&format!("/api/v1/apps/{app}/users/00ufeat0000000000002"))
        .await;
    assert_eq!(au["status"], "PROVISIONED");
    assert_eq!(au["syncState"], "SYNCHRONIZED");
    assert!(au["lastSync"].is_string());
    let state: Value = Client::new()
        .get(format!("{}/__sim/state", sim.base_url()))
        .send()
        .await
        .expect("state")
        .json()
        .await
        .expect("json");
    let slack = state["apps"]
        .as_array()
        .expect("apps")
        .iter()
        .find(|a| a["id"] == app)
        .expect("slack");
    let linus = slack["users"]
        .as_array()
        .expect("users")
        .iter()
        .find(|u| u["id"] == "00ufeat0000000000001")
        .expect("linus");
    assert_eq!(linus["syncState"], "ERROR", "Deactivate Users is still off");
}

#[tokio::test]
async fn profile_change_without_provisioning_updates_the_assignment_only() {
    let text = r#"
[org]
api_tokens = ["t"]
[[users]]
id = "00uinline00000000001"
profile = { login = "x@example.com" }
[[apps]]
id = "0oainline00000000001"
name = "slack"
label = "Slack"
provisioning = { status = "DISABLED", token = "valid" }
[[apps.users]]
id = "00uinline00000000001"
sync_state = "ERROR"
cause = "transient"
error_text = "boom"
"#;
    let scenario =
        Scenario::from_toml_str(text, std::path::Path::new("inline.toml")).expect("valid");
    let sim = Sim::start(scenario, "127.0.0.1:0").await.expect("start");
    let api = Api::new(&sim, "t");
    let path = "/api/v1/apps/0oainline00000000001/users/00uinline00000000001";
    let au: Value = api
        .send(
            reqwest::Method::POST,
            path,
            Some(json!({ "profile": { "title": "CTO" } })),
        )
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(au["profile"]["title"], "CTO");
    assert_eq!(
        au["syncState"], "ERROR",
        "no push while provisioning is disabled"
    );
    assert_eq!(
        events_of(&api, "application.user_membership.update")
            .await
            .len(),
        1
    );
    assert!(events_of(&api, "application.provision.user.push_profile")
        .await
        .is_empty());
    let r = api.send(reqwest::Method::POST, path, None).await;
    assert_error(r, StatusCode::BAD_REQUEST, "E0000003").await;
    let r = api
        .send(reqwest::Method::POST, "/__sim/events", Some(json!([1, 2])))
        .await;
    assert_error(r, StatusCode::BAD_REQUEST, "E0000003").await;
}

#[tokio::test]
async fn dropping_the_handle_without_shutdown_also_stops_it() {
    let sim = start("healthy.toml").await;
    let addr = sim.addr();
    drop(sim);
    // The accept loop stops once it observes the cancellation; poll (bounded) until refused.
    let mut refused = false;
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(addr).await.is_err() {
            refused = true;
            break;
        }
        tokio::task::yield_now().await;
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(refused, "the listener closes after the handle is dropped");
}

#[tokio::test]
async fn group_push_reads_can_be_made_to_need_provisioning_too() {
    let mut scenario = Scenario::from_toml_file(scenario_path("orphaned-push-mappings.toml"))
        .expect("shipped scenario loads");
    scenario.org.group_push_reads_need_provisioning = true;
    let sim = Sim::start(scenario, "127.0.0.1:0")
        .await
        .expect("sim starts on loopback");
    let api = Api::new(&sim, "test-token-orphaned");
    let mappings = "/api/v1/apps/0oaorphorg2org000001/group-push/mappings";
    let body = assert_error(api.get(mappings).await, StatusCode::BAD_REQUEST, "E0000001").await;
    assert_eq!(
        body["errorCauses"][0]["errorSummary"],
        "Provisioning is not enabled for the app instance."
    );
}
