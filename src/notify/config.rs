//! The sinks of the daemon's configuration file: `[[notify]]` (every org's events) and
//! `[[orgs.notify]]` (one org's), each with a name, a kind (`webhook`, `slack`), where its URL
//! is read from (`url_env` or `url_file`: a webhook URL is a secret), an optional event filter
//! and how long a delivery is retried. Located diagnostics as for the rest of the file; the URL
//! is read and checked (https, or http on loopback) by [`SinkConfig::resolve`], its error
//! located at the key that names it and never showing it.

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use super::events::EventKind;
use super::sink::HttpSink;
use crate::config::{CredentialSource, Diagnostic, Env};
use crate::error_chain::error_chain;

/// How long a delivery is retried by default before it counts as failed.
pub const DEFAULT_RETRY_FOR: Duration = Duration::from_secs(60);
/// The longest `retry_for` accepted: a sink's queue must keep moving.
pub const MAX_RETRY_FOR: Duration = Duration::from_secs(15 * 60);
/// Most sinks one configuration names (global and per org together).
pub const MAX_SINKS: usize = 64;
/// Longest sink name (it is a metric label and is shown in logs and the journal).
const MAX_SINK_NAME_LEN: usize = 64;

/// The format of a sink.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SinkKind {
    /// A generic JSON body (see docs/daemon.md).
    Webhook,
    /// A Slack incoming webhook.
    Slack(SlackFormat),
}

/// What a Slack message is made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlackFormat {
    /// Block Kit blocks, with `text` as the fallback of notifications.
    Blocks,
    /// Only `text` (mrkdwn).
    Text,
}

/// One configured sink, its URL not read yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SinkConfig {
    pub name: String,
    pub kind: SinkKind,
    /// Where the URL is read from.
    pub url: CredentialSource,
    /// The events it is sent (`None`: every event).
    pub events: Option<BTreeSet<EventKind>>,
    pub retry_for: Duration,
    /// The org whose events it is sent (`None`: every org's).
    pub org: Option<String>,
    /// The key naming the URL's source, for a located error when it is read.
    at: Diagnostic,
}

/// Notifications as configured.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NotifyConfig {
    /// The daemon's public base URL (`daemon.public_url`): notifications link to its status
    /// page when it is set.
    pub public_url: Option<url::Url>,
    pub sinks: Vec<SinkConfig>,
}

/// The sinks read and checked, ready to start a [`Notifier`](super::Notifier) with.
#[derive(Clone, Default)]
pub struct Sinks {
    pub sinks: Vec<std::sync::Arc<dyn super::Sink>>,
    pub public_url: Option<url::Url>,
}

impl NotifyConfig {
    /// Reads and checks the URL of every sink that gets the events of one of `orgs`.
    pub fn resolve(&self, env: &dyn Env, orgs: &[&str]) -> Result<Sinks, Diagnostic> {
        let mut sinks: Vec<std::sync::Arc<dyn super::Sink>> = Vec::new();
        for sink in &self.sinks {
            if sink.org.as_deref().is_some_and(|o| !orgs.contains(&o)) {
                continue;
            }
            sinks.push(std::sync::Arc::new(sink.resolve(env)?));
        }
        Ok(Sinks {
            sinks,
            public_url: self.public_url.clone(),
        })
    }

    /// The sinks that get `org`'s events.
    pub fn for_org<'a>(&'a self, org: &'a str) -> impl Iterator<Item = &'a SinkConfig> + 'a {
        self.sinks
            .iter()
            .filter(move |s| s.org.as_deref().is_none_or(|o| o == org))
    }
}

/// `[[notify]]` / `[[orgs.notify]]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSink {
    name: Spanned<String>,
    kind: Spanned<String>,
    url_env: Option<Spanned<String>>,
    url_file: Option<Spanned<String>>,
    format: Option<Spanned<String>>,
    events: Option<Vec<Spanned<String>>>,
    #[serde(default, with = "humantime_serde::option")]
    retry_for: Option<Duration>,
}

/// The sinks of one list (`notify` or `orgs[i].notify`), with the org they belong to.
pub type RawNotify = Vec<RawSink>;

type At<'a> = dyn Fn(std::ops::Range<usize>, String, String) -> Diagnostic + 'a;

/// Validates the sinks of `lists` (the field prefix, the org or `None`, and the raw sinks):
/// names unique across the file, one URL source each, known kinds, formats and events.
pub fn parse_sinks(
    lists: Vec<(String, Option<String>, RawNotify)>,
    at: &At<'_>,
) -> Result<Vec<SinkConfig>, Diagnostic> {
    let mut sinks: Vec<SinkConfig> = Vec::new();
    let mut names = BTreeSet::new();
    for (prefix, org, raw) in lists {
        for (i, sink) in raw.into_iter().enumerate() {
            let field = format!("{prefix}[{i}]");
            let span = sink.name.span();
            let sink = parse_sink(&field, org.clone(), sink, at)?;
            if !names.insert(sink.name.clone()) {
                let problem = format!("sink name {:?} is used twice", sink.name);
                return Err(at(span, format!("{field}.name"), problem));
            }
            if names.len() > MAX_SINKS {
                return Err(at(span, field, format!("more than {MAX_SINKS} sinks")));
            }
            sinks.push(sink);
        }
    }
    Ok(sinks)
}

fn parse_sink(
    field: &str,
    org: Option<String>,
    raw: RawSink,
    at: &At<'_>,
) -> Result<SinkConfig, Diagnostic> {
    let key = |k: &str| format!("{field}.{k}");
    let name = raw.name.get_ref().clone();
    let name_ok = !name.is_empty()
        && name.len() <= MAX_SINK_NAME_LEN
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !name_ok {
        return Err(at(
            raw.name.span(),
            key("name"),
            format!("{name:?} is not a sink name: 1 to {MAX_SINK_NAME_LEN} of a-z A-Z 0-9 - _"),
        ));
    }
    let format = raw
        .format
        .as_ref()
        .map(|f| (f.get_ref().as_str(), f.span()));
    let kind = match (raw.kind.get_ref().as_str(), format) {
        ("webhook", None) => SinkKind::Webhook,
        ("webhook", Some((_, span))) => {
            return Err(at(
                span,
                key("format"),
                "only a slack sink has a format".into(),
            ))
        }
        ("slack", None | Some(("blocks", _))) => SinkKind::Slack(SlackFormat::Blocks),
        ("slack", Some(("text", _))) => SinkKind::Slack(SlackFormat::Text),
        ("slack", Some((other, span))) => {
            return Err(at(
                span,
                key("format"),
                format!("{other:?}: expected \"blocks\" or \"text\""),
            ))
        }
        (other, _) => {
            return Err(at(
                raw.kind.span(),
                key("kind"),
                format!("{other:?}: expected \"webhook\" or \"slack\""),
            ))
        }
    };
    let (url, url_key, url_span) = match (raw.url_env, raw.url_file) {
        (Some(name), None) => (
            CredentialSource::env(name.get_ref()),
            key("url_env"),
            name.span(),
        ),
        (None, Some(path)) => (
            CredentialSource::file(path.get_ref()),
            key("url_file"),
            path.span(),
        ),
        _ => {
            return Err(at(
                raw.name.span(),
                field.to_owned(),
                "name exactly one of url_env (a variable holding the URL) or url_file (a file \
                 holding it): a webhook URL is a secret and is never written here"
                    .into(),
            ))
        }
    };
    let url = url.map_err(|e| at(url_span.clone(), url_key.clone(), e.to_string()))?;
    let events = match raw.events {
        None => None,
        Some(list) => Some(
            list.iter()
                .map(|e| {
                    e.get_ref()
                        .parse::<EventKind>()
                        .map_err(|p| at(e.span(), key("events"), p.to_string()))
                })
                .collect::<Result<BTreeSet<_>, _>>()?,
        ),
    };
    let retry_for = raw.retry_for.unwrap_or(DEFAULT_RETRY_FOR);
    if retry_for.is_zero() || retry_for > MAX_RETRY_FOR {
        return Err(at(
            raw.name.span(),
            key("retry_for"),
            format!(
                "must be more than 0 and at most {}",
                humantime::format_duration(MAX_RETRY_FOR)
            ),
        ));
    }
    Ok(SinkConfig {
        name,
        kind,
        url,
        events,
        retry_for,
        org,
        at: at(url_span, url_key, String::new()),
    })
}

impl SinkConfig {
    /// Reads the URL from its variable or file and checks it: `https`, or `http` on a loopback
    /// host. The error is located at the key naming the source and never shows the URL.
    pub fn resolve(&self, env: &dyn Env) -> Result<HttpSink, Diagnostic> {
        use secrecy::ExposeSecret;
        let refuse = |problem: String| Diagnostic {
            problem,
            ..self.at.clone()
        };
        let secret = self.url.resolve(env).map_err(|e| refuse(error_chain(&e)))?;
        let url = url::Url::parse(secret.expose_secret().trim()).map_err(|e| {
            refuse(format!(
                "the value read from {} is not a URL ({e}); it is not shown",
                self.url
            ))
        })?;
        match url.scheme() {
            "https" => {}
            "http" if is_loopback(&url) => {}
            "http" => {
                return Err(refuse(format!(
                    "the URL read from {} is http:// on a host that is not loopback: \
                     notifications go over https only (http only to 127.0.0.1, ::1 or \
                     localhost); the URL is not shown",
                    self.url
                )))
            }
            other => {
                return Err(refuse(format!(
                    "the URL read from {} has the scheme {other:?}: expected https; the URL is \
                     not shown",
                    self.url
                )))
            }
        }
        Ok(HttpSink::new(self, url))
    }
}

fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use crate::config::MapEnv;
    use crate::daemon::DaemonConfig;
    use std::path::Path;

    const BASE: &str = "[daemon]\npublic_url = \"https://remediator.example.com\"\n\
        [[notify]]\nname = \"ops\"\nkind = \"webhook\"\nurl_env = \"OPS_URL\"\n\
        [[orgs]]\nname = \"prod\"\nurl = \"https://prod.okta.com\"\n\
        credentials = { token_env = \"T\" }\n\
        [[orgs.notify]]\nname = \"prod-slack\"\nkind = \"slack\"\nformat = \"text\"\n\
        url_file = \"/run/slack-url\"\nevents = [\"finding_opened\"]\nretry_for = \"5s\"\n";

    fn parse(text: &str) -> Result<DaemonConfig, crate::config::Diagnostic> {
        DaemonConfig::parse(Path::new("remediator.toml"), text)
    }

    #[test]
    fn global_and_org_sinks_parse() {
        let config = parse(BASE).expect("valid");
        let notify = &config.notify;
        assert_eq!(
            notify.public_url.as_ref().map(|u| u.as_str()),
            Some("https://remediator.example.com/")
        );
        assert_eq!(notify.sinks.len(), 2);
        assert_eq!(notify.sinks[0].org, None);
        assert_eq!(notify.sinks[1].org.as_deref(), Some("prod"));
        assert_eq!(notify.sinks[1].retry_for.as_secs(), 5);
        assert_eq!(notify.for_org("prod").count(), 2);
        assert_eq!(notify.for_org("other").count(), 1);
    }

    #[test]
    fn bad_sinks_are_located() {
        let cases = [
            (
                BASE.replace("kind = \"webhook\"", "kind = \"mail\""),
                (5, 8),
                "notify[0].kind",
            ),
            (
                BASE.replace("url_env = \"OPS_URL\"", "url = \"https://x\""),
                (6, 1),
                "notify[0].url",
            ),
            (
                BASE.replace("url_env = \"OPS_URL\"\n", ""),
                (4, 8),
                "notify[0]",
            ),
            (
                BASE.replace("\"finding_opened\"", "\"finding_open\""),
                (16, 11),
                "orgs[0].notify[0].events",
            ),
            (
                BASE.replace("name = \"prod-slack\"", "name = \"ops\""),
                (12, 8),
                "orgs[0].notify[0].name",
            ),
            (
                BASE.replace(
                    "url_env = \"OPS_URL\"",
                    "url_env = \"https://hooks.example/x\"",
                ),
                (6, 11),
                "notify[0].url_env",
            ),
        ];
        for (text, (line, column), field) in cases {
            let e = parse(&text).expect_err(&text);
            assert_eq!(e.field, field, "{e}");
            assert_eq!(
                e.position.map(|p| (p.line, p.column)),
                Some((line, column)),
                "{e}"
            );
            assert!(!e.to_string().contains("hooks.example"), "{e}");
        }
    }

    #[test]
    fn urls_are_https_or_loopback_and_never_shown() {
        let config = parse(BASE).expect("valid");
        let sink = &config.notify.sinks[0];
        let with = |url: &str| sink.resolve(&MapEnv::new().with("OPS_URL", url));
        assert!(with("https://hooks.example.com/services/T0/B0/SECRET").is_ok());
        assert!(with("http://127.0.0.1:8080/hook").is_ok());
        assert!(with("http://[::1]:8080/hook").is_ok());
        assert!(with("http://localhost/hook").is_ok());
        for bad in [
            "http://hooks.example.com/services/SECRET",
            "ftp://hooks.example.com/SECRET",
            "not a url SECRET",
        ] {
            let e = with(bad).expect_err(bad);
            let shown = e.to_string();
            assert!(
                shown.starts_with("remediator.toml:6:11: notify[0].url_env: "),
                "{shown}"
            );
            assert!(!shown.contains("SECRET"), "{shown}");
        }
        let unset = sink.resolve(&MapEnv::new()).expect_err("unset");
        assert!(unset.to_string().contains("OPS_URL is not set"), "{unset}");
    }
}
