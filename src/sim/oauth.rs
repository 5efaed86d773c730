//! `POST /oauth2/v1/token`: client credentials with a `private_key_jwt` client assertion.

use std::collections::HashSet;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use chrono::{Duration, Utc};
use rand::distributions::Alphanumeric;
use rand::Rng as _;
use serde::Deserialize;
use serde_json::json;

use super::server::{IssuedToken, Shared, ACCESS_TOKEN_TTL_SECS};

const CLIENT_ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// Length of an issued access token.
const ACCESS_TOKEN_LEN: usize = 48;

pub(crate) fn routes() -> Router<Shared> {
    Router::new().route("/oauth2/v1/token", post(token))
}

/// An OAuth error answer (`error`, `error_description`), as Okta's authorization server sends.
fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        Json(json!({ "error": error, "error_description": description })),
    )
        .into_response()
}

#[derive(Deserialize)]
struct Claims {
    sub: String,
}

async fn token(State(state): State<Shared>, body: Bytes) -> Response {
    let form: std::collections::HashMap<String, String> =
        url::form_urlencoded::parse(&body).into_owned().collect();
    let get = |k: &str| form.get(k).map(String::as_str);
    if get("grant_type") != Some("client_credentials") {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "The authorization grant type is not supported by the authorization server.",
        );
    }
    if get("client_assertion_type") != Some(CLIENT_ASSERTION_TYPE) {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "client_assertion_type must be jwt-bearer.",
        );
    }
    let Some(assertion) = get("client_assertion") else {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "client_assertion is required.",
        );
    };
    let Ok(header) = jsonwebtoken::decode_header(assertion) else {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "The client_assertion is not a valid JWT.",
        );
    };
    if header.alg != jsonwebtoken::Algorithm::RS256 {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "The client_assertion must be signed with RS256.",
        );
    }
    // The issuer names the client; read it unverified to find the key, then verify everything.
    let Some(client_id) = unverified_issuer(assertion) else {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "The client_assertion has no iss.",
        );
    };
    let Some(app) = state
        .scenario_org
        .service_apps
        .iter()
        .find(|a| a.client_id == client_id)
    else {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "The client is not known.",
        );
    };
    let Some(key) = app
        .public_key_pem
        .as_deref()
        .and_then(|p| jsonwebtoken::DecodingKey::from_rsa_pem(p.as_bytes()).ok())
    else {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "The client has no usable public key.",
        );
    };
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.set_audience(&[format!("{}/oauth2/v1/token", state.base_url)]);
    validation.set_issuer(&[client_id.as_str()]);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    let claims = match jsonwebtoken::decode::<Claims>(assertion, &key, &validation) {
        Ok(data) => data.claims,
        Err(_) => {
            return oauth_error(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                "The client_assertion signature or claims are invalid.",
            )
        }
    };
    if claims.sub != client_id {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "The client_assertion sub must equal iss.",
        );
    }
    let requested: Vec<String> = get("scope")
        .unwrap_or("")
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    if requested.is_empty() {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            "The authorization server requires a scope.",
        );
    }
    let granted: HashSet<&str> = app.scopes.iter().map(String::as_str).collect();
    if let Some(missing) = requested.iter().find(|s| !granted.contains(s.as_str())) {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            &format!("The following scopes are not granted to the client: {missing}"),
        );
    }
    let access_token: String = rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(ACCESS_TOKEN_LEN)
        .map(char::from)
        .collect();
    state
        .access_tokens
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .insert(
            access_token.clone(),
            IssuedToken {
                client_id: client_id.clone(),
                scopes: requested.clone(),
                expires: Utc::now() + Duration::seconds(ACCESS_TOKEN_TTL_SECS),
            },
        );
    Json(json!({
        "token_type": "Bearer",
        "expires_in": ACCESS_TOKEN_TTL_SECS,
        "access_token": access_token,
        "scope": requested.join(" "),
    }))
    .into_response()
}

/// The `iss` claim read without verification (only to select the key).
fn unverified_issuer(jwt: &str) -> Option<String> {
    use base64::Engine as _;
    let payload = jwt.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()?;
    let v: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    v.get("iss")?.as_str().map(str::to_owned)
}
