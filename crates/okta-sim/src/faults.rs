//! Fault injection: the rules (scenario `[[faults]]` or `/__sim/faults`), how they match requests,
//! and the faulty answers they produce.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use serde::{Deserialize, Serialize};

use super::errors::okta_error;
use super::hostile;
use super::rate_limit::{too_many_requests, Bucket};
use super::serve::ConnectionKill;
use super::stats::endpoint_template;
use super::transport::{is_api_path, lock, Infra};

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
    /// Okta's transient failure as recorded: 500 with `E0000009` "Internal Server Error" and
    /// empty `errorCauses` (seen twice on one `DELETE`, which succeeded on the third try). With
    /// `count = N` the next N matching requests fail, then they succeed.
    InternalError,
    /// Answer 429 `E0000047` with the bucket's headers, as if the bucket were empty.
    RateLimited,
    /// Answer 404 `E0000007` naming the path, as Okta answers for what it does not have (an
    /// app's provisioning connection it does not expose, an API the org lacks).
    NotFound,
    /// Answer 200 with a body that is not JSON (garbage JSON).
    #[serde(alias = "garbage-json")]
    Malformed,
    /// Send the real body cut in half (the connection closes early).
    Truncated,
    /// A complete answer whose JSON stops half way (`Content-Length` matches the cut body).
    TruncatedJson,
    /// Close the connection without any response.
    Drop,
    /// Acknowledge the request with `status` (default 204) and an empty body without carrying it
    /// out: a write Okta answered that took no effect (e.g. a `lifecycle/activate` after which
    /// the connection still reads DISABLED).
    Ignored {
        #[serde(default)]
        status: Option<u16>,
    },
    /// Lists: the next page starts `overlap` items (default 1) before the end of this one, so
    /// items repeat across pages. The System Log (no item ids) serves this same page again.
    DuplicateItems {
        #[serde(default)]
        overlap: Option<usize>,
    },
    /// Lists: the `next` link points back at the first page, already read (a loop).
    NextLoop,
    /// Lists: an empty page whose `next` link is the same request again.
    EmptyPageLoop,
    /// Lists: the `next` link names another origin (default
    /// `https://okta-sim-foreign.invalid:8443`); a client must not follow it with its token.
    ForeignNext {
        #[serde(default)]
        origin: Option<String>,
    },
    /// The real JSON padded with `mebibytes` of whitespace, streamed without `Content-Length`.
    HugeBody { mebibytes: u64 },
    /// Headers and the first `after_bytes` (default half) of the body, then nothing for
    /// `millis`, then the rest.
    Stall {
        millis: u64,
        #[serde(default)]
        after_bytes: Option<u64>,
    },
}

#[derive(Debug)]
pub(crate) struct ActiveFault {
    rule: FaultRule,
    matched: u64,
    applied: u64,
}

impl ActiveFault {
    pub(crate) fn new(rule: FaultRule) -> Self {
        ActiveFault {
            rule,
            matched: 0,
            applied: 0,
        }
    }

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

impl Infra {
    pub(crate) fn add_fault(&self, rule: FaultRule) {
        lock(&self.faults).push(ActiveFault::new(rule));
    }

    pub(crate) fn clear_faults(&self) {
        lock(&self.faults).clear();
    }

    /// The rules with how often each has fired (`GET /__sim/faults`).
    pub(crate) fn fault_statuses(&self) -> Vec<FaultStatus> {
        lock(&self.faults)
            .iter()
            .map(|f| FaultStatus {
                rule: f.rule.clone(),
                applied: f.applied,
            })
            .collect()
    }

    pub(crate) fn next_fault(&self, method: &Method, path: &str) -> Option<FaultKind> {
        let mut faults = lock(&self.faults);
        faults
            .iter_mut()
            .filter(|f| f.matches(method, path))
            .find_map(|f| f.take().then(|| f.rule.kind.clone()))
    }
}

/// Extension set by the fault layer on responses it produced, read by the counters.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Injected;

pub(crate) async fn inject_faults(
    State(infra): State<Arc<Infra>>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path().to_owned();
    if !is_api_path(&path) {
        return next.run(request).await;
    }
    let method = request.method().clone();
    let uri = request.uri().clone();
    let Some(kind) = infra.next_fault(&method, &path) else {
        return next.run(request).await;
    };
    tracing::info!(target: "okta_sim::fault", %method, path = %path, fault = ?kind, "injecting fault");
    let mut response = match kind {
        FaultKind::Latency { millis } => {
            tokio::time::sleep(Duration::from_millis(millis)).await;
            next.run(request).await
        }
        FaultKind::InternalError => {
            let mut response = server_error(StatusCode::INTERNAL_SERVER_ERROR.as_u16());
            infra
                .current_verdict(Bucket::classify(&method, &path), SystemTime::now())
                .apply_headers(response.headers_mut());
            response
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
        FaultKind::NotFound => okta_error(
            StatusCode::NOT_FOUND,
            "E0000007",
            &format!("Not found: Resource not found: {path}"),
            &[],
        ),
        FaultKind::RateLimited => {
            let verdict =
                infra.exhausted_verdict(Bucket::classify(&method, &path), SystemTime::now());
            too_many_requests(&verdict)
        }
        FaultKind::Ignored { status } => {
            let status = status
                .and_then(|s| StatusCode::from_u16(s).ok())
                .filter(StatusCode::is_success)
                .unwrap_or(StatusCode::NO_CONTENT);
            status.into_response()
        }
        FaultKind::Malformed => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json")],
            "{\"id\": \"0oa-malformed\", \"status\": ACTIVE,,, <html>",
        )
            .into_response(),
        FaultKind::Truncated => truncate(next.run(request).await).await,
        FaultKind::TruncatedJson => hostile::truncated_json(next.run(request).await).await,
        FaultKind::DuplicateItems { overlap } => {
            hostile::duplicate_items(next.run(request).await, &uri, overlap.unwrap_or(1)).await
        }
        FaultKind::NextLoop => hostile::next_loop(next.run(request).await, &uri).await,
        FaultKind::EmptyPageLoop => hostile::empty_page_loop(next.run(request).await, &uri).await,
        FaultKind::ForeignNext { origin } => {
            let origin = origin.as_deref().unwrap_or(hostile::DEFAULT_FOREIGN_ORIGIN);
            hostile::foreign_next(next.run(request).await, &uri, origin).await
        }
        FaultKind::HugeBody { mebibytes } => {
            hostile::huge_body(next.run(request).await, mebibytes).await
        }
        FaultKind::Stall {
            millis,
            after_bytes,
        } => hostile::stall(next.run(request).await, millis, after_bytes).await,
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
