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
    let ApiError::Auth(msg) = &err else {
        panic!("expected Auth, got {err:?}")
    };
    assert!(msg.contains("invalid_client"), "{msg}");
}
