//! Walking the hash chain: the first break, named precisely.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::entry::{Entry, GENESIS_HASH};
use super::id::EntryId;

/// The chain's recorded end, kept in the same transaction as each append.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Head {
    pub id: EntryId,
    pub hash: String,
}

/// What `verify()` found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifyReport {
    /// Entries read before the first break (all of them if there is none).
    pub entries_checked: u64,
    /// Where the walk started when entries before it were pruned: the last pruned entry.
    pub anchor: Option<super::Anchor>,
    /// The first break, or `None` if the chain is intact.
    pub first_break: Option<ChainBreak>,
}

impl VerifyReport {
    pub fn is_ok(&self) -> bool {
        self.first_break.is_none()
    }
}

/// The first place the chain does not hold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChainBreak {
    /// A stored record is not a decodable entry.
    Undecodable { key: String, reason: String },
    /// The entry stored under `key` carries another id: entries were moved or swapped.
    MisplacedEntry { key: String, id: EntryId },
    /// The entry's fields do not match its own hash: it was modified.
    Tampered {
        id: EntryId,
        stored: String,
        computed: String,
    },
    /// Sequence numbers skip: entries between `after` and `id` are missing.
    Missing {
        after: Option<EntryId>,
        id: EntryId,
        expected_seq: u64,
    },
    /// Sequence numbers go back or repeat: entries are out of order.
    Reordered { after: EntryId, id: EntryId },
    /// The entry does not link to the previous entry's hash.
    BrokenLink {
        id: EntryId,
        expected_prev: String,
        found_prev: String,
    },
    /// The recorded head is not the last entry: entries at the end were deleted (or added
    /// without the journal).
    HeadMismatch {
        head: Option<EntryId>,
        last: Option<EntryId>,
    },
    /// The last entry written, as the tail record beside the database has it, is not in the
    /// chain: the database lost its end (sled drops a damaged log's tail when it opens it).
    EntriesLost {
        written: EntryId,
        last: Option<EntryId>,
    },
}

impl fmt::Display for ChainBreak {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChainBreak::Undecodable { key, reason } => {
                write!(f, "record under key {key} is not a journal entry: {reason}")
            }
            ChainBreak::MisplacedEntry { key, id } => {
                write!(f, "entry {id} is stored under key {key}: entries were moved or swapped")
            }
            ChainBreak::Tampered { id, stored, computed } => write!(
                f,
                "entry {id} was modified: stored hash {stored}, contents hash to {computed}"
            ),
            ChainBreak::Missing { after, id, expected_seq } => {
                let after = after.map_or("the start".to_owned(), |a| a.to_string());
                write!(
                    f,
                    "entries missing between {after} and {id}: expected sequence {expected_seq}, found {}",
                    id.seq()
                )
            }
            ChainBreak::Reordered { after, id } => {
                write!(f, "entry {id} follows {after} but has an earlier sequence: entries reordered")
            }
            ChainBreak::BrokenLink { id, expected_prev, found_prev } => write!(
                f,
                "entry {id} does not link to the entry before it: prev_hash {found_prev}, expected {expected_prev}"
            ),
            ChainBreak::EntriesLost { written, last } => {
                let last = last.map_or("no entry".to_owned(), |l| format!("entry {l}"));
                write!(
                    f,
                    "entries at the end were lost: the last entry written was {written}, the \
                     database now ends at {last}"
                )
            }
            ChainBreak::HeadMismatch { head, last } => {
                let show = |id: &Option<EntryId>| id.map_or("none".to_owned(), |i| i.to_string());
                write!(
                    f,
                    "the journal's recorded last entry is {} but the last stored entry is {}: entries at the end are missing",
                    show(head),
                    show(last)
                )
            }
        }
    }
}

/// Walks entries in key order and stops at the first break.
pub(crate) struct ChainWalker {
    last: Option<(EntryId, String)>,
    checked: u64,
}

impl ChainWalker {
    pub fn new() -> Self {
        ChainWalker {
            last: None,
            checked: 0,
        }
    }

    /// A walk whose first entry must follow `anchor` (the last entry pruned).
    pub fn from_anchor(anchor: Option<&super::Anchor>) -> Self {
        ChainWalker {
            last: anchor.map(|a| (a.id, a.hash.clone())),
            checked: 0,
        }
    }

    /// Check the record stored under `key`.
    pub fn check(&mut self, key: &[u8], value: &[u8]) -> Result<(), ChainBreak> {
        let key_text = EntryId::from_key(key).map_or_else(|| hex::encode(key), |id| id.to_string());
        let entry: Entry = serde_json::from_slice(value).map_err(|e| ChainBreak::Undecodable {
            key: key_text.clone(),
            reason: e.to_string(),
        })?;
        if EntryId::from_key(key) != Some(entry.id) {
            return Err(ChainBreak::MisplacedEntry {
                key: key_text,
                id: entry.id,
            });
        }
        self.check_hash(&entry)?;
        self.check_link(&entry)?;
        self.last = Some((entry.id, entry.hash));
        self.checked += 1;
        Ok(())
    }

    fn check_hash(&self, entry: &Entry) -> Result<(), ChainBreak> {
        let computed = entry.compute_hash().map_err(|e| ChainBreak::Undecodable {
            key: entry.id.to_string(),
            reason: e.to_string(),
        })?;
        if computed == entry.hash {
            return Ok(());
        }
        Err(ChainBreak::Tampered {
            id: entry.id,
            stored: entry.hash.clone(),
            computed,
        })
    }

    fn check_link(&self, entry: &Entry) -> Result<(), ChainBreak> {
        let (after, expected_prev, expected_seq) = match &self.last {
            None => (None, GENESIS_HASH.to_owned(), 1),
            Some((id, hash)) => (Some(*id), hash.clone(), id.seq() + 1),
        };
        if let Some(after) = after {
            if entry.id.seq() <= after.seq() {
                return Err(ChainBreak::Reordered {
                    after,
                    id: entry.id,
                });
            }
        }
        if entry.id.seq() != expected_seq {
            return Err(ChainBreak::Missing {
                after,
                id: entry.id,
                expected_seq,
            });
        }
        if entry.prev_hash != expected_prev {
            return Err(ChainBreak::BrokenLink {
                id: entry.id,
                expected_prev,
                found_prev: entry.prev_hash.clone(),
            });
        }
        Ok(())
    }

    /// After the last record: the recorded head must be the last entry.
    pub fn finish(self, head: Option<Head>) -> VerifyReport {
        let last = self.last.as_ref().map(|(id, hash)| Head {
            id: *id,
            hash: hash.clone(),
        });
        let first_break = (last != head).then(|| ChainBreak::HeadMismatch {
            head: head.map(|h| h.id),
            last: last.map(|l| l.id),
        });
        VerifyReport {
            entries_checked: self.checked,
            anchor: None,
            first_break,
        }
    }

    /// Stop at `brk`.
    pub fn broken(self, brk: ChainBreak) -> VerifyReport {
        VerifyReport {
            entries_checked: self.checked,
            anchor: None,
            first_break: Some(brk),
        }
    }
}
