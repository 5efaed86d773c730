//! okta-sim's own `/__sim/` control routes: inject a System Log event, make an app user fail,
//! register Okta Event Hooks, open or close a directory's port 464, dump the state; and drive the
//! transport layer (request counters, faults, rate limits). Not authenticated, not rate-limited.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use super::errors::{parse_body, validation, ApiError, ApiResult, Resource};
use super::events::complete_event;
use super::faults::{FaultRule, FaultStatus};
use super::model::{ts, Cause, Org};
use super::rate_limit::RateLimitConfig;
use super::scenario::{parse_time, validate_hook, EventHookSpec};
use super::state::Shared;
use super::stats::StatsSnapshot;
use super::transport::Infra;

pub(crate) fn routes(state: Shared) -> Router {
    Router::new()
        .route("/__sim/events", post(inject_event))
        .route(
            "/__sim/app-users/{app_id}/{user_id}/fail",
            post(fail_app_user),
        )
        .route(
            "/__sim/event-hooks",
            get(list_hooks).post(register_hook).delete(clear_hooks),
        )
        .route("/__sim/directories/{app_id}/kpasswd", post(set_kpasswd))
        .route("/__sim/state", get(state_dump))
        .with_state(state)
}

async fn inject_event(State(state): State<Shared>, body: Bytes) -> ApiResult {
    let event: Value = parse_body(&body)?;
    if !event.is_object() {
        return Err(ApiError::BadJson);
    }
    let now = chrono::Utc::now();
    let published = match event.get("published").and_then(Value::as_str) {
        None => now,
        Some(text) => {
            parse_time(text, now).map_err(|m| validation("Api validation failed: published", &m))?
        }
    };
    let mut event = event;
    complete_event(&mut event, published);
    let mut org = state.org();
    org.push_event_at(published, event);
    Ok(StatusCode::CREATED.into_response())
}

/// `POST /__sim/app-users/{appId}/{userId}/fail`: every field optional.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct FailRequest {
    /// The failure text (`outcome.reason` of the event), default a generic push failure.
    reason: Option<String>,
    /// What a retry does (as the scenario's `cause`), default `transient`.
    cause: Option<String>,
    /// The event type, default the app user's (`application.provision.user.push`).
    event_type: Option<String>,
}

/// Makes one app user fail now; answers 200 with the System Log event it appended.
async fn fail_app_user(
    State(state): State<Shared>,
    Path((app_id, user_id)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult {
    let request: FailRequest = if body.is_empty() {
        FailRequest::default()
    } else {
        parse_body(&body)?
    };
    let cause = match request.cause.as_deref() {
        None => Cause::Transient,
        Some(text) => text
            .parse::<Cause>()
            .map_err(|m| validation("Api validation failed: cause", &m))?,
    };
    let mut org = state.org();
    let i = org
        .app_pos(&app_id)
        .ok_or_else(|| ApiError::not_found(&app_id, Resource::App))?;
    let event = org
        .fail_app_user(i, &user_id, cause, request.reason, request.event_type)
        .ok_or_else(|| ApiError::not_found(&user_id, Resource::AppUser))?;
    Ok(Json(json!({ "syncState": "ERROR", "event": event })).into_response())
}

/// Registers an Event Hook after Okta's verification: 201 with the hook, or 502 when the
/// receiver failed the verification (nothing is registered).
async fn register_hook(State(state): State<Shared>, body: Bytes) -> ApiResult {
    let spec: EventHookSpec = parse_body(&body)?;
    validate_hook(&spec).map_err(|(field, message)| {
        validation(&format!("Api validation failed: {field}"), &message)
    })?;
    match state.hooks.register(spec).await {
        Ok(hook) => Ok((StatusCode::CREATED, Json(hook)).into_response()),
        Err(error) => Ok((
            StatusCode::BAD_GATEWAY,
            Json(json!({ "verificationStatus": "UNVERIFIED", "error": error.to_string() })),
        )
            .into_response()),
    }
}

async fn list_hooks(State(state): State<Shared>) -> Json<Vec<Value>> {
    Json(state.hooks.list())
}

async fn clear_hooks(State(state): State<Shared>) -> StatusCode {
    state.hooks.clear();
    StatusCode::NO_CONTENT
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KpasswdRequest {
    open: bool,
}

async fn set_kpasswd(
    State(state): State<Shared>,
    Path(app_id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let req: KpasswdRequest = parse_body(&body)?;
    let mut org = state.org();
    let i = org
        .app_pos(&app_id)
        .ok_or_else(|| ApiError::not_found(&app_id, Resource::App))?;
    let Some(dir) = org.apps[i].directory.as_mut() else {
        return Err(validation(
            "Api validation failed: app",
            "The app is not a directory integration.",
        ));
    };
    dir.kpasswd_open = req.open;
    Ok(Json(json!({ "kpasswd_open": req.open })).into_response())
}

async fn state_dump(State(state): State<Shared>) -> ApiResult {
    Ok(Json(dump(&state.org())).into_response())
}

/// A JSON dump of the sim-only view of the org (causes included).
pub(crate) fn dump(org: &Org) -> Value {
    let apps: Vec<Value> = org
        .apps
        .iter()
        .map(|a| {
            json!({
                "id": a.id, "name": a.name, "status": a.status, "features": a.features(),
                "provisioning": a.connection.as_ref().map(|c| json!({ "enabled": c.enabled, "token": c.token })),
                "kpasswd_open": a.directory.as_ref().map(|d| d.kpasswd_open),
                "mappings": a.mappings.iter().map(|m| json!({ "id": m.id, "status": m.status })).collect::<Vec<_>>(),
                "users": a.users.iter().map(|u| json!({
                    "id": u.id, "status": u.status, "syncState": u.sync_state,
                    "cause": u.cause.as_ref().map(|c| format!("{c:?}")),
                    "lastSync": u.last_sync.map(ts),
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({ "users": org.users.len(), "groups": org.groups.len(), "events": org.events.len(), "apps": apps })
}

/// The `/__sim/` control routes for faults, rate limits and request counters:
/// `GET /__sim/stats`, `POST /__sim/stats/reset`, `GET|POST|DELETE /__sim/faults`,
/// `GET|PUT /__sim/rate-limits`, `POST /__sim/rate-limits/reset`.
/// They are neither rate-limited nor authenticated.
pub(crate) fn transport_routes(infra: &Arc<Infra>) -> Router {
    Router::new()
        .route("/__sim/stats", get(get_stats))
        .route("/__sim/stats/reset", post(reset_stats))
        .route(
            "/__sim/faults",
            get(list_faults).post(add_fault).delete(clear_faults),
        )
        .route("/__sim/rate-limits", get(get_limits).put(put_limits))
        .route("/__sim/rate-limits/reset", post(reset_windows))
        .with_state(infra.clone())
}

// ----- transport: stats, faults, rate limits -------------------------------------------------

async fn get_stats(State(infra): State<Arc<Infra>>) -> axum::Json<StatsSnapshot> {
    axum::Json(infra.stats())
}

async fn reset_stats(State(infra): State<Arc<Infra>>) -> StatusCode {
    infra.reset_stats();
    StatusCode::NO_CONTENT
}

async fn list_faults(State(infra): State<Arc<Infra>>) -> axum::Json<Vec<FaultStatus>> {
    axum::Json(infra.fault_statuses())
}

async fn add_fault(
    State(infra): State<Arc<Infra>>,
    body: Result<axum::Json<FaultRule>, axum::extract::rejection::JsonRejection>,
) -> Response {
    match body {
        Ok(axum::Json(rule)) => {
            infra.add_fault(rule);
            StatusCode::CREATED.into_response()
        }
        Err(rejection) => (StatusCode::BAD_REQUEST, rejection.body_text()).into_response(),
    }
}

async fn clear_faults(State(infra): State<Arc<Infra>>) -> StatusCode {
    infra.clear_faults();
    StatusCode::NO_CONTENT
}

async fn get_limits(State(infra): State<Arc<Infra>>) -> Response {
    let limits = infra.rate_limits();
    axum::Json(limits).into_response()
}

async fn put_limits(
    State(infra): State<Arc<Infra>>,
    body: Result<axum::Json<RateLimitConfig>, axum::extract::rejection::JsonRejection>,
) -> Response {
    match body {
        Ok(axum::Json(limits)) => {
            infra.set_rate_limits(limits);
            StatusCode::NO_CONTENT.into_response()
        }
        Err(rejection) => (StatusCode::BAD_REQUEST, rejection.body_text()).into_response(),
    }
}

async fn reset_windows(State(infra): State<Arc<Infra>>) -> StatusCode {
    infra.reset_windows();
    StatusCode::NO_CONTENT
}
