//! The pure planner: snapshot + policy + journal state -> plan. No I/O, no clock, no randomness;
//! every collection it iterates is ordered, so the same inputs always give the same plan.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};

use crate::journal::{FixState, JournalView};
use crate::observe::{FailedAssignment, Snapshot};
use crate::policy::{Mode, Policy};

use super::budget::Budgets;
use super::candidate::{Candidate, Outcome};
use super::model::{Action, ActionKind, Finding, FindingKind, Plan, SkipReason, Skipped, Target};
use super::rules;

/// What every rule reads, with the lookups the rules share built once.
#[derive(Debug, Clone)]
pub(crate) struct Context<'a> {
    pub policy: &'a Policy,
    pub snapshot: &'a Snapshot,
    pub journal: &'a JournalView,
    pub now: DateTime<Utc>,
    /// App id to label.
    pub app_labels: BTreeMap<&'a str, &'a str>,
    /// Failed assignments sorted by app and user (the snapshot's order is not relied on).
    pub failures: Vec<&'a FailedAssignment>,
}

impl<'a> Context<'a> {
    pub fn new(
        policy: &'a Policy,
        snapshot: &'a Snapshot,
        journal: &'a JournalView,
        now: DateTime<Utc>,
    ) -> Self {
        let app_labels = snapshot
            .apps
            .value
            .iter()
            .map(|a| (a.id.as_str(), a.label.as_str()))
            .collect();
        let mut failures: Vec<&FailedAssignment> =
            snapshot.failed_assignments.value.iter().collect();
        failures.sort_by(|a, b| (&a.app_id, &a.user_id).cmp(&(&b.app_id, &b.user_id)));
        Context {
            policy,
            snapshot,
            journal,
            now,
            app_labels,
            failures,
        }
    }
}

/// Plans the fixes for one org: the policy's selectors are resolved against the org's apps
/// (labels are not unique: an entry that matched no app or several is a warning), every rule
/// proposes candidates and findings, then the safety gate (mode, allow/deny lists, circuit
/// breaker, unfinished fixes, cooldowns, budgets) decides which candidates become actions. The
/// result is sorted and deterministic.
pub fn plan(
    policy: &Policy,
    snapshot: &Snapshot,
    journal: &JournalView,
    now: DateTime<Utc>,
) -> Plan {
    let apps = snapshot.apps.value.iter();
    let resolved = policy.resolve_selectors(
        apps.map(|a| (a.id.as_str(), a.label.as_str())),
        snapshot.apps.is_complete(),
    );
    let ctx = Context::new(&resolved.policy, snapshot, journal, now);
    let mut out = rules::run(&ctx);
    let actions = gate(&ctx, &mut out);
    let mut plan = Plan {
        org: snapshot.org.clone(),
        generated_at: now,
        complete: snapshot.is_complete(),
        actions,
        findings: out.findings,
        skipped: out.skipped,
        warnings: resolved.warnings,
    };
    sort_plan(&mut plan);
    plan
}

/// Decides, candidate by candidate in a deterministic order, which become actions.
fn gate(ctx: &Context<'_>, out: &mut Outcome) -> Vec<Action> {
    let mut candidates = std::mem::take(&mut out.candidates);
    candidates.sort_by_cached_key(|c| (c.kind, c.target.key()));
    let mut budgets = Budgets::new(&ctx.policy.safety, ctx.journal.budget_last_hour.total);
    let mut planned_targets = BTreeSet::new();
    let mut actions = Vec::new();
    for candidate in candidates {
        if let Some(skip) = refusal(ctx, &candidate, &planned_targets) {
            let fallback_applies =
                matches!(skip.why, SkipReason::Mode | SkipReason::DeniedByPolicy);
            if let (true, Some(finding)) = (fallback_applies, candidate.fallback.clone()) {
                out.findings.push(finding);
            }
            out.skipped.push(skip);
            continue;
        }
        if let Some(quarantined) = quarantine(ctx, &candidate) {
            out.skipped
                .push(candidate.skipped(SkipReason::MaxAttempts, quarantined.reason.clone()));
            out.findings.push(quarantined);
            continue;
        }
        if let Err(exhausted) = budgets.take(candidate.rule) {
            out.skipped
                .push(candidate.skipped(SkipReason::Budget, exhausted.detail()));
            continue;
        }
        planned_targets.insert(candidate.target.key());
        let note = (ctx.policy.mode_for(candidate.rule) == Mode::DryRun)
            .then_some("dry-run: previewed only, not carried out");
        actions.push(candidate.into_action(note));
    }
    actions
}

/// Most unverified attempts of a force-sync, remove-push-mappings or fix-provisioning-features
/// fix on one target before it is quarantined as a finding. (Retries of failed assignments
/// have their own cap, `retry_provisioning.max_attempts`.) A verified fix resets the count.
pub const MAX_UNVERIFIED_FIX_ATTEMPTS: u32 = 3;

/// The finding that replaces a fix that failed to verify too often, if it did.
fn quarantine(ctx: &Context<'_>, candidate: &Candidate) -> Option<Finding> {
    if candidate.kind == ActionKind::RetryProvisioning {
        return None;
    }
    let attempts = ctx
        .journal
        .attempts_for(candidate.kind.as_str(), &candidate.target)?;
    if attempts.count < MAX_UNVERIFIED_FIX_ATTEMPTS {
        return None;
    }
    Some(Finding {
        kind: FindingKind::FixQuarantined,
        target: candidate.target.clone(),
        reason: format!(
            "{} was carried out {} time(s) without verifying (last at {}); no more automatic \
             attempts",
            candidate.kind,
            attempts.count,
            attempts.last_attempt_at.to_rfc3339()
        ),
        evidence: candidate.evidence.clone(),
        manual_steps: vec![
            format!(
                "Read the journal: remediator journal list --kind outcome --target {}",
                journal_target(&candidate.target)
            ),
            format!("Fix the cause by hand: {}", candidate.reason),
        ],
    })
}

fn journal_target(target: &Target) -> String {
    if let Some(dir) = &target.directory_id {
        return format!("directory:{dir}");
    }
    target
        .app_id
        .as_ref()
        .map_or_else(String::new, |app| format!("app:{app}"))
}

/// Why the safety gate refuses a candidate before budgets are counted, if it does.
fn refusal(
    ctx: &Context<'_>,
    candidate: &Candidate,
    planned_targets: &BTreeSet<String>,
) -> Option<Skipped> {
    if let Some(detail) = &candidate.denied {
        return Some(candidate.skipped(SkipReason::DeniedByPolicy, detail.clone()));
    }
    if ctx.policy.mode_for(candidate.rule) == Mode::Report {
        return Some(candidate.skipped(
            SkipReason::Mode,
            format!("rule {} is in report mode", candidate.rule.key()),
        ));
    }
    if ctx.journal.breaker.is_open(ctx.now) {
        let until = ctx
            .journal
            .breaker
            .open_until
            .map(|t| t.to_rfc3339())
            .unwrap_or_default();
        return Some(candidate.skipped(
            SkipReason::CircuitBreakerOpen,
            format!("circuit breaker open until {until}"),
        ));
    }
    if let Some(fix) = ctx
        .journal
        .unfinished_fixes
        .iter()
        .find(|f| f.target.overlaps(&candidate.target))
    {
        return Some(candidate.skipped(SkipReason::TargetBusy, busy_detail(fix)));
    }
    if let Some(until) = ctx
        .journal
        .cooldown_until(&candidate.target)
        .filter(|until| *until > ctx.now)
    {
        return Some(candidate.skipped(
            SkipReason::Cooldown,
            format!("cooldown until {}", until.to_rfc3339()),
        ));
    }
    if planned_targets.contains(&candidate.target.key()) {
        return Some(candidate.skipped(
            SkipReason::TargetBusy,
            "another action on this target is already in this plan",
        ));
    }
    None
}

fn busy_detail(fix: &FixState) -> String {
    format!(
        "unfinished {} fix {} started {} ({} steps done)",
        fix.action_kind,
        fix.action_id,
        fix.started_at.to_rfc3339(),
        fix.steps_done.len()
    )
}

/// Sorts every list of the plan by a total, input-independent order.
fn sort_plan(plan: &mut Plan) {
    plan.actions
        .sort_by_cached_key(|a| (a.kind, a.target.key(), a.id.clone()));
    plan.findings.sort_by_cached_key(finding_key);
    plan.skipped
        .sort_by_cached_key(|s| (s.kind, s.target.key(), s.why, s.detail.clone()));
}

fn finding_key(f: &Finding) -> (super::model::FindingKind, String, String) {
    (f.kind, f.target.key(), f.reason.clone())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::journal::{BreakerState, BudgetUsage};
    use crate::plan::model::{ActionKind, Step};
    use crate::policy::RuleKind;

    fn candidate(kind: ActionKind, rule: RuleKind, target: Target) -> Candidate {
        Candidate {
            kind,
            rule,
            target,
            reason: "test".into(),
            evidence: Vec::new(),
            steps: vec![Step::Verify { what: "x".into() }],
            preconditions: Vec::new(),
            denied: None,
            fallback: None,
        }
    }

    #[test]
    fn the_gate_never_plans_two_actions_on_one_target() {
        let now = DateTime::from_timestamp(1_800_000_000, 0).expect("valid timestamp");
        let policy = Policy::default();
        let snapshot = Snapshot::default();
        let journal = JournalView {
            now,
            attempts: BTreeMap::new(),
            cooldowns: BTreeMap::new(),
            budget_last_hour: BudgetUsage::default(),
            breaker: BreakerState::default(),
            unfinished_fixes: Vec::new(),
        };
        let ctx = Context::new(&policy, &snapshot, &journal, now);
        let target = Target::app("0oa1");
        let mut out = Outcome::default();
        out.candidates.push(candidate(
            ActionKind::RemovePushMappings,
            RuleKind::RemovePushMappings,
            target.clone(),
        ));
        out.candidates.push(candidate(
            ActionKind::FixProvisioningFeatures,
            RuleKind::ProvisioningFeatures,
            target.clone(),
        ));
        let actions = gate(&ctx, &mut out);
        assert_eq!(actions.len(), 1);
        assert_eq!(
            actions[0].kind,
            ActionKind::RemovePushMappings,
            "ActionKind order"
        );
        assert_eq!(out.skipped.len(), 1);
        assert_eq!(out.skipped[0].why, SkipReason::TargetBusy);
        assert_eq!(out.skipped[0].kind, ActionKind::FixProvisioningFeatures);
    }

    fn t(app: Option<&str>, user: Option<&str>) -> Target {
        Target {
            app_id: app.map(str::to_string),
            user_id: user.map(str::to_string),
            ..Target::default()
        }
    }

    #[test]
    fn app_level_targets_overlap_their_users_but_users_do_not_overlap_each_other() {
        assert!(t(Some("a"), None).overlaps(&t(Some("a"), Some("u"))));
        assert!(t(Some("a"), Some("u")).overlaps(&t(Some("a"), Some("u"))));
        assert!(!t(Some("a"), Some("u")).overlaps(&t(Some("a"), Some("v"))));
        assert!(!t(Some("a"), None).overlaps(&t(Some("b"), None)));
    }
}
