//! Rule 1: retry failed provisioning of app users, one action per app user, with backoff across
//! runs and a cap on attempts. Errors with a known misconfiguration as cause are never retried
//! blindly: they belong to the feature fix, the credential finding or the KPASSWD finding.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, Utc};

use crate::observe::FailedAssignment;
use crate::okta::{AppId, UserId};
use crate::policy::RetryStrategy;

use super::super::candidate::{Candidate, Outcome};
use super::super::model::{
    ActionKind, Finding, FindingKind, Precondition, SkipReason, Step, Target,
};
use super::super::planner::Context;
use super::kpasswd::KpasswdUsers;
use super::{app_label, assignment_evidence, credentials, sorted_failures, RETRY_TASKS_MANUALLY};

/// Error texts (lowercase substrings) of transient failures: a known cause that a retry fixes.
pub(crate) const TRANSIENT_ERRORS: &[&str] = &[
    "timed out",
    "timeout",
    "rate limit",
    "too many requests",
    "429",
    "500",
    "502",
    "503",
    "504",
    "internal server error",
    "service unavailable",
    "temporarily unavailable",
    "connection reset",
    "connection refused",
    "try again",
];

/// Plans a retry per failed assignment the rule applies to.
pub(super) fn plan(
    ctx: &Context<'_>,
    explained: &BTreeSet<(AppId, UserId)>,
    kpasswd: &KpasswdUsers,
    out: &mut Outcome,
) {
    for fa in sorted_failures(ctx) {
        let label = app_label(ctx, &fa.app_id);
        if !ctx
            .policy
            .retry_provisioning
            .apps
            .matches(&fa.app_id, label)
        {
            continue;
        }
        let target = Target::app_user(&fa.app_id, &fa.user_id);
        if !ctx.policy.app_allowed(&fa.app_id, label) {
            out.skip(
                ActionKind::RetryProvisioning,
                target,
                SkipReason::DeniedByPolicy,
                format!("app {label} ({}) is excluded by safety.apps", fa.app_id),
            );
            continue;
        }
        if let Some(unread) = ctx.unread(ActionKind::RetryProvisioning, &target) {
            out.withhold(ActionKind::RetryProvisioning, target, unread);
            continue;
        }
        match decide(ctx, fa, label, explained, kpasswd) {
            Decision::Elsewhere => {}
            Decision::Skip(why, detail, retry_at) => {
                out.skip_until(ActionKind::RetryProvisioning, target, why, detail, retry_at)
            }
            Decision::Report(finding) => out.findings.push(finding),
            Decision::Quarantine(finding, detail) => {
                out.findings.push(finding);
                out.skip(
                    ActionKind::RetryProvisioning,
                    target,
                    SkipReason::MaxAttempts,
                    detail,
                );
            }
            Decision::Retry(candidate) => out.candidates.push(*candidate),
        }
    }
}

/// What becomes of one failed assignment.
enum Decision {
    /// Another rule's action or finding covers it.
    Elsewhere,
    /// Not now: why, in words, and when the wait ends.
    Skip(SkipReason, String, Option<DateTime<Utc>>),
    Report(Finding),
    /// Attempts exhausted: reported, and listed as not taken with the count.
    Quarantine(Finding, String),
    Retry(Box<Candidate>),
}

fn decide(
    ctx: &Context<'_>,
    fa: &FailedAssignment,
    label: &str,
    explained: &BTreeSet<(AppId, UserId)>,
    kpasswd: &KpasswdUsers,
) -> Decision {
    let policy = &ctx.policy.retry_provisioning;
    let text = fa.error_text();
    if credentials::covers(ctx, fa) {
        return Decision::Elsewhere;
    }
    let kpasswd_caught = kpasswd.caught.contains(&fa.user_id);
    if kpasswd_caught && !kpasswd.cleared {
        return Decision::Elsewhere;
    }
    if explained.contains(&(fa.app_id.clone(), fa.user_id.clone())) {
        return Decision::Elsewhere;
    }
    if let Some(pattern) = text.and_then(|t| policy.never_retry_errors.find(t)) {
        return Decision::Report(not_safe(
            fa,
            label,
            format!("its error matches never_retry_errors entry {pattern:?}"),
        ));
    }
    if !kpasswd_caught && !is_transient(text) && !policy.retry_unknown_errors {
        return Decision::Report(not_safe(
            fa,
            label,
            "its error matches no known cause and retry_unknown_errors is false".to_string(),
        ));
    }
    if let Some(skip) = timing(ctx, fa) {
        return skip;
    }
    retry(ctx, fa, label)
}

fn is_transient(text: Option<&str>) -> bool {
    let Some(text) = text else {
        return false;
    };
    let text = text.to_ascii_lowercase();
    TRANSIENT_ERRORS.iter().any(|p| text.contains(p))
}

/// When the error happened: its failure event, else the app user's last update.
fn error_time(fa: &FailedAssignment) -> Option<DateTime<Utc>> {
    fa.error.as_ref().map(|e| e.published).or(fa.last_updated)
}

/// Too recent, quarantined after its attempts, or still backing off.
fn timing(ctx: &Context<'_>, fa: &FailedAssignment) -> Option<Decision> {
    let policy = &ctx.policy.retry_provisioning;
    let min_age = Duration::from_std(policy.min_error_age).unwrap_or(Duration::MAX);
    if let Some(at) = error_time(fa) {
        if ctx.now.signed_duration_since(at) < min_age {
            return Some(Decision::Skip(
                SkipReason::TooRecent,
                format!(
                    "error at {} is younger than min_error_age {}s",
                    at.to_rfc3339(),
                    policy.min_error_age.as_secs()
                ),
                at.checked_add_signed(min_age),
            ));
        }
    }
    let target = Target::app_user(&fa.app_id, &fa.user_id);
    let attempt = ctx
        .journal
        .attempts_for(ActionKind::RetryProvisioning, &target)?;
    if attempt.count >= policy.max_attempts {
        return Some(Decision::Quarantine(
            quarantined(fa, attempt.count),
            format!(
                "{} attempt(s) made, max_attempts = {}",
                attempt.count, policy.max_attempts
            ),
        ));
    }
    let delay =
        Duration::from_std(policy.backoff.delay_after(attempt.count)).unwrap_or(Duration::MAX);
    let next = attempt.last_attempt_at.checked_add_signed(delay)?;
    (next > ctx.now).then(|| {
        Decision::Skip(
            SkipReason::Backoff,
            format!(
                "{} attempt(s) so far; next attempt not before {}",
                attempt.count,
                next.to_rfc3339()
            ),
            Some(next),
        )
    })
}

fn not_safe(fa: &FailedAssignment, label: &str, why: String) -> Finding {
    Finding::new(
        FindingKind::RetryNotSafe,
        Target::app_user(&fa.app_id, &fa.user_id),
        format!("user {} on {label} is not retried: {why}", fa.user_id),
        assignment_evidence(fa),
        vec![
            format!(
                "Find the cause of the error in the System Log for user {}",
                fa.user_id
            ),
            format!("{RETRY_TASKS_MANUALLY} (users: {})", fa.user_id),
        ],
    )
}

fn quarantined(fa: &FailedAssignment, attempts: u32) -> Finding {
    Finding::new(
        FindingKind::FixQuarantined,
        Target::app_user(&fa.app_id, &fa.user_id),
        format!(
            "retry of user {} failed {attempts} time(s), reaching max_attempts; no more automatic \
             retries",
            fa.user_id
        ),
        assignment_evidence(fa),
        vec![
            format!(
                "Find the cause of the error in the System Log for user {}",
                fa.user_id
            ),
            format!("{RETRY_TASKS_MANUALLY} (users: {})", fa.user_id),
        ],
    )
}

/// The retry action, or a finding when its strategy cannot be carried out.
fn retry(ctx: &Context<'_>, fa: &FailedAssignment, label: &str) -> Decision {
    let step = match ctx.policy.retry_provisioning.strategy {
        RetryStrategy::Repush => Step::RepushAppUser {
            app_id: fa.app_id.clone(),
            user_id: fa.user_id.clone(),
        },
        RetryStrategy::AdminTaskRetry if ctx.policy.admin.task_retry_path.is_some() => {
            Step::RetryTasks {
                app_id: fa.app_id.clone(),
                user_ids: vec![fa.user_id.clone()],
            }
        }
        RetryStrategy::AdminTaskRetry => {
            return Decision::Report(not_safe(
                fa,
                label,
                "strategy admin-task-retry needs okta.admin.task_retry_path, which is not set"
                    .to_string(),
            ))
        }
    };
    Decision::Retry(Box::new(Candidate {
        kind: ActionKind::RetryProvisioning,
        target: Target::app_user(&fa.app_id, &fa.user_id),
        reason: format!(
            "user {} on {label} is in provisioning error: {}",
            fa.user_id,
            fa.error_text().unwrap_or("no error text")
        ),
        evidence: assignment_evidence(fa),
        steps: vec![
            step,
            Step::Verify {
                what: format!("app user {}/{} left syncState ERROR", fa.app_id, fa.user_id),
            },
        ],
        preconditions: vec![Precondition::AppUserSyncState {
            app_id: fa.app_id.clone(),
            user_id: fa.user_id.clone(),
            sync_state: "ERROR".to_string(),
        }],
        denied: None,
        fallback: None,
    }))
}
