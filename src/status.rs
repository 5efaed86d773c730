//! What needs a person now, read from an org's journal: the last run, the next scheduled one,
//! the open findings with their age and acknowledgement, the actions held (quarantined, in a
//! cooldown or a retry's backoff, with when that ends) and the circuit breaker. The same
//! [`OrgStatus`] is printed by `remediator status` and served by the daemon (`/v1/status`).

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::journal::{
    ApprovalRecord, EntryFilter, EntryKind, EntryKindTag, FindingAck, JournalError, JournalStore,
    RunCounts, Verdict,
};
use crate::policy::Policy;
use crate::vocab::{ActionId, ActionKind, FindingId, FindingKind, RunId, Target};

/// One org's status at `now`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrgStatus {
    pub org: String,
    pub now: DateTime<Utc>,
    /// The last run that finished, `None` before the first.
    pub last_run: Option<LastRun>,
    /// The next full reconcile on the policy's schedule (a System Log event may bring one
    /// sooner); `None` without a policy.
    pub next_run: Option<DateTime<Utc>>,
    /// Oldest first.
    pub open_findings: Vec<FindingStatus>,
    pub held: Vec<HeldAction>,
    pub breaker: Breaker,
}

/// The last finished run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LastRun {
    pub run_id: RunId,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: DateTime<Utc>,
    /// timer, system_log or manual (unknown when its start was not found).
    pub trigger: String,
    pub observe_only: bool,
    /// ok, partial (parts not read, or an action failed, was held or compensated) or failed
    /// (the org could not be read).
    pub outcome: String,
    pub counts: RunCounts,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub incomplete: Vec<String>,
}

/// An open finding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FindingStatus {
    pub id: FindingId,
    pub kind: FindingKind,
    pub target: Target,
    pub reason: String,
    pub opened_at: DateTime<Utc>,
    pub changed_at: DateTime<Utc>,
    pub age_seconds: i64,
    /// The acknowledgement in force now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ack: Option<FindingAck>,
}

/// Why an action is held, and until when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeldAction {
    /// cooldown, backoff, quarantined, awaiting-approval (with its expiry) or rejected.
    pub why: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action_kind: Option<ActionKind>,
    /// The action's id, for one awaiting approval (`remediator approve ACTION_ID`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action_id: Option<ActionId>,
    /// The target's state key (`app=...;user=...`).
    pub target: String,
    /// When it ends; `None` for a quarantine (it needs a person).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub detail: String,
}

/// The circuit breaker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Breaker {
    pub open: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open_until: Option<DateTime<Utc>>,
    /// Failures among the outcomes it remembers.
    pub recent_failures: usize,
    pub recent_outcomes: usize,
}

/// How many `run_finished` entries the last run is read from (the newest; found by a scan back
/// from the chain's end, which stops at the first).
const LAST_RUN_SCAN: usize = 1;

/// The status of `org` from its journal at `now`; `policy` gives the schedule and the retry
/// backoff (without it, no next run and no backoff end).
pub fn org_status<J: JournalStore + ?Sized>(
    org: &str,
    journal: &J,
    policy: Option<&Policy>,
    now: DateTime<Utc>,
) -> Result<OrgStatus, JournalError> {
    let view = journal.view(now)?;
    let mut open_findings: Vec<FindingStatus> = journal
        .open_findings()?
        .into_iter()
        .map(|f| FindingStatus {
            age_seconds: (now - f.opened_at).num_seconds(),
            ack: f.acked_at(now).cloned(),
            id: f.id,
            kind: f.kind,
            target: f.target,
            reason: f.reason,
            opened_at: f.opened_at,
            changed_at: f.changed_at,
        })
        .collect();
    open_findings.sort_by(|a, b| a.opened_at.cmp(&b.opened_at).then(a.id.cmp(&b.id)));
    let mut held: Vec<HeldAction> = view
        .cooldowns
        .iter()
        .map(|(target, until)| HeldAction {
            why: "cooldown".to_owned(),
            action_kind: None,
            action_id: None,
            target: target.clone(),
            until: Some(*until),
            detail: String::new(),
        })
        .collect();
    for (key, attempt) in &view.attempts {
        let Some(policy) = policy else { continue };
        if key.action_kind != ActionKind::RetryProvisioning {
            continue;
        }
        let retry = &policy.retry_provisioning;
        if attempt.count >= retry.max_attempts {
            continue;
        }
        let delay =
            Duration::from_std(retry.backoff.delay_after(attempt.count)).unwrap_or(Duration::MAX);
        let Some(next) = attempt.last_attempt_at.checked_add_signed(delay) else {
            continue;
        };
        if next > now {
            held.push(HeldAction {
                why: "backoff".to_owned(),
                action_kind: Some(key.action_kind),
                action_id: None,
                target: key.target_key.clone(),
                until: Some(next),
                detail: format!("{} attempt(s) so far", attempt.count),
            });
        }
    }
    for finding in open_findings
        .iter()
        .filter(|f| f.kind == FindingKind::FixQuarantined)
    {
        held.push(HeldAction {
            why: "quarantined".to_owned(),
            action_kind: None,
            action_id: None,
            target: finding.target.state_key(),
            until: None,
            detail: format!("finding {}: {}", finding.id, finding.reason),
        });
    }
    held.extend(
        view.approvals
            .values()
            .filter_map(|r| approval_held(r, now)),
    );
    Ok(OrgStatus {
        org: org.to_owned(),
        now,
        last_run: last_run(journal)?,
        next_run: policy.and_then(|p| p.schedule.full_reconcile.after(&now).next()),
        open_findings,
        held,
        breaker: Breaker {
            open: view.breaker_open(),
            open_until: view.breaker.open_until.filter(|until| *until > now),
            recent_failures: view.breaker.recent_failures(),
            recent_outcomes: view.breaker.recent.len(),
        },
    })
}

/// An action asked to be approved, as held: awaiting approval until its expiry, or rejected
/// (until its plan changes); an approved one waits for the next pass and is shown as approved;
/// an expired request is left out (the next pass asks again).
fn approval_held(record: &ApprovalRecord, now: DateTime<Utc>) -> Option<HeldAction> {
    let (why, until) = match &record.decision {
        None if record.expires_at > now => ("awaiting-approval", Some(record.expires_at)),
        None => return None,
        Some(d) if d.verdict == Verdict::Rejected => ("rejected", None),
        Some(_) if record.expires_at > now => ("approved", Some(record.expires_at)),
        Some(_) => return None,
    };
    let mut detail = format!("{} (plan {})", record.summary, record.plan_hash);
    if let Some(d) = &record.decision {
        detail.push_str(&format!("; {} by {}", d.verdict, d.by));
    }
    Some(HeldAction {
        why: why.to_owned(),
        action_kind: Some(record.action_kind),
        action_id: Some(record.action_id.clone()),
        target: record.target.state_key(),
        until,
        detail,
    })
}

fn last_run<J: JournalStore + ?Sized>(journal: &J) -> Result<Option<LastRun>, JournalError> {
    let Some(finished) = journal
        .latest(EntryKindTag::RunFinished, LAST_RUN_SCAN)?
        .into_iter()
        .next()
    else {
        return Ok(None);
    };
    let EntryKind::RunFinished {
        counts,
        error,
        incomplete,
    } = finished.kind
    else {
        return Ok(None);
    };
    let started = journal
        .list(&EntryFilter {
            run_id: Some(finished.run_id.clone()),
            kind: Some(EntryKindTag::RunStarted),
            limit: Some(1),
            ..EntryFilter::default()
        })?
        .into_iter()
        .next();
    let (trigger, observe_only) = match started.as_ref().map(|e| &e.kind) {
        Some(EntryKind::RunStarted {
            trigger,
            observe_only,
        }) => (trigger.clone(), *observe_only),
        _ => ("unknown".to_owned(), false),
    };
    let outcome = if error.is_some() {
        "failed"
    } else if !incomplete.is_empty() || counts.failed + counts.held + counts.compensated > 0 {
        "partial"
    } else {
        "ok"
    };
    Ok(Some(LastRun {
        run_id: finished.run_id,
        started_at: started.map(|e| e.time),
        finished_at: finished.time,
        trigger,
        observe_only,
        outcome: outcome.to_owned(),
        counts,
        error,
        incomplete: incomplete.iter().map(ToString::to_string).collect(),
    }))
}
