//! The public Okta management endpoints okta-sim serves for apps, app users, users, groups and
//! agent pools, and the router of every public endpoint (see `provisioning`, `group_push`, `logs`).

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Json, Router};
use chrono::Utc;
use serde_json::{json, Map, Value};

use super::errors::{parse_body, validation, ApiError, ApiResult, Resource};
use super::model::{ts, Actor, App, AppUser, Group, Org, User, ORG_ID};
use super::paging::{paged, LinkForm, Listing, PageSize, Params};
use super::scenario::EndpointAvailability;
use super::state::{Shared, SimState};

/// Default and maximum page sizes, as Okta documents them.
const APPS_PAGE: PageSize = PageSize {
    default: 20,
    max: 200,
};
const APP_USERS_PAGE: PageSize = PageSize {
    default: 50,
    max: 500,
};
const USERS_PAGE: PageSize = PageSize {
    default: 200,
    max: 200,
};
const GROUPS_PAGE: PageSize = PageSize {
    default: 200,
    max: 200,
};

/// `self` links as Okta writes them: the apps list keeps `q` and `filter` (in that order),
/// app users drop their filters; users and groups (not recorded) keep their searches.
const APPS_LINKS: LinkForm = LinkForm::echoing(&["q", "filter"]);
const APP_USERS_LINKS: LinkForm = LinkForm::echoing(&[]);
const USERS_LINKS: LinkForm = LinkForm::echoing(&["q", "filter", "search"]);
const GROUPS_LINKS: LinkForm = LinkForm::echoing(&["q", "filter", "search"]);

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
        .route("/api/v1/groups/{id}", get(get_group))
        .route("/api/v1/agentPools", get(list_agent_pools))
        .route("/api/v1/logs", get(super::logs::list_logs))
        .merge(super::provisioning::routes())
        .merge(super::group_push::routes())
}

pub(crate) fn app_pos(org: &Org, app_id: &str) -> Result<usize, ApiError> {
    org.app_pos(app_id)
        .ok_or_else(|| ApiError::not_found(app_id, Resource::App))
}

// ----- rendering ------------------------------------------------------------------------------

pub(crate) fn href(state: &SimState, path: &str) -> Value {
    json!({ "href": format!("{}{path}", state.base_url) })
}

/// `{"href": ..., "hints": {"allow": [...]}}`.
pub(crate) fn href_allowing(state: &SimState, path: &str, allow: &[&str]) -> Value {
    json!({ "href": format!("{}{path}", state.base_url), "hints": { "allow": allow } })
}

fn render_app(state: &SimState, a: &App) -> Value {
    let base = format!("/api/v1/apps/{}", a.id);
    let transition = if a.status == "ACTIVE" {
        "deactivate"
    } else {
        "activate"
    };
    // Source apps and Org2Org report Universal Logout as unsupported; others (orgs of the age
    // the recordings show most) send null.
    let universal_logout = if a.is_source() || a.name == "okta_org2org" {
        json!({ "status": "UNSUPPORTED" })
    } else {
        Value::Null
    };
    json!({
        "id": a.id,
        "orn": format!("orn:okta:idp:{ORG_ID}:apps:{}:{}", a.name, a.id),
        "name": a.name,
        "label": a.label,
        "status": a.status,
        "created": ts(a.created),
        "lastUpdated": ts(a.last_updated),
        "accessibility": { "selfService": false, "errorRedirectUrl": null, "loginRedirectUrl": null },
        "visibility": { "autoSubmitToolbar": false, "hide": { "iOS": false, "web": false }, "appLinks": {} },
        "features": a.features(),
        "signOnMode": a.sign_on_mode,
        "credentials": { "userNameTemplate": { "template": "${source.login}", "type": "BUILT_IN" }, "signing": {} },
        "universalLogout": universal_logout,
        "settings": {
            "app": {},
            "notifications": { "vpn": { "network": { "connection": "DISABLED" }, "message": null, "helpUrl": null } },
            "manualProvisioning": false,
            "implicitAssignment": false,
            "emOptInStatus": "NONE",
        },
        "_links": {
            "uploadLogo": href_allowing(state, &format!("{base}/logo"), &["POST"]),
            "appLinks": [],
            "groups": href(state, &format!("{base}/groups")),
            "logo": [],
            "users": href(state, &format!("{base}/users")),
            transition: href(state, &format!("{base}/lifecycle/{transition}")),
        },
    })
}

fn render_app_user(state: &SimState, app: &App, u: &AppUser) -> Value {
    // Every attribute of the app's profile schema is sent; those without a value as null.
    let mut profile = u.profile.clone();
    for attr in &app.profile_schema {
        profile.entry(attr.clone()).or_insert(Value::Null);
    }
    let mut body = json!({
        "id": u.id,
        "externalId": u.external_id,
        "created": ts(u.created),
        "lastUpdated": ts(u.last_updated),
        "scope": u.scope,
        "status": u.status,
        "statusChanged": ts(u.created),
        "passwordChanged": null,
        "syncState": u.sync_state,
        "credentials": { "userName": u.user_name },
        "profile": profile,
        "_links": {
            "app": href(state, &format!("/api/v1/apps/{}", app.id)),
            "user": href(state, &format!("/api/v1/users/{}", u.id)),
        },
    });
    // Only apps that push or import keep a `lastSync`; it is absent until the first sync.
    if let Some(last_sync) = u.last_sync.filter(|_| app.syncs_users()) {
        body["lastSync"] = json!(ts(last_sync));
    }
    body
}

/// Base-profile attributes Okta always sends on a user, `null` when unset.
const USER_PROFILE_ALWAYS: &[&str] = &["mobilePhone", "secondEmail"];

fn render_user(state: &SimState, u: &User) -> Value {
    let mut profile = u.profile.clone();
    for attr in USER_PROFILE_ALWAYS {
        profile.entry(*attr).or_insert(Value::Null);
    }
    json!({
        "id": u.id,
        "status": u.status,
        "created": ts(u.created),
        "activated": u.activated.map(ts),
        "statusChanged": u.status_changed.map(ts),
        "lastLogin": null,
        "lastUpdated": ts(u.last_updated),
        "passwordChanged": null,
        "type": { "id": "otysimdefault0000000" },
        "profile": profile,
        "credentials": { "provider": { "type": "OKTA", "name": "OKTA" } },
        "_links": { "self": href(state, &format!("/api/v1/users/{}", u.id)) },
    })
}

fn render_group(state: &SimState, g: &Group) -> Value {
    let base = format!("/api/v1/groups/{}", g.id);
    json!({
        "id": g.id,
        "created": ts(g.created),
        "lastUpdated": ts(g.created),
        "lastMembershipUpdated": ts(g.created),
        "objectClass": ["okta:user_group"],
        "type": "OKTA_GROUP",
        "profile": { "name": g.name, "description": g.description },
        "_links": {
            "logo": [],
            "users": href(state, &format!("{base}/users")),
            "apps": href(state, &format!("{base}/apps")),
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
    // `q`: apps whose name or label starts with it, as Okta's list documents.
    let q = params.get("q").map(str::to_lowercase);
    let org = state.org();
    let apps: Vec<&App> = org
        .apps
        .iter()
        .filter(|a| {
            q.as_deref().is_none_or(|q| {
                a.name.to_lowercase().starts_with(q) || a.label.to_lowercase().starts_with(q)
            })
        })
        .filter(|a| {
            clauses.iter().all(|(f, v)| match f.as_str() {
                "status" => &a.status == v,
                "name" => &a.name == v,
                _ => &a.id == v,
            })
        })
        .collect();
    let listing = Listing {
        path: "/api/v1/apps",
        size: APPS_PAGE,
        form: APPS_LINKS,
    };
    paged(
        &state,
        listing,
        &params,
        &apps,
        |a| a.id.as_str(),
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
    let listing = Listing {
        path: &path,
        size: APP_USERS_PAGE,
        form: APP_USERS_LINKS,
    };
    paged(
        &state,
        listing,
        &params,
        &app.users,
        |u| u.id.as_str(),
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
        .ok_or_else(|| ApiError::not_found(&user_id, Resource::AppUser))?;
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
        .ok_or_else(|| ApiError::not_found(&user_id, Resource::AppUser))?;
    let mut changed = false;
    let mut new_attributes = Vec::new();
    for (k, v) in profile_update {
        // An absent attribute and a null one are the same: no value.
        if au.profile.get(&k).unwrap_or(&Value::Null) != &v {
            new_attributes.push(k.clone());
            au.profile.insert(k, v);
            changed = true;
        }
    }
    if changed {
        au.last_updated = Utc::now();
    }
    let in_error = au.sync_state == "ERROR";
    org.apps[i].profile_schema.extend(new_attributes);
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
        .ok_or_else(|| ApiError::not_found(&user_id, Resource::AppUser))?;
    Ok(Json(render_app_user(&state, app, u)).into_response())
}

// ----- users, groups, agent pools -------------------------------------------------------------

async fn list_users(State(state): State<Shared>, RawQuery(q): RawQuery) -> ApiResult {
    let params = Params::parse(q.as_deref());
    let org = state.org();
    let listing = Listing {
        path: "/api/v1/users",
        size: USERS_PAGE,
        form: USERS_LINKS,
    };
    paged(
        &state,
        listing,
        &params,
        &org.users,
        |u| u.id.as_str(),
        |u| render_user(&state, u),
    )
}

async fn get_user(State(state): State<Shared>, Path(id): Path<String>) -> ApiResult {
    let org = state.org();
    let u = org
        .user(&id)
        .ok_or_else(|| ApiError::not_found(&id, Resource::User))?;
    Ok(Json(render_user(&state, u)).into_response())
}

async fn list_groups(State(state): State<Shared>, RawQuery(q): RawQuery) -> ApiResult {
    let params = Params::parse(q.as_deref());
    let org = state.org();
    let listing = Listing {
        path: "/api/v1/groups",
        size: GROUPS_PAGE,
        form: GROUPS_LINKS,
    };
    paged(
        &state,
        listing,
        &params,
        &org.groups,
        |g| g.id.as_str(),
        |g| render_group(&state, g),
    )
}

async fn get_group(State(state): State<Shared>, Path(id): Path<String>) -> ApiResult {
    let org = state.org();
    let g = org
        .group(&id)
        .ok_or_else(|| ApiError::not_found(&id, Resource::Group))?;
    Ok(Json(render_group(&state, g)).into_response())
}

async fn list_agent_pools(
    State(state): State<Shared>,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    match state.scenario_org.agent_pools {
        EndpointAvailability::Available => {}
        EndpointAvailability::NotFound => {
            return Err(ApiError::NoRoute("/api/v1/agentPools".into()))
        }
        EndpointAvailability::FeatureNotEnabled => return Err(ApiError::FeatureNotEnabled),
    }
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
                        "latestGAedVersion": true, "updateStatus": "Success", "updateMessage": "",
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
