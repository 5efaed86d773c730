//! The daemon's HTTP endpoint: `/healthz` (the process serves), `/readyz` (every org observed
//! and readable; otherwise each org that is not, with why) and `/metrics` (Prometheus/OpenMetrics
//! text); the API (`/v1/...`, see `api`), the status page at `/` (`status_page`) and the Okta
//! Event Hook (`/hooks/okta`, see `hooks`) beside them.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use super::{Health, Metrics};

/// Content type of `/metrics` (`prometheus-client` writes OpenMetrics text).
pub const METRICS_CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The HTTP endpoint failed.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("serving HTTP on {addr}")]
    Serve {
        addr: String,
        #[source]
        source: std::io::Error,
    },
}

#[derive(Clone)]
struct Endpoint {
    metrics: Arc<Metrics>,
    health: Arc<Health>,
}

/// Serves the endpoint on `listener` until `shutdown` is cancelled.
pub(crate) async fn serve(
    listener: TcpListener,
    metrics: Arc<Metrics>,
    health: Arc<Health>,
    api: Arc<super::api::Api>,
    hooks: Arc<super::hooks::Hooks>,
    shutdown: CancellationToken,
) -> Result<(), HttpError> {
    let addr = listener
        .local_addr()
        .map_or_else(|_| "?".to_owned(), |a| a.to_string());
    let app = Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics_text))
        .with_state(Endpoint { metrics, health })
        .merge(super::api::routes(api))
        .merge(super::hooks::routes(hooks));
    axum::serve(listener, app)
        .with_graceful_shutdown(async move { shutdown.cancelled().await })
        .await
        .map_err(|source| HttpError::Serve { addr, source })
}

async fn healthz() -> &'static str {
    "ok\n"
}

async fn readyz(State(endpoint): State<Endpoint>) -> Response {
    let not_ready = endpoint.health.not_ready();
    if not_ready.is_empty() {
        return (StatusCode::OK, "ready\n").into_response();
    }
    let orgs: Vec<String> = not_ready
        .iter()
        .map(|(org, why)| format!("{org} ({why})"))
        .collect();
    let body = format!("not ready: {}\n", orgs.join("; "));
    (StatusCode::SERVICE_UNAVAILABLE, body).into_response()
}

async fn metrics_text(State(endpoint): State<Endpoint>) -> Response {
    (
        [(header::CONTENT_TYPE, METRICS_CONTENT_TYPE)],
        endpoint.metrics.encode(),
    )
        .into_response()
}
