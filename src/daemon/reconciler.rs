//! [`OrgReconciler`]: the real [`Reconcile`] over the Okta client and the org's journal. A run
//! journals `RunStarted` (trigger, dry-run), observes and plans (`reconcile::preview`, the code
//! path `remediator plan` uses), journals `PlanRecorded`, acts unless in dry-run, and journals
//! `RunFinished` with the run's counts, also when acting failed.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::Utc;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::{Reconcile, ReconcileError, ReconcileSummary, Trigger};
use crate::journal::{EntryDraft, EntryKind, JournalStore, RunCounts};
use crate::okta::OrgApi;
use crate::plan::Plan;
use crate::policy::Policy;
use crate::reconcile::preview;

/// Why a run that is not a dry-run cannot act in this build.
pub const ACT_UNAVAILABLE: &str =
    "apply mode needs the executor, which this build does not have yet: run with --dry-run";

/// One org's reconciler.
pub struct OrgReconciler<O, J: ?Sized> {
    org: String,
    /// The org URL as plans name it (no trailing slash).
    org_url: String,
    api: Arc<O>,
    journal: Arc<J>,
    policy: watch::Receiver<Arc<Policy>>,
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
        }
    }
}

/// What acting on a plan did.
#[derive(Debug, Default)]
struct Acted {
    actions: Vec<(String, String)>,
    counts: RunCounts,
    partial_failure: bool,
}

fn kind_name<T: serde::Serialize>(kind: &T) -> String {
    serde_json::to_value(kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| "unknown".to_owned())
}

fn per_kind<'a>(kinds: impl Iterator<Item = String> + 'a) -> BTreeMap<String, u32> {
    let mut counts = BTreeMap::new();
    for kind in kinds {
        *counts.entry(kind).or_insert(0) += 1;
    }
    counts
}

/// The one-line summary of a plan in its `PlanRecorded` entry.
fn plan_summary(plan: &Plan) -> String {
    format!(
        "{} action(s), {} finding(s), {} skipped; observation {}",
        plan.actions.len(),
        plan.findings.len(),
        plan.skipped.len(),
        if plan.complete {
            "complete"
        } else {
            "incomplete"
        }
    )
}

impl<O: OrgApi, J: JournalStore + ?Sized> OrgReconciler<O, J> {
    fn append(
        &self,
        step: &'static str,
        draft: EntryDraft,
    ) -> Result<crate::journal::Entry, ReconcileError> {
        self.journal
            .append(Utc::now(), draft, &[])
            .map_err(|source| ReconcileError::Journal {
                org: self.org.clone(),
                step,
                source,
            })
    }

    /// Carries out the plan. The executor is not part of this build yet.
    async fn act(
        &self,
        _run_id: &str,
        _policy: &Policy,
        _plan: &Plan,
        _shutdown: &CancellationToken,
    ) -> Result<Acted, String> {
        Err(ACT_UNAVAILABLE.to_owned())
    }
}

impl<O: OrgApi, J: JournalStore + ?Sized> Reconcile for OrgReconciler<O, J> {
    async fn reconcile(
        &self,
        trigger: Trigger,
        dry_run: bool,
        shutdown: &CancellationToken,
    ) -> Result<ReconcileSummary, ReconcileError> {
        let policy = self.policy.borrow().clone();
        let run_id = format!("run-{}", uuid::Uuid::new_v4());
        let started = EntryDraft::new(
            &run_id,
            EntryKind::RunStarted {
                trigger: trigger.as_str().to_owned(),
                dry_run,
            },
        );
        self.append("RunStarted", started)?;
        let now = Utc::now();
        let view = self
            .journal
            .view(now)
            .map_err(|source| ReconcileError::Journal {
                org: self.org.clone(),
                step: "reading the journal view",
                source,
            })?;
        let pass = preview(self.api.as_ref(), &self.org_url, &policy, &view, now).await;
        let plan = &pass.plan;
        let snapshot = &pass.observation.snapshot;
        let plan_json = serde_json::to_value(plan).unwrap_or(serde_json::Value::Null);
        let recorded = EntryDraft::new(
            &run_id,
            EntryKind::PlanRecorded {
                summary: plan_summary(plan),
                plan: plan_json,
            },
        );
        self.append("PlanRecorded", recorded)?;
        let findings = u32::try_from(plan.findings.len()).unwrap_or(u32::MAX);
        let acted = if dry_run {
            Ok(Acted::default())
        } else {
            self.act(&run_id, &policy, plan, shutdown).await
        };
        let (acted, act_error) = match acted {
            Ok(acted) => (acted, None),
            Err(message) => {
                let note = EntryDraft::new(
                    &run_id,
                    EntryKind::Note {
                        text: format!("not acted on: {message}"),
                    },
                );
                self.append("Note", note)?;
                (Acted::default(), Some(message))
            }
        };
        let counts = RunCounts {
            findings,
            ..acted.counts
        };
        let finished = EntryDraft::new(&run_id, EntryKind::RunFinished { counts });
        self.append("RunFinished", finished)?;
        if let Some(message) = act_error {
            return Err(ReconcileError::Act {
                org: self.org.clone(),
                message,
            });
        }
        let breaker_open = self
            .journal
            .view(Utc::now())
            .map(|v| v.breaker_open())
            .unwrap_or(false);
        let apps_listed = snapshot.apps.is_complete() || !snapshot.apps.value.is_empty();
        Ok(ReconcileSummary {
            run_id,
            reachable: apps_listed,
            complete: snapshot.is_complete(),
            planned: per_kind(plan.actions.iter().map(|a| a.kind.as_str().to_owned())),
            findings: per_kind(plan.findings.iter().map(|f| kind_name(&f.kind))),
            actions: acted.actions,
            partial_failure: acted.partial_failure,
            breaker_open,
        })
    }
}
