//! The hostile-network fault modes over real HTTP: pages that repeat items, `next` links that
//! loop or leave the org, a huge streamed body, a stalled body, and garbage or truncated JSON on
//! every endpoint the remediator reads. Each is set through `/__sim/faults` or the scenario.

use std::time::Duration;

use okta_sim::{generate, FaultKind, FaultRule, GenerateSpec, SimHandle, GENERATED_API_TOKEN};
use serde_json::{json, Value};

use crate::support::{start, start_scenario, Api};

/// A generated org with `users` users, every one assigned to the first app.
async fn generated(users: usize) -> SimHandle {
    start_scenario(generate(GenerateSpec {
        users,
        apps: 1,
        assignments: users,
        error_ratio: 0.0,
        seed: 3,
    }))
    .await
}

/// Adds a rule through the control route, as a test of another process would.
async fn add_fault(sim: &SimHandle, rule: Value) {
    let r = reqwest::Client::new()
        .post(format!("{}/__sim/faults", sim.base_url()))
        .json(&rule)
        .send()
        .await
        .expect("control route");
    assert_eq!(r.status(), 201, "fault rule {rule} accepted");
}

fn ids(page: &Value) -> Vec<String> {
    page.as_array()
        .expect("a list")
        .iter()
        .filter_map(|i| i["id"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn duplicate_items_repeat_the_end_of_a_page_on_the_next() {
    let sim = generated(7).await;
    let api = Api::ssws(&sim, GENERATED_API_TOKEN);
    add_fault(
        &sim,
        json!({ "kind": { "type": "duplicate-items", "overlap": 2 }, "path_prefix": "/api/v1/users", "count": 1 }),
    )
    .await;
    let first = api.get("/api/v1/users?limit=3").await;
    let first_ids = ids(&first.json());
    let second = api.get(&first.link("next").expect("next")).await;
    let second_ids = ids(&second.json());
    assert_eq!(
        second_ids[..2],
        first_ids[1..],
        "the last two items of page one open page two"
    );
    // The rule fired once: paging goes on from there without further repeats.
    let third = api.get(&second.link("next").expect("next")).await;
    let third_ids = ids(&third.json());
    assert!(third_ids.iter().all(|id| !second_ids.contains(id)));
}

#[tokio::test]
async fn duplicate_items_on_the_system_log_serve_the_same_page_again() {
    let sim = start("kpasswd-blocked.toml").await;
    let api = Api::ssws(&sim, "test-token-kpasswd");
    add_fault(
        &sim,
        json!({ "kind": { "type": "duplicate-items" }, "path_prefix": "/api/v1/logs", "count": 1 }),
    )
    .await;
    let until = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    let query: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("limit", "2")
        .append_pair("until", &until)
        .finish();
    let first = api.get(&format!("/api/v1/logs?{query}")).await;
    let again = api.get(&first.link("next").expect("next")).await;
    assert_eq!(again.json(), first.json(), "the same events again");
}

#[tokio::test]
async fn next_loop_points_back_at_the_first_page() {
    let sim = generated(5).await;
    let api = Api::ssws(&sim, GENERATED_API_TOKEN);
    let first = api.get("/api/v1/users?limit=2").await;
    let second_url = first.link("next").expect("next");
    add_fault(
        &sim,
        json!({ "kind": { "type": "next-loop" }, "path_prefix": "/api/v1/users", "count": 1 }),
    )
    .await;
    let second = api.get(&second_url).await;
    assert_eq!(second.status, 200);
    let looped = second.link("next").expect("a next link");
    assert_eq!(
        looped,
        format!("{}/api/v1/users?limit=2", sim.base_url()),
        "next is the first page"
    );
    assert_eq!(api.get(&looped).await.json(), first.json());
}

#[tokio::test]
async fn empty_page_loop_answers_no_items_and_the_same_request_as_next() {
    let sim = generated(5).await;
    let api = Api::ssws(&sim, GENERATED_API_TOKEN);
    add_fault(
        &sim,
        json!({ "kind": { "type": "empty-page-loop" }, "path_prefix": "/api/v1/apps/", "count": 2 }),
    )
    .await;
    let path = "/api/v1/apps/0oa00000000000000000/users?limit=2&expand=user";
    let page = api.get(path).await;
    assert_eq!(page.status, 200);
    assert_eq!(page.json(), json!([]));
    let next = page.link("next").expect("next");
    assert_eq!(next, format!("{}{path}", sim.base_url()));
    let again = api.get(&next).await;
    assert_eq!(again.json(), json!([]));
    assert_eq!(again.link("next"), Some(next));
    // The rule is spent: the real page comes.
    assert_eq!(ids(&api.get(path).await.json()).len(), 2);
}

#[tokio::test]
async fn foreign_next_names_another_origin() {
    let sim = generated(5).await;
    let api = Api::ssws(&sim, GENERATED_API_TOKEN);
    add_fault(
        &sim,
        json!({ "kind": { "type": "foreign-next" }, "path_prefix": "/api/v1/users", "count": 1 }),
    )
    .await;
    let page = api.get("/api/v1/users?limit=2").await;
    let next = url::Url::parse(&page.link("next").expect("next")).expect("URL");
    let own = url::Url::parse(sim.base_url()).expect("URL");
    assert_ne!(
        (next.host_str(), next.port_or_known_default()),
        (own.host_str(), own.port_or_known_default())
    );
    assert_eq!(next.path(), "/api/v1/users");
    assert_eq!(
        next.query_pairs()
            .next()
            .map(|(k, _)| k.into_owned())
            .as_deref(),
        Some("after")
    );

    // A chosen origin, and a last page (no real next) gets one too.
    add_fault(
        &sim,
        json!({ "kind": { "type": "foreign-next", "origin": "http://127.0.0.2:1" }, "path_prefix": "/api/v1/apps", "count": 1 }),
    )
    .await;
    let apps = api.get("/api/v1/apps").await;
    let next = apps.link("next").expect("a foreign next on a last page");
    assert!(next.starts_with("http://127.0.0.2:1/api/v1/apps"), "{next}");
}

/// Size of the padded listing in the huge-body test.
const HUGE_MIB: u64 = 200;

#[tokio::test]
async fn huge_body_streams_hundreds_of_mebibytes_of_valid_json() {
    let sim = start("healthy.toml").await;
    let api = Api::ssws(&sim, "test-token-healthy");
    let real = api.json("/api/v1/apps").await;
    add_fault(
        &sim,
        json!({ "kind": { "type": "huge-body", "mebibytes": HUGE_MIB }, "path_prefix": "/api/v1/apps", "count": 1 }),
    )
    .await;
    let mut response = reqwest::Client::new()
        .get(format!("{}/api/v1/apps", sim.base_url()))
        .header("Authorization", "SSWS test-token-healthy")
        .send()
        .await
        .expect("head");
    assert_eq!(response.status(), 200);
    assert!(response.content_length().is_none(), "streamed, no length");
    let mut total: u64 = 0;
    let mut head = Vec::new();
    let mut last = 0u8;
    while let Some(chunk) = response.chunk().await.expect("chunk") {
        if head.len() < 4096 {
            head.extend_from_slice(&chunk[..chunk.len().min(4096)]);
        }
        total += chunk.len() as u64;
        if let Some(&b) = chunk.last() {
            last = b;
        }
    }
    assert!(total >= HUGE_MIB * 1024 * 1024, "{total} bytes");
    assert_eq!(last, b']', "the JSON is closed at the very end");
    let real_text = serde_json::to_string(&real).expect("json");
    let prefix = &real_text[..real_text.len() - 1];
    let head = String::from_utf8_lossy(&head);
    let start = head.trim_end();
    assert!(
        prefix.starts_with(&start[..start.len().min(prefix.len())]),
        "the body begins with the real listing"
    );
}

#[tokio::test]
async fn stall_sends_part_of_the_body_then_waits() {
    let sim = start("healthy.toml").await;
    let api = Api::ssws(&sim, "test-token-healthy");
    let real = api.get("/api/v1/apps").await;
    add_fault(
        &sim,
        json!({ "kind": { "type": "stall", "millis": 1500, "after_bytes": 10 }, "path_prefix": "/api/v1/apps", "count": 1 }),
    )
    .await;
    let mut response = reqwest::Client::new()
        .get(format!("{}/api/v1/apps", sim.base_url()))
        .header("Authorization", "SSWS test-token-healthy")
        .send()
        .await
        .expect("headers arrive at once");
    assert_eq!(response.status(), 200);
    assert_eq!(response.content_length(), Some(real.bytes.len() as u64));
    let first = response.chunk().await.expect("chunk").expect("first part");
    assert_eq!(&first[..], &real.bytes[..10]);
    let waited = tokio::time::timeout(Duration::from_millis(100), response.chunk()).await;
    assert!(waited.is_err(), "the body stalls after its first part");
    let mut rest = Vec::new();
    while let Some(chunk) = response.chunk().await.expect("rest") {
        rest.extend_from_slice(&chunk);
    }
    assert_eq!(rest, real.bytes[10..], "then the rest comes");
}

/// Every endpoint the remediator reads, on `all-situations.toml`.
const READ_ENDPOINTS: &[&str] = &[
    "/api/v1/apps?limit=200",
    "/api/v1/apps/0oahealthyslack00001/users?limit=500",
    "/api/v1/apps/0oahealthyslack00001/features",
    "/api/v1/apps/0oahealthyslack00001/connections/default",
    "/api/v1/apps/0oaorphorg2org000001/group-push/mappings",
    "/api/v1/users/00uhealthy0000000001",
    "/api/v1/logs?limit=10",
    "/api/v1/agentPools?poolType=AD",
];

#[tokio::test]
async fn garbage_and_truncated_json_reach_every_endpoint_the_client_reads() {
    let sim = start("all-situations.toml").await;
    let api = Api::ssws(&sim, "test-token-all");
    for path in READ_ENDPOINTS {
        let prefix = path.split('?').next().expect("path");
        let real = api.get(path).await;
        assert_eq!(real.status, 200, "{path}");
        assert!(serde_json::from_slice::<Value>(&real.bytes).is_ok());

        add_fault(
            &sim,
            json!({ "kind": { "type": "garbage-json" }, "path_prefix": prefix, "method": "GET", "count": 1 }),
        )
        .await;
        let garbage = api.get(path).await;
        assert_eq!(garbage.status, 200, "{path}");
        assert_eq!(
            garbage.header("content-type").as_deref(),
            Some("application/json")
        );
        assert!(
            serde_json::from_slice::<Value>(&garbage.bytes).is_err(),
            "{path}: garbage parses"
        );

        add_fault(
            &sim,
            json!({ "kind": { "type": "truncated-json" }, "path_prefix": prefix, "method": "GET", "count": 1 }),
        )
        .await;
        let cut = api.get(path).await;
        assert_eq!(cut.status, 200, "{path}");
        assert_eq!(
            cut.header("content-length"),
            Some(cut.bytes.len().to_string()),
            "{path}: a complete answer"
        );
        assert!(
            !cut.bytes.is_empty() && cut.bytes.len() < real.bytes.len(),
            "{path}"
        );
        assert!(
            real.bytes.starts_with(&cut.bytes),
            "{path}: the cut answer is a prefix of the real one"
        );
        assert!(
            serde_json::from_slice::<Value>(&cut.bytes).is_err(),
            "{path}: truncated JSON parses"
        );
        assert_eq!(api.get(path).await.status, 200, "{path}: healthy again");
    }
}

#[tokio::test]
async fn hostile_faults_come_from_the_scenario_too() {
    let mut scenario = generate(GenerateSpec {
        users: 4,
        apps: 1,
        assignments: 0,
        error_ratio: 0.0,
        seed: 1,
    });
    scenario.faults.push(FaultRule {
        path_prefix: Some("/api/v1/users".into()),
        method: None,
        kind: FaultKind::NextLoop,
        count: None,
        after: 0,
    });
    let sim = start_scenario(scenario).await;
    let api = Api::ssws(&sim, GENERATED_API_TOKEN);
    let page = api.get("/api/v1/users?limit=10").await;
    assert_eq!(ids(&page.json()).len(), 4);
    assert_eq!(
        page.link("next"),
        Some(format!("{}/api/v1/users?limit=10", sim.base_url())),
        "a last page that loops to itself"
    );
    let listed: Value = reqwest::Client::new()
        .get(format!("{}/__sim/faults", sim.base_url()))
        .send()
        .await
        .expect("control route")
        .json()
        .await
        .expect("json");
    assert_eq!(listed[0]["kind"]["type"], "next-loop");
    assert_eq!(listed[0]["applied"], 1);
}

/// `ignored` acknowledges a write with 204 and no body and leaves the org as it was: here an
/// activation after which the connection still reads DISABLED; the next one (count 1) works.
#[tokio::test]
async fn ignored_acknowledges_an_activation_that_takes_no_effect() {
    let sim = start("orphaned-push-mappings.toml").await;
    let app = "0oaorphorg2org000001";
    let activate = format!("/api/v1/apps/{app}/connections/default/lifecycle/activate");
    add_fault(
        &sim,
        json!({ "path_prefix": activate, "method": "POST", "count": 1,
                "kind": { "type": "ignored" } }),
    )
    .await;
    let api = Api::ssws(&sim, "test-token-orphaned");
    let connection = format!("/api/v1/apps/{app}/connections/default");
    let posted = api
        .call(
            reqwest::Method::POST,
            &connection,
            Some(json!({ "baseUrl": "https://partner-org.example.com",
                         "profile": { "authScheme": "TOKEN", "token": "org2org-fresh-token" } })),
        )
        .await;
    assert_eq!(posted.status, 200);
    assert_eq!(posted.json()["status"], "DISABLED");
    let ignored = api.call(reqwest::Method::POST, &activate, None).await;
    assert_eq!(ignored.status, 204);
    assert!(ignored.bytes.is_empty());
    assert_eq!(api.json(&connection).await["status"], "DISABLED");
    let events = api
        .json("/api/v1/logs?filter=eventType+eq+%22application.provision.connection.activate%22")
        .await;
    assert_eq!(events, json!([]), "nothing was activated");
    let applied = api.call(reqwest::Method::POST, &activate, None).await;
    assert_eq!(applied.status, 204);
    assert_eq!(api.json(&connection).await["status"], "ENABLED");
}
