//! Turns raw sections into the validated [`Policy`], collecting every problem with its file,
//! line and dotted field path.

use std::collections::BTreeMap;
use std::time::Duration;

use toml::Spanned;

use super::model::{defaults, *};
use super::raw::*;
use crate::config::{check_org_path, CredentialSource, FileErrors, OrgPathRule, SourceError};

type S<T> = Option<Spanned<T>>;

/// Placeholders accepted in admin path templates.
const PATH_PLACEHOLDERS: [&str; 2] = ["{appId}", "{userId}"];

/// A duration as a policy file would write it: whole days, hours, minutes or seconds when exact.
fn human(d: Duration) -> String {
    const UNITS: [(u64, &str); 4] = [(86_400, "d"), (3_600, "h"), (60, "m"), (1, "s")];
    if d.subsec_nanos() == 0 && d.as_secs() > 0 {
        for (secs, unit) in UNITS {
            if d.as_secs().is_multiple_of(secs) {
                return format!("{}{unit}", d.as_secs() / secs);
            }
        }
    }
    humantime::format_duration(d).to_string()
}

/// The accepted range of a setting (inclusive) and its default.
#[derive(Debug, Clone, Copy)]
struct Limits<T> {
    lo: T,
    hi: T,
    default: T,
}

/// Bounds and default of `safety.max_actions_per_run`.
const RUN_BUDGET: Limits<u32> = Limits {
    lo: 0,
    hi: defaults::MAX_ACTIONS_LIMIT,
    default: defaults::MAX_ACTIONS_PER_RUN,
};

/// Bounds and default of `safety.max_actions_per_hour`.
const HOUR_BUDGET: Limits<u32> = Limits {
    lo: 0,
    hi: defaults::MAX_ACTIONS_LIMIT,
    default: defaults::MAX_ACTIONS_PER_HOUR,
};

/// Bounds and default of `safety.max_actions_per_kind_per_run.*` (the default is unused: entries are explicit).
const KIND_BUDGET: Limits<u32> = Limits {
    lo: 0,
    hi: defaults::MAX_ACTIONS_LIMIT,
    default: 0,
};

/// Bounds and default of `safety.cooldown`.
const COOLDOWN: Limits<Duration> = Limits {
    lo: Duration::ZERO,
    hi: defaults::MAX_LONG_DURATION,
    default: defaults::COOLDOWN,
};

/// Bounds and default of `safety.approval_expiry`.
const APPROVAL_EXPIRY: Limits<Duration> = Limits {
    lo: defaults::APPROVAL_EXPIRY_RANGE.0,
    hi: defaults::APPROVAL_EXPIRY_RANGE.1,
    default: defaults::APPROVAL_EXPIRY,
};

/// Bounds of `safety.journal_retention` (its default is to keep everything; the default here
/// stands only for a value that did not parse, which is an error).
const JOURNAL_RETENTION: Limits<Duration> = Limits {
    lo: Duration::from_secs(1),
    hi: defaults::MAX_JOURNAL_RETENTION,
    default: defaults::MAX_JOURNAL_RETENTION,
};

/// Bounds and default of `safety.circuit_breaker.window`.
const BREAKER_WINDOW: Limits<u32> = Limits {
    lo: 1,
    hi: defaults::MAX_BREAKER_WINDOW,
    default: defaults::BREAKER_WINDOW,
};

/// Bounds and default of `safety.circuit_breaker.min_actions` (also at most `window`).
const BREAKER_MIN_ACTIONS: Limits<u32> = Limits {
    lo: 1,
    hi: defaults::MAX_BREAKER_WINDOW,
    default: defaults::BREAKER_MIN_ACTIONS,
};

/// Bounds and default of `safety.circuit_breaker.open_for`.
const BREAKER_OPEN_FOR: Limits<Duration> = Limits {
    lo: Duration::from_secs(1),
    hi: defaults::MAX_LONG_DURATION,
    default: defaults::BREAKER_OPEN_FOR,
};

/// Bounds and default of `schedule.log_poll_interval`.
const LOG_POLL_INTERVAL: Limits<Duration> = Limits {
    lo: defaults::LOG_POLL_INTERVAL_RANGE.0,
    hi: defaults::LOG_POLL_INTERVAL_RANGE.1,
    default: defaults::LOG_POLL_INTERVAL,
};

/// Bounds and default of `schedule.log_lookback`.
const LOG_LOOKBACK: Limits<Duration> = Limits {
    lo: Duration::from_secs(60),
    hi: defaults::MAX_LOG_LOOKBACK,
    default: defaults::LOG_LOOKBACK,
};

/// Bounds and default of `schedule.mapping_sweep_per_minute`.
const MAPPING_SWEEP_PER_MINUTE: Limits<u32> = Limits {
    lo: 0,
    hi: defaults::MAX_MAPPING_SWEEP_PER_MINUTE,
    default: defaults::MAPPING_SWEEP_PER_MINUTE,
};

/// Bounds and default of `retry_provisioning.max_attempts`.
const MAX_ATTEMPTS: Limits<u32> = Limits {
    lo: 1,
    hi: defaults::MAX_ATTEMPTS_LIMIT,
    default: defaults::MAX_ATTEMPTS,
};

/// Bounds and default of `retry_provisioning.min_error_age`.
const MIN_ERROR_AGE: Limits<Duration> = Limits {
    lo: Duration::ZERO,
    hi: defaults::MAX_LONG_DURATION,
    default: defaults::MIN_ERROR_AGE,
};

/// Bounds and default of `retry_provisioning.backoff.initial`.
const BACKOFF_INITIAL: Limits<Duration> = Limits {
    lo: Duration::from_secs(1),
    hi: defaults::MAX_LONG_DURATION,
    default: defaults::BACKOFF_INITIAL,
};

/// Bounds and default of `retry_provisioning.backoff.max` (also at least `initial`).
const BACKOFF_MAX: Limits<Duration> = Limits {
    lo: Duration::from_secs(1),
    hi: defaults::MAX_LONG_DURATION,
    default: defaults::BACKOFF_MAX,
};

/// Bounds and default of `force_sync.verify_timeout`.
const VERIFY_TIMEOUT: Limits<Duration> = Limits {
    lo: defaults::VERIFY_TIMEOUT_RANGE.0,
    hi: defaults::VERIFY_TIMEOUT_RANGE.1,
    default: defaults::VERIFY_TIMEOUT,
};

/// Bounds and default of `kpasswd.window`.
const KPASSWD_WINDOW: Limits<Duration> = Limits {
    lo: Duration::from_secs(1),
    hi: defaults::MAX_KPASSWD_GAP,
    default: defaults::KPASSWD_WINDOW,
};

/// Bounds and default of `kpasswd.probe_timeout`.
const PROBE_TIMEOUT: Limits<Duration> = Limits {
    lo: defaults::PROBE_TIMEOUT_RANGE.0,
    hi: defaults::PROBE_TIMEOUT_RANGE.1,
    default: defaults::PROBE_TIMEOUT,
};

/// Reads an integer within `limits`, or the default when absent.
fn int(e: &mut FileErrors<'_>, v: &S<i64>, field: &str, limits: Limits<u32>) -> u32 {
    let Limits { lo, hi, default } = limits;
    let Some(v) = v else { return default };
    let n = *v.get_ref();
    if n < i64::from(lo) || n > i64::from(hi) {
        e.at(
            v.span(),
            field,
            format!("expected an integer from {lo} to {hi}, found {n}"),
        );
        return default;
    }
    u32::try_from(n).expect("n is within lo..=hi, both u32")
}

/// Reads a humantime duration within `limits`, or the default when absent.
fn duration(
    e: &mut FileErrors<'_>,
    v: &S<String>,
    field: &str,
    limits: Limits<Duration>,
) -> Duration {
    let Limits { lo, hi, default } = limits;
    let Some(v) = v else { return default };
    let text = v.get_ref();
    let Ok(d) = humantime::parse_duration(text.trim()) else {
        let msg = format!("expected a duration like \"30s\", \"15m\" or \"24h\", found {text:?}");
        e.at(v.span(), field, msg);
        return default;
    };
    if d < lo || d > hi {
        let (lo, hi) = (human(lo), human(hi));
        e.at(
            v.span(),
            field,
            format!("expected a duration from {lo} to {hi}, found {text:?}"),
        );
        return default;
    }
    d
}

/// Reads a ratio in `(lo, hi]`.
fn ratio(e: &mut FileErrors<'_>, v: &S<f64>, field: &str, lo: f64, hi: f64, default: f64) -> f64 {
    let Some(v) = v else { return default };
    let r = *v.get_ref();
    if !(r > lo && r <= hi) {
        let msg = format!("expected a number greater than {lo} and at most {hi}, found {r}");
        e.at(v.span(), field, msg);
        return default;
    }
    r
}

/// Reads a mode name.
fn mode(e: &mut FileErrors<'_>, v: &Spanned<String>, field: &str) -> Option<Mode> {
    let m = Mode::parse(v.get_ref());
    if m.is_none() {
        let msg = format!("expected one of {}, found {:?}", Mode::NAMES, v.get_ref());
        e.at(v.span(), field, msg);
    }
    m
}

/// Reads a rule's `approval`: `"required"` (true) or `"none"` (false, the default).
pub(crate) fn approval(e: &mut FileErrors<'_>, v: &S<String>, rule: RuleKind) -> bool {
    let Some(v) = v else { return false };
    match v.get_ref().as_str() {
        "required" => true,
        "none" => false,
        other => {
            let field = format!("{}.approval", rule.key());
            let msg = format!("expected one of required, none, found {other:?}");
            e.at(v.span(), &field, msg);
            false
        }
    }
}

/// Reads a rule name used as a key.
fn rule_key(
    e: &mut FileErrors<'_>,
    key: &str,
    at: &Spanned<impl Sized>,
    field: &str,
) -> Option<RuleKind> {
    let kind = RuleKind::from_key(key);
    if kind.is_none() {
        let names: Vec<&str> = RuleKind::ALL.iter().map(|k| k.key()).collect();
        let msg = format!("expected a rule name ({}), found {key:?}", names.join(", "));
        e.at(at.span(), &format!("{field}.{key}"), msg);
    }
    kind
}

/// Reads a selector: `["*"]` or a list of ids and labels.
fn selector(e: &mut FileErrors<'_>, v: &List, field: &str, default: Selector) -> Selector {
    let Some(v) = v else { return default };
    let entries = v.get_ref();
    let mut valid = true;
    for entry in entries.iter().filter(|s| s.get_ref().trim().is_empty()) {
        let msg = "expected app or directory ids or labels, found an empty string";
        e.at(entry.span(), field, msg);
        valid = false;
    }
    if let Some(star) = entries.iter().find(|s| s.get_ref() == "*") {
        if entries.len() > 1 {
            e.at(star.span(), field, "expected either [\"*\"] alone or a list of ids and labels, found \"*\" mixed with names");
            valid = false;
        }
        return if valid { Selector::All } else { default };
    }
    if !valid {
        return default;
    }
    Selector::Only(entries.iter().map(|s| s.get_ref().clone()).collect())
}

/// Reads a list of error substrings, added to `builtin`.
fn patterns(
    e: &mut FileErrors<'_>,
    v: &S<Vec<String>>,
    field: &str,
    builtin: &[&str],
) -> ErrorPatterns {
    let mut all: Vec<String> = builtin.iter().map(|s| s.to_string()).collect();
    let Some(v) = v else {
        return ErrorPatterns(all);
    };
    if v.get_ref().iter().any(|s| s.trim().is_empty()) {
        e.at(
            v.span(),
            field,
            "expected non-empty error texts, found an empty string",
        );
    }
    for p in v.get_ref() {
        if !p.trim().is_empty() && !all.iter().any(|a| a.eq_ignore_ascii_case(p)) {
            all.push(p.clone());
        }
    }
    ErrorPatterns(all)
}

pub(crate) fn global(e: &mut FileErrors<'_>, raw: &RawGlobal) -> Global {
    let mut g = Global::default();
    if let Some(m) = raw
        .default_mode
        .as_ref()
        .and_then(|v| mode(e, v, "global.default_mode"))
    {
        g.default_mode = m;
    }
    for (key, value) in raw.modes.iter().flatten() {
        let kind = rule_key(e, key, value, "global.modes");
        let m = mode(e, value, &format!("global.modes.{key}"));
        if let (Some(kind), Some(m)) = (kind, m) {
            g.modes.insert(kind, m);
        }
    }
    g
}

pub(crate) fn safety(e: &mut FileErrors<'_>, raw: &RawSafety) -> Safety {
    let mut s = Safety {
        max_actions_per_run: int(
            e,
            &raw.max_actions_per_run,
            "safety.max_actions_per_run",
            RUN_BUDGET,
        ),
        max_actions_per_hour: int(
            e,
            &raw.max_actions_per_hour,
            "safety.max_actions_per_hour",
            HOUR_BUDGET,
        ),
        cooldown: duration(e, &raw.cooldown, "safety.cooldown", COOLDOWN),
        approval_expiry: duration(
            e,
            &raw.approval_expiry,
            "safety.approval_expiry",
            APPROVAL_EXPIRY,
        ),
        journal_retention: raw.journal_retention.is_some().then(|| {
            duration(
                e,
                &raw.journal_retention,
                "safety.journal_retention",
                JOURNAL_RETENTION,
            )
        }),
        ..Safety::default()
    };
    for (key, value) in raw.max_actions_per_kind_per_run.iter().flatten() {
        let field = format!("safety.max_actions_per_kind_per_run.{key}");
        let kind = rule_key(e, key, value, "safety.max_actions_per_kind_per_run");
        let mut n = int(e, &Some(value.clone()), &field, KIND_BUDGET);
        if n > s.max_actions_per_run {
            let msg = format!(
                "expected at most safety.max_actions_per_run ({}), found {n}",
                s.max_actions_per_run
            );
            e.at(value.span(), &field, msg);
            n = s.max_actions_per_run;
        }
        if let Some(kind) = kind {
            s.max_actions_per_kind_per_run.insert(kind, n);
        }
    }
    if let Some(b) = &raw.circuit_breaker {
        s.circuit_breaker = breaker(e, b);
    }
    if let Some(a) = &raw.apps {
        s.apps = allow_deny(e, a, "safety.apps");
    }
    if let Some(d) = &raw.directories {
        s.directories = allow_deny(e, d, "safety.directories");
    }
    s
}

fn breaker(e: &mut FileErrors<'_>, raw: &RawBreaker) -> CircuitBreaker {
    let f = "safety.circuit_breaker";
    let window = int(e, &raw.window, &format!("{f}.window"), BREAKER_WINDOW);
    let mut min_actions = int(
        e,
        &raw.min_actions,
        &format!("{f}.min_actions"),
        BREAKER_MIN_ACTIONS,
    );
    if min_actions > window {
        if let Some(v) = &raw.min_actions {
            let msg =
                format!("expected at most circuit_breaker.window ({window}), found {min_actions}");
            e.at(v.span(), &format!("{f}.min_actions"), msg);
        }
        min_actions = window;
    }
    CircuitBreaker {
        window,
        min_actions,
        failure_ratio: ratio(
            e,
            &raw.failure_ratio,
            &format!("{f}.failure_ratio"),
            0.0,
            1.0,
            defaults::BREAKER_FAILURE_RATIO,
        ),
        open_for: duration(e, &raw.open_for, &format!("{f}.open_for"), BREAKER_OPEN_FOR),
    }
}

fn allow_deny(e: &mut FileErrors<'_>, raw: &RawAllowDeny, field: &str) -> AllowDeny {
    let allow = selector(e, &raw.allow, &format!("{field}.allow"), Selector::All);
    let deny_field = format!("{field}.deny");
    let deny = match selector(e, &raw.deny, &deny_field, Selector::Only(Vec::new())) {
        Selector::All => {
            let star = raw
                .deny
                .iter()
                .flat_map(|v| v.get_ref())
                .find(|s| s.get_ref() == "*");
            if let Some(star) = star {
                e.at(star.span(), &deny_field, "expected a list of ids and labels, found \"*\" (to stop all actions, set the modes to report)");
            }
            Vec::new()
        }
        Selector::Only(list) => list,
    };
    if let Selector::Only(allowed) = &allow {
        for d in raw.deny.iter().flat_map(|v| v.get_ref()) {
            if allowed.iter().any(|a| a.eq_ignore_ascii_case(d.get_ref())) {
                let msg = format!(
                    "expected each entry in allow or deny, not both, found {:?} in both",
                    d.get_ref()
                );
                e.at(d.span(), &deny_field, msg);
            }
        }
    }
    AllowDeny { allow, deny }
}

/// `notes` receives what the reader should know about a valid schedule (a 5-field cron
/// expression read with seconds 0), located.
pub(crate) fn schedule(
    e: &mut FileErrors<'_>,
    raw: &RawSchedule,
    notes: &mut Vec<String>,
) -> Schedule {
    let mut s = Schedule::default();
    if let Some(v) = &raw.full_reconcile {
        if let Some((parsed, expr)) = cron_expr(e, v) {
            if expr != v.get_ref().trim() {
                let at = e.position(v.span().start);
                notes.push(format!(
                    "{}:{}:{}: schedule.full_reconcile: {:?} has 5 fields: read with seconds 0 as {expr:?}",
                    e.file().display(),
                    at.line,
                    at.column,
                    v.get_ref().trim(),
                ));
            }
            s.full_reconcile = parsed;
            s.full_reconcile_expr = expr;
        }
    }
    s.log_poll_interval = duration(
        e,
        &raw.log_poll_interval,
        "schedule.log_poll_interval",
        LOG_POLL_INTERVAL,
    );
    s.log_lookback = duration(e, &raw.log_lookback, "schedule.log_lookback", LOG_LOOKBACK);
    s.mapping_sweep_per_minute = int(
        e,
        &raw.mapping_sweep_per_minute,
        "schedule.mapping_sweep_per_minute",
        MAPPING_SWEEP_PER_MINUTE,
    );
    s
}

/// Longest cron expression read, in characters.
const MAX_CRON_CHARS: usize = 256;

/// The schedule and the 6- or 7-field expression it was read as: a classic 5-field expression
/// (`min hour day-of-month month day-of-week`) gets seconds 0 in front. One that never fires
/// is refused.
fn cron_expr(e: &mut FileErrors<'_>, v: &Spanned<String>) -> Option<(cron::Schedule, String)> {
    const FIELDS: &str = "6 or 7 fields (sec min hour day-of-month month day-of-week [year]) or the classic 5 (min hour day-of-month month day-of-week)";
    let field = "schedule.full_reconcile";
    let text = v.get_ref().trim();
    if text.chars().count() > MAX_CRON_CHARS {
        let msg = format!(
            "expected a cron expression of at most {MAX_CRON_CHARS} characters, found a longer one"
        );
        e.at(v.span(), field, msg);
        return None;
    }
    let expr = match text.split_whitespace().count() {
        5 => format!(
            "0 {}",
            text.split_whitespace().collect::<Vec<_>>().join(" ")
        ),
        6 | 7 => text.to_owned(),
        n => {
            let msg =
                format!("expected a cron expression with {FIELDS}, found {n} fields in {text:?}");
            e.at(v.span(), field, msg);
            return None;
        }
    };
    let schedule = match expr.parse::<cron::Schedule>() {
        Ok(s) => s,
        Err(err) => {
            // cron's message quotes the expression with a caret line; keep its last line.
            let full = err.to_string();
            let reason = full.lines().rfind(|l| !l.trim().is_empty()).unwrap_or("");
            let msg = format!(
                "expected a valid cron expression, found {text:?}: {}",
                reason.trim()
            );
            e.at(v.span(), field, msg);
            return None;
        }
    };
    if schedule.upcoming(chrono::Utc).next().is_none() {
        let msg = format!("expected a cron expression that fires, found {text:?}, which has no time to come (a day no month has, or a past year)");
        e.at(v.span(), field, msg);
        return None;
    }
    Some((schedule, expr))
}

pub(crate) fn admin(e: &mut FileErrors<'_>, raw: &RawOkta) -> AdminPaths {
    let Some(a) = &raw.admin else {
        return AdminPaths::default();
    };
    AdminPaths {
        force_sync_path: a
            .force_sync_path
            .as_ref()
            .and_then(|v| path_template(e, v, "okta.admin.force_sync_path")),
        task_retry_path: a
            .task_retry_path
            .as_ref()
            .and_then(|v| path_template(e, v, "okta.admin.task_retry_path")),
    }
}

fn path_template(e: &mut FileErrors<'_>, v: &Spanned<String>, field: &str) -> Option<PathTemplate> {
    let t = v.get_ref();
    if let Err(why) = check_org_path(t) {
        let msg = format!("expected {OrgPathRule}, found {t:?}: {why}");
        e.at(v.span(), field, msg);
        return None;
    }
    let mut rest = t
        .replace(PATH_PLACEHOLDERS[0], "")
        .replace(PATH_PLACEHOLDERS[1], "");
    rest.retain(|c| c == '{' || c == '}');
    if !t.contains("{appId}") || !rest.is_empty() {
        let msg = format!("expected a path containing {{appId}} (and optionally {{userId}}), no other placeholders, found {t:?}");
        e.at(v.span(), field, msg);
        return None;
    }
    Some(PathTemplate(t.clone()))
}

pub(crate) fn retry(
    e: &mut FileErrors<'_>,
    raw: &RawRetry,
    admin: &AdminPaths,
) -> RetryProvisioning {
    let f = "retry_provisioning";
    let d = RetryProvisioning::default();
    let mut r = RetryProvisioning {
        apps: selector(e, &raw.apps, &format!("{f}.apps"), Selector::All),
        max_attempts: int(
            e,
            &raw.max_attempts,
            &format!("{f}.max_attempts"),
            MAX_ATTEMPTS,
        ),
        min_error_age: duration(
            e,
            &raw.min_error_age,
            &format!("{f}.min_error_age"),
            MIN_ERROR_AGE,
        ),
        never_retry_errors: patterns(
            e,
            &raw.never_retry_errors,
            &format!("{f}.never_retry_errors"),
            defaults::NEVER_RETRY_ERRORS,
        ),
        retry_unknown_errors: raw.retry_unknown_errors.unwrap_or(d.retry_unknown_errors),
        ..d
    };
    if let Some(b) = &raw.backoff {
        r.backoff = backoff(e, b);
    }
    if let Some(v) = &raw.strategy {
        r.strategy = match v.get_ref().as_str() {
            "repush" => RetryStrategy::Repush,
            "admin-task-retry" if admin.task_retry_path.is_some() => RetryStrategy::AdminTaskRetry,
            "admin-task-retry" => {
                e.at(v.span(), &format!("{f}.strategy"), "expected okta.admin.task_retry_path to be set for \"admin-task-retry\" (the non-public call must be enabled explicitly), found it unset");
                RetryStrategy::Repush
            }
            other => {
                e.at(
                    v.span(),
                    &format!("{f}.strategy"),
                    format!("expected one of repush, admin-task-retry, found {other:?}"),
                );
                RetryStrategy::Repush
            }
        };
    }
    r
}

fn backoff(e: &mut FileErrors<'_>, raw: &RawBackoff) -> Backoff {
    let f = "retry_provisioning.backoff";
    let initial = duration(e, &raw.initial, &format!("{f}.initial"), BACKOFF_INITIAL);
    let mut max = duration(e, &raw.max, &format!("{f}.max"), BACKOFF_MAX);
    if max < initial {
        if let Some(v) = &raw.max {
            let msg = format!(
                "expected at least backoff.initial ({}), found {:?}",
                human(initial),
                v.get_ref()
            );
            e.at(v.span(), &format!("{f}.max"), msg);
        }
        max = initial;
    }
    let multiplier = match &raw.multiplier {
        Some(v) if !(1.0..=defaults::MAX_BACKOFF_MULTIPLIER).contains(v.get_ref()) => {
            let msg = format!(
                "expected a number from 1 to {}, found {}",
                defaults::MAX_BACKOFF_MULTIPLIER,
                v.get_ref()
            );
            e.at(v.span(), &format!("{f}.multiplier"), msg);
            defaults::BACKOFF_MULTIPLIER
        }
        Some(v) => *v.get_ref(),
        None => defaults::BACKOFF_MULTIPLIER,
    };
    Backoff {
        initial,
        multiplier,
        max,
    }
}

pub(crate) fn force_sync(
    e: &mut FileErrors<'_>,
    raw: &RawForceSync,
    admin: &AdminPaths,
) -> ForceSync {
    let f = "force_sync";
    let verify_timeout = duration(
        e,
        &raw.verify_timeout,
        &format!("{f}.verify_timeout"),
        VERIFY_TIMEOUT,
    );
    let verify_poll_interval = duration(
        e,
        &raw.verify_poll_interval,
        &format!("{f}.verify_poll_interval"),
        Limits {
            lo: defaults::MIN_VERIFY_POLL_INTERVAL,
            hi: verify_timeout,
            default: defaults::VERIFY_POLL_INTERVAL.min(verify_timeout),
        },
    );
    let use_admin_path = match &raw.use_admin_path {
        Some(v) if *v.get_ref() && admin.force_sync_path.is_none() => {
            e.at(v.span(), &format!("{f}.use_admin_path"), "expected okta.admin.force_sync_path to be set when use_admin_path = true, found it unset");
            false
        }
        Some(v) => *v.get_ref(),
        None => false,
    };
    ForceSync {
        directories: selector(
            e,
            &raw.directories,
            &format!("{f}.directories"),
            Selector::All,
        ),
        attributes: attributes(e, &raw.attributes),
        verify_timeout,
        verify_poll_interval,
        use_admin_path,
        expected: raw
            .expected
            .iter()
            .flatten()
            .filter_map(|v| expected_value(e, v))
            .collect(),
    }
}

fn expected_value(e: &mut FileErrors<'_>, v: &Spanned<toml::Value>) -> Option<ExpectedValue> {
    let text = |t: &toml::Table, key: &str| {
        t.get(key)
            .and_then(toml::Value::as_str)
            .filter(|s| !s.trim().is_empty())
            .map(str::to_string)
    };
    let parsed = match v.get_ref() {
        toml::Value::Table(t) if t.len() == 3 => {
            match (text(t, "user"), text(t, "attribute"), t.get("value")) {
                (Some(user), Some(attribute), Some(value))
                    if !value.is_table() && !value.is_array() =>
                {
                    serde_json::to_value(value).ok().map(|value| ExpectedValue {
                        user,
                        attribute,
                        value,
                    })
                }
                _ => None,
            }
        }
        _ => None,
    };
    if parsed.is_none() {
        let found = match v.get_ref() {
            toml::Value::Table(t) => {
                let keys: Vec<&str> = t.keys().map(String::as_str).collect();
                format!("a table with keys {keys:?}")
            }
            other => a_type(other),
        };
        e.at(
            v.span(),
            "force_sync.expected",
            format!("expected {{ user = \"login or id\", attribute = \"...\", value = <string, number or bool> }}, found {found}"),
        );
    }
    parsed
}

fn attributes(
    e: &mut FileErrors<'_>,
    raw: &Option<Vec<Spanned<toml::Value>>>,
) -> Vec<AttributePair> {
    raw.iter()
        .flatten()
        .filter_map(|v| attribute(e, v))
        .collect()
}

/// Reads `"name"` or `{ app_user = "...", okta = "..." }`.
fn attribute(e: &mut FileErrors<'_>, v: &Spanned<toml::Value>) -> Option<AttributePair> {
    let non_empty = |v: Option<&toml::Value>| {
        v.and_then(toml::Value::as_str)
            .filter(|s| !s.trim().is_empty())
            .map(str::to_string)
    };
    let pair = match v.get_ref() {
        toml::Value::String(n) if !n.trim().is_empty() => Some((n.clone(), n.clone())),
        toml::Value::Table(t) if t.len() == 2 => {
            non_empty(t.get("app_user")).zip(non_empty(t.get("okta")))
        }
        _ => None,
    };
    let Some((app_user, okta)) = pair else {
        let found = match v.get_ref() {
            toml::Value::Table(t) => {
                let keys: Vec<&str> = t.keys().map(String::as_str).collect();
                format!("a table with keys {keys:?}")
            }
            toml::Value::String(_) => "an empty name".to_string(),
            other => a_type(other),
        };
        let msg = format!(
            "expected an attribute name or {{ app_user = \"...\", okta = \"...\" }} (non-empty strings), found {found}"
        );
        e.at(v.span(), "force_sync.attributes", msg);
        return None;
    };
    Some(AttributePair { app_user, okta })
}

/// A TOML value's type with its article, e.g. "an integer".
fn a_type(v: &toml::Value) -> String {
    let t = v.type_str();
    let article = if t.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {t}")
}

/// Reports app keys that differ only in ASCII case (labels match ignoring case, so both would
/// name the same app), and `"*"` or an empty key: a table key names one app, by id or label.
fn check_app_keys<T>(
    e: &mut FileErrors<'_>,
    apps: &Option<BTreeMap<String, Spanned<T>>>,
    field: &str,
) {
    let keys: Vec<(&String, &Spanned<T>)> = apps.iter().flatten().collect();
    for (key, value) in &keys {
        if key.as_str() == "*" || key.trim().is_empty() {
            let found = if key.as_str() == "*" {
                "\"*\""
            } else {
                "an empty key"
            };
            let msg = format!("expected one app's id or label as the key, found {found} (a table here names one app; write one table per app)");
            e.at(value.span(), &format!("{field}.{key}"), msg);
        }
    }
    for (i, (key, value)) in keys.iter().enumerate() {
        if let Some((first, _)) = keys[..i].iter().find(|(k, _)| k.eq_ignore_ascii_case(key)) {
            let msg = format!("expected each app once, found {key:?} also named as {first:?}");
            e.at(value.span(), &format!("{field}.{key}"), msg);
        }
    }
}

pub(crate) fn remove_push(e: &mut FileErrors<'_>, raw: &RawRemovePush) -> RemovePushMappings {
    check_app_keys(e, &raw.apps, "remove_push_mappings.apps");
    let mut apps = Vec::new();
    for (app, v) in raw.apps.iter().flatten() {
        let field = format!("remove_push_mappings.apps.{app}");
        let Some(credential) = credential(e, v, &field) else {
            continue;
        };
        apps.push(PushMappingRemoval {
            app: app.clone(),
            credential,
            delete_target_groups: v.get_ref().delete_target_groups.unwrap_or(false),
        });
    }
    RemovePushMappings { apps }
}

/// Reads `credential = { env = "VAR" }` or `{ file = "/path" }`. Never echoes a value.
fn credential(
    e: &mut FileErrors<'_>,
    app: &Spanned<RawRemovePushApp>,
    field: &str,
) -> Option<CredentialSource> {
    let field = format!("{field}.credential");
    const EXPECTED: &str = "expected { env = \"VAR\" } or { file = \"/path\" }";
    let Some(v) = &app.get_ref().credential else {
        e.at(
            app.span(),
            &field,
            format!("{EXPECTED}, found no credential"),
        );
        return None;
    };
    let toml::Value::Table(t) = v.get_ref() else {
        let found = match v.get_ref() {
            toml::Value::String(_) => "an inline value (credentials must never be written in policy files; value not shown)".to_string(),
            other => a_type(other),
        };
        e.at(v.span(), &field, format!("{EXPECTED}, found {found}"));
        return None;
    };
    let keys: Vec<&str> = t.keys().map(String::as_str).collect();
    let (key, source) = match (keys.as_slice(), t.get("env"), t.get("file")) {
        (["env"], Some(toml::Value::String(var)), _) => ("env", CredentialSource::env(var)),
        (["env"], _, _) => ("env", Err(SourceError::NotAVarName)),
        (["file"], _, Some(toml::Value::String(path))) => ("file", CredentialSource::file(path)),
        (["file"], _, _) => ("file", Err(SourceError::EmptyPath)),
        _ => {
            let msg =
                format!("{EXPECTED} (exactly one key), found keys {keys:?} (values not shown)");
            e.at(v.span(), &field, msg);
            return None;
        }
    };
    match source {
        Ok(source) => Some(source),
        Err(problem) => {
            e.at(v.span(), &format!("{field}.{key}"), problem.to_string());
            None
        }
    }
}

fn feature_action(
    e: &mut FileErrors<'_>,
    v: &S<String>,
    field: &str,
    default: FeatureAction,
) -> FeatureAction {
    let Some(v) = v else { return default };
    match v.get_ref().as_str() {
        "fix" => FeatureAction::Fix,
        "report" => FeatureAction::Report,
        other => {
            e.at(
                v.span(),
                field,
                format!("expected one of fix, report, found {other:?}"),
            );
            default
        }
    }
}

pub(crate) fn features(e: &mut FileErrors<'_>, raw: &RawFeatures) -> ProvisioningFeatures {
    let default_action = feature_action(
        e,
        &raw.action,
        "provisioning_features.action",
        FeatureAction::Report,
    );
    check_app_keys(e, &raw.apps, "provisioning_features.apps");
    let apps = raw
        .apps
        .iter()
        .flatten()
        .map(|(app, a)| (app, a.get_ref()))
        .map(|(app, a)| WantedFeatures {
            app: app.clone(),
            create_users: a.create_users.unwrap_or(true),
            update_attributes: a.update_attributes.unwrap_or(true),
            deactivate_users: a.deactivate_users.unwrap_or(true),
            action: feature_action(
                e,
                &a.action,
                &format!("provisioning_features.apps.{app}.action"),
                default_action,
            ),
        })
        .collect();
    ProvisioningFeatures { apps }
}

pub(crate) fn kpasswd(e: &mut FileErrors<'_>, raw: &RawKpasswd) -> Kpasswd {
    let f = "kpasswd";
    let window = duration(e, &raw.window, &format!("{f}.window"), KPASSWD_WINDOW);
    // max_gap is at least window: its lower bound is the window just read.
    let max_gap = duration(
        e,
        &raw.max_gap,
        &format!("{f}.max_gap"),
        Limits {
            lo: window,
            hi: defaults::MAX_KPASSWD_GAP,
            default: defaults::KPASSWD_MAX_GAP.max(window),
        },
    );
    let domain_controllers = raw
        .domain_controllers
        .iter()
        .flatten()
        .filter_map(|dc| {
            let parsed = parse_host_port(dc.get_ref());
            if parsed.is_none() {
                e.at(dc.span(), &format!("{f}.domain_controllers"), format!("expected \"host\" or \"host:port\" (port 1-65535, default 464), found {:?}", dc.get_ref()));
            }
            parsed
        })
        .collect();
    Kpasswd {
        directories: selector(
            e,
            &raw.directories,
            &format!("{f}.directories"),
            Selector::All,
        ),
        window,
        max_gap,
        domain_controllers,
        probe_timeout: duration(
            e,
            &raw.probe_timeout,
            &format!("{f}.probe_timeout"),
            PROBE_TIMEOUT,
        ),
        retry_after_probe_passes: raw.retry_after_probe_passes.unwrap_or(false),
    }
}

/// Parses `host`, `host:port` or `[v6]:port`.
fn parse_host_port(s: &str) -> Option<DomainController> {
    let s = s.trim();
    let (host, port) = if let Some(rest) = s.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        match after {
            "" => (host, None),
            p => (host, Some(p.strip_prefix(':')?)),
        }
    } else {
        match s.split_once(':') {
            Some((h, p)) if !p.contains(':') => (h, Some(p)),
            Some(_) => return None,
            None => (s, None),
        }
    };
    if host.is_empty() || host.chars().any(char::is_whitespace) {
        return None;
    }
    let port = match port {
        Some(p) => p.parse::<u16>().ok().filter(|p| *p != 0)?,
        None => defaults::KPASSWD_PORT,
    };
    Some(DomainController {
        host: host.to_string(),
        port,
    })
}

pub(crate) fn credentials(e: &mut FileErrors<'_>, raw: &RawCredentials) -> ProvisioningCredentials {
    ProvisioningCredentials {
        apps: selector(e, &raw.apps, "provisioning_credentials.apps", Selector::All),
        error_patterns: patterns(
            e,
            &raw.error_patterns,
            "provisioning_credentials.error_patterns",
            defaults::CREDENTIAL_ERRORS,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_port_parsing() {
        let dc = parse_host_port("dc1.corp.example.com").unwrap();
        assert_eq!((dc.host.as_str(), dc.port), ("dc1.corp.example.com", 464));
        let dc = parse_host_port("10.0.0.5:1464").unwrap();
        assert_eq!((dc.host.as_str(), dc.port), ("10.0.0.5", 1464));
        let dc = parse_host_port("[::1]:464").unwrap();
        assert_eq!((dc.host.as_str(), dc.port), ("::1", 464));
        assert!(parse_host_port("dc1:0").is_none());
        assert!(parse_host_port("dc1:99999").is_none());
        assert!(parse_host_port("").is_none());
        assert!(parse_host_port("a b:464").is_none());
    }
}
