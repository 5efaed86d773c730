//! The events a person is told about, and where each comes from: the journal entries one run
//! wrote (findings, action outcomes, approvals), the circuit breaker's state before and after
//! the run, and the org's readability across the last two runs. Every mapping from the journal
//! to an event is in this file.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use strum::{EnumIter, IntoStaticStr};

use crate::journal::{
    Entry, EntryFilter, EntryKind, EntryKindTag, FindingEvent, JournalError, JournalStore, Outcome,
};
use crate::vocab::{named, ActionId, ActionKind, FindingId, FindingKind, RunId};

/// Longest summary a notification carries (characters); a longer one is cut with `…`.
pub const MAX_SUMMARY_CHARS: usize = 500;

/// What happened. The names (snake_case) are the `event` of a webhook body, the `event` label
/// of `remediator_notifications_total` and the values of a sink's `events` filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, EnumIter, IntoStaticStr)]
#[strum(serialize_all = "snake_case")]
pub enum EventKind {
    /// A finding was journaled as opened (first seen, or seen again after it was resolved).
    FindingOpened,
    /// An open finding has evidence not seen before (an acknowledgement is lifted by it).
    FindingChanged,
    /// A finding is gone on a read of every part it depends on (not sent while acknowledged).
    FindingResolved,
    /// A fix was carried out and its effect did not show.
    ActionFailed,
    /// A half-done multi-step fix was undone.
    ActionCompensated,
    /// A fix failed its attempts and is held for a person (a `fix-quarantined` finding opened).
    ActionQuarantined,
    /// An action waits for a person's `remediator approve` (journal kind `awaiting_approval`).
    ApprovalNeeded,
    /// The executor's circuit breaker opened during the run.
    CircuitBreakerOpen,
    /// A run could not read the org at all, after one that could (or the first run).
    OrgUnreadable,
    /// A run read the org again after one that could not.
    OrgRecovered,
}
named!(EventKind, "notification event");

/// What an event is about: its id names it in the body and de-duplicates it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Subject {
    Finding(FindingId),
    Action(ActionId),
    /// The org itself (breaker, readability).
    Org,
}

/// One notification, before it is rendered for a sink. Built from journal entries, whose org
/// data is already redacted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub event: EventKind,
    /// The org's configured name.
    pub org: String,
    pub subject: Subject,
    /// The finding's or the action's kind.
    pub kind: Option<String>,
    /// The target's key (`app=0oa1 user=00u2`).
    pub target: Option<String>,
    pub summary: String,
    pub time: DateTime<Utc>,
}

impl Event {
    fn new(event: EventKind, org: &str, subject: Subject, time: DateTime<Utc>) -> Self {
        Event {
            event,
            org: org.to_owned(),
            subject,
            kind: None,
            target: None,
            summary: String::new(),
            time,
        }
    }

    fn kind(mut self, kind: impl Into<String>) -> Self {
        self.kind = Some(kind.into());
        self
    }

    fn target(mut self, target: String) -> Self {
        self.target = (!target.is_empty()).then_some(target);
        self
    }

    fn summary(mut self, summary: &str) -> Self {
        self.summary = bounded(summary);
        self
    }

    /// The key de-duplication remembers: the subject, and the org for org-wide events.
    pub(crate) fn dedup_subject(&self) -> String {
        match &self.subject {
            Subject::Finding(id) => format!("{}/{id}", self.org),
            Subject::Action(id) => format!("{}/{id}", self.org),
            Subject::Org => format!("{}/org", self.org),
        }
    }
}

fn bounded(text: &str) -> String {
    if text.chars().count() <= MAX_SUMMARY_CHARS {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(MAX_SUMMARY_CHARS - 1).collect();
    cut.push('…');
    cut
}

/// What the journal said before a run, which its entries alone do not tell.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Before {
    /// The open findings acknowledged at the run's start: their resolution is not sent.
    pub acked: BTreeSet<FindingId>,
    /// The circuit breaker was open.
    pub breaker_open: bool,
}

impl Before {
    /// Read from `journal` at `now`, before the run starts.
    pub fn read<J: JournalStore + ?Sized>(
        journal: &J,
        now: DateTime<Utc>,
    ) -> Result<Before, JournalError> {
        let acked = journal
            .open_findings()?
            .into_iter()
            .filter(|f| f.ack.as_ref().is_some_and(|a| a.until > now))
            .map(|f| f.id)
            .collect();
        Ok(Before {
            acked,
            breaker_open: journal.view(now)?.breaker_open(),
        })
    }
}

/// The events of run `run_id` of `org`: its journal entries mapped one by one, the breaker's
/// opening (`before` against the journal's view at `now`) and the org's readability changing
/// (this run's `run_finished` against the one before).
pub fn events_of_run<J: JournalStore + ?Sized>(
    journal: &J,
    org: &str,
    run_id: &RunId,
    before: &Before,
    now: DateTime<Utc>,
) -> Result<Vec<Event>, JournalError> {
    let entries = journal.list(&EntryFilter {
        run_id: Some(run_id.clone()),
        ..EntryFilter::default()
    })?;
    let kinds: BTreeMap<&ActionId, ActionKind> = entries
        .iter()
        .filter_map(|e| match (&e.action_id, &e.kind) {
            (Some(id), EntryKind::Intent { action_kind, .. }) => Some((id, *action_kind)),
            _ => None,
        })
        .collect();
    let mut events: Vec<Event> = entries
        .iter()
        .filter_map(|e| of_entry(org, e, &kinds, before))
        .collect();
    if !before.breaker_open && journal.view(now)?.breaker_open() {
        events.push(
            Event::new(EventKind::CircuitBreakerOpen, org, Subject::Org, now).summary(
                "the executor's circuit breaker opened: no fix is carried out until it closes",
            ),
        );
    }
    events.extend(readability(journal, org, run_id)?);
    Ok(events)
}

/// The event one journal entry stands for, if any.
fn of_entry(
    org: &str,
    entry: &Entry,
    kinds: &BTreeMap<&ActionId, ActionKind>,
    before: &Before,
) -> Option<Event> {
    match &entry.kind {
        EntryKind::Finding {
            finding_kind,
            event,
            finding_id: Some(id),
            details,
        } => finding_event(org, entry, *finding_kind, *event, id, details, before),
        EntryKind::Outcome {
            outcome, reason, ..
        } => {
            let event = match outcome {
                Outcome::Failed => EventKind::ActionFailed,
                Outcome::Compensated => EventKind::ActionCompensated,
                _ => return None,
            };
            let id = entry.action_id.clone()?;
            let kind = kinds.get(&id).map(|k| k.as_str().to_owned());
            let mut e = Event::new(event, org, Subject::Action(id), entry.time)
                .target(entry.target.key())
                .summary(reason);
            e.kind = kind;
            Some(e)
        }
        // An action waits for a person: journaled once per request (new, or asked again because
        // the last one expired or the action changed), so each entry is one event.
        EntryKind::AwaitingApproval {
            action_kind,
            summary,
            expires_at,
            ..
        } => Some(approval_needed(
            org,
            entry.action_id.clone()?,
            *action_kind,
            entry.target.key(),
            &format!(
                "{summary}; approve with `remediator approve {}` before {}",
                entry.action_id.as_ref()?,
                expires_at.to_rfc3339()
            ),
            entry.time,
        )),
        _ => None,
    }
}

/// The `approval_needed` event of an action journaled as awaiting approval: the mapping of the
/// `awaiting_approval` entry kind (see [`of_entry`]).
pub fn approval_needed(
    org: &str,
    action_id: ActionId,
    action_kind: ActionKind,
    target: String,
    summary: &str,
    time: DateTime<Utc>,
) -> Event {
    Event::new(
        EventKind::ApprovalNeeded,
        org,
        Subject::Action(action_id),
        time,
    )
    .kind(action_kind.as_str())
    .target(target)
    .summary(summary)
}

fn finding_event(
    org: &str,
    entry: &Entry,
    finding_kind: FindingKind,
    event: FindingEvent,
    id: &FindingId,
    details: &serde_json::Value,
    before: &Before,
) -> Option<Event> {
    let text = |key: &str| details[key].as_str().unwrap_or_default().to_owned();
    let (event, summary) = match event {
        FindingEvent::Opened if finding_kind == FindingKind::FixQuarantined => {
            (EventKind::ActionQuarantined, text("reason"))
        }
        FindingEvent::Opened => (EventKind::FindingOpened, text("reason")),
        FindingEvent::Changed => (EventKind::FindingChanged, text("reason")),
        FindingEvent::Resolved if before.acked.contains(id) => return None,
        FindingEvent::Resolved => (
            EventKind::FindingResolved,
            format!("resolved (was: {})", text("last_reason")),
        ),
        FindingEvent::Acked => return None,
    };
    Some(
        Event::new(event, org, Subject::Finding(id.clone()), entry.time)
            .kind(finding_kind.as_str())
            .target(entry.target.key())
            .summary(&summary),
    )
}

/// `org_unreadable` when this run could not read the org and the run before it could (or there
/// was none); `org_recovered` when this run read it and the one before could not. So an org that
/// stays down is told once, however often it is tried.
fn readability<J: JournalStore + ?Sized>(
    journal: &J,
    org: &str,
    run_id: &RunId,
) -> Result<Option<Event>, JournalError> {
    let last = journal.latest(EntryKindTag::RunFinished, 2)?;
    let failed = |e: &Entry| match &e.kind {
        EntryKind::RunFinished { error, .. } => error.clone(),
        _ => None,
    };
    let Some(this) = last.first().filter(|e| &e.run_id == run_id) else {
        return Ok(None);
    };
    let previous = last.get(1).and_then(failed);
    Ok(match (failed(this), previous) {
        (Some(why), None) => {
            Some(Event::new(EventKind::OrgUnreadable, org, Subject::Org, this.time).summary(&why))
        }
        (None, Some(_)) => Some(
            Event::new(EventKind::OrgRecovered, org, Subject::Org, this.time)
                .summary("the org is read again"),
        ),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::{EntryDraft, RunCounts, SledJournal};
    use crate::vocab::Target;
    use serde_json::json;

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + secs, 0).expect("a time")
    }

    fn finished(journal: &SledJournal, run: &str, error: Option<&str>, t: i64) {
        let kind = EntryKind::RunFinished {
            counts: RunCounts::default(),
            error: error.map(str::to_owned),
            incomplete: Vec::new(),
        };
        journal
            .append(at(t), EntryDraft::new(run, kind), &[])
            .expect("append");
    }

    fn names(events: &[Event]) -> Vec<&'static str> {
        events.iter().map(|e| e.event.as_str()).collect()
    }

    #[test]
    fn an_unreadable_org_is_told_when_it_starts_and_when_it_ends() {
        let dir = tempfile::tempdir().expect("dir");
        let journal = SledJournal::open(dir.path()).expect("journal");
        let of = |run: &str, t| {
            events_of_run(
                &journal,
                "prod",
                &RunId::new(run),
                &Before::default(),
                at(t),
            )
            .expect("events")
        };
        finished(&journal, "run-1", None, 1);
        assert!(of("run-1", 1).is_empty());
        finished(&journal, "run-2", Some("GET /api/v1/apps: HTTP 401"), 2);
        assert_eq!(names(&of("run-2", 2)), ["org_unreadable"]);
        assert_eq!(of("run-2", 2)[0].summary, "GET /api/v1/apps: HTTP 401");
        finished(&journal, "run-3", Some("GET /api/v1/apps: HTTP 401"), 3);
        assert!(of("run-3", 3).is_empty(), "still down: told once");
        finished(&journal, "run-4", None, 4);
        assert_eq!(names(&of("run-4", 4)), ["org_recovered"]);
    }

    #[test]
    fn findings_and_outcomes_map_to_events_and_an_acked_resolution_is_not_told() {
        let dir = tempfile::tempdir().expect("dir");
        let journal = SledJournal::open(dir.path()).expect("journal");
        let run = RunId::new("run-1");
        let finding = |kind, event, id: &str, details| {
            let kind = EntryKind::Finding {
                finding_kind: kind,
                event,
                finding_id: Some(FindingId::new(id)),
                details,
            };
            journal
                .append(at(1), EntryDraft::new(run.clone(), kind), &[])
                .expect("append");
        };
        finding(
            FindingKind::KpasswdBlocked,
            FindingEvent::Opened,
            "fnd-1",
            json!({ "reason": "blocked" }),
        );
        finding(
            FindingKind::FixQuarantined,
            FindingEvent::Opened,
            "fnd-2",
            json!({ "reason": "3 attempts" }),
        );
        finding(
            FindingKind::KpasswdBlocked,
            FindingEvent::Resolved,
            "fnd-3",
            json!({ "last_reason": "was blocked" }),
        );
        finding(
            FindingKind::KpasswdBlocked,
            FindingEvent::Resolved,
            "fnd-4",
            json!({ "last_reason": "acked" }),
        );
        let intent = EntryKind::Intent {
            action_kind: ActionKind::RetryProvisioning,
            evidence: json!({}),
            steps: vec![],
            idempotency_key: "k".into(),
        };
        let outcome = |outcome| EntryKind::Outcome {
            outcome,
            reason: "the user still shows ERROR".into(),
            why: None,
        };
        for (id, kind) in [
            ("act-1", intent),
            ("act-1", outcome(Outcome::Failed)),
            ("act-2", outcome(Outcome::Verified)),
            ("act-3", outcome(Outcome::Compensated)),
        ] {
            let draft = EntryDraft::new(run.clone(), kind)
                .action(ActionId::new(id))
                .target(Target::default());
            journal.append(at(2), draft, &[]).expect("append");
        }
        let before = Before {
            acked: [FindingId::new("fnd-4")].into(),
            breaker_open: false,
        };
        let events = events_of_run(&journal, "prod", &run, &before, at(3)).expect("events");
        assert_eq!(
            names(&events),
            [
                "finding_opened",
                "action_quarantined",
                "finding_resolved",
                "action_failed",
                "action_compensated"
            ]
        );
        assert_eq!(events[3].kind.as_deref(), Some("retry-provisioning"));
        assert_eq!(events[3].subject, Subject::Action(ActionId::new("act-1")));
        assert_eq!(events[2].summary, "resolved (was: was blocked)");
    }

    /// The event an `awaiting_approval` entry stands for, from its parts.
    #[test]
    fn an_action_awaiting_approval_is_an_approval_needed_event() {
        let event = approval_needed(
            "prod",
            ActionId::new("act-0123456789abcdef"),
            ActionKind::RemovePushMappings,
            "app=0oa1".into(),
            "remove 3 orphaned push mappings: approve with `remediator approve act-0123456789abcdef`",
            at(0),
        );
        assert_eq!(event.event, EventKind::ApprovalNeeded);
        assert_eq!(event.event.as_str(), "approval_needed");
        assert_eq!(
            event.subject,
            Subject::Action(ActionId::new("act-0123456789abcdef"))
        );
        assert_eq!(event.kind.as_deref(), Some("remove-push-mappings"));
        assert_eq!(event.target.as_deref(), Some("app=0oa1"));
    }

    #[test]
    fn the_breaker_opening_during_the_run_is_told_once() {
        let dir = tempfile::tempdir().expect("dir");
        let journal = SledJournal::open(dir.path()).expect("journal");
        let run = RunId::new("run-1");
        let note = EntryKind::Note {
            text: "failures".into(),
        };
        let open = crate::journal::Effect::OpenBreaker { until: at(3600) };
        journal
            .append(at(1), EntryDraft::new(run.clone(), note), &[open])
            .expect("append");
        let of = |breaker_open| {
            let before = Before {
                breaker_open,
                ..Before::default()
            };
            events_of_run(&journal, "prod", &run, &before, at(2)).expect("events")
        };
        assert_eq!(names(&of(false)), ["circuit_breaker_open"]);
        assert!(of(true).is_empty(), "open already before the run");
    }

    #[test]
    fn a_long_summary_is_cut() {
        let long = "x".repeat(MAX_SUMMARY_CHARS * 2);
        assert_eq!(bounded(&long).chars().count(), MAX_SUMMARY_CHARS);
        assert!(bounded(&long).ends_with('…'));
    }
}
