//! One reconcile pass over an org: observe it, then plan against the policy and the journal's
//! view. The same pass serves `plan` (dry-run preview), `apply` and the daemon, so a preview
//! and a run cannot disagree about what they saw.

use chrono::{DateTime, Utc};

use crate::journal::JournalView;
use crate::observe::{observe, LogStart, Observation};
use crate::okta::OrgApi;
use crate::plan::{plan, Plan};
use crate::policy::Policy;

/// What one pass saw and decided.
#[derive(Debug)]
pub struct Pass {
    pub observation: Observation,
    pub plan: Plan,
}

/// Observes `org` through `api` (System Log events from `policy.schedule.log_lookback` ago) and
/// plans. `now` is the caller's clock.
pub async fn preview<O: OrgApi>(
    api: &O,
    org: &str,
    policy: &Policy,
    journal: &JournalView,
    now: DateTime<Utc>,
) -> Pass {
    let lookback = chrono::Duration::from_std(policy.schedule.log_lookback)
        .unwrap_or_else(|_| chrono::Duration::days(1));
    let observation = observe(api, org, policy, LogStart::Since(now - lookback), now).await;
    let plan = plan(policy, &observation.snapshot, journal, now);
    Pass { observation, plan }
}
