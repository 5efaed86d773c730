//! Authentication of API requests (`SSWS` tokens and OAuth bearer tokens) and the scopes each
//! endpoint needs.

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::Utc;

use super::errors::ApiError;
use super::model::Actor;
use super::state::{Shared, SimState};
use super::stats::RequestId;

/// The OAuth scope an endpoint needs.
fn required_scope(method: &Method, path: &str) -> &'static str {
    let read = method == Method::GET;
    let pick = |r: &'static str, m: &'static str| if read { r } else { m };
    if path.starts_with("/api/v1/apps") || path.starts_with("/api/v1/internal") {
        pick("okta.apps.read", "okta.apps.manage")
    } else if path.starts_with("/api/v1/users") {
        pick("okta.users.read", "okta.users.manage")
    } else if path.starts_with("/api/v1/groups") {
        pick("okta.groups.read", "okta.groups.manage")
    } else if path.starts_with("/api/v1/logs") {
        "okta.logs.read"
    } else if path.starts_with("/api/v1/agentPools") {
        pick("okta.agentPools.read", "okta.agentPools.manage")
    } else {
        "okta.apps.manage"
    }
}

/// Every scope an endpoint needs: group push also needs the groups scope, as the spec says.
fn required_scopes(method: &Method, path: &str) -> Vec<&'static str> {
    let mut scopes = vec![required_scope(method, path)];
    if path.contains("/group-push/") {
        scopes.push(if method == Method::GET {
            "okta.groups.read"
        } else {
            "okta.groups.manage"
        });
    }
    scopes
}

/// Whether `granted` covers `needed` (a `.manage` scope covers its `.read`).
fn scope_covers(granted: &[String], needed: &str) -> bool {
    let manage = needed.strip_suffix(".read").map(|p| format!("{p}.manage"));
    granted
        .iter()
        .any(|g| g == needed || Some(g) == manage.as_ref())
}

/// A short, non-reversible id for an API token (for `requestApiTokenId`).
fn token_id(token: &str) -> String {
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(token.as_bytes());
    format!("00T{}", &hex::encode(digest)[..17])
}

fn actor_for(
    state: &SimState,
    headers: &HeaderMap,
    method: &Method,
    path: &str,
) -> Result<Actor, ApiError> {
    let value = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or(ApiError::InvalidToken)?;
    if let Some(token) = value.strip_prefix("SSWS ") {
        if !state
            .scenario_org
            .api_tokens
            .iter()
            .any(|t| t == token.trim())
        {
            return Err(ApiError::InvalidToken);
        }
        let id = token_id(token.trim());
        return Ok(Actor {
            id: "00usimadmin000000000".into(),
            kind: "User".into(),
            alternate_id: "admin@okta-sim.example".into(),
            display_name: "okta-sim API token".into(),
            api_token_id: Some(id),
            request_id: None,
        });
    }
    let Some(token) = value.strip_prefix("Bearer ") else {
        return Err(ApiError::InvalidToken);
    };
    let issued = state
        .access_tokens
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .get(token.trim())
        .cloned()
        .ok_or(ApiError::InvalidToken)?;
    if issued.expires <= Utc::now() {
        return Err(ApiError::InvalidToken);
    }
    if let Some(missing) = required_scopes(method, path)
        .into_iter()
        .find(|needed| !scope_covers(&issued.scopes, needed))
    {
        return Err(ApiError::MissingScope(missing));
    }
    Ok(Actor {
        id: issued.client_id.clone(),
        kind: "PublicClientApp".into(),
        alternate_id: issued.client_id.clone(),
        display_name: issued.client_id,
        api_token_id: None,
        request_id: None,
    })
}

pub(crate) async fn authenticate(
    State(state): State<Shared>,
    mut request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path().to_owned();
    let method = request.method().clone();
    match actor_for(&state, request.headers(), &method, &path) {
        Ok(mut actor) => {
            actor.request_id = request.extensions().get::<RequestId>().map(|r| r.0.clone());
            request.extensions_mut().insert(actor);
            next.run(request).await
        }
        Err(e) => e.into_response(),
    }
}
