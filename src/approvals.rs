//! Approvals with a life: an enforce action of a rule that requires approval is asked for once
//! (an `awaiting_approval` entry with its plan hash and expiry), a person approves or rejects
//! it (`remediator approve|reject ACTION_ID`, journaled with who), and a later pass carries it
//! out only while the action it plans has the same id and plan hash and the approval has not
//! expired (the safety gate's check, `plan::gate`). A request whose action changed or expired
//! is asked again; a rejection holds until the plan changes; an approval is used once; a
//! request whose action a complete pass no longer plans is withdrawn. The state lives in the
//! journal's `approvals` tree, like open findings.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde_json::json;

use crate::journal::{
    redact_draft, ApprovalDecision, ApprovalRecord, Effect, Entry, EntryDraft, EntryKind,
    JournalError, JournalStore, Verdict,
};
use crate::plan::gate::Gate;
use crate::plan::{plan_hash, Action, ActionMode, Plan};
use crate::policy::Policy;
use crate::vocab::{ActionId, RunId};

/// The longest reason (characters) and name (`--by`) a decision keeps.
pub const MAX_DECISION_TEXT_LEN: usize = 1000;

/// What [`track`] journaled for one pass.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tracked {
    /// Actions asked to be approved now (new, expired or changed).
    pub asked: Vec<ActionId>,
    /// Requests withdrawn: a complete pass no longer plans their action.
    pub withdrawn: Vec<ActionId>,
}

/// Journals an `awaiting_approval` entry for each enforce action of `plan` held for approval
/// that was never asked, whose request expired or whose plan hash changed (checked against
/// the journal as it is now, with the gate); a request waiting unchanged or a rejection is not
/// journaled again. With `withdraw` (a pass that observed and planned, not a saved plan) and
/// a complete plan, requests for actions the plan no longer holds for approval are withdrawn.
pub fn track<J: JournalStore + ?Sized>(
    journal: &J,
    run_id: &RunId,
    plan: &Plan,
    policy: &Policy,
    withdraw: bool,
    now: DateTime<Utc>,
) -> Result<Tracked, JournalError> {
    let view = journal.view(now)?;
    let gate = Gate::new(policy, &view, now);
    let mut tracked = Tracked::default();
    let waiting = plan
        .actions
        .iter()
        .filter(|a| a.mode == ActionMode::Enforce)
        .filter(|a| a.approval.as_ref().is_some_and(|x| !x.approved()));
    for action in waiting {
        let Err(unapproved) = gate.approval(action) else {
            continue;
        };
        let Some(asked) = unapproved.asks() else {
            continue;
        };
        let expiry = chrono::Duration::from_std(policy.safety.approval_expiry)
            .unwrap_or(chrono::Duration::MAX);
        let record = ApprovalRecord {
            action_id: action.id.clone(),
            action_kind: action.kind,
            target: action.target.clone(),
            plan_hash: plan_hash(action),
            summary: action.reason.clone(),
            org: plan.org.clone(),
            requested_at: now,
            expires_at: now.checked_add_signed(expiry).unwrap_or(now),
            decision: None,
        };
        ask(journal, run_id, action, record, asked, now)?;
        tracked.asked.push(action.id.clone());
    }
    if !(withdraw && plan.complete) {
        return Ok(tracked);
    }
    let held: BTreeSet<&ActionId> = plan
        .actions
        .iter()
        .filter(|a| a.approval.is_some())
        .map(|a| &a.id)
        .collect();
    for record in view
        .approvals
        .values()
        .filter(|r| !held.contains(&r.action_id))
    {
        let text = format!(
            "approval request for {} {} withdrawn: a complete pass no longer plans it",
            record.action_kind, record.action_id
        );
        let draft = EntryDraft::new(run_id.clone(), EntryKind::Note { text })
            .action(record.action_id.clone())
            .target(record.target.clone());
        let remove = Effect::RemoveApproval {
            id: record.action_id.clone(),
        };
        journal.append(now, redact_draft(draft), &[remove])?;
        tracing::info!(action = %record.action_id, kind = %record.action_kind, "approval request withdrawn");
        tracked.withdrawn.push(record.action_id.clone());
    }
    Ok(tracked)
}

fn ask<J: JournalStore + ?Sized>(
    journal: &J,
    run_id: &RunId,
    action: &Action,
    record: ApprovalRecord,
    asked: &str,
    now: DateTime<Utc>,
) -> Result<Entry, JournalError> {
    let kind = EntryKind::AwaitingApproval {
        action_kind: action.kind,
        plan_hash: record.plan_hash.clone(),
        expires_at: record.expires_at,
        summary: record.summary.clone(),
        org: record.org.clone(),
        asked: asked.to_owned(),
    };
    let steps: Vec<&str> = action.steps.iter().map(|s| s.op()).collect();
    let draft = EntryDraft::new(run_id.clone(), kind)
        .action(action.id.clone())
        .target(action.target.clone())
        .payload(json!({ "steps": steps }));
    tracing::info!(action = %action.id, kind = %action.kind, target = %action.target.key(), asked, expires_at = %record.expires_at.to_rfc3339(), "awaiting approval");
    journal.append(
        now,
        redact_draft(draft),
        &[Effect::PutApproval(Box::new(record))],
    )
}

/// Why a decision was refused.
#[derive(Debug, thiserror::Error)]
pub enum ApprovalError {
    #[error("no action {id} awaits approval (`remediator status` lists the ones that do)")]
    NotAsked { id: ActionId },
    #[error(
        "the approval request for {id} expired at {}: the next pass asks again",
        at.to_rfc3339()
    )]
    Expired { id: ActionId, at: DateTime<Utc> },
    #[error("{field}: {why}")]
    Invalid { field: &'static str, why: String },
    #[error("journaling the decision on {id}")]
    Journal {
        id: ActionId,
        #[source]
        source: JournalError,
    },
}

/// A person's decision on an action that awaits approval.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecisionRequest {
    pub id: ActionId,
    pub verdict: Verdict,
    pub by: String,
    /// May be empty.
    pub reason: String,
}

/// Journals `request` (`approval_granted` or `approval_rejected`, with who, when and the plan
/// hash decided on) and records it on the action's request. Refused for an action that was
/// not asked for and for a request that expired.
pub fn decide<J: JournalStore + ?Sized>(
    journal: &J,
    request: &DecisionRequest,
    now: DateTime<Utc>,
) -> Result<Entry, ApprovalError> {
    check_text("by", &request.by, false)?;
    check_text("reason", &request.reason, true)?;
    let journal_error = |source| ApprovalError::Journal {
        id: request.id.clone(),
        source,
    };
    let record = journal
        .approvals()
        .map_err(journal_error)?
        .into_iter()
        .find(|r| r.action_id == request.id)
        .ok_or_else(|| ApprovalError::NotAsked {
            id: request.id.clone(),
        })?;
    if record.expires_at <= now {
        return Err(ApprovalError::Expired {
            id: request.id.clone(),
            at: record.expires_at,
        });
    }
    let (by, reason) = (request.by.clone(), request.reason.clone());
    let plan_hash = record.plan_hash.clone();
    let kind = match request.verdict {
        Verdict::Granted => EntryKind::ApprovalGranted {
            action_kind: record.action_kind,
            plan_hash: plan_hash.clone(),
            by,
            reason,
            expires_at: record.expires_at,
        },
        Verdict::Rejected => EntryKind::ApprovalRejected {
            action_kind: record.action_kind,
            plan_hash: plan_hash.clone(),
            by,
            reason,
        },
    };
    let run_id = RunId::new(format!(
        "{}-{}-{}",
        match request.verdict {
            Verdict::Granted => "approve",
            Verdict::Rejected => "reject",
        },
        now.format("%Y%m%dT%H%M%SZ"),
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    ));
    let draft = redact_draft(
        EntryDraft::new(run_id, kind)
            .action(record.action_id.clone())
            .target(record.target.clone()),
    );
    // What is kept on the request is what the entry says, redacted alike.
    let (by, reason) = match &draft.kind {
        EntryKind::ApprovalGranted { by, reason, .. }
        | EntryKind::ApprovalRejected { by, reason, .. } => (by.clone(), reason.clone()),
        _ => (request.by.clone(), request.reason.clone()),
    };
    let decision = ApprovalDecision {
        verdict: request.verdict,
        by,
        reason,
        at: now,
        plan_hash,
    };
    let updated = ApprovalRecord {
        decision: Some(decision),
        ..record
    };
    tracing::info!(action = %request.id, verdict = %request.verdict, "approval decided");
    journal
        .append(now, draft, &[Effect::PutApproval(Box::new(updated))])
        .map_err(journal_error)
}

fn check_text(field: &'static str, text: &str, may_be_empty: bool) -> Result<(), ApprovalError> {
    let why = if !may_be_empty && text.trim().is_empty() {
        "must not be empty".to_owned()
    } else if text.chars().count() > MAX_DECISION_TEXT_LEN {
        format!("longer than {MAX_DECISION_TEXT_LEN} characters")
    } else if text.chars().any(char::is_control) {
        "holds a control character".to_owned()
    } else {
        return Ok(());
    };
    Err(ApprovalError::Invalid { field, why })
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;
    use crate::journal::SledJournal;
    use crate::plan::{ActionApproval, ApprovalStatus, PlanDigests};
    use crate::policy::RuleKind;
    use crate::vocab::{ActionKind, Target};

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::<Utc>::UNIX_EPOCH + Duration::seconds(1_800_000_000 + secs)
    }

    fn policy() -> Policy {
        let mut policy = Policy::default();
        policy.global.default_mode = crate::policy::Mode::Enforce;
        policy
            .safety
            .approval_required
            .insert(RuleKind::RemovePushMappings);
        policy.safety.approval_expiry = std::time::Duration::from_secs(3600);
        policy
    }

    fn plan_with(actions: Vec<Action>) -> Plan {
        Plan {
            org: "https://example.okta.com".to_owned(),
            generated_at: at(0),
            complete: true,
            incomplete: Vec::new(),
            actions,
            findings: Vec::new(),
            skipped: Vec::new(),
            warnings: Vec::new(),
            labels: Default::default(),
            digests: PlanDigests::default(),
        }
    }

    fn waiting() -> Action {
        let mut action = Action {
            id: ActionId::new("act-0123456789abcdef"),
            kind: ActionKind::RemovePushMappings,
            mode: ActionMode::Enforce,
            target: Target::app("0oa1"),
            reason: "orphaned mappings".to_owned(),
            evidence: Vec::new(),
            steps: Vec::new(),
            preconditions: Vec::new(),
            approval: None,
        };
        action.approval = Some(ActionApproval {
            status: ApprovalStatus::Awaiting,
            plan_hash: plan_hash(&action),
            expires_at: None,
            by: None,
        });
        action
    }

    fn request(verdict: Verdict, by: &str) -> DecisionRequest {
        DecisionRequest {
            id: waiting().id,
            verdict,
            by: by.to_owned(),
            reason: String::new(),
        }
    }

    #[test]
    fn a_request_is_asked_once_decided_while_good_and_withdrawn_when_no_longer_planned() {
        let journal = SledJournal::temporary().expect("journal");
        let run = RunId::new("run-1");
        let plan = plan_with(vec![waiting()]);
        let once = track(&journal, &run, &plan, &policy(), true, at(0)).expect("track");
        assert_eq!(once.asked, [waiting().id]);
        let again = track(&journal, &run, &plan, &policy(), true, at(1)).expect("track");
        assert_eq!(
            again,
            Tracked::default(),
            "waiting unchanged: not asked again"
        );
        assert!(matches!(
            decide(&journal, &request(Verdict::Granted, " "), at(2)),
            Err(ApprovalError::Invalid { field: "by", .. })
        ));
        let granted = decide(&journal, &request(Verdict::Granted, "alice"), at(2)).expect("ok");
        assert!(matches!(granted.kind, EntryKind::ApprovalGranted { .. }));
        let record = &journal.approvals().expect("approvals")[0];
        assert_eq!(
            record.decision.as_ref().map(|d| d.by.as_str()),
            Some("alice")
        );
        assert!(matches!(
            decide(&journal, &request(Verdict::Rejected, "bob"), at(3600)),
            Err(ApprovalError::Expired { .. })
        ));
        let saved =
            track(&journal, &run, &plan_with(vec![]), &policy(), false, at(4)).expect("track");
        assert!(saved.withdrawn.is_empty(), "a saved plan withdraws nothing");
        let gone =
            track(&journal, &run, &plan_with(vec![]), &policy(), true, at(5)).expect("track");
        assert_eq!(gone.withdrawn, [waiting().id]);
        assert!(journal.approvals().expect("approvals").is_empty());
        assert!(matches!(
            decide(&journal, &request(Verdict::Granted, "alice"), at(6)),
            Err(ApprovalError::NotAsked { .. })
        ));
    }
}
