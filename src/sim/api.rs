//! The public Okta management endpoints okta-sim serves: apps, app users, features,
//! provisioning connections, group push mappings, users, groups and agent pools.

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use chrono::Utc;
use serde_json::{json, Map, Value};

use super::model::{strip_nulls, ts, Actor, App, AppUser, Mapping, Org, User};
use super::scenario::TokenState;
use super::server::{
    paged, parse_body, provisioning_not_enabled, validation, ApiError, ApiResult, Params, Shared,
    SimState,
};

/// Default and maximum page sizes, as Okta documents them.
const APPS_LIMIT: (usize, usize) = (20, 200);
const APP_USERS_LIMIT: (usize, usize) = (50, 500);
const USERS_LIMIT: (usize, usize) = (200, 200);
const GROUPS_LIMIT: (usize, usize) = (200, 200);
const MAPPINGS_LIMIT: (usize, usize) = (100, 1000);

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
        .route("/api/v1/apps", get(list_apps))
        .route("/api/v1/apps/{app_id}", get(get_app))
        .route("/api/v1/apps/{app_id}/users", get(list_app_users))
        .route(
            "/api/v1/apps/{app_id}/users/{user_id}",
            get(get_app_user).post(update_app_user),
        )
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
        .route(
            "/api/v1/apps/{app_id}/group-push/mappings",
            get(list_mappings),
        )
        .route(
            "/api/v1/apps/{app_id}/group-push/mappings/{mapping_id}",
            get(get_mapping).patch(patch_mapping).delete(delete_mapping),
        )
        .route("/api/v1/users", get(list_users))
        .route("/api/v1/users/{id}", get(get_user))
        .route("/api/v1/groups", get(list_groups))
        .route("/api/v1/agentPools", get(list_agent_pools))
        .route("/api/v1/logs", get(super::logs::list_logs))
}

fn app_pos(org: &Org, app_id: &str) -> Result<usize, ApiError> {
    org.app_pos(app_id)
        .ok_or_else(|| ApiError::NotFound(app_id.to_owned()))
}

// ----- rendering ------------------------------------------------------------------------------

fn href(state: &SimState, path: &str) -> Value {
    json!({ "href": format!("{}{path}", state.base_url) })
}

/// A rendered object without its null members (see [`strip_nulls`]).
fn stripped(mut value: Value) -> Value {
    strip_nulls(&mut value);
    value
}

/// What a directory app reports as `signOnMode`.
///
/// Okta sends `null` for directory integrations (AD, LDAP; okta/okta-sdk-dotnet#821), but its
/// spec makes `signOnMode` required and non-nullable, and each mapped mode selects a subtype of
/// `Application`: BOOKMARK, for one, requires `name: bookmark`, which a directory app is not. The
/// spec wins here: a directory app reports the generic default mode, whatever the scenario says.
const DIRECTORY_SIGN_ON_MODE: &str = "SAML_2_0";

fn sign_on_mode(a: &App) -> &str {
    if a.directory.is_some() {
        return DIRECTORY_SIGN_ON_MODE;
    }
    &a.sign_on_mode
}

fn render_app(state: &SimState, a: &App) -> Value {
    json!({
        "id": a.id,
        "name": a.name,
        "label": a.label,
        "status": a.status,
        "created": ts(a.created),
        "lastUpdated": ts(a.last_updated),
        "signOnMode": sign_on_mode(a),
        "features": a.features(),
        "accessibility": { "selfService": false },
        "visibility": { "autoSubmitToolbar": false, "hide": { "iOS": false, "web": false }, "appLinks": {} },
        "credentials": { "userNameTemplate": { "template": "${source.login}", "type": "BUILT_IN" }, "signing": {} },
        "settings": { "app": {}, "notifications": {} },
        "_links": {
            "self": href(state, &format!("/api/v1/apps/{}", a.id)),
            "users": href(state, &format!("/api/v1/apps/{}/users", a.id)),
            "groups": href(state, &format!("/api/v1/apps/{}/groups", a.id)),
            "deactivate": href(state, &format!("/api/v1/apps/{}/lifecycle/deactivate", a.id)),
        },
    })
}

fn render_app_user(state: &SimState, app: &App, u: &AppUser) -> Value {
    stripped(json!({
        "id": u.id,
        "externalId": u.external_id,
        "created": ts(u.created),
        "lastUpdated": ts(u.last_updated),
        "scope": u.scope,
        "status": u.status,
        "statusChanged": ts(u.created),
        "syncState": u.sync_state,
        "lastSync": u.last_sync.map(ts),
        "credentials": { "userName": u.profile.get("email").cloned().unwrap_or(Value::Null) },
        "profile": u.profile,
        "_links": {
            "app": href(state, &format!("/api/v1/apps/{}", app.id)),
            "user": href(state, &format!("/api/v1/users/{}", u.id)),
        },
    }))
}

fn render_user(state: &SimState, u: &User) -> Value {
    json!({
        "id": u.id,
        "status": u.status,
        "created": ts(u.created),
        "activated": ts(u.created),
        "statusChanged": ts(u.created),
        "lastUpdated": ts(u.last_updated),
        "type": { "id": "otysimdefault0000000" },
        "profile": u.profile,
        "credentials": { "provider": { "type": "OKTA", "name": "OKTA" } },
        "_links": { "self": href(state, &format!("/api/v1/users/{}", u.id)) },
    })
}

fn render_mapping(state: &SimState, app: &App, m: &Mapping) -> Value {
    stripped(json!({
        "id": m.id,
        "sourceGroupId": m.source_group_id,
        "targetGroupId": m.target_group_id,
        "status": m.status,
        "created": ts(m.created),
        "lastUpdated": ts(m.last_updated),
        "errorSummary": m.error_summary,
        "_links": {
            "app": href(state, &format!("/api/v1/apps/{}", app.id)),
            "sourceGroup": href(state, &format!("/api/v1/groups/{}", m.source_group_id)),
            "targetGroup": href(state, &format!("/api/v1/groups/{}", m.target_group_id)),
        },
    }))
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
        "description": "User provisioning settings from Okta to a downstream app",
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

fn render_connection(state: &SimState, app: &App) -> Value {
    let (status, scheme) = match &app.connection {
        Some(c) => (status_of(c.enabled), c.auth_scheme.clone()),
        None => ("DISABLED", "TOKEN".to_owned()),
    };
    let base = format!(
        "{}/api/v1/apps/{}/connections/default",
        state.base_url, app.id
    );
    json!({
        "authScheme": scheme,
        "status": status,
        "profile": { "authScheme": scheme },
        "_links": {
            "self": { "href": base, "hints": { "allow": ["GET", "POST"] } },
            "activate": { "href": format!("{base}/lifecycle/activate"), "hints": { "allow": ["POST"] } },
            "deactivate": { "href": format!("{base}/lifecycle/deactivate"), "hints": { "allow": ["POST"] } },
        },
    })
}

// ----- apps -----------------------------------------------------------------------------------

/// One `field eq "value"` clause of the apps filter.
fn parse_app_filter(filter: &str) -> Result<Vec<(String, String)>, ApiError> {
    let bad = || {
        validation(
            "Api validation failed: filter",
            &format!("Invalid filter: {filter}"),
        )
    };
    filter
        .split(" and ")
        .map(|clause| {
            let mut parts = clause.trim().splitn(3, ' ');
            let (Some(field), Some("eq"), Some(value)) = (parts.next(), parts.next(), parts.next())
            else {
                return Err(bad());
            };
            let value = value.trim().trim_matches('"').to_owned();
            if !matches!(field, "status" | "name" | "id" | "label") {
                return Err(bad());
            }
            Ok((field.to_owned(), value))
        })
        .collect()
}

async fn list_apps(State(state): State<Shared>, RawQuery(q): RawQuery) -> ApiResult {
    let params = Params::parse(q.as_deref());
    let clauses = match params.get("filter") {
        Some(f) => parse_app_filter(f)?,
        None => Vec::new(),
    };
    let org = state.org();
    let apps: Vec<&App> = org
        .apps
        .iter()
        .filter(|a| {
            clauses.iter().all(|(f, v)| match f.as_str() {
                "status" => &a.status == v,
                "name" => &a.name == v,
                "id" => &a.id == v,
                _ => &a.label == v,
            })
        })
        .collect();
    paged(
        &state,
        "/api/v1/apps",
        &params,
        &apps,
        APPS_LIMIT.0,
        APPS_LIMIT.1,
        |a| render_app(&state, a),
    )
}

async fn get_app(State(state): State<Shared>, Path(app_id): Path<String>) -> ApiResult {
    let org = state.org();
    let i = app_pos(&org, &app_id)?;
    Ok(Json(render_app(&state, &org.apps[i])).into_response())
}

// ----- app users ------------------------------------------------------------------------------

async fn list_app_users(
    State(state): State<Shared>,
    Path(app_id): Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult {
    let params = Params::parse(q.as_deref());
    let expand = expand_user(&params);
    let org = state.org();
    let app = &org.apps[app_pos(&org, &app_id)?];
    let path = format!("/api/v1/apps/{app_id}/users");
    paged(
        &state,
        &path,
        &params,
        &app.users,
        APP_USERS_LIMIT.0,
        APP_USERS_LIMIT.1,
        |u| render_app_user_expanded(&state, &org, app, u, expand),
    )
}

/// Whether `expand=user` asks for the Okta user in `_embedded.user` (`queryAppUserExpand`).
fn expand_user(params: &Params) -> bool {
    params.get("expand") == Some("user")
}

/// An app user, with `_embedded.user` when `expand` is set and the Okta user exists.
fn render_app_user_expanded(
    state: &SimState,
    org: &Org,
    app: &App,
    u: &AppUser,
    expand: bool,
) -> Value {
    let mut out = render_app_user(state, app, u);
    if let (true, Some(user), Value::Object(map)) = (expand, org.user(&u.id), &mut out) {
        map.insert(
            "_embedded".into(),
            json!({ "user": render_user(state, user) }),
        );
    }
    out
}

async fn get_app_user(
    State(state): State<Shared>,
    Path((app_id, user_id)): Path<(String, String)>,
    RawQuery(q): RawQuery,
) -> ApiResult {
    let expand = expand_user(&Params::parse(q.as_deref()));
    let org = state.org();
    let app = &org.apps[app_pos(&org, &app_id)?];
    let u = app
        .app_user(&user_id)
        .ok_or(ApiError::NotFound(user_id.clone()))?;
    Ok(Json(render_app_user_expanded(&state, &org, app, u, expand)).into_response())
}

/// POST of an app user: updates the profile; a push is attempted when the profile changed or
/// the app user is in ERROR, and provisioning is enabled.
async fn update_app_user(
    State(state): State<Shared>,
    Extension(actor): Extension<Actor>,
    Path((app_id, user_id)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult {
    let body: Value = parse_body(&body)?;
    let profile_update = match body.get("profile") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => m.clone(),
        Some(_) => {
            return Err(validation(
                "Api validation failed: profile",
                "profile: must be an object",
            ))
        }
    };
    let mut org = state.org();
    let i = app_pos(&org, &app_id)?;
    let enabled = org.apps[i].provisioning_enabled();
    let au = org.apps[i]
        .app_user_mut(&user_id)
        .ok_or(ApiError::NotFound(user_id.clone()))?;
    let mut changed = false;
    for (k, v) in profile_update {
        if au.profile.get(&k) != Some(&v) {
            au.profile.insert(k, v);
            changed = true;
        }
    }
    if changed {
        au.last_updated = Utc::now();
    }
    let in_error = au.sync_state == "ERROR";
    if enabled && (changed || in_error) {
        org.attempt_push(i, &user_id, &actor);
    } else if changed {
        let target = json!({ "id": user_id, "type": "AppUser", "alternateId": user_id, "displayName": user_id });
        org.app_event(
            i,
            "application.user_membership.update",
            "Update user's app assignment",
            &actor,
            Some(target),
        );
    }
    let app = &org.apps[i];
    let u = app
        .app_user(&user_id)
        .ok_or(ApiError::NotFound(user_id.clone()))?;
    Ok(Json(render_app_user(&state, app, u)).into_response())
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
    Err(ApiError::NotFound(name.to_owned()))
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
    let activate = params.get("activate").is_none_or(|v| v == "true");
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
        });
    conn.auth_scheme = scheme;
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
    // The spec documents 200 (not 201) for this update-or-create operation.
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

// ----- group push -----------------------------------------------------------------------------

fn push_app(org: &Org, app_id: &str) -> Result<usize, ApiError> {
    let i = app_pos(org, app_id)?;
    let app = &org.apps[i];
    let token_valid = app
        .connection
        .as_ref()
        .is_some_and(|c| c.token == TokenState::Valid);
    if !app.provisioning_enabled() || !token_valid {
        return Err(provisioning_not_enabled("mapping"));
    }
    Ok(i)
}

async fn list_mappings(
    State(state): State<Shared>,
    Path(app_id): Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult {
    let params = Params::parse(q.as_deref());
    let org = state.org();
    let i = push_app(&org, &app_id)?;
    let app = &org.apps[i];
    let since = match params.get("lastUpdated") {
        None => None,
        Some(t) => Some(chrono::DateTime::parse_from_rfc3339(t).map_err(|_| {
            validation(
                "Api validation failed: lastUpdated",
                "lastUpdated: must be RFC3339",
            )
        })?),
    };
    if let Some(s) = params.get("status") {
        if !matches!(s, "ACTIVE" | "INACTIVE" | "ERROR") {
            return Err(validation(
                "Api validation failed: status",
                "status: must be ACTIVE, INACTIVE or ERROR",
            ));
        }
    }
    let items: Vec<&Mapping> = app
        .mappings
        .iter()
        .filter(|m| params.get("status").is_none_or(|s| m.status == s))
        .filter(|m| {
            params
                .get("sourceGroupId")
                .is_none_or(|g| m.source_group_id == g)
        })
        .filter(|m| since.is_none_or(|t| m.last_updated >= t))
        .collect();
    let path = format!("/api/v1/apps/{app_id}/group-push/mappings");
    paged(
        &state,
        &path,
        &params,
        &items,
        MAPPINGS_LIMIT.0,
        MAPPINGS_LIMIT.1,
        |m| render_mapping(&state, app, m),
    )
}

fn mapping_pos(app: &App, id: &str) -> Result<usize, ApiError> {
    app.mappings
        .iter()
        .position(|m| m.id == id)
        .ok_or_else(|| ApiError::NotFound(id.to_owned()))
}

async fn get_mapping(
    State(state): State<Shared>,
    Path((app_id, mid)): Path<(String, String)>,
) -> ApiResult {
    let org = state.org();
    let i = push_app(&org, &app_id)?;
    let app = &org.apps[i];
    let m = mapping_pos(app, &mid)?;
    Ok(Json(render_mapping(&state, app, &app.mappings[m])).into_response())
}

fn mapping_target(m: &Mapping) -> Value {
    json!({ "id": m.id, "type": "GroupPushMapping", "alternateId": m.target_group_id, "displayName": m.source_group_id })
}

async fn patch_mapping(
    State(state): State<Shared>,
    Extension(actor): Extension<Actor>,
    Path((app_id, mid)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult {
    let body: Value = parse_body(&body)?;
    let status = match body.get("status").and_then(Value::as_str) {
        Some(s @ ("ACTIVE" | "INACTIVE")) => s.to_owned(),
        _ => {
            return Err(validation(
                "Api validation failed: status",
                "status: must be ACTIVE or INACTIVE",
            ))
        }
    };
    let mut org = state.org();
    let i = push_app(&org, &app_id)?;
    let m = mapping_pos(&org.apps[i], &mid)?;
    let mapping = &mut org.apps[i].mappings[m];
    mapping.status = status.clone();
    mapping.error_summary = None;
    mapping.last_updated = Utc::now();
    let target = mapping_target(mapping);
    let (event, msg) = if status == "ACTIVE" {
        (
            "application.provision.group_push.activate_mapping",
            "Activate group push mapping",
        )
    } else {
        (
            "application.provision.group_push.deactivate_mapping",
            "Deactivate group push mapping",
        )
    };
    org.app_event(i, event, msg, &actor, Some(target));
    let app = &org.apps[i];
    Ok(Json(render_mapping(&state, app, &app.mappings[m])).into_response())
}

async fn delete_mapping(
    State(state): State<Shared>,
    Extension(actor): Extension<Actor>,
    Path((app_id, mid)): Path<(String, String)>,
    RawQuery(q): RawQuery,
) -> ApiResult {
    let params = Params::parse(q.as_deref());
    let delete_target = match params.get("deleteTargetGroup") {
        Some("true") => true,
        Some("false") => false,
        _ => {
            return Err(validation(
                "Api validation failed: deleteTargetGroup",
                "deleteTargetGroup: required, true or false",
            ))
        }
    };
    let mut org = state.org();
    let i = push_app(&org, &app_id)?;
    let m = mapping_pos(&org.apps[i], &mid)?;
    if org.apps[i].mappings[m].status == "ACTIVE" {
        return Err(validation(
            "Api validation failed: mapping",
            "The mapping must be INACTIVE before it can be deleted.",
        ));
    }
    let removed = org.apps[i].mappings.remove(m);
    let target = mapping_target(&removed);
    org.app_event(
        i,
        "application.provision.group_push.delete_mapping",
        "Delete group push mapping",
        &actor,
        Some(target.clone()),
    );
    if delete_target {
        org.app_event(
            i,
            "application.provision.group_push.delete_appgroup",
            "Delete group in app",
            &actor,
            Some(target),
        );
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

// ----- users, groups, agent pools -------------------------------------------------------------

async fn list_users(State(state): State<Shared>, RawQuery(q): RawQuery) -> ApiResult {
    let params = Params::parse(q.as_deref());
    let org = state.org();
    paged(
        &state,
        "/api/v1/users",
        &params,
        &org.users,
        USERS_LIMIT.0,
        USERS_LIMIT.1,
        |u| render_user(&state, u),
    )
}

async fn get_user(State(state): State<Shared>, Path(id): Path<String>) -> ApiResult {
    let org = state.org();
    let u = org.user(&id).ok_or(ApiError::NotFound(id.clone()))?;
    Ok(Json(render_user(&state, u)).into_response())
}

async fn list_groups(State(state): State<Shared>, RawQuery(q): RawQuery) -> ApiResult {
    let params = Params::parse(q.as_deref());
    let org = state.org();
    paged(
        &state,
        "/api/v1/groups",
        &params,
        &org.groups,
        GROUPS_LIMIT.0,
        GROUPS_LIMIT.1,
        |g| {
            json!({
                "id": g.id,
                "created": ts(g.created),
                "lastUpdated": ts(g.created),
                "lastMembershipUpdated": ts(g.created),
                "objectClass": ["okta:user_group"],
                "type": "OKTA_GROUP",
                "profile": stripped(json!({ "name": g.name, "description": g.description })),
                "_links": { "self": href(&state, &format!("/api/v1/groups/{}", g.id)) },
            })
        },
    )
}

async fn list_agent_pools(
    State(state): State<Shared>,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let params = Params::parse(q.as_deref());
    let org = state.org();
    let pools: Vec<Value> = org
        .pools
        .iter()
        .filter(|p| params.get("poolType").is_none_or(|t| p.pool_type == t))
        .map(|p| {
            let agents: Vec<Value> = p
                .agents
                .iter()
                .map(|a| {
                    json!({
                        "id": a.id, "name": a.name, "type": p.pool_type, "poolId": p.id,
                        "operationalStatus": a.operational_status,
                        "lastConnection": a.last_connection.map(|t| t.timestamp_millis()),
                        "version": a.version, "isHidden": false, "isLatestGAedVersion": true,
                        "updateStatus": "Success",
                        "_links": { "self": href(&state, &format!("/api/v1/agentPools/{}/agents/{}", p.id, a.id)) },
                    })
                })
                .collect();
            let count = |s: &str| {
                p.agents
                    .iter()
                    .filter(|a| a.operational_status == s)
                    .count()
            };
            json!({
                "id": p.id, "name": p.name, "type": p.pool_type,
                "operationalStatus": p.operational_status,
                "agents": agents,
                "disruptedAgents": count("DISRUPTED"),
                "inactiveAgents": count("INACTIVE"),
                "_links": { "self": href(&state, &format!("/api/v1/agentPools/{}", p.id)) },
            })
        })
        .collect();
    Ok(Json(Value::Array(pools)).into_response())
}
