//! Retention: pruning the oldest entries of the chain while it stays verifiable. The pruned
//! prefix is exported first (the lines of `journal export`), then deleted in chunks; each
//! chunk's transaction moves the anchor (the last pruned entry's id, hash and time, in `meta`)
//! with it, so a crash mid-prune leaves a chain that verifies from its anchor. The cut never
//! goes past what the journal still needs: a run that started without finishing, an action
//! whose intent has no outcome yet, and the entries of an unfinished multi-step fix (crash
//! recovery reads them). Open findings, cooldowns,
//! attempts, the breaker and quarantines live in the state trees, which are not entries and
//! are never pruned. A `chain_anchored` entry records each prune in the chain itself. The last
//! entry may be pruned too: the recorded head is then the anchor, and a tail record naming an
//! entry at or before the anchor is not a loss.

use std::collections::BTreeSet;
use std::io::Write;
use std::sync::PoisonError;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sled::transaction::TransactionError;
use sled::Transactional;

use super::index_keys;
use super::layout::{decode, encode, read_json, ANCHOR_KEY, T_ENTRIES, T_META};
use super::SledJournal;
use crate::journal::entry::{Entry, EntryDraft, EntryKind};
use crate::journal::error::JournalError;
use crate::journal::id::EntryId;
use crate::journal::JournalStore;
use crate::vocab::{ActionId, RunId};

/// Entries deleted per transaction (each with its index records and the anchor's move).
pub const PRUNE_CHUNK: usize = 1000;

/// The last pruned entry: the chain's remaining first entry links to its hash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Anchor {
    pub id: EntryId,
    pub hash: String,
    pub time: DateTime<Utc>,
    /// Entries pruned in all, over every prune.
    pub pruned_total: u64,
}

/// What a prune did.
#[derive(Clone, Debug, PartialEq)]
pub struct PruneReport {
    /// Entries exported and deleted.
    pub pruned: u64,
    /// The anchor now in force (`None` when nothing was ever pruned).
    pub anchor: Option<Anchor>,
    /// Why the cut stopped before the cut-off time, when it did.
    pub kept_because: Option<String>,
    /// The `chain_anchored` entry recording the prune (none when nothing was pruned).
    pub entry: Option<Entry>,
}

/// A prune that did not happen (nothing was deleted).
#[derive(Debug, thiserror::Error)]
pub enum PruneError {
    #[error(
        "the journal's chain breaks after {checked} good entries ({detail}): it is not pruned \
         (`journal verify` says where; `journal export --best-effort` saves what reads)"
    )]
    Broken { checked: u64, detail: String },
    #[error("exporting the entries to prune (nothing was pruned)")]
    Export {
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Journal(#[from] JournalError),
}

/// Where the cut is: the last entry to prune, and why it is not later.
struct Cut {
    last: Option<Entry>,
    count: u64,
    kept_because: Option<String>,
}

impl SledJournal {
    /// The anchor in force, if entries were ever pruned.
    pub fn anchor(&self) -> Result<Option<Anchor>, JournalError> {
        read_json(self.tree(T_META), "meta", ANCHOR_KEY)
    }

    /// Exports to `export` and then deletes the entries older than `before`, as far as the
    /// journal no longer needs them (see the module's rules); `exported_to` is what the
    /// `chain_anchored` entry says of where they went. A broken chain is not pruned.
    pub fn prune(
        &self,
        before: DateTime<Utc>,
        now: DateTime<Utc>,
        export: &mut dyn Write,
        exported_to: Option<String>,
    ) -> Result<PruneReport, PruneError> {
        let verified = self.verify()?;
        if let Some(brk) = &verified.first_break {
            return Err(PruneError::Broken {
                checked: verified.entries_checked,
                detail: brk.to_string(),
            });
        }
        // Appends go on meanwhile: they add entries after the head, newer than `before`, and
        // never change an entry at or before the cut; each deletion chunk moves the anchor in
        // its own transaction, under the appends' lock, so a verify sees a whole chain.
        let cut = self.find_cut(before)?;
        let Some(last) = cut.last else {
            return Ok(PruneReport {
                pruned: 0,
                anchor: self.anchor()?,
                kept_because: cut.kept_because,
                entry: None,
            });
        };
        self.export_through(last.id, export)?;
        let anchor = self.delete_through(&last)?;
        self.db.flush().map_err(JournalError::storage("flush"))?;
        let kind = EntryKind::ChainAnchored {
            anchor_id: anchor.id.to_string(),
            anchor_hash: anchor.hash.clone(),
            anchor_time: anchor.time,
            pruned: cut.count,
            exported_to,
        };
        let run_id = RunId::new(format!(
            "prune-{}-{}",
            now.format("%Y%m%dT%H%M%SZ"),
            &uuid::Uuid::new_v4().simple().to_string()[..8]
        ));
        let entry = self.append(now, EntryDraft::new(run_id, kind), &[])?;
        Ok(PruneReport {
            pruned: cut.count,
            anchor: Some(anchor),
            kept_because: cut.kept_because,
            entry: Some(entry),
        })
    }

    /// The last entry older than `before` after which nothing is left open.
    fn find_cut(&self, before: DateTime<Utc>) -> Result<Cut, JournalError> {
        let unfinished: BTreeSet<ActionId> = self
            .unfinished_fixes()?
            .into_iter()
            .map(|f| f.action_id)
            .collect();
        let mut open_runs: BTreeSet<RunId> = BTreeSet::new();
        let mut open_actions: BTreeSet<ActionId> = BTreeSet::new();
        let mut cut = Cut {
            last: None,
            count: 0,
            kept_because: None,
        };
        let mut seen = 0u64;
        for item in self.tree(T_ENTRIES).iter() {
            let (key, value) = item.map_err(JournalError::storage("prune scan"))?;
            let entry: Entry = decode("entries", &key, &value)?;
            if entry.time >= before {
                break;
            }
            if let Some(action) = entry.action_id.as_ref().filter(|a| unfinished.contains(*a)) {
                cut.kept_because = Some(format!(
                    "entry {} belongs to the unfinished fix {action} (crash recovery reads it)",
                    entry.id
                ));
                break;
            }
            track(&entry, &mut open_runs, &mut open_actions);
            seen += 1;
            if open_runs.is_empty() && open_actions.is_empty() {
                cut.count = seen;
                cut.last = Some(entry);
            }
        }
        if cut.kept_because.is_none() {
            if let Some(run) = open_runs.first() {
                cut.kept_because = Some(format!("run {run} has not finished before the cut-off"));
            } else if let Some(action) = open_actions.first() {
                cut.kept_because = Some(format!(
                    "action {action} has an intent without an outcome before the cut-off"
                ));
            }
        }
        Ok(cut)
    }

    /// Writes every entry up to `last` as a JSON line, then flushes `out`.
    fn export_through(&self, last: EntryId, out: &mut dyn Write) -> Result<(), PruneError> {
        for item in self.tree(T_ENTRIES).range(..=last.to_key()) {
            let (key, value) = item.map_err(JournalError::storage("prune export"))?;
            let entry: Entry = decode("entries", &key, &value)?;
            let line = encode("entry", &entry)?;
            out.write_all(&line)
                .and_then(|()| out.write_all(b"\n"))
                .map_err(|source| PruneError::Export { source })?;
        }
        out.flush().map_err(|source| PruneError::Export { source })
    }

    /// Deletes the entries up to `last` with their index records, [`PRUNE_CHUNK`] at a time,
    /// each chunk moving the anchor in the same transaction.
    fn delete_through(&self, last: &Entry) -> Result<Anchor, JournalError> {
        let mut anchor = self.anchor()?;
        loop {
            let mut chunk: Vec<Entry> = Vec::with_capacity(PRUNE_CHUNK);
            for item in self.tree(T_ENTRIES).range(..=last.id.to_key()) {
                let (key, value) = item.map_err(JournalError::storage("prune"))?;
                chunk.push(decode("entries", &key, &value)?);
                if chunk.len() == PRUNE_CHUNK {
                    break;
                }
            }
            let Some(end) = chunk.last() else { break };
            let moved = Anchor {
                id: end.id,
                hash: end.hash.clone(),
                time: end.time,
                pruned_total: anchor.as_ref().map_or(0, |a| a.pruned_total) + chunk.len() as u64,
            };
            let anchor_bytes = encode("anchor", &moved)?;
            let keys: Vec<(usize, Vec<u8>)> = chunk.iter().flat_map(index_keys).collect();
            // A verify (which holds the appends' lock) sees the chain before or after a chunk.
            let _appends = self.head.lock().unwrap_or_else(PoisonError::into_inner);
            let result = self.trees.as_slice().transaction(|tx| {
                for entry in &chunk {
                    tx[T_ENTRIES].remove(&entry.id.to_key()[..])?;
                }
                for (tree, key) in &keys {
                    tx[*tree].remove(key.as_slice())?;
                }
                tx[T_META].insert(ANCHOR_KEY, anchor_bytes.as_slice())?;
                Ok(())
            });
            result.map_err(|e: TransactionError<JournalError>| match e {
                TransactionError::Abort(e) => e,
                TransactionError::Storage(source) => JournalError::Storage {
                    op: "prune",
                    source,
                },
            })?;
            anchor = Some(moved);
        }
        anchor.ok_or_else(|| self.damaged("no entry was pruned though one was found to prune"))
    }
}

/// Opens and closes runs and actions as their entries pass.
fn track(entry: &Entry, runs: &mut BTreeSet<RunId>, actions: &mut BTreeSet<ActionId>) {
    match &entry.kind {
        EntryKind::RunStarted { .. } => {
            runs.insert(entry.run_id.clone());
        }
        EntryKind::RunFinished { .. } => {
            runs.remove(&entry.run_id);
        }
        EntryKind::Intent { .. } => {
            if let Some(action) = &entry.action_id {
                actions.insert(action.clone());
            }
        }
        EntryKind::Outcome { .. } => {
            if let Some(action) = &entry.action_id {
                actions.remove(action);
            }
        }
        _ => {}
    }
}
