//! The Okta client against okta-sim over real HTTP: both auth modes, paging across many pages,
//! the governor waiting for `X-Rate-Limit-Reset` instead of drawing 429s, and each transient
//! fault (429, 5xx, dropped connection, truncated body, timeout) retried, malformed bodies not.

use std::time::Duration;

use okta_sim::{
    generate, FaultKind, GenerateSpec, RateLimitConfig, SimHandle, GENERATED_API_TOKEN,
};
use remediator::okta::{
    ApiError, ApiErrorKind, AppId, AuthConfig, ClientTuning, OktaClient, OrgApi, PageRequest,
    UserId,
};
use secrecy::SecretString;

use crate::support::sim::{all_app_ids, config, fault, healthy, serve, ssws};

/// Short windows so a 429's reset is a second or two away.
async fn short_windows(sim: &SimHandle, apps: u32) {
    let limits = RateLimitConfig {
        window: Duration::from_secs(1),
        apps,
        ..RateLimitConfig::default()
    };
    let response = reqwest::Client::new()
        .put(format!("{}/__sim/rate-limits", sim.base_url()))
        .json(&serde_json::json!({
            "window": "1s", "apps": limits.apps, "app_id": limits.app_id, "groups": limits.groups,
            "group_id": limits.group_id, "users": limits.users, "user_id_write": limits.user_id_write,
            "user_id_get": limits.user_id_get, "logs": limits.logs, "oauth2": limits.oauth2,
            "other": limits.other, "concurrency": limits.concurrency, "enabled": true
        }))
        .send()
        .await
        .expect("control call");
    assert_eq!(response.status(), 204);
}

#[tokio::test]
async fn pages_across_many_pages_by_following_links() {
    let scenario = generate(GenerateSpec {
        users: 200,
        apps: 950,
        assignments: 1_900,
        error_ratio: 0.01,
        seed: 7,
    });
    let sim = serve(scenario).await;
    let api = OktaClient::new(config(
        &sim,
        ssws(GENERATED_API_TOKEN),
        ClientTuning::default(),
    ))
    .expect("client");
    let ids = all_app_ids(&api).await.expect("all pages");
    assert_eq!(ids.len(), 950);
    let unique: std::collections::BTreeSet<_> = ids.iter().collect();
    assert_eq!(unique.len(), 950, "no app twice across pages");
    // 950 apps at the largest page size (200): 5 pages.
    assert_eq!(sim.stats().count("GET /api/v1/apps"), 5);
}

#[tokio::test]
async fn oauth_service_app_reads_through_the_sim() {
    let sim = healthy().await;
    let key = std::fs::read_to_string("tests/fixtures/TEST-ONLY-oauth-client-private-key.pem")
        .expect("test key");
    let auth = AuthConfig::PrivateKey {
        client_id: "0oaremediatorsvc0001".into(),
        scopes: vec!["okta.apps.read".into(), "okta.users.read".into()],
        private_key: SecretString::from(key),
        key_id: None,
    };
    let api = OktaClient::new(config(&sim, auth, ClientTuning::default())).expect("client");
    let ids = all_app_ids(&api).await.expect("apps with a bearer token");
    assert!(!ids.is_empty());
    let user = api
        .get_user(&UserId::new("00uhealthy0000000001"))
        .await
        .expect("user with a bearer token");
    assert_eq!(user.id.as_str(), "00uhealthy0000000001");
    // One token for both calls: cached, not fetched per request.
    assert_eq!(sim.stats().count("POST /oauth2/v1/token"), 1);
}

#[tokio::test]
async fn a_token_without_the_scope_is_refused_as_unauthorized_not_as_a_bad_token() {
    let sim = healthy().await;
    let key = std::fs::read_to_string("tests/fixtures/TEST-ONLY-oauth-client-private-key.pem")
        .expect("test key");
    let auth = AuthConfig::PrivateKey {
        client_id: "0oaremediatorsvc0001".into(),
        scopes: vec!["okta.apps.read".into()],
        private_key: SecretString::from(key),
        key_id: None,
    };
    let api = OktaClient::new(config(&sim, auth, ClientTuning::default())).expect("client");
    let error = api
        .get_user(&UserId::new("00uhealthy0000000001"))
        .await
        .expect_err("okta.users.read was not granted");
    assert!(
        error.is_forbidden() && !error.is_unauthorized(),
        "{error:?}"
    );
    assert_eq!(
        (error.status(), error.error_code()),
        (Some(403), Some("E0000006"))
    );
    // The token was good: it is not refreshed.
    assert_eq!(sim.stats().count("POST /oauth2/v1/token"), 1);
}

#[tokio::test]
async fn bad_token_is_e0000011_and_not_retried() {
    let sim = healthy().await;
    let api =
        OktaClient::new(config(&sim, ssws("wrong"), ClientTuning::default())).expect("client");
    let error = api.list_apps(PageRequest::First).await.expect_err("401");
    assert_eq!(error.error_code(), Some("E0000011"));
    assert!(
        error.is_unauthorized() && !error.is_forbidden(),
        "{error:?}"
    );
    assert!(
        !format!("{error} {error:?}").contains("wrong"),
        "the token leaked"
    );
    assert_eq!(sim.stats().count("GET /api/v1/apps"), 1);
}

#[tokio::test]
async fn governor_waits_for_the_reset_instead_of_drawing_429s() {
    let sim = healthy().await;
    short_windows(&sim, 4).await;
    let api = OktaClient::new(config(
        &sim,
        ssws("test-token-healthy"),
        ClientTuning::default(),
    ))
    .expect("client");
    let app = AppId::new(all_app_ids(&api).await.expect("apps")[0].clone());
    // Eight reads against a bucket of 4 a window, half kept free: the client must wait.
    for _ in 0..8 {
        api.list_app_users(&app, PageRequest::First)
            .await
            .expect("read");
    }
    assert!(api.governor_stats().headroom_waits() > 0);
    let stats = sim.stats();
    assert_eq!(stats.rate_limited, 0, "the governor kept clear of 429s");
    assert!(
        stats.peak_window_use["apps"] <= 2,
        "half of the bucket of 4 kept free in every window: {:?}",
        stats.peak_window_use
    );
}

#[tokio::test]
async fn transient_faults_are_retried_until_success() {
    let sim = healthy().await;
    short_windows(&sim, 1_000).await;
    let tuning = ClientTuning {
        request_timeout: Duration::from_millis(700),
        ..ClientTuning::default()
    };
    let api = OktaClient::new(config(&sim, ssws("test-token-healthy"), tuning)).expect("client");
    for (kind, count) in [
        (FaultKind::RateLimited, 2),
        (FaultKind::ServerError { status: 503 }, 2),
        (FaultKind::ServerError { status: 502 }, 1),
        (FaultKind::Drop, 1),
        (FaultKind::Truncated, 1),
        (FaultKind::Latency { millis: 2_000 }, 1),
    ] {
        fault(&sim, "/api/v1/apps", kind.clone(), count, 0).await;
        let ids = all_app_ids(&api)
            .await
            .unwrap_or_else(|e| panic!("{kind:?} was not retried: {e}"));
        assert!(!ids.is_empty());
    }
    // Every rule fired as often as it was told to (a request the client gave up on for its
    // timeout is dropped before the simulator counts it, so read the rules, not the counters).
    let rules: Vec<serde_json::Value> = reqwest::Client::new()
        .get(format!("{}/__sim/faults", sim.base_url()))
        .send()
        .await
        .expect("control call")
        .json()
        .await
        .expect("fault list");
    assert_eq!(rules.len(), 6);
    for rule in rules {
        assert_eq!(rule["applied"], rule["count"], "{rule}");
    }
}

#[tokio::test]
async fn malformed_body_is_an_error_not_an_empty_page() {
    let sim = healthy().await;
    let api = OktaClient::new(config(
        &sim,
        ssws("test-token-healthy"),
        ClientTuning::default(),
    ))
    .expect("client");
    fault(&sim, "/api/v1/apps", FaultKind::Malformed, 1, 0).await;
    let error = api
        .list_apps(PageRequest::First)
        .await
        .expect_err("malformed");
    assert!(
        matches!(error.root(), ApiError::MalformedBody { .. }),
        "{error:?}"
    );
    assert_eq!(sim.stats().count("GET /api/v1/apps"), 1, "never retried");
}

#[tokio::test]
async fn persistent_503_gives_up_with_okta_error_code_and_the_recorded_500_is_retried() {
    let sim = healthy().await;
    let tuning = ClientTuning {
        max_retries: 2,
        ..ClientTuning::default()
    };
    let api = OktaClient::new(config(&sim, ssws("test-token-healthy"), tuning)).expect("client");
    fault(
        &sim,
        "/api/v1/apps",
        FaultKind::ServerError { status: 503 },
        3,
        0,
    )
    .await;
    let error = api
        .list_apps(PageRequest::First)
        .await
        .expect_err("gives up");
    assert_eq!(error.error_code(), Some("E0000010"), "{error:?}");
    assert_eq!(error.kind(), ApiErrorKind::ServerError);
    assert_eq!(
        sim.stats().count("GET /api/v1/apps"),
        3,
        "first try and two retries"
    );

    // Okta's recorded transient failure: 500 E0000009 twice, then success on the third try.
    fault(&sim, "/api/v1/apps", FaultKind::InternalError, 2, 0).await;
    let page = api
        .list_apps(PageRequest::First)
        .await
        .expect("the third try succeeds");
    assert!(!page.items.is_empty());
    assert_eq!(
        sim.stats().count("GET /api/v1/apps"),
        6,
        "two 500s and a 200"
    );
}
