//! Starting and stopping okta-sim: the shared state, the router, authentication and the
//! helpers every handler uses (Okta errors, query parsing, paging with `Link` headers).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use base64::Engine as _;
use chrono::{DateTime, Utc};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use super::infra::{self, okta_error, Infra};
use super::model::{Actor, Org};
use super::scenario::Scenario;

/// Default delay of a Force Sync job.
pub(crate) const DEFAULT_FORCE_SYNC_DELAY_MS: u64 = 300;
/// Lifetime of an OAuth access token, seconds.
pub(crate) const ACCESS_TOKEN_TTL_SECS: i64 = 3600;

/// An issued OAuth access token.
#[derive(Clone)]
pub(crate) struct IssuedToken {
    pub client_id: String,
    pub scopes: Vec<String>,
    pub expires: DateTime<Utc>,
}

/// Everything the handlers share.
pub(crate) struct SimState {
    pub org: Mutex<Org>,
    pub base_url: String,
    pub scenario_org: super::scenario::OrgSettings,
    pub access_tokens: Mutex<HashMap<String, IssuedToken>>,
    pub force_sync_delay: std::time::Duration,
}

impl SimState {
    /// Locks the org; every mutation completes under the lock, so poison is harmless.
    pub fn org(&self) -> MutexGuard<'_, Org> {
        self.org
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

pub(crate) type Shared = Arc<SimState>;

/// A running simulator.
pub struct Sim;

/// Why the simulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot listen on {addr}")]
    Bind {
        addr: String,
        #[source]
        source: std::io::Error,
    },
}

impl Sim {
    /// Binds `listen_addr` (e.g. "127.0.0.1:0") and serves `scenario` until the handle is
    /// shut down or dropped.
    pub async fn start(mut scenario: Scenario, listen_addr: &str) -> Result<SimHandle, StartError> {
        let listener = TcpListener::bind(listen_addr)
            .await
            .map_err(|source| StartError::Bind {
                addr: listen_addr.to_owned(),
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| StartError::Bind {
            addr: listen_addr.to_owned(),
            source,
        })?;
        let base_url = base_url_for(addr);
        let infra = Infra::new(scenario.infra_config());
        let settings = std::mem::take(&mut scenario.org);
        let state: Shared = Arc::new(SimState {
            force_sync_delay: std::time::Duration::from_millis(
                settings
                    .force_sync_delay_ms
                    .unwrap_or(DEFAULT_FORCE_SYNC_DELAY_MS),
            ),
            scenario_org: settings,
            org: Mutex::new(Org::from_scenario(scenario, Utc::now())),
            base_url: base_url.clone(),
            access_tokens: Mutex::new(HashMap::new()),
        });
        let app = router(state.clone(), &infra);
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(infra::serve(listener, app, shutdown.clone()));
        Ok(SimHandle {
            addr,
            base_url,
            shutdown,
            task: Some(task),
            state,
        })
    }
}

/// The base URL clients use: an unspecified bind address (0.0.0.0, ::) is named as loopback.
fn base_url_for(addr: SocketAddr) -> String {
    let ip = match addr.ip() {
        ip if !ip.is_unspecified() => ip,
        std::net::IpAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
        std::net::IpAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
    };
    format!("http://{}", SocketAddr::new(ip, addr.port()))
}

fn router(state: Shared, infra: &Arc<Infra>) -> Router {
    let protected = super::api::routes()
        .merge(super::admin::routes())
        .layer(middleware::from_fn_with_state(state.clone(), authenticate));
    let api = protected
        .merge(super::oauth::routes())
        .fallback(|| async { ApiError::NotFound("path".into()) })
        .method_not_allowed_fallback(|| async { ApiError::Method })
        .with_state(state.clone());
    infra
        .wrap(api)
        .merge(infra.control_routes())
        .merge(super::control::routes(state))
}

/// A handle on a running simulator; dropping it stops the server.
pub struct SimHandle {
    addr: SocketAddr,
    base_url: String,
    shutdown: CancellationToken,
    task: Option<tokio::task::JoinHandle<()>>,
    state: Shared,
}

impl SimHandle {
    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops the server and waits for it.
    pub async fn shutdown(mut self) {
        self.shutdown.cancel();
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }

    /// The current state as the `/__sim/state` JSON dump.
    pub fn state_json(&self) -> serde_json::Value {
        super::control::dump(&self.state.org())
    }

    /// The syncState of one app user, if assigned.
    pub fn app_user_sync_state(&self, app_id: &str, user_id: &str) -> Option<String> {
        let org = self.state.org();
        Some(org.app(app_id)?.app_user(user_id)?.sync_state.clone())
    }

    /// Opens or closes port 464 for a directory app.
    pub fn set_kpasswd_open(&self, app_id: &str, open: bool) -> bool {
        let mut org = self.state.org();
        let Some(i) = org.app_pos(app_id) else {
            return false;
        };
        let Some(dir) = org.apps[i].directory.as_mut() else {
            return false;
        };
        dir.kpasswd_open = open;
        true
    }

    /// Number of System Log events.
    pub fn event_count(&self) -> usize {
        self.state.org().events.len()
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/// An API error answered as an Okta error object.
#[derive(Debug)]
pub(crate) enum ApiError {
    NotFound(String),
    Validation {
        summary: String,
        causes: Vec<String>,
    },
    BadJson,
    InvalidToken,
    Forbidden,
    InvalidSearch(String),
    Method,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::NotFound(what) => okta_error(
                StatusCode::NOT_FOUND,
                "E0000007",
                &format!("Not found: Resource not found: {what}"),
                &[],
            ),
            ApiError::Validation { summary, causes } => {
                let causes: Vec<&str> = causes.iter().map(String::as_str).collect();
                okta_error(StatusCode::BAD_REQUEST, "E0000001", &summary, &causes)
            }
            ApiError::BadJson => okta_error(
                StatusCode::BAD_REQUEST,
                "E0000003",
                "The request body was not well-formed.",
                &[],
            ),
            ApiError::InvalidToken => okta_error(
                StatusCode::UNAUTHORIZED,
                "E0000011",
                "Invalid token provided",
                &[],
            ),
            ApiError::Forbidden => okta_error(
                StatusCode::FORBIDDEN,
                "E0000006",
                "You do not have permission to perform the requested action",
                &[],
            ),
            ApiError::InvalidSearch(cause) => okta_error(
                StatusCode::BAD_REQUEST,
                "E0000053",
                "Invalid SCIM filter.",
                &[&cause],
            ),
            ApiError::Method => okta_error(
                StatusCode::METHOD_NOT_ALLOWED,
                "E0000022",
                "The endpoint does not support the provided HTTP method",
                &[],
            ),
        }
    }
}

pub(crate) fn validation(summary: &str, cause: &str) -> ApiError {
    ApiError::Validation {
        summary: summary.to_owned(),
        causes: vec![cause.to_owned()],
    }
}

/// The error Okta answers when an app's provisioning connection is disabled.
pub(crate) fn provisioning_not_enabled(field: &str) -> ApiError {
    validation(
        &format!("Api validation failed: {field}"),
        "Provisioning is not enabled for the app instance.",
    )
}

pub(crate) type ApiResult = Result<Response, ApiError>;

/// Parses a JSON request body; malformed JSON is Okta's E0000003.
pub(crate) fn parse_body<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(bytes).map_err(|_| ApiError::BadJson)
}

// ---------------------------------------------------------------------------------------------
// Query strings and paging
// ---------------------------------------------------------------------------------------------

/// Decoded query parameters (first value wins).
#[derive(Debug, Default)]
pub(crate) struct Params(pub HashMap<String, String>);

impl Params {
    pub fn parse(raw: Option<&str>) -> Self {
        let mut map = HashMap::new();
        for (k, v) in url::form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
            map.entry(k.into_owned()).or_insert_with(|| v.into_owned());
        }
        Params(map)
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    /// `limit`, defaulted and clamped to `max`; non-numbers are a validation error.
    pub fn limit(&self, default: usize, max: usize) -> Result<usize, ApiError> {
        let Some(raw) = self.get("limit") else {
            return Ok(default);
        };
        let n: usize = raw.parse().map_err(|_| {
            validation(
                "Api validation failed: limit",
                "limit: must be a positive integer",
            )
        })?;
        Ok(n.clamp(1, max))
    }
}

/// Encodes an opaque cursor.
pub(crate) fn encode_cursor(raw: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
}

/// Decodes an opaque cursor; anything we did not issue is a 400.
pub(crate) fn decode_cursor(cursor: &str) -> Result<String, ApiError> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .map_err(|_| invalid_cursor())?;
    String::from_utf8(bytes).map_err(|_| invalid_cursor())
}

fn invalid_cursor() -> ApiError {
    validation("Api validation failed: after", "after: invalid cursor")
}

/// An offset cursor (`o:N`).
pub(crate) fn offset_from(params: &Params) -> Result<usize, ApiError> {
    let Some(after) = params.get("after") else {
        return Ok(0);
    };
    let raw = decode_cursor(after)?;
    raw.strip_prefix("o:")
        .and_then(|n| n.parse().ok())
        .ok_or_else(invalid_cursor)
}

/// Builds the `Link` header: `self` and, when given, `next` with `after=cursor`.
pub(crate) fn link_header(
    base: &str,
    path: &str,
    params: &Params,
    limit: usize,
    next: Option<&str>,
) -> String {
    let mut keep: Vec<(&String, &String)> = params
        .0
        .iter()
        .filter(|(k, _)| k.as_str() != "after" && k.as_str() != "limit")
        .collect();
    keep.sort();
    let query_with = |after: Option<&str>| {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        q.append_pair("limit", &limit.to_string());
        for (k, v) in &keep {
            q.append_pair(k, v);
        }
        if let Some(a) = after {
            q.append_pair("after", a);
        }
        q.finish()
    };
    let mut out = format!(
        "<{base}{path}?{}>; rel=\"self\"",
        query_with(params.get("after"))
    );
    if let Some(cursor) = next {
        out.push_str(&format!(
            ", <{base}{path}?{}>; rel=\"next\"",
            query_with(Some(cursor))
        ));
    }
    out
}

/// A JSON list response with its `Link` header.
pub(crate) fn list_response(items: Vec<serde_json::Value>, link: String) -> Response {
    let mut response = axum::Json(serde_json::Value::Array(items)).into_response();
    if let Ok(v) = HeaderValue::from_str(&link) {
        response.headers_mut().insert(header::LINK, v);
    }
    response
}

/// Pages `items` by offset and answers with `Link` headers.
pub(crate) fn paged<T>(
    state: &SimState,
    path: &str,
    params: &Params,
    items: &[T],
    default_limit: usize,
    max_limit: usize,
    render: impl Fn(&T) -> serde_json::Value,
) -> ApiResult {
    let limit = params.limit(default_limit, max_limit)?;
    let offset = offset_from(params)?;
    let start = offset.min(items.len());
    let end = (start + limit).min(items.len());
    let page: Vec<serde_json::Value> = items[start..end].iter().map(render).collect();
    let next = (end < items.len()).then(|| encode_cursor(&format!("o:{end}")));
    let link = link_header(&state.base_url, path, params, limit, next.as_deref());
    Ok(list_response(page, link))
}

// ---------------------------------------------------------------------------------------------
// Authentication and scopes
// ---------------------------------------------------------------------------------------------

/// The OAuth scope an endpoint needs.
fn required_scope(method: &Method, path: &str) -> &'static str {
    let read = method == Method::GET;
    let pick = |r: &'static str, m: &'static str| if read { r } else { m };
    if path.starts_with("/api/v1/apps") || path.starts_with("/api/v1/internal") {
        pick("okta.apps.read", "okta.apps.manage")
    } else if path.starts_with("/api/v1/users") {
        pick("okta.users.read", "okta.users.manage")
    } else if path.starts_with("/api/v1/groups") {
        pick("okta.groups.read", "okta.groups.manage")
    } else if path.starts_with("/api/v1/logs") {
        "okta.logs.read"
    } else if path.starts_with("/api/v1/agentPools") {
        pick("okta.agentPools.read", "okta.agentPools.manage")
    } else {
        "okta.apps.manage"
    }
}

/// Every scope an endpoint needs: group push also needs the groups scope, as the spec says.
fn required_scopes(method: &Method, path: &str) -> Vec<&'static str> {
    let mut scopes = vec![required_scope(method, path)];
    if path.contains("/group-push/") {
        scopes.push(if method == Method::GET {
            "okta.groups.read"
        } else {
            "okta.groups.manage"
        });
    }
    scopes
}

/// Whether `granted` covers `needed` (a `.manage` scope covers its `.read`).
fn scope_covers(granted: &[String], needed: &str) -> bool {
    let manage = needed.strip_suffix(".read").map(|p| format!("{p}.manage"));
    granted
        .iter()
        .any(|g| g == needed || Some(g) == manage.as_ref())
}

/// A short, non-reversible id for an API token (for `requestApiTokenId`).
fn token_id(token: &str) -> String {
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(token.as_bytes());
    format!("00T{}", &hex::encode(digest)[..17])
}

fn actor_for(
    state: &SimState,
    headers: &HeaderMap,
    method: &Method,
    path: &str,
) -> Result<Actor, ApiError> {
    let value = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or(ApiError::InvalidToken)?;
    if let Some(token) = value.strip_prefix("SSWS ") {
        if !state
            .scenario_org
            .api_tokens
            .iter()
            .any(|t| t == token.trim())
        {
            return Err(ApiError::InvalidToken);
        }
        let id = token_id(token.trim());
        return Ok(Actor {
            id: "00usimadmin000000000".into(),
            kind: "User".into(),
            alternate_id: "admin@okta-sim.example".into(),
            display_name: "okta-sim API token".into(),
            api_token_id: Some(id),
            request_id: None,
        });
    }
    let Some(token) = value.strip_prefix("Bearer ") else {
        return Err(ApiError::InvalidToken);
    };
    let issued = state
        .access_tokens
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .get(token.trim())
        .cloned()
        .ok_or(ApiError::InvalidToken)?;
    if issued.expires <= Utc::now() {
        return Err(ApiError::InvalidToken);
    }
    if !required_scopes(method, path)
        .iter()
        .all(|needed| scope_covers(&issued.scopes, needed))
    {
        return Err(ApiError::Forbidden);
    }
    Ok(Actor {
        id: issued.client_id.clone(),
        kind: "PublicClientApp".into(),
        alternate_id: issued.client_id.clone(),
        display_name: issued.client_id,
        api_token_id: None,
        request_id: None,
    })
}

async fn authenticate(State(state): State<Shared>, mut request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    let method = request.method().clone();
    match actor_for(&state, request.headers(), &method, &path) {
        Ok(mut actor) => {
            actor.request_id = request
                .extensions()
                .get::<infra::RequestId>()
                .map(|r| r.0.clone());
            request.extensions_mut().insert(actor);
            next.run(request).await
        }
        Err(e) => e.into_response(),
    }
}
