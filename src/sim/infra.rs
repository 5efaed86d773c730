//! The simulator's transport layer: per-bucket rate limits, fault injection, the request log and
//! per-endpoint request counters, and the `/__sim/` control endpoints that drive them.
//!
//! The API router knows nothing of these: [`Infra::wrap`] layers them around it.

use std::sync::Arc;

use axum::Router;
use serde::Deserialize;

/// Rate-limit settings (scenario section `[rate_limits]`). Defaults are Okta's last published
/// Workforce defaults (requests per minute per bucket) and 75 requests in flight.
#[derive(Debug, Clone, Deserialize)]
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

/// Shared transport-layer state of one simulator instance.
#[derive(Debug)]
pub(crate) struct Infra {
    config: InfraConfig,
}

impl Infra {
    pub(crate) fn new(config: InfraConfig) -> Arc<Self> {
        Arc::new(Self { config })
    }

    /// Layers the request log, counters, faults and rate limits around the API router.
    /// Auth belongs to the API router (it runs after rate limiting, as in Okta).
    pub(crate) fn wrap(self: &Arc<Self>, api: Router) -> Router {
        let _ = &self.config;
        api
    }

    /// The `/__sim/` control routes for faults, rate limits and request counters:
    /// `GET /__sim/stats`, `POST /__sim/stats/reset`, `POST /__sim/faults` (body: a `FaultRule`),
    /// `DELETE /__sim/faults`. They are neither rate-limited nor authenticated.
    pub(crate) fn control_routes(self: &Arc<Self>) -> Router {
        Router::new()
    }
}
