//! The pure planner: snapshot + policy + journal state -> plan. No I/O, no clock, no randomness;
//! every collection it iterates is ordered, so the same inputs always give the same plan.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};

use crate::journal::JournalView;
use crate::observe::{FailedAssignment, Incomplete, PartId, Snapshot};
use crate::policy::Policy;

use super::approval::ActionApproval;
use super::candidate::{Candidate, Outcome};
use super::gate::{Asker, Gate, Hold, Spent};
use super::model::{
    Action, ActionKind, ActionMode, Finding, FindingKind, Plan, PlanDigests, SkipReason, Target,
};
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

    /// The first part a decision of `kind` about `target` depends on that was not read
    /// (see `depends`).
    pub fn unread(&self, kind: ActionKind, target: &Target) -> Option<&'a Incomplete> {
        super::depends::unread(self, kind, target)
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
        // The app list itself, not a connection or features read kept beside it.
        !snapshot
            .apps
            .incomplete
            .iter()
            .any(|i| i.part == PartId::Apps),
    );
    let ctx = Context::new(&resolved.policy, snapshot, journal, now);
    let mut out = rules::run(&ctx);
    let actions = gate(&ctx, &mut out);
    let incomplete: Vec<Incomplete> = snapshot.incomplete().into_iter().cloned().collect();
    let mut plan = Plan {
        org: snapshot.org.clone(),
        generated_at: now,
        complete: incomplete.is_empty(),
        incomplete,
        actions,
        findings: out.findings,
        skipped: out.skipped,
        warnings: resolved.warnings,
        labels: BTreeMap::new(),
        digests: PlanDigests::default(),
    };
    sort_plan(&mut plan);
    plan.labels = super::labels::labels(snapshot, &plan);
    plan
}

/// Decides, candidate by candidate in a deterministic order, which become actions: the safety
/// gate (against the journal's view at planning time), then quarantine, then the budgets.
fn gate(ctx: &Context<'_>, out: &mut Outcome) -> Vec<Action> {
    let mut candidates = std::mem::take(&mut out.candidates);
    candidates.sort_by_cached_key(|c| (c.kind, c.target.key()));
    let gate = Gate::new(ctx.policy, ctx.journal, ctx.now);
    let mut spent = Spent {
        last_hour: ctx.journal.budget_last_hour.total,
        ..Spent::default()
    };
    let mut planned_targets = BTreeSet::new();
    let mut actions = Vec::new();
    for candidate in candidates {
        let mode = match admit(&gate, &candidate, &planned_targets) {
            Ok(mode) => mode,
            Err(hold) => {
                let fallback_applies = matches!(hold, Hold::Mode { .. } | Hold::Denied(_));
                if let (true, Some(finding)) = (fallback_applies, candidate.fallback.clone()) {
                    out.findings.push(finding);
                }
                out.skipped.push(candidate.held(&hold, ctx.now));
                continue;
            }
        };
        if let Some(quarantined) = quarantine(ctx, &candidate) {
            out.skipped
                .push(candidate.skipped(SkipReason::MaxAttempts, quarantined.reason.clone()));
            out.findings.push(quarantined);
            continue;
        }
        let approval = match approval(&gate, &candidate, mode) {
            Ok(approval) => approval,
            Err(waiting) => {
                // Planned, shown as awaiting approval, not carried out: it spends no budget.
                planned_targets.insert(candidate.target.key());
                actions.push(*waiting);
                continue;
            }
        };
        if let Err(hold) = gate.budgets(candidate.kind, &spent) {
            out.skipped.push(candidate.held(&hold, ctx.now));
            continue;
        }
        spent.record(candidate.kind.rule());
        planned_targets.insert(candidate.target.key());
        let mut action = candidate.into_action(mode);
        action.approval = approval;
        actions.push(action);
    }
    actions
}

/// The approval of an enforce action whose rule requires one: Ok with the approval in force
/// (or none needed), Err with the action as planned, held by the gate until it is approved.
fn approval(
    gate: &Gate<'_>,
    candidate: &Candidate,
    mode: ActionMode,
) -> Result<Option<ActionApproval>, Box<Action>> {
    if mode != ActionMode::Enforce {
        return Ok(None);
    }
    let mut action = candidate.clone().into_action(mode);
    match gate.approval(&action) {
        Ok(approval) => Ok(approval),
        Err(waiting) => {
            action.approval = Some(super::gate::unapproved(&action, &waiting));
            Err(Box::new(action))
        }
    }
}

/// The gate's checks before budgets are counted: policy's allow/deny lists, then the gate's
/// own (mode, breaker, unfinished fixes, cooldown), then one action per target per plan. Ok:
/// the mode the action is planned in.
fn admit(
    gate: &Gate<'_>,
    candidate: &Candidate,
    planned_targets: &BTreeSet<String>,
) -> Result<ActionMode, Hold> {
    if let Some(detail) = &candidate.denied {
        return Err(Hold::Denied(detail.clone()));
    }
    let mode = gate.check(Asker::Planner, candidate.kind, &candidate.target)?;
    if planned_targets.contains(&candidate.target.key()) {
        return Err(Hold::AlreadyPlanned);
    }
    Ok(mode)
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
        .attempts_for(candidate.kind, &candidate.target)?;
    if attempts.count < MAX_UNVERIFIED_FIX_ATTEMPTS {
        return None;
    }
    Some(Finding::new(
        FindingKind::FixQuarantined,
        candidate.target.clone(),
        format!(
            "{} was carried out {} time(s) without verifying (last at {}); no more automatic \
             attempts",
            candidate.kind,
            attempts.count,
            attempts.last_attempt_at.to_rfc3339()
        ),
        candidate.evidence.clone(),
        vec![
            format!(
                "Read the journal: remediator journal list --kind outcome --target {}",
                journal_target(&candidate.target)
            ),
            format!("Fix the cause by hand: {}", candidate.reason),
        ],
    ))
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

    fn candidate(kind: ActionKind, target: Target) -> Candidate {
        Candidate {
            kind,
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
            approvals: BTreeMap::new(),
        };
        let ctx = Context::new(&policy, &snapshot, &journal, now);
        let target = Target::app("0oa1");
        let mut out = Outcome::default();
        out.candidates
            .push(candidate(ActionKind::RemovePushMappings, target.clone()));
        out.candidates.push(candidate(
            ActionKind::FixProvisioningFeatures,
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
            app_id: app.map(Into::into),
            user_id: user.map(Into::into),
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
