//! [`OrgReconciler`]: the real [`Reconcile`] over the Okta client and the org's journal, one
//! `reconcile::run_pass` per run, the code path `remediator apply` takes: `RunStarted` (trigger,
//! observe-only), recovery of fixes a crash left unfinished, observe and plan, `PlanRecorded`,
//! the executor unless observe-only (stopping between actions once the shutdown token is
//! cancelled), `RunFinished` with the totals.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::Utc;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::cache::{Acted, SnapshotCache};
use super::requeue::requeue_of;
use super::Requeue;
use super::{Health, Reconcile, ReconcileError, ReconcileSummary, Trigger};
use crate::act::{ActionReport, ExecuteOptions, Org};
use crate::config::{Env, ProcessEnv};
use crate::journal::{EntryDraft, EntryKind, JournalError, JournalStore};
use crate::notify::OrgNotifier;
use crate::observe::{merge_events, patch, Freshness, Observation, PartId, SweepScope};
use crate::okta::{AdminApi, OrgApi};
use crate::policy::Policy;
use crate::reconcile::{run_pass, PassProgress, PassReport, PassSettings, PlanSource};
use crate::vocab::{FindingKind, RunId};

/// One org's reconciler.
pub struct OrgReconciler<O, J: ?Sized> {
    org: String,
    /// The org URL as plans name it (no trailing slash).
    org_url: String,
    api: Arc<O>,
    journal: Arc<J>,
    policy: watch::Receiver<Arc<Policy>>,
    /// Told as soon as an observation ends, before the plan is carried out (a run may act for
    /// minutes; readiness must not wait for it).
    health: Option<Arc<Health>>,
    /// Where the credentials policy names are read from (default: the process environment).
    env: Arc<dyn Env>,
    /// Told what each run did (events read from the journal), when sinks are configured.
    notifier: Option<OrgNotifier>,
    /// The org's cached snapshot: event-triggered and follow-up passes patch it with targeted
    /// reads instead of reading the whole org (none: every pass reads the whole org).
    cache: Option<Arc<SnapshotCache>>,
}

impl<O, J: ?Sized> OrgReconciler<O, J> {
    pub fn new(
        org: &str,
        org_url: &url::Url,
        api: Arc<O>,
        journal: Arc<J>,
        policy: watch::Receiver<Arc<Policy>>,
    ) -> Self {
        OrgReconciler {
            org: org.to_owned(),
            org_url: org_url.as_str().trim_end_matches('/').to_owned(),
            api,
            journal,
            policy,
            health: None,
            env: Arc::new(ProcessEnv),
            notifier: None,
            cache: None,
        }
    }

    /// Queues the notifications of each run (never waiting for a receiver).
    pub fn with_notifier(mut self, notifier: OrgNotifier) -> Self {
        self.notifier = Some(notifier);
        self
    }

    /// Keeps the org's snapshot in `cache` and patches it for event-triggered and follow-up
    /// passes.
    pub fn with_cache(mut self, cache: Arc<SnapshotCache>) -> Self {
        self.cache = Some(cache);
        self
    }

    /// Reads the credentials policy names through `env`.
    pub fn with_env(mut self, env: Arc<dyn Env>) -> Self {
        self.env = env;
        self
    }

    /// Reports each observation to `health` as soon as it ends.
    pub fn with_health(mut self, health: Arc<Health>) -> Self {
        self.health = Some(health);
        self
    }
}

/// A run's progress: readiness after the observation, a log line per action.
struct RunProgress<'a> {
    org: &'a str,
    health: Option<&'a Health>,
}

impl PassProgress for RunProgress<'_> {
    fn observed(&self, _observation: &Observation) {
        if let Some(health) = self.health {
            health.observed(self.org);
        }
    }

    fn action_done(&self, done: &ActionReport) {
        log_action(done);
    }
}

fn per_kind<K: Ord>(kinds: impl Iterator<Item = K>) -> BTreeMap<K, u32> {
    let mut counts = BTreeMap::new();
    for kind in kinds {
        *counts.entry(kind).or_insert(0) += 1;
    }
    counts
}

/// Logs each action as the executor finishes it.
fn log_action(done: &ActionReport) {
    tracing::info!(
        action_id = %done.action_id,
        kind = %done.kind,
        target = %done.target.key(),
        outcome = done.outcome.as_str(),
        taken = done.taken,
        reason = %done.reason,
        "action finished"
    );
}

impl<O, J: ?Sized> OrgReconciler<O, J> {
    fn summary(&self, report: PassReport, observed: bool, breaker_open: bool) -> ReconcileSummary {
        let plan = &report.plan;
        let partial_failure = report.partial_failure();
        let actions = report
            .recovered
            .actions
            .iter()
            .chain(&report.executed.actions)
            .map(|a| (a.kind, a.outcome))
            .collect();
        ReconcileSummary {
            run_id: report.run_id,
            observed,
            complete: plan.complete,
            incomplete: plan.incomplete.clone(),
            planned: per_kind(plan.actions.iter().map(|a| a.kind)),
            findings: per_kind(plan.findings.iter().map(|f| f.kind)),
            actions,
            partial_failure,
            breaker_open,
            requeue: requeue_of(plan),
        }
    }
}

impl<O: OrgApi + AdminApi, J: JournalStore + ?Sized> Reconcile for OrgReconciler<O, J> {
    async fn reconcile(
        &self,
        trigger: Trigger,
        observe_only: bool,
        shutdown: &CancellationToken,
    ) -> Result<ReconcileSummary, ReconcileError> {
        let policy = self.policy.borrow().clone();
        let clock = Utc::now;
        let org = Org {
            api: self.api.as_ref(),
            admin: self.api.as_ref(),
            journal: self.journal.as_ref(),
            policy: &policy,
            clock: &clock,
            env: self.env.as_ref(),
        };
        let settings = PassSettings {
            trigger,
            observe_only,
            // run_pass replaces the run id with its own.
            execute: ExecuteOptions::new(""),
            sweep: SweepScope::All,
        };
        let before = self
            .notifier
            .as_ref()
            .map(|n| n.before(self.journal.as_ref(), Utc::now()));

        let source = match self.incremental(trigger, &policy).await {
            Some(observation) => PlanSource::Observed(Box::new(observation)),
            None => PlanSource::Observe,
        };
        // An incremental pass observes the whole org only when recovery acted first (rare):
        // its sweep then asks every candidate.
        let settings = match source {
            PlanSource::Observe => PassSettings {
                sweep: self.scan_sweep(),
                ..settings
            },
            _ => settings,
        };
        let report = run_pass(
            &org,
            &self.org_url,
            source,
            &settings,
            shutdown,
            &RunProgress {
                org: &self.org,
                health: self.health.as_deref(),
            },
        )
        .await;
        if let (Some(notifier), Some(before)) = (&self.notifier, &before) {
            if let Some(run_id) = pass_run_id(&report) {
                notifier.after(self.journal.as_ref(), run_id, before, Utc::now());
            }
        }
        let mut report = report.map_err(|source| ReconcileError::Pass {
            org: self.org.clone(),
            source,
        })?;
        for w in &report.plan.warnings {
            tracing::warn!(org = %self.org, selector = %w.selector, at = %w.location, "policy selector {}", w.message);
        }
        let breaker_open = self
            .journal
            .view(Utc::now())
            .map(|v| v.breaker_open())
            .unwrap_or(false);
        let observation = report.observation.take();
        let observed = observation.is_some();
        if let (Some(cache), Some(observation)) = (&self.cache, observation) {
            let acted: Vec<Acted> = report
                .recovered
                .actions
                .iter()
                .chain(&report.executed.actions)
                .filter(|a| a.taken)
                .map(|a| (a.kind, a.outcome, a.target.clone()))
                .collect();
            cache.record_scan_sweep(&observation.swept, &observation.snapshot);
            cache.store(observation.snapshot, &report.plan, &acted);
        }
        let summary = self.summary(report, observed, breaker_open);
        if let Some(requeue) = &summary.requeue {
            self.journal_requeue(&summary.run_id, requeue)
                .map_err(|source| ReconcileError::Pass {
                    org: self.org.clone(),
                    source: crate::reconcile::ReconcileError::Journal {
                        run_id: summary.run_id.clone(),
                        source,
                    },
                })?;
        }
        Ok(summary)
    }
}

/// The run a pass journaled, whether it ended well or not.
fn pass_run_id(report: &Result<PassReport, crate::reconcile::ReconcileError>) -> Option<&RunId> {
    use crate::reconcile::ReconcileError as E;
    match report {
        Ok(report) => Some(&report.run_id),
        Err(E::Unreadable { run_id, .. } | E::Journal { run_id, .. }) => Some(run_id),
        Err(E::Act(_) | E::OtherOrg { .. }) => None,
    }
}

impl<O, J: JournalStore + ?Sized> OrgReconciler<O, J> {
    /// Which apps a full scan's Group Push sweep asks: with a cache, the daemon spreads the
    /// sweep between its full scans (`daemon::sweep`), and a full scan asks only the apps
    /// known to have an ACTIVE mapping and those of the open orphaned-mapping findings (so a
    /// restarted daemon checks them again before anything resolves them).
    fn scan_sweep(&self) -> SweepScope {
        let Some(cache) = self.cache.as_ref().filter(|c| c.sweep_spread()) else {
            return SweepScope::All;
        };
        let open = match self.journal.open_findings() {
            Ok(open) => open,
            Err(e) => {
                tracing::warn!(org = %self.org, error = %crate::error_chain::error_chain(&e), "open findings unreadable: the full scan's Group Push sweep asks every app");
                return SweepScope::All;
            }
        };
        let orphaned = open
            .into_iter()
            .filter(|f| {
                matches!(
                    f.kind,
                    FindingKind::PushMappingsOrphaned
                        | FindingKind::PushMappingsOrphanedNoCredential
                )
            })
            .filter_map(|f| f.target.app_id)
            .collect();
        cache.scan_sweep(orphaned)
    }

    /// Journals the follow-up pass the run asks for (`requeue_scheduled`).
    fn journal_requeue(&self, run_id: &RunId, requeue: &Requeue) -> Result<(), JournalError> {
        let kind = EntryKind::RequeueScheduled {
            retry_at: requeue.at,
            waiting: requeue.waiting.clone(),
        };
        self.journal
            .append(Utc::now(), EntryDraft::new(run_id.clone(), kind), &[])?;
        Ok(())
    }
}

impl<O: OrgApi, J: ?Sized> OrgReconciler<O, J> {
    /// The observation of an event-triggered or follow-up pass: the cached snapshot with the
    /// events taken since and each waiting target re-read once. `None`: the pass reads the whole
    /// org (a full run, no cache, nothing cached yet, or more waited than the cache keeps).
    async fn incremental(&self, trigger: Trigger, policy: &Policy) -> Option<Observation> {
        let cache = self.cache.as_ref()?;
        let requeue = match trigger {
            Trigger::SystemLog => false,
            Trigger::Requeue => true,
            Trigger::Timer | Trigger::Manual => {
                cache.begin_scan();
                return None;
            }
        };
        let Some(work) = cache.take_work(requeue, Utc::now()) else {
            cache.begin_scan();
            return None;
        };
        let now = Utc::now();
        let lookback = chrono::Duration::from_std(policy.schedule.log_lookback)
            .unwrap_or_else(|_| chrono::Duration::days(1));
        let mut snapshot = work.snapshot;
        if !work.events.is_empty() {
            merge_events(&mut snapshot, work.events, now - lookback);
            snapshot
                .freshness
                .insert(PartId::SystemLog, Freshness::Patched { at: now });
        }
        let mut requests = 0;
        for target in &work.targets {
            let done = patch(self.api.as_ref(), policy, &mut snapshot, target, now).await;
            requests += done.requests;
            for part in &done.stale {
                tracing::warn!(org = %self.org, %part, "targeted re-read failed: the part is stale and what depends on it is withheld");
            }
        }
        tracing::info!(org = %self.org, %trigger, targets = work.targets.len(), requests, "cached snapshot patched by targeted reads");
        Some(Observation {
            snapshot,
            log_next: None,
            requests,
            swept: Default::default(),
        })
    }
}
