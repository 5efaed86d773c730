//! The executor: carries out a plan's actions against the org, one at a time, journaling the
//! intent before acting, every step before it is taken, the verification and the outcome; and
//! at the start of every apply, recovers the multi-step fixes a crash left unfinished.
//!
//! Actions run strictly one after another, so two actions never touch one target at once (the
//! planner also never plans two actions on one target, and an unfinished fix holds its target).

mod org;
mod recover;
mod run;
mod steps;

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::config::Env;
use crate::journal::{JournalError, Outcome, RunCounts, Target};
use crate::okta::{AdminPaths, ApiError, AppId};
use crate::plan::{Action, ActionKind, ActionMode, Plan, SkipReason};
use crate::policy::{CredentialError, Policy, RetryStrategy};
use crate::vocab::{ActionId, RunId};

pub use org::APP_USER_VERIFY_POLLS;
pub use recover::{recover, MAX_RESUME_AGE};
pub use run::{execute, not_carried_out};
pub use steps::{CRASH_HOOK_ENV, CRASH_HOOK_MARKER};

/// What the executor acts on and with: the org's API, its admin calls, the journal, the
/// policy, the clock every journal entry is stamped with, and the environment the credentials
/// policy names are read from.
pub struct Org<'a, O, A, J: ?Sized> {
    pub api: &'a O,
    pub admin: &'a A,
    pub journal: &'a J,
    pub policy: &'a Policy,
    pub clock: Clock<'a>,
    pub env: &'a dyn Env,
}

/// Default wait between two reads of an app user while verifying a re-push.
pub const DEFAULT_VERIFY_POLL_INTERVAL: Duration = Duration::from_secs(2);

/// The executor's clock: every journal entry is stamped with its reading.
pub type Clock<'a> = &'a (dyn Fn() -> DateTime<Utc> + Send + Sync);

/// How one execution runs.
#[derive(Debug, Clone)]
pub struct ExecuteOptions {
    /// The run every journal entry belongs to.
    pub run_id: RunId,
    /// Only actions of these kinds (empty: every kind); the others are left alone.
    pub only: Vec<ActionKind>,
    /// At most this many actions are taken in this execution; the rest are held.
    pub max_actions: Option<u32>,
    /// Wait between two reads of an app user while verifying (at most
    /// [`APP_USER_VERIFY_POLLS`] reads).
    pub verify_poll_interval: Duration,
}

impl ExecuteOptions {
    /// Every kind, no extra limit, the default polling.
    pub fn new(run_id: impl Into<RunId>) -> Self {
        ExecuteOptions {
            run_id: run_id.into(),
            only: Vec::new(),
            max_actions: None,
            verify_poll_interval: DEFAULT_VERIFY_POLL_INTERVAL,
        }
    }

    /// Whether an action of `kind` is carried out in this execution.
    pub fn selects(&self, kind: ActionKind) -> bool {
        self.only.is_empty() || self.only.contains(&kind)
    }

    /// The actions of `plan` this execution carries out, in plan order: selected, planned
    /// in `enforce` mode (their plan's `mode`, set by the planner from the rule's mode) and,
    /// where their rule requires approval, approved. The executor's gate checks the approval
    /// again against the journal as it is.
    pub fn carried_out<'p>(&self, plan: &'p Plan) -> Vec<&'p Action> {
        let mut actions = self.chosen(plan, ActionMode::Enforce);
        actions.retain(|a| a.approval.as_ref().is_none_or(|x| x.approved()));
        actions
    }

    /// The enforce actions of `plan` this execution selects that wait for a person's approval
    /// (not carried out; `crate::approvals` asks for them).
    pub fn awaiting_approval<'p>(&self, plan: &'p Plan) -> Vec<&'p Action> {
        let mut actions = self.chosen(plan, ActionMode::Enforce);
        actions.retain(|a| a.approval.as_ref().is_some_and(|x| !x.approved()));
        actions
    }

    /// The actions of `plan` this execution leaves as previews: selected, but planned in
    /// `preview` mode (their rule is in `dry-run` mode). They are neither carried out nor
    /// journaled as outcomes.
    pub fn previewed<'p>(&self, plan: &'p Plan) -> Vec<&'p Action> {
        self.chosen(plan, ActionMode::Preview)
    }

    fn chosen<'p>(&self, plan: &'p Plan, mode: ActionMode) -> Vec<&'p Action> {
        plan.actions
            .iter()
            .filter(|a| a.mode == mode && self.selects(a.kind))
            .collect()
    }

    pub(crate) fn polling(&self) -> org::Polling {
        org::Polling {
            app_user_interval: self.verify_poll_interval,
        }
    }
}

/// How one action (or one recovered fix) ended.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ActionReport {
    pub action_id: ActionId,
    pub kind: ActionKind,
    pub target: Target,
    pub outcome: Outcome,
    /// Why, in one sentence.
    pub reason: String,
    /// Why it was not taken, as a tag (the safety gate's check, a shutdown, ...), when the
    /// executor held it for one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub why: Option<SkipReason>,
    /// Whether the org was changed (the intent was journaled and steps were carried out).
    pub taken: bool,
}

/// What an execution (or a recovery) did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RunReport {
    pub run_id: RunId,
    pub actions: Vec<ActionReport>,
}

impl RunReport {
    /// A report of run `run_id` with no action yet.
    pub fn new(run_id: impl Into<RunId>) -> Self {
        RunReport {
            run_id: run_id.into(),
            actions: Vec::new(),
        }
    }

    /// The totals the journal's `RunFinished` entry records.
    pub fn counts(&self) -> RunCounts {
        let mut counts = RunCounts::default();
        for action in &self.actions {
            counts.taken += u32::from(action.taken);
            match action.outcome {
                Outcome::Verified => counts.verified += 1,
                Outcome::Failed => counts.failed += 1,
                Outcome::Held => counts.held += 1,
                Outcome::Skipped => counts.skipped += 1,
                Outcome::Compensated => counts.compensated += 1,
            }
        }
        counts
    }

    /// Whether some action failed, was compensated or was held.
    pub fn partial_failure(&self) -> bool {
        self.actions.iter().any(|a| {
            matches!(
                a.outcome,
                Outcome::Failed | Outcome::Held | Outcome::Compensated
            )
        })
    }
}

/// Why an execution stopped before its end. Failures of single actions are not errors: they
/// are outcomes in the report. Only a journal that cannot be written stops the executor, since
/// nothing may be done that is not journaled first.
#[derive(Debug, thiserror::Error)]
pub enum ActError {
    #[error("journal failure while carrying out {action}: nothing further was done")]
    Journal {
        action: String,
        #[source]
        source: JournalError,
    },
}

impl ActError {
    fn journal(action: &str) -> impl FnOnce(JournalError) -> ActError + '_ {
        move |source| ActError::Journal {
            action: action.to_owned(),
            source,
        }
    }
}

/// Why one step could not be carried out. Never holds a credential.
#[derive(Debug, thiserror::Error)]
pub(crate) enum StepError {
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error("credential unavailable")]
    Credential(#[from] CredentialError),
    #[error("policy names no credential for app {app_id} in [remove_push_mappings]")]
    NoCredential { app_id: AppId },
    /// The step failed before it wrote anything to the org.
    #[error(transparent)]
    NothingWritten(Box<StepError>),
    /// The calls were answered, but reading the org back does not show their effect.
    #[error("{done}; but {what}: the step did not take effect")]
    NotInEffect { what: String, done: String },
}

/// The non-public admin calls the executor may make under `policy`: each is off unless its
/// path is set, and Force Sync also needs `force_sync.use_admin_path`, the task retry the
/// `admin-task-retry` strategy.
pub fn admin_paths(policy: &Policy) -> AdminPaths {
    let task_retry = (policy.retry_provisioning.strategy == RetryStrategy::AdminTaskRetry)
        .then_some(policy.admin.task_retry_path.as_ref())
        .flatten();
    AdminPaths {
        force_sync: policy.force_sync_path().map(|p| p.as_str().to_owned()),
        retry_failed_tasks: task_retry.map(|p| p.as_str().to_owned()),
    }
}

/// The idempotency key of an action in a plan: its id and the plan's time.
pub(crate) fn idempotency_key(plan: &Plan, action_id: &ActionId) -> String {
    format!("{action_id}@{}", plan.generated_at.to_rfc3339())
}
