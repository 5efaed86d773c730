//! Provisioning endpoints: the USER_PROVISIONING feature (capabilities) and the app's
//! provisioning connection (token, activate, deactivate).

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use chrono::Utc;
use serde_json::{json, Value};

use super::api::{app_pos, href_allowing};
use super::errors::{
    parse_body, provisioning_not_enabled, validation, ApiError, ApiResult, Resource,
};
use super::model::{Actor, App, Org};
use super::paging::Params;
use super::scenario::TokenState;
use super::state::{Shared, SimState};

/// Catalog apps whose Features API Okta documents.
const FEATURE_APPS: &[&str] = &[
    "google",
    "office365",
    "okta_org2org",
    "slack",
    "zoomus",
    "zscalerbyz",
];

pub(crate) fn routes() -> Router<Shared> {
    Router::new()
        .route("/api/v1/apps/{app_id}/features", get(list_features))
        .route(
            "/api/v1/apps/{app_id}/features/{name}",
            get(get_feature).put(put_feature),
        )
        .route(
            "/api/v1/apps/{app_id}/connections/default",
            get(get_connection).post(post_connection),
        )
        .route(
            "/api/v1/apps/{app_id}/connections/default/lifecycle/activate",
            post(activate_connection),
        )
        .route(
            "/api/v1/apps/{app_id}/connections/default/lifecycle/deactivate",
            post(deactivate_connection),
        )
}

fn status_of(on: bool) -> &'static str {
    if on {
        "ENABLED"
    } else {
        "DISABLED"
    }
}

fn render_feature(state: &SimState, app: &App) -> Value {
    let c = app.caps;
    json!({
        "name": "USER_PROVISIONING",
        "description": "User provisioning settings from Okta to a downstream application",
        "status": status_of(app.provisioning_enabled()),
        "capabilities": {
            "create": { "lifecycleCreate": { "status": status_of(c.lifecycle_create) } },
            "update": {
                "lifecycleDeactivate": { "status": status_of(c.lifecycle_deactivate) },
                "profile": { "status": status_of(c.update_profile) },
                "password": { "status": status_of(c.update_password), "seed": "RANDOM", "change": "KEEP_EXISTING" },
            },
        },
        "_links": {
            "self": { "href": format!("{}/api/v1/apps/{}/features/USER_PROVISIONING", state.base_url, app.id), "hints": { "allow": ["GET", "PUT"] } },
        },
    })
}

/// The connection as Okta renders it: `baseUrl` when one is known (Org2Org), and among the
/// `_links` only the lifecycle transition that applies (`activate` while DISABLED, `deactivate`
/// while ENABLED).
fn render_connection(state: &SimState, app: &App) -> Value {
    let (enabled, scheme, base_url) = match &app.connection {
        Some(c) => (c.enabled, c.auth_scheme.clone(), c.base_url.clone()),
        None => (false, "TOKEN".to_owned(), None),
    };
    let path = format!("/api/v1/apps/{}/connections/default", app.id);
    let transition = if enabled { "deactivate" } else { "activate" };
    let mut body = json!({
        "authScheme": scheme,
        "status": status_of(enabled),
        "profile": { "authScheme": scheme },
        "_links": {
            "self": href_allowing(state, &path, &["POST", "GET"]),
            transition: href_allowing(state, &format!("{path}/lifecycle/{transition}"), &["POST"]),
        },
    });
    if let Some(url) = base_url {
        body["baseUrl"] = json!(url);
    }
    body
}

// ----- features -------------------------------------------------------------------------------

fn feature_app(org: &Org, app_id: &str) -> Result<usize, ApiError> {
    let i = app_pos(org, app_id)?;
    let app = &org.apps[i];
    if !FEATURE_APPS.contains(&app.name.as_str()) {
        return Err(validation(
            "Api validation failed: feature",
            &format!(
                "Provisioning features are not supported for the app {}.",
                app.name
            ),
        ));
    }
    if !app.provisioning_enabled() {
        return Err(provisioning_not_enabled("feature"));
    }
    Ok(i)
}

async fn list_features(State(state): State<Shared>, Path(app_id): Path<String>) -> ApiResult {
    let org = state.org();
    let i = feature_app(&org, &app_id)?;
    Ok(Json(json!([render_feature(&state, &org.apps[i])])).into_response())
}

fn check_feature_name(name: &str) -> Result<(), ApiError> {
    if name == "USER_PROVISIONING" {
        return Ok(());
    }
    Err(ApiError::not_found(name, Resource::Feature))
}

async fn get_feature(
    State(state): State<Shared>,
    Path((app_id, name)): Path<(String, String)>,
) -> ApiResult {
    let org = state.org();
    let i = feature_app(&org, &app_id)?;
    check_feature_name(&name)?;
    Ok(Json(render_feature(&state, &org.apps[i])).into_response())
}

/// Reads `capabilities.<path>.status` from a partial update body.
fn status_at(body: &Value, path: &[&str]) -> Result<Option<bool>, ApiError> {
    let mut v = body;
    for p in path {
        let Some(next) = v.get(p) else {
            return Ok(None);
        };
        v = next;
    }
    match v.get("status").and_then(Value::as_str) {
        None => Ok(None),
        Some("ENABLED") => Ok(Some(true)),
        Some("DISABLED") => Ok(Some(false)),
        Some(other) => Err(validation(
            "Api validation failed: status",
            &format!("status: {other:?} is not ENABLED or DISABLED"),
        )),
    }
}

async fn put_feature(
    State(state): State<Shared>,
    Extension(actor): Extension<Actor>,
    Path((app_id, name)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult {
    let body: Value = parse_body(&body)?;
    let mut org = state.org();
    let i = feature_app(&org, &app_id)?;
    check_feature_name(&name)?;
    let create = status_at(&body, &["create", "lifecycleCreate"])?;
    let profile = status_at(&body, &["update", "profile"])?;
    let deactivate = status_at(&body, &["update", "lifecycleDeactivate"])?;
    let password = status_at(&body, &["update", "password"])?;
    let caps = &mut org.apps[i].caps;
    if let Some(v) = create {
        caps.lifecycle_create = v;
    }
    if let Some(v) = profile {
        caps.update_profile = v;
    }
    if let Some(v) = deactivate {
        caps.lifecycle_deactivate = v;
    }
    if let Some(v) = password {
        caps.update_password = v;
    }
    org.apps[i].last_updated = Utc::now();
    org.app_event(
        i,
        "application.lifecycle.update",
        "Update application",
        &actor,
        None,
    );
    Ok(Json(render_feature(&state, &org.apps[i])).into_response())
}

// ----- connections ----------------------------------------------------------------------------

async fn get_connection(State(state): State<Shared>, Path(app_id): Path<String>) -> ApiResult {
    let org = state.org();
    let i = app_pos(&org, &app_id)?;
    Ok(Json(render_connection(&state, &org.apps[i])).into_response())
}

/// Whether the posted token is one the target app accepts.
fn token_accepted(app: &App, token: &str) -> bool {
    app.connection
        .as_ref()
        .is_some_and(|c| c.valid_tokens.iter().any(|t| t == token))
}

async fn post_connection(
    State(state): State<Shared>,
    Extension(actor): Extension<Actor>,
    Path(app_id): Path<String>,
    RawQuery(q): RawQuery,
    body: Bytes,
) -> ApiResult {
    let params = Params::parse(q.as_deref());
    // Without `activate` Okta stores the connection and leaves it as it was (a new connection
    // stays DISABLED until `lifecycle/activate`), as recorded; `activate=true` activates at
    // once, as the spec describes.
    let activate = params.get("activate") == Some("true");
    let body: Value = parse_body(&body)?;
    let scheme = body
        .pointer("/profile/authScheme")
        .and_then(Value::as_str)
        .ok_or_else(|| {
            validation(
                "Api validation failed: profile",
                "profile.authScheme: required",
            )
        })?
        .to_owned();
    let token = body
        .pointer("/profile/token")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let base_url = match body.get("baseUrl") {
        None | Some(Value::Null) => None,
        Some(Value::String(url)) => Some(url.clone()),
        Some(_) => {
            return Err(validation(
                "Api validation failed: baseUrl",
                "baseUrl: must be a string",
            ))
        }
    };
    let mut org = state.org();
    let i = app_pos(&org, &app_id)?;
    let accepted = token
        .as_deref()
        .is_some_and(|t| token_accepted(&org.apps[i], t));
    if activate && token.is_some() && !accepted {
        return Err(validation(
            "Api validation failed: token",
            "The provided credentials are invalid; verify the token and try again.",
        ));
    }
    let conn = org.apps[i]
        .connection
        .get_or_insert_with(|| super::model::Connection {
            enabled: false,
            auth_scheme: scheme.clone(),
            token: TokenState::Stale,
            valid_tokens: Vec::new(),
            base_url: None,
        });
    conn.auth_scheme = scheme;
    if base_url.is_some() {
        conn.base_url = base_url;
    }
    if token.is_some() {
        conn.token = if accepted {
            TokenState::Valid
        } else {
            TokenState::Stale
        };
    }
    if activate {
        conn.enabled = true;
    }
    org.app_event(
        i,
        "application.provision.connection.update",
        "Update provisioning connection",
        &actor,
        None,
    );
    if activate {
        org.app_event(
            i,
            "application.provision.connection.activate",
            "Activate provisioning connection",
            &actor,
            None,
        );
    }
    // updateDefaultProvisioningConnectionForApplication documents only 200.
    Ok(Json(render_connection(&state, &org.apps[i])).into_response())
}

async fn activate_connection(
    State(state): State<Shared>,
    Extension(actor): Extension<Actor>,
    Path(app_id): Path<String>,
) -> ApiResult {
    let mut org = state.org();
    let i = app_pos(&org, &app_id)?;
    let Some(conn) = org.apps[i].connection.as_mut() else {
        return Err(validation(
            "Api validation failed: connection",
            "No provisioning connection is configured.",
        ));
    };
    if conn.token == TokenState::Stale {
        return Err(validation(
            "Api validation failed: token",
            "The provided credentials are invalid; verify the token and try again.",
        ));
    }
    conn.enabled = true;
    org.app_event(
        i,
        "application.provision.connection.activate",
        "Activate provisioning connection",
        &actor,
        None,
    );
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn deactivate_connection(
    State(state): State<Shared>,
    Extension(actor): Extension<Actor>,
    Path(app_id): Path<String>,
) -> ApiResult {
    let mut org = state.org();
    let i = app_pos(&org, &app_id)?;
    if let Some(conn) = org.apps[i].connection.as_mut() {
        conn.enabled = false;
    }
    org.app_event(
        i,
        "application.provision.connection.deactivate",
        "Deactivate provisioning connection",
        &actor,
        None,
    );
    Ok(StatusCode::NO_CONTENT.into_response())
}
