//! `ApiError`: every way a call to the Okta Management API can fail, with its endpoint.
//!
//! No variant carries a header, a token or a query string: endpoints are method + path only.

use super::model::{ErrorCause, OktaErrorBody};
use std::fmt;

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

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method, self.path)
    }
}

/// Okta's error object as carried by [`ApiError::Okta`].
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
    #[error("{endpoint}: malformed JSON at line {line} column {column}: {message} (body starts {snippet:?})")]
    MalformedBody {
        /// The call.
        endpoint: Endpoint,
        /// Line of the error.
        line: usize,
        /// Column of the error.
        column: usize,
        /// serde's message.
        message: String,
        /// The body's first characters.
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
    /// Obtaining an access token failed.
    #[error("authentication failed: {0}")]
    Auth(String),
    /// The client configuration is unusable.
    #[error(transparent)]
    Config(#[from] super::config::ConfigError),
    /// An admin call was asked for but no path template is configured for it.
    #[error("{call}: not configured (no path template); this call is not in Okta's public API")]
    AdminCallNotConfigured {
        /// The admin call's name.
        call: &'static str,
    },
    /// A next-page URL did not belong to the configured org.
    #[error("next page URL {0:?} is not on the configured org")]
    ForeignNextPage(String),
}

impl ApiError {
    /// The innermost error (unwrapping retry exhaustion).
    pub fn root(&self) -> &ApiError {
        match self {
            ApiError::RetriesExhausted { last, .. } => last.root(),
            other => other,
        }
    }

    /// Okta's `errorCode`, if the failure carried one.
    pub fn error_code(&self) -> Option<&str> {
        match self.root() {
            ApiError::Okta { error, .. } => error.code.as_deref(),
            _ => None,
        }
    }

    /// HTTP status, if Okta answered.
    pub fn status(&self) -> Option<u16> {
        match self.root() {
            ApiError::Okta { status, .. } => Some(*status),
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

    /// Okta rejected the credentials (401 or `E0000011`).
    pub fn is_unauthorized(&self) -> bool {
        self.status() == Some(401) || self.error_code() == Some("E0000011")
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
