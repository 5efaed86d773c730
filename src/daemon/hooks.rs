//! Okta Event Hooks, an optional push source beside System Log polling, on the daemon's
//! listener: `GET /hooks/okta` answers Okta's one-time verification (the
//! `x-okta-verification-challenge` header, answered `{"verification": "<challenge>"}`), and
//! `POST /hooks/okta` takes the events of a `com.okta.event_hook` delivery (`data.events`). Both
//! need the authorization header Okta was told to send, equal to the secret from
//! [`HOOK_SECRET_VAR`] or the file [`HOOK_SECRET_FILE_VAR`] names (compared in constant time);
//! without a secret the routes do not exist (404). Bodies are bounded
//! ([`MAX_HOOK_BODY_BYTES`], 413 past it). Each event is taken once, by `uuid`, whether the hook
//! or the poll brings it first (the org's [`SnapshotCache`]); one that calls for a pass wakes
//! the org's loop. With several orgs, each has its own path, `/hooks/okta/{org}`.

use std::path::PathBuf;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path as UrlPath, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;
use subtle::ConstantTimeEq;

use super::cache::SnapshotCache;
use super::syslog::is_trigger;
use crate::config::Env;
use crate::okta::LogEvent;

/// The variable holding the Event Hook's authorization secret.
pub const HOOK_SECRET_VAR: &str = "REMEDIATOR_HOOK_SECRET";
/// The variable naming a file that holds the Event Hook's authorization secret.
pub const HOOK_SECRET_FILE_VAR: &str = "REMEDIATOR_HOOK_SECRET_FILE";
/// The largest delivery taken: Okta sends at most 50 events a request (a few KiB each).
pub const MAX_HOOK_BODY_BYTES: usize = 1024 * 1024;
/// The header carrying Okta's one-time verification challenge.
pub const VERIFICATION_HEADER: &str = "x-okta-verification-challenge";
/// The largest secret file read.
const MAX_SECRET_FILE_BYTES: u64 = 4096;
/// The largest challenge echoed back.
const MAX_CHALLENGE_BYTES: usize = 1024;

/// The Event Hook secret could not be read.
#[derive(Debug, thiserror::Error)]
pub enum HookSecretError {
    #[error("reading the Event Hook secret file {path} ({HOOK_SECRET_FILE_VAR})")]
    File {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the Event Hook secret file {path} ({HOOK_SECRET_FILE_VAR}) is empty or larger than {MAX_SECRET_FILE_BYTES} bytes")]
    Invalid { path: PathBuf },
}

/// The Event Hook secret from [`HOOK_SECRET_VAR`] or the file [`HOOK_SECRET_FILE_VAR`] names;
/// `None` (hooks off) when neither is set.
pub fn hook_secret(env: &dyn Env) -> Result<Option<String>, HookSecretError> {
    if let Some(secret) = env.var(HOOK_SECRET_VAR).filter(|t| !t.trim().is_empty()) {
        return Ok(Some(secret.trim().to_owned()));
    }
    let Some(path) = env.var(HOOK_SECRET_FILE_VAR).map(PathBuf::from) else {
        return Ok(None);
    };
    let file = |source| HookSecretError::File {
        path: path.clone(),
        source,
    };
    let size = std::fs::metadata(&path).map_err(file)?.len();
    if size > MAX_SECRET_FILE_BYTES {
        return Err(HookSecretError::Invalid { path });
    }
    let text = std::fs::read_to_string(&path).map_err(file)?;
    let secret = text.trim();
    if secret.is_empty() {
        return Err(HookSecretError::Invalid { path });
    }
    Ok(Some(secret.to_owned()))
}

/// The orgs whose events the hook takes, and the secret it checks.
pub struct Hooks {
    secret: Option<String>,
    orgs: Vec<(String, Arc<SnapshotCache>)>,
}

impl Hooks {
    pub fn new(secret: Option<String>, orgs: Vec<(String, Arc<SnapshotCache>)>) -> Self {
        Hooks { secret, orgs }
    }

    pub fn enabled(&self) -> bool {
        self.secret.is_some()
    }

    /// The org a request is for: the named one, or the only one.
    fn org(&self, name: Option<&str>) -> Option<&(String, Arc<SnapshotCache>)> {
        match name {
            Some(name) => self.orgs.iter().find(|(n, _)| n == name),
            None if self.orgs.len() == 1 => self.orgs.first(),
            None => None,
        }
    }

    /// Whether the request carries the secret as its `Authorization` header.
    fn authorized(&self, headers: &HeaderMap) -> bool {
        let Some(secret) = &self.secret else {
            return false;
        };
        let given = headers
            .get(axum::http::header::AUTHORIZATION)
            .map_or(&[][..], |v| v.as_bytes());
        bool::from(given.ct_eq(secret.as_bytes()))
    }
}

/// The hook's routes over `hooks`.
pub(crate) fn routes(hooks: Arc<Hooks>) -> Router {
    Router::new()
        .route("/hooks/okta", get(verify_only).post(deliver_only))
        .route("/hooks/okta/{org}", get(verify_org).post(deliver_org))
        .layer(DefaultBodyLimit::max(MAX_HOOK_BODY_BYTES))
        .with_state(hooks)
}

async fn verify_only(State(hooks): State<Arc<Hooks>>, headers: HeaderMap) -> Response {
    verify(&hooks, None, &headers)
}

async fn verify_org(
    State(hooks): State<Arc<Hooks>>,
    UrlPath(org): UrlPath<String>,
    headers: HeaderMap,
) -> Response {
    verify(&hooks, Some(&org), &headers)
}

async fn deliver_only(
    State(hooks): State<Arc<Hooks>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    deliver(&hooks, None, &headers, &body)
}

async fn deliver_org(
    State(hooks): State<Arc<Hooks>>,
    UrlPath(org): UrlPath<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    deliver(&hooks, Some(&org), &headers, &body)
}

fn error(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "error": message }))).into_response()
}

/// A refused request: its status and why.
type Refusal = (StatusCode, &'static str);

/// The checks both methods make: hooks on, the org known, the secret given.
fn admit<'a>(
    hooks: &'a Hooks,
    org: Option<&str>,
    headers: &HeaderMap,
) -> Result<&'a (String, Arc<SnapshotCache>), Refusal> {
    if !hooks.enabled() {
        return Err((StatusCode::NOT_FOUND, "Event Hooks are not enabled"));
    }
    let Some(found) = hooks.org(org) else {
        return Err((
            StatusCode::NOT_FOUND,
            "no such org: with several orgs, use /hooks/okta/{org}",
        ));
    };
    if !hooks.authorized(headers) {
        tracing::warn!(org = %found.0, "Event Hook request refused: the authorization header is missing or wrong");
        return Err((
            StatusCode::UNAUTHORIZED,
            "the authorization header is missing or wrong",
        ));
    }
    Ok(found)
}

/// Okta's one-time verification: the challenge echoed back.
fn verify(hooks: &Hooks, org: Option<&str>, headers: &HeaderMap) -> Response {
    let (name, _) = match admit(hooks, org, headers) {
        Ok(found) => found,
        Err((status, why)) => return error(status, why),
    };
    let challenge = headers
        .get(VERIFICATION_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|c| !c.is_empty() && c.len() <= MAX_CHALLENGE_BYTES);
    let Some(challenge) = challenge else {
        return error(
            StatusCode::BAD_REQUEST,
            "no x-okta-verification-challenge header",
        );
    };
    tracing::info!(org = %name, "Event Hook verified by Okta");
    Json(json!({ "verification": challenge })).into_response()
}

/// A delivery: each new event taken, a pass asked for when one calls for it.
fn deliver(hooks: &Hooks, org: Option<&str>, headers: &HeaderMap, body: &[u8]) -> Response {
    let (name, cache) = match admit(hooks, org, headers) {
        Ok(found) => found,
        Err((status, why)) => return error(status, why),
    };
    let delivery: serde_json::Value = match serde_json::from_slice(body) {
        Ok(value) => value,
        Err(e) => {
            tracing::warn!(org = %name, error = %e, "Event Hook delivery is not JSON");
            return error(StatusCode::BAD_REQUEST, "the body is not JSON");
        }
    };
    let events = delivery
        .pointer("/data/events")
        .and_then(|e| e.as_array())
        .cloned()
        .unwrap_or_default();
    let (mut taken, mut triggers, mut unreadable) = (0, 0, 0);
    for value in events {
        let Ok(event) = serde_json::from_value::<LogEvent>(value) else {
            unreadable += 1;
            continue;
        };
        let Some(info) = cache.take_event(&event) else {
            continue;
        };
        taken += 1;
        if is_trigger(&event, None) {
            triggers += 1;
            cache.queue_event_targets(&info);
            cache.hook_trigger(&event.event_type, &event.uuid);
        }
    }
    tracing::info!(org = %name, taken, triggers, unreadable, "Event Hook delivery");
    StatusCode::OK.into_response()
}
