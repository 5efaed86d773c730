//! The executor's own safety gate: the planner decided against the journal as it was at
//! planning time; the executor checks again against the journal as it is when the action is
//! about to be taken (--max-actions, circuit breaker, unfinished fixes, cooldown,
//! budgets per run, per hour and per kind).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::journal::{JournalError, JournalStore};
use crate::plan::{Action, ActionKind};
use crate::policy::{Policy, RuleKind};

use super::ExecuteOptions;

/// The policy rule whose mode and budget govern an action kind.
pub(crate) fn rule_of(kind: ActionKind) -> RuleKind {
    match kind {
        ActionKind::RetryProvisioning => RuleKind::RetryProvisioning,
        ActionKind::ForceSync => RuleKind::ForceSync,
        ActionKind::RemovePushMappings => RuleKind::RemovePushMappings,
        ActionKind::FixProvisioningFeatures => RuleKind::ProvisioningFeatures,
    }
}

/// Counts the actions this execution has taken.
#[derive(Debug, Default)]
pub(crate) struct Taken {
    total: u32,
    by_kind: BTreeMap<ActionKind, u32>,
}

impl Taken {
    pub fn record(&mut self, kind: ActionKind) {
        self.total += 1;
        *self.by_kind.entry(kind).or_default() += 1;
    }
}

/// Why `action` must be held now, or `None` when it may be taken. (Only actions of rules in
/// `enforce` mode get here: `execute` leaves the others as previews.)
pub(crate) fn hold_reason<J: JournalStore + ?Sized>(
    journal: &J,
    policy: &Policy,
    options: &ExecuteOptions,
    taken: &Taken,
    action: &Action,
    now: DateTime<Utc>,
) -> Result<Option<String>, JournalError> {
    let rule = rule_of(action.kind);
    if let Some(max) = options.max_actions.filter(|max| taken.total >= *max) {
        return Ok(Some(format!("--max-actions {max} reached")));
    }
    let view = journal.view(now)?;
    if view.breaker_open() {
        let until = view.breaker.open_until.map(|t| t.to_rfc3339());
        return Ok(Some(format!(
            "circuit breaker open until {}",
            until.unwrap_or_default()
        )));
    }
    if let Some(fix) = view
        .unfinished_fixes
        .iter()
        .find(|f| f.target.overlaps(&action.target))
    {
        return Ok(Some(format!(
            "target busy: unfinished {} fix {}",
            fix.action_kind, fix.action_id
        )));
    }
    if let Some(until) = view.cooldown_until(&action.target).filter(|u| *u > now) {
        return Ok(Some(format!("cooldown until {}", until.to_rfc3339())));
    }
    let safety = &policy.safety;
    let kind_taken = taken.by_kind.get(&action.kind).copied().unwrap_or(0);
    let kind_limit = safety.max_actions_for_kind(rule);
    if kind_taken >= kind_limit {
        return Ok(Some(format!(
            "budget: max_actions_per_kind_per_run.{} = {kind_limit} reached in this run",
            rule.key()
        )));
    }
    let run_taken = journal.run_action_count(&options.run_id)?;
    if run_taken >= safety.max_actions_per_run {
        return Ok(Some(format!(
            "budget: max_actions_per_run = {} reached in this run",
            safety.max_actions_per_run
        )));
    }
    if view.budget_last_hour.total >= safety.max_actions_per_hour {
        return Ok(Some(format!(
            "budget: max_actions_per_hour = {} reached ({} taken in the last hour)",
            safety.max_actions_per_hour, view.budget_last_hour.total
        )));
    }
    Ok(None)
}
