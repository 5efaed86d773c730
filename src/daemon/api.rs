//! The daemon's API on its listener, for a person and for the command line while the daemon
//! holds the journals: `GET /v1/status`, `GET /v1/findings`, `GET /v1/journal` (the filters of
//! `journal list`), `GET /v1/journal/export`, `GET /v1/journal/{id}`, and the writes,
//! `POST /v1/findings/{id}/ack` and `POST /v1/actions/{id}/approve|reject` (api_approvals.rs);
//! the status page at `/` (`status_page`). A write needs `Authorization: Bearer TOKEN` (compared in
//! constant time) with the token from `REMEDIATOR_API_TOKEN` or the file
//! `REMEDIATOR_API_TOKEN_FILE` names; without a token it is accepted only on a loopback-only
//! listener. Every write is journaled. [`DaemonFile`] (`STATE/daemon.json`) tells the command
//! line where a running daemon listens.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::extract::{Path as UrlPath, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use subtle::ConstantTimeEq;
use tokio::sync::watch;

use crate::config::Env;
use crate::findings::{ack, AckError, AckRequest};
use crate::journal::{
    EntryFilter, EntryId, EntryKindTag, JournalStore, Outcome, SledJournal, TargetRef,
};
use crate::policy::Policy;
use crate::status::{org_status, OrgStatus};
use crate::vocab::{FindingId, Named};

/// The variable holding the API token.
pub const API_TOKEN_VAR: &str = "REMEDIATOR_API_TOKEN";
/// The variable naming a file that holds the API token.
pub const API_TOKEN_FILE_VAR: &str = "REMEDIATOR_API_TOKEN_FILE";
/// The file in an org's state directory naming the daemon that holds its journal.
pub const DAEMON_FILE: &str = "daemon.json";
/// At most this many entries per `GET /v1/journal` answer.
pub const MAX_API_ENTRIES: usize = 10_000;
/// The largest token file read.
const MAX_TOKEN_FILE_BYTES: u64 = 4096;

/// One org the API serves.
pub struct ApiOrg {
    pub name: String,
    pub journal: Arc<SledJournal>,
    pub policy: watch::Receiver<Arc<Policy>>,
}

/// What the API serves, and who may write.
pub struct Api {
    orgs: Vec<ApiOrg>,
    token: Option<String>,
    loopback_only: bool,
}

/// The API token could not be read.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("reading the API token file {path} ({API_TOKEN_FILE_VAR})")]
    File {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the API token file {path} ({API_TOKEN_FILE_VAR}) is empty or larger than {MAX_TOKEN_FILE_BYTES} bytes")]
    Invalid { path: PathBuf },
}

/// The API token from [`API_TOKEN_VAR`] or the file [`API_TOKEN_FILE_VAR`] names; `None` when
/// neither is set.
pub fn api_token(env: &dyn Env) -> Result<Option<String>, TokenError> {
    if let Some(token) = env.var(API_TOKEN_VAR).filter(|t| !t.trim().is_empty()) {
        return Ok(Some(token.trim().to_owned()));
    }
    let Some(path) = env.var(API_TOKEN_FILE_VAR).map(PathBuf::from) else {
        return Ok(None);
    };
    let size = std::fs::metadata(&path)
        .map_err(|source| TokenError::File {
            path: path.clone(),
            source,
        })?
        .len();
    if size > MAX_TOKEN_FILE_BYTES {
        return Err(TokenError::Invalid { path });
    }
    let text = std::fs::read_to_string(&path).map_err(|source| TokenError::File {
        path: path.clone(),
        source,
    })?;
    let token = text.trim();
    if token.is_empty() {
        return Err(TokenError::Invalid { path });
    }
    Ok(Some(token.to_owned()))
}

impl Api {
    pub fn new(orgs: Vec<ApiOrg>, token: Option<String>, listen: SocketAddr) -> Api {
        Api {
            orgs,
            token,
            loopback_only: listen.ip().is_loopback(),
        }
    }

    pub(super) fn org(&self, name: Option<&str>) -> Result<&ApiOrg, Problem> {
        match name {
            Some(name) => self.orgs.iter().find(|o| o.name == name).ok_or_else(|| {
                Problem(
                    StatusCode::NOT_FOUND,
                    format!("no org {name:?} is served here"),
                )
            }),
            None if self.orgs.len() == 1 => Ok(&self.orgs[0]),
            None => Err(Problem(
                StatusCode::BAD_REQUEST,
                "several orgs are served: name one with ?org=NAME".to_owned(),
            )),
        }
    }

    /// The org a write with these headers goes to, once it is authorized (every write asks
    /// this first).
    pub(super) fn write_org(
        &self,
        headers: &HeaderMap,
        name: Option<&str>,
    ) -> Result<&ApiOrg, Problem> {
        self.authorize(headers)?;
        self.org(name)
    }

    /// Whether a write with these headers may go ahead.
    fn authorize(&self, headers: &HeaderMap) -> Result<(), Problem> {
        let Some(token) = &self.token else {
            if self.loopback_only {
                return Ok(());
            }
            return Err(Problem(
                StatusCode::FORBIDDEN,
                format!("writes need a token on a listener that is not loopback-only: set {API_TOKEN_VAR} or {API_TOKEN_FILE_VAR}"),
            ));
        };
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default();
        if bool::from(given.as_bytes().ct_eq(token.as_bytes())) {
            Ok(())
        } else {
            Err(Problem(
                StatusCode::UNAUTHORIZED,
                "a valid `Authorization: Bearer TOKEN` is needed".to_owned(),
            ))
        }
    }
}

/// The API's routes.
pub(crate) fn routes(api: Arc<Api>) -> Router {
    Router::new()
        .route("/", get(super::status_page::page))
        .route("/v1/status", get(status))
        .route("/v1/findings", get(findings))
        .route("/v1/findings/{id}/ack", post(ack_finding))
        .route(
            "/v1/actions/{id}/approve",
            post(super::api_approvals::approve),
        )
        .route(
            "/v1/actions/{id}/reject",
            post(super::api_approvals::reject),
        )
        .route("/v1/journal", get(journal_list))
        .route("/v1/journal/export", get(journal_export))
        .route("/v1/journal/{id}", get(journal_show))
        .with_state(api)
}

/// An error answer: a status and `{"error": ...}`.
pub(super) struct Problem(pub(super) StatusCode, pub(super) String);

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        problem(self.0, self.1)
    }
}

pub(super) fn problem(status: StatusCode, error: String) -> Response {
    (status, Json(json!({ "error": error }))).into_response()
}

pub(super) fn internal(error: impl std::error::Error) -> Response {
    problem(
        StatusCode::INTERNAL_SERVER_ERROR,
        crate::error_chain::error_chain(&error),
    )
}

/// Runs a blocking journal read off the async threads.
pub(super) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, Response> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| problem(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))
}

pub(super) async fn statuses(api: &Api) -> Result<Vec<OrgStatus>, Response> {
    let mut orgs = Vec::new();
    for org in &api.orgs {
        let name = org.name.clone();
        let journal = org.journal.clone();
        let policy = org.policy.borrow().clone();
        let status =
            blocking(move || org_status(&name, journal.as_ref(), Some(&policy), Utc::now()))
                .await?
                .map_err(internal)?;
        orgs.push(status);
    }
    Ok(orgs)
}

async fn status(State(api): State<Arc<Api>>) -> Response {
    match statuses(&api).await {
        Ok(orgs) => Json(json!({ "orgs": orgs })).into_response(),
        Err(response) => response,
    }
}

async fn findings(State(api): State<Arc<Api>>) -> Response {
    match statuses(&api).await {
        Ok(orgs) => {
            let orgs: Vec<_> = orgs
                .into_iter()
                .map(|s| json!({ "org": s.org, "open_findings": s.open_findings }))
                .collect();
            Json(json!({ "orgs": orgs })).into_response()
        }
        Err(response) => response,
    }
}

/// `journal list`'s filters, as query parameters.
#[derive(Debug, Default, Deserialize)]
struct JournalQuery {
    org: Option<String>,
    since: Option<DateTime<Utc>>,
    kind: Option<String>,
    target: Option<String>,
    outcome: Option<String>,
    limit: Option<usize>,
}

impl JournalQuery {
    fn filter(&self) -> Result<EntryFilter, String> {
        let kind = self
            .kind
            .as_deref()
            .map(|k| EntryKindTag::from_name(&k.replace('-', "_")).map_err(|e| e.to_string()))
            .transpose()?;
        let outcome = self
            .outcome
            .as_deref()
            .map(|o| Outcome::from_name(o).map_err(|e| e.to_string()))
            .transpose()?;
        let target = self.target.as_deref().map(target_ref).transpose()?;
        Ok(EntryFilter {
            since: self.since,
            kind,
            target,
            outcome,
            limit: Some(self.limit.unwrap_or(MAX_API_ENTRIES).min(MAX_API_ENTRIES)),
            ..EntryFilter::default()
        })
    }
}

/// `app:ID`, `user:ID` or `directory:ID`.
pub fn target_ref(text: &str) -> Result<TargetRef, String> {
    match text.split_once(':') {
        Some(("app", id)) => Ok(TargetRef::App(id.into())),
        Some(("user", id)) => Ok(TargetRef::User(id.into())),
        Some(("directory", id)) => Ok(TargetRef::Directory(id.into())),
        _ => Err(format!(
            "target: expected app:ID, user:ID or directory:ID, found {text:?}"
        )),
    }
}

async fn journal_list(State(api): State<Arc<Api>>, Query(query): Query<JournalQuery>) -> Response {
    let org = match api.org(query.org.as_deref()) {
        Ok(org) => org,
        Err(problem) => return problem.into_response(),
    };
    let filter = match query.filter() {
        Ok(filter) => filter,
        Err(why) => return problem(StatusCode::BAD_REQUEST, why),
    };
    let journal = org.journal.clone();
    match blocking(move || journal.list(&filter)).await {
        Ok(Ok(entries)) => Json(entries).into_response(),
        Ok(Err(error)) => internal(error),
        Err(response) => response,
    }
}

async fn journal_export(
    State(api): State<Arc<Api>>,
    Query(query): Query<JournalQuery>,
) -> Response {
    let org = match api.org(query.org.as_deref()) {
        Ok(org) => org,
        Err(problem) => return problem.into_response(),
    };
    let journal = org.journal.clone();
    let exported = blocking(move || {
        let mut out = Vec::new();
        journal.export(&mut out).map(|_| out)
    })
    .await;
    match exported {
        Ok(Ok(lines)) => ([(header::CONTENT_TYPE, "application/x-ndjson")], lines).into_response(),
        Ok(Err(error)) => internal(error),
        Err(response) => response,
    }
}

async fn journal_show(
    State(api): State<Arc<Api>>,
    UrlPath(id): UrlPath<String>,
    Query(query): Query<JournalQuery>,
) -> Response {
    let org = match api.org(query.org.as_deref()) {
        Ok(org) => org,
        Err(problem) => return problem.into_response(),
    };
    let Ok(id) = id.parse::<EntryId>() else {
        return problem(
            StatusCode::BAD_REQUEST,
            format!("{id:?} is not an entry id"),
        );
    };
    let journal = org.journal.clone();
    match blocking(move || journal.get(id)).await {
        Ok(Ok(Some(entry))) => Json(entry).into_response(),
        Ok(Ok(None)) => problem(StatusCode::NOT_FOUND, format!("no journal entry {id}")),
        Ok(Err(error)) => internal(error),
        Err(response) => response,
    }
}

/// The body of `POST /v1/findings/{id}/ack`.
#[derive(Debug, Serialize, Deserialize)]
pub struct AckBody {
    pub by: String,
    pub reason: String,
    /// How long, as `7d`, `12h`.
    #[serde(rename = "for")]
    pub duration: String,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct OrgQuery {
    pub(super) org: Option<String>,
}

async fn ack_finding(
    State(api): State<Arc<Api>>,
    UrlPath(id): UrlPath<String>,
    Query(query): Query<OrgQuery>,
    headers: HeaderMap,
    Json(body): Json<AckBody>,
) -> Response {
    let org = match api.write_org(&headers, query.org.as_deref()) {
        Ok(org) => org,
        Err(problem) => return problem.into_response(),
    };
    let duration = match humantime::parse_duration(&body.duration)
        .ok()
        .and_then(|d| chrono::Duration::from_std(d).ok())
    {
        Some(duration) => duration,
        None => {
            return problem(
                StatusCode::BAD_REQUEST,
                format!("for: {:?} is not a duration (7d, 12h)", body.duration),
            )
        }
    };
    let request = AckRequest {
        id: FindingId::new(id),
        by: body.by,
        reason: body.reason,
        duration,
    };
    let journal = org.journal.clone();
    let done = blocking(move || ack(journal.as_ref(), &request, Utc::now())).await;
    match done {
        Ok(Ok(entry)) => Json(json!({ "entry": entry })).into_response(),
        Ok(Err(error @ AckError::NotOpen { .. })) => {
            problem(StatusCode::NOT_FOUND, error.to_string())
        }
        Ok(Err(error @ AckError::Invalid { .. })) => {
            problem(StatusCode::BAD_REQUEST, error.to_string())
        }
        Ok(Err(error)) => internal(error),
        Err(response) => response,
    }
}

/// `STATE/daemon.json`: the daemon holding this state directory's journal, and where it listens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DaemonFile {
    pub pid: u32,
    pub listen: SocketAddr,
    pub org: String,
}

impl DaemonFile {
    pub fn path(state: &Path) -> PathBuf {
        state.join(DAEMON_FILE)
    }

    /// Writes the file into `state` (replacing one a daemon that died left).
    pub fn write(&self, state: &Path) -> std::io::Result<()> {
        let text = serde_json::to_vec_pretty(self).map_err(std::io::Error::other)?;
        let temporary = state.join(format!("{DAEMON_FILE}.tmp"));
        std::fs::write(&temporary, text)?;
        std::fs::rename(temporary, Self::path(state))
    }

    /// The file in `state`, if one is there and reads.
    pub fn read(state: &Path) -> Option<DaemonFile> {
        let text = std::fs::read(Self::path(state)).ok()?;
        serde_json::from_slice(&text).ok()
    }

    /// Removes the file from `state` if it is this daemon's.
    pub fn remove(&self, state: &Path) {
        if Self::read(state).as_ref() == Some(self) {
            if let Err(error) = std::fs::remove_file(Self::path(state)) {
                tracing::warn!(state = %state.display(), error = %error, "could not remove {DAEMON_FILE}");
            }
        }
    }
}
