//! The API's approval writes: `POST /v1/actions/{id}/approve` and `POST /v1/actions/{id}/reject`
//! with `{"by": "...", "reason": "..."}` (reason optional), authorized like every write (a
//! bearer token unless the listener is loopback-only) and journaled with who
//! (`crate::approvals::decide`). The answer is `{"entry": ...}`, the journal entry written.

use std::sync::Arc;

use axum::extract::{Path as UrlPath, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::Utc;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::api::{blocking, internal, problem, Api, OrgQuery};
use crate::approvals::{decide, ApprovalError, DecisionRequest};
use crate::journal::Verdict;
use crate::vocab::ActionId;

/// The body of `POST /v1/actions/{id}/approve|reject`.
#[derive(Debug, Serialize, Deserialize)]
pub struct DecisionBody {
    pub by: String,
    #[serde(default)]
    pub reason: String,
}

pub(super) async fn approve(
    state: State<Arc<Api>>,
    id: UrlPath<String>,
    query: Query<OrgQuery>,
    headers: HeaderMap,
    body: Json<DecisionBody>,
) -> Response {
    decision(Verdict::Granted, state, id, query, headers, body).await
}

pub(super) async fn reject(
    state: State<Arc<Api>>,
    id: UrlPath<String>,
    query: Query<OrgQuery>,
    headers: HeaderMap,
    body: Json<DecisionBody>,
) -> Response {
    decision(Verdict::Rejected, state, id, query, headers, body).await
}

async fn decision(
    verdict: Verdict,
    State(api): State<Arc<Api>>,
    UrlPath(id): UrlPath<String>,
    Query(query): Query<OrgQuery>,
    headers: HeaderMap,
    Json(body): Json<DecisionBody>,
) -> Response {
    let org = match api.write_org(&headers, query.org.as_deref()) {
        Ok(org) => org,
        Err(problem) => return problem.into_response(),
    };
    let request = DecisionRequest {
        id: ActionId::new(id),
        verdict,
        by: body.by,
        reason: body.reason,
    };
    let journal = org.journal.clone();
    let done = blocking(move || decide(journal.as_ref(), &request, Utc::now())).await;
    match done {
        Ok(Ok(entry)) => Json(json!({ "entry": entry })).into_response(),
        Ok(Err(error @ ApprovalError::NotAsked { .. })) => {
            problem(StatusCode::NOT_FOUND, error.to_string())
        }
        Ok(Err(error @ ApprovalError::Expired { .. })) => {
            problem(StatusCode::CONFLICT, error.to_string())
        }
        Ok(Err(error @ ApprovalError::Invalid { .. })) => {
            problem(StatusCode::BAD_REQUEST, error.to_string())
        }
        Ok(Err(error)) => internal(error),
        Err(response) => response,
    }
}
