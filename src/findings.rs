//! Findings with a life: each pass's findings are compared with the open ones the journal keeps.
//! A finding is journaled when it opens, when it changes (evidence not seen before: another
//! user, another event) and when it is resolved (gone on a pass that read every part of the org
//! it depends on); a person acknowledges one (`remediator ack`) to silence it until a time or
//! until it changes. Its id (`fnd-...`) comes from its kind and target only, so it is the same
//! on every pass.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::journal::{
    redact_draft, Effect, Entry, EntryDraft, EntryKind, FindingAck, FindingEvent, JournalError,
    JournalStore, OpenFinding,
};
use crate::observe::PartId;
use crate::plan::{Evidence, Finding, Plan};
use crate::vocab::{FindingId, RunId};

/// The longest acknowledgement (`ack --for`): a silenced finding comes back at least this often.
pub const MAX_ACK: Duration = Duration::days(90);

/// The longest reason (characters) and name (`--by`) an acknowledgement keeps.
pub const MAX_ACK_TEXT_LEN: usize = 1000;

/// Hex digits of an evidence item's digest kept in an open finding.
const EVIDENCE_DIGEST_DIGITS: usize = 16;

/// What [`track`] journaled for one pass.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tracked {
    pub opened: Vec<FindingId>,
    pub changed: Vec<FindingId>,
    pub resolved: Vec<FindingId>,
    /// Open findings not found this pass that stay open: a part they depend on was not read.
    pub unconfirmed: Vec<FindingId>,
}

/// Compares `plan`'s findings with the journal's open ones and journals each change under
/// `run_id`: opened, changed (new evidence; an acknowledgement is lifted) and resolved (only
/// when no part the finding depends on is among the plan's `incomplete`).
pub fn track<J: JournalStore + ?Sized>(
    journal: &J,
    run_id: &RunId,
    plan: &Plan,
    now: DateTime<Utc>,
) -> Result<Tracked, JournalError> {
    let open: BTreeMap<FindingId, OpenFinding> = journal
        .open_findings()?
        .into_iter()
        .map(|f| (f.id.clone(), f))
        .collect();
    let mut tracked = Tracked::default();
    let mut seen = BTreeSet::new();
    for finding in &plan.findings {
        if !seen.insert(finding.id.clone()) {
            continue;
        }
        match open.get(&finding.id) {
            None => {
                let record = open_record(finding, now);
                let event = FindingEvent::Opened;
                let draft = finding_draft(run_id, finding, event, opened_details(finding));
                append(journal, now, event, draft, record)?;
                tracked.opened.push(finding.id.clone());
            }
            Some(record) => {
                let digests = evidence_digests(&finding.evidence);
                let new: Vec<&Evidence> = finding
                    .evidence
                    .iter()
                    .filter(|e| !record.evidence.contains(&evidence_digest(e)))
                    .collect();
                if new.is_empty() {
                    continue;
                }
                let details = json!({
                    "reason": finding.reason,
                    "new_evidence": new,
                    "ack_lifted": record.ack.as_ref().map(|a| &a.by),
                });
                let updated = OpenFinding {
                    reason: finding.reason.clone(),
                    changed_at: now,
                    evidence: digests,
                    ack: None,
                    ..record.clone()
                };
                let event = FindingEvent::Changed;
                let draft = finding_draft(run_id, finding, event, details);
                append(journal, now, event, draft, updated)?;
                tracked.changed.push(finding.id.clone());
            }
        }
    }
    for record in open.values().filter(|r| !seen.contains(&r.id)) {
        if let Some(part) = plan.incomplete.iter().find(|i| depends_on(record, &i.part)) {
            tracing::debug!(finding = %record.id, part = %part.part, "finding not seen, kept open: a part it depends on was not read");
            tracked.unconfirmed.push(record.id.clone());
            continue;
        }
        let kind = EntryKind::Finding {
            finding_kind: record.kind,
            event: FindingEvent::Resolved,
            finding_id: Some(record.id.clone()),
            details: json!({ "opened_at": record.opened_at, "last_reason": record.reason }),
        };
        let draft = EntryDraft::new(run_id.clone(), kind).target(record.target.clone());
        journal.append(
            now,
            redact_draft(draft),
            &[Effect::RemoveFinding {
                id: record.id.clone(),
            }],
        )?;
        tracing::info!(finding = %record.id, kind = %record.kind, "finding resolved");
        tracked.resolved.push(record.id.clone());
    }
    Ok(tracked)
}

/// Whether an open finding's presence depends on `part`: the org-wide parts (the app list,
/// the System Log, the agents) and every part about its app or directory. A conservative
/// superset of the rules' own dependencies (docs/executor.md, "What depends on what"): a
/// finding is never resolved by a pass that might not have been able to see it.
fn depends_on(finding: &OpenFinding, part: &PartId) -> bool {
    match part.app_id() {
        None => true,
        Some(app) => {
            finding.target.app_id.as_ref() == Some(app)
                || finding.target.directory_id.as_ref() == Some(app)
        }
    }
}

fn open_record(finding: &Finding, now: DateTime<Utc>) -> OpenFinding {
    OpenFinding {
        id: finding.id.clone(),
        kind: finding.kind,
        target: finding.target.clone(),
        reason: finding.reason.clone(),
        opened_at: now,
        changed_at: now,
        evidence: evidence_digests(&finding.evidence),
        ack: None,
    }
}

fn opened_details(finding: &Finding) -> serde_json::Value {
    json!({
        "reason": finding.reason,
        "evidence": finding.evidence,
        "manual_steps": finding.manual_steps,
    })
}

fn finding_draft(
    run_id: &RunId,
    finding: &Finding,
    event: FindingEvent,
    details: serde_json::Value,
) -> EntryDraft {
    let kind = EntryKind::Finding {
        finding_kind: finding.kind,
        event,
        finding_id: Some(finding.id.clone()),
        details,
    };
    EntryDraft::new(run_id.clone(), kind).target(finding.target.clone())
}

fn append<J: JournalStore + ?Sized>(
    journal: &J,
    now: DateTime<Utc>,
    event: FindingEvent,
    draft: EntryDraft,
    record: OpenFinding,
) -> Result<Entry, JournalError> {
    tracing::info!(finding = %record.id, kind = %record.kind, event = %event, target = %record.target.key(), "finding {event}");
    journal.append(
        now,
        redact_draft(draft),
        &[Effect::PutFinding(Box::new(record))],
    )
}

fn evidence_digests(evidence: &[Evidence]) -> BTreeSet<String> {
    evidence.iter().map(evidence_digest).collect()
}

/// A short digest of one evidence item's JSON form.
fn evidence_digest(evidence: &Evidence) -> String {
    let bytes = serde_json::to_vec(evidence).unwrap_or_default();
    hex::encode(Sha256::digest(&bytes))[..EVIDENCE_DIGEST_DIGITS].to_owned()
}

/// Why an acknowledgement was refused.
#[derive(Debug, thiserror::Error)]
pub enum AckError {
    #[error("no open finding {id} (`remediator status` lists the open ones)")]
    NotOpen { id: FindingId },
    #[error("{field}: {why}")]
    Invalid { field: &'static str, why: String },
    #[error("journaling the acknowledgement of {id}")]
    Journal {
        id: FindingId,
        #[source]
        source: JournalError,
    },
}

/// A person's acknowledgement of a finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AckRequest {
    pub id: FindingId,
    pub by: String,
    pub reason: String,
    /// How long it silences the finding (at most [`MAX_ACK`]).
    pub duration: Duration,
}

/// Journals `request` (a `finding` entry, event `acked`) and records it on the open finding:
/// silenced until `now + duration` or until it changes.
pub fn ack<J: JournalStore + ?Sized>(
    journal: &J,
    request: &AckRequest,
    now: DateTime<Utc>,
) -> Result<Entry, AckError> {
    check_text("by", &request.by)?;
    check_text("reason", &request.reason)?;
    if request.duration <= Duration::zero() || request.duration > MAX_ACK {
        return Err(AckError::Invalid {
            field: "for",
            why: format!(
                "must be more than 0 and at most {} days",
                MAX_ACK.num_days()
            ),
        });
    }
    let journal_error = |source| AckError::Journal {
        id: request.id.clone(),
        source,
    };
    let record = journal
        .open_findings()
        .map_err(journal_error)?
        .into_iter()
        .find(|f| f.id == request.id)
        .ok_or_else(|| AckError::NotOpen {
            id: request.id.clone(),
        })?;
    let ack = FindingAck {
        by: request.by.clone(),
        reason: request.reason.clone(),
        at: now,
        until: now + request.duration,
    };
    let kind = EntryKind::Finding {
        finding_kind: record.kind,
        event: FindingEvent::Acked,
        finding_id: Some(record.id.clone()),
        details: json!({ "by": ack.by, "reason": ack.reason, "until": ack.until }),
    };
    let run_id = RunId::new(format!(
        "ack-{}-{}",
        now.format("%Y%m%dT%H%M%SZ"),
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    ));
    let draft = redact_draft(EntryDraft::new(run_id, kind).target(record.target.clone()));
    // What is kept on the finding is what the entry says, redacted alike.
    let (by, reason) = match &draft.kind {
        EntryKind::Finding { details, .. } => (
            details["by"].as_str().unwrap_or_default().to_owned(),
            details["reason"].as_str().unwrap_or_default().to_owned(),
        ),
        _ => (ack.by.clone(), ack.reason.clone()),
    };
    let updated = OpenFinding {
        ack: Some(FindingAck { by, reason, ..ack }),
        ..record
    };
    journal
        .append(now, draft, &[Effect::PutFinding(Box::new(updated))])
        .map_err(journal_error)
}

fn check_text(field: &'static str, text: &str) -> Result<(), AckError> {
    let why = if text.trim().is_empty() {
        "must not be empty".to_owned()
    } else if text.chars().count() > MAX_ACK_TEXT_LEN {
        format!("longer than {MAX_ACK_TEXT_LEN} characters")
    } else if text.chars().any(char::is_control) {
        "holds a control character".to_owned()
    } else {
        return Ok(());
    };
    Err(AckError::Invalid { field, why })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::SledJournal;
    use crate::observe::{FailureKind, Incomplete, ReadFailure};
    use crate::plan::{FindingKind, Target};

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::<Utc>::UNIX_EPOCH + Duration::seconds(1_800_000_000 + secs)
    }

    fn user(id: &str) -> Evidence {
        Evidence::AppUser {
            app_id: "0oa1".into(),
            user_id: id.into(),
            status: "PROVISIONED".to_owned(),
            sync_state: "ERROR".to_owned(),
            error_text: None,
        }
    }

    fn plan_with(findings: Vec<Finding>, incomplete: Vec<Incomplete>) -> Plan {
        Plan {
            org: "https://example.okta.com".to_owned(),
            generated_at: at(0),
            complete: incomplete.is_empty(),
            incomplete,
            actions: Vec::new(),
            findings,
            skipped: Vec::new(),
            warnings: Vec::new(),
            labels: Default::default(),
            digests: Default::default(),
        }
    }

    fn finding(users: &[&str]) -> Finding {
        Finding::new(
            FindingKind::KpasswdBlocked,
            Target::app("0oa1"),
            "blocked",
            users.iter().map(|u| user(u)).collect(),
            Vec::new(),
        )
    }

    fn unread(part: PartId) -> Incomplete {
        Incomplete {
            part,
            failure: ReadFailure::new("GET /api/v1/logs", FailureKind::Unreachable, "refused"),
            optional: false,
        }
    }

    fn events(journal: &SledJournal) -> Vec<FindingEvent> {
        journal
            .list(&Default::default())
            .expect("list")
            .into_iter()
            .filter_map(|e| match e.kind {
                EntryKind::Finding { event, .. } => Some(event),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_finding_opens_changes_with_new_evidence_and_resolves_only_on_a_complete_read() {
        let journal = SledJournal::temporary().expect("journal");
        let run = RunId::new("run-1");
        let one = track(
            &journal,
            &run,
            &plan_with(vec![finding(&["00u1"])], vec![]),
            at(0),
        )
        .expect("track");
        assert_eq!(one.opened.len(), 1);
        let same = track(
            &journal,
            &run,
            &plan_with(vec![finding(&["00u1"])], vec![]),
            at(1),
        )
        .expect("track");
        assert_eq!(same, Tracked::default(), "nothing new, nothing journaled");
        let more = track(
            &journal,
            &run,
            &plan_with(vec![finding(&["00u1", "00u2"])], vec![]),
            at(2),
        )
        .expect("track");
        assert_eq!(more.changed.len(), 1);
        let fewer = track(
            &journal,
            &run,
            &plan_with(vec![finding(&["00u2"])], vec![]),
            at(3),
        )
        .expect("track");
        assert_eq!(
            fewer,
            Tracked::default(),
            "evidence gone is not new evidence"
        );
        let log_unread = unread(PartId::SystemLog);
        let hidden =
            track(&journal, &run, &plan_with(vec![], vec![log_unread]), at(4)).expect("track");
        assert_eq!(
            hidden.unconfirmed.len(),
            1,
            "not resolved while the System Log is unread"
        );
        let other_app = unread(PartId::Features("0oa9".into()));
        let gone =
            track(&journal, &run, &plan_with(vec![], vec![other_app]), at(5)).expect("track");
        assert_eq!(
            gone.resolved.len(),
            1,
            "a part about another app does not hold it open"
        );
        assert!(journal.open_findings().expect("open").is_empty());
        assert_eq!(
            events(&journal),
            [
                FindingEvent::Opened,
                FindingEvent::Changed,
                FindingEvent::Resolved
            ]
        );
    }

    #[test]
    fn an_ack_holds_until_the_finding_changes_and_unknown_ids_are_refused() {
        let journal = SledJournal::temporary().expect("journal");
        let run = RunId::new("run-1");
        let found = finding(&["00u1"]);
        track(
            &journal,
            &run,
            &plan_with(vec![found.clone()], vec![]),
            at(0),
        )
        .expect("track");
        let request = AckRequest {
            id: found.id.clone(),
            by: "alice".to_owned(),
            reason: "ticket OPS-1".to_owned(),
            duration: Duration::days(7),
        };
        ack(&journal, &request, at(1)).expect("ack");
        let open = journal.open_findings().expect("open");
        assert_eq!(
            open[0].acked_at(at(2)).map(|a| a.by.as_str()),
            Some("alice")
        );
        assert!(
            open[0].acked_at(at(1) + Duration::days(8)).is_none(),
            "expired"
        );
        track(
            &journal,
            &run,
            &plan_with(vec![finding(&["00u1", "00u3"])], vec![]),
            at(3),
        )
        .expect("track");
        assert!(
            journal.open_findings().expect("open")[0].ack.is_none(),
            "a change lifts it"
        );
        let unknown = AckRequest {
            id: FindingId::new("fnd-0000000000000000"),
            ..request.clone()
        };
        assert!(matches!(
            ack(&journal, &unknown, at(4)),
            Err(AckError::NotOpen { .. })
        ));
        let forever = AckRequest {
            duration: Duration::days(365),
            ..request
        };
        assert!(matches!(
            ack(&journal, &forever, at(4)),
            Err(AckError::Invalid { field: "for", .. })
        ));
    }
}
