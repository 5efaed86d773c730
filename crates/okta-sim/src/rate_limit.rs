//! Okta's rate limits: per-bucket windows with `X-Rate-Limit-*` headers, the concurrency limit,
//! and the 429 `E0000047` answers.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use serde::{Deserialize, Serialize};

use super::errors::okta_error;
use super::transport::{is_api_path, lock, Infra};

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
pub(crate) struct Window {
    started: SystemTime,
    used: u32,
}

/// What the limiter decided for one request.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Verdict {
    limit: u32,
    remaining: u32,
    reset_epoch_secs: u64,
    allowed: bool,
}

impl Verdict {
    pub(crate) fn apply_headers(&self, headers: &mut HeaderMap) {
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

impl Infra {
    /// The rate-limit settings in force.
    pub(crate) fn rate_limits(&self) -> RateLimitConfig {
        lock(&self.limits).clone()
    }

    /// Starts every bucket's window afresh.
    pub(crate) fn reset_windows(&self) {
        lock(&self.windows).clear();
    }

    pub(crate) fn set_rate_limits(&self, config: RateLimitConfig) {
        *lock(&self.limits) = config;
        lock(&self.windows).clear();
    }

    /// Takes one request from `bucket` (when allowed) and says what the headers should be.
    pub(crate) fn admit(&self, bucket: Bucket, now: SystemTime) -> Verdict {
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
    pub(crate) fn current_verdict(&self, bucket: Bucket, now: SystemTime) -> Verdict {
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
    pub(crate) fn exhausted_verdict(&self, bucket: Bucket, now: SystemTime) -> Verdict {
        let config = lock(&self.limits).clone();
        let started = lock(&self.windows).get(&bucket).map_or(now, |w| w.started);
        Verdict {
            limit: bucket.limit(&config),
            remaining: 0,
            reset_epoch_secs: epoch_secs_ceil(started.max(now - config.window) + config.window),
            allowed: false,
        }
    }
}

/// Extension set by the rate limiter on the 429s it produced.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limited;

pub(crate) async fn rate_limit(
    State(infra): State<Arc<Infra>>,
    request: Request,
    next: Next,
) -> Response {
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

pub(crate) fn too_many_requests(verdict: &Verdict) -> Response {
    let mut response = okta_error(
        StatusCode::TOO_MANY_REQUESTS,
        "E0000047",
        "API call exceeded rate limit due to too many requests.",
        &[],
    );
    verdict.apply_headers(response.headers_mut());
    response
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
}
