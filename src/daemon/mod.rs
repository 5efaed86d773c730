//! The daemon (`remediator run`): one reconciler task per org, full reconciles on the policy's
//! cron schedule, System Log polling in between, health and Prometheus metrics over HTTP,
//! graceful shutdown and policy reload on signals.
//!
//! The scheduling, polling, signal and metrics logic is written against two small traits,
//! [`Reconcile`] (one pass over an org) and [`LogPoll`] (one System Log poll), so it is tested
//! with fakes; [`OrgReconciler`] and [`SystemLogPoller`] are the real implementations over the
//! Okta client and the journal.

pub mod api;
mod api_approvals;
mod cache;
mod config;
mod health;
mod hooks;
mod http;
#[cfg(feature = "kubernetes")]
pub mod leader;
mod metrics;
mod reconciler;
mod requeue;
mod retention;
mod runner;
mod schedule;
mod signals;
mod status_page;
mod sweep;
mod syslog;

use std::collections::BTreeMap;
use std::future::Future;

use tokio_util::sync::CancellationToken;

use crate::journal::Outcome;
use crate::observe::{Incomplete, OrgUnreadable};
use crate::vocab::{ActionKind, FindingKind, RunId};

pub use cache::{SnapshotCache, MAX_BUFFERED_EVENTS, MAX_PENDING_TARGETS, MAX_SEEN_EVENTS};
pub use config::{
    CredentialError, DaemonConfig, LeaderElectionSetting, OrgConfig, OrgCredentials,
    DEFAULT_LISTEN, DEFAULT_ORG_NAME, LEADER_ELECTION_ENV, MAX_ORGS, MAX_ORG_NAME_LEN,
};
pub use health::Health;
pub use hooks::{
    HookSecretError, HOOK_SECRET_FILE_VAR, HOOK_SECRET_VAR, MAX_HOOK_BODY_BYTES,
    VERIFICATION_HEADER,
};
pub use http::{HttpError, METRICS_CONTENT_TYPE};
pub use metrics::{Metrics, OrgSample, SampleOrg, NAMESPACE};
pub use reconciler::OrgReconciler;
pub use requeue::{requeue_of, Requeue, MIN_REQUEUE_DELAY, WAITING_REASONS};
pub use runner::{run, DaemonError, OrgRuntime, PolicyHandle, Settings};
pub use schedule::{Clock, OrgLoop, SystemClock, TokioClock};
pub use signals::watch_signals;
pub use sweep::{SweepOutcome, SweepProgress, MAX_SWEEP_STEP};
pub use syslog::{SystemLogPoller, KPASSWD_FOLLOW_UP_WINDOW, MAX_POLL_PAGES};

/// Why a reconcile runs (the start-up run counts as the schedule's): `reconcile::Trigger`,
/// one notion for `apply` and the daemon. A run re-reads the org whatever its trigger.
pub use crate::reconcile::Trigger;

/// How a reconcile run ended, as a metric label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunResult {
    /// Observed completely; every action taken verified (or nothing to do).
    Ok,
    /// Something was left undone: an incomplete observation, or an action failed or was held.
    Partial,
    /// The run could not be carried out (the journal could not be written).
    Error,
}

impl RunResult {
    pub fn as_str(self) -> &'static str {
        match self {
            RunResult::Ok => "ok",
            RunResult::Partial => "partial",
            RunResult::Error => "error",
        }
    }
}

/// What one reconcile run saw and did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReconcileSummary {
    /// The run's id in the journal.
    pub run_id: RunId,
    /// The run observed the org (it read the org; a saved plan observes nothing). An org that
    /// could not be read at all is a [`ReconcileError`], not a summary.
    pub observed: bool,
    /// Every part of the observation was read.
    pub complete: bool,
    /// The parts of the observation that were not read, with why.
    pub incomplete: Vec<Incomplete>,
    /// Planned actions per kind.
    pub planned: BTreeMap<ActionKind, u32>,
    /// Findings per kind.
    pub findings: BTreeMap<FindingKind, u32>,
    /// Actions carried out: (kind, outcome) per action; empty when observe-only.
    pub actions: Vec<(ActionKind, Outcome)>,
    /// Some action failed, was compensated or was held.
    pub partial_failure: bool,
    /// The circuit breaker was open at the end of the run.
    pub breaker_open: bool,
    /// The follow-up pass the run's plan asks for (candidates that must wait), if any.
    pub requeue: Option<Requeue>,
}

impl ReconcileSummary {
    /// The run's result label.
    pub fn result(&self) -> RunResult {
        if self.complete && !self.partial_failure {
            RunResult::Ok
        } else {
            RunResult::Partial
        }
    }
}

/// Why a reconcile run could not be carried out: the org could not be read at all, or the
/// journal failed. Failures of single actions and parts of the org left unread are not
/// errors: they are in the summary.
#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    #[error("org {org}: reconcile pass failed")]
    Pass {
        org: String,
        #[source]
        source: crate::reconcile::ReconcileError,
    },
}

impl ReconcileError {
    /// Why the org could not be read at all, when that stopped the run.
    pub fn unreadable(&self) -> Option<&OrgUnreadable> {
        match self {
            ReconcileError::Pass {
                source: crate::reconcile::ReconcileError::Unreadable { source, .. },
                ..
            } => Some(source),
            ReconcileError::Pass { .. } => None,
        }
    }
}

/// One reconcile pass over one org: observe, plan, journal and (unless `observe_only`) act.
///
/// `shutdown` is cancelled on the first SIGTERM/SIGINT: an implementation finishes the step it
/// is in, journals it, and returns without starting another.
pub trait Reconcile: Send + Sync {
    fn reconcile(
        &self,
        trigger: Trigger,
        observe_only: bool,
        shutdown: &CancellationToken,
    ) -> impl Future<Output = Result<ReconcileSummary, ReconcileError>> + Send;
}

/// What one System Log poll found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PollOutcome {
    /// Events read in this poll.
    pub events: u64,
    /// The events that call for a reconcile now: `eventType` and uuid of each.
    pub triggers: Vec<(String, String)>,
}

/// Why a System Log poll failed.
#[derive(Debug, thiserror::Error)]
pub enum PollError {
    #[error("org {org}: System Log poll failed")]
    Api {
        org: String,
        #[source]
        source: Box<crate::okta::ApiError>,
    },
    #[error("org {org}: System Log cursor")]
    Journal {
        org: String,
        #[source]
        source: crate::journal::JournalError,
    },
}

impl PollError {
    /// The failed read, for an API failure (a cursor the journal could not keep is none).
    pub fn read_failure(&self) -> Option<crate::observe::ReadFailure> {
        match self {
            PollError::Api { source, .. } => Some(crate::observe::ReadFailure::from_api(
                crate::observe::requests::LIST_LOGS,
                source,
            )),
            PollError::Journal { .. } => None,
        }
    }
}

/// One poll of an org's System Log from the stored cursor.
pub trait LogPoll: Send + Sync {
    fn poll(&self) -> impl Future<Output = Result<PollOutcome, PollError>> + Send;
    /// Completes when a poll is due before its interval (an Event Hook delivered an event that
    /// calls for a pass); never, by default.
    fn woken(&self) -> impl Future<Output = ()> + Send {
        std::future::pending()
    }
    /// After a poll (and the pass it triggered): one step of the Group Push sweep spread
    /// between full scans, stopping between questions once `shutdown` is cancelled; `None`
    /// when nothing was asked (none, by default).
    fn sweep(
        &self,
        shutdown: &CancellationToken,
    ) -> impl Future<Output = Option<SweepOutcome>> + Send {
        let _ = shutdown;
        std::future::ready(None)
    }
}
