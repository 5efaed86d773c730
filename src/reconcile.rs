//! One reconcile pass over an org: observe it, then plan against the policy and the journal's
//! view, and (unless observe-only) carry the plan out. The same observation and planning serve
//! `plan` (a preview, [`preview`]), `apply` and the daemon ([`run_pass`]), so a preview and a
//! run cannot disagree about what they saw.
//!
//! Three things are easily called "dry-run"; they have distinct names here: a rule in policy
//! mode `dry-run` plans its actions in `preview` mode (the plan's `mode`), shown and never
//! carried out; an *observe-only* pass (`remediator run --observe-only`, formerly `--dry-run`)
//! plans and journals but acts on nothing; and `remediator plan` is a *preview*: it observes
//! and plans and writes nothing, not even the journal.

use std::fmt;

use chrono::{DateTime, Utc};
use serde_json::json;
use tokio_util::sync::CancellationToken;

use crate::act::{self, ActError, ActionReport, ExecuteOptions, Org, RunReport};
use crate::journal::{
    redact_draft, redacted, EntryDraft, EntryKind, JournalError, JournalStore, JournalView,
    RunCounts,
};
use crate::observe::{observe_scoped, LogStart, Observation, OrgUnreadable, SweepScope};
use crate::okta::{AdminApi, OrgApi};
use crate::plan::{match_saved, plan, Action, ActionMode, Plan};
use crate::policy::Policy;
use crate::vocab::RunId;

/// What one pass saw and decided.
#[derive(Debug)]
pub struct Pass {
    pub observation: Observation,
    pub plan: Plan,
}

/// Observes `org` through `api` (System Log events from `policy.schedule.log_lookback` ago) and
/// plans. `now` is the caller's clock. An org that could not be read at all gives no plan.
pub async fn preview<O: OrgApi>(
    api: &O,
    org: &str,
    policy: &Policy,
    journal: &JournalView,
    now: DateTime<Utc>,
) -> Result<Pass, OrgUnreadable> {
    preview_scoped(api, org, policy, journal, now, &SweepScope::All).await
}

/// [`preview`], with the Group Push sweep asking only the apps `sweep` names.
async fn preview_scoped<O: OrgApi>(
    api: &O,
    org: &str,
    policy: &Policy,
    journal: &JournalView,
    now: DateTime<Utc>,
    sweep: &SweepScope,
) -> Result<Pass, OrgUnreadable> {
    let lookback = chrono::Duration::from_std(policy.schedule.log_lookback)
        .unwrap_or_else(|_| chrono::Duration::days(1));
    let start = LogStart::Since(now - lookback);
    let observation = observe_scoped(api, org, policy, start, now, sweep).await?;
    // Org data may hold token-like strings: every output of the plan (JSON, table, journal)
    // comes from here, redacted once.
    let plan = redacted(plan(policy, &observation.snapshot, journal, now));
    Ok(Pass { observation, plan })
}

/// Why a pass ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// The cron schedule.
    Timer,
    /// A relevant System Log event.
    SystemLog,
    /// A follow-up pass an earlier run asked for, when the wait of a candidate it held ends
    /// (the daemon's requeue-after).
    Requeue,
    /// A person (`apply`).
    Manual,
}

impl Trigger {
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::Timer => "timer",
            Trigger::SystemLog => "system_log",
            Trigger::Requeue => "requeue",
            Trigger::Manual => "manual",
        }
    }
}

impl fmt::Display for Trigger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a pass's plan comes from.
#[derive(Debug)]
pub enum PlanSource {
    /// Observe the org and plan now.
    Observe,
    /// A plan saved earlier (`plan --out`), untrusted: the org is observed and planned afresh
    /// under the current policy, and only the saved actions the fresh plan holds identically
    /// (same id, so the same state; same kind, mode, target, steps and preconditions) are
    /// carried out; the others are journaled and reported as `skipped` with the reason.
    Saved(Box<Plan>),
    /// An observation the caller made (the daemon's cached snapshot, patched by targeted
    /// reads), planned as it is; when recovery completed or compensated a fix first, the org is
    /// observed afresh instead, so the plan sees the org as recovery left it.
    Observed(Box<Observation>),
}

/// How a pass runs.
#[derive(Debug, Clone)]
pub struct PassSettings {
    pub trigger: Trigger,
    /// Observe-only: plan and journal the plan; act on nothing (and recover nothing).
    pub observe_only: bool,
    /// The executor's options; its `run_id` is replaced by the pass's own.
    pub execute: ExecuteOptions,
    /// Which apps a full observation's Group Push sweep asks (every candidate, but for the
    /// daemon, which spreads the sweep between its full scans).
    pub sweep: SweepScope,
}

/// What a pass did.
#[derive(Debug)]
pub struct PassReport {
    pub run_id: RunId,
    /// The plan carried out (or, observe-only, journaled).
    pub plan: Plan,
    /// The observation (a saved plan is matched against a plan made from it), when the pass
    /// observed the org.
    pub observation: Option<Observation>,
    /// Unfinished fixes from an earlier crash, completed or compensated first.
    pub recovered: RunReport,
    /// The plan's actions.
    pub executed: RunReport,
    /// The plan was not carried out: [`PassProgress::approve`] said no.
    pub declined: bool,
    /// The totals journaled with `RunFinished`.
    pub counts: RunCounts,
    /// The findings opened, changed and resolved by this pass.
    pub findings: crate::findings::Tracked,
    /// The approvals this pass asked for and the requests it withdrew.
    pub approvals: crate::approvals::Tracked,
}

impl PassReport {
    /// Whether some action failed, was held or had to be compensated (exit code 3).
    pub fn partial_failure(&self) -> bool {
        self.recovered.partial_failure() || self.executed.partial_failure()
    }
}

/// What a pass reports while it runs (progress bars, readiness, logs), and the one question it
/// asks: whether to carry the plan out.
pub trait PassProgress: Sync {
    /// The org was observed, before the plan is made and carried out.
    fn observed(&self, _observation: &Observation) {}
    /// The plan is made (after recovery) and journaled: whether to carry out `actions`, the
    /// ones the executor would take (`apply` asks on a terminal). Default: yes.
    fn approve(&self, _plan: &Plan, _actions: &[&Action]) -> bool {
        true
    }
    /// An action (or a recovered fix) ended.
    fn action_done(&self, _report: &ActionReport) {}
}

/// Nothing to report to.
pub struct NoProgress;

impl PassProgress for NoProgress {}

/// Why a pass stopped: the journal (nothing may be done unjournaled), a saved plan for another
/// org, or an org that could not be read at all (journaled as a failed run); failed actions are
/// outcomes in the report.
#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    /// The org could not be read at all: nothing was planned; `RunFinished` says why.
    #[error("run {run_id} stopped")]
    Unreadable {
        run_id: RunId,
        #[source]
        source: OrgUnreadable,
    },
    #[error("journal failure in run {run_id}")]
    Journal {
        run_id: RunId,
        #[source]
        source: JournalError,
    },
    #[error(transparent)]
    Act(#[from] ActError),
    #[error("the saved plan is for {plan_org}, not for the configured org {org}")]
    OtherOrg { plan_org: String, org: String },
}

/// One pass: `RunStarted`, recovery of unfinished fixes, the plan (observed or saved) journaled
/// as `PlanRecorded`, the approval, its execution, `RunFinished` with the totals. Stops between
/// actions once `shutdown` is cancelled.
///
/// This is the one place fixes a crash left unfinished are recovered, for `apply` and the
/// daemon alike: before the org is observed and planned, so the plan sees the org as recovery
/// left it and no recovered target is held as busy.
pub async fn run_pass<O, A, J>(
    org: &Org<'_, O, A, J>,
    org_url: &str,
    source: PlanSource,
    settings: &PassSettings,
    shutdown: &CancellationToken,
    progress: &dyn PassProgress,
) -> Result<PassReport, ReconcileError>
where
    O: OrgApi,
    A: AdminApi,
    J: JournalStore + ?Sized,
{
    if let PlanSource::Saved(plan) = &source {
        if plan.org.trim_end_matches('/') != org_url.trim_end_matches('/') {
            return Err(ReconcileError::OtherOrg {
                plan_org: plan.org.clone(),
                org: org_url.to_owned(),
            });
        }
    }
    let run_id = new_run_id((org.clock)());
    // Never act from a journal whose state cannot be read: attempts, cooldowns, budgets and
    // unfinished fixes are what keep a pass safe.
    org.journal
        .check_usable()
        .map_err(|source| ReconcileError::Journal {
            run_id: run_id.clone(),
            source,
        })?;
    let options = ExecuteOptions {
        run_id: run_id.clone(),
        ..settings.execute.clone()
    };
    let journal_error = |source| ReconcileError::Journal {
        run_id: run_id.clone(),
        source,
    };
    let started = EntryKind::RunStarted {
        trigger: settings.trigger.as_str().to_owned(),
        observe_only: settings.observe_only,
    };
    let draft = EntryDraft::new(run_id.clone(), started).payload(json!({ "org": org_url }));
    org.journal
        .append((org.clock)(), draft, &[])
        .map_err(journal_error)?;
    let recovered = if settings.observe_only {
        RunReport::default()
    } else {
        act::recover(org, &options).await?
    };
    let now = (org.clock)();
    let view = org.journal.view(now).map_err(journal_error)?;
    let observed = match source {
        PlanSource::Observed(observation) if recovered.actions.is_empty() => Ok(*observation),
        _ => Err(source),
    };
    let (pass, source) = match observed {
        Ok(observation) => {
            let plan = redacted(plan(org.policy, &observation.snapshot, &view, now));
            (Ok(Pass { observation, plan }), PlanSource::Observe)
        }
        Err(PlanSource::Observed(_)) => (
            preview_scoped(org.api, org_url, org.policy, &view, now, &settings.sweep).await,
            PlanSource::Observe,
        ),
        Err(source) => (
            preview_scoped(org.api, org_url, org.policy, &view, now, &settings.sweep).await,
            source,
        ),
    };
    let pass = match pass {
        Ok(pass) => pass,
        Err(unreadable) => {
            let finished = EntryKind::RunFinished {
                counts: recovered.counts(),
                error: Some(unreadable.to_string()),
                incomplete: Vec::new(),
            };
            org.journal
                .append(
                    (org.clock)(),
                    EntryDraft::new(run_id.clone(), finished),
                    &[],
                )
                .map_err(journal_error)?;
            return Err(ReconcileError::Unreadable {
                run_id,
                source: unreadable,
            });
        }
    };
    progress.observed(&pass.observation);
    let observed = matches!(source, PlanSource::Observe);
    let (plan, refused) = match source {
        PlanSource::Observe | PlanSource::Observed(_) => (pass.plan, Vec::new()),
        PlanSource::Saved(saved) => match_saved(*saved, pass.plan, org.policy),
    };
    let observation = Some(pass.observation);
    record_plan(org, &run_id, &plan).map_err(journal_error)?;
    let findings = crate::findings::track(org.journal, &run_id, &plan, (org.clock)())
        .map_err(journal_error)?;
    let approvals = if settings.observe_only {
        crate::approvals::Tracked::default()
    } else {
        crate::approvals::track(
            org.journal,
            &run_id,
            &plan,
            org.policy,
            observed,
            (org.clock)(),
        )
        .map_err(journal_error)?
    };
    let declined = !settings.observe_only && !progress.approve(&plan, &options.carried_out(&plan));
    if declined {
        let note = EntryKind::Note {
            text: "the plan was not carried out: declined at the confirmation".to_owned(),
        };
        org.journal
            .append((org.clock)(), EntryDraft::new(run_id.clone(), note), &[])
            .map_err(journal_error)?;
    }
    let executed = if settings.observe_only || declined {
        RunReport::new(run_id.clone())
    } else {
        let mut report = RunReport::new(run_id.clone());
        for refusal in refused
            .iter()
            .filter(|r| r.action.mode == ActionMode::Enforce && options.selects(r.action.kind))
        {
            let done = act::not_carried_out(org, &options, refusal)?;
            progress.action_done(&done);
            report.actions.push(done);
        }
        let carried = act::execute(org, &plan, &options, shutdown, &|done| {
            progress.action_done(done)
        })
        .await?;
        report.actions.extend(carried.actions);
        report
    };
    let mut counts = recovered.counts();
    counts.add(&executed.counts());
    counts.findings = u32::try_from(plan.findings.len()).unwrap_or(u32::MAX);
    let finished = EntryKind::RunFinished {
        counts,
        error: None,
        incomplete: plan.incomplete.iter().map(|i| i.part.clone()).collect(),
    };
    let finished = EntryDraft::new(run_id.clone(), finished);
    org.journal
        .append((org.clock)(), finished, &[])
        .map_err(journal_error)?;
    Ok(PassReport {
        run_id,
        plan,
        observation,
        recovered,
        executed,
        declined,
        counts,
        findings,
        approvals,
    })
}

fn record_plan<O, A, J: JournalStore + ?Sized>(
    org: &Org<'_, O, A, J>,
    run_id: &RunId,
    plan: &Plan,
) -> Result<(), JournalError> {
    let mut summary = format!(
        "{} action(s), {} finding(s), {} skipped",
        plan.actions.len(),
        plan.findings.len(),
        plan.skipped.len(),
    );
    if !plan.incomplete.is_empty() {
        let parts: Vec<String> = plan.incomplete.iter().map(|i| i.part.to_string()).collect();
        summary.push_str(&format!(" (incomplete read: {})", parts.join(", ")));
    } else if !plan.complete {
        summary.push_str(" (incomplete observation)");
    }
    let value = serde_json::to_value(plan).unwrap_or_default();
    let kind = EntryKind::PlanRecorded {
        summary,
        plan: value,
    };
    org.journal.append(
        (org.clock)(),
        redact_draft(EntryDraft::new(run_id.clone(), kind)),
        &[],
    )?;
    Ok(())
}

/// A time-ordered, unique run id: `run-20261123T114500Z-1a2b3c4d`.
fn new_run_id(now: DateTime<Utc>) -> RunId {
    let random = uuid::Uuid::new_v4().simple().to_string();
    RunId::new(format!(
        "run-{}-{}",
        now.format("%Y%m%dT%H%M%SZ"),
        &random[..8]
    ))
}
