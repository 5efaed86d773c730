//! `OktaClient`: the reqwest transport of the Okta Management API: authentication, the
//! rate-limit governor, bounded concurrency, retries of transient failures, bounded bodies,
//! `Link` paging along a listing's trail, and no request (so no credential) off the org.

use super::auth::Authenticator;
use super::body::{idle_timeout, read_body, BodyError, MAX_ERROR_BODY_BYTES, MAX_PAGE_BODY_BYTES};
use super::config::{AdminPaths, ClientTuning, OktaConfig};
use super::error::{ApiError, Endpoint, OktaError};
use super::model::OktaErrorBody;
use super::paging::{next_link, Listed, ListingProblem, NextPage, Page, PageRequest, Trail};
use super::ratelimit::{classify, Governor, GovernorStats};
use super::urls::{on_org, org_url, shown};
use backoff::backoff::Backoff;
use reqwest::header::{
    HeaderMap, HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE, WWW_AUTHENTICATE,
};
use reqwest::{Method, StatusCode};
use secrecy::ExposeSecret;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;
use tracing::Instrument;
use url::Url;

/// First delay between retries of a transient failure.
pub const RETRY_INITIAL_INTERVAL: Duration = Duration::from_millis(500);
/// Longest delay between two retries (a 429's reset may ask for longer).
pub const RETRY_MAX_INTERVAL: Duration = Duration::from_secs(30);
/// Header naming the request a retry repeats.
const RETRY_FOR: &str = "x-okta-retry-for";
/// Header counting the retries of a request.
const RETRY_COUNT: &str = "x-okta-retry-count";
/// Header carrying Okta's request id.
const REQUEST_ID: &str = "x-okta-request-id";

/// Whether a request may be repeated after an uncertain failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Idempotency {
    /// Repeating it has the same effect as sending it once.
    Idempotent,
    /// Repeat only when the server certainly did not process it (429, connect error).
    NotIdempotent,
}

/// A request to run.
pub(crate) struct Call<'a> {
    pub(crate) method: Method,
    pub(crate) url: Url,
    pub(crate) body: Option<&'a (dyn ErasedJson + Sync)>,
    pub(crate) idempotency: Idempotency,
    /// The bound on the answer's body ([`MAX_PAGE_BODY_BYTES`] for pages,
    /// [`MAX_OBJECT_BODY_BYTES`](super::body::MAX_OBJECT_BODY_BYTES) otherwise).
    pub(crate) max_body_bytes: usize,
}

/// A serializable body (object-safe).
pub(crate) trait ErasedJson {
    fn to_json(&self) -> Result<Vec<u8>, serde_json::Error>;
}

impl<T: Serialize> ErasedJson for T {
    fn to_json(&self) -> Result<Vec<u8>, serde_json::Error> {
        serde_json::to_vec(self)
    }
}

/// A transient failure and the wait it asks for, if any.
struct Transient {
    error: ApiError,
    wait: Option<Duration>,
}

enum Attempt<T> {
    Done(T, HeaderMap),
    Retry(Transient),
    Fail(ApiError),
    RefreshAuth(ApiError),
}

/// Told about every HTTP attempt of an [`OktaClient`] (retries included), for metrics. Sees
/// method and path only: never headers, query strings or bodies.
pub trait RequestObserver: Send + Sync {
    /// `status` is `None` when no response arrived (connection failure, timeout).
    fn on_response(&self, endpoint: &Endpoint, status: Option<u16>);
}

struct Shared {
    http: reqwest::Client,
    observer: std::sync::OnceLock<Arc<dyn RequestObserver>>,
    org: Url,
    auth: Authenticator,
    governor: Governor,
    permits: Semaphore,
    tuning: ClientTuning,
    admin: AdminPaths,
}

/// The Okta Management API client (cheap to clone; clones share limits and tokens).
#[derive(Clone)]
pub struct OktaClient {
    shared: Arc<Shared>,
}

impl fmt::Debug for OktaClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OktaClient")
            .field("org", &self.shared.org.as_str())
            .field("auth", &self.shared.auth)
            .field("tuning", &self.shared.tuning)
            .finish_non_exhaustive()
    }
}

impl OktaClient {
    /// Builds a client from a validated configuration.
    pub fn new(config: OktaConfig) -> Result<Self, ApiError> {
        config.tuning.validate()?;
        let http = reqwest::Client::builder()
            .user_agent(concat!("remediator/", env!("CARGO_PKG_VERSION")))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| ApiError::HttpClient {
                message: e.to_string(),
            })?;
        let auth = Authenticator::new(config.auth, &config.org_url, config.tuning.request_timeout)?;
        Ok(Self {
            shared: Arc::new(Shared {
                http,
                observer: std::sync::OnceLock::new(),
                auth,
                governor: Governor::new(config.tuning.rate_limit_headroom),
                permits: Semaphore::new(config.tuning.max_concurrency),
                org: config.org_url,
                tuning: config.tuning,
                admin: config.admin,
            }),
        })
    }

    /// The org's base URL.
    pub fn org_url(&self) -> &Url {
        &self.shared.org
    }

    /// Installs the observer told about every request of this client and its clones. Returns
    /// false (and keeps the first) when one is already installed.
    pub fn set_request_observer(&self, observer: Arc<dyn RequestObserver>) -> bool {
        self.shared.observer.set(observer).is_ok()
    }

    fn notify(&self, endpoint: &Endpoint, status: Option<u16>) {
        if let Some(observer) = self.shared.observer.get() {
            observer.on_response(endpoint, status);
        }
    }

    /// Counters of the rate-limit governor's waits.
    pub fn governor_stats(&self) -> &GovernorStats {
        self.shared.governor.stats()
    }

    pub(crate) fn admin_paths(&self) -> &AdminPaths {
        &self.shared.admin
    }

    /// `org + path` with the query pairs given; refused unless `path` is a path on the org and
    /// the URL stays on the org's origin.
    pub(crate) fn url(&self, path: &str, query: &[(&str, &str)]) -> Result<Url, ApiError> {
        org_url(&self.shared.org, path, query)
    }

    /// GETs one page of a listing: the first (at `first`) or the one a previous page pointed
    /// at, along the listing's trail (at most `max_pages`; see [`Trail`]).
    pub(crate) async fn get_page<T: DeserializeOwned + Listed>(
        &self,
        page: PageRequest,
        first: impl FnOnce() -> Result<Url, ApiError>,
        max_pages: u32,
    ) -> Result<Page<T>, ApiError> {
        let (url, trail) = match page {
            PageRequest::First => (first()?, Arc::new(Trail::default())),
            PageRequest::Next(next) => next.into_parts(),
        };
        let org = &self.shared.org;
        trail
            .before_read(&url, org, max_pages)
            .map_err(|problem| listing_error(&url, problem))?;
        let (items, headers) = self
            .execute::<Vec<T>>(Call {
                method: Method::GET,
                url: url.clone(),
                body: None,
                idempotency: Idempotency::Idempotent,
                max_body_bytes: MAX_PAGE_BODY_BYTES,
            })
            .await?;
        page_from_answer(&url, items, &headers, org, trail)
    }

    /// Runs a call with retries and decodes its JSON body (an empty body decodes as `null`),
    /// inside one `okta_call` tracing span (method and path only: never headers or query).
    pub(crate) async fn execute<T: DeserializeOwned>(
        &self,
        call: Call<'_>,
    ) -> Result<(T, HeaderMap), ApiError> {
        let endpoint = Endpoint::new(&call.method, &call.url);
        // Whatever built the URL, credentials go to the org's origin only.
        if !on_org(&call.url, &self.shared.org) {
            return Err(ApiError::ForeignOrigin {
                target: shown(&call.url),
                org: self.shared.org.origin().ascii_serialization(),
            });
        }
        let span = tracing::info_span!(
            "okta_call",
            method = %endpoint.method,
            path = %endpoint.path
        );
        self.execute_with_retries(call, endpoint)
            .instrument(span)
            .await
    }

    async fn execute_with_retries<T: DeserializeOwned>(
        &self,
        call: Call<'_>,
        endpoint: Endpoint,
    ) -> Result<(T, HeaderMap), ApiError> {
        let body = match call.body {
            Some(b) => Some(b.to_json().map_err(|e| ApiError::Transport {
                endpoint: endpoint.clone(),
                message: format!("cannot encode request body: {e}"),
            })?),
            None => None,
        };
        let mut backoff = backoff::ExponentialBackoff {
            initial_interval: RETRY_INITIAL_INTERVAL,
            max_interval: RETRY_MAX_INTERVAL,
            max_elapsed_time: Some(self.shared.tuning.max_retry_elapsed),
            ..backoff::ExponentialBackoff::default()
        };
        let mut retries = 0u32;
        let mut auth_refreshed = false;
        let mut retry_for: Option<String> = None;
        loop {
            let attempt = self
                .attempt::<T>(&call, &endpoint, body.as_deref(), retries, &mut retry_for)
                .await;
            let transient = match attempt {
                Attempt::Done(value, headers) => return Ok((value, headers)),
                Attempt::Fail(e) => return Err(e),
                Attempt::RefreshAuth(e) => {
                    if auth_refreshed || !self.shared.auth.can_refresh() {
                        return Err(e);
                    }
                    auth_refreshed = true;
                    self.shared.auth.invalidate().await;
                    continue;
                }
                Attempt::Retry(t) => t,
            };
            retries += 1;
            let give_up = |last: ApiError| ApiError::RetriesExhausted {
                endpoint: endpoint.clone(),
                attempts: retries,
                last: Box::new(last),
            };
            if retries > self.shared.tuning.max_retries {
                return Err(give_up(transient.error));
            }
            let Some(backoff_wait) = backoff.next_backoff() else {
                return Err(give_up(transient.error));
            };
            let wait = transient.wait.unwrap_or(backoff_wait);
            tracing::warn!(
                endpoint = %endpoint,
                retry = retries,
                wait_ms = wait.as_millis() as u64,
                error = %transient.error,
                "transient Okta API failure; retrying"
            );
            tokio::time::sleep(wait).await;
        }
    }

    async fn attempt<T: DeserializeOwned>(
        &self,
        call: &Call<'_>,
        endpoint: &Endpoint,
        body: Option<&[u8]>,
        retries: u32,
        retry_for: &mut Option<String>,
    ) -> Attempt<T> {
        let bucket = classify(&call.method, call.url.path());
        // Wait for the bucket before taking a permit, so a drained bucket does not hold
        // permits that calls to other buckets could use.
        let _reservation = self.shared.governor.acquire(bucket).await;
        let _permit = self
            .shared
            .permits
            .acquire()
            .await
            .expect("the semaphore is never closed");
        let auth = match self.shared.auth.header(&self.shared.http).await {
            Ok(a) => a,
            Err(e) => return Attempt::Fail(e),
        };
        let mut auth_value = match HeaderValue::from_str(auth.expose_secret()) {
            Ok(v) => v,
            Err(_) => {
                return Attempt::Fail(ApiError::Credential {
                    problem: "it contains characters not allowed in an HTTP header".into(),
                })
            }
        };
        auth_value.set_sensitive(true);
        let started = tokio::time::Instant::now();
        let mut req = self
            .shared
            .http
            .request(call.method.clone(), call.url.clone())
            .timeout(self.shared.tuning.request_timeout)
            .header(ACCEPT, "application/json")
            .header(AUTHORIZATION, auth_value);
        if let Some(b) = body {
            req = req
                .header(CONTENT_TYPE, "application/json")
                .body(b.to_vec());
        }
        if retries > 0 {
            if let Some(id) = retry_for.as_deref() {
                req = req.header(RETRY_FOR, id);
            }
            req = req.header(RETRY_COUNT, retries.to_string());
        }
        let idempotent = call.idempotency == Idempotency::Idempotent;
        let mut resp = match req.send().await {
            Ok(r) => r,
            Err(e) => {
                self.notify(endpoint, None);
                return transport_failure(endpoint, &e, idempotent);
            }
        };
        let status = resp.status();
        self.notify(endpoint, Some(status.as_u16()));
        let headers = resp.headers().clone();
        let remaining = self.shared.governor.observe(bucket, &headers);
        let request_id = headers
            .get(REQUEST_ID)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        tracing::info!(
            method = %call.method,
            path = call.url.path(),
            status = status.as_u16(),
            bucket = ?bucket,
            remaining,
            request_id = request_id.as_deref().unwrap_or(""),
            "okta request"
        );
        if request_id.is_some() {
            *retry_for = request_id;
        }
        let tuning = &self.shared.tuning;
        let deadline = started + tuning.request_timeout;
        let idle = idle_timeout(tuning.request_timeout);
        let limit = if status.is_success() {
            call.max_body_bytes
        } else {
            MAX_ERROR_BODY_BYTES
        };
        let bytes = match read_body(&mut resp, limit, idle, deadline).await {
            Ok(b) => b,
            Err(e) if status.is_success() => return body_failure(endpoint, e, limit, idempotent),
            // The status of an error answer says what happened; its body only adds detail.
            Err(_) => Vec::new(),
        };
        if status.is_success() {
            return decode(endpoint, &bytes, headers, call.method == Method::GET);
        }
        let mut okta_error = parse_okta_error(&bytes);
        if status == StatusCode::FORBIDDEN {
            okta_error.required_scope = insufficient_scope(&headers);
        }
        let error = ApiError::from_status(endpoint.clone(), status.as_u16(), okta_error);
        match status {
            StatusCode::TOO_MANY_REQUESTS => {
                let wait = self.shared.governor.on_rate_limited(bucket, &headers);
                Attempt::Retry(Transient {
                    error,
                    wait: Some(wait),
                })
            }
            // A new access token may cure a rejected one; not a missing permission.
            StatusCode::UNAUTHORIZED if error.is_unauthorized() => Attempt::RefreshAuth(error),
            // Okta's 500 `E0000009` is transient too: recorded twice on one call before it
            // succeeded on the third try.
            StatusCode::INTERNAL_SERVER_ERROR
            | StatusCode::BAD_GATEWAY
            | StatusCode::SERVICE_UNAVAILABLE
            | StatusCode::GATEWAY_TIMEOUT => retry_if(idempotent, error, None),
            _ => Attempt::Fail(error),
        }
    }
}

/// The page of a listing from its decoded items and its answer's headers: records the page on
/// the trail (refusing an item read before) and chains the `next` link, refused when it is not
/// a URL or names another origin than the org's.
pub(crate) fn page_from_answer<T: Listed>(
    url: &Url,
    items: Vec<T>,
    headers: &HeaderMap,
    org: &Url,
    trail: Arc<Trail>,
) -> Result<Page<T>, ApiError> {
    trail
        .after_read(url, &items)
        .map_err(|problem| listing_error(url, problem))?;
    let next = next_link(headers, url)
        .map_err(|reason| listing_error(url, ListingProblem::UnreadableNext { reason }))?;
    let next = match next {
        None => None,
        Some(next) if !on_org(&next, org) => {
            let origin = next.origin().ascii_serialization();
            return Err(listing_error(url, ListingProblem::ForeignNext { origin }));
        }
        Some(next) => Some(NextPage::chained(next, trail)),
    };
    Ok(Page { items, next })
}

fn listing_error(url: &Url, problem: ListingProblem) -> ApiError {
    ApiError::Listing {
        endpoint: Endpoint::new(&Method::GET, url),
        problem,
    }
}

/// The scope of a `WWW-Authenticate: Bearer error="insufficient_scope", scope="..."` challenge.
fn insufficient_scope(headers: &HeaderMap) -> Option<String> {
    headers.get_all(WWW_AUTHENTICATE).iter().find_map(|v| {
        let text = v.to_str().ok()?;
        let params = text.trim_start().strip_prefix("Bearer")?;
        let params = super::paging::auth_params(params);
        let insufficient = params
            .iter()
            .any(|(k, v)| k == "error" && v == "insufficient_scope");
        let scope = params.into_iter().find(|(k, _)| k == "scope")?.1;
        (insufficient && !scope.is_empty()).then_some(scope)
    })
}

fn body_failure<T>(
    endpoint: &Endpoint,
    e: BodyError,
    limit: usize,
    idempotent: bool,
) -> Attempt<T> {
    // Too large is deterministic: reading it again would only read as much again.
    let retryable = idempotent && !matches!(e, BodyError::TooLarge);
    retry_if(retryable, e.into_api_error(endpoint, limit), None)
}

fn retry_if<T>(retryable: bool, error: ApiError, wait: Option<Duration>) -> Attempt<T> {
    if retryable {
        Attempt::Retry(Transient { error, wait })
    } else {
        Attempt::Fail(error)
    }
}

fn transport_failure<T>(endpoint: &Endpoint, e: &reqwest::Error, idempotent: bool) -> Attempt<T> {
    if e.is_timeout() {
        let error = ApiError::Timeout {
            endpoint: endpoint.clone(),
        };
        return retry_if(idempotent, error, None);
    }
    let error = ApiError::Transport {
        endpoint: endpoint.clone(),
        message: error_chain(e),
    };
    // A connect error means the request never reached Okta: safe to repeat any request.
    retry_if(idempotent || e.is_connect(), error, None)
}

/// The error and its causes, without the URL (which may carry a query).
fn error_chain(e: &reqwest::Error) -> String {
    use std::error::Error as _;
    let mut text = e.to_string();
    if let Some(url) = e.url() {
        text = text.replace(url.as_str(), url.path());
    }
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

fn decode<T: DeserializeOwned>(
    endpoint: &Endpoint,
    bytes: &[u8],
    headers: HeaderMap,
    retry_truncated: bool,
) -> Attempt<T> {
    match decode_body(endpoint, bytes) {
        Ok(v) => Attempt::Done(v, headers),
        Err(e @ ApiError::TruncatedBody { .. }) => retry_if(retry_truncated, e, None),
        Err(e) => Attempt::Fail(e),
    }
}

/// Decodes a JSON body (an empty one as `null`): JSON that ends early is a truncated body,
/// anything else that does not decode a malformed one.
pub(crate) fn decode_body<T: DeserializeOwned>(
    endpoint: &Endpoint,
    bytes: &[u8],
) -> Result<T, ApiError> {
    let input: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
        b"null"
    } else {
        bytes
    };
    serde_json::from_slice::<T>(input).map_err(|e| {
        if e.is_eof() {
            ApiError::TruncatedBody {
                endpoint: endpoint.clone(),
                message: format!("JSON ended early after {} bytes: {e}", bytes.len()),
            }
        } else {
            ApiError::malformed(endpoint.clone(), &e, bytes)
        }
    })
}

fn parse_okta_error(bytes: &[u8]) -> OktaError {
    serde_json::from_slice::<OktaErrorBody>(bytes)
        .map(OktaError::from)
        .unwrap_or_default()
}
