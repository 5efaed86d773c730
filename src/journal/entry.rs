//! Journal entries: what happened, to which target, in which run, chained by hash.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use strum::{EnumDiscriminants, EnumIter, IntoStaticStr};

use super::error::JournalError;
use super::id::EntryId;
use super::state::Cursor;
use crate::observe::PartId;
use crate::okta::{AppId, UserId};
use crate::vocab::{named, ActionId, ActionKind, FindingId, FindingKind, RunId, SkipReason};

/// What an entry is about.
pub use crate::vocab::Target;

/// `prev_hash` of the first entry in a journal.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The single-object references this target is indexed under.
pub(crate) fn target_refs(target: &Target) -> Vec<TargetRef> {
    let app = target.app_id.iter().map(|id| TargetRef::App(id.clone()));
    let user = target.user_id.iter().map(|id| TargetRef::User(id.clone()));
    let dir = target
        .directory_id
        .iter()
        .map(|id| TargetRef::Directory(id.clone()));
    app.chain(user).chain(dir).collect()
}

/// One object an entry can be looked up by.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum TargetRef {
    App(AppId),
    User(UserId),
    Directory(AppId),
}

impl TargetRef {
    /// Index key prefix: a tag byte, the id's length (u32, big-endian) and the id, so no id can
    /// be a prefix of another's key.
    pub(crate) fn index_prefix(&self) -> Vec<u8> {
        let (tag, id) = match self {
            TargetRef::App(id) => (b'a', id.as_str()),
            TargetRef::User(id) => (b'u', id.as_str()),
            TargetRef::Directory(id) => (b'd', id.as_str()),
        };
        length_prefixed(tag, id)
    }
}

/// `tag`, then `text`'s length as a big-endian u32, then `text`: a prefix-free index key part.
pub(crate) fn length_prefixed(tag: u8, text: &str) -> Vec<u8> {
    let len = u32::try_from(text.len()).unwrap_or(u32::MAX);
    let mut key = Vec::with_capacity(5 + text.len());
    key.push(tag);
    key.extend_from_slice(&len.to_be_bytes());
    key.extend_from_slice(text.as_bytes());
    key
}

/// How an action ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, IntoStaticStr)]
#[strum(serialize_all = "snake_case")]
pub enum Outcome {
    /// The fix was applied and its postcondition holds.
    Verified,
    /// The fix was applied (or attempted) and its postcondition does not hold.
    Failed,
    /// Not taken: the executor's safety gate held it (budget, cooldown, circuit breaker, ...).
    Held,
    /// Not taken: its preconditions no longer held.
    Skipped,
    /// A half-done multi-step fix was undone.
    Compensated,
}
named!(Outcome, "outcome");

/// What happened to a finding, in a `finding` entry.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, EnumIter, IntoStaticStr)]
#[strum(serialize_all = "snake_case")]
pub enum FindingEvent {
    /// First seen (or seen again after it was resolved).
    #[default]
    Opened,
    /// Seen again with evidence not seen before (another user, another event).
    Changed,
    /// Not found by a pass that read every part it depends on.
    Resolved,
    /// A person silenced it until a time or until it changes.
    Acked,
}
named!(FindingEvent, "finding event");

/// Per-run totals recorded when a run finishes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunCounts {
    pub taken: u32,
    pub verified: u32,
    pub failed: u32,
    pub held: u32,
    pub skipped: u32,
    pub compensated: u32,
    pub findings: u32,
}

impl RunCounts {
    /// Adds `other`'s totals to these.
    pub fn add(&mut self, other: &RunCounts) {
        self.taken += other.taken;
        self.verified += other.verified;
        self.failed += other.failed;
        self.held += other.held;
        self.skipped += other.skipped;
        self.compensated += other.compensated;
        self.findings += other.findings;
    }
}

/// The result of one step of a fix.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepOutcome {
    pub ok: bool,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub detail: String,
}

/// What an entry records. Its `type` (serde's tag) and [`EntryKindTag`]'s names are both the
/// variant's name in snake_case; a test holds them equal.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, EnumDiscriminants)]
#[serde(tag = "type", rename_all = "snake_case")]
#[strum_discriminants(
    name(EntryKindTag),
    derive(Hash, EnumIter, IntoStaticStr),
    strum(serialize_all = "snake_case"),
    doc = "The kind of an entry without its data; for filters (`journal list --kind intent`)."
)]
pub enum EntryKind {
    /// A reconcile run began (`trigger`: timer, system_log, requeue, manual; `dry_run`: the pass was
    /// observe-only, the older name it keeps in the journal).
    RunStarted {
        trigger: String,
        #[serde(rename = "dry_run")]
        observe_only: bool,
    },
    /// A run ended, with its totals; `error` when it failed (the org could not be read at
    /// all: nothing was planned), `incomplete` the parts of its observation not read.
    RunFinished {
        counts: RunCounts,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error: Option<String>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        incomplete: Vec<PartId>,
    },
    /// The plan a run carries out (its JSON form) and a one-line summary.
    PlanRecorded { summary: String, plan: Value },
    /// Written before an action is taken: what, why (the plan's evidence), how, and its key.
    Intent {
        action_kind: ActionKind,
        evidence: Value,
        steps: Vec<String>,
        idempotency_key: String,
    },
    /// Written before step `step` is taken.
    StepStarted { step: u32, name: String },
    /// Step `step` ended; written before the next step is taken.
    StepFinished {
        step: u32,
        name: String,
        outcome: StepOutcome,
    },
    /// The postcondition check after a fix.
    Verification { ok: bool, details: Value },
    /// How an action ended, and why: `reason` in words; `why` the tag of the reason an action
    /// was held or skipped for, when it has one (the safety gate's check, a shutdown).
    Outcome {
        outcome: Outcome,
        reason: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        why: Option<SkipReason>,
    },
    /// Something that needs a person (a quarantined fix, a diagnosis), with its evidence: a
    /// finding `finding_id` was opened, changed (new evidence), resolved (gone on a read of
    /// every part it depends on) or acknowledged by a person.
    Finding {
        finding_kind: FindingKind,
        #[serde(default)]
        event: FindingEvent,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        finding_id: Option<FindingId>,
        details: Value,
    },
    /// An enforce action of a rule that requires approval was planned and is held until a
    /// person approves it (`remediator approve`): its kind and, in the entry, its id and
    /// target; `plan_hash` the digest of its planned form; `summary` its reason; `asked`
    /// why it is asked now (`new`, `expired`, `changed`). Written once per request, not on
    /// every pass while it waits unchanged.
    AwaitingApproval {
        action_kind: ActionKind,
        plan_hash: String,
        expires_at: DateTime<Utc>,
        summary: String,
        org: String,
        asked: String,
    },
    /// A person approved the action as planned with `plan_hash`; good until `expires_at`.
    ApprovalGranted {
        action_kind: ActionKind,
        plan_hash: String,
        by: String,
        reason: String,
        expires_at: DateTime<Utc>,
    },
    /// A person rejected the action as planned with `plan_hash`: held until its plan changes.
    ApprovalRejected {
        action_kind: ActionKind,
        plan_hash: String,
        by: String,
        reason: String,
    },
    /// The System Log cursor moved (see `JournalStore::set_cursor`).
    CursorAdvanced { cursor: Cursor },
    /// Free text.
    Note { text: String },
    /// The daemon runs a follow-up pass at `retry_at`: the run's plan held candidates that must
    /// wait (`waiting`: how many per skip reason), the earliest wait ending then.
    RequeueScheduled {
        retry_at: DateTime<Utc>,
        waiting: std::collections::BTreeMap<SkipReason, u32>,
    },
    /// A notification could not be delivered to sink `sink` after `attempts` attempts: the
    /// event, the finding or action it was about, and why (never the sink's URL).
    NotificationFailed {
        sink: String,
        event: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        subject: Option<String>,
        attempts: u32,
        error: String,
    },
    /// The first entry of a journal started from a damaged one's export (`journal new
    /// --continue-from`): the old chain's last entry and hash, how many entries were readable,
    /// and where the old chain breaks, if it does.
    ChainContinued {
        previous_last_id: String,
        previous_last_hash: String,
        previous_entries: u64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        previous_break: Option<String>,
    },
    /// The entries up to and including `anchor_id` were pruned (`journal prune`, or the
    /// daemon's `safety.journal_retention`): the chain now starts after the anchor, whose hash
    /// the next entry links to; `exported_to` names where the pruned entries were exported.
    ChainAnchored {
        anchor_id: String,
        anchor_hash: String,
        anchor_time: DateTime<Utc>,
        pruned: u64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        exported_to: Option<String>,
    },
}

impl EntryKind {
    /// The kind's tag, as in [`EntryKindTag`].
    pub fn tag(&self) -> EntryKindTag {
        self.into()
    }
}

named!(EntryKindTag, "entry kind");

/// What a caller supplies for a new entry; the journal adds the id, time and hashes.
#[derive(Clone, Debug, PartialEq)]
pub struct EntryDraft {
    pub run_id: RunId,
    pub action_id: Option<ActionId>,
    pub target: Target,
    pub kind: EntryKind,
    /// Free-form extra data; `Value::Null` when there is none.
    pub payload: Value,
}

impl EntryDraft {
    /// A draft for `run_id` with no action, no target and no payload.
    pub fn new(run_id: impl Into<RunId>, kind: EntryKind) -> Self {
        EntryDraft {
            run_id: run_id.into(),
            action_id: None,
            target: Target::default(),
            kind,
            payload: Value::Null,
        }
    }

    pub fn action(mut self, action_id: impl Into<ActionId>) -> Self {
        self.action_id = Some(action_id.into());
        self
    }

    pub fn target(mut self, target: Target) -> Self {
        self.target = target;
        self
    }

    pub fn payload(mut self, payload: Value) -> Self {
        self.payload = payload;
        self
    }
}

/// One journal entry as stored and exported.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub id: EntryId,
    pub time: DateTime<Utc>,
    pub run_id: RunId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action_id: Option<ActionId>,
    #[serde(default)]
    pub target: Target,
    pub kind: EntryKind,
    #[serde(default)]
    pub payload: Value,
    /// `hash` of the entry before this one, or [`GENESIS_HASH`].
    pub prev_hash: String,
    /// sha256 (hex) of this entry's canonical bytes: every field but `hash`, as JSON.
    pub hash: String,
}

/// The hashed part of an entry: all fields but `hash`, in a fixed order.
#[derive(Serialize)]
struct Canonical<'a> {
    id: &'a EntryId,
    time: &'a DateTime<Utc>,
    run_id: &'a RunId,
    action_id: &'a Option<ActionId>,
    target: &'a Target,
    kind: &'a EntryKind,
    payload: &'a Value,
    prev_hash: &'a str,
}

impl Entry {
    /// Build an entry from a draft and seal it with its hash.
    pub(crate) fn seal(
        draft: EntryDraft,
        id: EntryId,
        time: DateTime<Utc>,
        prev_hash: String,
    ) -> Result<Entry, JournalError> {
        let mut entry = Entry {
            id,
            time,
            run_id: draft.run_id,
            action_id: draft.action_id,
            target: draft.target,
            kind: draft.kind,
            payload: draft.payload,
            prev_hash,
            hash: String::new(),
        };
        entry.hash = entry.compute_hash()?;
        Ok(entry)
    }

    /// The canonical bytes the hash covers.
    pub(crate) fn canonical_value(&self) -> Result<Value, JournalError> {
        let canonical = Canonical {
            id: &self.id,
            time: &self.time,
            run_id: &self.run_id,
            action_id: &self.action_id,
            target: &self.target,
            kind: &self.kind,
            payload: &self.payload,
            prev_hash: &self.prev_hash,
        };
        serde_json::to_value(canonical).map_err(|source| JournalError::Encode {
            what: "entry",
            source,
        })
    }

    /// sha256 hex of the canonical bytes, recomputed from the fields.
    pub fn compute_hash(&self) -> Result<String, JournalError> {
        let bytes = serde_json::to_vec(&self.canonical_value()?).map_err(|source| {
            JournalError::Encode {
                what: "entry",
                source,
            }
        })?;
        Ok(hex::encode(Sha256::digest(&bytes)))
    }

    /// The entry's outcome, if it is an `Outcome` entry.
    pub fn outcome(&self) -> Option<Outcome> {
        match &self.kind {
            EntryKind::Outcome { outcome, .. } => Some(*outcome),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_tags_and_outcomes_parse_from_their_names() {
        use strum::IntoEnumIterator;
        for tag in EntryKindTag::iter() {
            assert_eq!(tag.as_str().parse::<EntryKindTag>(), Ok(tag));
        }
        assert!("intents".parse::<EntryKindTag>().is_err());
        assert_eq!("compensated".parse::<Outcome>(), Ok(Outcome::Compensated));
        assert!("ok".parse::<Outcome>().is_err());
    }

    /// One entry kind of each variant.
    fn one_of_each_kind() -> Vec<EntryKind> {
        let cursor = Cursor {
            next_url: "https://example.okta.com/api/v1/logs?after=1".to_owned(),
            last_published: None,
            last_uuid: None,
        };
        vec![
            EntryKind::RunStarted {
                trigger: "manual".to_owned(),
                observe_only: false,
            },
            EntryKind::RunFinished {
                counts: RunCounts::default(),
                error: None,
                incomplete: Vec::new(),
            },
            EntryKind::PlanRecorded {
                summary: String::new(),
                plan: Value::Null,
            },
            EntryKind::Intent {
                action_kind: ActionKind::ForceSync,
                evidence: Value::Null,
                steps: Vec::new(),
                idempotency_key: "k".to_owned(),
            },
            EntryKind::StepStarted {
                step: 2,
                name: "delete mapping".to_owned(),
            },
            EntryKind::StepFinished {
                step: 2,
                name: "delete mapping".to_owned(),
                outcome: StepOutcome {
                    ok: true,
                    detail: String::new(),
                },
            },
            EntryKind::Verification {
                ok: true,
                details: Value::Null,
            },
            EntryKind::Outcome {
                outcome: Outcome::Verified,
                reason: String::new(),
                why: Some(SkipReason::Cooldown),
            },
            EntryKind::Finding {
                finding_kind: FindingKind::FixQuarantined,
                event: FindingEvent::Changed,
                finding_id: Some(FindingId::new("fnd-0123456789abcdef")),
                details: Value::Null,
            },
            EntryKind::AwaitingApproval {
                action_kind: ActionKind::RemovePushMappings,
                plan_hash: String::new(),
                expires_at: DateTime::UNIX_EPOCH,
                summary: String::new(),
                org: String::new(),
                asked: "new".to_owned(),
            },
            EntryKind::ApprovalGranted {
                action_kind: ActionKind::RemovePushMappings,
                plan_hash: String::new(),
                by: String::new(),
                reason: String::new(),
                expires_at: DateTime::UNIX_EPOCH,
            },
            EntryKind::ApprovalRejected {
                action_kind: ActionKind::RemovePushMappings,
                plan_hash: String::new(),
                by: String::new(),
                reason: String::new(),
            },
            EntryKind::CursorAdvanced { cursor },
            EntryKind::Note {
                text: String::new(),
            },
            EntryKind::RequeueScheduled {
                retry_at: DateTime::UNIX_EPOCH,
                waiting: [(SkipReason::TooRecent, 1)].into_iter().collect(),
            },
            EntryKind::NotificationFailed {
                sink: "ops".to_owned(),
                event: "finding_opened".to_owned(),
                subject: None,
                attempts: 1,
                error: String::new(),
            },
            EntryKind::ChainContinued {
                previous_last_id: String::new(),
                previous_last_hash: String::new(),
                previous_entries: 0,
                previous_break: None,
            },
            EntryKind::ChainAnchored {
                anchor_id: String::new(),
                anchor_hash: String::new(),
                anchor_time: DateTime::UNIX_EPOCH,
                pruned: 0,
                exported_to: None,
            },
        ]
    }

    #[test]
    fn every_serialized_kind_carries_its_tag_name() {
        use strum::IntoEnumIterator;
        let kinds = one_of_each_kind();
        let tags: Vec<EntryKindTag> = kinds.iter().map(EntryKind::tag).collect();
        assert_eq!(
            tags,
            EntryKindTag::iter().collect::<Vec<_>>(),
            "one of each"
        );
        for kind in &kinds {
            let value = serde_json::to_value(kind).expect("kind serializes");
            assert_eq!(value["type"], kind.tag().as_str());
        }
    }

    #[test]
    fn target_key_names_every_part_and_refs_cover_indexed_parts() {
        let target = Target {
            app_id: Some("0oa1".into()),
            user_id: Some("00u2".into()),
            directory_id: Some("0oa3".into()),
            mapping_ids: vec!["gPm1".into(), "gPm2".into()],
        };
        assert_eq!(
            target.key(),
            "app=0oa1;user=00u2;dir=0oa3;mappings=gPm1,gPm2"
        );
        assert_eq!(Target::app("0oa1").key(), "app=0oa1");
        assert_eq!(target_refs(&target).len(), 3);
        assert_ne!(
            TargetRef::App("ab".into()).index_prefix()[..],
            TargetRef::App("abc".into()).index_prefix()[..3 + 4]
        );
    }

    #[test]
    fn hash_covers_every_field_but_itself() {
        let draft = EntryDraft::new(
            "run",
            EntryKind::Note {
                text: "x".to_owned(),
            },
        );
        let id = EntryId::next(None, DateTime::<Utc>::UNIX_EPOCH);
        let entry = Entry::seal(
            draft,
            id,
            DateTime::<Utc>::UNIX_EPOCH,
            GENESIS_HASH.to_owned(),
        )
        .expect("entry seals");
        assert_eq!(entry.compute_hash().expect("hash"), entry.hash);
        let mut changed = entry.clone();
        changed.run_id = "other".into();
        assert_ne!(changed.compute_hash().expect("hash"), entry.hash);
        let mut rehashed = entry.clone();
        rehashed.hash = "f".repeat(64);
        assert_eq!(rehashed.compute_hash().expect("hash"), entry.hash);
    }
}
