//! Event-driven testing: making one app user fail now (`/__sim/app-users/{app}/{user}/fail`) and
//! Okta Event Hook delivery (verification, the delivery envelope, event-type filtering,
//! authorization header, retry), against a small receiver served by the test.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use axum::{Json, Router};
use okta_sim::{EventHookSpec, Scenario, Sim};
use reqwest::Method;
use serde_json::{json, Value};
use tokio::sync::mpsc;

use crate::support::{start, start_scenario, Api};

const TOKEN: &str = "test-token-all";
const SLACK: &str = "0oahealthyslack00001";
const USER: &str = "00uhealthy0000000001";
const PUSH: &str = "application.provision.user.push";
/// How long a test waits for a delivery before it gives up (a bound, not an expectation).
const DELIVERY_WAIT: Duration = Duration::from_secs(20);

/// One request the receiver got.
#[derive(Debug, Clone)]
struct Received {
    method: String,
    headers: HeaderMap,
    body: Value,
}

/// How the receiver behaves.
#[derive(Clone)]
struct Receiver {
    /// Answer the verification challenge correctly.
    echo_challenge: bool,
    /// Statuses for successive deliveries; 200 once they run out.
    statuses: Arc<Mutex<VecDeque<u16>>>,
    seen: mpsc::UnboundedSender<Received>,
}

async fn verification(State(r): State<Receiver>, headers: HeaderMap) -> Json<Value> {
    let challenge = headers
        .get("x-okta-verification-challenge")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let _ = r.seen.send(Received {
        method: "GET".into(),
        headers,
        body: Value::Null,
    });
    let answer = if r.echo_challenge {
        challenge
    } else {
        "something else".into()
    };
    Json(json!({ "verification": answer }))
}

async fn delivery(
    State(r): State<Receiver>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> StatusCode {
    let _ = r.seen.send(Received {
        method: "POST".into(),
        headers,
        body,
    });
    let status = r
        .statuses
        .lock()
        .expect("receiver lock")
        .pop_front()
        .unwrap_or(200);
    StatusCode::from_u16(status).expect("a valid status")
}

/// Serves a receiver on loopback; its URL and what it receives.
async fn receiver(
    echo_challenge: bool,
    statuses: &[u16],
) -> (String, mpsc::UnboundedReceiver<Received>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let state = Receiver {
        echo_challenge,
        statuses: Arc::new(Mutex::new(statuses.iter().copied().collect())),
        seen: tx,
    };
    let app = Router::new()
        .route("/hooks/okta", get(verification).post(delivery))
        .with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let url = format!(
        "http://{}/hooks/okta",
        listener.local_addr().expect("bound address")
    );
    tokio::spawn(async move {
        axum::serve(listener, app).await.expect("receiver serves");
    });
    (url, rx)
}

async fn next_received(rx: &mut mpsc::UnboundedReceiver<Received>) -> Received {
    tokio::time::timeout(DELIVERY_WAIT, rx.recv())
        .await
        .expect("the receiver was called")
        .expect("the receiver is up")
}

fn hook(url: &str, event_types: &[&str]) -> Value {
    json!({
        "name": "remediator events",
        "url": url,
        "auth_header_name": "Authorization",
        "auth_header_value": "hook-secret-1",
        "event_types": event_types,
    })
}

async fn control(
    sim: &okta_sim::SimHandle,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = reqwest::Client::new().request(method, format!("{}{path}", sim.base_url()));
    if let Some(body) = body {
        request = request.json(&body);
    }
    let r = request.send().await.expect("control route");
    let status = r.status().as_u16();
    let text = r.text().await.expect("body");
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).expect("control answers are JSON")
    };
    (status, body)
}

#[tokio::test]
async fn an_app_user_fails_on_demand_with_the_system_log_failure_okta_records() {
    let sim = start("all-situations.toml").await;
    let api = Api::ssws(&sim, TOKEN);
    let (status, answer) = control(
        &sim,
        Method::POST,
        &format!("/__sim/app-users/{SLACK}/{USER}/fail"),
        Some(json!({ "reason": "Automatic provisioning of user Ada Lovelace to app Slack failed: Error while updating user: 409 Conflict" })),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    let app_user = api
        .json(&format!("/api/v1/apps/{SLACK}/users/{USER}"))
        .await;
    assert_eq!(app_user["syncState"], "ERROR");

    let filter = format!(
        "eventType eq \"{PUSH}\" and outcome.result eq \"FAILURE\" and target.id eq \"{USER}\""
    );
    let q: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("filter", &filter)
        .append_pair(
            "until",
            &(chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339(),
        )
        .finish();
    let events = api.json(&format!("/api/v1/logs?{q}")).await;
    let events = events.as_array().expect("array");
    assert_eq!(events.len(), 1, "{events:?}");
    let event = &events[0];
    assert_eq!(
        event, &answer["event"],
        "the answer carries the appended event"
    );
    assert_eq!(event["outcome"]["result"], "FAILURE");
    assert_eq!(
        event["outcome"]["reason"],
        "Automatic provisioning of user Ada Lovelace to app Slack failed: Error while updating user: 409 Conflict"
    );
    assert_eq!(
        event["displayMessage"],
        "Push new user to external application"
    );
    assert!(event["uuid"].is_string() && event["published"].is_string());
    assert_eq!(event["transaction"]["type"], "JOB");
    assert!(event["actor"]["id"].is_string() && event["actor"]["type"].is_string());
    let targets: Vec<(&str, &str)> = event["target"]
        .as_array()
        .expect("targets")
        .iter()
        .map(|t| {
            (
                t["type"].as_str().expect("type"),
                t["id"].as_str().expect("id"),
            )
        })
        .collect();
    for expected in [("User", USER), ("AppInstance", SLACK), ("AppUser", USER)] {
        assert!(targets.contains(&expected), "{expected:?} in {targets:?}");
    }

    // The default cause is transient: a re-push (an app-user POST) clears it.
    let repushed = api
        .call(
            Method::POST,
            &format!("/api/v1/apps/{SLACK}/users/{USER}"),
            Some(json!({ "profile": {} })),
        )
        .await;
    assert_eq!(repushed.json()["syncState"], "SYNCHRONIZED");

    // A cause that holds keeps the user in ERROR through a re-push.
    control(
        &sim,
        Method::POST,
        &format!("/__sim/app-users/{SLACK}/{USER}/fail"),
        Some(json!({ "cause": "transient-times:1" })),
    )
    .await;
    let repushed = api
        .call(
            Method::POST,
            &format!("/api/v1/apps/{SLACK}/users/{USER}"),
            Some(json!({ "profile": {} })),
        )
        .await;
    assert_eq!(repushed.json()["syncState"], "ERROR");

    let (status, body) = control(
        &sim,
        Method::POST,
        &format!("/__sim/app-users/{SLACK}/00unosuchuser0000001/fail"),
        None,
    )
    .await;
    assert_eq!(
        (status, body["errorCode"].clone()),
        (404, json!("E0000007"))
    );
    let (status, _) = control(
        &sim,
        Method::POST,
        &format!("/__sim/app-users/{SLACK}/{USER}/fail"),
        Some(json!({ "cause": "gremlins" })),
    )
    .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn an_event_hook_is_verified_then_gets_its_event_types_in_okta_envelopes() {
    let sim = start("all-situations.toml").await;
    let (url, mut rx) = receiver(true, &[]).await;
    let (status, registered) = control(
        &sim,
        Method::POST,
        "/__sim/event-hooks",
        Some(hook(&url, &[PUSH])),
    )
    .await;
    assert_eq!(status, 201, "{registered}");
    assert_eq!(registered["verificationStatus"], "VERIFIED");
    let id = registered["id"].as_str().expect("hook id").to_owned();
    assert!(id.starts_with("who") && id.len() == 20, "{id}");
    assert!(
        !registered.to_string().contains("hook-secret-1")
            && !registered.to_string().contains("/hooks/okta"),
        "neither the secret nor the URL path is shown: {registered}"
    );
    let verification = next_received(&mut rx).await;
    assert_eq!(verification.method, "GET");
    assert!(verification
        .headers
        .contains_key("x-okta-verification-challenge"));
    assert_eq!(verification.headers["authorization"], "hook-secret-1");

    // An event of another type is not delivered; the push failure is.
    let api = Api::ssws(&sim, TOKEN);
    let put = api
        .call(
            Method::PUT,
            &format!("/api/v1/apps/{SLACK}/features/USER_PROVISIONING"),
            Some(json!({ "update": { "profile": { "status": "ENABLED" } } })),
        )
        .await;
    assert_eq!(put.status, 200);
    let (_, failed) = control(
        &sim,
        Method::POST,
        &format!("/__sim/app-users/{SLACK}/{USER}/fail"),
        None,
    )
    .await;
    let delivery = next_received(&mut rx).await;
    assert_eq!(delivery.method, "POST");
    assert_eq!(delivery.headers["authorization"], "hook-secret-1");
    assert_eq!(delivery.headers["content-type"], "application/json");
    let body = &delivery.body;
    assert_eq!(body["eventType"], "com.okta.event_hook");
    assert_eq!(body["eventTypeVersion"], "1.0");
    assert_eq!(body["cloudEventsVersion"], "0.1");
    assert_eq!(body["contentType"], "application/json");
    assert_eq!(
        body["source"],
        format!("{}/api/v1/eventHooks/{id}", sim.base_url())
    );
    assert!(body["eventId"]
        .as_str()
        .is_some_and(|e| uuid::Uuid::parse_str(e).is_ok()));
    assert!(body["eventTime"]
        .as_str()
        .is_some_and(|t| chrono::DateTime::parse_from_rfc3339(t).is_ok()));
    let events = body["data"]["events"].as_array().expect("data.events");
    assert_eq!(events.len(), 1, "only the subscribed type: {events:?}");
    assert_eq!(
        events[0], failed["event"],
        "the LogEvent as the System Log has it"
    );

    let (_, listed) = control(&sim, Method::GET, "/__sim/event-hooks", None).await;
    assert_eq!(listed[0]["stats"]["deliveries"], 1);
    assert_eq!(listed[0]["stats"]["eventsDelivered"], 1);

    let (status, _) = control(&sim, Method::DELETE, "/__sim/event-hooks", None).await;
    assert_eq!(status, 204);
    let (_, listed) = control(&sim, Method::GET, "/__sim/event-hooks", None).await;
    assert_eq!(listed, json!([]));
}

#[tokio::test]
async fn a_receiver_that_fails_verification_is_not_registered() {
    let sim = start("all-situations.toml").await;
    let (url, mut rx) = receiver(false, &[]).await;
    let (status, body) = control(
        &sim,
        Method::POST,
        "/__sim/event-hooks",
        Some(hook(&url, &[PUSH])),
    )
    .await;
    assert_eq!(status, 502, "{body}");
    assert_eq!(body["verificationStatus"], "UNVERIFIED");
    assert!(
        !body.to_string().contains("/hooks/okta"),
        "the URL is a secret: {body}"
    );
    assert_eq!(next_received(&mut rx).await.method, "GET");
    let (_, listed) = control(&sim, Method::GET, "/__sim/event-hooks", None).await;
    assert_eq!(listed, json!([]));
    // Nothing is delivered to it.
    control(
        &sim,
        Method::POST,
        &format!("/__sim/app-users/{SLACK}/{USER}/fail"),
        None,
    )
    .await;
    assert!(
        tokio::time::timeout(Duration::from_millis(300), rx.recv())
            .await
            .is_err(),
        "an unverified hook gets no delivery"
    );
}

#[tokio::test]
async fn scenario_hooks_are_verified_at_start_and_a_failing_one_stops_it() {
    let (url, mut rx) = receiver(true, &[]).await;
    let mut scenario =
        Scenario::from_toml_file(crate::repo_root().join("tests/scenarios/all-situations.toml"))
            .expect("scenario");
    let spec: EventHookSpec = serde_json::from_value(hook(&url, &[PUSH])).expect("hook spec");
    scenario.org.event_hooks.push(spec.clone());
    let sim = start_scenario(scenario.clone()).await;
    assert_eq!(next_received(&mut rx).await.method, "GET");
    control(
        &sim,
        Method::POST,
        &format!("/__sim/app-users/{SLACK}/{USER}/fail"),
        None,
    )
    .await;
    assert_eq!(next_received(&mut rx).await.method, "POST");

    let (bad_url, _bad_rx) = receiver(false, &[]).await;
    let mut bad = scenario;
    bad.org.event_hooks = vec![EventHookSpec {
        url: bad_url,
        ..spec
    }];
    let error = Sim::start(bad, "127.0.0.1:0")
        .await
        .err()
        .expect("a failing hook stops the start");
    let chain = format!(
        "{error}: {}",
        std::error::Error::source(&error).expect("cause")
    );
    assert!(
        chain.contains("remediator events") && chain.contains("verification"),
        "{chain}"
    );
    assert!(
        !chain.contains("/hooks/okta"),
        "the URL is a secret: {chain}"
    );
}

#[tokio::test]
async fn a_failed_delivery_is_retried_once_and_then_counted() {
    let sim = start("all-situations.toml").await;
    let (url, mut rx) = receiver(true, &[500, 503, 500, 200]).await;
    control(
        &sim,
        Method::POST,
        "/__sim/event-hooks",
        Some(hook(&url, &[PUSH])),
    )
    .await;
    assert_eq!(next_received(&mut rx).await.method, "GET");
    let fail = format!("/__sim/app-users/{SLACK}/{USER}/fail");
    control(&sim, Method::POST, &fail, None).await;
    // 500, then the one retry (503): given up.
    let first = next_received(&mut rx).await;
    let retry = next_received(&mut rx).await;
    assert_eq!(
        first.body["eventId"], retry.body["eventId"],
        "the retry is the same delivery"
    );
    control(&sim, Method::POST, &fail, None).await;
    // The next delivery: 500, then the retry succeeds.
    let third = next_received(&mut rx).await;
    let fourth = next_received(&mut rx).await;
    assert_ne!(third.body["eventId"], first.body["eventId"]);
    assert_eq!(third.body["eventId"], fourth.body["eventId"]);
    // Counted once the retry is answered: poll the listing until it says so (bounded).
    let stats = tokio::time::timeout(DELIVERY_WAIT, async {
        loop {
            let (_, listed) = control(&sim, Method::GET, "/__sim/event-hooks", None).await;
            let stats = listed[0]["stats"].clone();
            if stats["deliveries"] == 1 {
                return stats;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the delivery is counted");
    assert_eq!(stats["failures"], 1);
    assert!(
        stats["lastError"]
            .as_str()
            .is_some_and(|e| e.contains("503")),
        "{stats}"
    );
}

#[tokio::test]
async fn a_hook_without_a_valid_url_or_event_types_is_refused() {
    let sim = start("all-situations.toml").await;
    let (status, body) = control(
        &sim,
        Method::POST,
        "/__sim/event-hooks",
        Some(json!({ "url": "not a url", "event_types": [PUSH] })),
    )
    .await;
    assert_eq!(
        (status, body["errorCode"].clone()),
        (400, json!("E0000001"))
    );
    let (status, _) = control(
        &sim,
        Method::POST,
        "/__sim/event-hooks",
        Some(json!({ "url": "http://127.0.0.1:9/x", "event_types": [] })),
    )
    .await;
    assert_eq!(status, 400);
}
