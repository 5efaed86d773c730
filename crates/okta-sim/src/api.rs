//! The public Okta management endpoints okta-sim serves for apps, app users, users, groups and
//! agent pools, and the router of every public endpoint (see `provisioning`, `group_push`, `logs`).

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Json, Router};
use chrono::Utc;
use serde_json::{json, Map, Value};

use super::errors::{parse_body, validation, ApiError, ApiResult};
use super::events::strip_nulls;
use super::model::{ts, Actor, App, AppUser, Org, User};
use super::paging::{paged, Params};
use super::state::{Shared, SimState};

/// Default and maximum page sizes, as Okta documents them.
const APPS_LIMIT: (usize, usize) = (20, 200);
const APP_USERS_LIMIT: (usize, usize) = (50, 500);
const USERS_LIMIT: (usize, usize) = (200, 200);
const GROUPS_LIMIT: (usize, usize) = (200, 200);

pub(crate) fn routes() -> Router<Shared> {
    Router::new()
        .route("/api/v1/apps", get(list_apps))
        .route("/api/v1/apps/{app_id}", get(get_app))
        .route("/api/v1/apps/{app_id}/users", get(list_app_users))
        .route(
            "/api/v1/apps/{app_id}/users/{user_id}",
            get(get_app_user).post(update_app_user),
        )
        .route("/api/v1/users", get(list_users))
        .route("/api/v1/users/{id}", get(get_user))
        .route("/api/v1/groups", get(list_groups))
        .route("/api/v1/agentPools", get(list_agent_pools))
        .route("/api/v1/logs", get(super::logs::list_logs))
        .merge(super::provisioning::routes())
        .merge(super::group_push::routes())
}

pub(crate) fn app_pos(org: &Org, app_id: &str) -> Result<usize, ApiError> {
    org.app_pos(app_id)
        .ok_or_else(|| ApiError::NotFound(app_id.to_owned()))
}

// ----- rendering ------------------------------------------------------------------------------

pub(crate) fn href(state: &SimState, path: &str) -> Value {
    json!({ "href": format!("{}{path}", state.base_url) })
}

/// A rendered object without its null members (see [`strip_nulls`]).
pub(crate) fn stripped(mut value: Value) -> Value {
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
            if !matches!(field, "status" | "name" | "id") {
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
                _ => &a.id == v,
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
    let org = state.org();
    let app = &org.apps[app_pos(&org, &app_id)?];
    let expand_user = expand_user(&params);
    let path = format!("/api/v1/apps/{app_id}/users");
    paged(
        &state,
        &path,
        &params,
        &app.users,
        APP_USERS_LIMIT.0,
        APP_USERS_LIMIT.1,
        |u| {
            let mut body = render_app_user(&state, app, u);
            if expand_user {
                embed_user(&state, &org, &mut body, &u.id);
            }
            body
        },
    )
}

/// Whether `expand=user` asks for the Okta user in `_embedded.user` (`queryAppUserExpand`, the
/// only expansion the spec documents for app users; other values are ignored).
fn expand_user(params: &Params) -> bool {
    params.get("expand") == Some("user")
}

/// Puts the Okta user in `_embedded.user`, as `expand=user` does.
fn embed_user(state: &SimState, org: &Org, body: &mut Value, user_id: &str) {
    if let Some(user) = org.user(user_id) {
        body["_embedded"] = json!({ "user": render_user(state, user) });
    }
}

async fn get_app_user(
    State(state): State<Shared>,
    Path((app_id, user_id)): Path<(String, String)>,
    RawQuery(q): RawQuery,
) -> ApiResult {
    let params = Params::parse(q.as_deref());
    let expand_user = expand_user(&params);
    let org = state.org();
    let app = &org.apps[app_pos(&org, &app_id)?];
    let u = app
        .app_user(&user_id)
        .ok_or(ApiError::NotFound(user_id.clone()))?;
    let mut body = render_app_user(&state, app, u);
    if expand_user {
        embed_user(&state, &org, &mut body, &u.id);
    }
    Ok(Json(body).into_response())
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
    let enabled = org.apps[i].pushes();
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
