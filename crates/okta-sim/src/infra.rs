//! The simulator's transport layer: per-bucket rate limits, fault injection, the request log and
//! per-endpoint request counters, and the `/__sim/` control endpoints that drive them.
//!
//! The API router knows nothing of these: [`Infra::wrap`] layers them around it.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// Rate-limit settings (scenario section `[rate_limits]`). Defaults are Okta's last published
/// Workforce defaults (requests per minute per bucket) and 75 requests in flight.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RateLimitConfig {
    /// Length of one rate-limit window, e.g. "60s".
    #[serde(with = "humantime_serde")]
    pub window: std::time::Duration,
    /// Requests per window for `/api/v1/apps` and everything under `/api/v1/apps/{id}/...`.
    pub apps: u32,
    /// `GET|PUT|DELETE /api/v1/apps/{id}`.
    pub app_id: u32,
    /// `/api/v1/groups` (create/list).
    pub groups: u32,
    /// `/api/v1/groups/{id}`.
    pub group_id: u32,
    /// `GET|POST /api/v1/users` (create/list).
    pub users: u32,
    /// `POST|PUT|DELETE /api/v1/users/{id}`.
    pub user_id_write: u32,
    /// `GET /api/v1/users/{idOrLogin}`.
    pub user_id_get: u32,
    /// `GET /api/v1/logs`.
    pub logs: u32,
    /// `/oauth2/v1/token` and other `/oauth2/*`.
    pub oauth2: u32,
    /// Everything else under `/api/v1` (and the admin paths).
    pub other: u32,
    /// Requests in flight at once before concurrency 429s.
    pub concurrency: u32,
    /// When false, no limit is enforced (headers are still sent).
    pub enabled: bool,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        Self {
            window: std::time::Duration::from_secs(60),
            apps: 100,
            app_id: 500,
            groups: 500,
            group_id: 1_000,
            users: 600,
            user_id_write: 600,
            user_id_get: 2_000,
            logs: 120,
            oauth2: 600,
            other: 1_200,
            concurrency: 75,
            enabled: true,
        }
    }
}

impl RateLimitConfig {
    /// Sets every bucket's requests per window to `limit` (tests and benchmarks that measure
    /// something other than the limits; the window and the concurrency limit stay).
    pub fn set_every_bucket(&mut self, limit: u32) {
        for bucket in [
            &mut self.apps,
            &mut self.app_id,
            &mut self.groups,
            &mut self.group_id,
            &mut self.users,
            &mut self.user_id_write,
            &mut self.user_id_get,
            &mut self.logs,
            &mut self.oauth2,
            &mut self.other,
        ] {
            *bucket = limit;
        }
    }
}

/// One fault-injection rule (scenario `[[faults]]`, or `POST /__sim/faults`).
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct FaultRule {
    /// Only requests whose path starts with this prefix (default: all API requests).
    #[serde(default)]
    pub path_prefix: Option<String>,
    /// Only requests with this method (default: any).
    #[serde(default)]
    pub method: Option<String>,
    /// What to do to a matching request.
    pub kind: FaultKind,
    /// Apply to the next `count` matching requests only (default: every matching request).
    #[serde(default)]
    pub count: Option<u64>,
    /// Skip this many matching requests before the fault starts (default 0).
    #[serde(default)]
    pub after: u64,
}

/// The faults okta-sim can inject.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(tag = "type", rename_all = "kebab-case", deny_unknown_fields)]
pub enum FaultKind {
    /// Delay the response.
    Latency { millis: u64 },
    /// Answer with this 5xx status and an Okta error body.
    ServerError { status: u16 },
    /// Answer 429 `E0000047` with the bucket's headers, as if the bucket were empty.
    RateLimited,
    /// Answer 200 with a body that is not JSON.
    Malformed,
    /// Send the real body cut in half (the connection closes early).
    Truncated,
    /// Close the connection without any response.
    Drop,
}

/// Transport-layer settings of one simulator instance.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InfraConfig {
    #[serde(default)]
    pub rate_limits: RateLimitConfig,
    #[serde(default)]
    pub faults: Vec<FaultRule>,
}

// ---------------------------------------------------------------------------------------------
// Rate-limit buckets
// ---------------------------------------------------------------------------------------------

/// An Okta rate-limit bucket, classified the way Okta's published tables (and the Terraform
/// provider's classifier) group endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Bucket {
    Apps,
    AppId,
    Groups,
    GroupId,
    Users,
    UserIdWrite,
    UserIdGet,
    Logs,
    Oauth2,
    Other,
}

impl Bucket {
    /// The bucket's name in stats (kebab-case, as serialized).
    pub fn as_str(self) -> &'static str {
        match self {
            Bucket::Apps => "apps",
            Bucket::AppId => "app-id",
            Bucket::Groups => "groups",
            Bucket::GroupId => "group-id",
            Bucket::Users => "users",
            Bucket::UserIdWrite => "user-id-write",
            Bucket::UserIdGet => "user-id-get",
            Bucket::Logs => "logs",
            Bucket::Oauth2 => "oauth2",
            Bucket::Other => "other",
        }
    }

    /// The bucket that serves `method path` (path without query).
    pub fn classify(method: &Method, path: &str) -> Bucket {
        let segments: Vec<&str> = path.trim_end_matches('/').split('/').skip(1).collect();
        match segments.as_slice() {
            ["oauth2", ..] => Bucket::Oauth2,
            ["api", "v1", "apps"] => Bucket::Apps,
            ["api", "v1", "apps", _] => Bucket::AppId,
            ["api", "v1", "apps", ..] => Bucket::Apps,
            ["api", "v1", "groups"] => Bucket::Groups,
            ["api", "v1", "groups", ..] => Bucket::GroupId,
            ["api", "v1", "users"] => Bucket::Users,
            ["api", "v1", "users", _] if method == Method::GET => Bucket::UserIdGet,
            ["api", "v1", "users", ..] => Bucket::UserIdWrite,
            ["api", "v1", "logs"] if method == Method::GET => Bucket::Logs,
            _ => Bucket::Other,
        }
    }

    fn limit(self, config: &RateLimitConfig) -> u32 {
        match self {
            Bucket::Apps => config.apps,
            Bucket::AppId => config.app_id,
            Bucket::Groups => config.groups,
            Bucket::GroupId => config.group_id,
            Bucket::Users => config.users,
            Bucket::UserIdWrite => config.user_id_write,
            Bucket::UserIdGet => config.user_id_get,
            Bucket::Logs => config.logs,
            Bucket::Oauth2 => config.oauth2,
            Bucket::Other => config.other,
        }
    }
}

/// One bucket's current window.
#[derive(Debug, Clone, Copy)]
struct Window {
    started: SystemTime,
    used: u32,
}

/// What the limiter decided for one request.
#[derive(Debug, Clone, Copy)]
struct Verdict {
    limit: u32,
    remaining: u32,
    reset_epoch_secs: u64,
    allowed: bool,
}

impl Verdict {
    fn apply_headers(&self, headers: &mut HeaderMap) {
        headers.insert("x-rate-limit-limit", HeaderValue::from(self.limit));
        headers.insert("x-rate-limit-remaining", HeaderValue::from(self.remaining));
        headers.insert(
            "x-rate-limit-reset",
            HeaderValue::from(self.reset_epoch_secs),
        );
    }
}

fn epoch_secs_ceil(t: SystemTime) -> u64 {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

// ---------------------------------------------------------------------------------------------
// Request counters
// ---------------------------------------------------------------------------------------------

/// Requests served for one endpoint (method and path template), by status.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct EndpointStats {
    pub count: u64,
    /// Status code -> count; `0` counts dropped connections.
    pub statuses: BTreeMap<u16, u64>,
}

/// A copy of the simulator's request counters (also served as JSON by `GET /__sim/stats`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct StatsSnapshot {
    /// Every API request served (control routes excluded).
    pub total: u64,
    /// Requests refused with 429 by a bucket or the concurrency limit (injected 429s excluded).
    pub rate_limited: u64,
    /// Requests answered by an injected fault.
    pub faults_injected: u64,
    /// Keyed by `"GET /api/v1/apps/{id}/users"`.
    pub endpoints: BTreeMap<String, EndpointStats>,
    /// The most requests any one window of a bucket admitted, by bucket (`apps`, `logs`, ...):
    /// how much of each bucket clients used at their busiest (did they keep their headroom?).
    #[serde(default)]
    pub peak_window_use: BTreeMap<String, u32>,
}

impl StatsSnapshot {
    /// Requests to one endpoint key, whatever their status.
    pub fn count(&self, endpoint: &str) -> u64 {
        self.endpoints.get(endpoint).map_or(0, |e| e.count)
    }
}

/// Collection names after which a path segment is an identifier (or a login).
const ID_AFTER: &[&str] = &[
    "apps",
    "users",
    "groups",
    "mappings",
    "directories",
    "agentPools",
];

/// Literal segments that follow a collection name and are not identifiers.
const LITERALS_AFTER_COLLECTION: &[&str] = &["me"];

/// `/api/v1/apps/0oa123/users/00u456` -> `/api/v1/apps/{id}/users/{id}`.
pub fn endpoint_template(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut previous = "";
    for segment in path.split('/').skip(1) {
        out.push('/');
        if ID_AFTER.contains(&previous) && !LITERALS_AFTER_COLLECTION.contains(&segment) {
            out.push_str("{id}");
        } else {
            out.push_str(segment);
        }
        previous = segment;
    }
    if out.is_empty() {
        out.push('/');
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Faults
// ---------------------------------------------------------------------------------------------

#[derive(Debug)]
struct ActiveFault {
    rule: FaultRule,
    matched: u64,
    applied: u64,
}

impl ActiveFault {
    fn matches(&self, method: &Method, path: &str) -> bool {
        let method_ok = self
            .rule
            .method
            .as_deref()
            .is_none_or(|m| m.eq_ignore_ascii_case(method.as_str()));
        let path_ok = self
            .rule
            .path_prefix
            .as_deref()
            .is_none_or(|p| path.starts_with(p));
        method_ok && path_ok
    }

    fn exhausted(&self) -> bool {
        self.rule.count.is_some_and(|c| self.applied >= c)
    }

    /// Counts a matching request; true when the fault applies to it.
    fn take(&mut self) -> bool {
        if self.exhausted() {
            return false;
        }
        self.matched += 1;
        if self.matched <= self.rule.after {
            return false;
        }
        self.applied += 1;
        true
    }
}

/// A fault rule with how often it has fired (`GET /__sim/faults`).
#[derive(Debug, Clone, Serialize)]
pub struct FaultStatus {
    #[serde(flatten)]
    pub rule: FaultRule,
    pub applied: u64,
}

/// Put in each request's extensions by [`serve`]: cancelling it closes that request's connection
/// without a response.
#[derive(Debug, Clone)]
struct ConnectionKill(CancellationToken);

// ---------------------------------------------------------------------------------------------
// The shared state and the middleware
// ---------------------------------------------------------------------------------------------

/// Shared transport-layer state of one simulator instance.
#[derive(Debug)]
pub(crate) struct Infra {
    limits: Mutex<RateLimitConfig>,
    windows: Mutex<HashMap<Bucket, Window>>,
    in_flight: AtomicU32,
    faults: Mutex<Vec<ActiveFault>>,
    stats: Mutex<StatsSnapshot>,
}

/// Locks a mutex; a panic while holding one of these short critical sections cannot leave the
/// data inconsistent (every update is a single assignment or increment), so poison is ignored.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Infra {
    pub(crate) fn new(config: InfraConfig) -> Arc<Self> {
        let faults = config
            .faults
            .into_iter()
            .map(|rule| ActiveFault {
                rule,
                matched: 0,
                applied: 0,
            })
            .collect();
        Arc::new(Self {
            limits: Mutex::new(config.rate_limits),
            windows: Mutex::new(HashMap::new()),
            in_flight: AtomicU32::new(0),
            faults: Mutex::new(faults),
            stats: Mutex::new(StatsSnapshot::default()),
        })
    }

    /// Layers the request log, counters, faults and rate limits around the API router.
    /// Auth belongs to the API router (it runs after rate limiting, as in Okta).
    pub(crate) fn wrap(self: &Arc<Self>, api: Router) -> Router {
        api.layer(middleware::from_fn_with_state(self.clone(), rate_limit))
            .layer(middleware::from_fn_with_state(self.clone(), inject_faults))
            .layer(middleware::from_fn_with_state(self.clone(), log_and_count))
    }

    /// The `/__sim/` control routes for faults, rate limits and request counters:
    /// `GET /__sim/stats`, `POST /__sim/stats/reset`, `GET|POST|DELETE /__sim/faults`,
    /// `GET|PUT /__sim/rate-limits`, `POST /__sim/rate-limits/reset`.
    /// They are neither rate-limited nor authenticated.
    pub(crate) fn control_routes(self: &Arc<Self>) -> Router {
        Router::new()
            .route("/__sim/stats", get(get_stats))
            .route("/__sim/stats/reset", post(reset_stats))
            .route(
                "/__sim/faults",
                get(list_faults).post(add_fault).delete(clear_faults),
            )
            .route("/__sim/rate-limits", get(get_limits).put(put_limits))
            .route("/__sim/rate-limits/reset", post(reset_windows))
            .with_state(self.clone())
    }

    /// The request counters so far.
    pub(crate) fn stats(&self) -> StatsSnapshot {
        lock(&self.stats).clone()
    }

    pub(crate) fn reset_stats(&self) {
        *lock(&self.stats) = StatsSnapshot::default();
    }

    pub(crate) fn add_fault(&self, rule: FaultRule) {
        lock(&self.faults).push(ActiveFault {
            rule,
            matched: 0,
            applied: 0,
        });
    }

    pub(crate) fn clear_faults(&self) {
        lock(&self.faults).clear();
    }

    pub(crate) fn set_rate_limits(&self, config: RateLimitConfig) {
        *lock(&self.limits) = config;
        lock(&self.windows).clear();
    }

    fn record(&self, endpoint: String, status: u16, fault: bool, limited: bool) {
        let mut stats = lock(&self.stats);
        stats.total += 1;
        stats.faults_injected += u64::from(fault);
        stats.rate_limited += u64::from(limited);
        let entry = stats.endpoints.entry(endpoint).or_default();
        entry.count += 1;
        *entry.statuses.entry(status).or_default() += 1;
    }

    /// Takes one request from `bucket` (when allowed) and says what the headers should be.
    fn admit(&self, bucket: Bucket, now: SystemTime) -> Verdict {
        let config = lock(&self.limits).clone();
        let limit = bucket.limit(&config);
        let mut windows = lock(&self.windows);
        let window = windows.entry(bucket).or_insert(Window {
            started: now,
            used: 0,
        });
        if now >= window.started + config.window {
            *window = Window {
                started: now,
                used: 0,
            };
        }
        if !config.enabled {
            // Limits off: the headers still come, and say the bucket is full.
            return Verdict {
                limit,
                remaining: limit,
                reset_epoch_secs: epoch_secs_ceil(window.started + config.window),
                allowed: true,
            };
        }
        let allowed = window.used < limit;
        if allowed {
            window.used = window.used.saturating_add(1);
        }
        let verdict = Verdict {
            limit,
            remaining: limit.saturating_sub(window.used),
            reset_epoch_secs: epoch_secs_ceil(window.started + config.window),
            allowed,
        };
        let used = window.used;
        drop(windows);
        let mut stats = lock(&self.stats);
        let peak = stats
            .peak_window_use
            .entry(bucket.as_str().to_owned())
            .or_default();
        *peak = (*peak).max(used);
        verdict
    }

    /// The bucket's headers as they stand, without using up a request: for injected Okta
    /// errors, which Okta sends with the same `X-Rate-Limit-*` headers as any other answer.
    fn current_verdict(&self, bucket: Bucket, now: SystemTime) -> Verdict {
        let config = lock(&self.limits).clone();
        let limit = bucket.limit(&config);
        let (started, used) = lock(&self.windows)
            .get(&bucket)
            .filter(|w| now < w.started + config.window)
            .map_or((now, 0), |w| (w.started, w.used));
        Verdict {
            limit,
            remaining: limit.saturating_sub(used),
            reset_epoch_secs: epoch_secs_ceil(started + config.window),
            allowed: true,
        }
    }

    /// The bucket's headers as they stand, for an injected 429: remaining 0.
    fn exhausted_verdict(&self, bucket: Bucket, now: SystemTime) -> Verdict {
        let config = lock(&self.limits).clone();
        let started = lock(&self.windows).get(&bucket).map_or(now, |w| w.started);
        Verdict {
            limit: bucket.limit(&config),
            remaining: 0,
            reset_epoch_secs: epoch_secs_ceil(started.max(now - config.window) + config.window),
            allowed: false,
        }
    }

    fn next_fault(&self, method: &Method, path: &str) -> Option<FaultKind> {
        let mut faults = lock(&self.faults);
        faults
            .iter_mut()
            .filter(|f| f.matches(method, path))
            .find_map(|f| f.take().then(|| f.rule.kind.clone()))
    }
}

/// Extension set by the fault layer on responses it produced, read by the counters.
#[derive(Debug, Clone, Copy)]
struct Injected;

/// Extension set by the rate limiter on the 429s it produced.
#[derive(Debug, Clone, Copy)]
struct Limited;

/// Whether a request goes through the simulated API's transport rules.
fn is_api_path(path: &str) -> bool {
    path.starts_with("/api/") || path.starts_with("/oauth2/")
}

async fn log_and_count(
    State(infra): State<Arc<Infra>>,
    mut request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let query = request.uri().query().map(str::to_owned);
    let request_id = new_request_id();
    request
        .extensions_mut()
        .insert(RequestId(request_id.clone()));
    let mut response = next.run(request).await;
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert("x-okta-request-id", value);
    }
    let status = response.status().as_u16();
    let fault = response.extensions().get::<Injected>().is_some();
    let limited = response.extensions().get::<Limited>().is_some();
    infra.record(
        format!("{method} {}", endpoint_template(&path)),
        status,
        fault,
        limited,
    );
    tracing::info!(
        target: "okta_sim::request",
        %method,
        path = %path,
        query = query.as_deref().unwrap_or(""),
        status,
        request_id = %request_id,
        elapsed_ms = started.elapsed().as_millis() as u64,
        fault,
        rate_limited = limited,
        "served"
    );
    response
}

async fn inject_faults(State(infra): State<Arc<Infra>>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    if !is_api_path(&path) {
        return next.run(request).await;
    }
    let method = request.method().clone();
    let Some(kind) = infra.next_fault(&method, &path) else {
        return next.run(request).await;
    };
    tracing::info!(target: "okta_sim::fault", %method, path = %path, fault = ?kind, "injecting fault");
    let mut response = match kind {
        FaultKind::Latency { millis } => {
            tokio::time::sleep(Duration::from_millis(millis)).await;
            next.run(request).await
        }
        FaultKind::ServerError { status } => {
            let mut response = server_error(status);
            if is_okta_error(&response) {
                infra
                    .current_verdict(Bucket::classify(&method, &path), SystemTime::now())
                    .apply_headers(response.headers_mut());
            }
            response
        }
        FaultKind::RateLimited => {
            let verdict =
                infra.exhausted_verdict(Bucket::classify(&method, &path), SystemTime::now());
            too_many_requests(&verdict)
        }
        FaultKind::Malformed => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json")],
            "{\"id\": \"0oa-malformed\", \"status\": ACTIVE,,, <html>",
        )
            .into_response(),
        FaultKind::Truncated => truncate(next.run(request).await).await,
        FaultKind::Drop => {
            let Some(kill) = request.extensions().get::<ConnectionKill>() else {
                // Served outside `serve` (no way to close the socket): the nearest thing.
                return StatusCode::SERVICE_UNAVAILABLE.into_response();
            };
            kill.0.cancel();
            // The request log never sees this request complete: count it here, as status 0.
            infra.record(
                format!("{method} {}", endpoint_template(&path)),
                0,
                true,
                false,
            );
            tracing::info!(target: "okta_sim::request", %method, path = %path, status = 0, "connection dropped");
            // `serve` drops this connection, and this future with it, without writing anything.
            std::future::pending::<()>().await;
            unreachable!("the connection task drops this future once the kill token is cancelled")
        }
    };
    response.extensions_mut().insert(Injected);
    response
}

async fn rate_limit(State(infra): State<Arc<Infra>>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    if !is_api_path(&path) {
        return next.run(request).await;
    }
    let bucket = Bucket::classify(request.method(), &path);
    let now = SystemTime::now();
    let (max_in_flight, enabled) = {
        let limits = lock(&infra.limits);
        (limits.concurrency, limits.enabled)
    };
    let in_flight = infra.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    let _guard = InFlightGuard(&infra.in_flight);
    if enabled && in_flight > max_in_flight {
        // Okta: "The first two header values are always 0 for concurrent rate limit errors."
        let verdict = Verdict {
            limit: 0,
            remaining: 0,
            reset_epoch_secs: epoch_secs_ceil(now + Duration::from_secs(1)),
            allowed: false,
        };
        let mut response = too_many_requests(&verdict);
        response.extensions_mut().insert(Limited);
        return response;
    }
    let verdict = infra.admit(bucket, now);
    if !verdict.allowed {
        let mut response = too_many_requests(&verdict);
        response.extensions_mut().insert(Limited);
        return response;
    }
    let mut response = next.run(request).await;
    verdict.apply_headers(response.headers_mut());
    response
}

struct InFlightGuard<'a>(&'a AtomicU32);

impl Drop for InFlightGuard<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The id of one request, also sent back as `X-Okta-Request-Id`.
#[derive(Debug, Clone)]
pub(crate) struct RequestId(pub(crate) String);

fn new_request_id() -> String {
    use rand::distributions::Alphanumeric;
    use rand::Rng;
    rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(27)
        .map(char::from)
        .collect()
}

/// An Okta error object (`errorCode`, `errorSummary`, `errorLink`, `errorId`, `errorCauses`).
pub(crate) fn okta_error(
    status: StatusCode,
    code: &str,
    summary: &str,
    causes: &[&str],
) -> Response {
    let causes: Vec<serde_json::Value> = causes
        .iter()
        .map(|c| serde_json::json!({ "errorSummary": c }))
        .collect();
    let body = serde_json::json!({
        "errorCode": code,
        "errorSummary": summary,
        "errorLink": code,
        "errorId": format!("oae{}", &new_request_id()[..19]),
        "errorCauses": causes,
    });
    (status, axum::Json(body)).into_response()
}

fn too_many_requests(verdict: &Verdict) -> Response {
    let mut response = okta_error(
        StatusCode::TOO_MANY_REQUESTS,
        "E0000047",
        "API call exceeded rate limit due to too many requests.",
        &[],
    );
    verdict.apply_headers(response.headers_mut());
    response
}

/// Whether a response is an Okta error object (JSON) rather than a gateway's HTML page.
fn is_okta_error(response: &Response) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"))
}

fn server_error(status: u16) -> Response {
    let status = StatusCode::from_u16(status)
        .ok()
        .filter(StatusCode::is_server_error)
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    match status {
        StatusCode::INTERNAL_SERVER_ERROR => {
            okta_error(status, "E0000009", "Internal Server Error", &[])
        }
        StatusCode::SERVICE_UNAVAILABLE => {
            okta_error(status, "E0000010", "Service is in read only mode", &[])
        }
        // Gateways in front of Okta answer 502/504 with an HTML page, not an Okta error.
        _ => (
            status,
            [(header::CONTENT_TYPE, "text/html")],
            format!("<html><body><h1>{status}</h1></body></html>"),
        )
            .into_response(),
    }
}

/// How long a truncated response waits after its partial body before aborting.
const TRUNCATE_ABORT_DELAY: Duration = Duration::from_millis(50);

/// Sends the head with the full `Content-Length`, then half the body, then aborts the connection.
async fn truncate(response: Response) -> Response {
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let full_len = bytes.len();
    let half = bytes.slice(..full_len / 2);
    parts
        .headers
        .insert(header::CONTENT_LENGTH, HeaderValue::from(full_len));
    // The half body goes out first; the abort follows a moment later so that the head and the
    // partial body reach the client before the connection closes.
    let chunks = futures::stream::iter([Some(half), None]).then(|chunk| async move {
        match chunk {
            Some(bytes) => Ok(bytes),
            None => {
                tokio::time::sleep(TRUNCATE_ABORT_DELAY).await;
                Err(std::io::Error::new(
                    std::io::ErrorKind::ConnectionAborted,
                    "okta-sim: truncated body fault",
                ))
            }
        }
    });
    Response::from_parts(parts, Body::from_stream(chunks))
}

// ---------------------------------------------------------------------------------------------
// Control routes
// ---------------------------------------------------------------------------------------------

async fn get_stats(State(infra): State<Arc<Infra>>) -> axum::Json<StatsSnapshot> {
    axum::Json(infra.stats())
}

async fn reset_stats(State(infra): State<Arc<Infra>>) -> StatusCode {
    infra.reset_stats();
    StatusCode::NO_CONTENT
}

async fn list_faults(State(infra): State<Arc<Infra>>) -> axum::Json<Vec<FaultStatus>> {
    let faults = lock(&infra.faults)
        .iter()
        .map(|f| FaultStatus {
            rule: f.rule.clone(),
            applied: f.applied,
        })
        .collect();
    axum::Json(faults)
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
    let limits = lock(&infra.limits).clone();
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
    lock(&infra.windows).clear();
    StatusCode::NO_CONTENT
}

// ---------------------------------------------------------------------------------------------
// Serving
// ---------------------------------------------------------------------------------------------

/// Serves `app` on `listener` until `shutdown` is cancelled. Unlike `axum::serve`, each request
/// can close its own connection without a response (the `drop` fault).
pub(crate) async fn serve(listener: TcpListener, app: Router, shutdown: CancellationToken) {
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = shutdown.cancelled() => return,
        };
        let stream = match accepted {
            Ok((stream, _peer)) => stream,
            Err(error) => {
                tracing::warn!(target: "okta_sim", %error, "accept failed");
                // Accept errors (EMFILE and the like) are usually transient; do not spin.
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let kill = CancellationToken::new();
        let per_connection = kill.clone();
        let service = tower::ServiceBuilder::new()
            .map_request(move |mut request: hyper::Request<hyper::body::Incoming>| {
                request
                    .extensions_mut()
                    .insert(ConnectionKill(per_connection.clone()));
                request
            })
            .service(app.clone());
        let service = hyper_util::service::TowerToHyperService::new(service);
        let shutdown = shutdown.clone();
        tokio::spawn(async move {
            let connection = hyper::server::conn::http1::Builder::new()
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service);
            tokio::select! {
                result = connection => {
                    if let Err(error) = result {
                        tracing::debug!(target: "okta_sim", %error, "connection ended with an error");
                    }
                }
                () = kill.cancelled() => {
                    tracing::debug!(target: "okta_sim", "connection dropped by fault");
                }
                () = shutdown.cancelled() => {}
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_follow_okta_grouping() {
        let get = Method::GET;
        let post = Method::POST;
        assert_eq!(Bucket::classify(&get, "/api/v1/apps"), Bucket::Apps);
        assert_eq!(Bucket::classify(&get, "/api/v1/apps/0oa1"), Bucket::AppId);
        assert_eq!(
            Bucket::classify(&get, "/api/v1/apps/0oa1/users"),
            Bucket::Apps
        );
        assert_eq!(
            Bucket::classify(&post, "/api/v1/apps/0oa1/group-push/mappings/gPm1"),
            Bucket::Apps
        );
        assert_eq!(Bucket::classify(&get, "/api/v1/users"), Bucket::Users);
        assert_eq!(
            Bucket::classify(&get, "/api/v1/users/00u1"),
            Bucket::UserIdGet
        );
        assert_eq!(
            Bucket::classify(&post, "/api/v1/users/00u1"),
            Bucket::UserIdWrite
        );
        assert_eq!(Bucket::classify(&get, "/api/v1/groups"), Bucket::Groups);
        assert_eq!(
            Bucket::classify(&get, "/api/v1/groups/00g1"),
            Bucket::GroupId
        );
        assert_eq!(Bucket::classify(&get, "/api/v1/logs"), Bucket::Logs);
        assert_eq!(Bucket::classify(&post, "/oauth2/v1/token"), Bucket::Oauth2);
        assert_eq!(Bucket::classify(&get, "/api/v1/agentPools"), Bucket::Other);
    }

    #[test]
    fn endpoint_templates_hide_ids_but_keep_literals() {
        assert_eq!(
            endpoint_template("/api/v1/apps/0oa1b2/users/00u3"),
            "/api/v1/apps/{id}/users/{id}"
        );
        assert_eq!(
            endpoint_template("/api/v1/apps/0oa1/features/USER_PROVISIONING"),
            "/api/v1/apps/{id}/features/USER_PROVISIONING"
        );
        assert_eq!(
            endpoint_template("/api/v1/apps/0oa1/group-push/mappings/gPm1"),
            "/api/v1/apps/{id}/group-push/mappings/{id}"
        );
        assert_eq!(endpoint_template("/api/v1/users/me"), "/api/v1/users/me");
        assert_eq!(endpoint_template("/api/v1/logs"), "/api/v1/logs");
    }

    #[test]
    fn fault_rules_skip_then_apply_count_times() {
        let mut fault = ActiveFault {
            rule: FaultRule {
                path_prefix: Some("/api/v1/apps".into()),
                method: Some("get".into()),
                kind: FaultKind::RateLimited,
                count: Some(2),
                after: 1,
            },
            matched: 0,
            applied: 0,
        };
        assert!(fault.matches(&Method::GET, "/api/v1/apps/0oa1/users"));
        assert!(!fault.matches(&Method::POST, "/api/v1/apps/0oa1/users"));
        assert!(!fault.matches(&Method::GET, "/api/v1/logs"));
        let fired: Vec<bool> = (0..5).map(|_| fault.take()).collect();
        assert_eq!(fired, [false, true, true, false, false]);
    }

    /// A loopback server with a trivial API behind the transport layer.
    async fn start(config: InfraConfig) -> (Arc<Infra>, String, CancellationToken) {
        let infra = Infra::new(config);
        let api = Router::new()
            .route(
                "/api/v1/apps",
                get(|| async { axum::Json(serde_json::json!([{"id": "0oa1"}])) }),
            )
            .route(
                "/api/v1/logs",
                get(|| async { axum::Json(serde_json::json!([])) }),
            );
        let app = infra.wrap(api).merge(infra.control_routes());
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let base = format!("http://{}", listener.local_addr().expect("bound address"));
        let shutdown = CancellationToken::new();
        tokio::spawn(serve(listener, app, shutdown.clone()));
        (infra, base, shutdown)
    }

    fn header_u64(response: &reqwest::Response, name: &str) -> u64 {
        response.headers()[name]
            .to_str()
            .expect("ascii header")
            .parse()
            .expect("numeric header")
    }

    #[tokio::test]
    async fn buckets_send_headers_and_refuse_with_e0000047_when_empty() {
        let config = InfraConfig {
            rate_limits: RateLimitConfig {
                apps: 3,
                ..RateLimitConfig::default()
            },
            faults: vec![],
        };
        let (infra, base, _shutdown) = start(config).await;
        let http = reqwest::Client::new();
        for expected_remaining in [2, 1, 0] {
            let r = http
                .get(format!("{base}/api/v1/apps"))
                .send()
                .await
                .expect("send");
            assert_eq!(r.status(), 200);
            assert_eq!(header_u64(&r, "x-rate-limit-limit"), 3);
            assert_eq!(header_u64(&r, "x-rate-limit-remaining"), expected_remaining);
            assert!(r.headers().contains_key("x-okta-request-id"));
            assert!(r.headers().contains_key("date"));
        }
        let r = http
            .get(format!("{base}/api/v1/apps"))
            .send()
            .await
            .expect("send");
        assert_eq!(r.status(), 429);
        let reset = header_u64(&r, "x-rate-limit-reset");
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("after epoch")
            .as_secs();
        assert!(
            reset > now && reset <= now + 61,
            "reset {reset} vs now {now}"
        );
        let body: serde_json::Value = r.json().await.expect("json error body");
        assert_eq!(body["errorCode"], "E0000047");
        assert_eq!(body["errorLink"], "E0000047");
        assert!(body["errorId"]
            .as_str()
            .is_some_and(|id| id.starts_with("oae")));
        // Another bucket is unaffected.
        let r = http
            .get(format!("{base}/api/v1/logs"))
            .send()
            .await
            .expect("send");
        assert_eq!(r.status(), 200);
        assert_eq!(header_u64(&r, "x-rate-limit-limit"), 120);

        let stats = infra.stats();
        assert_eq!(stats.total, 5);
        assert_eq!(stats.rate_limited, 1);
        assert_eq!(stats.count("GET /api/v1/apps"), 4);
        assert_eq!(stats.endpoints["GET /api/v1/apps"].statuses[&429], 1);
    }

    #[tokio::test]
    async fn disabled_limits_refuse_nothing_and_report_a_full_bucket() {
        let config = InfraConfig {
            rate_limits: RateLimitConfig {
                apps: 1,
                enabled: false,
                ..RateLimitConfig::default()
            },
            faults: vec![],
        };
        let (_infra, base, _shutdown) = start(config).await;
        let http = reqwest::Client::new();
        for _ in 0..3 {
            let r = http
                .get(format!("{base}/api/v1/apps"))
                .send()
                .await
                .expect("send");
            assert_eq!(r.status(), 200);
            assert_eq!(header_u64(&r, "x-rate-limit-limit"), 1);
            assert_eq!(header_u64(&r, "x-rate-limit-remaining"), 1);
        }
    }

    #[tokio::test]
    async fn window_reset_refills_the_bucket() {
        let config = InfraConfig {
            rate_limits: RateLimitConfig {
                apps: 1,
                window: Duration::from_millis(300),
                ..RateLimitConfig::default()
            },
            faults: vec![],
        };
        let (_infra, base, _shutdown) = start(config).await;
        let http = reqwest::Client::new();
        let url = format!("{base}/api/v1/apps");
        assert_eq!(http.get(&url).send().await.expect("send").status(), 200);
        assert_eq!(http.get(&url).send().await.expect("send").status(), 429);
        tokio::time::sleep(Duration::from_millis(350)).await;
        assert_eq!(http.get(&url).send().await.expect("send").status(), 200);
    }

    #[tokio::test]
    async fn each_fault_kind_over_http() {
        let (infra, base, _shutdown) = start(InfraConfig::default()).await;
        let http = reqwest::Client::new();
        let url = format!("{base}/api/v1/apps");
        let add = |kind: FaultKind| FaultRule {
            path_prefix: Some("/api/v1/apps".into()),
            method: None,
            kind,
            count: Some(1),
            after: 0,
        };

        infra.add_fault(add(FaultKind::ServerError { status: 503 }));
        let r = http.get(&url).send().await.expect("send");
        assert_eq!(r.status(), 503);
        assert_eq!(
            r.json::<serde_json::Value>().await.expect("json")["errorCode"],
            "E0000010"
        );

        infra.add_fault(add(FaultKind::RateLimited));
        let r = http.get(&url).send().await.expect("send");
        assert_eq!(r.status(), 429);
        assert_eq!(header_u64(&r, "x-rate-limit-remaining"), 0);

        infra.add_fault(add(FaultKind::Malformed));
        let r = http.get(&url).send().await.expect("send");
        assert_eq!(r.status(), 200);
        assert!(r.json::<serde_json::Value>().await.is_err());

        infra.add_fault(add(FaultKind::Truncated));
        let r = http.get(&url).send().await.expect("send head");
        assert_eq!(r.status(), 200);
        assert!(
            r.bytes().await.is_err(),
            "a truncated body must fail to read"
        );

        infra.add_fault(add(FaultKind::Drop));
        let error = http.get(&url).send().await.expect_err("dropped connection");
        assert!(!error.is_status());

        infra.add_fault(add(FaultKind::Latency { millis: 50 }));
        let started = Instant::now();
        assert_eq!(http.get(&url).send().await.expect("send").status(), 200);
        assert!(started.elapsed() >= Duration::from_millis(50));

        // Every rule fired once; the API is healthy again.
        assert_eq!(http.get(&url).send().await.expect("send").status(), 200);
        assert!(lock(&infra.faults).iter().all(|f| f.applied == 1));
        let stats = infra.stats();
        assert_eq!(stats.faults_injected, 6);
        assert_eq!(
            stats.endpoints["GET /api/v1/apps"].statuses[&0], 1,
            "the drop is counted"
        );
    }

    #[tokio::test]
    async fn control_routes_drive_faults_and_stats() {
        let (_infra, base, _shutdown) = start(InfraConfig::default()).await;
        let http = reqwest::Client::new();
        let rule = serde_json::json!({"kind": {"type": "server-error", "status": 500}, "count": 2});
        let r = http
            .post(format!("{base}/__sim/faults"))
            .json(&rule)
            .send()
            .await
            .expect("send");
        assert_eq!(r.status(), 201);
        let bad = serde_json::json!({"kind": {"type": "explode"}});
        let r = http
            .post(format!("{base}/__sim/faults"))
            .json(&bad)
            .send()
            .await
            .expect("send");
        assert_eq!(r.status(), 400);
        for _ in 0..2 {
            let r = http
                .get(format!("{base}/api/v1/logs"))
                .send()
                .await
                .expect("send");
            assert_eq!(r.status(), 500);
        }
        let r = http
            .get(format!("{base}/api/v1/logs"))
            .send()
            .await
            .expect("send");
        assert_eq!(r.status(), 200);
        let stats: StatsSnapshot = http
            .get(format!("{base}/__sim/stats"))
            .send()
            .await
            .expect("send")
            .json()
            .await
            .expect("stats json");
        assert_eq!(stats.count("GET /api/v1/logs"), 3);
        assert_eq!(stats.endpoints["GET /api/v1/logs"].statuses[&500], 2);
        assert_eq!(
            stats.count("GET /__sim/stats"),
            0,
            "control routes are not counted"
        );
        let r = http
            .post(format!("{base}/__sim/stats/reset"))
            .send()
            .await
            .expect("send");
        assert_eq!(r.status(), 204);
        let r = http
            .delete(format!("{base}/__sim/faults"))
            .send()
            .await
            .expect("send");
        assert_eq!(r.status(), 204);
    }

    #[tokio::test]
    async fn concurrency_limit_answers_429_with_zero_headers() {
        use tokio::sync::Notify;
        let entered = Arc::new(Notify::new());
        let release = Arc::new(Notify::new());
        let infra = Infra::new(InfraConfig {
            rate_limits: RateLimitConfig {
                concurrency: 1,
                ..RateLimitConfig::default()
            },
            faults: vec![],
        });
        let held = {
            let (entered, release) = (entered.clone(), release.clone());
            move || async move {
                entered.notify_one();
                release.notified().await;
                "done"
            }
        };
        let api = Router::new()
            .route("/api/v1/groups", get(held))
            .route("/api/v1/logs", get(|| async { "[]" }));
        let app = infra.wrap(api);
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let base = format!("http://{}", listener.local_addr().expect("bound address"));
        let shutdown = CancellationToken::new();
        tokio::spawn(serve(listener, app, shutdown.clone()));
        let http = reqwest::Client::new();
        let slow = tokio::spawn({
            let http = http.clone();
            let url = format!("{base}/api/v1/groups");
            async move { http.get(url).send().await.expect("send").status() }
        });
        entered.notified().await;
        let r = http
            .get(format!("{base}/api/v1/logs"))
            .send()
            .await
            .expect("send");
        assert_eq!(r.status(), 429);
        assert_eq!(header_u64(&r, "x-rate-limit-limit"), 0);
        assert_eq!(header_u64(&r, "x-rate-limit-remaining"), 0);
        release.notify_one();
        assert_eq!(slow.await.expect("join"), 200);
        let r = http
            .get(format!("{base}/api/v1/logs"))
            .send()
            .await
            .expect("send");
        assert_eq!(r.status(), 200, "the slot is free again");
        shutdown.cancel();
    }
}
