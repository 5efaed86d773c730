//! Carrying out a plan's actions in order: idempotency, the executor's gate, the precondition
//! re-check, the intent, each step, the verification and the outcome, each journaled before the
//! next thing is done.

use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

use crate::error_chain::{error_chain, ErrorChain};
use crate::journal::{
    redact_draft, redact_text, Effect, EntryDraft, EntryKind, FixState, JournalError, JournalStore,
    Outcome, StepOutcome,
};
use crate::okta::{AdminApi, OrgApi};
use crate::plan::gate::{self, Asker, Gate, Hold, Spent};
use crate::plan::{Action, ActionKind, NotCarriedOut, Plan, SkipReason, Step};
use crate::vocab::RunId;

use super::org::{stale_precondition, verification_details, verify, Polling, PreconditionReads};
use super::steps::{crash_hook, is_write, leaves_provisioning_enabled, run_step, step_name};
use super::{idempotency_key, ActError, ActionReport, ExecuteOptions, Org, RunReport, StepError};

/// Carries out `plan`'s actions one after another: those [`ExecuteOptions::carried_out`]
/// selects (of the kinds `options.only` names, planned in `enforce` mode); the others are left
/// alone and not reported (`preview` actions are shown, never carried out). Stops between
/// actions (never inside one) once `shutdown` is cancelled; the actions not reached are
/// reported as held. `progress` is called after each action.
pub async fn execute<O, A, J>(
    org: &Org<'_, O, A, J>,
    plan: &Plan,
    options: &ExecuteOptions,
    shutdown: &CancellationToken,
    progress: &(dyn Fn(&ActionReport) + Sync),
) -> Result<RunReport, ActError>
where
    O: OrgApi,
    A: AdminApi,
    J: JournalStore + ?Sized,
{
    let mut report = RunReport::new(&options.run_id);
    let mut taken = Spent::default();
    for action in options.carried_out(plan) {
        let done = if shutdown.is_cancelled() {
            let why = Some(SkipReason::Shutdown);
            org.not_taken(options, action, (Outcome::Held, why), "shutdown requested")?
        } else {
            org.carry_out(plan, action, options, &mut taken).await?
        };
        progress(&done);
        report.actions.push(done);
    }
    Ok(report)
}

/// Journals a saved plan's action that is not carried out and reports it: `held` with the
/// gate's tag when the current policy or journal holds it now, else `skipped` (it is not what
/// the current policy plans now).
pub fn not_carried_out<O, A, J>(
    org: &Org<'_, O, A, J>,
    options: &ExecuteOptions,
    refused: &NotCarriedOut,
) -> Result<ActionReport, ActError>
where
    O: OrgApi,
    A: AdminApi,
    J: JournalStore + ?Sized,
{
    let action = &refused.action;
    match refused.held {
        Some(tag) => org.not_taken(options, action, (Outcome::Held, Some(tag)), &refused.why),
        None => {
            let why = format!("not carried out from the saved plan: {}", refused.why);
            org.not_taken(options, action, (Outcome::Skipped, None), &why)
        }
    }
}

impl<O, A, J> Org<'_, O, A, J>
where
    O: OrgApi,
    A: AdminApi,
    J: JournalStore + ?Sized,
{
    async fn carry_out(
        &self,
        plan: &Plan,
        action: &Action,
        options: &ExecuteOptions,
        taken: &mut Spent,
    ) -> Result<ActionReport, ActError> {
        let id = action.id.as_str();
        let key = idempotency_key(plan, &action.id);
        if self.journal.seen(&key).map_err(ActError::journal(id))? {
            let why = "already carried out from this plan (its idempotency key is in the journal)";
            return self.not_taken(options, action, (Outcome::Skipped, None), why);
        }
        if let Some(why) = self.disallowed(action).await {
            let why = format!("the plan asks for what the policy does not allow: {why}");
            return self.not_taken(options, action, (Outcome::Skipped, None), &why);
        }
        let now = (self.clock)();
        let gate = self
            .gate(options, taken, action, now)
            .map_err(ActError::journal(id))?;
        if let Err(hold) = gate {
            let why = Some(hold.reason());
            return self.not_taken(options, action, (Outcome::Held, why), &hold.detail());
        }
        let mut reads = PreconditionReads::default();
        match stale_precondition(self.api, &action.preconditions, &mut reads).await {
            Ok(None) => {}
            Ok(Some(why)) => {
                let why = format!("the state it was planned from no longer holds: {why}");
                return self.not_taken(options, action, (Outcome::Skipped, None), &why);
            }
            Err(error) => {
                let why = format!(
                    "its preconditions could not be re-read: {}",
                    ErrorChain(&error)
                );
                let tag = Some(SkipReason::IncompleteRead);
                return self.not_taken(options, action, (Outcome::Held, tag), &why);
            }
        }
        self.begin(options, action, &key)?;
        taken.record(action.kind.rule());
        crash_hook(0);
        let fix = FixProgress {
            reads,
            ..FixProgress::default()
        };
        self.run_fix(&options.run_id, action, fix, options.polling(), None)
            .await
    }

    /// The safety gate, against the journal as it is now (the planner asked it against the
    /// journal as it was at planning time): `--max-actions`, the rule's mode, the circuit
    /// breaker, unfinished fixes, the cooldown, the approval, then the budgets with this run's actions as the
    /// journal counts them. The outer error is the journal's.
    fn gate(
        &self,
        options: &ExecuteOptions,
        taken: &Spent,
        action: &Action,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Result<(), Hold>, JournalError> {
        if let Err(hold) = gate::max_actions(options.max_actions, taken.run) {
            return Ok(Err(hold));
        }
        let view = self.journal.view(now)?;
        let gate = Gate::new(self.policy, &view, now);
        if let Err(hold) = gate.check(Asker::Executor, action.kind, &action.target) {
            return Ok(Err(hold));
        }
        if let Err(unapproved) = gate.approval(action) {
            return Ok(Err(Hold::Approval(unapproved)));
        }
        let spent = Spent {
            run: self.journal.run_action_count(&options.run_id)?,
            by_rule: taken.by_rule.clone(),
            last_hour: view.budget_last_hour.total,
        };
        Ok(gate.budgets(action.kind, &spent))
    }

    /// Why a (saved, possibly edited) plan's action must not be carried out as written: a
    /// removal must begin by enabling provisioning and end by disabling it, and may delete
    /// target groups only where policy says so.
    async fn disallowed(&self, action: &Action) -> Option<String> {
        if action.kind != ActionKind::RemovePushMappings {
            return None;
        }
        let writes: Vec<&Step> = action.steps.iter().filter(|s| is_write(s)).collect();
        let enables_first = matches!(writes.first(), Some(Step::EnableProvisioning { .. }));
        let disables_last = matches!(writes.last(), Some(Step::DisableProvisioning { .. }));
        if !enables_first || !disables_last {
            return Some("a removal must enable provisioning first and disable it last".to_owned());
        }
        let deletes_groups = writes.iter().any(|s| {
            matches!(
                s,
                Step::DeletePushMapping {
                    delete_target_group: true,
                    ..
                }
            )
        });
        if !deletes_groups {
            return None;
        }
        let app_id = action.target.app_id.as_deref().unwrap_or_default();
        let label = match self.api.get_app(&crate::okta::AppId::new(app_id)).await {
            Ok(app) => app.label,
            Err(error) => return Some(format!("app {app_id} unreadable: {}", ErrorChain(&error))),
        };
        let allowed = self
            .policy
            .remove_push_mappings
            .for_app(app_id, &label)
            .is_some_and(|removal| removal.delete_target_groups);
        (!allowed).then(|| format!("deleting target groups of {label} ({app_id})"))
    }

    /// Journals an action that is not taken (its outcome and, when held for one, the reason's
    /// tag), and reports it.
    pub(super) fn not_taken(
        &self,
        options: &ExecuteOptions,
        action: &Action,
        (outcome, tag): (Outcome, Option<SkipReason>),
        why: &str,
    ) -> Result<ActionReport, ActError> {
        let id = action.id.as_str();
        let kind = EntryKind::Outcome {
            outcome,
            reason: why.to_owned(),
            why: tag,
        };
        let draft = self
            .draft(&options.run_id, action, kind)
            .payload(json!({ "taken": false }));
        self.journal
            .append((self.clock)(), redact_draft(draft), &[])
            .map_err(ActError::journal(id))?;
        tracing::info!(action = id, kind = %action.kind, outcome = outcome.as_str(), why = tag.map(SkipReason::as_str), reason = %redact_text(why), "action not taken");
        Ok(ActionReport {
            why: tag,
            ..report(action, outcome, why, false)
        })
    }

    /// The intent, with the action itself as payload so a restart can finish it; written with
    /// the idempotency key, the attempt and the budget use in one transaction.
    fn begin(&self, options: &ExecuteOptions, action: &Action, key: &str) -> Result<(), ActError> {
        let id = action.id.as_str();
        let kind = action.kind;
        let evidence = serde_json::to_value(&action.evidence).unwrap_or(Value::Null);
        let intent = EntryKind::Intent {
            action_kind: kind,
            evidence,
            steps: action.steps.iter().map(step_name).collect(),
            idempotency_key: key.to_owned(),
        };
        let payload = json!({ "action": action, "reason": action.reason });
        let draft = self.draft(&options.run_id, action, intent).payload(payload);
        let mut effects = vec![
            Effect::MarkSeen {
                idempotency_key: key.to_owned(),
            },
            Effect::RecordAttempt { action_kind: kind },
            Effect::RecordAction { action_kind: kind },
        ];
        if self.policy.approval_required(kind.rule()) {
            // An approval is used once: a later attempt is asked for again.
            effects.push(Effect::RemoveApproval {
                id: action.id.clone(),
            });
        }
        self.journal
            .begin_fix((self.clock)(), redact_draft(draft), &effects)
            .map_err(ActError::journal(id))?;
        tracing::info!(action = id, kind = %action.kind, target = %action.target.key(), "intent journaled");
        Ok(())
    }

    /// Runs the steps of a begun fix that are not done yet, then verifies and finishes it; on
    /// a failed step, compensates where the fix left something that must be undone.
    ///
    /// `resumed` (after a restart) holds the steps that were started before the crash: each
    /// step not recorded as done is first looked for in the org, so none is done twice.
    pub(super) async fn run_fix(
        &self,
        run_id: &RunId,
        action: &Action,
        mut fix: FixProgress,
        polling: Polling,
        resumed: Option<&[u32]>,
    ) -> Result<ActionReport, ActError> {
        for (index, step) in action.steps.iter().enumerate() {
            let number = step_number(index);
            if !is_write(step) || fix.is_done(number) {
                continue;
            }
            if let Some(started) = resumed {
                let found = match self.found_done(step, started.contains(&number)).await {
                    Ok(found) => found,
                    Err(why) => {
                        let why = format!(
                            "not resumed: whether step {number} was done before the restart \
                             cannot be read ({why})"
                        );
                        return self.abandon(run_id, action, &fix, &why).await;
                    }
                };
                if let Some(detail) = found {
                    fix.mark_done(number, step);
                    self.finish_step(
                        run_id,
                        action,
                        &fix,
                        number,
                        &step_name(step),
                        true,
                        &detail,
                    )?;
                    continue;
                }
            }
            if let Err(why) = self
                .take_step(run_id, action, &mut fix, (number, &step_name(step)), step)
                .await?
            {
                let why = format!("step failed: {why}");
                return self.abandon(run_id, action, &fix, &why).await;
            }
        }
        self.verify_and_finish(run_id, action, &fix, polling).await
    }

    /// Carries out one step between its `StepStarted` and `StepFinished` entries. The outer
    /// error is the journal's; the inner one the step's (Ok: the API's answer). `name` is how
    /// the journal calls the step (a compensation's says so).
    pub(super) async fn take_step(
        &self,
        run_id: &RunId,
        action: &Action,
        fix: &mut FixProgress,
        (number, name): (u32, &str),
        step: &Step,
    ) -> Result<Result<String, String>, ActError> {
        let id = action.id.as_str();
        let started = EntryKind::StepStarted {
            step: number,
            name: name.to_owned(),
        };
        self.journal
            .append((self.clock)(), self.draft(run_id, action, started), &[])
            .map_err(ActError::journal(id))?;
        let enable_started = fix.enable_started;
        if matches!(step, Step::EnableProvisioning { .. }) {
            fix.enable_started = true;
        }
        let read = match step {
            Step::RepushAppUser { app_id, user_id } => fix.reads.take_app_user(app_id, user_id),
            _ => None,
        };
        let result = run_step(step, self.api, self.admin, self.policy, self.env, read).await;
        if matches!(result, Err(StepError::NothingWritten(_))) {
            // Nothing reached the org: compensation has nothing of this step to undo.
            fix.enable_started = enable_started;
        }
        crash_hook(number);
        let (ok, detail) = match &result {
            Ok(detail) => (true, detail.clone()),
            Err(error) => (false, error_chain(error)),
        };
        if ok {
            fix.mark_done(number, step);
        }
        self.finish_step(run_id, action, fix, number, name, ok, &detail)?;
        tracing::info!(action = id, step = number, name = %name, ok, detail = %redact_text(&detail), "step finished");
        Ok(if ok {
            Ok(detail)
        } else {
            Err(format!("{name}: {detail}"))
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn finish_step(
        &self,
        run_id: &RunId,
        action: &Action,
        fix: &FixProgress,
        number: u32,
        name: &str,
        ok: bool,
        detail: &str,
    ) -> Result<(), ActError> {
        let finished = EntryKind::StepFinished {
            step: number,
            name: name.to_owned(),
            outcome: StepOutcome {
                ok,
                detail: detail.to_owned(),
            },
        };
        self.journal
            .record_step(
                (self.clock)(),
                redact_draft(self.draft(run_id, action, finished)),
                fix.provisioning_enabled,
            )
            .map_err(ActError::journal(action.id.as_str()))?;
        Ok(())
    }

    /// Reads the postcondition back, journals the verification and finishes the fix.
    async fn verify_and_finish(
        &self,
        run_id: &RunId,
        action: &Action,
        fix: &FixProgress,
        polling: Polling,
    ) -> Result<ActionReport, ActError> {
        let id = action.id.as_str();
        let problems = match verify(self.api, self.policy, action, polling).await {
            Ok(problems) => problems,
            Err(error) => vec![format!(
                "the postcondition could not be read: {}",
                ErrorChain(&error)
            )],
        };
        let ok = problems.is_empty();
        let verification = EntryKind::Verification {
            ok,
            details: verification_details(action, &problems),
        };
        self.journal
            .append(
                (self.clock)(),
                redact_draft(self.draft(run_id, action, verification)),
                &[],
            )
            .map_err(ActError::journal(id))?;
        if ok {
            return self.finish(
                run_id,
                action,
                Outcome::Verified,
                "carried out and verified",
            );
        }
        let why = format!("carried out but did not verify: {}", problems.join("; "));
        // An unverified removal may have left provisioning enabled: undo that first.
        self.abandon(run_id, action, fix, &why).await
    }

    /// A step failed: undo what must not stay (provisioning enabled by this fix), then finish
    /// as compensated. When the undo fails too, the fix stays unfinished in the journal so the
    /// next start tries again.
    pub(super) async fn abandon(
        &self,
        run_id: &RunId,
        action: &Action,
        fix: &FixProgress,
        why: &str,
    ) -> Result<ActionReport, ActError> {
        if action.kind != ActionKind::RemovePushMappings {
            return self.finish(run_id, action, Outcome::Failed, why);
        }
        match self.compensate(run_id, action, fix).await? {
            Ok(done) => {
                let why = format!("{why}; compensated: {done}");
                self.finish(run_id, action, Outcome::Compensated, &why)
            }
            Err(error) => {
                let why = format!(
                    "{why}; compensation failed ({error}): the fix stays unfinished \
                     and is compensated on the next start"
                );
                tracing::error!(action = %action.id, "{}", redact_text(&why));
                Ok(report(action, Outcome::Failed, &why, true))
            }
        }
    }

    /// Journals the outcome and stops tracking the fix, with the cooldown, the breaker and
    /// (once verified) the reset attempts in the same transaction.
    pub(super) fn finish(
        &self,
        run_id: &RunId,
        action: &Action,
        outcome: Outcome,
        why: &str,
    ) -> Result<ActionReport, ActError> {
        let id = action.id.as_str();
        let now = (self.clock)();
        let effects = self
            .outcome_effects(action, outcome, now)
            .map_err(ActError::journal(id))?;
        let draft = self.draft(run_id, action, outcome_kind(outcome, why));
        self.journal
            .finish_fix(now, redact_draft(draft), &effects)
            .map_err(ActError::journal(id))?;
        tracing::info!(action = id, kind = %action.kind, outcome = outcome.as_str(), reason = %redact_text(why), "action finished");
        Ok(report(action, outcome, why, true))
    }

    fn outcome_effects(
        &self,
        action: &Action,
        outcome: Outcome,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<Effect>, JournalError> {
        let safety = &self.policy.safety;
        let cooldown = chrono::Duration::from_std(safety.cooldown).unwrap_or_default();
        let ok = outcome == Outcome::Verified;
        let mut effects = vec![
            Effect::SetCooldown {
                until: now + cooldown,
            },
            Effect::BreakerOutcome { ok },
        ];
        if ok {
            effects.push(Effect::ResetAttempts {
                action_kind: action.kind,
            });
            return Ok(effects);
        }
        let mut failed: Vec<bool> = self
            .journal
            .view(now)?
            .breaker
            .recent
            .iter()
            .map(|verified| !verified)
            .collect();
        failed.push(true);
        if safety.circuit_breaker.trips(&failed) {
            let open_for =
                chrono::Duration::from_std(safety.circuit_breaker.open_for).unwrap_or_default();
            tracing::warn!(until = %(now + open_for), "circuit breaker opens: too many recent fixes failed");
            effects.push(Effect::ResetBreaker);
            effects.push(Effect::OpenBreaker {
                until: now + open_for,
            });
        }
        Ok(effects)
    }

    fn draft(&self, run_id: &RunId, action: &Action, kind: EntryKind) -> EntryDraft {
        EntryDraft::new(run_id, kind)
            .action(action.id.clone())
            .target(action.target.clone())
    }
}

/// Which steps of a fix are done, and whether provisioning is left enabled by it.
#[derive(Debug, Clone, Default)]
pub(crate) struct FixProgress {
    done: Vec<u32>,
    /// Provisioning was enabled by this fix and not disabled again.
    pub provisioning_enabled: bool,
    /// This fix began enabling provisioning (whether or not that was recorded as done): only
    /// then may compensation disable it.
    pub enable_started: bool,
    /// What the precondition check read just before the fix began (none after a restart).
    pub reads: PreconditionReads,
}

impl FixProgress {
    /// The progress a journal's fix state records.
    pub fn from_state(state: &FixState) -> Self {
        FixProgress {
            done: state
                .steps_done
                .iter()
                .filter(|s| s.ok)
                .map(|s| s.step)
                .collect(),
            provisioning_enabled: state.compensation_needed,
            enable_started: state.compensation_needed,
            reads: PreconditionReads::default(),
        }
    }

    pub fn is_done(&self, number: u32) -> bool {
        self.done.contains(&number)
    }

    pub fn mark_done(&mut self, number: u32, step: &Step) {
        self.done.push(number);
        if let Some(enabled) = leaves_provisioning_enabled(step) {
            self.provisioning_enabled = enabled;
        }
    }
}

/// Steps are numbered from 1 in the order of the plan (0 is the intent).
pub(crate) fn step_number(index: usize) -> u32 {
    u32::try_from(index + 1).unwrap_or(u32::MAX)
}

fn outcome_kind(outcome: Outcome, why: &str) -> EntryKind {
    EntryKind::Outcome {
        outcome,
        reason: why.to_owned(),
        why: None,
    }
}

pub(super) fn report(action: &Action, outcome: Outcome, why: &str, taken: bool) -> ActionReport {
    ActionReport {
        action_id: action.id.clone(),
        kind: action.kind,
        target: action.target.clone(),
        outcome,
        reason: redact_text(why),
        why: None,
        taken,
    }
}
