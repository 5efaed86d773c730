//! The Okta client's request observer (the daemon's API-request metrics) sees every attempt,
//! retries included, with method, path and status, against okta-sim over loopback HTTP.

use std::sync::{Arc, Mutex};

use okta_sim::Scenario;
use remediator::daemon::Metrics;
use remediator::okta::{ClientTuning, Endpoint, OrgApi, PageRequest, RequestObserver};

use crate::support::sim::{client, serve};

#[derive(Default)]
struct Seen(Mutex<Vec<(String, String, Option<u16>)>>);

impl RequestObserver for Seen {
    fn on_response(&self, endpoint: &Endpoint, status: Option<u16>) {
        self.0.lock().expect("test lock").push((
            endpoint.method.clone(),
            endpoint.path.clone(),
            status,
        ));
    }
}

#[tokio::test]
async fn every_attempt_is_observed_and_counted() {
    let mut scenario =
        Scenario::from_toml_file("tests/scenarios/healthy.toml").expect("scenario loads");
    let token = scenario.org.api_tokens[0].clone();
    scenario.faults = serde_json::from_value(serde_json::json!([
        { "path_prefix": "/api/v1/apps", "kind": { "type": "server-error", "status": 503 }, "count": 2 }
    ]))
    .expect("fault rules");
    let sim = serve(scenario).await;
    let api = client(&sim, &token, ClientTuning::default());
    let seen = Arc::new(Seen::default());
    assert!(api.set_request_observer(seen.clone()));
    assert!(
        !api.set_request_observer(Arc::new(Seen::default())),
        "a second observer is refused"
    );
    let page = api
        .list_apps(PageRequest::First)
        .await
        .expect("listed after retries");
    assert!(!page.items.is_empty());
    let statuses: Vec<Option<u16>> = seen
        .0
        .lock()
        .expect("test lock")
        .iter()
        .map(|s| s.2)
        .collect();
    assert_eq!(statuses, [Some(503), Some(503), Some(200)]);
    assert!(seen
        .0
        .lock()
        .expect("test lock")
        .iter()
        .all(|(m, p, _)| m == "GET" && p == "/api/v1/apps"));

    // Through the daemon's metrics: one sample per endpoint template and status.
    let metrics = Arc::new(Metrics::new());
    let other = client(&sim, "wrong-token", ClientTuning::default());
    assert!(other.set_request_observer(metrics.request_observer("prod")));
    let denied = other.list_apps(PageRequest::First).await;
    assert!(denied.is_err(), "a wrong token is refused");
    let text = metrics.encode();
    assert!(
        text.contains(r#"remediator_okta_requests_total{org="prod",method="GET",endpoint="/api/v1/apps",status="401"} 1"#),
        "{text}"
    );
    sim.shutdown().await;
}
