//! The rate-limit governor: one bucket state per Okta endpoint bucket, fed by the
//! `X-Rate-Limit-*` headers, keeping a share of each bucket free and waiting for resets.

use reqwest::header::HeaderMap;
use reqwest::Method;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::time::Instant;

/// Extra wait after a 429's reset, as the Okta SDKs do.
pub const RESET_GRACE: Duration = Duration::from_secs(1);
/// Longest wait accepted from a reset header (guards against absurd clocks).
pub const MAX_RESET_WAIT: Duration = Duration::from_secs(120);

/// Okta's rate-limit buckets, as far as this client uses them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Bucket {
    /// `/api/v1/apps/{id}`.
    AppById,
    /// Everything else under `/api/v1/apps`.
    Apps,
    /// `GET /api/v1/users/{id}`.
    UserGet,
    /// Other calls under `/api/v1/users`.
    Users,
    /// `/api/v1/groups`.
    Groups,
    /// `/api/v1/groups/{id}`.
    GroupById,
    /// `GET /api/v1/logs`.
    Logs,
    /// `/oauth2/...`.
    OAuth2,
    /// Anything else.
    Other,
}

/// Classifies a request into its bucket.
pub fn classify(method: &Method, path: &str) -> Bucket {
    let segs: Vec<&str> = path.trim_end_matches('/').split('/').skip(1).collect();
    match segs.as_slice() {
        ["oauth2", ..] => Bucket::OAuth2,
        ["api", "v1", "apps", _id] => Bucket::AppById,
        ["api", "v1", "apps", ..] => Bucket::Apps,
        ["api", "v1", "users", _id] if method == Method::GET => Bucket::UserGet,
        ["api", "v1", "users", ..] => Bucket::Users,
        ["api", "v1", "groups"] => Bucket::Groups,
        ["api", "v1", "groups", _id] => Bucket::GroupById,
        ["api", "v1", "logs"] if method == Method::GET => Bucket::Logs,
        _ => Bucket::Other,
    }
}

#[derive(Debug, Clone, Copy)]
struct BucketState {
    limit: u32,
    remaining: u32,
    reset_at: Instant,
}

/// Counts of the governor's waits, for metrics.
#[derive(Debug, Default)]
pub struct GovernorStats {
    waits_headroom: AtomicU64,
    waits_429: AtomicU64,
}

impl GovernorStats {
    /// Waits taken to keep the headroom share free.
    pub fn headroom_waits(&self) -> u64 {
        self.waits_headroom.load(Ordering::Relaxed)
    }
    /// 429 responses received (each empties its bucket until the announced reset).
    pub fn rate_limited_waits(&self) -> u64 {
        self.waits_429.load(Ordering::Relaxed)
    }
}

/// Per-bucket governor shared by all requests of one client.
#[derive(Debug)]
pub(crate) struct Governor {
    headroom: f64,
    buckets: Mutex<HashMap<Bucket, BucketState>>,
    stats: GovernorStats,
}

impl Governor {
    pub(crate) fn new(headroom: f64) -> Self {
        Self {
            headroom,
            buckets: Mutex::new(HashMap::new()),
            stats: GovernorStats::default(),
        }
    }

    pub(crate) fn stats(&self) -> &GovernorStats {
        &self.stats
    }

    /// Requests that may be used per window out of `limit`.
    fn allowance(&self, limit: u32) -> u32 {
        let share = (1.0 - self.headroom) * f64::from(limit);
        // At least one request per window, or the client could never proceed.
        (share.floor() as u32).max(1)
    }

    /// Waits until a request to `bucket` keeps the headroom free, then reserves it.
    pub(crate) async fn acquire(&self, bucket: Bucket) {
        loop {
            let wait_until = {
                let mut map = self
                    .buckets
                    .lock()
                    .expect("governor lock is never poisoned");
                let Some(state) = map.get_mut(&bucket) else {
                    return;
                };
                let now = Instant::now();
                if now >= state.reset_at {
                    map.remove(&bucket);
                    return;
                }
                let used = state.limit.saturating_sub(state.remaining);
                if used < self.allowance(state.limit) {
                    state.remaining = state.remaining.saturating_sub(1);
                    return;
                }
                state.reset_at
            };
            self.stats.waits_headroom.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(?bucket, "rate-limit headroom reached; waiting for reset");
            tokio::time::sleep_until(wait_until).await;
        }
    }

    /// Updates a bucket from a response's headers.
    pub(crate) fn observe(&self, bucket: Bucket, headers: &HeaderMap) -> Option<u32> {
        let limit = header_u64(headers, "x-rate-limit-limit")?;
        let remaining = header_u64(headers, "x-rate-limit-remaining")?;
        let reset = header_u64(headers, "x-rate-limit-reset")?;
        let delay = reset_delay(reset, headers);
        let state = BucketState {
            limit: u32::try_from(limit).unwrap_or(u32::MAX),
            remaining: u32::try_from(remaining).unwrap_or(u32::MAX),
            reset_at: Instant::now() + delay,
        };
        let mut map = self
            .buckets
            .lock()
            .expect("governor lock is never poisoned");
        // Concurrent responses may arrive out of order: keep the lowest remaining per window.
        let merged = match map.get(&bucket) {
            Some(old) if old.reset_at >= state.reset_at && old.remaining < state.remaining => *old,
            _ => state,
        };
        map.insert(bucket, merged);
        Some(state.remaining)
    }

    /// After a 429: marks the bucket empty and returns how long to wait (`Reset - Date + 1 s`).
    pub(crate) fn on_rate_limited(&self, bucket: Bucket, headers: &HeaderMap) -> Duration {
        self.stats.waits_429.fetch_add(1, Ordering::Relaxed);
        let wait = match header_u64(headers, "x-rate-limit-reset") {
            Some(reset) => reset_delay(reset, headers) + RESET_GRACE,
            None => RESET_GRACE,
        };
        let mut map = self
            .buckets
            .lock()
            .expect("governor lock is never poisoned");
        let limit = header_u64(headers, "x-rate-limit-limit")
            .and_then(|l| u32::try_from(l).ok())
            .unwrap_or(1);
        map.insert(
            bucket,
            BucketState {
                limit,
                remaining: 0,
                reset_at: Instant::now() + wait,
            },
        );
        wait
    }
}

fn header_u64(headers: &HeaderMap, name: &str) -> Option<u64> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

/// Time until `reset` (epoch seconds), measured against the server's `Date` when present.
fn reset_delay(reset: u64, headers: &HeaderMap) -> Duration {
    let server_now = headers
        .get(reqwest::header::DATE)
        .and_then(|v| v.to_str().ok())
        .and_then(|s| httpdate::parse_http_date(s).ok())
        .unwrap_or_else(SystemTime::now);
    let now_secs = server_now
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    Duration::from_secs(reset.saturating_sub(now_secs)).min(MAX_RESET_WAIT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_like_okta() {
        let g = Method::GET;
        assert_eq!(classify(&g, "/api/v1/apps/0oa1"), Bucket::AppById);
        assert_eq!(classify(&g, "/api/v1/apps"), Bucket::Apps);
        assert_eq!(classify(&g, "/api/v1/apps/0oa1/users"), Bucket::Apps);
        assert_eq!(classify(&g, "/api/v1/users/00u1"), Bucket::UserGet);
        assert_eq!(classify(&Method::POST, "/api/v1/users/00u1"), Bucket::Users);
        assert_eq!(classify(&g, "/api/v1/users"), Bucket::Users);
        assert_eq!(classify(&g, "/api/v1/groups"), Bucket::Groups);
        assert_eq!(classify(&g, "/api/v1/groups/00g1"), Bucket::GroupById);
        assert_eq!(classify(&g, "/api/v1/logs"), Bucket::Logs);
        assert_eq!(classify(&Method::POST, "/oauth2/v1/token"), Bucket::OAuth2);
        assert_eq!(classify(&g, "/api/v1/agentPools"), Bucket::Other);
    }

    fn headers(limit: u64, remaining: u64, reset_in: u64) -> HeaderMap {
        let now = SystemTime::now();
        let secs = now
            .duration_since(UNIX_EPOCH)
            .expect("after epoch")
            .as_secs();
        let mut h = HeaderMap::new();
        h.insert("x-rate-limit-limit", limit.into());
        h.insert("x-rate-limit-remaining", remaining.into());
        h.insert("x-rate-limit-reset", (secs + reset_in).into());
        let date = httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_secs(secs));
        h.insert("date", date.parse().expect("http date is a valid header"));
        h
    }

    #[tokio::test(start_paused = true)]
    async fn headroom_blocks_until_reset() {
        let gov = Governor::new(0.5);
        gov.observe(Bucket::Apps, &headers(10, 6, 30));
        let start = Instant::now();
        gov.acquire(Bucket::Apps).await; // used 4 -> 5
        assert_eq!(gov.stats().headroom_waits(), 0);
        gov.acquire(Bucket::Apps).await; // used 5 >= 5: waits for reset
        assert_eq!(gov.stats().headroom_waits(), 1);
        assert!(Instant::now() - start >= Duration::from_secs(30));
    }

    #[tokio::test(start_paused = true)]
    async fn skew_corrected_by_date_header() {
        let gov = Governor::new(0.0);
        // Server clock one hour ahead of ours: the reset is 10 s after the server's Date.
        let mut h = headers(10, 0, 10);
        let ahead = SystemTime::now() + Duration::from_secs(3600);
        let secs = ahead
            .duration_since(UNIX_EPOCH)
            .expect("after epoch")
            .as_secs();
        h.insert("x-rate-limit-reset", (secs + 10).into());
        let date = httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_secs(secs));
        h.insert("date", date.parse().expect("valid"));
        let wait = gov.on_rate_limited(Bucket::Logs, &h);
        assert_eq!(wait, Duration::from_secs(11));
    }
}
