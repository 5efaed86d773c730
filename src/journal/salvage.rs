//! The way out of a damaged journal: export what is readable of it, and start a new journal
//! whose first entry records the old chain's last hash, carrying over what keeps the next pass
//! safe (the idempotency keys, and the fixes begun and not finished, so recovery still completes
//! or compensates them).

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{DateTime, Utc};

use super::entry::{Entry, EntryDraft, EntryKind};
use super::error::JournalError;
use super::id::EntryId;
use super::state::Effect;
use super::verify::ChainWalker;
use super::{JournalStore, SledJournal};
use crate::vocab::ActionId;

/// Most bytes of one file read when salvaging entries from the database's files.
pub const MAX_SALVAGE_FILE_BYTES: u64 = 1 << 30;

/// What a best-effort export could read.
#[derive(Debug, Default)]
pub struct Salvage {
    /// Every readable entry whose contents match its own hash, in id order, once each.
    pub entries: Vec<Entry>,
    /// How many of them only a scan of the database's files found (sled no longer serves them).
    pub only_in_files: usize,
    /// What could not be read, in words.
    pub problems: Vec<String>,
}

/// What is readable of the journal in `dir`: the database's files are scanned for entries first
/// (sled drops a damaged log's tail when it opens it, and may then write over it), then the
/// entries sled serves are added. Only entries that match their own hash are kept.
pub fn salvage(dir: &Path) -> Salvage {
    let mut found = BTreeMap::new();
    let mut salvage = Salvage::default();
    scan_dir(dir, &mut found, &mut salvage.problems);
    let mut served = 0;
    match SledJournal::open(dir) {
        Ok(journal) => {
            let mut sink = Vec::new();
            if let Err(error) = journal.export(&mut sink) {
                salvage.problems.push(format!(
                    "sled served part of the entries: {}",
                    crate::error_chain::error_chain(&error)
                ));
            }
            for line in sink.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
                if let Ok(entry) = serde_json::from_slice::<Entry>(line) {
                    served += 1;
                    keep(entry, &mut found);
                }
            }
        }
        Err(error) => salvage.problems.push(format!(
            "sled cannot open the journal: {}",
            crate::error_chain::error_chain(&error)
        )),
    }
    salvage.only_in_files = found.len().saturating_sub(served);
    salvage.entries = found.into_values().collect();
    salvage
}

fn keep(entry: Entry, found: &mut BTreeMap<EntryId, Entry>) {
    if entry.compute_hash().is_ok_and(|h| h == entry.hash) {
        found.entry(entry.id).or_insert(entry);
    }
}

/// Entries serialized in the files under `dir` (sled stores each entry's JSON whole).
fn scan_dir(dir: &Path, found: &mut BTreeMap<EntryId, Entry>, problems: &mut Vec<String>) {
    let Ok(listing) = std::fs::read_dir(dir) else {
        problems.push(format!("{} cannot be listed", dir.display()));
        return;
    };
    for item in listing.flatten() {
        let path = item.path();
        if path.is_dir() {
            scan_dir(&path, found, problems);
            continue;
        }
        let size = item.metadata().map(|m| m.len()).unwrap_or(0);
        if size > MAX_SALVAGE_FILE_BYTES {
            problems.push(format!(
                "{} is larger than {MAX_SALVAGE_FILE_BYTES} bytes: not scanned",
                path.display()
            ));
            continue;
        }
        match std::fs::read(&path) {
            Ok(bytes) => scan_bytes(&bytes, found),
            Err(error) => problems.push(format!("{} cannot be read: {error}", path.display())),
        }
    }
}

/// How a serialized entry begins (its first field is its id).
const ENTRY_START: &[u8] = b"{\"id\":\"";

fn scan_bytes(bytes: &[u8], found: &mut BTreeMap<EntryId, Entry>) {
    let mut at = 0;
    while let Some(offset) = find(&bytes[at..], ENTRY_START) {
        let start = at + offset;
        let mut stream = serde_json::Deserializer::from_slice(&bytes[start..]).into_iter::<Entry>();
        if let Some(Ok(entry)) = stream.next() {
            keep(entry, found);
        }
        at = start + 1;
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// What `journal new --continue-from` did.
#[derive(Debug)]
pub struct Continued {
    /// The old chain's last entry, whose hash the new journal's first entry records.
    pub previous_last: EntryId,
    pub previous_entries: u64,
    /// Where the old chain breaks, if it does (the export is what was readable).
    pub previous_break: Option<String>,
    /// The fixes begun and not finished in the old chain, carried over.
    pub unfinished: Vec<ActionId>,
}

/// Starts the empty journal `journal` as the continuation of the chain `exported` holds (a
/// best-effort export): its first entry, `chain_continued`, records the old chain's last id and
/// hash, how many entries it had and where it breaks, and marks every old idempotency key seen;
/// then each fix begun and not finished in the old chain is journaled again (its intent and
/// steps, at their old times), so the next pass completes or compensates it.
pub fn continue_chain(
    journal: &SledJournal,
    mut exported: Vec<Entry>,
    now: DateTime<Utc>,
) -> Result<Continued, JournalError> {
    if journal.head_id().is_some() {
        return Err(JournalError::InvalidEffect {
            reason: "a new journal can only continue a chain when it holds no entry yet".into(),
        });
    }
    exported.sort_by_key(|e| e.id);
    exported.dedup_by_key(|e| e.id);
    let Some(last) = exported.last() else {
        return Err(JournalError::InvalidEffect {
            reason: "the export holds no entry".into(),
        });
    };
    let previous_break = chain_break(&exported);
    let keys: Vec<Effect> = exported
        .iter()
        .filter_map(|e| match &e.kind {
            EntryKind::Intent {
                idempotency_key, ..
            } => Some(Effect::MarkSeen {
                idempotency_key: idempotency_key.clone(),
            }),
            _ => None,
        })
        .collect();
    let first = EntryKind::ChainContinued {
        previous_last_id: last.id.to_string(),
        previous_last_hash: last.hash.clone(),
        previous_entries: exported.len() as u64,
        previous_break: previous_break.clone(),
    };
    let draft = EntryDraft::new(format!("continue-{}", now.format("%Y%m%dT%H%M%SZ")), first);
    journal.append(now, draft, &keys)?;
    let mut unfinished = Vec::new();
    for (action_id, attempt) in unfinished_attempts(&exported) {
        replay_fix(journal, &attempt)?;
        unfinished.push(action_id);
    }
    Ok(Continued {
        previous_last: last.id,
        previous_entries: exported.len() as u64,
        previous_break,
        unfinished,
    })
}

fn chain_break(entries: &[Entry]) -> Option<String> {
    let mut walker = ChainWalker::new();
    for entry in entries {
        let bytes = serde_json::to_vec(entry).unwrap_or_default();
        if let Err(brk) = walker.check(&entry.id.to_key(), &bytes) {
            return Some(brk.to_string());
        }
    }
    None
}

/// For each action whose latest intent has no outcome after it: the entries of that attempt.
fn unfinished_attempts(entries: &[Entry]) -> Vec<(ActionId, Vec<&Entry>)> {
    let mut by_action: BTreeMap<&ActionId, Vec<&Entry>> = BTreeMap::new();
    for entry in entries {
        if let Some(action) = &entry.action_id {
            by_action.entry(action).or_default().push(entry);
        }
    }
    by_action
        .into_iter()
        .filter_map(|(action, entries)| {
            let start = entries
                .iter()
                .rposition(|e| matches!(e.kind, EntryKind::Intent { .. }))?;
            let attempt: Vec<&Entry> = entries[start..].to_vec();
            let finished = attempt
                .iter()
                .any(|e| matches!(e.kind, EntryKind::Outcome { .. }));
            (!finished).then(|| (action.clone(), attempt))
        })
        .collect()
}

/// Journals an unfinished attempt again: its intent (begun at its old time, so recovery judges
/// its age rightly) and its steps.
fn replay_fix(journal: &SledJournal, attempt: &[&Entry]) -> Result<(), JournalError> {
    let mut provisioning_enabled = false;
    for entry in attempt {
        let draft = EntryDraft {
            run_id: entry.run_id.clone(),
            action_id: entry.action_id.clone(),
            target: entry.target.clone(),
            kind: entry.kind.clone(),
            payload: entry.payload.clone(),
        };
        match &entry.kind {
            EntryKind::Intent { .. } => {
                journal.begin_fix(entry.time, draft, &[])?;
            }
            EntryKind::StepStarted { .. } => {
                journal.append(entry.time, draft, &[])?;
            }
            EntryKind::StepFinished { name, outcome, .. } => {
                if outcome.ok && name.starts_with("enable-provisioning") {
                    provisioning_enabled = true;
                }
                if outcome.ok && name.contains("disable-provisioning") {
                    provisioning_enabled = false;
                }
                journal.record_step(entry.time, draft, provisioning_enabled)?;
            }
            _ => {}
        }
    }
    Ok(())
}
