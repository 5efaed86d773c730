//! After a crash: every fix the journal holds as begun and not finished is either completed
//! (re-reading the org so no step is done twice) or compensated (provisioning an unfinished
//! remove-push-mappings enabled is disabled again), and then finished in the journal.

use chrono::{DateTime, Utc};

use crate::error_chain::ErrorChain;
use crate::journal::{EntryFilter, EntryKind, EntryKindTag, FixState, JournalStore, Outcome};
use crate::okta::{AdminApi, OrgApi, ProvisioningConnectionStatus};
use crate::plan::gate::{self, Asker};
use crate::plan::{Action, ActionKind, ActionMode, Step};
use crate::vocab::{ActionId, RunId};

use super::org::{connection_status, step_already_done, Polling};
use super::run::FixProgress;
use super::steps::step_name;
use super::{ActError, ActionReport, ExecuteOptions, Org, RunReport};

/// A fix begun longer ago than this is compensated rather than completed: the state it was
/// planned from is too old to trust.
pub const MAX_RESUME_AGE: chrono::Duration = chrono::Duration::hours(1);

/// Completes or compensates every unfinished fix in the journal, journaling under the
/// options' run.
pub async fn recover<O, A, J>(
    org: &Org<'_, O, A, J>,
    options: &ExecuteOptions,
) -> Result<RunReport, ActError>
where
    O: OrgApi,
    A: AdminApi,
    J: JournalStore + ?Sized,
{
    let (run_id, polling) = (&options.run_id, options.polling());
    let mut report = RunReport::new(run_id);
    let unfinished = org
        .journal
        .unfinished_fixes()
        .map_err(ActError::journal("recovery"))?;
    for state in unfinished {
        tracing::warn!(action = %state.action_id, kind = %state.action_kind, steps_done = state.steps_done.len(), "found an unfinished fix after a restart");
        report
            .actions
            .push(org.recover_fix(run_id, &state, polling).await?);
    }
    Ok(report)
}

impl<O, A, J> Org<'_, O, A, J>
where
    O: OrgApi,
    A: AdminApi,
    J: JournalStore + ?Sized,
{
    async fn recover_fix(
        &self,
        run_id: &RunId,
        state: &FixState,
        polling: Polling,
    ) -> Result<ActionReport, ActError> {
        let (action, started) = self.planned_action(&state.action_id)?;
        let Some(action) = action else {
            return self.compensate_unknown(run_id, state, &started).await;
        };
        let mut fix = FixProgress::from_state(state);
        fix.enable_started |= action.steps.iter().enumerate().any(|(i, step)| {
            matches!(step, Step::EnableProvisioning { .. })
                && started.contains(&super::run::step_number(i))
        });
        if let Some(why) = self.resume_refused(&action, state, &started, (self.clock)()) {
            return self
                .abandon(run_id, &action, &fix, &format!("not resumed: {why}"))
                .await;
        }
        self.run_fix(run_id, &action, fix, polling, Some(&started))
            .await
    }

    /// The action an intent recorded, and the steps begun for it.
    fn planned_action(&self, action_id: &ActionId) -> Result<(Option<Action>, Vec<u32>), ActError> {
        let entries = self
            .journal
            .list(&EntryFilter {
                action_id: Some(action_id.clone()),
                ..EntryFilter::default()
            })
            .map_err(ActError::journal(action_id.as_str()))?;
        // The same action id is planned again while the state it fixes is unchanged: only the
        // entries since the latest intent belong to the unfinished attempt.
        let latest = entries
            .iter()
            .rposition(|e| e.kind.tag() == EntryKindTag::Intent)
            .unwrap_or(0);
        let attempt = entries.get(latest..).unwrap_or_default();
        let action = attempt
            .first()
            .filter(|e| e.kind.tag() == EntryKindTag::Intent)
            .and_then(|e| serde_json::from_value(e.payload.get("action")?.clone()).ok());
        let started = attempt
            .iter()
            .filter_map(|e| match e.kind {
                EntryKind::StepStarted { step, .. } => Some(step),
                _ => None,
            })
            .collect();
        Ok((action, started))
    }

    /// Why a fix must be compensated instead of completed, if it must.
    fn resume_refused(
        &self,
        action: &Action,
        state: &FixState,
        started: &[u32],
        now: DateTime<Utc>,
    ) -> Option<String> {
        if let Some(failed) = state.steps_done.iter().find(|s| !s.ok) {
            return Some(format!(
                "step {} ({}) had failed before the restart",
                failed.step, failed.name
            ));
        }
        if started.contains(&compensation_step_number(action)) {
            return Some("its compensation had begun before the restart".to_owned());
        }
        if let Err(hold) = gate::mode(self.policy, Asker::Executor, action.kind) {
            return Some(format!("{} now", hold.detail()));
        }
        let age = now.signed_duration_since(state.started_at);
        if age > MAX_RESUME_AGE {
            return Some(format!(
                "begun at {}, more than {} minutes ago",
                state.started_at.to_rfc3339(),
                MAX_RESUME_AGE.num_minutes()
            ));
        }
        None
    }

    /// Whether a step not recorded as done shows in the org, or must not be repeated: the
    /// detail to journal, or `None` when it must be carried out.
    /// Err when the org cannot tell (its read failed) whether a begun step was done.
    pub(super) async fn found_done(
        &self,
        step: &Step,
        started: bool,
    ) -> Result<Option<String>, String> {
        let unobservable = matches!(
            step,
            Step::RetryTasks { .. } | Step::ForceSyncDirectory { .. }
        );
        if unobservable {
            return Ok(started.then(|| {
                "begun before a restart and not repeated: its effect cannot be read back; the \
                 verification decides"
                    .to_owned()
            }));
        }
        match step_already_done(self.api, step).await {
            Ok(true) => Ok(Some("found done in the org after a restart".to_owned())),
            Ok(false) => Ok(None),
            Err(error) if started => Err(format!("{}: {}", step_name(step), ErrorChain(&error))),
            // Never begun: carrying it out cannot repeat it.
            Err(_) => Ok(None),
        }
    }

    /// Undoes what a failed remove-push-mappings fix must not leave: provisioning enabled.
    /// The provisioning connection was disabled when the fix was planned (its precondition),
    /// so disabling it restores the state before the fix. Ok(what was done) or Err(why not).
    pub(super) async fn compensate(
        &self,
        run_id: &RunId,
        action: &Action,
        fix: &FixProgress,
    ) -> Result<Result<String, String>, ActError> {
        if !(fix.enable_started || fix.provisioning_enabled) {
            return Ok(Ok(
                "nothing to undo: this fix never began enabling provisioning".to_owned(),
            ));
        }
        let Some(app_id) = action.target.app_id.as_ref() else {
            return Ok(Ok("nothing to undo (no app)".to_owned()));
        };
        let status = match connection_status(self.api, app_id).await {
            Ok(status) => status,
            Err(error) => {
                let why = format!(
                    "provisioning of {app_id} unreadable: {}",
                    ErrorChain(&error)
                );
                return Ok(Err(why));
            }
        };
        if status == ProvisioningConnectionStatus::Disabled {
            return Ok(Ok(format!("provisioning of {app_id} is DISABLED")));
        }
        let step = Step::DisableProvisioning {
            app_id: app_id.clone(),
        };
        let number = compensation_step_number(action);
        let name = format!("compensate: {}", step_name(&step));
        let mut after = fix.clone();
        let done = self
            .take_step(run_id, action, &mut after, (number, &name), &step)
            .await?;
        Ok(done.map(|_| format!("provisioning of {app_id} disabled again")))
    }

    /// A fix whose intent holds no action (it cannot be completed): compensate from its target.
    /// A removal's first step is always enabling provisioning; for any other kind nothing is
    /// undone, nothing is guessed.
    async fn compensate_unknown(
        &self,
        run_id: &RunId,
        state: &FixState,
        started: &[u32],
    ) -> Result<ActionReport, ActError> {
        let action = Action {
            id: state.action_id.clone(),
            kind: state.action_kind,
            // Only enforce actions are begun.
            mode: ActionMode::Enforce,
            target: state.target.clone(),
            reason: "recovered from the journal without its plan".to_owned(),
            evidence: Vec::new(),
            steps: Vec::new(),
            preconditions: Vec::new(),
            approval: None,
        };
        let mut fix = FixProgress::from_state(state);
        let why = "not resumed: its intent does not hold the planned action";
        if state.action_kind != ActionKind::RemovePushMappings {
            let why = format!("{why}; nothing was undone (kind {})", state.action_kind);
            return self.finish(run_id, &action, Outcome::Failed, &why);
        }
        fix.enable_started |= started.contains(&1);
        self.abandon(run_id, &action, &fix, why).await
    }
}

/// Compensation steps are numbered after the plan's steps.
fn compensation_step_number(action: &Action) -> u32 {
    u32::try_from(action.steps.len() + 1).unwrap_or(u32::MAX)
}
