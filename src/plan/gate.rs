//! The safety gate, one for the planner and the executor: whether an action may be taken now
//! (the rule's mode, `apply --max-actions`, the circuit breaker, unfinished fixes on the target,
//! the target's cooldown, and the budgets per kind and run, per run and per rolling hour). The
//! planner asks it against the journal's view at planning time, the executor again against the
//! journal as it is when the action is about to be taken. Every refusal is a typed [`Hold`]
//! with its [`SkipReason`] tag and its [`Hold::detail`] text.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::journal::{FixState, JournalView, Verdict};
use crate::policy::{Mode, Policy, RuleKind};
use crate::vocab::{ActionId, ActionKind, SkipReason, Target};

use super::approval::{plan_hash, ActionApproval, ApprovalStatus};
use super::model::{Action, ActionMode};

/// Which budget is spent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Exhausted {
    /// `safety.max_actions_per_kind_per_run` for this rule.
    Kind { rule: RuleKind, limit: u32 },
    /// `safety.max_actions_per_run`.
    Run { limit: u32 },
    /// `safety.max_actions_per_hour`; `used` counts the last hour's actions, this run's included.
    /// `frees_at`: when the window's oldest action leaves it.
    Hour {
        limit: u32,
        used: u32,
        frees_at: DateTime<Utc>,
    },
}

impl Exhausted {
    /// What is spent, in words.
    pub fn detail(self) -> String {
        match self {
            Exhausted::Kind { rule, limit } => format!(
                "max_actions_per_kind_per_run.{} = {limit} reached in this run",
                rule.key()
            ),
            Exhausted::Run { limit } => {
                format!("max_actions_per_run = {limit} reached in this run")
            }
            Exhausted::Hour { limit, used, .. } => format!(
                "max_actions_per_hour = {limit} reached ({used} taken or planned in the last hour)"
            ),
        }
    }
}

/// Why the gate does not let an action be taken now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Hold {
    /// Policy's allow/deny lists exclude the target; the text says which entry.
    Denied(String),
    /// The rule's mode does not act: `report` for the planner, anything but `enforce` for the
    /// executor.
    Mode { rule: RuleKind, mode: Mode },
    /// `apply --max-actions` is reached in this execution.
    MaxActions { limit: u32 },
    /// The circuit breaker is open.
    BreakerOpen { until: DateTime<Utc> },
    /// An unfinished fix holds an overlapping target.
    Unfinished {
        kind: ActionKind,
        action_id: ActionId,
        started_at: DateTime<Utc>,
        steps_done: usize,
    },
    /// Another action on this target is already in this plan.
    AlreadyPlanned,
    /// The target's cooldown runs until then.
    Cooldown { until: DateTime<Utc> },
    /// A budget is spent.
    Budget(Exhausted),
    /// Its rule requires approval and no approval of the action as planned now is in force.
    Approval(Unapproved),
}

/// Why an approval-required action is not approved now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Unapproved {
    /// Never asked (or its request was withdrawn): asked now, until `expires_at`.
    NotAsked { expires_at: DateTime<Utc> },
    /// Asked, waiting for a person until `expires_at`.
    Awaiting { expires_at: DateTime<Utc> },
    /// The request, or the approval given for it, lapsed at `at`.
    Expired { at: DateTime<Utc> },
    /// Asked (or decided) for the plan hash `asked`: the action as planned now differs.
    Changed { asked: String },
    /// A person rejected it as planned now.
    Rejected { by: String, reason: String },
}

impl Unapproved {
    /// The plan's status for it.
    pub fn status(&self) -> ApprovalStatus {
        match self {
            Unapproved::NotAsked { .. } | Unapproved::Awaiting { .. } => ApprovalStatus::Awaiting,
            Unapproved::Expired { .. } => ApprovalStatus::Expired,
            Unapproved::Changed { .. } => ApprovalStatus::Changed,
            Unapproved::Rejected { .. } => ApprovalStatus::Rejected,
        }
    }

    /// Whether a new request is journaled for it (never asked, expired, changed); a request
    /// waiting unchanged or a rejection is not asked again.
    pub fn asks(&self) -> Option<&'static str> {
        match self {
            Unapproved::NotAsked { .. } => Some("new"),
            Unapproved::Expired { .. } => Some("expired"),
            Unapproved::Changed { .. } => Some("changed"),
            Unapproved::Awaiting { .. } | Unapproved::Rejected { .. } => None,
        }
    }

    fn detail(&self) -> String {
        let until = |at: &DateTime<Utc>| at.to_rfc3339();
        match self {
            Unapproved::NotAsked { expires_at } => {
                format!("awaiting approval (asked now, until {})", until(expires_at))
            }
            Unapproved::Awaiting { expires_at } => {
                format!("awaiting approval until {}", until(expires_at))
            }
            Unapproved::Expired { at } => {
                format!("its approval request expired at {}: asked again", until(at))
            }
            Unapproved::Changed { asked } => format!(
                "approval was asked for plan {asked}; the action as planned now differs: asked \
                 again"
            ),
            Unapproved::Rejected { by, reason } => {
                format!("rejected by {by} ({reason}): held until its plan changes")
            }
        }
    }
}

impl Hold {
    /// The machine-readable tag of the reason.
    pub fn reason(&self) -> SkipReason {
        match self {
            Hold::Denied(_) => SkipReason::DeniedByPolicy,
            Hold::Mode { .. } => SkipReason::Mode,
            Hold::MaxActions { .. } => SkipReason::MaxActions,
            Hold::BreakerOpen { .. } => SkipReason::CircuitBreakerOpen,
            Hold::Unfinished { .. } | Hold::AlreadyPlanned => SkipReason::TargetBusy,
            Hold::Cooldown { .. } => SkipReason::Cooldown,
            Hold::Budget(_) => SkipReason::Budget,
            Hold::Approval(_) => SkipReason::AwaitingApproval,
        }
    }

    /// The specifics, in words (which budget, until when, which fix).
    pub fn detail(&self) -> String {
        match self {
            Hold::Denied(detail) => detail.clone(),
            Hold::Mode { rule, mode } => format!("rule {} is in {mode} mode", rule.key()),
            Hold::MaxActions { limit } => format!("--max-actions {limit} reached"),
            Hold::BreakerOpen { until } => {
                format!("circuit breaker open until {}", until.to_rfc3339())
            }
            Hold::Unfinished {
                kind,
                action_id,
                started_at,
                steps_done,
            } => format!(
                "unfinished {kind} fix {action_id} started {} ({steps_done} steps done)",
                started_at.to_rfc3339()
            ),
            Hold::AlreadyPlanned => {
                "another action on this target is already in this plan".to_owned()
            }
            Hold::Cooldown { until } => format!("cooldown until {}", until.to_rfc3339()),
            Hold::Budget(exhausted) => exhausted.detail(),
            Hold::Approval(unapproved) => unapproved.detail(),
        }
    }

    /// When the wait ends, for a hold that ends by waiting (planned at `now`): a cooldown, the
    /// circuit breaker, the hourly budget's window; a budget per run frees at the next pass.
    /// None for a hold no wait lifts (mode, deny list, an unfinished fix, `--max-actions`).
    pub fn retry_at(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self {
            Hold::Cooldown { until } | Hold::BreakerOpen { until } => Some(*until),
            Hold::Budget(Exhausted::Hour { frees_at, .. }) => Some(*frees_at),
            Hold::Budget(Exhausted::Kind { .. } | Exhausted::Run { .. }) => Some(now),
            Hold::Denied(_)
            | Hold::Mode { .. }
            | Hold::MaxActions { .. }
            | Hold::Unfinished { .. }
            | Hold::AlreadyPlanned
            | Hold::Approval(_) => None,
        }
    }
}

/// Who asks the gate: the planner (a rule in `dry-run` mode still plans its actions, as
/// previews) or the executor (only actions of rules in `enforce` mode are carried out).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Asker {
    Planner,
    Executor,
}

/// The mode an action of `kind` gets under `policy`, or why it gets none.
pub(crate) fn mode(policy: &Policy, asker: Asker, kind: ActionKind) -> Result<ActionMode, Hold> {
    let rule = kind.rule();
    let mode = policy.mode_for(rule);
    match (asker, mode) {
        (_, Mode::Enforce) => Ok(ActionMode::Enforce),
        (Asker::Planner, Mode::DryRun) => Ok(ActionMode::Preview),
        _ => Err(Hold::Mode { rule, mode }),
    }
}

/// `apply --max-actions`: whether another action may be taken after `taken`.
pub(crate) fn max_actions(limit: Option<u32>, taken: u32) -> Result<(), Hold> {
    match limit {
        Some(limit) if taken >= limit => Err(Hold::MaxActions { limit }),
        _ => Ok(()),
    }
}

/// What a run has used of the budgets so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Spent {
    /// Actions taken (or planned) in this run.
    pub run: u32,
    /// The same, per rule.
    pub by_rule: BTreeMap<RuleKind, u32>,
    /// Actions in the rolling hour, this run's included.
    pub last_hour: u32,
}

impl Spent {
    /// Counts one more action of `rule`.
    pub fn record(&mut self, rule: RuleKind) {
        self.run += 1;
        self.last_hour += 1;
        *self.by_rule.entry(rule).or_insert(0) += 1;
    }
}

/// The gate over one policy and one view of the journal, at one time.
#[derive(Debug)]
pub(crate) struct Gate<'a> {
    policy: &'a Policy,
    journal: &'a JournalView,
    now: DateTime<Utc>,
}

impl<'a> Gate<'a> {
    pub fn new(policy: &'a Policy, journal: &'a JournalView, now: DateTime<Utc>) -> Self {
        Gate {
            policy,
            journal,
            now,
        }
    }

    /// The checks budgets do not enter: the rule's mode, the circuit breaker, unfinished fixes
    /// on an overlapping target, the target's cooldown. Ok: the mode the action is taken in.
    pub fn check(
        &self,
        asker: Asker,
        kind: ActionKind,
        target: &Target,
    ) -> Result<ActionMode, Hold> {
        let mode = mode(self.policy, asker, kind)?;
        let breaker = &self.journal.breaker;
        if let Some(until) = breaker.open_until.filter(|_| breaker.is_open(self.now)) {
            return Err(Hold::BreakerOpen { until });
        }
        if let Some(fix) = self
            .journal
            .unfinished_fixes
            .iter()
            .find(|f| f.target.overlaps(target))
        {
            return Err(unfinished(fix));
        }
        if let Some(until) = self
            .journal
            .cooldown_until(target)
            .filter(|until| *until > self.now)
        {
            return Err(Hold::Cooldown { until });
        }
        Ok(mode)
    }

    /// The budgets per kind and run, per run and per hour, in that order, against what the
    /// run has used.
    pub fn budgets(&self, kind: ActionKind, spent: &Spent) -> Result<(), Hold> {
        let safety = &self.policy.safety;
        let rule = kind.rule();
        let kind_limit = safety.max_actions_for_kind(rule);
        if spent.by_rule.get(&rule).copied().unwrap_or(0) >= kind_limit {
            return Err(Hold::Budget(Exhausted::Kind {
                rule,
                limit: kind_limit,
            }));
        }
        if spent.run >= safety.max_actions_per_run {
            return Err(Hold::Budget(Exhausted::Run {
                limit: safety.max_actions_per_run,
            }));
        }
        if spent.last_hour >= safety.max_actions_per_hour {
            let oldest = self.journal.budget_last_hour.oldest.unwrap_or(self.now);
            return Err(Hold::Budget(Exhausted::Hour {
                limit: safety.max_actions_per_hour,
                used: spent.last_hour,
                frees_at: oldest + crate::journal::BUDGET_WINDOW,
            }));
        }
        Ok(())
    }
}

impl Gate<'_> {
    /// Whether `action` may be carried out as far as approval goes: `Ok(None)` when its rule
    /// requires none, `Ok(Some(..))` (status approved) when a person approved exactly this plan
    /// hash and neither the request nor the approval has expired (the earlier of the expiry
    /// recorded when it was asked and `safety.approval_expiry` from when it was asked, so a
    /// shortened expiry applies at once), else why not (held as [`Hold::Approval`]).
    pub fn approval(&self, action: &Action) -> Result<Option<ActionApproval>, Unapproved> {
        if !self.policy.approval_required(action.kind.rule()) {
            return Ok(None);
        }
        let hash = plan_hash(action);
        let expiry = chrono::Duration::from_std(self.policy.safety.approval_expiry)
            .unwrap_or(chrono::Duration::MAX);
        let Some(record) = self.journal.approvals.get(&action.id) else {
            let expires_at = self.now.checked_add_signed(expiry).unwrap_or(self.now);
            return Err(Unapproved::NotAsked { expires_at });
        };
        let decided = record.decision.as_ref();
        if record.plan_hash != hash {
            let asked = record.plan_hash.clone();
            return Err(Unapproved::Changed { asked });
        }
        if let Some(d) = decided.filter(|d| d.verdict == Verdict::Rejected) {
            let (by, reason) = (d.by.clone(), d.reason.clone());
            return Err(Unapproved::Rejected { by, reason });
        }
        let expires_at = record
            .requested_at
            .checked_add_signed(expiry)
            .map_or(record.expires_at, |at| at.min(record.expires_at));
        if expires_at <= self.now {
            return Err(Unapproved::Expired { at: expires_at });
        }
        let Some(granted) = decided else {
            return Err(Unapproved::Awaiting { expires_at });
        };
        Ok(Some(ActionApproval {
            status: ApprovalStatus::Approved,
            plan_hash: hash,
            expires_at: Some(expires_at),
            by: Some(granted.by.clone()),
        }))
    }
}

/// What the plan shows for an approval-required action the gate holds.
pub(crate) fn unapproved(action: &Action, unapproved: &Unapproved) -> ActionApproval {
    let expires_at = match unapproved {
        Unapproved::NotAsked { expires_at } | Unapproved::Awaiting { expires_at } => {
            Some(*expires_at)
        }
        Unapproved::Expired { at } => Some(*at),
        Unapproved::Changed { .. } | Unapproved::Rejected { .. } => None,
    };
    let by = match unapproved {
        Unapproved::Rejected { by, .. } => Some(by.clone()),
        _ => None,
    };
    ActionApproval {
        status: unapproved.status(),
        plan_hash: plan_hash(action),
        expires_at,
        by,
    }
}

fn unfinished(fix: &FixState) -> Hold {
    Hold::Unfinished {
        kind: fix.action_kind,
        action_id: fix.action_id.clone(),
        started_at: fix.started_at,
        steps_done: fix.steps_done.len(),
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;
    use crate::journal::FixState;
    use crate::policy::Safety;

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).expect("valid timestamp")
    }

    fn policy_with(safety: Safety) -> Policy {
        let mut policy = Policy::default();
        policy.global.default_mode = Mode::Enforce;
        policy.safety = safety;
        policy
    }

    #[test]
    fn kind_then_run_then_hour_budgets_apply_in_order() {
        let mut safety = Safety {
            max_actions_per_run: 3,
            max_actions_per_hour: 10,
            ..Safety::default()
        };
        safety
            .max_actions_per_kind_per_run
            .insert(RuleKind::ForceSync, 1);
        let policy = policy_with(safety);
        let view = JournalView::empty(now());
        let gate = Gate::new(&policy, &view, now());
        let mut spent = Spent {
            last_hour: 8,
            ..Spent::default()
        };
        assert_eq!(gate.budgets(ActionKind::ForceSync, &spent), Ok(()));
        spent.record(RuleKind::ForceSync);
        assert!(matches!(
            gate.budgets(ActionKind::ForceSync, &spent),
            Err(Hold::Budget(Exhausted::Kind { limit: 1, .. }))
        ));
        assert_eq!(gate.budgets(ActionKind::RetryProvisioning, &spent), Ok(()));
        spent.record(RuleKind::RetryProvisioning);
        let held = gate
            .budgets(ActionKind::RetryProvisioning, &spent)
            .expect_err("the hour is spent");
        assert_eq!(
            held,
            Hold::Budget(Exhausted::Hour {
                limit: 10,
                used: 10,
                frees_at: now() + Duration::hours(1),
            })
        );
        assert_eq!(held.reason(), SkipReason::Budget);
        assert_eq!(held.retry_at(now()), Some(now() + Duration::hours(1)));
        assert!(held
            .detail()
            .starts_with("max_actions_per_hour = 10 reached"));
    }

    #[test]
    fn run_budget_stops_after_its_limit() {
        let policy = policy_with(Safety {
            max_actions_per_run: 1,
            ..Safety::default()
        });
        let view = JournalView::empty(now());
        let gate = Gate::new(&policy, &view, now());
        let mut spent = Spent::default();
        assert_eq!(gate.budgets(ActionKind::RetryProvisioning, &spent), Ok(()));
        spent.record(RuleKind::RetryProvisioning);
        let held = gate
            .budgets(ActionKind::RetryProvisioning, &spent)
            .expect_err("run budget spent");
        assert_eq!(
            held,
            Hold::Budget(Exhausted::Kind {
                rule: RuleKind::RetryProvisioning,
                limit: 1
            })
        );
        assert!(held.detail().contains("retry_provisioning"));
    }

    #[test]
    fn mode_breaker_unfinished_fix_and_cooldown_hold_in_that_order() {
        let mut policy = policy_with(Safety::default());
        let target = Target::app_user("0oa1", "00u1");
        let mut view = JournalView::empty(now());
        view.cooldowns
            .insert(target.state_key(), now() + Duration::minutes(5));
        let gate = Gate::new(&policy, &view, now());
        let held = gate
            .check(Asker::Executor, ActionKind::RetryProvisioning, &target)
            .expect_err("cooling");
        assert_eq!(held.reason(), SkipReason::Cooldown);
        assert_eq!(held.retry_at(now()), Some(now() + Duration::minutes(5)));
        view.unfinished_fixes.push(FixState {
            action_id: ActionId::new("act-1"),
            action_kind: ActionKind::FixProvisioningFeatures,
            target: Target::app("0oa1"),
            steps_done: Vec::new(),
            compensation_needed: false,
            started_at: now(),
        });
        let gate = Gate::new(&policy, &view, now());
        let held = gate
            .check(Asker::Executor, ActionKind::RetryProvisioning, &target)
            .expect_err("busy");
        assert_eq!(held.reason(), SkipReason::TargetBusy);
        assert!(held
            .detail()
            .contains("unfinished fix-provisioning-features fix act-1"));
        view.breaker.open_until = Some(now() + Duration::minutes(1));
        let gate = Gate::new(&policy, &view, now());
        let held = gate
            .check(Asker::Executor, ActionKind::RetryProvisioning, &target)
            .expect_err("breaker open");
        assert_eq!(held.reason(), SkipReason::CircuitBreakerOpen);
        policy.global.default_mode = Mode::DryRun;
        let gate = Gate::new(&policy, &view, now());
        let held = gate
            .check(Asker::Executor, ActionKind::RetryProvisioning, &target)
            .expect_err("not enforced");
        assert_eq!(held.reason(), SkipReason::Mode);
        assert_eq!(held.detail(), "rule retry_provisioning is in dry-run mode");
    }

    #[test]
    fn an_approval_counts_only_for_the_same_plan_hash_before_it_expires() {
        use crate::journal::{ApprovalDecision, ApprovalRecord};
        let mut policy = policy_with(Safety::default());
        let action = Action {
            id: ActionId::new("act-1"),
            kind: ActionKind::RemovePushMappings,
            mode: ActionMode::Enforce,
            target: Target::app("0oa1"),
            reason: "orphaned".to_owned(),
            evidence: Vec::new(),
            steps: Vec::new(),
            preconditions: Vec::new(),
            approval: None,
        };
        let mut view = JournalView::empty(now());
        let gate = Gate::new(&policy, &view, now());
        assert_eq!(gate.approval(&action), Ok(None), "not required");
        policy
            .safety
            .approval_required
            .insert(RuleKind::RemovePushMappings);
        let gate = Gate::new(&policy, &view, now());
        let asked = gate.approval(&action).expect_err("never asked");
        assert_eq!(asked.asks(), Some("new"));
        let mut record = ApprovalRecord {
            action_id: action.id.clone(),
            action_kind: action.kind,
            target: action.target.clone(),
            plan_hash: plan_hash(&action),
            summary: action.reason.clone(),
            org: "https://example.okta.com".to_owned(),
            requested_at: now() - Duration::hours(1),
            expires_at: now() + Duration::hours(23),
            decision: None,
        };
        view.approvals.insert(action.id.clone(), record.clone());
        let gate = Gate::new(&policy, &view, now());
        let waiting = gate.approval(&action).expect_err("waiting");
        assert_eq!(waiting.asks(), None, "not asked again while it waits");
        assert_eq!(
            Hold::Approval(waiting).reason(),
            SkipReason::AwaitingApproval
        );
        let decision = |verdict| ApprovalDecision {
            verdict,
            by: "alice".to_owned(),
            reason: String::new(),
            at: now(),
            plan_hash: record.plan_hash.clone(),
        };
        record.decision = Some(decision(Verdict::Granted));
        view.approvals.insert(action.id.clone(), record.clone());
        let gate = Gate::new(&policy, &view, now());
        let approved = gate.approval(&action).expect("approved").expect("required");
        assert!(approved.approved());
        let changed = Action {
            steps: vec![super::super::model::Step::DisableProvisioning {
                app_id: "0oa1".into(),
            }],
            ..action.clone()
        };
        assert_eq!(
            gate.approval(&changed).expect_err("changed").asks(),
            Some("changed")
        );
        policy.safety.approval_expiry = std::time::Duration::from_secs(60);
        let gate = Gate::new(&policy, &view, now());
        let expired = gate
            .approval(&action)
            .expect_err("a shortened expiry applies at once");
        assert_eq!(expired.asks(), Some("expired"));
        policy.safety.approval_expiry = crate::policy::defaults::APPROVAL_EXPIRY;
        record.decision = Some(decision(Verdict::Rejected));
        record.expires_at = now() - Duration::minutes(1);
        view.approvals.insert(action.id.clone(), record);
        let gate = Gate::new(&policy, &view, now());
        let rejected = gate.approval(&action).expect_err("rejected");
        assert_eq!(
            rejected.status(),
            ApprovalStatus::Rejected,
            "until its plan changes"
        );
        assert_eq!(rejected.asks(), None);
        assert_eq!(
            gate.approval(&changed).expect_err("changed").asks(),
            Some("changed")
        );
    }

    #[test]
    fn the_planner_plans_dry_run_rules_as_previews_and_the_executor_refuses_them() {
        let mut policy = Policy::default();
        policy.global.default_mode = Mode::DryRun;
        let kind = ActionKind::ForceSync;
        assert_eq!(mode(&policy, Asker::Planner, kind), Ok(ActionMode::Preview));
        assert!(mode(&policy, Asker::Executor, kind).is_err());
        policy.global.default_mode = Mode::Report;
        assert!(mode(&policy, Asker::Planner, kind).is_err());
        policy.global.default_mode = Mode::Enforce;
        assert_eq!(
            mode(&policy, Asker::Executor, kind),
            Ok(ActionMode::Enforce)
        );
        assert_eq!(max_actions(Some(2), 1), Ok(()));
        assert_eq!(max_actions(Some(2), 2), Err(Hold::MaxActions { limit: 2 }));
        assert_eq!(max_actions(None, 100), Ok(()));
    }
}
