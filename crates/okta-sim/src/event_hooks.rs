//! Okta Event Hooks: registered receivers get the System Log events of the types they asked
//! for, pushed as Okta pushes them.
//!
//! Registering a hook (scenario `[[org.event_hooks]]` or `POST /__sim/event-hooks`) first runs
//! Okta's one-time verification: a `GET` carrying `x-okta-verification-challenge`, which the
//! receiver must answer with `{"verification": <challenge>}`. A verified hook then gets a `POST`
//! for every batch of new events of its types, in Okta's delivery envelope
//! (`com.okta.event_hook`, `data.events` holding the LogEvents), with its authorization header.
//! As Okta does, a delivery times out after 3 seconds, is retried at most once (after a timeout,
//! a transport error or a 5xx; never after a 4xx) and follows no redirect.
//!
//! Hook URLs are secrets: only their origin is ever shown (listings, logs, errors).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use serde::Serialize;
use serde_json::{json, Value};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::model::event_ts;
use super::scenario::EventHookSpec;

/// Okta's timeout for a call to an event hook receiver.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(3);
/// Okta retries a failed delivery at most once.
const MAX_RETRIES: u32 = 1;
/// Most events in one delivery.
const MAX_EVENTS_PER_DELIVERY: usize = 50;
/// Characters of a hook id after its `who` prefix (Okta's ids are 20 characters).
const HOOK_ID_SUFFIX_LEN: usize = 17;

/// Where the org sends the events it appends, once a hook is registered.
#[derive(Debug, Clone)]
pub(crate) struct EventSink {
    tx: mpsc::UnboundedSender<Value>,
    active: Arc<AtomicBool>,
}

impl EventSink {
    /// Passes an appended event on, when any hook is registered (else it costs nothing).
    pub(crate) fn send(&self, event: &Value) {
        if self.active.load(Ordering::Relaxed) {
            // A closed channel means the simulator is shutting down; the event stays in the log.
            let _ = self.tx.send(event.clone());
        }
    }
}

/// How one hook has fared (`GET /__sim/event-hooks`).
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct HookStats {
    /// Delivery requests the receiver accepted (2xx).
    pub deliveries: u64,
    /// Events in those deliveries.
    pub events_delivered: u64,
    /// Deliveries given up (after the retry, or a 4xx).
    pub failures: u64,
    pub last_error: Option<String>,
}

#[derive(Debug, Clone)]
struct Hook {
    id: String,
    spec: EventHookSpec,
    stats: HookStats,
}

/// The registered hooks and the delivery client of one simulator.
#[derive(Debug)]
pub(crate) struct EventHooks {
    hooks: Mutex<Vec<Hook>>,
    active: Arc<AtomicBool>,
    client: reqwest::Client,
    base_url: String,
}

/// Why a hook could not be registered.
#[derive(Debug, thiserror::Error)]
#[error("event hook {name:?} ({origin}) failed Okta's verification: {reason}")]
pub struct HookVerificationError {
    pub name: String,
    /// The receiver's origin only: the full URL is a secret.
    pub origin: String,
    pub reason: String,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The scheme, host and port of a URL, for showing a secret URL.
pub(crate) fn origin_of(url: &str) -> String {
    url::Url::parse(url).map_or_else(
        |_| "<invalid URL>".to_owned(),
        |u| u.origin().ascii_serialization(),
    )
}

fn new_hook_id() -> String {
    use rand::distributions::Alphanumeric;
    use rand::Rng as _;
    let tail: String = rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(HOOK_ID_SUFFIX_LEN)
        .map(char::from)
        .collect();
    format!("who{tail}")
}

impl EventHooks {
    /// The registry and the sink the org appends to; `run` delivers what reaches the sink.
    pub(crate) fn new(base_url: String) -> (Arc<Self>, EventSink, mpsc::UnboundedReceiver<Value>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let active = Arc::new(AtomicBool::new(false));
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(DELIVERY_TIMEOUT)
            .build()
            .expect("a client with a timeout and no redirects always builds");
        let hooks = Arc::new(Self {
            hooks: Mutex::new(Vec::new()),
            active: active.clone(),
            client,
            base_url,
        });
        (hooks, EventSink { tx, active }, rx)
    }

    /// Verifies the receiver as Okta does and, when it answers the challenge, registers the hook.
    pub(crate) async fn register(
        &self,
        spec: EventHookSpec,
    ) -> Result<Value, HookVerificationError> {
        let failed = |reason: String| HookVerificationError {
            name: spec.name.clone(),
            origin: origin_of(&spec.url),
            reason,
        };
        self.verify(&spec).await.map_err(failed)?;
        let hook = Hook {
            id: new_hook_id(),
            spec,
            stats: HookStats::default(),
        };
        let shown = describe(&hook);
        tracing::info!(target: "okta_sim::event_hooks", id = %hook.id, name = %hook.spec.name,
            origin = %origin_of(&hook.spec.url), "event hook verified and registered");
        lock(&self.hooks).push(hook);
        self.active.store(true, Ordering::Relaxed);
        Ok(shown)
    }

    async fn verify(&self, spec: &EventHookSpec) -> Result<(), String> {
        let challenge = uuid::Uuid::new_v4().simple().to_string();
        let mut request = self
            .client
            .get(&spec.url)
            .header("x-okta-verification-challenge", &challenge)
            .header(reqwest::header::ACCEPT, "application/json");
        if let Some(value) = &spec.auth_header_value {
            request = request.header(spec.auth_header_name.as_str(), value);
        }
        let response = request
            .send()
            .await
            .map_err(|e| format!("the receiver did not answer: {}", e.without_url()))?;
        let status = response.status();
        if !status.is_success() {
            return Err(format!("the receiver answered {status}"));
        }
        let body: Value = response
            .json()
            .await
            .map_err(|e| format!("the answer is not JSON: {}", e.without_url()))?;
        if body.get("verification").and_then(Value::as_str) != Some(challenge.as_str()) {
            return Err("the answer does not carry {\"verification\": <challenge>}".into());
        }
        Ok(())
    }

    /// The registered hooks with their delivery counts (no secrets).
    pub(crate) fn list(&self) -> Vec<Value> {
        lock(&self.hooks).iter().map(describe).collect()
    }

    /// Removes every hook.
    pub(crate) fn clear(&self) {
        lock(&self.hooks).clear();
        self.active.store(false, Ordering::Relaxed);
    }

    /// Delivers the events that reach the sink until `shutdown`, in order, batching what is
    /// already waiting.
    pub(crate) async fn run(
        self: Arc<Self>,
        mut events: mpsc::UnboundedReceiver<Value>,
        shutdown: CancellationToken,
    ) {
        loop {
            let first = tokio::select! {
                event = events.recv() => event,
                () = shutdown.cancelled() => return,
            };
            let Some(first) = first else { return };
            let mut batch = vec![first];
            while batch.len() < MAX_EVENTS_PER_DELIVERY {
                match events.try_recv() {
                    Ok(event) => batch.push(event),
                    Err(_) => break,
                }
            }
            let hooks: Vec<Hook> = lock(&self.hooks).clone();
            for hook in hooks {
                let wanted: Vec<Value> = batch
                    .iter()
                    .filter(|e| {
                        e.get("eventType")
                            .and_then(Value::as_str)
                            .is_some_and(|t| hook.spec.event_types.iter().any(|w| w == t))
                    })
                    .cloned()
                    .collect();
                if wanted.is_empty() {
                    continue;
                }
                let count = wanted.len() as u64;
                let outcome = self.deliver(&hook, wanted).await;
                self.record(&hook.id, count, outcome);
            }
        }
    }

    fn record(&self, id: &str, events: u64, outcome: Result<(), String>) {
        let mut hooks = lock(&self.hooks);
        let Some(hook) = hooks.iter_mut().find(|h| h.id == id) else {
            return;
        };
        match outcome {
            Ok(()) => {
                hook.stats.deliveries += 1;
                hook.stats.events_delivered += events;
            }
            Err(reason) => {
                tracing::warn!(target: "okta_sim::event_hooks", id, %reason, "event hook delivery failed");
                hook.stats.failures += 1;
                hook.stats.last_error = Some(reason);
            }
        }
    }

    /// One delivery in Okta's envelope, retried at most once.
    async fn deliver(&self, hook: &Hook, events: Vec<Value>) -> Result<(), String> {
        let body = json!({
            "eventType": "com.okta.event_hook",
            "eventTypeVersion": "1.0",
            "cloudEventsVersion": "0.1",
            "source": format!("{}/api/v1/eventHooks/{}", self.base_url, hook.id),
            "eventId": uuid::Uuid::new_v4().to_string(),
            "eventTime": event_ts(Utc::now()),
            "contentType": "application/json",
            "data": { "events": events },
        });
        let mut last = String::new();
        for _attempt in 0..=MAX_RETRIES {
            let mut request = self
                .client
                .post(&hook.spec.url)
                .header(reqwest::header::ACCEPT, "application/json")
                .json(&body);
            if let Some(value) = &hook.spec.auth_header_value {
                request = request.header(hook.spec.auth_header_name.as_str(), value);
            }
            match request.send().await {
                Ok(r) if r.status().is_success() => return Ok(()),
                Ok(r) if r.status().is_client_error() => {
                    return Err(format!("the receiver answered {}", r.status()))
                }
                Ok(r) => last = format!("the receiver answered {}", r.status()),
                Err(e) => last = format!("the receiver did not answer: {}", e.without_url()),
            }
        }
        Err(last)
    }
}

/// A hook as `GET /__sim/event-hooks` shows it: the URL's origin only, no header value.
fn describe(hook: &Hook) -> Value {
    json!({
        "id": hook.id,
        "name": hook.spec.name,
        "origin": origin_of(&hook.spec.url),
        "authHeaderName": hook.spec.auth_header_name,
        "eventTypes": hook.spec.event_types,
        "verificationStatus": "VERIFIED",
        "status": "ACTIVE",
        "stats": hook.stats,
    })
}
