//! The validated policy: typed, with every default filled in, and the pure helpers the planner
//! asks questions through.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use crate::config::CredentialSource;

/// What a rule may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Mode {
    /// Only findings: candidate actions are reported, never planned.
    Report,
    /// Actions are planned and previewed, never carried out.
    DryRun,
    /// Actions are planned and carried out by `apply`.
    Enforce,
}

impl Mode {
    /// Every mode, as spelled in policy files.
    pub const NAMES: &'static str = "report, dry-run, enforce";

    /// Parses a mode as spelled in policy files.
    pub fn parse(s: &str) -> Option<Mode> {
        match s {
            "report" => Some(Mode::Report),
            "dry-run" => Some(Mode::DryRun),
            "enforce" => Some(Mode::Enforce),
            _ => None,
        }
    }

    /// The spelling used in policy files.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Report => "report",
            Mode::DryRun => "dry-run",
            Mode::Enforce => "enforce",
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The remediation rules, one per situation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RuleKind {
    /// Retry failed provisioning of app users.
    RetryProvisioning,
    /// Force Sync a directory whose app-user profile holds values the Okta profile lacks.
    ForceSync,
    /// Remove Group Push mappings of apps with provisioning disabled.
    RemovePushMappings,
    /// Keep the app provisioning features as policy wants them.
    ProvisioningFeatures,
    /// Diagnose KPASSWD (TCP 464) blocked between the AD agent and the domain controllers.
    Kpasswd,
    /// Diagnose provisioning failures caused by invalid app credentials.
    ProvisioningCredentials,
}

impl RuleKind {
    /// Every rule, in a stable order.
    pub const ALL: [RuleKind; 6] = [
        RuleKind::RetryProvisioning,
        RuleKind::ForceSync,
        RuleKind::RemovePushMappings,
        RuleKind::ProvisioningFeatures,
        RuleKind::Kpasswd,
        RuleKind::ProvisioningCredentials,
    ];

    /// The rule's section name in policy files.
    pub fn key(self) -> &'static str {
        match self {
            RuleKind::RetryProvisioning => "retry_provisioning",
            RuleKind::ForceSync => "force_sync",
            RuleKind::RemovePushMappings => "remove_push_mappings",
            RuleKind::ProvisioningFeatures => "provisioning_features",
            RuleKind::Kpasswd => "kpasswd",
            RuleKind::ProvisioningCredentials => "provisioning_credentials",
        }
    }

    /// The rule named `key` in policy files.
    pub fn from_key(key: &str) -> Option<RuleKind> {
        RuleKind::ALL.into_iter().find(|k| k.key() == key)
    }
}

impl fmt::Display for RuleKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

/// Which apps or directories a rule applies to: `"*"` or a list of ids and labels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    /// Every app or directory.
    All,
    /// Only these (each entry matches an id exactly or a label ignoring ASCII case).
    Only(Vec<String>),
}

impl Selector {
    /// Whether the app or directory with this id and label is selected.
    pub fn matches(&self, id: &str, label: &str) -> bool {
        match self {
            Selector::All => true,
            Selector::Only(entries) => entries.iter().any(|e| entry_matches(e, id, label)),
        }
    }
}

/// Whether a policy entry names the app with this id and label.
pub(crate) fn entry_matches(entry: &str, id: &str, label: &str) -> bool {
    entry == id || entry.eq_ignore_ascii_case(label)
}

/// Allow and deny lists; deny wins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowDeny {
    /// Allowed targets (default: all).
    pub allow: Selector,
    /// Denied targets (default: none). A denied target is never acted on.
    pub deny: Vec<String>,
}

impl Default for AllowDeny {
    fn default() -> Self {
        AllowDeny {
            allow: Selector::All,
            deny: Vec::new(),
        }
    }
}

impl AllowDeny {
    /// Whether the target may be acted on.
    pub fn allows(&self, id: &str, label: &str) -> bool {
        self.allow.matches(id, label) && !self.deny.iter().any(|e| entry_matches(e, id, label))
    }
}

/// Global settings: the mode of each rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Global {
    /// The mode of rules not listed in `modes` (default `dry-run`).
    pub default_mode: Mode,
    /// Per-rule modes.
    pub modes: BTreeMap<RuleKind, Mode>,
}

impl Default for Global {
    fn default() -> Self {
        Global {
            default_mode: Mode::DryRun,
            modes: BTreeMap::new(),
        }
    }
}

/// Circuit breaker: stop acting when too many recent actions failed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CircuitBreaker {
    /// How many of the most recent actions are considered.
    pub window: u32,
    /// The breaker opens when failures / actions in the window reach this ratio (0 < r <= 1).
    pub failure_ratio: f64,
    /// The breaker cannot open before this many actions are in the window.
    pub min_actions: u32,
    /// How long the breaker stays open once tripped.
    pub open_for: Duration,
}

impl Default for CircuitBreaker {
    fn default() -> Self {
        CircuitBreaker {
            window: defaults::BREAKER_WINDOW,
            failure_ratio: defaults::BREAKER_FAILURE_RATIO,
            min_actions: defaults::BREAKER_MIN_ACTIONS,
            open_for: defaults::BREAKER_OPEN_FOR,
        }
    }
}

impl CircuitBreaker {
    /// Whether the breaker trips given the outcomes of recent actions (`true` = failed), most
    /// recent last. Only the last `window` outcomes count.
    pub fn trips(&self, recent_failed: &[bool]) -> bool {
        let window = self.window as usize;
        let recent = &recent_failed[recent_failed.len().saturating_sub(window)..];
        if recent.len() < self.min_actions as usize {
            return false;
        }
        let failures = recent.iter().filter(|f| **f).count();
        failures as f64 / recent.len() as f64 >= self.failure_ratio
    }
}

/// Blast-radius limits.
#[derive(Debug, Clone, PartialEq)]
pub struct Safety {
    /// Most actions in one run.
    pub max_actions_per_run: u32,
    /// Most actions in any rolling hour.
    pub max_actions_per_hour: u32,
    /// Most actions of one rule in one run (rules not listed: only `max_actions_per_run`).
    pub max_actions_per_kind_per_run: BTreeMap<RuleKind, u32>,
    /// Least time between two actions on the same target.
    pub cooldown: Duration,
    /// The circuit breaker.
    pub circuit_breaker: CircuitBreaker,
    /// Which apps may be acted on.
    pub apps: AllowDeny,
    /// Which directories may be acted on.
    pub directories: AllowDeny,
    /// The rules whose enforce actions wait for a person's approval (`approval = "required"`).
    pub approval_required: std::collections::BTreeSet<RuleKind>,
    /// How long a request for approval (and the approval given) stays good.
    pub approval_expiry: Duration,
    /// How long journal entries are kept; the daemon prunes older ones daily (exported to
    /// `STATE/archive/`). `None`: every entry is kept.
    pub journal_retention: Option<Duration>,
}

impl Default for Safety {
    fn default() -> Self {
        Safety {
            max_actions_per_run: defaults::MAX_ACTIONS_PER_RUN,
            max_actions_per_hour: defaults::MAX_ACTIONS_PER_HOUR,
            max_actions_per_kind_per_run: BTreeMap::new(),
            cooldown: defaults::COOLDOWN,
            circuit_breaker: CircuitBreaker::default(),
            apps: AllowDeny::default(),
            directories: AllowDeny::default(),
            approval_required: std::collections::BTreeSet::new(),
            approval_expiry: defaults::APPROVAL_EXPIRY,
            journal_retention: None,
        }
    }
}

impl Safety {
    /// The per-run limit for one rule: its own limit, never above `max_actions_per_run`.
    pub fn max_actions_for_kind(&self, kind: RuleKind) -> u32 {
        self.max_actions_per_kind_per_run
            .get(&kind)
            .copied()
            .unwrap_or(self.max_actions_per_run)
            .min(self.max_actions_per_run)
    }
}

/// The daemon's schedule.
#[derive(Debug, Clone)]
pub struct Schedule {
    /// When full reconciles run.
    pub full_reconcile: cron::Schedule,
    /// The expression `full_reconcile` was parsed from.
    pub full_reconcile_expr: String,
    /// How often the System Log is polled for new failures.
    pub log_poll_interval: Duration,
    /// How far back each full observation (plan, apply, a daemon reconcile) reads the System Log.
    pub log_lookback: Duration,
    /// The daemon's Group Push sweep between its full scans: questions asked a minute (0: each
    /// full scan asks every candidate app, as `plan` and `apply` do).
    pub mapping_sweep_per_minute: u32,
}

impl Default for Schedule {
    fn default() -> Self {
        Schedule {
            full_reconcile: defaults::FULL_RECONCILE
                .parse()
                .expect("the default cron expression is valid (tested)"),
            full_reconcile_expr: defaults::FULL_RECONCILE.to_string(),
            log_poll_interval: defaults::LOG_POLL_INTERVAL,
            log_lookback: defaults::LOG_LOOKBACK,
            mapping_sweep_per_minute: defaults::MAPPING_SWEEP_PER_MINUTE,
        }
    }
}

/// A path template of a non-public Okta admin endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathTemplate(pub(crate) String);

impl PathTemplate {
    /// The template as written (with `{appId}` / `{userId}` placeholders).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The path with placeholders replaced.
    pub fn render(&self, app_id: &str, user_id: Option<&str>) -> String {
        let path = self.0.replace("{appId}", app_id);
        match user_id {
            Some(u) => path.replace("{userId}", u),
            None => path,
        }
    }
}

/// Non-public admin endpoints. Each is off unless its path is set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AdminPaths {
    /// Force Sync of a directory (`{appId}`).
    pub force_sync_path: Option<PathTemplate>,
    /// Retry of a failed provisioning task (`{appId}`, optional `{userId}`).
    pub task_retry_path: Option<PathTemplate>,
}

/// How a failed provisioning is retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryStrategy {
    /// The public `POST /api/v1/apps/{appId}/users/{userId}` of the app user.
    Repush,
    /// The non-public admin task retry (`okta.admin.task_retry_path`).
    AdminTaskRetry,
}

/// Exponential backoff between attempts, across runs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    /// Wait before the second attempt.
    pub initial: Duration,
    /// Factor applied to the wait after each attempt (>= 1).
    pub multiplier: f64,
    /// Longest wait.
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            initial: defaults::BACKOFF_INITIAL,
            multiplier: defaults::BACKOFF_MULTIPLIER,
            max: defaults::BACKOFF_MAX,
        }
    }
}

impl Backoff {
    /// The wait required after `attempts_made` attempts before the next one (0 before the first).
    pub fn delay_after(&self, attempts_made: u32) -> Duration {
        if attempts_made == 0 {
            return Duration::ZERO;
        }
        let exp = (attempts_made - 1).min(64) as i32;
        let secs = self.initial.as_secs_f64() * self.multiplier.powi(exp);
        Duration::try_from_secs_f64(secs)
            .unwrap_or(self.max)
            .min(self.max)
    }
}

/// Case-insensitive substrings of error texts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorPatterns(pub Vec<String>);

impl ErrorPatterns {
    /// The first pattern found in `text`, ignoring ASCII case.
    pub fn find(&self, text: &str) -> Option<&str> {
        let text = text.to_ascii_lowercase();
        self.0
            .iter()
            .find(|p| text.contains(&p.to_ascii_lowercase()))
            .map(String::as_str)
    }
}

/// The `retry_provisioning` rule.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryProvisioning {
    /// Apps whose failed assignments may be retried.
    pub apps: Selector,
    /// Most attempts per app user and error.
    pub max_attempts: u32,
    /// Wait between attempts.
    pub backoff: Backoff,
    /// An error must be at least this old before it is retried.
    pub min_error_age: Duration,
    /// Errors never retried blindly: the built-in defaults plus the policy's own.
    pub never_retry_errors: ErrorPatterns,
    /// How the retry is made.
    pub strategy: RetryStrategy,
    /// Whether errors matching no known cause are retried.
    pub retry_unknown_errors: bool,
}

impl Default for RetryProvisioning {
    fn default() -> Self {
        RetryProvisioning {
            apps: Selector::All,
            max_attempts: defaults::MAX_ATTEMPTS,
            backoff: Backoff::default(),
            min_error_age: defaults::MIN_ERROR_AGE,
            never_retry_errors: ErrorPatterns(
                defaults::NEVER_RETRY_ERRORS
                    .iter()
                    .map(|s| s.to_string())
                    .collect(),
            ),
            strategy: RetryStrategy::Repush,
            retry_unknown_errors: false,
        }
    }
}

/// An attribute compared between the directory app-user profile and the Okta profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttributePair {
    /// The app-user (directory) attribute.
    pub app_user: String,
    /// The Okta user profile attribute.
    pub okta: String,
}

/// The `force_sync` rule.
#[derive(Debug, Clone, PartialEq)]
pub struct ForceSync {
    /// Directories that may be Force Synced.
    pub directories: Selector,
    /// Attributes to compare; empty means every attribute with the same name on both sides.
    pub attributes: Vec<AttributePair>,
    /// How long to wait for the Okta profile to take the value.
    pub verify_timeout: Duration,
    /// How often to look while waiting.
    pub verify_poll_interval: Duration,
    /// Whether the non-public Force Sync admin path may be called (needs
    /// `okta.admin.force_sync_path`). Without it the rule only reports.
    pub use_admin_path: bool,
    /// Values the directory is known to hold (from a change ticket): when the app-user profile
    /// does not show one, Force Sync cannot help and the finding says so.
    pub expected: Vec<ExpectedValue>,
}

/// A directory value known to have changed, for one user and one app-user attribute.
#[derive(Debug, Clone, PartialEq)]
pub struct ExpectedValue {
    /// The user's Okta login or id.
    pub user: String,
    /// The directory app-user attribute.
    pub attribute: String,
    /// The value the directory holds.
    pub value: serde_json::Value,
}

impl Default for ForceSync {
    fn default() -> Self {
        ForceSync {
            directories: Selector::All,
            attributes: Vec::new(),
            verify_timeout: defaults::VERIFY_TIMEOUT,
            verify_poll_interval: defaults::VERIFY_POLL_INTERVAL,
            use_admin_path: false,
            expected: Vec::new(),
        }
    }
}

/// What `remove_push_mappings` may do on one app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushMappingRemoval {
    /// The id or label the app was named by.
    pub app: String,
    /// Where the app's valid provisioning credential comes from.
    pub credential: CredentialSource,
    /// Whether target groups are deleted with the mappings (default false).
    pub delete_target_groups: bool,
}

/// The `remove_push_mappings` rule.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RemovePushMappings {
    /// Apps that may be fixed, each with its credential. Other apps get a finding.
    pub apps: Vec<PushMappingRemoval>,
}

impl RemovePushMappings {
    /// The settings for this app, if policy names it: the entry naming its id, else the one
    /// naming its label.
    pub fn for_app(&self, id: &str, label: &str) -> Option<&PushMappingRemoval> {
        by_id_then_label(&self.apps, |a| &a.app, id, label)
    }
}

/// The entry naming `id`, else the first naming `label` (ignoring ASCII case).
fn by_id_then_label<'a, T>(
    entries: &'a [T],
    app: impl Fn(&T) -> &str,
    id: &str,
    label: &str,
) -> Option<&'a T> {
    entries
        .iter()
        .find(|e| app(e) == id)
        .or_else(|| entries.iter().find(|e| entry_matches(app(e), id, label)))
}

/// Whether a provisioning-feature drift is fixed or only reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeatureAction {
    /// Fix the drift (where the API allows it).
    Fix,
    /// Report the drift.
    Report,
}

/// The provisioning features policy wants on one app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WantedFeatures {
    /// The id or label the app was named by.
    pub app: String,
    /// "Create Users" (`PUSH_NEW_USERS`).
    pub create_users: bool,
    /// "Update User Attributes" (`PUSH_PROFILE_UPDATES`).
    pub update_attributes: bool,
    /// "Deactivate Users" (`PUSH_USER_DEACTIVATION`).
    pub deactivate_users: bool,
    /// Fix or report a drift.
    pub action: FeatureAction,
}

/// The `provisioning_features` rule.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProvisioningFeatures {
    /// Per-app wanted features.
    pub apps: Vec<WantedFeatures>,
}

impl ProvisioningFeatures {
    /// The wanted features of this app, if policy names it: the entry naming its id, else the
    /// one naming its label.
    pub fn for_app(&self, id: &str, label: &str) -> Option<&WantedFeatures> {
        by_id_then_label(&self.apps, |a| &a.app, id, label)
    }
}

/// A domain controller probed on the KPASSWD port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainController {
    /// Host name or address.
    pub host: String,
    /// TCP port (default 464).
    pub port: u16,
}

/// The `kpasswd` rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Kpasswd {
    /// Directories diagnosed.
    pub directories: Selector,
    /// Expected gap between the LDAP write and the failed sync (Windows' 30 s job limit).
    pub window: Duration,
    /// Largest gap still matched as the pattern (>= window).
    pub max_gap: Duration,
    /// Domain controllers to probe on TCP (default none: no probe).
    pub domain_controllers: Vec<DomainController>,
    /// Timeout of one probe.
    pub probe_timeout: Duration,
    /// Whether affected users are retried once every probe passes.
    pub retry_after_probe_passes: bool,
}

impl Default for Kpasswd {
    fn default() -> Self {
        Kpasswd {
            directories: Selector::All,
            window: defaults::KPASSWD_WINDOW,
            max_gap: defaults::KPASSWD_MAX_GAP,
            domain_controllers: Vec::new(),
            probe_timeout: defaults::PROBE_TIMEOUT,
            retry_after_probe_passes: false,
        }
    }
}

/// The `provisioning_credentials` rule (diagnosis only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProvisioningCredentials {
    /// Apps diagnosed.
    pub apps: Selector,
    /// Error texts that mean the app's credentials are invalid: defaults plus the policy's own.
    pub error_patterns: ErrorPatterns,
}

impl Default for ProvisioningCredentials {
    fn default() -> Self {
        ProvisioningCredentials {
            apps: Selector::All,
            error_patterns: ErrorPatterns(
                defaults::CREDENTIAL_ERRORS
                    .iter()
                    .map(|s| s.to_string())
                    .collect(),
            ),
        }
    }
}

/// A validated policy set.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    /// Modes.
    pub global: Global,
    /// Budgets, cooldown, circuit breaker, allow/deny lists.
    pub safety: Safety,
    /// The daemon's schedule.
    pub schedule: Schedule,
    /// Non-public admin endpoints (`[okta.admin]`).
    pub admin: AdminPaths,
    /// `[retry_provisioning]`.
    pub retry_provisioning: RetryProvisioning,
    /// `[force_sync]`.
    pub force_sync: ForceSync,
    /// `[remove_push_mappings]`.
    pub remove_push_mappings: RemovePushMappings,
    /// `[provisioning_features]`.
    pub provisioning_features: ProvisioningFeatures,
    /// `[kpasswd]`.
    pub kpasswd: Kpasswd,
    /// `[provisioning_credentials]`.
    pub provisioning_credentials: ProvisioningCredentials,
    /// What a reader of a valid policy should know, each `file:line:column: field: note`
    /// (e.g. a 5-field cron expression read with seconds 0). Logged by the daemon at start-up
    /// and printed by `policy validate`.
    pub notes: Vec<String>,
    /// Where each selector entry was written, for the plan's warnings.
    pub(crate) origins: super::select::Origins,
}

impl Policy {
    /// Whether the rule's enforce actions wait for a person's approval.
    pub fn approval_required(&self, kind: RuleKind) -> bool {
        self.safety.approval_required.contains(&kind)
    }

    /// The mode of a rule.
    pub fn mode_for(&self, kind: RuleKind) -> Mode {
        self.global
            .modes
            .get(&kind)
            .copied()
            .unwrap_or(self.global.default_mode)
    }

    /// Whether the app may be acted on (allow list, then deny list; deny wins).
    pub fn app_allowed(&self, id: &str, label: &str) -> bool {
        self.safety.apps.allows(id, label)
    }

    /// Whether the directory may be acted on (allow list, then deny list; deny wins).
    pub fn directory_allowed(&self, id: &str, label: &str) -> bool {
        self.safety.directories.allows(id, label)
    }

    /// The features policy wants on this app, if it names it.
    pub fn wanted_features(&self, id: &str, label: &str) -> Option<&WantedFeatures> {
        self.provisioning_features.for_app(id, label)
    }

    /// Whether failed assignments of this app may be retried (rule selection and allow lists).
    pub fn retry_applies_to(&self, id: &str, label: &str) -> bool {
        self.retry_provisioning.apps.matches(id, label) && self.app_allowed(id, label)
    }

    /// Whether this directory may be Force Synced (rule selection and allow lists).
    pub fn force_sync_applies_to(&self, id: &str, label: &str) -> bool {
        self.force_sync.directories.matches(id, label) && self.directory_allowed(id, label)
    }

    /// Whether this directory is diagnosed by the kpasswd rule (rule selection and allow lists).
    pub fn kpasswd_applies_to(&self, id: &str, label: &str) -> bool {
        self.kpasswd.directories.matches(id, label) && self.directory_allowed(id, label)
    }

    /// Whether this app is diagnosed for invalid credentials (rule selection and allow lists).
    pub fn credentials_check_applies_to(&self, id: &str, label: &str) -> bool {
        self.provisioning_credentials.apps.matches(id, label) && self.app_allowed(id, label)
    }

    /// The never-retry pattern an error text matches, if any: such errors are not retried blindly.
    pub fn never_retry_reason(&self, error_text: &str) -> Option<&str> {
        self.retry_provisioning.never_retry_errors.find(error_text)
    }

    /// The invalid-credential pattern an error text matches, if any.
    pub fn credential_error_reason(&self, error_text: &str) -> Option<&str> {
        self.provisioning_credentials
            .error_patterns
            .find(error_text)
    }

    /// The Force Sync admin path, only when policy enables its use.
    pub fn force_sync_path(&self) -> Option<&PathTemplate> {
        if !self.force_sync.use_admin_path {
            return None;
        }
        self.admin.force_sync_path.as_ref()
    }
}

/// Documented defaults and bounds (see `docs/policy.md`).
pub mod defaults {
    use std::time::Duration;

    const MINUTE: u64 = 60;
    const HOUR: u64 = 60 * MINUTE;
    const DAY: u64 = 24 * HOUR;

    /// Default `safety.max_actions_per_run`.
    pub const MAX_ACTIONS_PER_RUN: u32 = 25;
    /// Default `safety.max_actions_per_hour`.
    pub const MAX_ACTIONS_PER_HOUR: u32 = 100;
    /// Upper bound of every action budget.
    pub const MAX_ACTIONS_LIMIT: u32 = 10_000;
    /// Default `safety.approval_expiry`.
    pub const APPROVAL_EXPIRY: Duration = Duration::from_secs(DAY);
    /// Bounds of `safety.approval_expiry`.
    pub const APPROVAL_EXPIRY_RANGE: (Duration, Duration) =
        (Duration::from_secs(1), Duration::from_secs(7 * DAY));
    /// Default `safety.cooldown`.
    pub const COOLDOWN: Duration = Duration::from_secs(30 * MINUTE);
    /// Upper bound of `safety.cooldown`, `circuit_breaker.open_for` and `backoff.max`.
    pub const MAX_LONG_DURATION: Duration = Duration::from_secs(7 * DAY);
    /// Upper bound of `safety.journal_retention` (ten years).
    pub const MAX_JOURNAL_RETENTION: Duration = Duration::from_secs(3650 * DAY);
    /// Default `circuit_breaker.window`.
    pub const BREAKER_WINDOW: u32 = 20;
    /// Upper bound of `circuit_breaker.window`.
    pub const MAX_BREAKER_WINDOW: u32 = 1_000;
    /// Default `circuit_breaker.failure_ratio`.
    pub const BREAKER_FAILURE_RATIO: f64 = 0.5;
    /// Default `circuit_breaker.min_actions`.
    pub const BREAKER_MIN_ACTIONS: u32 = 5;
    /// Default `circuit_breaker.open_for`.
    pub const BREAKER_OPEN_FOR: Duration = Duration::from_secs(30 * MINUTE);
    /// Default `schedule.full_reconcile` (6-field cron with seconds: every 6 hours).
    pub const FULL_RECONCILE: &str = "0 0 */6 * * *";
    /// Default `schedule.log_poll_interval`.
    pub const LOG_POLL_INTERVAL: Duration = Duration::from_secs(MINUTE);
    /// Bounds of `schedule.log_poll_interval`.
    pub const LOG_POLL_INTERVAL_RANGE: (Duration, Duration) =
        (Duration::from_secs(10), Duration::from_secs(HOUR));
    /// Default `schedule.log_lookback`.
    pub const LOG_LOOKBACK: Duration = Duration::from_secs(DAY);
    /// Upper bound of `schedule.log_lookback` (the System Log keeps 90 days).
    pub const MAX_LOG_LOOKBACK: Duration = Duration::from_secs(90 * DAY);
    /// Default `schedule.mapping_sweep_per_minute`: 4% of Okta's default `/api/v1/apps*`
    /// bucket (100 a minute), under the 5% an idle org may use between full scans.
    pub const MAPPING_SWEEP_PER_MINUTE: u32 = 4;
    /// Upper bound of `schedule.mapping_sweep_per_minute`.
    pub const MAX_MAPPING_SWEEP_PER_MINUTE: u32 = 50;
    /// Default `retry_provisioning.max_attempts`.
    pub const MAX_ATTEMPTS: u32 = 5;
    /// Upper bound of `retry_provisioning.max_attempts`.
    pub const MAX_ATTEMPTS_LIMIT: u32 = 100;
    /// Default `retry_provisioning.backoff.initial`.
    pub const BACKOFF_INITIAL: Duration = Duration::from_secs(15 * MINUTE);
    /// Default `retry_provisioning.backoff.multiplier`.
    pub const BACKOFF_MULTIPLIER: f64 = 2.0;
    /// Upper bound of `retry_provisioning.backoff.multiplier`.
    pub const MAX_BACKOFF_MULTIPLIER: f64 = 10.0;
    /// Default `retry_provisioning.backoff.max`.
    pub const BACKOFF_MAX: Duration = Duration::from_secs(DAY);
    /// Default `retry_provisioning.min_error_age`.
    pub const MIN_ERROR_AGE: Duration = Duration::from_secs(10 * MINUTE);
    /// Error texts never retried blindly (always included; policy can only add).
    pub const NEVER_RETRY_ERRORS: &[&str] = &[
        "User account is inactive",
        "Matching user not found",
        "User not found",
        "Invalid Credentials",
        "credentials used to connect to the API were invalid",
        "Unauthorized",
        "token is invalid or expired",
        "Authentication failed",
    ];
    /// Default `force_sync.verify_timeout`.
    pub const VERIFY_TIMEOUT: Duration = Duration::from_secs(10 * MINUTE);
    /// Bounds of `force_sync.verify_timeout`.
    pub const VERIFY_TIMEOUT_RANGE: (Duration, Duration) =
        (Duration::from_secs(10), Duration::from_secs(HOUR));
    /// Default `force_sync.verify_poll_interval`.
    pub const VERIFY_POLL_INTERVAL: Duration = Duration::from_secs(30);
    /// Lower bound of `force_sync.verify_poll_interval`.
    pub const MIN_VERIFY_POLL_INTERVAL: Duration = Duration::from_secs(1);
    /// Default `kpasswd.window`.
    pub const KPASSWD_WINDOW: Duration = Duration::from_secs(30);
    /// Default `kpasswd.max_gap`.
    pub const KPASSWD_MAX_GAP: Duration = Duration::from_secs(45);
    /// Upper bound of `kpasswd.window` and `kpasswd.max_gap`.
    pub const MAX_KPASSWD_GAP: Duration = Duration::from_secs(10 * MINUTE);
    /// The KPASSWD port probed when a domain controller names none.
    pub const KPASSWD_PORT: u16 = 464;
    /// Default `kpasswd.probe_timeout`.
    pub const PROBE_TIMEOUT: Duration = Duration::from_secs(3);
    /// Bounds of `kpasswd.probe_timeout`.
    pub const PROBE_TIMEOUT_RANGE: (Duration, Duration) =
        (Duration::from_millis(100), Duration::from_secs(MINUTE));
    /// Error texts that mean the app's credentials are invalid (policy can add).
    pub const CREDENTIAL_ERRORS: &[&str] = &[
        "Invalid Credentials",
        "credentials used to connect to the API were invalid",
        "Unauthorized",
        "token is invalid or expired",
        "Authentication failed",
        "401",
    ];
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy_with_lists() -> Policy {
        let mut p = Policy::default();
        p.safety.apps = AllowDeny {
            allow: Selector::Only(vec!["Slack".into(), "0oaACME".into()]),
            deny: vec!["0oaSLACK2".into()],
        };
        p.global.modes.insert(RuleKind::ForceSync, Mode::Enforce);
        p
    }

    #[test]
    fn mode_for_falls_back_to_the_default_mode() {
        let p = policy_with_lists();
        assert_eq!(p.mode_for(RuleKind::ForceSync), Mode::Enforce);
        assert_eq!(p.mode_for(RuleKind::RetryProvisioning), Mode::DryRun);
    }

    #[test]
    fn allow_matches_id_exactly_and_label_ignoring_case_and_deny_wins() {
        let p = policy_with_lists();
        assert!(p.app_allowed("0oaANY", "slack"));
        assert!(p.app_allowed("0oaACME", "Acme SCIM"));
        assert!(!p.app_allowed("0oaacme", "Other"), "ids are case-sensitive");
        assert!(!p.app_allowed("0oaZOOM", "Zoom"));
        assert!(!p.app_allowed("0oaSLACK2", "Slack"), "deny wins over allow");
        assert!(
            p.directory_allowed("0oaAD", "corp.example.com"),
            "default allows all"
        );
    }

    #[test]
    fn retry_selection_needs_the_rule_and_the_allow_list() {
        let mut p = policy_with_lists();
        p.retry_provisioning.apps = Selector::Only(vec!["Zoom".into(), "Slack".into()]);
        assert!(p.retry_applies_to("0oa1", "Slack"));
        assert!(
            !p.retry_applies_to("0oaZOOM", "Zoom"),
            "selected by the rule, not allowed"
        );
        assert!(
            !p.retry_applies_to("0oaACME", "Acme SCIM"),
            "allowed, not selected"
        );
    }

    #[test]
    fn error_text_helpers_match_ignoring_case() {
        let p = Policy::default();
        assert_eq!(
            p.never_retry_reason("Automatic provisioning failed: user account is INACTIVE"),
            Some("User account is inactive")
        );
        assert_eq!(p.never_retry_reason("Connection reset by peer"), None);
        assert_eq!(
            p.credential_error_reason("HTTP 401 Unauthorized from remote server"),
            Some("Unauthorized")
        );
        assert_eq!(p.credential_error_reason("User not found"), None);
    }

    #[test]
    fn diagnosis_selection_respects_deny_lists() {
        let mut p = Policy::default();
        p.safety.directories.deny = vec!["lab.example.com".into()];
        p.safety.apps.deny = vec!["0oaOLD".into()];
        assert!(p.kpasswd_applies_to("0oaAD", "corp.example.com"));
        assert!(!p.kpasswd_applies_to("0oaLAB", "Lab.Example.com"));
        assert!(p.credentials_check_applies_to("0oaNEW", "Slack"));
        assert!(!p.credentials_check_applies_to("0oaOLD", "Slack"));
    }

    #[test]
    fn force_sync_path_only_when_enabled() {
        let mut p = Policy::default();
        p.admin.force_sync_path = Some(PathTemplate("/admin/{appId}/sync".into()));
        assert!(p.force_sync_path().is_none());
        p.force_sync.use_admin_path = true;
        let path = p.force_sync_path().expect("enabled and set");
        assert_eq!(path.render("0oaAD", None), "/admin/0oaAD/sync");
    }

    #[test]
    fn kind_budget_is_capped_by_the_run_budget() {
        let mut s = Safety {
            max_actions_per_run: 10,
            ..Safety::default()
        };
        s.max_actions_per_kind_per_run
            .insert(RuleKind::ForceSync, 2);
        s.max_actions_per_kind_per_run
            .insert(RuleKind::RetryProvisioning, 50);
        assert_eq!(s.max_actions_for_kind(RuleKind::ForceSync), 2);
        assert_eq!(s.max_actions_for_kind(RuleKind::RetryProvisioning), 10);
        assert_eq!(s.max_actions_for_kind(RuleKind::Kpasswd), 10);
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let b = Backoff {
            initial: Duration::from_secs(60),
            multiplier: 2.0,
            max: Duration::from_secs(300),
        };
        let delays: Vec<u64> = (0..6).map(|n| b.delay_after(n).as_secs()).collect();
        assert_eq!(delays, [0, 60, 120, 240, 300, 300]);
        assert_eq!(b.delay_after(u32::MAX), Duration::from_secs(300));
    }

    #[test]
    fn breaker_needs_min_actions_and_counts_only_the_window() {
        let cb = CircuitBreaker {
            window: 4,
            failure_ratio: 0.5,
            min_actions: 3,
            open_for: Duration::from_secs(60),
        };
        assert!(!cb.trips(&[true, true]), "below min_actions");
        assert!(cb.trips(&[true, true, false]));
        assert!(
            !cb.trips(&[true, true, true, false, false, false]),
            "old failures out of window"
        );
        assert!(cb.trips(&[false, false, true, true]));
    }

    #[test]
    fn never_retry_defaults_match_the_known_misconfigurations() {
        let r = RetryProvisioning::default();
        let hit = |t: &str| r.never_retry_errors.find(t).map(str::to_string);
        assert_eq!(
            hit("Automatic provisioning of user to app failed: User account is inactive")
                .as_deref(),
            Some("User account is inactive")
        );
        assert_eq!(
            hit("Matching user not found in app").as_deref(),
            Some("Matching user not found")
        );
        assert_eq!(
            hit("LDAP: INVALID CREDENTIALS").as_deref(),
            Some("Invalid Credentials")
        );
        assert!(hit("HTTP 503 from remote server").is_none());
    }

    #[test]
    fn default_cron_expression_parses() {
        let s = Schedule::default();
        assert_eq!(s.full_reconcile_expr, defaults::FULL_RECONCILE);
        assert!(s.full_reconcile.upcoming(chrono::Utc).next().is_some());
    }

    #[test]
    fn rule_keys_round_trip() {
        for k in RuleKind::ALL {
            assert_eq!(RuleKind::from_key(k.key()), Some(k));
        }
        for m in [Mode::Report, Mode::DryRun, Mode::Enforce] {
            assert_eq!(Mode::parse(m.as_str()), Some(m));
        }
        assert_eq!(Mode::parse("Enforce"), None);
    }
}
