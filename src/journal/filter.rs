//! Which entries `list` returns.

use chrono::{DateTime, Utc};

use super::entry::{target_refs, Entry, EntryKindTag, Outcome, TargetRef};
use crate::vocab::{ActionId, RunId};

/// Criteria for `JournalStore::list`; every field set must match. `Default` matches everything.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EntryFilter {
    /// Entries written at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Entries written at or before this time.
    pub until: Option<DateTime<Utc>>,
    pub kind: Option<EntryKindTag>,
    /// Entries whose target names this app, user or directory.
    pub target: Option<TargetRef>,
    /// Only `Outcome` entries with this outcome.
    pub outcome: Option<Outcome>,
    pub run_id: Option<RunId>,
    pub action_id: Option<ActionId>,
    /// At most this many entries (the oldest matching ones).
    pub limit: Option<usize>,
}

impl EntryFilter {
    /// Whether `entry` satisfies every criterion but `limit`.
    pub fn matches(&self, entry: &Entry) -> bool {
        self.since.is_none_or(|since| entry.time >= since)
            && self.until.is_none_or(|until| entry.time <= until)
            && self.kind.is_none_or(|kind| entry.kind.tag() == kind)
            && self
                .target
                .as_ref()
                .is_none_or(|t| target_refs(&entry.target).contains(t))
            && self.outcome.is_none_or(|o| entry.outcome() == Some(o))
            && self.run_id.as_ref().is_none_or(|run| &entry.run_id == run)
            && self
                .action_id
                .as_ref()
                .is_none_or(|action| entry.action_id.as_ref() == Some(action))
    }
}
