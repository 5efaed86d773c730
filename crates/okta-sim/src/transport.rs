//! The simulator's transport layer: the state that rate limits, fault injection and request
//! counters share ([`Infra`]), and how they wrap the API router.
//!
//! The API router knows nothing of these: [`Infra::wrap`] layers them around it.

use std::collections::HashMap;
use std::sync::atomic::AtomicU32;
use std::sync::{Arc, Mutex};

use axum::middleware;
use axum::Router;
use serde::Deserialize;

use super::faults::{inject_faults, ActiveFault, FaultRule};
use super::rate_limit::{rate_limit, Bucket, RateLimitConfig, Window};
use super::stats::{log_and_count, StatsSnapshot};

/// Transport-layer settings of one simulator instance.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InfraConfig {
    #[serde(default)]
    pub rate_limits: RateLimitConfig,
    #[serde(default)]
    pub faults: Vec<FaultRule>,
}

/// Shared transport-layer state of one simulator instance.
#[derive(Debug)]
pub(crate) struct Infra {
    pub(crate) limits: Mutex<RateLimitConfig>,
    pub(crate) windows: Mutex<HashMap<Bucket, Window>>,
    pub(crate) in_flight: AtomicU32,
    pub(crate) faults: Mutex<Vec<ActiveFault>>,
    pub(crate) stats: Mutex<StatsSnapshot>,
}

/// Locks a mutex; a panic while holding one of these short critical sections cannot leave the
/// data inconsistent (every update is a single assignment or increment), so poison is ignored.
pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Infra {
    pub(crate) fn new(config: InfraConfig) -> Arc<Self> {
        let faults = config.faults.into_iter().map(ActiveFault::new).collect();
        Arc::new(Self {
            limits: Mutex::new(config.rate_limits),
            windows: Mutex::new(HashMap::new()),
            in_flight: AtomicU32::new(0),
            faults: Mutex::new(faults),
            stats: Mutex::new(StatsSnapshot::default()),
        })
    }

    /// Layers the request log, counters, faults and rate limits around the API router.
    /// Auth belongs to the API router (it runs after rate limiting, as in Okta).
    pub(crate) fn wrap(self: &Arc<Self>, api: Router) -> Router {
        api.layer(middleware::from_fn_with_state(self.clone(), rate_limit))
            .layer(middleware::from_fn_with_state(self.clone(), inject_faults))
            .layer(middleware::from_fn_with_state(self.clone(), log_and_count))
    }
}

/// Whether a request goes through the simulated API's transport rules.
pub(crate) fn is_api_path(path: &str) -> bool {
    path.starts_with("/api/") || path.starts_with("/oauth2/")
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

    use axum::routing::get;
    use tokio::net::TcpListener;
    use tokio_util::sync::CancellationToken;

    use crate::control::transport_routes;
    use crate::faults::FaultKind;
    use crate::serve::serve;
    /// A loopback server with a trivial API behind the transport layer.
    async fn start(config: InfraConfig) -> (Arc<Infra>, String, CancellationToken) {
        let infra = Infra::new(config);
        let api = Router::new()
            .route(
                "/api/v1/apps",
                get(|| async { axum::Json(serde_json::json!([{"id": "0oa1"}])) }),
            )
            .route(
                "/api/v1/logs",
                get(|| async { axum::Json(serde_json::json!([])) }),
            );
        let app = infra.wrap(api).merge(transport_routes(&infra));
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let base = format!("http://{}", listener.local_addr().expect("bound address"));
        let shutdown = CancellationToken::new();
        tokio::spawn(serve(listener, app, shutdown.clone()));
        (infra, base, shutdown)
    }

    fn header_u64(response: &reqwest::Response, name: &str) -> u64 {
        response.headers()[name]
            .to_str()
            .expect("ascii header")
            .parse()
            .expect("numeric header")
    }

    #[tokio::test]
    async fn buckets_send_headers_and_refuse_with_e0000047_when_empty() {
        let config = InfraConfig {
            rate_limits: RateLimitConfig {
                apps: 3,
                ..RateLimitConfig::default()
            },
            faults: vec![],
        };
        let (infra, base, _shutdown) = start(config).await;
        let http = reqwest::Client::new();
        for expected_remaining in [2, 1, 0] {
            let r = http
                .get(format!("{base}/api/v1/apps"))
                .send()
                .await
                .expect("send");
            assert_eq!(r.status(), 200);
            assert_eq!(header_u64(&r, "x-rate-limit-limit"), 3);
            assert_eq!(header_u64(&r, "x-rate-limit-remaining"), expected_remaining);
            assert!(r.headers().contains_key("x-okta-request-id"));
            assert!(r.headers().contains_key("date"));
        }
        let r = http
            .get(format!("{base}/api/v1/apps"))
            .send()
            .await
            .expect("send");
        assert_eq!(r.status(), 429);
        let reset = header_u64(&r, "x-rate-limit-reset");
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("after epoch")
            .as_secs();
        assert!(
            reset > now && reset <= now + 61,
            "reset {reset} vs now {now}"
        );
        let body: serde_json::Value = r.json().await.expect("json error body");
        assert_eq!(body["errorCode"], "E0000047");
        assert_eq!(body["errorLink"], "E0000047");
        assert!(body["errorId"]
            .as_str()
            .is_some_and(|id| id.starts_with("oae")));
        // Another bucket is unaffected.
        let r = http
            .get(format!("{base}/api/v1/logs"))
            .send()
            .await
            .expect("send");
        assert_eq!(r.status(), 200);
        assert_eq!(header_u64(&r, "x-rate-limit-limit"), 120);

        let stats = infra.stats();
        assert_eq!(stats.total, 5);
        assert_eq!(stats.rate_limited, 1);
        assert_eq!(stats.count("GET /api/v1/apps"), 4);
        assert_eq!(stats.endpoints["GET /api/v1/apps"].statuses[&429], 1);
    }

    #[tokio::test]
    async fn disabled_limits_refuse_nothing_and_report_a_full_bucket() {
        let config = InfraConfig {
            rate_limits: RateLimitConfig {
                apps: 1,
                enabled: false,
                ..RateLimitConfig::default()
            },
            faults: vec![],
        };
        let (_infra, base, _shutdown) = start(config).await;
        let http = reqwest::Client::new();
        for _ in 0..3 {
            let r = http
                .get(format!("{base}/api/v1/apps"))
                .send()
                .await
                .expect("send");
            assert_eq!(r.status(), 200);
            assert_eq!(header_u64(&r, "x-rate-limit-limit"), 1);
            assert_eq!(header_u64(&r, "x-rate-limit-remaining"), 1);
        }
    }

    #[tokio::test]
    async fn window_reset_refills_the_bucket() {
        let config = InfraConfig {
            rate_limits: RateLimitConfig {
                apps: 1,
                window: Duration::from_millis(300),
                ..RateLimitConfig::default()
            },
            faults: vec![],
        };
        let (_infra, base, _shutdown) = start(config).await;
        let http = reqwest::Client::new();
        let url = format!("{base}/api/v1/apps");
        assert_eq!(http.get(&url).send().await.expect("send").status(), 200);
        assert_eq!(http.get(&url).send().await.expect("send").status(), 429);
        tokio::time::sleep(Duration::from_millis(350)).await;
        assert_eq!(http.get(&url).send().await.expect("send").status(), 200);
    }

    #[tokio::test]
    async fn each_fault_kind_over_http() {
        let (infra, base, _shutdown) = start(InfraConfig::default()).await;
        let http = reqwest::Client::new();
        let url = format!("{base}/api/v1/apps");
        let add = |kind: FaultKind| FaultRule {
            path_prefix: Some("/api/v1/apps".into()),
            method: None,
            kind,
            count: Some(1),
            after: 0,
        };

        infra.add_fault(add(FaultKind::ServerError { status: 503 }));
        let r = http.get(&url).send().await.expect("send");
        assert_eq!(r.status(), 503);
        assert_eq!(
            r.json::<serde_json::Value>().await.expect("json")["errorCode"],
            "E0000010"
        );

        infra.add_fault(add(FaultKind::NotFound));
        let r = http.get(&url).send().await.expect("send");
        assert_eq!(r.status(), 404);
        assert_eq!(
            r.json::<serde_json::Value>().await.expect("json")["errorCode"],
            "E0000007"
        );

        infra.add_fault(add(FaultKind::RateLimited));
        let r = http.get(&url).send().await.expect("send");
        assert_eq!(r.status(), 429);
        assert_eq!(header_u64(&r, "x-rate-limit-remaining"), 0);

        infra.add_fault(add(FaultKind::Malformed));
        let r = http.get(&url).send().await.expect("send");
        assert_eq!(r.status(), 200);
        assert!(r.json::<serde_json::Value>().await.is_err());

        infra.add_fault(add(FaultKind::Truncated));
        let r = http.get(&url).send().await.expect("send head");
        assert_eq!(r.status(), 200);
        assert!(
            r.bytes().await.is_err(),
            "a truncated body must fail to read"
        );

        infra.add_fault(add(FaultKind::Drop));
        let error = http.get(&url).send().await.expect_err("dropped connection");
        assert!(!error.is_status());

        infra.add_fault(add(FaultKind::Latency { millis: 50 }));
        let started = Instant::now();
        assert_eq!(http.get(&url).send().await.expect("send").status(), 200);
        assert!(started.elapsed() >= Duration::from_millis(50));

        // Every rule fired once; the API is healthy again.
        assert_eq!(http.get(&url).send().await.expect("send").status(), 200);
        assert!(infra.fault_statuses().iter().all(|f| f.applied == 1));
        let stats = infra.stats();
        assert_eq!(stats.faults_injected, 7);
        assert_eq!(
            stats.endpoints["GET /api/v1/apps"].statuses[&0], 1,
            "the drop is counted"
        );
    }

    #[tokio::test]
    async fn control_routes_drive_faults_and_stats() {
        let (_infra, base, _shutdown) = start(InfraConfig::default()).await;
        let http = reqwest::Client::new();
        let rule = serde_json::json!({"kind": {"type": "server-error", "status": 500}, "count": 2});
        let r = http
            .post(format!("{base}/__sim/faults"))
            .json(&rule)
            .send()
            .await
            .expect("send");
        assert_eq!(r.status(), 201);
        let bad = serde_json::json!({"kind": {"type": "explode"}});
        let r = http
            .post(format!("{base}/__sim/faults"))
            .json(&bad)
            .send()
            .await
            .expect("send");
        assert_eq!(r.status(), 400);
        for _ in 0..2 {
            let r = http
                .get(format!("{base}/api/v1/logs"))
                .send()
                .await
                .expect("send");
            assert_eq!(r.status(), 500);
        }
        let r = http
            .get(format!("{base}/api/v1/logs"))
            .send()
            .await
            .expect("send");
        assert_eq!(r.status(), 200);
        let stats: StatsSnapshot = http
            .get(format!("{base}/__sim/stats"))
            .send()
            .await
            .expect("send")
            .json()
            .await
            .expect("stats json");
        assert_eq!(stats.count("GET /api/v1/logs"), 3);
        assert_eq!(stats.endpoints["GET /api/v1/logs"].statuses[&500], 2);
        assert_eq!(
            stats.count("GET /__sim/stats"),
            0,
            "control routes are not counted"
        );
        let r = http
            .post(format!("{base}/__sim/stats/reset"))
            .send()
            .await
            .expect("send");
        assert_eq!(r.status(), 204);
        let r = http
            .delete(format!("{base}/__sim/faults"))
            .send()
            .await
            .expect("send");
        assert_eq!(r.status(), 204);
    }

    #[tokio::test]
    async fn concurrency_limit_answers_429_with_zero_headers() {
        use tokio::sync::Notify;
        let entered = Arc::new(Notify::new());
        let release = Arc::new(Notify::new());
        let infra = Infra::new(InfraConfig {
            rate_limits: RateLimitConfig {
                concurrency: 1,
                ..RateLimitConfig::default()
            },
            faults: vec![],
        });
        let held = {
            let (entered, release) = (entered.clone(), release.clone());
            move || async move {
                entered.notify_one();
                release.notified().await;
                "done"
            }
        };
        let api = Router::new()
            .route("/api/v1/groups", get(held))
            .route("/api/v1/logs", get(|| async { "[]" }));
        let app = infra.wrap(api);
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let base = format!("http://{}", listener.local_addr().expect("bound address"));
        let shutdown = CancellationToken::new();
        tokio::spawn(serve(listener, app, shutdown.clone()));
        let http = reqwest::Client::new();
        let slow = tokio::spawn({
            let http = http.clone();
            let url = format!("{base}/api/v1/groups");
            async move { http.get(url).send().await.expect("send").status() }
        });
        entered.notified().await;
        let r = http
            .get(format!("{base}/api/v1/logs"))
            .send()
            .await
            .expect("send");
        assert_eq!(r.status(), 429);
        assert_eq!(header_u64(&r, "x-rate-limit-limit"), 0);
        assert_eq!(header_u64(&r, "x-rate-limit-remaining"), 0);
        release.notify_one();
        assert_eq!(slow.await.expect("join"), 200);
        let r = http
            .get(format!("{base}/api/v1/logs"))
            .send()
            .await
            .expect("send");
        assert_eq!(r.status(), 200, "the slot is free again");
        shutdown.cancel();
    }
}
