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

/// What the governor knows of one bucket.
#[derive(Debug, Clone, Copy, Default)]
struct BucketState {
    /// The bucket's limit, once an answer told it.
    limit: Option<u32>,
    /// The lowest `X-Rate-Limit-Remaining` the server reported in the current window (the
    /// whole bucket: other integrations' requests included).
    remaining: u32,
    /// When the current window ends; `None` until an answer of the window tells.
    reset_at: Option<Instant>,
    /// This client's requests sent and not answered yet.
    in_flight: u32,
    /// When the request that will first tell the limit was sent.
    probe_sent: Option<Instant>,
}

impl BucketState {
    /// Requests used in this window as far as the governor can tell: the server's count plus
    /// this client's requests it has not answered yet (counted twice at worst, never missed).
    fn used(&self, limit: u32) -> u32 {
        limit
            .saturating_sub(self.remaining)
            .saturating_add(self.in_flight)
    }
}

/// Why a request waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wait {
    /// The share of the window is used: until the window ends.
    Headroom,
    /// The bucket's limit is not known yet: until the first request's answer.
    Probe,
}

/// Responses whose reset times differ by less than this belong to one window (the headers
/// count in whole seconds).
const SAME_WINDOW_SLACK: Duration = Duration::from_secs(2);

/// While a bucket's limit or its window's end is unknown, waiting requests look again after
/// this long.
const UNKNOWN_WINDOW_POLL: Duration = Duration::from_millis(50);

/// A first request to a bucket that got no answer for this long no longer holds the others back.
const PROBE_PATIENCE: Duration = Duration::from_secs(5);

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

/// A request's place in its bucket: held until the answer was observed, released on drop.
#[derive(Debug)]
pub(crate) struct Reservation<'a> {
    governor: &'a Governor,
    bucket: Bucket,
}

impl Drop for Reservation<'_> {
    fn drop(&mut self) {
        let mut map = self.governor.lock();
        if let Some(state) = map.get_mut(&self.bucket) {
            state.in_flight = state.in_flight.saturating_sub(1);
        }
    }
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

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Bucket, BucketState>> {
        self.buckets
            .lock()
            .expect("governor lock is never poisoned")
    }

    /// Requests that may be used per window out of `limit`.
    fn allowance(&self, limit: u32) -> u32 {
        let share = (1.0 - self.headroom) * f64::from(limit);
        // At least one request per window, or the client could never proceed.
        (share.floor() as u32).max(1)
    }

    /// Waits until a request to `bucket` keeps the headroom free, then reserves it. Hold the
    /// reservation until the answer's headers were observed: requests in flight count against
    /// the share, so an answer that reports the bucket fuller than it is cannot let too many
    /// through. The first request to a bucket goes alone, to learn its limit.
    pub(crate) async fn acquire(&self, bucket: Bucket) -> Reservation<'_> {
        loop {
            let now = Instant::now();
            let Err((until, why)) = self.try_reserve(bucket, now) else {
                return Reservation {
                    governor: self,
                    bucket,
                };
            };
            if why == Wait::Headroom {
                self.stats.waits_headroom.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(?bucket, "rate-limit headroom reached; waiting for reset");
            }
            tokio::time::sleep_until(until).await;
        }
    }

    fn try_reserve(&self, bucket: Bucket, now: Instant) -> Result<(), (Instant, Wait)> {
        let mut map = self.lock();
        let state = map.entry(bucket).or_default();
        let Some(limit) = state.limit else {
            let probe_pending = state.probe_sent.is_some_and(|sent| {
                state.in_flight > 0 && now.duration_since(sent) < PROBE_PATIENCE
            });
            if probe_pending {
                return Err((now + UNKNOWN_WINDOW_POLL, Wait::Probe));
            }
            state.probe_sent = Some(now);
            state.in_flight += 1;
            return Ok(());
        };
        if state.reset_at.is_some_and(|reset| now >= reset) {
            // The window ended: the bucket is full again as far as we know.
            state.remaining = limit;
            state.reset_at = None;
        }
        if state.used(limit) < self.allowance(limit) {
            state.in_flight += 1;
            return Ok(());
        }
        let until = state.reset_at.unwrap_or(now + UNKNOWN_WINDOW_POLL);
        Err((until, Wait::Headroom))
    }

    /// Updates a bucket from a response's headers.
    pub(crate) fn observe(&self, bucket: Bucket, headers: &HeaderMap) -> Option<u32> {
        let limit = header_u64(headers, "x-rate-limit-limit")?;
        let remaining = header_u64(headers, "x-rate-limit-remaining")?;
        let reset = header_u64(headers, "x-rate-limit-reset")?;
        let now = Instant::now();
        let reset_at = now + reset_delay(reset, headers);
        let limit = u32::try_from(limit).unwrap_or(u32::MAX);
        let remaining = u32::try_from(remaining).unwrap_or(u32::MAX);
        let mut map = self.lock();
        let state = map.entry(bucket).or_default();
        let known = state.reset_at;
        let first = state.limit.is_none();
        state.limit = Some(limit);
        match known {
            // The first answer: the limit and the window are now known.
            _ if first => {
                state.remaining = remaining;
                state.reset_at = Some(reset_at);
            }
            // The first answer since the window ended here. (A late answer of the window that
            // ended only makes the governor wait for a reset that is due at once.)
            None => {
                state.remaining = state.remaining.min(remaining);
                state.reset_at = Some(reset_at);
            }
            // The server's window moved on before ours: take its count.
            Some(known) if reset_at > known + SAME_WINDOW_SLACK => {
                state.remaining = remaining;
                state.reset_at = Some(reset_at);
            }
            // A late answer of an earlier window.
            Some(known) if reset_at + SAME_WINDOW_SLACK < known => {}
            Some(_) => state.remaining = state.remaining.min(remaining),
        }
        Some(remaining)
    }

    /// After a 429: marks the bucket empty and returns how long to wait (`Reset - Date + 1 s`).
    pub(crate) fn on_rate_limited(&self, bucket: Bucket, headers: &HeaderMap) -> Duration {
        self.stats.waits_429.fetch_add(1, Ordering::Relaxed);
        let wait = match header_u64(headers, "x-rate-limit-reset") {
            Some(reset) => reset_delay(reset, headers) + RESET_GRACE,
            None => RESET_GRACE,
        };
        let limit = header_u64(headers, "x-rate-limit-limit")
            .and_then(|l| u32::try_from(l).ok())
            .unwrap_or(1);
        let mut map = self.lock();
        let state = map.entry(bucket).or_default();
        state.limit = Some(limit);
        state.remaining = 0;
        state.reset_at = Some(Instant::now() + wait);
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
        let _first = gov.acquire(Bucket::Apps).await; // used 4 + 1 in flight
        assert_eq!(gov.stats().headroom_waits(), 0);
        let _second = gov.acquire(Bucket::Apps).await; // used 5 >= 5: waits for reset
        assert_eq!(gov.stats().headroom_waits(), 1);
        assert!(Instant::now() - start >= Duration::from_secs(30));
    }

    /// Whether `acquire` is still waiting after `patience`.
    async fn blocks(gov: &Governor, bucket: Bucket, patience: Duration) -> bool {
        tokio::time::timeout(patience, gov.acquire(bucket))
            .await
            .is_err()
    }

    #[tokio::test(start_paused = true)]
    async fn requests_in_flight_count_against_the_share() {
        let gov = Governor::new(0.5);
        // The first request to a bucket goes alone; the next waits for its answer.
        let probe = gov.acquire(Bucket::Apps).await;
        assert!(blocks(&gov, Bucket::Apps, Duration::from_millis(200)).await);
        gov.observe(Bucket::Apps, &headers(100, 99, 60));
        drop(probe);
        // 49 more, none answered yet: 1 + 49 = 50, the share of 100 at 50% headroom.
        let mut held = Vec::new();
        for _ in 0..49 {
            held.push(gov.acquire(Bucket::Apps).await);
        }
        assert_eq!(gov.stats().headroom_waits(), 0);
        // An early answer reports the bucket fuller than it is; the others still count.
        gov.observe(Bucket::Apps, &headers(100, 98, 60));
        assert!(blocks(&gov, Bucket::Apps, Duration::from_secs(1)).await);
        assert!(gov.stats().headroom_waits() > 0);
        let start = Instant::now();
        let _next = gov.acquire(Bucket::Apps).await;
        assert!(
            Instant::now() - start >= Duration::from_secs(58),
            "the 51st request of the window waits for the reset"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_new_window_starts_full_and_counts_requests_in_flight() {
        let gov = Governor::new(0.5);
        let probe = gov.acquire(Bucket::Logs).await;
        gov.observe(Bucket::Logs, &headers(10, 5, 10)); // 5 of 10 used: the share
        drop(probe);
        let start = Instant::now();
        let mut held = vec![gov.acquire(Bucket::Logs).await];
        assert!(Instant::now() - start >= Duration::from_secs(10));
        // A late answer of the old window (its reset is now) ends the new window at once.
        gov.observe(Bucket::Logs, &headers(10, 0, 0));
        tokio::time::sleep(Duration::from_millis(1)).await;
        for _ in 0..4 {
            held.push(gov.acquire(Bucket::Logs).await);
        }
        // 5 in flight in the new window: the share again.
        assert!(blocks(&gov, Bucket::Logs, Duration::from_millis(200)).await);
        // Answers of the new window arrive and the requests end: room again.
        gov.observe(Bucket::Logs, &headers(10, 5, 60));
        held.clear();
        assert!(blocks(&gov, Bucket::Logs, Duration::from_millis(200)).await);
        gov.observe(Bucket::Logs, &headers(10, 7, 60));
        assert!(
            blocks(&gov, Bucket::Logs, Duration::from_millis(200)).await,
            "the lowest remaining of a window is kept"
        );
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
