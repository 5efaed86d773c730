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

use super::scenario::ServiceAppSpec;
use super::state::{IssuedToken, Shared, SimState};

const CLIENT_ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// Length of an issued access token.
const ACCESS_TOKEN_LEN: usize = 48;

pub(crate) fn routes() -> Router<Shared> {
    Router::new().route("/oauth2/v1/token", post(token))
}

/// An OAuth error answer (`error`, `error_description`), as Okta's authorization server sends.
#[derive(Debug)]
struct OAuthError {
    status: StatusCode,
    error: &'static str,
    description: String,
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let body = json!({ "error": self.error, "error_description": self.description });
        (self.status, Json(body)).into_response()
    }
}

fn oauth_error(status: StatusCode, error: &'static str, description: &str) -> OAuthError {
    OAuthError {
        status,
        error,
        description: description.to_owned(),
    }
}

#[derive(Deserialize)]
struct Claims {
    sub: String,
}

/// Form fields of a token request.
type Form = std::collections::HashMap<String, String>;

async fn token(State(state): State<Shared>, body: Bytes) -> Response {
    let form: Form = url::form_urlencoded::parse(&body).into_owned().collect();
    let client = match authenticate_client(&state, &form) {
        Ok(client) => client,
        Err(error) => return error.into_response(),
    };
    let requested: Vec<String> = form
        .get("scope")
        .map(String::as_str)
        .unwrap_or("")
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    if let Err(error) = check_scopes(client, &requested) {
        return error.into_response();
    }
    issue(&state, client.client_id.clone(), requested)
}

fn invalid_client(description: &str) -> OAuthError {
    oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", description)
}

/// Checks the grant and verifies the client assertion; returns the service app it names.
fn authenticate_client<'a>(
    state: &'a SimState,
    form: &Form,
) -> Result<&'a ServiceAppSpec, OAuthError> {
    let get = |k: &str| form.get(k).map(String::as_str);
    if get("grant_type") != Some("client_credentials") {
        return Err(oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "The authorization grant type is not supported by the authorization server.",
        ));
    }
    if get("client_assertion_type") != Some(CLIENT_ASSERTION_TYPE) {
        return Err(invalid_client("client_assertion_type must be jwt-bearer."));
    }
    let assertion =
        get("client_assertion").ok_or_else(|| invalid_client("client_assertion is required."))?;
    let header = jsonwebtoken::decode_header(assertion)
        .map_err(|_| invalid_client("The client_assertion is not a valid JWT."))?;
    if header.alg != jsonwebtoken::Algorithm::RS256 {
        return Err(invalid_client(
            "The client_assertion must be signed with RS256.",
        ));
    }
    // The issuer names the client; read it unverified to find the key, then verify everything.
    let client_id = unverified_issuer(assertion)
        .ok_or_else(|| invalid_client("The client_assertion has no iss."))?;
    let app = state
        .scenario_org
        .service_apps
        .iter()
        .find(|a| a.client_id == client_id)
        .ok_or_else(|| invalid_client("The client is not known."))?;
    let key = app
        .public_key_pem
        .as_deref()
        .and_then(|p| jsonwebtoken::DecodingKey::from_rsa_pem(p.as_bytes()).ok())
        .ok_or_else(|| invalid_client("The client has no usable public key."))?;
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.set_audience(&[format!("{}/oauth2/v1/token", state.base_url)]);
    validation.set_issuer(&[client_id.as_str()]);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    let claims = jsonwebtoken::decode::<Claims>(assertion, &key, &validation)
        .map_err(|_| invalid_client("The client_assertion signature or claims are invalid."))?
        .claims;
    if claims.sub != client_id {
        return Err(invalid_client("The client_assertion sub must equal iss."));
    }
    Ok(app)
}

/// Every requested scope must be granted to the service app.
fn check_scopes(app: &ServiceAppSpec, requested: &[String]) -> Result<(), OAuthError> {
    if requested.is_empty() {
        return Err(oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            "The authorization server requires a scope.",
        ));
    }
    let granted: HashSet<&str> = app.scopes.iter().map(String::as_str).collect();
    match requested.iter().find(|s| !granted.contains(s.as_str())) {
        None => Ok(()),
        Some(missing) => Err(oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            &format!("The following scopes are not granted to the client: {missing}"),
        )),
    }
}

/// Issues and records an access token.
fn issue(state: &SimState, client_id: String, scopes: Vec<String>) -> Response {
    let access_token: String = rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(ACCESS_TOKEN_LEN)
        .map(char::from)
        .collect();
    let scope = scopes.join(" ");
    let ttl = state.scenario_org.access_token_ttl_secs();
    let issued = IssuedToken {
        client_id,
        scopes,
        expires: Utc::now() + Duration::seconds(ttl),
    };
    state
        .access_tokens
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .insert(access_token.clone(), issued);
    Json(json!({
        "token_type": "Bearer",
        "expires_in": ttl,
        "access_token": access_token,
        "scope": scope,
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
