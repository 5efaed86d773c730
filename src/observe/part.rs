//! What was read and what was not: the typed identity of each part of an observation
//! ([`PartId`]), why a part could not be read ([`ReadFailure`]: the failing request as method and
//! endpoint template, the error's kind and Okta's code and summary, never a secret), and the
//! [`Part`] that carries a value with the parts of it left unread.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use strum::{EnumIter, IntoStaticStr};

use crate::okta::{ApiError, AppId};
use crate::vocab::named;

/// The kind of a part of an observation (its name in plans, the journal and metrics).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, EnumIter, IntoStaticStr)]
#[strum(serialize_all = "kebab-case")]
pub enum PartKind {
    /// The app list (`GET /api/v1/apps`): without it the org was not read at all.
    Apps,
    /// One app's app users (`GET /api/v1/apps/{appId}/users`).
    AppUsers,
    /// One app's provisioning connection (`GET .../connections/default`).
    Connections,
    /// One app's `USER_PROVISIONING` feature (`GET .../features/USER_PROVISIONING`).
    Features,
    /// One app's Group Push mappings (`GET .../group-push/mappings`).
    PushMappings,
    /// One directory's app users with their Okta profiles (`GET .../users?expand=user`).
    DirectoryProfiles,
    /// The AD/LDAP agents (`GET /api/v1/agentPools`); optional.
    Agents,
    /// The System Log events (`GET /api/v1/logs`).
    SystemLog,
}
named!(PartKind, "part kind");

impl PartKind {
    /// Whether the part is per app (its id names the app or directory).
    fn per_app(self) -> bool {
        !matches!(
            self,
            PartKind::Apps | PartKind::Agents | PartKind::SystemLog
        )
    }
}

/// One part of an observation: `apps`, `system-log`, `agents`, or a per-app part such as
/// `connections(0oa1)`. Its text form is its name, with the app's id in parentheses for a
/// per-app part; plans and the journal carry that form.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PartId {
    Apps,
    AppUsers(AppId),
    Connections(AppId),
    Features(AppId),
    PushMappings(AppId),
    DirectoryProfiles(AppId),
    Agents,
    SystemLog,
}

impl PartId {
    pub fn kind(&self) -> PartKind {
        match self {
            PartId::Apps => PartKind::Apps,
            PartId::AppUsers(_) => PartKind::AppUsers,
            PartId::Connections(_) => PartKind::Connections,
            PartId::Features(_) => PartKind::Features,
            PartId::PushMappings(_) => PartKind::PushMappings,
            PartId::DirectoryProfiles(_) => PartKind::DirectoryProfiles,
            PartId::Agents => PartKind::Agents,
            PartId::SystemLog => PartKind::SystemLog,
        }
    }

    /// The app (or directory) a per-app part is about.
    pub fn app_id(&self) -> Option<&AppId> {
        match self {
            PartId::AppUsers(id)
            | PartId::Connections(id)
            | PartId::Features(id)
            | PartId::PushMappings(id)
            | PartId::DirectoryProfiles(id) => Some(id),
            PartId::Apps | PartId::Agents | PartId::SystemLog => None,
        }
    }

    /// An optional part: Okta may not offer it to every org or every caller (the agent pools
    /// need `okta.agentPools.read` and an org with agents). Its absence is reported, and
    /// withholds only what depends on it.
    pub fn is_optional(&self) -> bool {
        matches!(self, PartId::Agents)
    }

    fn per_app(kind: PartKind, id: AppId) -> Option<PartId> {
        Some(match kind {
            PartKind::AppUsers => PartId::AppUsers(id),
            PartKind::Connections => PartId::Connections(id),
            PartKind::Features => PartId::Features(id),
            PartKind::PushMappings => PartId::PushMappings(id),
            PartKind::DirectoryProfiles => PartId::DirectoryProfiles(id),
            PartKind::Apps | PartKind::Agents | PartKind::SystemLog => return None,
        })
    }
}

impl fmt::Display for PartId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.app_id() {
            Some(id) => write!(f, "{}({id})", self.kind()),
            None => f.write_str(self.kind().as_str()),
        }
    }
}

/// A text that names no part.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{text:?} is not a part: expected apps, agents, system-log or KIND(APP_ID) with KIND one of app-users, connections, features, push-mappings, directory-profiles")]
pub struct UnknownPart {
    pub text: String,
}

impl FromStr for PartId {
    type Err = UnknownPart;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let unknown = || UnknownPart {
            text: text.to_owned(),
        };
        let (name, id) = match text.split_once('(') {
            Some((name, rest)) => {
                let id = rest.strip_suffix(')').filter(|id| !id.is_empty());
                (name, Some(id.ok_or_else(unknown)?))
            }
            None => (text, None),
        };
        let kind: PartKind = name.parse().map_err(|_| unknown())?;
        match (kind.per_app(), id) {
            (true, Some(id)) => PartId::per_app(kind, AppId::new(id)).ok_or_else(unknown),
            (false, None) => Ok(match kind {
                PartKind::Apps => PartId::Apps,
                PartKind::Agents => PartId::Agents,
                _ => PartId::SystemLog,
            }),
            _ => Err(unknown()),
        }
    }
}

impl Serialize for PartId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for PartId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// What kind of failure left a part unread. Metrics reduce it to [`FailureKind::metric_reason`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, EnumIter, IntoStaticStr)]
#[strum(serialize_all = "kebab-case")]
pub enum FailureKind {
    /// Okta did not accept the credentials (401 `E0000011`, the token endpoint's
    /// `invalid_client`): the token or key is wrong, expired or revoked.
    Authentication,
    /// The credentials were accepted but may not make the call (403 `E0000006`, a scope not
    /// granted, 401 `E0000015`).
    Authorization,
    /// Okta says the object or the API does not exist (404 `E0000007`).
    NotFound,
    /// No answer: the connection failed or no response came in time, after the retries.
    Unreachable,
    /// Okta's rate limit stopped the call (429 `E0000047`), after waiting and retrying.
    RateLimited,
    /// Okta (or a gateway before it) failed (5xx), after the retries.
    ServerError,
    /// Okta refused the request itself (another 4xx).
    Rejected,
    /// The answer was not the JSON expected, or was cut short.
    Malformed,
    /// The answer was larger than the client accepts.
    TooLarge,
    /// The part was read up to one of remediator's own bounds and not further.
    Limit,
    /// Anything else (the client's configuration, a URL off the org, a listing that loops).
    Other,
}
named!(FailureKind, "failure kind");

impl FailureKind {
    /// The kind of an API error (of its last attempt, after retries).
    pub fn of(error: &ApiError) -> FailureKind {
        let root = error.root();
        if root.is_unauthorized() {
            return FailureKind::Authentication;
        }
        if root.is_forbidden() {
            return FailureKind::Authorization;
        }
        if root.is_not_found() {
            return FailureKind::NotFound;
        }
        if root.is_rate_limited() {
            return FailureKind::RateLimited;
        }
        if let Some(status) = root.status() {
            return if status >= 500 {
                FailureKind::ServerError
            } else {
                FailureKind::Rejected
            };
        }
        match root {
            ApiError::Transport { .. } | ApiError::Timeout { .. } => FailureKind::Unreachable,
            ApiError::MalformedBody { .. } | ApiError::TruncatedBody { .. } => {
                FailureKind::Malformed
            }
            _ => FailureKind::Other,
        }
    }

    /// The `reason` label of `remediator_org_read_failures_total`: `authentication`,
    /// `authorization`, `unreachable`, `rate_limited`, `server_error`, `malformed` or `other`.
    pub fn metric_reason(self) -> &'static str {
        match self {
            FailureKind::Authentication => "authentication",
            FailureKind::Authorization => "authorization",
            FailureKind::Unreachable => "unreachable",
            FailureKind::RateLimited => "rate_limited",
            FailureKind::ServerError => "server_error",
            FailureKind::Malformed => "malformed",
            FailureKind::NotFound
            | FailureKind::Rejected
            | FailureKind::TooLarge
            | FailureKind::Limit
            | FailureKind::Other => "other",
        }
    }

    /// The `reason` label values, in a fixed order (for series created at zero).
    pub const METRIC_REASONS: [&'static str; 7] = [
        "authentication",
        "authorization",
        "unreachable",
        "rate_limited",
        "server_error",
        "malformed",
        "other",
    ];
}

/// Why a part could not be read: the request that failed and how. Carries no secret: the
/// request is a method and an endpoint template, the reason Okta's code and summary or the
/// client's words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadFailure {
    /// Method and endpoint template, e.g. `GET /api/v1/apps/{appId}/connections/default`.
    pub request: String,
    pub kind: FailureKind,
    /// In words, without the request: `HTTP 401 E0000011 Invalid token provided`.
    pub reason: String,
    /// The HTTP status, when Okta answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Okta's `errorCode`, when it sent one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

impl ReadFailure {
    /// A failure of `kind` at `request`, in words.
    pub fn new(request: impl Into<String>, kind: FailureKind, reason: impl Into<String>) -> Self {
        ReadFailure {
            request: request.into(),
            kind,
            reason: reason.into(),
            status: None,
            code: None,
        }
    }

    /// `request` failed with `error`.
    pub fn from_api(request: &str, error: &ApiError) -> Self {
        ReadFailure {
            request: request.to_owned(),
            kind: FailureKind::of(error),
            reason: reason_of(error),
            status: error.status(),
            code: error.error_code().map(str::to_owned),
        }
    }

    /// `request` was read up to one of remediator's own bounds (`what` says which).
    pub fn limit(request: &str, what: impl Into<String>) -> Self {
        ReadFailure::new(request, FailureKind::Limit, what)
    }

    /// The OAuth 2.0 scope the request needs (for an authorization failure's advice).
    pub fn scope_needed(&self) -> Option<&'static str> {
        let path = self.request.split_once(' ').map_or("", |(_, path)| path);
        SCOPES
            .iter()
            .find(|(prefix, _)| path.starts_with(prefix))
            .map(|(_, scope)| *scope)
    }
}

impl fmt::Display for ReadFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.request, self.reason)
    }
}

/// The read scope of each endpoint family the observation calls, most specific first.
const SCOPES: &[(&str, &str)] = &[
    ("/api/v1/apps", "okta.apps.read"),
    ("/api/v1/logs", "okta.logs.read"),
    ("/api/v1/agentPools", "okta.agentPools.read"),
    ("/api/v1/users", "okta.users.read"),
    ("/api/v1/groups", "okta.groups.read"),
];

/// An API error in words, without its endpoint (the part names the request): Okta's status,
/// code and summary; the transport's last cause; the attempts made.
fn reason_of(error: &ApiError) -> String {
    let root = error.root();
    let text = match root {
        ApiError::Okta { status, error, .. }
        | ApiError::Auth { status, error, .. }
        | ApiError::Forbidden { status, error, .. } => {
            let mut text = format!("HTTP {status}");
            for part in [error.code.as_deref(), error.summary.as_deref()]
                .into_iter()
                .flatten()
            {
                text.push(' ');
                text.push_str(part);
            }
            text
        }
        ApiError::Transport { message, .. } => {
            // The chain's last cause says what happened ("Connection refused (os error 111)").
            let cause = message.rsplit(": ").next().unwrap_or(message);
            format!("no connection: {cause}")
        }
        ApiError::Timeout { .. } => "no answer within the request timeout".to_owned(),
        ApiError::MalformedBody {
            line,
            column,
            message,
            ..
        } => {
            format!("the answer is not the JSON expected (line {line} column {column}: {message})")
        }
        ApiError::TruncatedBody { message, .. } => format!("the answer was cut short: {message}"),
        other => other.to_string(),
    };
    match error {
        ApiError::RetriesExhausted { attempts, .. } => {
            format!("{text}; after {attempts} attempts")
        }
        _ => text,
    }
}

/// A part left unread, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Incomplete {
    pub part: PartId,
    #[serde(flatten)]
    pub failure: ReadFailure,
    /// The part is optional ([`PartId::is_optional`]): Okta does not offer it here.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub optional: bool,
}

impl Incomplete {
    pub fn new(part: PartId, failure: ReadFailure) -> Self {
        Incomplete {
            optional: part.is_optional(),
            part,
            failure,
        }
    }
}

impl fmt::Display for Incomplete {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.part, self.failure)
    }
}

/// One part of the snapshot with what of it was left unread: a value read in full has no
/// incomplete entries; one that is not carries the parts it misses, each with its failure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Part<T> {
    pub value: T,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub incomplete: Vec<Incomplete>,
}

impl<T> Part<T> {
    pub fn complete(value: T) -> Self {
        Part {
            value,
            incomplete: Vec::new(),
        }
    }

    /// `value` as far as it was read; `part` was left unread for `failure`.
    pub fn incomplete(value: T, part: PartId, failure: ReadFailure) -> Self {
        Part {
            value,
            incomplete: vec![Incomplete::new(part, failure)],
        }
    }

    /// Records that `part` was left unread for `failure`.
    pub fn mark(&mut self, part: PartId, failure: ReadFailure) {
        self.incomplete.push(Incomplete::new(part, failure));
    }

    pub fn is_complete(&self) -> bool {
        self.incomplete.is_empty()
    }

    /// Why `part` was left unread, if it was.
    pub fn failure(&self, part: &PartId) -> Option<&Incomplete> {
        self.incomplete.iter().find(|i| &i.part == part)
    }
}

/// How current a part of a cached snapshot is: read by the full scan at the snapshot's
/// `observed_at` (fresh), read again since by a targeted read (patched, at that time), or not
/// to be trusted since a targeted read of it failed (stale). A stale part is also an
/// [`Incomplete`] entry of the snapshot, so what depends on it is withheld as for any part left
/// unread.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum Freshness {
    /// As the full scan read it.
    Fresh { at: chrono::DateTime<chrono::Utc> },
    /// Read again by a targeted read.
    Patched { at: chrono::DateTime<chrono::Utc> },
    /// A targeted read of it failed at `since`: the last value read is not trusted.
    Stale {
        since: chrono::DateTime<chrono::Utc>,
        reason: ReadFailure,
    },
}

impl Freshness {
    pub fn is_stale(&self) -> bool {
        matches!(self, Freshness::Stale { .. })
    }
}

impl<T: Default> Default for Part<T> {
    fn default() -> Self {
        Part::complete(T::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::okta::OktaError;

    #[test]
    fn part_ids_round_trip_through_their_text() {
        for part in [
            PartId::Apps,
            PartId::AppUsers("0oa1".into()),
            PartId::Connections("0oa1".into()),
            PartId::Features("0oa1".into()),
            PartId::PushMappings("0oa1".into()),
            PartId::DirectoryProfiles("0oaAD".into()),
            PartId::Agents,
            PartId::SystemLog,
        ] {
            let text = part.to_string();
            assert_eq!(text.parse::<PartId>(), Ok(part.clone()), "{text}");
            let json = serde_json::to_value(&part).expect("serializes");
            assert_eq!(json, serde_json::Value::String(text));
        }
        assert_eq!(
            PartId::Connections("0oa1".into()).to_string(),
            "connections(0oa1)"
        );
        for bad in [
            "",
            "apps(0oa1)",
            "connections",
            "connections()",
            "logs",
            "agents(x)",
        ] {
            assert!(bad.parse::<PartId>().is_err(), "{bad:?}");
        }
    }

    fn okta_error(status: u16, code: &str, summary: &str) -> ApiError {
        let error = OktaError {
            code: Some(code.into()),
            summary: Some(summary.into()),
            ..OktaError::default()
        };
        ApiError::from_status(
            crate::okta::Endpoint {
                method: "GET".into(),
                path: "/api/v1/apps".into(),
            },
            status,
            error,
        )
    }

    #[test]
    fn failures_name_the_status_code_and_summary_and_their_kind() {
        let failure = ReadFailure::from_api(
            "GET /api/v1/apps",
            &okta_error(401, "E0000011", "Invalid token provided"),
        );
        assert_eq!(failure.kind, FailureKind::Authentication);
        assert_eq!(failure.reason, "HTTP 401 E0000011 Invalid token provided");
        assert_eq!(failure.status, Some(401));
        assert_eq!(failure.code.as_deref(), Some("E0000011"));
        let forbidden = okta_error(403, "E0000006", "You do not have permission");
        assert_eq!(FailureKind::of(&forbidden), FailureKind::Authorization);
        let feature = okta_error(401, "E0000015", "not enabled");
        assert_eq!(FailureKind::of(&feature), FailureKind::Authorization);
        assert_eq!(
            FailureKind::of(&okta_error(404, "E0000007", "Not found")),
            FailureKind::NotFound
        );
        assert_eq!(
            FailureKind::of(&okta_error(500, "E0000009", "Internal Server Error")),
            FailureKind::ServerError
        );
        let transport = ApiError::RetriesExhausted {
            endpoint: crate::okta::Endpoint {
                method: "GET".into(),
                path: "/api/v1/apps".into(),
            },
            attempts: 5,
            last: Box::new(ApiError::Transport {
                endpoint: crate::okta::Endpoint {
                    method: "GET".into(),
                    path: "/api/v1/apps".into(),
                },
                message: "error sending request: tcp connect error: Connection refused".into(),
            }),
        };
        let failure = ReadFailure::from_api("GET /api/v1/apps", &transport);
        assert_eq!(failure.kind, FailureKind::Unreachable);
        assert_eq!(
            failure.reason,
            "no connection: Connection refused; after 5 attempts"
        );
        assert_eq!(failure.kind.metric_reason(), "unreachable");
    }

    #[test]
    fn the_scope_needed_follows_the_endpoint() {
        let scope = |request: &str| ReadFailure::limit(request, "x").scope_needed();
        assert_eq!(scope("GET /api/v1/apps"), Some("okta.apps.read"));
        assert_eq!(
            scope("GET /api/v1/apps/{appId}/users"),
            Some("okta.apps.read")
        );
        assert_eq!(scope("GET /api/v1/logs"), Some("okta.logs.read"));
        assert_eq!(
            scope("GET /api/v1/agentPools"),
            Some("okta.agentPools.read")
        );
        assert_eq!(scope("GET /oauth2/v1/token"), None);
    }
}
