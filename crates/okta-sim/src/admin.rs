//! Non-public admin endpoints. Okta publishes NO API for Force Sync or for retrying failed
//! provisioning tasks (the Admin Console does both); okta-sim models them here, under
//! `/api/v1/internal/`, so the remediator's optional "console" actions can be exercised.
//! Nothing here is part of Okta's documented API.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::post;
use axum::{Extension, Json, Router};
use serde::Deserialize;
use serde_json::json;

use super::errors::{parse_body, validation, ApiError, ApiResult, Resource};
use super::model::Actor;
use super::state::Shared;

/// Most user ids one retry request may name.
const MAX_RETRY_USERS: usize = 1000;

pub(crate) fn routes() -> Router<Shared> {
    Router::new()
        .route(
            "/api/v1/internal/directories/{app_id}/force-sync",
            post(force_sync),
        )
        .route(
            "/api/v1/internal/apps/{app_id}/tasks/retry",
            post(retry_tasks),
        )
}

/// Starts a Force Sync job: after the configured delay, mapped directory attributes are copied
/// to the Okta profiles. Answers 202 at once.
async fn force_sync(
    State(state): State<Shared>,
    Extension(actor): Extension<Actor>,
    Path(app_id): Path<String>,
) -> ApiResult {
    {
        let mut org = state.org();
        let i = org
            .app_pos(&app_id)
            .ok_or_else(|| ApiError::not_found(&app_id, Resource::App))?;
        if org.apps[i].directory.is_none() {
            return Err(validation(
                "Api validation failed: app",
                "The app is not a directory integration.",
            ));
        }
        org.app_event(
            i,
            "app.app_instance.provision_sync_job.started",
            "Force sync job started",
            &actor,
            None,
        );
    }
    let delay = state.force_sync_delay;
    let job_state = state.clone();
    tokio::spawn(async move {
        tokio::time::sleep(delay).await;
        let mut org = job_state.org();
        let Some(i) = org.app_pos(&app_id) else {
            return;
        };
        let changed = org.force_sync(i, &actor);
        tracing::info!(target: "okta_sim", app_id = %app_id, changed = changed.len(), "force sync completed");
        org.app_event(
            i,
            "app.app_instance.provision_sync_job.completed",
            "Force sync job completed",
            &actor,
            None,
        );
    });
    Ok((StatusCode::ACCEPTED, Json(json!({ "status": "STARTED" }))).into_response())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RetryRequest {
    user_ids: Vec<String>,
}

/// Retries the named failed tasks, with the semantics of a re-push.
async fn retry_tasks(
    State(state): State<Shared>,
    Extension(actor): Extension<Actor>,
    Path(app_id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let request: RetryRequest = parse_body(&body)?;
    if request.user_ids.len() > MAX_RETRY_USERS {
        return Err(validation(
            "Api validation failed: userIds",
            "userIds: at most 1000 ids",
        ));
    }
    let mut org = state.org();
    let i = org
        .app_pos(&app_id)
        .ok_or_else(|| ApiError::not_found(&app_id, Resource::App))?;
    let mut results = serde_json::Map::new();
    for user_id in &request.user_ids {
        let Some(au) = org.apps[i].app_user(user_id) else {
            results.insert(user_id.clone(), json!("NOT_FOUND"));
            continue;
        };
        if au.sync_state != "ERROR" {
            results.insert(user_id.clone(), json!("NO_TASK"));
            continue;
        }
        let ok = org.attempt_push(i, user_id, &actor);
        results.insert(
            user_id.clone(),
            json!(if ok { "SUCCEEDED" } else { "FAILED" }),
        );
    }
    Ok((StatusCode::ACCEPTED, Json(json!({ "results": results }))).into_response())
}
