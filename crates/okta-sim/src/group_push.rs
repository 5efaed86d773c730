//! Group push mapping endpoints. Every call needs an enabled provisioning connection with a
//! valid token (a modelled assumption, see docs/okta-sim.md).

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Extension, Json, Router};
use chrono::{SubsecRound as _, Utc};
use serde_json::{json, Value};

use super::api::{app_pos, href};
use super::errors::{
    parse_body, provisioning_not_enabled, validation, ApiError, ApiResult, Resource,
};
use super::model::{ts_seconds, Actor, App, Mapping, Org};
use super::paging::{paged, LinkForm, Listing, PageSize, Params};
use super::scenario::TokenState;
use super::state::{Shared, SimState};

/// Default and maximum page size of the mappings list, as Okta documents them.
const MAPPINGS_PAGE: PageSize = PageSize {
    default: 100,
    max: 1000,
};
/// The mappings list's `self` link drops its filters, as recorded (`?limit=100`).
const MAPPINGS_LINKS: LinkForm = LinkForm::echoing(&[]);

pub(crate) fn routes() -> Router<Shared> {
    Router::new()
        .route(
            "/api/v1/apps/{app_id}/group-push/mappings",
            get(list_mappings),
        )
        .route(
            "/api/v1/apps/{app_id}/group-push/mappings/{mapping_id}",
            get(get_mapping).patch(patch_mapping).delete(delete_mapping),
        )
}

/// A mapping as recorded: timestamps in whole seconds without a fraction, `lastPush` and
/// `errorSummary` only when there is one.
fn render_mapping(state: &SimState, app: &App, m: &Mapping) -> Value {
    let mut body = json!({
        "id": m.id,
        "sourceGroupId": m.source_group_id,
        "targetGroupId": m.target_group_id,
        "status": m.status,
        "created": ts_seconds(m.created),
        "lastUpdated": ts_seconds(m.last_updated),
        "_links": {
            "app": href(state, &format!("/api/v1/apps/{}", app.id)),
            "sourceGroup": href(state, &format!("/api/v1/groups/{}", m.source_group_id)),
            "targetGroup": href(state, &format!("/api/v1/groups/{}", m.target_group_id)),
        },
    });
    if let Some(t) = m.last_push {
        body["lastPush"] = json!(ts_seconds(t));
    }
    if let Some(summary) = &m.error_summary {
        body["errorSummary"] = json!(summary);
    }
    body
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

/// The app whose mappings are read: writes' rules apply only when the scenario says reads
/// need provisioning too (`org.group_push_reads_need_provisioning`).
fn push_read_app(state: &SimState, org: &Org, app_id: &str) -> Result<usize, ApiError> {
    if state.scenario_org.group_push_reads_need_provisioning {
        return push_app(org, app_id);
    }
    app_pos(org, app_id)
}

async fn list_mappings(
    State(state): State<Shared>,
    Path(app_id): Path<String>,
    RawQuery(q): RawQuery,
) -> ApiResult {
    let params = Params::parse(q.as_deref());
    let org = state.org();
    let i = push_read_app(&state, &org, &app_id)?;
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
        .filter(|m| since.is_none_or(|t| m.last_updated.trunc_subsecs(0) >= t))
        .collect();
    let path = format!("/api/v1/apps/{app_id}/group-push/mappings");
    let listing = Listing {
        path: &path,
        size: MAPPINGS_PAGE,
        form: MAPPINGS_LINKS,
    };
    paged(
        &state,
        listing,
        &params,
        &items,
        |m| m.id.as_str(),
        |m| render_mapping(&state, app, m),
    )
}

fn mapping_pos(app: &App, id: &str) -> Result<usize, ApiError> {
    app.mappings
        .iter()
        .position(|m| m.id == id)
        .ok_or_else(|| ApiError::not_found(id, Resource::GroupPushMapping))
}

async fn get_mapping(
    State(state): State<Shared>,
    Path((app_id, mid)): Path<(String, String)>,
) -> ApiResult {
    let org = state.org();
    let i = push_read_app(&state, &org, &app_id)?;
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
    // Okta answers 200 with an empty body, `Content-Length: 0` and no Content-Type (every
    // recorded delete), not the 204 its spec names.
    Ok((StatusCode::OK, [(header::CONTENT_LENGTH, "0")]).into_response())
}
