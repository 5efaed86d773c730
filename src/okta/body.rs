//! Reading a response body incrementally, bounded in size and in time: a body past its call's
//! bound is refused without being held, and one that stops arriving times out.

use std::time::Duration;

use tokio::time::Instant;

use super::error::{ApiError, Endpoint};

/// Largest body of one page of a listing. A real page is far smaller: 200 apps of the largest
/// recorded app object (about 6 KiB) make about 1.2 MiB; 500 app users with their users
/// embedded, or 1,000 System Log events, a few MiB.
pub const MAX_PAGE_BODY_BYTES: usize = 32 * 1024 * 1024;
/// Largest body of any other answer (one object, a write's answer).
pub const MAX_OBJECT_BODY_BYTES: usize = 4 * 1024 * 1024;
/// Most of an error answer's body read: enough for Okta's error object; the status decides.
pub const MAX_ERROR_BODY_BYTES: usize = 64 * 1024;
/// Most of the OAuth 2.0 token endpoint's answer read (an access token is a few KiB).
pub const MAX_TOKEN_BODY_BYTES: usize = 64 * 1024;
/// A body that sends nothing for this long has stalled (or for half the request timeout, when
/// that is shorter). The request timeout bounds the whole exchange as well.
pub const MAX_BODY_IDLE: Duration = Duration::from_secs(10);

/// Why a body could not be read.
#[derive(Debug)]
pub(crate) enum BodyError {
    /// More than the bound (announced by `Content-Length` or received).
    TooLarge,
    /// Nothing arrived for the idle timeout after `received` bytes.
    Stalled { received: usize, idle: Duration },
    /// The whole exchange ran past its deadline.
    Timeout,
    /// The connection failed mid-body.
    Broken(String),
}

impl BodyError {
    /// The failure of a call to `endpoint` whose body was bounded by `limit` bytes.
    pub(crate) fn into_api_error(self, endpoint: &Endpoint, limit: usize) -> ApiError {
        let endpoint = endpoint.clone();
        match self {
            BodyError::TooLarge => ApiError::BodyTooLarge {
                endpoint,
                limit_bytes: limit,
            },
            BodyError::Stalled { received, idle } => ApiError::BodyStalled {
                endpoint,
                received_bytes: received,
                idle,
            },
            BodyError::Timeout => ApiError::Timeout { endpoint },
            BodyError::Broken(message) => ApiError::TruncatedBody {
                endpoint,
                message: format!("body read failed: {message}"),
            },
        }
    }
}

/// The idle timeout of a body for a request timeout.
pub(crate) fn idle_timeout(request_timeout: Duration) -> Duration {
    MAX_BODY_IDLE.min(request_timeout / 2)
}

/// Reads `response`'s body chunk by chunk: at most `limit` bytes, each chunk within `idle` of
/// the one before, the whole by `deadline`.
pub(crate) async fn read_body(
    response: &mut reqwest::Response,
    limit: usize,
    idle: Duration,
    deadline: Instant,
) -> Result<Vec<u8>, BodyError> {
    let announced = response.content_length();
    if announced.is_some_and(|n| n > limit as u64) {
        return Err(BodyError::TooLarge);
    }
    let capacity = announced.map_or(0, |n| n as usize).min(limit);
    let mut body = Vec::with_capacity(capacity);
    loop {
        let next = tokio::time::timeout(idle, response.chunk());
        let chunk = match tokio::time::timeout_at(deadline, next).await {
            Err(_) => return Err(BodyError::Timeout),
            Ok(Err(_)) => {
                return Err(BodyError::Stalled {
                    received: body.len(),
                    idle,
                })
            }
            Ok(Ok(Err(e))) if e.is_timeout() => return Err(BodyError::Timeout),
            Ok(Ok(Err(e))) => return Err(BodyError::Broken(e.without_url().to_string())),
            Ok(Ok(Ok(None))) => return Ok(body),
            Ok(Ok(Ok(Some(chunk)))) => chunk,
        };
        if body.len() + chunk.len() > limit {
            return Err(BodyError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
}
