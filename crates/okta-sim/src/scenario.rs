//! The scenario file: the org okta-sim serves (TOML), its parsing and its validation errors.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::faults::FaultRule;
use super::rate_limit::RateLimitConfig;
use super::transport::InfraConfig;

/// A whole simulated org. See `docs/okta-sim.md` for the format.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Org-wide settings: accepted API tokens and OAuth service apps.
    #[serde(default)]
    pub org: OrgSettings,
    #[serde(default)]
    pub users: Vec<UserSpec>,
    #[serde(default)]
    pub groups: Vec<GroupSpec>,
    #[serde(default)]
    pub apps: Vec<AppSpec>,
    #[serde(default)]
    pub agent_pools: Vec<AgentPoolSpec>,
    /// System Log events, each a full `LogEvent` (`published` may be relative, e.g. "-2h").
    #[serde(default)]
    pub events: Vec<serde_json::Value>,
    /// Transport-layer rate limits (see `rate_limit`).
    #[serde(default)]
    pub rate_limits: RateLimitConfig,
    /// Transport-layer faults (see `faults`).
    #[serde(default)]
    pub faults: Vec<FaultRule>,
}

/// Org settings.
#[derive(Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrgSettings {
    /// Tokens accepted as `Authorization: SSWS <token>`.
    #[serde(default)]
    pub api_tokens: Vec<String>,
    /// OAuth 2.0 service apps (private_key_jwt client credentials).
    #[serde(default)]
    pub service_apps: Vec<ServiceAppSpec>,
    /// Delay before a Force Sync job completes (default 300 ms).
    #[serde(default)]
    pub force_sync_delay_ms: Option<u64>,
    /// Whether listing and reading Group Push mappings also needs provisioning enabled (Okta
    /// does not publish it; writes always need it). Default false: reads work on an app whose
    /// provisioning is disabled.
    #[serde(default)]
    pub group_push_reads_need_provisioning: bool,
    /// Lifetime of issued OAuth access tokens, seconds (default 3600, as Okta's). 0 issues
    /// tokens that are already expired: every use answers 401 `E0000011`.
    #[serde(default)]
    pub access_token_ttl_secs: Option<u32>,
    /// Whether `GET /api/v1/agentPools` is available in this org (default `available`).
    #[serde(default)]
    pub agent_pools: EndpointAvailability,
    /// Okta Event Hooks registered (and verified) when the simulator starts.
    #[serde(default)]
    pub event_hooks: Vec<EventHookSpec>,
}

/// Lifetime of an OAuth access token unless the scenario sets one, seconds (Okta's default).
const DEFAULT_ACCESS_TOKEN_TTL_SECS: u32 = 3600;

impl OrgSettings {
    /// Lifetime of issued OAuth access tokens, seconds.
    pub(crate) fn access_token_ttl_secs(&self) -> i64 {
        i64::from(
            self.access_token_ttl_secs
                .unwrap_or(DEFAULT_ACCESS_TOKEN_TTL_SECS),
        )
    }
}

/// Whether an endpoint is available in the org, or how Okta refuses it when it is not.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EndpointAvailability {
    #[default]
    Available,
    /// 404 `E0000007`, as for a path the org does not serve.
    NotFound,
    /// 401 `E0000015` "You do not have permission to access the feature you are requesting":
    /// the feature is not enabled for the org.
    FeatureNotEnabled,
}

/// An Okta Event Hook: where and how the simulator delivers System Log events.
#[derive(Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct EventHookSpec {
    /// Shown in the hook's deliveries (`source`) and in `GET /__sim/event-hooks`.
    #[serde(default = "default_hook_name")]
    pub name: String,
    /// The receiver (`channel.config.uri` in Okta's Event Hooks API).
    pub url: String,
    /// Header sent with the verification request and every delivery (`authScheme.key`).
    #[serde(default = "default_hook_header")]
    pub auth_header_name: String,
    /// Its value (`authScheme.value`), a secret.
    #[serde(default)]
    pub auth_header_value: Option<String>,
    /// The System Log event types delivered (`events.items`).
    pub event_types: Vec<String>,
}

impl std::fmt::Debug for EventHookSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventHookSpec")
            .field("name", &self.name)
            .field("url", &crate::event_hooks::origin_of(&self.url))
            .field("auth_header_name", &self.auth_header_name)
            .field("auth_header_value", &"<redacted>")
            .field("event_types", &self.event_types)
            .finish()
    }
}

impl std::fmt::Debug for OrgSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OrgSettings")
            .field(
                "api_tokens",
                &format!("<{} redacted>", self.api_tokens.len()),
            )
            .field("service_apps", &self.service_apps)
            .field("force_sync_delay_ms", &self.force_sync_delay_ms)
            .field(
                "group_push_reads_need_provisioning",
                &self.group_push_reads_need_provisioning,
            )
            .field("access_token_ttl_secs", &self.access_token_ttl_secs)
            .field("agent_pools", &self.agent_pools)
            .field("event_hooks", &self.event_hooks)
            .finish()
    }
}

/// An OAuth 2.0 service app.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceAppSpec {
    pub client_id: String,
    /// RSA public key (PEM) that verifies the client assertion.
    #[serde(default)]
    pub public_key_pem: Option<String>,
    /// Or a path to it, relative to the scenario file.
    #[serde(default)]
    pub public_key_file: Option<PathBuf>,
    /// Scopes this app is granted.
    #[serde(default)]
    pub scopes: Vec<String>,
}

/// An Okta user.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserSpec {
    /// `00u...`, 20 characters.
    pub id: String,
    #[serde(default = "default_active")]
    pub status: String,
    /// `login`, `email`, `firstName`, `lastName` and any custom attributes.
    pub profile: serde_json::Map<String, serde_json::Value>,
    #[serde(default)]
    pub created: Option<String>,
}

/// An Okta group.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupSpec {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    /// Ids of member users.
    #[serde(default)]
    pub members: Vec<String>,
}

/// An app instance.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppSpec {
    /// `0oa...`.
    pub id: String,
    /// The app's catalog name, e.g. `active_directory`, `okta_org2org`, `slack`.
    pub name: String,
    pub label: String,
    #[serde(default = "default_active")]
    pub status: String,
    /// Default SAML_2_0. Not allowed on a source app (a directory integration or an HR/CSV
    /// source), whose `signOnMode` is always `null`.
    #[serde(default)]
    pub sign_on_mode: Option<String>,
    /// Extra read-only features beyond those the capabilities imply (e.g. GROUP_PUSH).
    #[serde(default)]
    pub features: Vec<String>,
    /// App-user profile attributes of the app's schema beyond those its users have; an app user
    /// without a value for one is sent with `null`.
    #[serde(default)]
    pub profile_schema: Vec<String>,
    #[serde(default)]
    pub provisioning: Option<ProvisioningSpec>,
    #[serde(default)]
    pub capabilities: CapabilitiesSpec,
    #[serde(default)]
    pub users: Vec<AppUserSpec>,
    #[serde(default)]
    pub group_push: Vec<GroupPushSpec>,
    /// Set for a directory integration (AD/LDAP).
    #[serde(default)]
    pub directory: Option<DirectorySpec>,
}

/// The app's provisioning connection.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProvisioningSpec {
    /// `ENABLED` or `DISABLED`.
    pub status: String,
    #[serde(default = "default_auth_scheme")]
    pub auth_scheme: String,
    /// Whether the stored token is currently accepted by the target app.
    #[serde(default = "default_token_state")]
    pub token: TokenState,
    /// Tokens that count as valid when a new one is posted.
    #[serde(default)]
    pub valid_tokens: Vec<String>,
    /// The target org of an Org2Org connection (`baseUrl`).
    #[serde(default)]
    pub base_url: Option<String>,
}

impl std::fmt::Debug for ProvisioningSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProvisioningSpec")
            .field("status", &self.status)
            .field("auth_scheme", &self.auth_scheme)
            .field("token", &self.token)
            .field("valid_tokens", &"<redacted>")
            .field("base_url", &self.base_url)
            .finish()
    }
}

/// Whether a connection's token works.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenState {
    Valid,
    Stale,
}

/// USER_PROVISIONING capabilities.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CapabilitiesSpec {
    pub lifecycle_create: bool,
    pub update_profile: bool,
    pub lifecycle_deactivate: bool,
    pub update_password: bool,
}

impl Default for CapabilitiesSpec {
    fn default() -> Self {
        Self {
            lifecycle_create: true,
            update_profile: true,
            lifecycle_deactivate: true,
            update_password: false,
        }
    }
}

/// One app user (an assignment).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppUserSpec {
    /// The Okta user's id.
    pub id: String,
    #[serde(default = "default_provisioned")]
    pub status: String,
    #[serde(default = "default_synchronized")]
    pub sync_state: String,
    #[serde(default)]
    pub profile: serde_json::Map<String, serde_json::Value>,
    #[serde(default)]
    pub last_sync: Option<String>,
    #[serde(default = "default_scope")]
    pub scope: String,
    #[serde(default)]
    pub external_id: Option<String>,
    /// `credentials.userName` (default: the profile's email, else the Okta user's login).
    #[serde(default)]
    pub user_name: Option<String>,
    /// Sim-only: why the last push failed (never on the wire).
    #[serde(default)]
    pub cause: Option<String>,
    /// Sim-only: the failure text, reachable only through the System Log.
    #[serde(default)]
    pub error_text: Option<String>,
    /// Event type of the seeded failure event (default `application.provision.user.push`).
    #[serde(default)]
    pub error_event_type: Option<String>,
}

/// A group push mapping.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupPushSpec {
    /// `gPm...`.
    pub id: String,
    pub source_group_id: String,
    pub target_group_id: String,
    /// `ACTIVE`, `INACTIVE` or `ERROR`.
    pub status: String,
    #[serde(default)]
    pub error_summary: Option<String>,
    #[serde(default)]
    pub last_updated: Option<String>,
    /// Okta sends no `lastPush` on recorded mappings; set one only to model a pushed mapping.
    #[serde(default)]
    pub last_push: Option<String>,
}

/// A directory integration's sim-only settings.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DirectorySpec {
    /// Whether port 464 (kpasswd) is reachable from the agents.
    #[serde(default = "default_true")]
    pub kpasswd_open: bool,
    /// To-Okta mappings: app-user attribute -> Okta profile attribute.
    #[serde(default)]
    pub mappings: BTreeMap<String, String>,
}

/// A directory agent pool.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentPoolSpec {
    pub id: String,
    pub name: String,
    #[serde(default = "default_pool_type", rename = "type")]
    pub pool_type: String,
    #[serde(default = "default_operational")]
    pub operational_status: String,
    #[serde(default)]
    pub agents: Vec<AgentSpec>,
}

/// A directory agent.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentSpec {
    pub id: String,
    pub name: String,
    #[serde(default = "default_operational")]
    pub operational_status: String,
    #[serde(default)]
    pub last_connection: Option<String>,
    #[serde(default)]
    pub version: Option<String>,
}

fn default_active() -> String {
    "ACTIVE".into()
}
fn default_hook_name() -> String {
    "okta-sim event hook".into()
}
fn default_hook_header() -> String {
    "Authorization".into()
}
fn default_auth_scheme() -> String {
    "TOKEN".into()
}
fn default_token_state() -> TokenState {
    TokenState::Valid
}
fn default_provisioned() -> String {
    "PROVISIONED".into()
}
fn default_synchronized() -> String {
    "SYNCHRONIZED".into()
}
fn default_scope() -> String {
    "USER".into()
}
fn default_true() -> bool {
    true
}
fn default_pool_type() -> String {
    "AD".into()
}
fn default_operational() -> String {
    "OPERATIONAL".into()
}

/// Why a scenario could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error("cannot read scenario {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The TOML message names the line, column and field.
    #[error("invalid scenario {path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("invalid scenario {path}: {field}: {message}")]
    Invalid {
        path: PathBuf,
        field: String,
        message: String,
    },
}

impl Scenario {
    /// Reads and validates a scenario file. Errors name the file, the line and the field.
    pub fn from_toml_file(path: impl AsRef<Path>) -> Result<Self, ScenarioError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Read {
            path: path.to_owned(),
            source,
        })?;
        let mut scenario = Self::from_toml_str(&text, path)?;
        scenario.resolve_key_files(path)?;
        Ok(scenario)
    }

    /// Reads a scenario file, TOML or (by its `.json` extension) JSON.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, ScenarioError> {
        let path = path.as_ref();
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            return Self::from_toml_file(path);
        }
        let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Read {
            path: path.to_owned(),
            source,
        })?;
        let mut scenario: Scenario =
            serde_json::from_str(&text).map_err(|e| ScenarioError::Parse {
                path: path.to_owned(),
                message: e.to_string(),
            })?;
        scenario.resolve_key_files(path)?;
        scenario.validate(path)?;
        Ok(scenario)
    }

    /// Parses and validates scenario text; `origin` names it in errors.
    pub fn from_toml_str(text: &str, origin: &Path) -> Result<Self, ScenarioError> {
        let scenario: Scenario = toml::from_str(text).map_err(|e| ScenarioError::Parse {
            path: origin.to_owned(),
            message: e.to_string(),
        })?;
        scenario.validate(origin)?;
        Ok(scenario)
    }

    /// The transport-layer part of the scenario.
    pub(crate) fn infra_config(&self) -> InfraConfig {
        InfraConfig {
            rate_limits: self.rate_limits.clone(),
            faults: self.faults.clone(),
        }
    }

    fn resolve_key_files(&mut self, path: &Path) -> Result<(), ScenarioError> {
        let dir = path.parent().unwrap_or(Path::new("."));
        for (i, app) in self.org.service_apps.iter_mut().enumerate() {
            let Some(file) = &app.public_key_file else {
                continue;
            };
            let full = dir.join(file);
            let pem = std::fs::read_to_string(&full).map_err(|e| ScenarioError::Invalid {
                path: path.to_owned(),
                field: format!("org.service_apps[{i}].public_key_file"),
                message: format!("cannot read {}: {e}", full.display()),
            })?;
            app.public_key_pem = Some(pem);
        }
        Ok(())
    }

    fn validate(&self, origin: &Path) -> Result<(), ScenarioError> {
        let now = Utc::now();
        self.validate_users(now)
            .and_then(|()| self.validate_apps(now))
            .and_then(|()| self.validate_rest(now))
            .map_err(|(field, message)| ScenarioError::Invalid {
                path: origin.to_owned(),
                field,
                message,
            })
    }

    fn validate_users(&self, now: DateTime<Utc>) -> Result<(), Invalid> {
        for (i, u) in self.users.iter().enumerate() {
            if !u.id.starts_with("00u") {
                return Err((
                    format!("users[{i}].id"),
                    format!("{:?} must start with 00u", u.id),
                ));
            }
            if let Some(t) = &u.created {
                parse_time(t, now).map_err(|m| (format!("users[{i}].created"), m))?;
            }
            if !u.profile.get("login").is_some_and(|v| v.is_string()) {
                return Err((format!("users[{i}].profile.login"), "missing".into()));
            }
        }
        Ok(())
    }

    fn validate_apps(&self, now: DateTime<Utc>) -> Result<(), Invalid> {
        let user_ids: std::collections::HashSet<&str> =
            self.users.iter().map(|u| u.id.as_str()).collect();
        for (a, app) in self.apps.iter().enumerate() {
            if !app.id.starts_with("0oa") {
                return Err((
                    format!("apps[{a}].id"),
                    format!("{:?} must start with 0oa", app.id),
                ));
            }
            if let Some(p) = &app.provisioning {
                check_enum(&p.status, &["ENABLED", "DISABLED"])
                    .map_err(|m| (format!("apps[{a}].provisioning.status"), m))?;
            }
            if app.is_source() && app.sign_on_mode.is_some() {
                return Err((
                    format!("apps[{a}].sign_on_mode"),
                    format!(
                        "{:?} is a source app (a directory or an HR/CSV source); Okta gives it no sign-on mode (signOnMode null), remove the key",
                        app.name
                    ),
                ));
            }
            for (i, au) in app.users.iter().enumerate() {
                validate_app_user(au, &user_ids, now)
                    .map_err(|(f, m)| (format!("apps[{a}].users[{i}].{f}"), m))?;
            }
            for (i, m) in app.group_push.iter().enumerate() {
                let field = |f: &str| format!("apps[{a}].group_push[{i}].{f}");
                check_enum(&m.status, &["ACTIVE", "INACTIVE", "ERROR"])
                    .map_err(|e| (field("status"), e))?;
                if let Some(t) = &m.last_updated {
                    parse_time(t, now).map_err(|e| (field("last_updated"), e))?;
                }
            }
        }
        Ok(())
    }

    fn validate_rest(&self, now: DateTime<Utc>) -> Result<(), Invalid> {
        for (p, pool) in self.agent_pools.iter().enumerate() {
            for (i, agent) in pool.agents.iter().enumerate() {
                if let Some(t) = &agent.last_connection {
                    parse_time(t, now).map_err(|m| {
                        (format!("agent_pools[{p}].agents[{i}].last_connection"), m)
                    })?;
                }
            }
        }
        for (i, e) in self.events.iter().enumerate() {
            if let Some(p) = e.get("published").and_then(|p| p.as_str()) {
                parse_time(p, now).map_err(|m| (format!("events[{i}].published"), m))?;
            }
        }
        for (i, hook) in self.org.event_hooks.iter().enumerate() {
            validate_hook(hook).map_err(|(f, m)| (format!("org.event_hooks[{i}].{f}"), m))?;
        }
        Ok(())
    }
}

/// A validation failure: the field's path and what is wrong with it.
type Invalid = (String, String);

impl AppSpec {
    /// Whether the app is a source (directory integration or HR/CSV source), not a sign-on target.
    pub(crate) fn is_source(&self) -> bool {
        self.directory.is_some() || crate::model::SOURCE_APP_NAMES.contains(&self.name.as_str())
    }
}

/// An event hook needs an http(s) URL, a valid header name and at least one event type.
pub(crate) fn validate_hook(hook: &EventHookSpec) -> Result<(), Invalid> {
    let url = url::Url::parse(&hook.url)
        .map_err(|e| ("url".to_owned(), format!("{:?}: {e}", hook.url)))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err((
            "url".into(),
            format!("{:?} is not an http(s) URL", hook.url),
        ));
    }
    if axum::http::HeaderName::from_bytes(hook.auth_header_name.as_bytes()).is_err() {
        return Err((
            "auth_header_name".into(),
            format!("{:?} is not a valid header name", hook.auth_header_name),
        ));
    }
    if hook
        .auth_header_value
        .as_deref()
        .is_some_and(|v| axum::http::HeaderValue::from_str(v).is_err())
    {
        return Err((
            "auth_header_value".into(),
            "is not a valid header value".into(),
        ));
    }
    if hook.event_types.is_empty() {
        return Err((
            "event_types".into(),
            "at least one event type is needed".into(),
        ));
    }
    Ok(())
}

fn validate_app_user(
    au: &AppUserSpec,
    user_ids: &std::collections::HashSet<&str>,
    now: DateTime<Utc>,
) -> Result<(), Invalid> {
    if !user_ids.contains(au.id.as_str()) {
        return Err(("id".into(), format!("unknown user {:?}", au.id)));
    }
    check_enum(&au.sync_state, SYNC_STATES).map_err(|m| ("sync_state".into(), m))?;
    check_enum(&au.status, APP_USER_STATUSES).map_err(|m| ("status".into(), m))?;
    if let Some(cause) = &au.cause {
        cause
            .parse::<crate::model::Cause>()
            .map_err(|m| ("cause".into(), m))?;
    }
    if let Some(t) = &au.last_sync {
        parse_time(t, now).map_err(|m| ("last_sync".into(), m))?;
    }
    Ok(())
}

const SYNC_STATES: &[&str] = &[
    "DISABLED",
    "ERROR",
    "OUT_OF_SYNC",
    "SYNCHRONIZED",
    "SYNCING",
];
const APP_USER_STATUSES: &[&str] = &[
    "ACTIVE",
    "APPROVED",
    "DEPROVISIONED",
    "IMPLICIT",
    "IMPORTED",
    "INACTIVE",
    "MATCHED",
    "PENDING",
    "PROVISIONED",
    "REVOKED",
    "STAGED",
    "SUSPENDED",
    "UNASSIGNED",
];

fn check_enum(value: &str, allowed: &[&str]) -> Result<(), String> {
    if allowed.contains(&value) {
        return Ok(());
    }
    Err(format!("{value:?} is not one of {}", allowed.join(", ")))
}

/// Parses an RFC3339 timestamp or a time relative to `now` like "-2h" or "-30s".
pub(crate) fn parse_time(text: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
    if let Some(rel) = text.strip_prefix('-') {
        let d = humantime::parse_duration(rel).map_err(|e| format!("{text:?}: {e}"))?;
        let d = chrono::Duration::from_std(d).map_err(|e| format!("{text:?}: {e}"))?;
        return now
            .checked_sub_signed(d)
            .ok_or_else(|| format!("{text:?} reaches before the representable range"));
    }
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| format!("{text:?} is neither RFC3339 nor relative like \"-2h\": {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_absolute_or_relative_to_start() {
        let now = DateTime::parse_from_rfc3339("2026-01-02T03:04:05Z")
            .expect("valid")
            .with_timezone(&Utc);
        let two_hours = parse_time("-2h", now).expect("relative");
        assert_eq!(now - two_hours, chrono::Duration::hours(2));
        let mixed = parse_time("-9m30s", now).expect("relative");
        assert_eq!(now - mixed, chrono::Duration::seconds(570));
        let abs = parse_time("2025-12-31T00:00:00Z", now).expect("absolute");
        assert_eq!(abs.to_rfc3339(), "2025-12-31T00:00:00+00:00");
        assert!(parse_time("tomorrow", now).is_err());
        assert!(parse_time("-2 fortnights", now).is_err());
        assert!(
            parse_time("-500000000years", now).is_err(),
            "overflow is an error, not a panic"
        );
    }

    #[test]
    fn debug_output_redacts_tokens() {
        let settings = OrgSettings {
            api_tokens: vec!["super-secret-token".into()],
            ..OrgSettings::default()
        };
        let provisioning = ProvisioningSpec {
            status: "ENABLED".into(),
            auth_scheme: "TOKEN".into(),
            token: TokenState::Valid,
            valid_tokens: vec!["another-secret".into()],
            base_url: None,
        };
        let shown = format!("{settings:?} {provisioning:?}");
        assert!(
            !shown.contains("super-secret-token") && !shown.contains("another-secret"),
            "{shown}"
        );
    }
}
