//! The recorded Okta traffic (tests/fixtures/okta-recorded) as client tests: every recorded body
//! of an endpoint the client uses decodes with the client's own types, and the fields the planner
//! reads hold what Okta sent; a sample of the recorded answers, replayed byte for byte over HTTP
//! (status, Content-Type, Content-Length, Link, body), goes through the whole client.

use crate::support::client as client_support;

use client_support::*;
use remediator::okta::*;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::BufRead;
use std::sync::{Arc, Mutex};

const CORPUS: &str = "tests/fixtures/okta-recorded/interactions.jsonl.gz";

/// One recorded exchange.
#[derive(serde::Deserialize, Clone)]
struct Interaction {
    method: String,
    url: String,
    status: u16,
    headers: BTreeMap<String, Vec<String>>,
    body: String,
}

impl Interaction {
    fn path(&self) -> String {
        let url = url::Url::parse(&self.url).expect("recorded URLs are absolute");
        url.path().to_owned()
    }

    fn segments(&self) -> Vec<String> {
        self.path()
            .trim_start_matches('/')
            .split('/')
            .map(str::to_owned)
            .collect()
    }

    /// The endpoint as the client names it, when the client calls it.
    fn endpoint(&self) -> Option<&'static str> {
        let s = self.segments();
        let s: Vec<&str> = s.iter().map(String::as_str).collect();
        let m = self.method.as_str();
        Some(match (m, s.as_slice()) {
            ("GET", ["api", "v1", "apps"]) => "list apps",
            ("GET", ["api", "v1", "apps", _]) => "get app",
            ("GET", ["api", "v1", "apps", _, "users"]) => "list app users",
            ("GET", ["api", "v1", "apps", _, "users", _]) => "get app user",
            ("GET" | "PUT", ["api", "v1", "apps", _, "features", "USER_PROVISIONING"]) => {
                "user provisioning feature"
            }
            ("GET" | "POST", ["api", "v1", "apps", _, "connections", "default"]) => "connection",
            ("POST", ["api", "v1", "apps", _, "connections", "default", "lifecycle", _]) => {
                "connection lifecycle"
            }
            ("GET", ["api", "v1", "apps", _, "group-push", "mappings"]) => "list mappings",
            ("PATCH", ["api", "v1", "apps", _, "group-push", "mappings", _]) => "patch mapping",
            ("DELETE", ["api", "v1", "apps", _, "group-push", "mappings", _]) => "delete mapping",
            ("GET", ["api", "v1", "users", _]) => "get user",
            _ => return None,
        })
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body).expect("recorded success bodies are JSON")
    }
}

fn corpus() -> Vec<Interaction> {
    let file = std::fs::File::open(CORPUS).expect("the recorded corpus is in the repository");
    let reader = std::io::BufReader::new(flate2::read::GzDecoder::new(file));
    reader
        .lines()
        .map(|line| serde_json::from_str(&line.expect("gzip reads")).expect("one JSON record"))
        .collect()
}

fn decode<T: DeserializeOwned>(i: &Interaction) -> T {
    serde_json::from_str(&i.body)
        .unwrap_or_else(|e| panic!("{} {}: {e}\n{}", i.method, i.url, i.body))
}

fn text<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

fn check_app(app: &Application, raw: &Value) {
    assert_eq!(Some(app.id.as_str()), text(raw, "id"));
    assert_eq!(Some(app.name.as_str()), text(raw, "name"));
    assert_eq!(Some(app.label.as_str()), text(raw, "label"));
    assert_eq!(app.status.as_ref().map(|s| s.as_str()), text(raw, "status"));
    assert!(
        !matches!(app.status, Some(ApplicationLifecycleStatus::Unknown(_))),
        "{raw}"
    );
    let features: Vec<&str> = raw["features"]
        .as_array()
        .expect("features is an array")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(app.features, features);
    assert_eq!(app.sign_on_mode.as_deref(), text(raw, "signOnMode"));
}

fn check_app_user(user: &AppUser, raw: &Value) {
    assert_eq!(Some(user.id.as_str()), text(raw, "id"));
    assert_eq!(
        user.status.as_ref().map(|s| s.as_str()),
        text(raw, "status")
    );
    assert_eq!(
        user.sync_state.as_ref().map(|s| s.as_str()),
        text(raw, "syncState")
    );
    assert!(!matches!(
        user.sync_state,
        Some(AppUserSyncState::Unknown(_))
    ));
    assert_eq!(
        user.last_updated.is_some(),
        raw.get("lastUpdated").is_some()
    );
    let profile = raw["profile"].as_object().expect("profile is an object");
    assert_eq!(&user.profile, profile, "nulls kept as they came");
}

fn check_mapping(m: &GroupPushMapping, raw: &Value) {
    assert_eq!(Some(m.id.as_str()), text(raw, "id"));
    assert_eq!(m.status.as_ref().map(|s| s.as_str()), text(raw, "status"));
    assert_eq!(
        m.source_group_id.as_ref().map(|g| g.as_str()),
        text(raw, "sourceGroupId")
    );
    assert_eq!(m.target_group_id.as_deref(), text(raw, "targetGroupId"));
    // Whole-second timestamps, as Okta sends them for mappings.
    assert!(m.last_updated.is_some() && m.created.is_some(), "{raw}");
}

fn check_feature(f: &ApplicationFeature, raw: &Value) {
    assert_eq!(f.name, "USER_PROVISIONING");
    let caps = f.capabilities.as_ref().expect("capabilities");
    let status = |v: &Value| v.get("status").and_then(Value::as_str).map(str::to_owned);
    let create = caps
        .create
        .as_ref()
        .and_then(|c| c.lifecycle_create.as_ref());
    assert_eq!(
        create.map(|s| s.status.as_str().to_owned()),
        status(&raw["capabilities"]["create"]["lifecycleCreate"])
    );
    let update = caps.update.as_ref().expect("update capabilities");
    assert_eq!(
        update
            .profile
            .as_ref()
            .map(|s| s.status.as_str().to_owned()),
        status(&raw["capabilities"]["update"]["profile"])
    );
    assert_eq!(
        update
            .lifecycle_deactivate
            .as_ref()
            .map(|s| s.status.as_str().to_owned()),
        status(&raw["capabilities"]["update"]["lifecycleDeactivate"])
    );
}

#[test]
fn every_recorded_body_the_client_reads_decodes_with_the_planners_fields() {
    let mut decoded: BTreeMap<&str, usize> = BTreeMap::new();
    for i in corpus().iter().filter(|i| (200..300).contains(&i.status)) {
        let Some(endpoint) = i.endpoint() else {
            continue;
        };
        *decoded.entry(endpoint).or_default() += 1;
        match endpoint {
            "list apps" => {
                let apps: Vec<Application> = decode(i);
                for (app, raw) in apps.iter().zip(i.json().as_array().expect("a list")) {
                    check_app(app, raw);
                }
            }
            "get app" => check_app(&decode(i), &i.json()),
            "list app users" => {
                let users: Vec<AppUser> = decode(i);
                for (user, raw) in users.iter().zip(i.json().as_array().expect("a list")) {
                    check_app_user(user, raw);
                }
            }
            "get app user" => check_app_user(&decode(i), &i.json()),
            "user provisioning feature" => check_feature(&decode(i), &i.json()),
            "connection" => {
                let c: ProvisioningConnection = decode(i);
                assert_eq!(Some(c.status.as_str()), text(&i.json(), "status"));
                assert_eq!(c.auth_scheme.as_deref(), text(&i.json(), "authScheme"));
            }
            "list mappings" => {
                let mappings: Vec<GroupPushMapping> = decode(i);
                for (m, raw) in mappings.iter().zip(i.json().as_array().expect("a list")) {
                    check_mapping(m, raw);
                }
            }
            "patch mapping" => check_mapping(&decode(i), &i.json()),
            "get user" => {
                let user: User = decode(i);
                let raw = i.json();
                assert_eq!(Some(user.id.as_str()), text(&raw, "id"));
                assert_eq!(
                    user.status.as_ref().map(|s| s.as_str()),
                    text(&raw, "status")
                );
                assert!(!matches!(user.status, Some(UserStatus::Unknown(_))));
                assert_eq!(&user.profile, raw["profile"].as_object().expect("profile"));
            }
            // Empty bodies: 204, and the mapping DELETE's 200 with Content-Length 0.
            "connection lifecycle" | "delete mapping" => assert_eq!(i.body, "", "{}", i.url),
            other => unreachable!("{other}"),
        }
    }
    // Every endpoint above is in the recordings, most many times.
    assert_eq!(decoded.len(), 11, "{decoded:?}");
    assert!(decoded["get app"] > 1_000, "{decoded:?}");
    assert!(decoded["get user"] > 500, "{decoded:?}");
}

#[test]
fn every_recorded_error_body_reads_as_an_okta_error() {
    let errors: Vec<Interaction> = corpus().into_iter().filter(|i| i.status >= 400).collect();
    assert!(!errors.is_empty());
    for i in errors {
        let body: OktaErrorBody = decode(&i);
        let code = body.error_code.expect("errorCode");
        assert!(code.starts_with('E') && code.len() == 8, "{code}");
        assert!(body.error_summary.is_some() && body.error_id.is_some());
    }
}

/// A scripted server that answers each request with the reply set before the call.
struct Replayer {
    server: TestServer,
    next: Arc<Mutex<Vec<Interaction>>>,
}

impl Replayer {
    async fn start() -> Self {
        let next: Arc<Mutex<Vec<Interaction>>> = Arc::new(Mutex::new(Vec::new()));
        let queue = next.clone();
        let server = TestServer::start(move |_, _| {
            let mut queue = queue.lock().expect("lock");
            let i = if queue.len() > 1 {
                queue.remove(0)
            } else {
                queue.first().cloned().expect("a reply was set")
            };
            replay(&i)
        })
        .await;
        Self { server, next }
    }

    fn answer(&self, with: Vec<Interaction>) {
        *self.next.lock().expect("lock") = with;
    }
}

/// The recorded answer as sent: status, the recorded headers (Content-Length is the server's),
/// the body.
fn replay(i: &Interaction) -> Reply {
    let headers = i
        .headers
        .iter()
        .filter(|(k, _)| !k.eq_ignore_ascii_case("content-length"))
        .flat_map(|(k, vs)| vs.iter().map(move |v| (k.clone(), v.clone())))
        .collect();
    Reply::Http {
        status: i.status,
        headers,
        body: i.body.clone(),
    }
}

#[tokio::test]
async fn recorded_answers_replayed_over_http_go_through_the_client() {
    let all = corpus();
    let replayer = Replayer::start().await;
    let client = replayer.server.ssws_client("SSWS-SECRET-corpus");
    let mut per_endpoint: BTreeMap<&str, usize> = BTreeMap::new();
    for i in all.iter().filter(|i| (200..300).contains(&i.status)) {
        let Some(endpoint) = i.endpoint() else {
            continue;
        };
        let seen = per_endpoint.entry(endpoint).or_default();
        if *seen >= 10 {
            continue;
        }
        *seen += 1;
        replayer.answer(vec![i.clone()]);
        let s = i.segments();
        let app = AppId::new(s.get(3).cloned().unwrap_or_default());
        let result: Result<(), ApiError> = match endpoint {
            "list apps" => client.list_apps(PageRequest::First).await.map(|p| {
                assert_eq!(p.items.len(), i.json().as_array().map_or(0, Vec::len));
                assert_eq!(p.next, None, "recorded lists have only a self link");
            }),
            "get app" => client.get_app(&app).await.map(drop),
            "list app users" => client
                .list_app_users(&app, PageRequest::First)
                .await
                .map(drop),
            "get app user" => client
                .get_app_user(&app, &UserId::new(s[5].clone()))
                .await
                .map(drop),
            "user provisioning feature" => {
                client.get_user_provisioning_feature(&app).await.map(drop)
            }
            "connection" => client.get_provisioning_connection(&app).await.map(drop),
            "connection lifecycle" => client.activate_provisioning_connection(&app).await,
            "list mappings" => client
                .list_push_mappings(&app, None, PageRequest::First)
                .await
                .map(drop),
            "patch mapping" => client
                .update_push_mapping_status(
                    &app,
                    &MappingId::new(s[6].clone()),
                    PushMappingTarget::Inactive,
                )
                .await
                .map(drop),
            "delete mapping" => {
                client
                    .delete_push_mapping(&app, &MappingId::new(s[6].clone()), false)
                    .await
            }
            "get user" => client.get_user(&UserId::new(s[3].clone())).await.map(drop),
            other => unreachable!("{other}"),
        };
        result.unwrap_or_else(|e| panic!("{endpoint}: {} {}: {e}", i.method, i.url));
    }
    assert_eq!(per_endpoint.len(), 11, "{per_endpoint:?}");
}

#[tokio::test]
async fn the_recorded_500s_are_retried_until_the_third_try_succeeds() {
    let all = corpus();
    let failures: Vec<Interaction> = all.iter().filter(|i| i.status == 500).cloned().collect();
    assert_eq!(failures.len(), 2, "the two recorded E0000009");
    let deleted = all
        .iter()
        .find(|i| i.endpoint() == Some("delete mapping"))
        .expect("a recorded mapping DELETE")
        .clone();
    let replayer = Replayer::start().await;
    let client = replayer.server.ssws_client("SSWS-SECRET-corpus");
    replayer.answer(vec![failures[0].clone(), failures[1].clone(), deleted]);
    client
        .delete_push_mapping(&AppId::new("0oa1"), &MappingId::new("gPm1"), false)
        .await
        .expect("500, 500, then 200 with an empty body");
    let requests = replayer.server.requests();
    assert_eq!(requests.len(), 3);
    assert_eq!(requests[2].header("x-okta-retry-count"), Some("2"));
}
