//! The raw shape of policy files, as deserialized from TOML before validation. Every leaf that
//! needs checking keeps its span so errors can name the line.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

type S<T> = Option<Spanned<T>>;

/// A list of app or directory ids and labels, each entry with its own span.
pub(crate) type List = Option<Spanned<Vec<Spanned<String>>>>;

/// One policy file. Every section is optional; a section may appear in one file only.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFile {
    pub global: Option<RawGlobal>,
    pub safety: Option<RawSafety>,
    pub schedule: Option<RawSchedule>,
    pub okta: Option<RawOkta>,
    pub retry_provisioning: Option<RawRetry>,
    pub force_sync: Option<RawForceSync>,
    pub remove_push_mappings: Option<RawRemovePush>,
    pub provisioning_features: Option<RawFeatures>,
    pub kpasswd: Option<RawKpasswd>,
    pub provisioning_credentials: Option<RawCredentials>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawGlobal {
    pub default_mode: S<String>,
    pub modes: Option<BTreeMap<String, Spanned<String>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSafety {
    pub max_actions_per_run: S<i64>,
    pub max_actions_per_hour: S<i64>,
    pub max_actions_per_kind_per_run: Option<BTreeMap<String, Spanned<i64>>>,
    pub cooldown: S<String>,
    pub approval_expiry: S<String>,
    pub journal_retention: S<String>,
    pub circuit_breaker: Option<RawBreaker>,
    pub apps: Option<RawAllowDeny>,
    pub directories: Option<RawAllowDeny>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawBreaker {
    pub window: S<i64>,
    pub failure_ratio: S<f64>,
    pub min_actions: S<i64>,
    pub open_for: S<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAllowDeny {
    pub allow: List,
    pub deny: List,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSchedule {
    pub full_reconcile: S<String>,
    pub log_poll_interval: S<String>,
    pub log_lookback: S<String>,
    pub mapping_sweep_per_minute: S<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawOkta {
    pub admin: Option<RawAdmin>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAdmin {
    pub force_sync_path: S<String>,
    pub task_retry_path: S<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRetry {
    pub apps: List,
    pub max_attempts: S<i64>,
    pub backoff: Option<RawBackoff>,
    pub min_error_age: S<String>,
    pub never_retry_errors: S<Vec<String>>,
    pub strategy: S<String>,
    pub retry_unknown_errors: Option<bool>,
    /// `"required"` or `"none"`: whether its enforce actions wait for a person's approval.
    pub approval: S<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawBackoff {
    pub initial: S<String>,
    pub multiplier: S<f64>,
    pub max: S<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawForceSync {
    pub directories: List,
    /// `"department"` or `{ app_user = "extensionAttribute1", okta = "costCenter" }`.
    pub attributes: Option<Vec<Spanned<toml::Value>>>,
    pub verify_timeout: S<String>,
    pub verify_poll_interval: S<String>,
    pub use_admin_path: S<bool>,
    /// `{ user = "login or id", attribute = "title", value = "Staff Engineer" }`.
    pub expected: Option<Vec<Spanned<toml::Value>>>,
    /// `"required"` or `"none"`: whether its enforce actions wait for a person's approval.
    pub approval: S<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRemovePush {
    pub apps: Option<BTreeMap<String, Spanned<RawRemovePushApp>>>,
    /// `"required"` or `"none"`: whether its enforce actions wait for a person's approval.
    pub approval: S<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRemovePushApp {
    /// Kept as a raw value so a misplaced secret is never echoed by a type error.
    pub credential: Option<Spanned<toml::Value>>,
    pub delete_target_groups: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFeatures {
    pub action: S<String>,
    pub apps: Option<BTreeMap<String, Spanned<RawFeatureApp>>>,
    /// `"required"` or `"none"`: whether its enforce actions wait for a person's approval.
    pub approval: S<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFeatureApp {
    pub create_users: Option<bool>,
    pub update_attributes: Option<bool>,
    pub deactivate_users: Option<bool>,
    pub action: S<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawKpasswd {
    pub directories: List,
    pub window: S<String>,
    pub max_gap: S<String>,
    pub domain_controllers: Option<Vec<Spanned<String>>>,
    pub probe_timeout: S<String>,
    pub retry_after_probe_passes: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCredentials {
    pub apps: List,
    pub error_patterns: S<Vec<String>>,
}
