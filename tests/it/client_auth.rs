//! Both auth modes over real HTTP (secret redaction: client_secrets.rs).

use crate::support::client as client_support;

use client_support::*;
use remediator::okta::*;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

const PRIVATE_KEY: &str = include_str!("../fixtures/client/TEST-ONLY-rsa-private.pem");
const PUBLIC_KEY: &str = include_str!("../fixtures/client/TEST-ONLY-rsa-public.pem");
const CLIENT_ID: &str = "0oaServiceApp123";

#[derive(serde::Deserialize)]
struct Claims {
    iss: String,
    sub: String,
    iat: u64,
    exp: u64,
    jti: String,
}

fn form(body: &[u8]) -> std::collections::HashMap<String, String> {
    url::form_urlencoded::parse(body).into_owned().collect()
}

/// Checks a token request like Okta's org authorization server would; `None` if valid.
fn verify_token_request(req: &Recorded) -> Option<String> {
    let f = form(&req.body);
    if f.get("grant_type").map(String::as_str) != Some("client_credentials") {
        return Some("grant_type".into());
    }
    if f.get("client_assertion_type").map(String::as_str)
        != Some("urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
    {
        return Some("client_assertion_type".into());
    }
    if f.get("scope").map(String::as_str) != Some("okta.apps.read okta.apps.manage") {
        return Some(format!("scope {:?}", f.get("scope")));
    }
    let assertion = f.get("client_assertion")?;
    let host = req.header("host")?;
    let aud = format!("http://{host}/oauth2/v1/token");
    let key =
        jsonwebtoken::DecodingKey::from_rsa_pem(PUBLIC_KEY.as_bytes()).expect("test public key");
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    v.set_audience(&[aud]);
    v.set_issuer(&[CLIENT_ID]);
    let data = match jsonwebtoken::decode::<Claims>(assertion, &key, &v) {
        Ok(d) => d,
        Err(e) => return Some(format!("assertion: {e}")),
    };
    let c = data.claims;
    if c.sub != CLIENT_ID || c.iss != CLIENT_ID || c.exp - c.iat != 300 || c.jti.len() < 32 {
        return Some("claims".into());
    }
    None
}

fn oauth_config(server: &TestServer) -> OktaConfig {
    server.config(AuthConfig::PrivateKey {
        client_id: CLIENT_ID.into(),
        scopes: vec!["okta.apps.read".into(), "okta.apps.manage".into()],
        private_key: PRIVATE_KEY.to_owned().into(),
        key_id: None,
    })
}

#[tokio::test]
async fn private_key_jwt_token_is_fetched_once_and_cached() {
    let issued = Arc::new(AtomicUsize::new(0));
    let counter = issued.clone();
    let server = TestServer::start(move |req, _| {
        if req.path() == "/oauth2/v1/token" {
            if let Some(problem) = verify_token_request(req) {
                return json(401, format!(r#"{{"error":"invalid_client","error_description":"{problem}"}}"#));
            }
            let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
            return json(200, format!(r#"{{"token_type":"Bearer","expires_in":3600,"access_token":"at-{n}","scope":"okta.apps.read"}}"#));
        }
        if req.header("authorization") != Some("Bearer at-1") {
            return okta_error(401, "E0000011", "Invalid token provided");
        }
        json(200, app_json("0oa1"))
    })
    .await;
    let client = OktaClient::new(oauth_config(&server)).expect("valid");
    client
        .get_app(&AppId::new("0oa1"))
        .await
        .expect("first call");
    client
        .get_app(&AppId::new("0oa1"))
        .await
        .expect("second call");
    assert_eq!(issued.load(Ordering::SeqCst), 1, "token cached");
    let token_reqs: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|r| r.path() == "/oauth2/v1/token")
        .collect();
    assert_eq!(token_reqs.len(), 1);
    assert_eq!(token_reqs[0].method, "POST");
    assert_eq!(
        token_reqs[0].header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
}

#[tokio::test]
async fn access_token_refreshed_once_on_401() {
    let issued = Arc::new(AtomicUsize::new(0));
    let counter = issued.clone();
    let server = TestServer::start(move |req, _| {
        if req.path() == "/oauth2/v1/token" {
            let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
            return json(
                200,
                format!(r#"{{"token_type":"Bearer","expires_in":3600,"access_token":"at-{n}"}}"#),
            );
        }
        // The first token was revoked server-side.
        if req.header("authorization") != Some("Bearer at-2") {
            return okta_error(401, "E0000011", "Invalid token provided");
        }
        json(200, app_json("0oa1"))
    })
    .await;
    let client = OktaClient::new(oauth_config(&server)).expect("valid");
    client
        .get_app(&AppId::new("0oa1"))
        .await
        .expect("refreshed");
    assert_eq!(issued.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn persistent_401_is_refreshed_only_once() {
    let issued = Arc::new(AtomicUsize::new(0));
    let counter = issued.clone();
    let server = TestServer::start(move |req, _| {
        if req.path() == "/oauth2/v1/token" {
            let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
            return json(
                200,
                format!(r#"{{"token_type":"Bearer","expires_in":3600,"access_token":"at-{n}"}}"#),
            );
        }
        okta_error(401, "E0000011", "Invalid token provided")
    })
    .await;
    let client = OktaClient::new(oauth_config(&server)).expect("valid");
    let err = client.get_app(&AppId::new("0oa1")).await.expect_err("401");
    assert_eq!(err.error_code(), Some("E0000011"));
    assert_eq!(issued.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn rejected_assertion_is_an_auth_error() {
    let server = TestServer::start(|req, _| {
        if req.path() == "/oauth2/v1/token" {
            return json(401, r#"{"error":"invalid_client","error_description":"The client_assertion signature is invalid."}"#);
        }
        json(200, app_json("0oa1"))
    })
    .await;
    let client = OktaClient::new(oauth_config(&server)).expect("valid");
    let err = client
        .get_app(&AppId::new("0oa1"))
        .await
        .expect_err("auth fails");
    let ApiError::Auth {
        endpoint, error, ..
    } = &err
    else {
        panic!("expected Auth, got {err:?}")
    };
    assert_eq!(endpoint.to_string(), "POST /oauth2/v1/token");
    assert_eq!(error.code.as_deref(), Some("invalid_client"));
    assert!(err.to_string().contains("invalid_client"), "{err}");
    assert!(err.is_unauthorized() && !err.is_forbidden());
}

/// An access token server that counts the tokens it issues, in front of `api`.
async fn token_server(
    api: impl Fn() -> Reply + Send + Sync + 'static,
) -> (TestServer, Arc<AtomicUsize>) {
    let issued = Arc::new(AtomicUsize::new(0));
    let counter = issued.clone();
    let server = TestServer::start(move |req, _| {
        if req.path() == "/oauth2/v1/token" {
            let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
            return json(
                200,
                format!(r#"{{"token_type":"Bearer","expires_in":3600,"access_token":"at-{n}"}}"#),
            );
        }
        api()
    })
    .await;
    (server, issued)
}

#[tokio::test]
async fn a_403_is_an_authorization_failure_not_an_authentication_one() {
    let (server, issued) = token_server(|| {
        okta_error(
            403,
            "E0000006",
            "You do not have permission to perform the requested action",
        )
    })
    .await;
    let client = OktaClient::new(oauth_config(&server)).expect("valid");
    let err = client.get_app(&AppId::new("0oa1")).await.expect_err("403");
    assert!(
        matches!(err, ApiError::Forbidden { status: 403, .. }),
        "{err:?}"
    );
    assert!(err.is_forbidden() && !err.is_unauthorized());
    assert_eq!(err.error_code(), Some("E0000006"));
    assert!(err.to_string().contains("not permitted"), "{err}");
    // A new token cannot grant a missing permission: no refresh, no retry.
    assert_eq!(issued.load(Ordering::SeqCst), 1);
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn e0000015_with_401_is_a_missing_permission_not_a_rejected_token() {
    // Real Okta answers a feature the org or the caller lacks with HTTP 401 E0000015.
    let (server, issued) = token_server(|| {
        okta_error(
            401,
            "E0000015",
            "You do not have permission to access the feature you are requesting",
        )
    })
    .await;
    let client = OktaClient::new(oauth_config(&server)).expect("valid");
    let err = client.get_app(&AppId::new("0oa1")).await.expect_err("401");
    assert!(
        matches!(err, ApiError::Forbidden { status: 401, .. }),
        "{err:?}"
    );
    assert!(err.is_forbidden() && !err.is_unauthorized());
    assert_eq!(issued.load(Ordering::SeqCst), 1, "not refreshed");
}

#[tokio::test]
async fn e0000011_with_401_is_an_authentication_failure() {
    let (server, issued) =
        token_server(|| okta_error(401, "E0000011", "Invalid token provided")).await;
    let client = OktaClient::new(oauth_config(&server)).expect("valid");
    let err = client.get_app(&AppId::new("0oa1")).await.expect_err("401");
    assert!(matches!(err, ApiError::Auth { status: 401, .. }), "{err:?}");
    assert!(err.is_unauthorized() && !err.is_forbidden());
    assert!(err.to_string().contains("credentials rejected"), "{err}");
    assert_eq!(issued.load(Ordering::SeqCst), 2, "refreshed once");
}

#[tokio::test]
async fn a_scope_the_service_app_lacks_is_an_authorization_failure() {
    let server = TestServer::start(|req, _| {
        if req.path() == "/oauth2/v1/token" {
            return json(
                400,
                r#"{"error":"invalid_scope","error_description":"The following scopes are not allowed: [okta.apps.manage]"}"#,
            );
        }
        json(200, app_json("0oa1"))
    })
    .await;
    let client = OktaClient::new(oauth_config(&server)).expect("valid");
    let err = client
        .get_app(&AppId::new("0oa1"))
        .await
        .expect_err("no token");
    let ApiError::Forbidden {
        endpoint, error, ..
    } = &err
    else {
        panic!("expected Forbidden, got {err:?}")
    };
    assert_eq!(endpoint.to_string(), "POST /oauth2/v1/token");
    assert_eq!(error.code.as_deref(), Some("invalid_scope"));
    assert!(err.to_string().contains("okta.apps.manage"), "{err}");
}

#[tokio::test]
async fn a_key_that_is_not_pem_is_an_unusable_credential_and_nothing_is_sent() {
    let server = TestServer::start(|_, _| json(200, app_json("0oa1"))).await;
    let mut config = oauth_config(&server);
    if let AuthConfig::PrivateKey { private_key, .. } = &mut config.auth {
        *private_key = "not a key".to_owned().into();
    }
    let client = OktaClient::new(config).expect("valid");
    let err = client
        .get_app(&AppId::new("0oa1"))
        .await
        .expect_err("no key");
    assert!(matches!(err, ApiError::Credential { .. }), "{err:?}");
    assert!(!err.is_unauthorized() && !err.is_forbidden());
    assert!(server.requests().is_empty());
}
