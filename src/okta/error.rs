//! `ApiError`: every way a call to the Okta Management API can fail, with its endpoint.
//!
//! Authentication (Okta did not accept who we are: [`ApiError::Auth`]) and authorization (it
//! did, but the call is not allowed: [`ApiError::Forbidden`]) are distinct: the first asks for
//! the token or key to be checked, the second for a scope, an admin role or a feature.
//!
//! [`ApiError::kind`] sorts every failure into one [`ApiErrorKind`] (rejected credentials,
//! a missing permission, not found, unreachable, rate-limited, a server error, a body that is
//! malformed, too large or stalled, a listing that could not be read to its end, a URL off the
//! org, a configuration that cannot work), so that callers report each differently.
//!
//! No variant carries a header, a token or a query string: endpoints are method + path only.

use super::model::{ErrorCause, OktaErrorBody};
use super::paging::ListingProblem;
use std::fmt;
use std::time::Duration;

/// Longest snippet of a malformed body kept in an error.
pub const MAX_BODY_SNIPPET_CHARS: usize = 120;

/// Method and path of a call (no query string, so no secrets from it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// HTTP method.
    pub method: String,
    /// URL path.
    pub path: String,
}

impl Endpoint {
    pub(crate) fn new(method: &reqwest::Method, url: &url::Url) -> Self {
        Self {
            method: method.as_str().to_owned(),
            path: url.path().to_owned(),
        }
    }
}

/// Path segments that name a collection whose next segment is an id, and the id's placeholder.
const ID_AFTER: &[(&str, &str)] = &[
    ("apps", "{appId}"),
    ("users", "{userId}"),
    ("mappings", "{mappingId}"),
    ("groups", "{groupId}"),
    ("agentPools", "{poolId}"),
    ("directories", "{appId}"),
];

impl Endpoint {
    /// Method and path with ids as placeholders, e.g. `GET /api/v1/apps/{appId}/users`: the
    /// same for every app, for grouping failures (and never an id, so safe as a label).
    pub fn template(&self) -> String {
        let mut out = Vec::new();
        let mut placeholder: Option<&str> = None;
        for segment in self.path.split('/').filter(|s| !s.is_empty()) {
            out.push(placeholder.take().unwrap_or(segment));
            placeholder = ID_AFTER
                .iter()
                .find(|(name, _)| *name == segment)
                .map(|(_, p)| *p);
        }
        format!("{} /{}", self.method, out.join("/"))
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method, self.path)
    }
}

/// Okta's `errorCode` for an invalid, expired or revoked token (HTTP 401).
pub const E_INVALID_TOKEN: &str = "E0000011";
/// Okta's `errorCode` for a call the credentials are not permitted to make (HTTP 403).
pub const E_FORBIDDEN: &str = "E0000006";
/// Okta's `errorCode` for a feature the org or the caller lacks; Okta sends it with HTTP 401
/// although the credentials were accepted.
pub const E_FEATURE_NOT_PERMITTED: &str = "E0000015";

/// The token endpoint's OAuth 2.0 `error` values that mean the client was not authenticated.
const OAUTH_AUTHENTICATION_ERRORS: &[&str] = &["invalid_client", "invalid_grant"];
/// The token endpoint's OAuth 2.0 `error` values that mean the client may not have what it
/// asked for (a scope not granted to the service app, a grant type not allowed).
const OAUTH_AUTHORIZATION_ERRORS: &[&str] =
    &["invalid_scope", "access_denied", "unauthorized_client"];

/// Okta's error object as carried by [`ApiError::Okta`], [`ApiError::Auth`] and
/// [`ApiError::Forbidden`] (for the token endpoint: its OAuth 2.0 `error` as the code and
/// `error_description` as the summary).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OktaError {
    /// `errorCode`, e.g. `E0000007`.
    pub code: Option<String>,
    /// `errorSummary`.
    pub summary: Option<String>,
    /// `errorId`.
    pub id: Option<String>,
    /// `errorCauses[].errorSummary`.
    pub causes: Vec<String>,
    /// The scope a 403's `WWW-Authenticate: Bearer error="insufficient_scope", scope="..."`
    /// challenge names (an OAuth 2.0 access token without it).
    pub required_scope: Option<String>,
}

impl From<OktaErrorBody> for OktaError {
    fn from(b: OktaErrorBody) -> Self {
        Self {
            code: b.error_code,
            summary: b.error_summary,
            id: b.error_id,
            causes: b
                .error_causes
                .into_iter()
                .filter_map(|ErrorCause { error_summary }| error_summary)
                .collect(),
            required_scope: None,
        }
    }
}

impl fmt::Display for OktaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {}",
            self.code.as_deref().unwrap_or("no errorCode"),
            self.summary.as_deref().unwrap_or("no errorSummary")
        )?;
        if let Some(id) = &self.id {
            write!(f, " (errorId {id})")?;
        }
        if !self.causes.is_empty() {
            write!(f, "; causes: {}", self.causes.join("; "))?;
        }
        if let Some(scope) = &self.required_scope {
            write!(f, "; the access token lacks scope {scope}")?;
        }
        Ok(())
    }
}

/// A failed call to the Okta API.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// Okta answered with a non-success status.
    #[error("{endpoint}: HTTP {status}: {error}")]
    Okta {
        /// The call.
        endpoint: Endpoint,
        /// HTTP status.
        status: u16,
        /// Okta's error object (empty when the body was not one).
        error: Box<OktaError>,
    },
    /// The connection failed or was dropped before a complete response.
    #[error("{endpoint}: transport error: {message}")]
    Transport {
        /// The call.
        endpoint: Endpoint,
        /// What failed (never includes headers).
        message: String,
    },
    /// No response within the request timeout.
    #[error("{endpoint}: timed out")]
    Timeout {
        /// The call.
        endpoint: Endpoint,
    },
    /// The body was not the JSON expected.
    #[error(
        "{endpoint}: malformed JSON at line {line} column {column}: {message}{}",
        body_start(snippet)
    )]
    MalformedBody {
        /// The call.
        endpoint: Endpoint,
        /// Line of the error.
        line: usize,
        /// Column of the error.
        column: usize,
        /// serde's message.
        message: String,
        /// The body's first characters (empty when the body may hold a secret).
        snippet: String,
    },
    /// The body ended before its announced length or mid-document.
    #[error("{endpoint}: truncated body: {message}")]
    TruncatedBody {
        /// The call.
        endpoint: Endpoint,
        /// What was observed.
        message: String,
    },
    /// Retries for a transient failure ran out; the last failure is the source.
    #[error("gave up after {attempts} attempts")]
    RetriesExhausted {
        /// The call.
        endpoint: Endpoint,
        /// Attempts made.
        attempts: u32,
        /// The last failure.
        #[source]
        last: Box<ApiError>,
    },
    /// Authentication failed: Okta did not accept the credentials (HTTP 401 with `E0000011`
    /// "Invalid token provided" or no code; the token endpoint's `invalid_client` or
    /// `invalid_grant`). The token or key is wrong, expired or revoked.
    #[error("{endpoint}: credentials rejected: HTTP {status}: {error}")]
    Auth {
        /// The call (the token endpoint when an access token was refused).
        endpoint: Endpoint,
        /// HTTP status.
        status: u16,
        /// Okta's error object.
        error: Box<OktaError>,
    },
    /// Authorization failed: the credentials were accepted but do not allow this call (HTTP
    /// 403 `E0000006`, e.g. an access token without the call's scope or an admin role
    /// without the permission; `E0000015`, a feature the org or the caller lacks, which Okta
    /// sends with HTTP 401; the token endpoint's `invalid_scope`, `access_denied` or
    /// `unauthorized_client`).
    #[error("{endpoint}: not permitted: HTTP {status}: {error}")]
    Forbidden {
        /// The call.
        endpoint: Endpoint,
        /// HTTP status.
        status: u16,
        /// Okta's error object.
        error: Box<OktaError>,
    },
    /// The configured credential cannot be used to make a request at all (a private key that
    /// is not an RSA PEM key, a token with characters not allowed in a header). Nothing was
    /// sent.
    #[error("the configured credential cannot be used: {problem}")]
    Credential {
        /// What is wrong with it (never the credential).
        problem: String,
    },
    /// A request URL could not be built on the org URL (e.g. an admin path template).
    #[error("{path:?} does not make a URL on the org: {message}")]
    InvalidUrl {
        /// The path that was joined.
        path: String,
        /// Why it failed.
        message: String,
    },
    /// The HTTP client could not be set up.
    #[error("cannot build the HTTP client: {message}")]
    HttpClient {
        /// Why.
        message: String,
    },
    /// The client configuration is unusable.
    #[error(transparent)]
    Config(#[from] super::config::ConfigError),
    /// An admin call was asked for but no path template is configured for it.
    #[error("{call}: not configured (no path template); this call is not in Okta's public API")]
    AdminCallNotConfigured {
        /// The admin call's name.
        call: &'static str,
    },
    /// The body was larger than the bound of its call ([`MAX_PAGE_BODY_BYTES`] for a page,
    /// [`MAX_OBJECT_BODY_BYTES`] otherwise); reading stopped there.
    ///
    /// [`MAX_PAGE_BODY_BYTES`]: super::MAX_PAGE_BODY_BYTES
    /// [`MAX_OBJECT_BODY_BYTES`]: super::MAX_OBJECT_BODY_BYTES
    #[error("{endpoint}: response body larger than {limit_bytes} bytes, the bound of this call; not read further")]
    BodyTooLarge {
        /// The call.
        endpoint: Endpoint,
        /// The bound.
        limit_bytes: usize,
    },
    /// The body stopped arriving part way ([`MAX_BODY_IDLE`](super::MAX_BODY_IDLE)).
    #[error("{endpoint}: response body stalled: nothing for {} ms after {received_bytes} bytes", idle.as_millis())]
    BodyStalled {
        /// The call.
        endpoint: Endpoint,
        /// Bytes received before it stalled.
        received_bytes: usize,
        /// How long nothing arrived.
        idle: Duration,
    },
    /// A listing could not be read to its end: what it read is not all there is.
    #[error("{endpoint}: listing incomplete: {problem}")]
    Listing {
        /// The page being read or followed.
        endpoint: Endpoint,
        /// Why.
        problem: ListingProblem,
    },
    /// A request URL was not on the org's origin: nothing was sent, credentials included.
    #[error("refused to send a request to {target}: only the org's origin {org} gets requests")]
    ForeignOrigin {
        /// The origin and path it named (no query).
        target: String,
        /// The org's origin.
        org: String,
    },
}

/// What kind of failure an [`ApiError`] is, for reporting each differently (see
/// [`ApiErrorKind::as_str`] for stable names, e.g. for metrics labels).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ApiErrorKind {
    /// Okta did not accept the credentials (401 `E0000011`; the token endpoint's
    /// `invalid_client`/`invalid_grant`): check the token or the service app's key.
    Authentication,
    /// The credentials were accepted but do not allow the call (403 `E0000006`, 401
    /// `E0000015`, a scope not granted): see [`ApiError::required_scope`].
    Authorization,
    /// The object does not exist (404, `E0000007`).
    NotFound,
    /// Okta's rate limit stopped the call (429, `E0000047`), after waiting and retrying.
    RateLimited,
    /// Okta or a gateway in front of it failed (5xx), after retries where they are safe.
    ServerError,
    /// Okta refused the request itself (another 4xx, e.g. 400 `E0000001`).
    Rejected,
    /// No answer: the connection failed or dropped, or no response came in time.
    Unreachable,
    /// The body was not the JSON expected, or was cut short.
    MalformedBody,
    /// The body was larger than the call's bound.
    BodyTooLarge,
    /// The body stopped arriving part way.
    BodyStalled,
    /// A listing could not be read to its end (a paging loop, a repeated item, too many
    /// pages, a `next` link off the org).
    ListingIncomplete,
    /// A request URL would have left the org (a path that is not a path on the org, another
    /// origin): refused before anything was sent.
    RefusedUrl,
    /// The client's configuration or credential cannot work (nothing was sent).
    Configuration,
}

impl ApiErrorKind {
    /// A stable kebab-case name (`authentication`, `not-found`, `body-too-large`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            ApiErrorKind::Authentication => "authentication",
            ApiErrorKind::Authorization => "authorization",
            ApiErrorKind::NotFound => "not-found",
            ApiErrorKind::RateLimited => "rate-limited",
            ApiErrorKind::ServerError => "server-error",
            ApiErrorKind::Rejected => "rejected",
            ApiErrorKind::Unreachable => "unreachable",
            ApiErrorKind::MalformedBody => "malformed-body",
            ApiErrorKind::BodyTooLarge => "body-too-large",
            ApiErrorKind::BodyStalled => "body-stalled",
            ApiErrorKind::ListingIncomplete => "listing-incomplete",
            ApiErrorKind::RefusedUrl => "refused-url",
            ApiErrorKind::Configuration => "configuration",
        }
    }
}

impl fmt::Display for ApiErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl ApiError {
    /// The innermost error (unwrapping retry exhaustion).
    pub fn root(&self) -> &ApiError {
        match self {
            ApiError::RetriesExhausted { last, .. } => last.root(),
            other => other,
        }
    }

    /// A non-success answer of Okta's, as its variant: [`ApiError::Forbidden`] for 403,
    /// `E0000006` and `E0000015`; [`ApiError::Auth`] for any other 401 (`E0000011`);
    /// [`ApiError::Okta`] otherwise.
    pub(crate) fn from_status(endpoint: Endpoint, status: u16, error: OktaError) -> Self {
        let code = error.code.as_deref();
        let forbidden =
            status == 403 || matches!(code, Some(E_FORBIDDEN | E_FEATURE_NOT_PERMITTED));
        let unauthenticated = status == 401 || code == Some(E_INVALID_TOKEN);
        let error = Box::new(error);
        if forbidden {
            return ApiError::Forbidden {
                endpoint,
                status,
                error,
            };
        }
        if unauthenticated {
            return ApiError::Auth {
                endpoint,
                status,
                error,
            };
        }
        ApiError::Okta {
            endpoint,
            status,
            error,
        }
    }

    /// A non-success answer of the OAuth 2.0 token endpoint (`error` as the code), as its
    /// variant: [`ApiError::Auth`] when the client was not authenticated,
    /// [`ApiError::Forbidden`] when it may not have what it asked for, else by status.
    pub(crate) fn from_token_endpoint(endpoint: Endpoint, status: u16, error: OktaError) -> Self {
        let code = error.code.as_deref().unwrap_or_default();
        if OAUTH_AUTHORIZATION_ERRORS.contains(&code) {
            let error = Box::new(error);
            return ApiError::Forbidden {
                endpoint,
                status,
                error,
            };
        }
        if OAUTH_AUTHENTICATION_ERRORS.contains(&code) {
            let error = Box::new(error);
            return ApiError::Auth {
                endpoint,
                status,
                error,
            };
        }
        Self::from_status(endpoint, status, error)
    }

    /// What kind of failure this is (of the last attempt, after retries).
    pub fn kind(&self) -> ApiErrorKind {
        match self.root() {
            ApiError::Auth { .. } => ApiErrorKind::Authentication,
            ApiError::Forbidden { .. } => ApiErrorKind::Authorization,
            ApiError::Okta { status, error, .. } => okta_kind(*status, error.code.as_deref()),
            ApiError::Transport { .. } | ApiError::Timeout { .. } => ApiErrorKind::Unreachable,
            ApiError::MalformedBody { .. } | ApiError::TruncatedBody { .. } => {
                ApiErrorKind::MalformedBody
            }
            ApiError::BodyTooLarge { .. } => ApiErrorKind::BodyTooLarge,
            ApiError::BodyStalled { .. } => ApiErrorKind::BodyStalled,
            ApiError::Listing { .. } => ApiErrorKind::ListingIncomplete,
            ApiError::InvalidUrl { .. } | ApiError::ForeignOrigin { .. } => {
                ApiErrorKind::RefusedUrl
            }
            ApiError::Credential { .. }
            | ApiError::HttpClient { .. }
            | ApiError::Config(_)
            | ApiError::AdminCallNotConfigured { .. } => ApiErrorKind::Configuration,
            ApiError::RetriesExhausted { last, .. } => last.kind(),
        }
    }

    /// The call that failed, when there was one.
    pub fn endpoint(&self) -> Option<&Endpoint> {
        match self {
            ApiError::Okta { endpoint, .. }
            | ApiError::Transport { endpoint, .. }
            | ApiError::Timeout { endpoint }
            | ApiError::MalformedBody { endpoint, .. }
            | ApiError::TruncatedBody { endpoint, .. }
            | ApiError::RetriesExhausted { endpoint, .. }
            | ApiError::Auth { endpoint, .. }
            | ApiError::Forbidden { endpoint, .. }
            | ApiError::BodyTooLarge { endpoint, .. }
            | ApiError::BodyStalled { endpoint, .. }
            | ApiError::Listing { endpoint, .. } => Some(endpoint),
            ApiError::Credential { .. }
            | ApiError::InvalidUrl { .. }
            | ApiError::HttpClient { .. }
            | ApiError::Config(_)
            | ApiError::AdminCallNotConfigured { .. }
            | ApiError::ForeignOrigin { .. } => None,
        }
    }

    /// The scope Okta said the access token lacks (a 403 with an `insufficient_scope`
    /// challenge), e.g. `okta.apps.read`.
    pub fn required_scope(&self) -> Option<&str> {
        match self.root() {
            ApiError::Forbidden { error, .. } => error.required_scope.as_deref(),
            _ => None,
        }
    }

    /// The listing problem, when a listing could not be read to its end.
    pub fn listing_problem(&self) -> Option<&ListingProblem> {
        match self.root() {
            ApiError::Listing { problem, .. } => Some(problem),
            _ => None,
        }
    }

    /// Okta's `errorCode` (for the token endpoint, its OAuth 2.0 `error`), if the failure
    /// carried one.
    pub fn error_code(&self) -> Option<&str> {
        match self.root() {
            ApiError::Okta { error, .. }
            | ApiError::Auth { error, .. }
            | ApiError::Forbidden { error, .. } => error.code.as_deref(),
            _ => None,
        }
    }

    /// HTTP status, if Okta answered.
    pub fn status(&self) -> Option<u16> {
        match self.root() {
            ApiError::Okta { status, .. }
            | ApiError::Auth { status, .. }
            | ApiError::Forbidden { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Okta said the object does not exist (404 or `E0000007`).
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(404) || self.error_code() == Some("E0000007")
    }

    /// The call gave up on a rate limit (429 or `E0000047`), possibly after retries.
    pub fn is_rate_limited(&self) -> bool {
        self.status() == Some(429) || self.error_code() == Some("E0000047")
    }

    /// Authentication failed: Okta rejected the credentials ([`ApiError::Auth`]).
    pub fn is_unauthorized(&self) -> bool {
        matches!(self.root(), ApiError::Auth { .. })
    }

    /// Authorization failed: the credentials do not allow the call ([`ApiError::Forbidden`]).
    pub fn is_forbidden(&self) -> bool {
        matches!(self.root(), ApiError::Forbidden { .. })
    }

    /// A body that is not the JSON expected, without any of it (it may hold a token).
    pub(crate) fn malformed_secret(endpoint: Endpoint, err: &serde_json::Error) -> Self {
        ApiError::MalformedBody {
            endpoint,
            line: err.line(),
            column: err.column(),
            message: err.to_string(),
            snippet: String::new(),
        }
    }

    pub(crate) fn malformed(endpoint: Endpoint, err: &serde_json::Error, body: &[u8]) -> Self {
        let text = String::from_utf8_lossy(body);
        ApiError::MalformedBody {
            endpoint,
            line: err.line(),
            column: err.column(),
            message: err.to_string(),
            snippet: text.chars().take(MAX_BODY_SNIPPET_CHARS).collect(),
        }
    }
}

/// The kind of an answer of Okta's that is neither an authentication nor an authorization
/// failure.
fn okta_kind(status: u16, code: Option<&str>) -> ApiErrorKind {
    match (status, code) {
        (404, _) | (_, Some("E0000007")) => ApiErrorKind::NotFound,
        (429, _) | (_, Some("E0000047")) => ApiErrorKind::RateLimited,
        (500..=599, _) => ApiErrorKind::ServerError,
        _ => ApiErrorKind::Rejected,
    }
}

/// ` (body starts "...")`, or nothing without a snippet.
fn body_start(snippet: &str) -> String {
    if snippet.is_empty() {
        String::new()
    } else {
        format!(" (body starts {snippet:?})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoint(method: &str, path: &str) -> Endpoint {
        Endpoint {
            method: method.into(),
            path: path.into(),
        }
    }

    #[test]
    fn templates_replace_ids_with_placeholders() {
        for (path, template) in [
            ("/api/v1/apps", "GET /api/v1/apps"),
            ("/api/v1/apps/0oa1/users", "GET /api/v1/apps/{appId}/users"),
            (
                "/api/v1/apps/0oa1/users/00u1",
                "GET /api/v1/apps/{appId}/users/{userId}",
            ),
            (
                "/api/v1/apps/0oa1/group-push/mappings/gPm1",
                "GET /api/v1/apps/{appId}/group-push/mappings/{mappingId}",
            ),
            (
                "/api/v1/apps/0oa1/features/USER_PROVISIONING",
                "GET /api/v1/apps/{appId}/features/USER_PROVISIONING",
            ),
            (
                "/api/v1/apps/0oa1/connections/default/lifecycle/activate",
                "GET /api/v1/apps/{appId}/connections/default/lifecycle/activate",
            ),
            ("/api/v1/users/00u1", "GET /api/v1/users/{userId}"),
            ("/api/v1/agentPools", "GET /api/v1/agentPools"),
            (
                "/api/v1/internal/directories/0oa1/force-sync",
                "GET /api/v1/internal/directories/{appId}/force-sync",
            ),
        ] {
            assert_eq!(endpoint("GET", path).template(), template);
        }
    }
}
