//! Request counters per endpoint and status, the request log, and the request id
//! (`X-Okta-Request-Id`) of every API request.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use serde::{Deserialize, Serialize};

use super::faults::Injected;
use super::rate_limit::Limited;
use super::transport::{lock, Infra};

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

impl Infra {
    /// The request counters so far.
    pub(crate) fn stats(&self) -> StatsSnapshot {
        lock(&self.stats).clone()
    }

    pub(crate) fn reset_stats(&self) {
        *lock(&self.stats) = StatsSnapshot::default();
    }

    pub(crate) fn record(&self, endpoint: String, status: u16, fault: bool, limited: bool) {
        let mut stats = lock(&self.stats);
        stats.total += 1;
        stats.faults_injected += u64::from(fault);
        stats.rate_limited += u64::from(limited);
        let entry = stats.endpoints.entry(endpoint).or_default();
        entry.count += 1;
        *entry.statuses.entry(status).or_default() += 1;
    }
}

pub(crate) async fn log_and_count(
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

/// The id of one request, also sent back as `X-Okta-Request-Id`.
#[derive(Debug, Clone)]
pub(crate) struct RequestId(pub(crate) String);

pub(crate) fn new_request_id() -> String {
    use rand::distributions::Alphanumeric;
    use rand::Rng;
    rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(27)
        .map(char::from)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
