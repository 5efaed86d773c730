//! A sink: where notifications go and in which shape. [`Sink::deliver`] makes one attempt (one
//! HTTP POST) and says whether a failure is worth retrying; the queue retries. The URL is kept
//! out of every error (reqwest's own, with the URL taken out, and scrubbed once more).

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::{json, Value};

use super::config::{SinkConfig, SinkKind, SlackFormat};
use super::events::{Event, EventKind, Subject};
use crate::vocab::Named;

/// Longest one delivery attempt may take (connect, send, answer).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Where notifications go: the queue asks one attempt at a time and retries what is
/// [`SinkError::transient`].
pub trait Sink: Send + Sync {
    /// The configured name (metric label, logs, journal): never the URL.
    fn name(&self) -> &str;
    /// How long a delivery is retried before it counts as failed.
    fn retry_for(&self) -> Duration;
    /// Whether `event` goes to this sink.
    fn wants(&self, event: &Event) -> bool;
    /// One attempt to deliver `event`; `link` is the status page's URL when one is configured.
    fn send<'a>(
        &'a self,
        event: &'a Event,
        link: Option<&'a str>,
    ) -> futures::future::BoxFuture<'a, Result<(), SinkError>>;
}

/// A webhook or Slack sink with its URL read and checked.
#[derive(Clone)]
pub struct HttpSink {
    pub name: String,
    client: reqwest::Client,
    kind: SinkKind,
    /// Secret: never logged, shown or journaled.
    url: url::Url,
    events: Option<BTreeSet<EventKind>>,
    retry_for: Duration,
    org: Option<String>,
}

impl std::fmt::Debug for HttpSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpSink")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("url", &"<secret>")
            .finish_non_exhaustive()
    }
}

/// Why one delivery attempt failed (never holding the URL).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SinkError {
    /// The receiver answered with a status that is not success.
    #[error("the receiver answered HTTP {status}")]
    Status { status: u16, transient: bool },
    /// No answer (connection, TLS, timeout).
    #[error("no answer from the receiver: {detail}")]
    Transport { detail: String },
}

impl SinkError {
    /// Whether trying again may help: no answer, a 5xx, 408 or 429.
    pub fn transient(&self) -> bool {
        match self {
            SinkError::Status { transient, .. } => *transient,
            SinkError::Transport { .. } => true,
        }
    }
}

impl Sink for HttpSink {
    fn name(&self) -> &str {
        &self.name
    }

    fn retry_for(&self) -> Duration {
        self.retry_for
    }

    fn wants(&self, event: &Event) -> bool {
        self.org.as_deref().is_none_or(|o| o == event.org)
            && self
                .events
                .as_ref()
                .is_none_or(|e| e.contains(&event.event))
    }

    fn send<'a>(
        &'a self,
        event: &'a Event,
        link: Option<&'a str>,
    ) -> futures::future::BoxFuture<'a, Result<(), SinkError>> {
        Box::pin(async move { self.deliver(&self.body(event, link)).await })
    }
}

impl HttpSink {
    pub(crate) fn new(config: &SinkConfig, url: url::Url) -> HttpSink {
        // No redirects: a receiver must not send the body (or the secret path) elsewhere.
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(REQUEST_TIMEOUT)
            .build()
            .unwrap_or_default();
        HttpSink {
            name: config.name.clone(),
            client,
            kind: config.kind,
            url,
            events: config.events.clone(),
            retry_for: config.retry_for,
            org: config.org.clone(),
        }
    }

    /// The JSON body for `event`; `link` is the status page's URL when one is configured.
    pub fn body(&self, event: &Event, link: Option<&str>) -> Value {
        match self.kind {
            SinkKind::Webhook => webhook_body(event, link),
            SinkKind::Slack(format) => slack_body(event, link, format),
        }
    }

    /// One POST of `body`.
    async fn deliver(&self, body: &Value) -> Result<(), SinkError> {
        let response = self
            .client
            .post(self.url.clone())
            .json(body)
            .send()
            .await
            .map_err(|e| self.transport(e))?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let code = status.as_u16();
        Err(SinkError::Status {
            status: code,
            transient: status.is_server_error() || code == 408 || code == 429,
        })
    }

    /// reqwest's error without the URL, scrubbed of any piece of it that could remain.
    fn transport(&self, error: reqwest::Error) -> SinkError {
        let detail = crate::error_chain::error_chain(&error.without_url());
        let mut detail = detail.replace(self.url.as_str(), "<url>");
        let path = self.url.path();
        if path.len() > 1 {
            detail = detail.replace(path, "<path>");
        }
        if let Some(query) = self.url.query() {
            detail = detail.replace(query, "<query>");
        }
        SinkError::Transport { detail }
    }
}

/// The generic webhook's body: one flat JSON object.
fn webhook_body(event: &Event, link: Option<&str>) -> Value {
    let mut body = json!({
        "event": event.event.name(),
        "org": event.org,
        "kind": event.kind,
        "target": event.target,
        "summary": event.summary,
        "time": event.time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "link": link,
    });
    match &event.subject {
        Subject::Finding(id) => body["finding_id"] = json!(id.as_str()),
        Subject::Action(id) => body["action_id"] = json!(id.as_str()),
        Subject::Org => {}
    }
    body
}

/// A heading a person reads first.
fn title(event: EventKind) -> &'static str {
    match event {
        EventKind::FindingOpened => "Finding opened",
        EventKind::FindingChanged => "Finding changed",
        EventKind::FindingResolved => "Finding resolved",
        EventKind::ActionFailed => "Fix failed",
        EventKind::ActionCompensated => "Fix undone (compensated)",
        EventKind::ActionQuarantined => "Fix quarantined",
        EventKind::ApprovalNeeded => "Approval needed",
        EventKind::CircuitBreakerOpen => "Circuit breaker open",
        EventKind::OrgUnreadable => "Org unreadable",
        EventKind::OrgRecovered => "Org readable again",
    }
}

/// Slack's mrkdwn needs `&`, `<` and `>` escaped.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A Slack incoming-webhook message: `text` always (the fallback of notifications), Block Kit
/// blocks unless the format is `text`.
fn slack_body(event: &Event, link: Option<&str>, format: SlackFormat) -> Value {
    let id = match &event.subject {
        Subject::Finding(id) => Some(id.to_string()),
        Subject::Action(id) => Some(id.to_string()),
        Subject::Org => None,
    };
    let headline = format!(
        "*{}* in org `{}`: {}",
        title(event.event),
        escape(&event.org),
        escape(&event.summary)
    );
    let mut facts: Vec<String> = [
        event.kind.as_ref().map(|k| format!("kind `{}`", escape(k))),
        event
            .target
            .as_ref()
            .map(|t| format!("target `{}`", escape(t))),
        id.map(|i| format!("id `{i}`")),
    ]
    .into_iter()
    .flatten()
    .collect();
    facts.push(
        event
            .time
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    );
    let status = link.map(|l| format!("<{}|status page>", escape(l)));
    let text = match &status {
        Some(s) => format!("{headline}\n{} · {s}", facts.join(" · ")),
        None => format!("{headline}\n{}", facts.join(" · ")),
    };
    if format == SlackFormat::Text {
        return json!({ "text": text });
    }
    let mut context = facts.clone();
    context.extend(status);
    json!({
        "text": text,
        "blocks": [
            { "type": "section", "text": { "type": "mrkdwn", "text": headline } },
            { "type": "context", "elements": [ { "type": "mrkdwn", "text": context.join(" · ") } ] },
        ],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vocab::FindingId;

    fn event() -> Event {
        Event {
            event: EventKind::FindingOpened,
            org: "prod".into(),
            subject: Subject::Finding(FindingId::new("fnd-0123456789abcdef")),
            kind: Some("kpasswd-blocked".into()),
            target: Some("app=0oa1".into()),
            summary: "3 users <blocked> & waiting".into(),
            time: chrono::DateTime::from_timestamp(1_800_000_000, 0).expect("time"),
        }
    }

    #[test]
    fn the_webhook_body_is_flat_json_with_the_id_and_link() {
        let body = webhook_body(&event(), Some("https://r.example.com/"));
        assert_eq!(body["event"], "finding_opened");
        assert_eq!(body["org"], "prod");
        assert_eq!(body["finding_id"], "fnd-0123456789abcdef");
        assert_eq!(body["kind"], "kpasswd-blocked");
        assert_eq!(body["target"], "app=0oa1");
        assert_eq!(body["time"], "2027-01-15T08:00:00Z");
        assert_eq!(body["link"], "https://r.example.com/");
        assert!(body.get("action_id").is_none());
        assert_eq!(webhook_body(&event(), None)["link"], Value::Null);
    }

    #[test]
    fn slack_messages_escape_and_carry_a_fallback_text() {
        let blocks = slack_body(
            &event(),
            Some("https://r.example.com/"),
            SlackFormat::Blocks,
        );
        let text = blocks["text"].as_str().expect("text");
        assert!(text.contains("&lt;blocked&gt; &amp; waiting"), "{text}");
        assert!(
            text.contains("<https://r.example.com/|status page>"),
            "{text}"
        );
        assert_eq!(blocks["blocks"][0]["type"], "section");
        assert_eq!(blocks["blocks"][1]["type"], "context");
        let plain = slack_body(&event(), None, SlackFormat::Text);
        assert!(plain.get("blocks").is_none());
        assert!(plain["text"]
            .as_str()
            .expect("text")
            .contains("fnd-0123456789abcdef"));
    }

    #[test]
    fn only_no_answer_5xx_408_and_429_are_retried() {
        let status = |s: u16| SinkError::Status {
            status: s,
            transient: s >= 500 || s == 408 || s == 429,
        };
        assert!(status(503).transient() && status(429).transient());
        assert!(!status(404).transient() && !status(400).transient());
        assert!(SinkError::Transport {
            detail: String::new()
        }
        .transient());
    }
}
