//! The sled-backed journal store: entries, indices and executor state in separate trees,
//! written together in one transaction and flushed before `append` returns.

mod effects;
mod layout;
mod prune;
mod tail;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use sled::transaction::{TransactionError, Transactional};
use sled::Tree;

use self::effects::{apply_effect, check_effects_for_secrets, validate_effects};
use self::layout::{
    decode, decode_u32, encode, id_suffix, read_json, with_id, ActionRecord, ACTION_TAG,
    BREAKER_KEY, CURSOR_KEY, HEAD_KEY, RUN_TAG, TEMPORARY_DIR_LABEL, TREE_NAMES, T_ACTIONS,
    T_APPROVALS, T_ATTEMPTS, T_COOLDOWNS, T_ENTRIES, T_FINDINGS, T_FIXES, T_IDX_ACTION, T_IDX_RUN,
    T_IDX_TARGET, T_META, T_RUN_ACTIONS, T_SEEN, T_STATE,
};
pub use self::prune::{Anchor, PruneError, PruneReport, PRUNE_CHUNK};
use super::entry::{length_prefixed, target_refs, Entry, EntryDraft, TargetRef, GENESIS_HASH};
use super::error::JournalError;
use super::filter::EntryFilter;
use super::id::{EntryId, ID_KEY_LEN};
use super::redact::check_no_secrets;
use super::state::{
    Attempt, AttemptKey, BudgetUsage, Cursor, Effect, FixState, JournalView, OpenFinding,
    BUDGET_RETENTION, BUDGET_WINDOW,
};
use super::verify::{ChainBreak, ChainWalker, Head, VerifyReport};
use super::JournalStore;
use crate::vocab::RunId;

/// The journal in a sled database under a state directory.
///
/// One process at a time: sled locks the directory. Appends are serialized inside the process,
/// so concurrent callers from several threads keep one valid chain.
pub struct SledJournal {
    dir: PathBuf,
    db: sled::Db,
    trees: Vec<Tree>,
    /// The chain's end; held while appending so ids and links are issued in order.
    head: Mutex<Option<Head>>,
    /// On disk (not [`SledJournal::temporary`]): the tail record is kept beside the database.
    persistent: bool,
    /// The last entry the tail record names; held while it is written, so concurrent appends
    /// write it one at a time and never move it back.
    tail: Mutex<Option<EntryId>>,
}

impl std::fmt::Debug for SledJournal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SledJournal")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

/// How long `open` waits for the lock of a journal that is being closed.
pub const OPEN_LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(3);

/// How often `open` tries the lock again meanwhile.
const OPEN_LOCK_RETRY: std::time::Duration = std::time::Duration::from_millis(50);

impl SledJournal {
    /// Open (or create) the journal in `dir`.
    ///
    /// Fails with [`JournalError::Locked`] if another process has it open and
    /// [`JournalError::Corrupt`] if its contents cannot be read.
    /// A lock still held by a journal that is closing (its background flush ends, or the
    /// process it belonged to is exiting) is waited for, up to [`OPEN_LOCK_WAIT`].
    pub fn open(dir: impl AsRef<Path>) -> Result<SledJournal, JournalError> {
        let dir = dir.as_ref().to_path_buf();
        let deadline = std::time::Instant::now() + OPEN_LOCK_WAIT;
        loop {
            let opened = guarded(&dir, "opening it", || {
                sled::Config::new()
                    .path(&dir)
                    .open()
                    .map_err(|e| JournalError::from_open(dir.clone(), e))
            });
            match opened {
                Ok(db) => {
                    return guarded(&dir, "reading its trees", || {
                        Self::from_db(dir.clone(), db, true)
                    })
                }
                Err(JournalError::Locked { .. }) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(OPEN_LOCK_RETRY);
                }
                Err(error) => return Err(error),
            }
        }
    }

    /// A journal in a fresh temporary sled database, removed when dropped. For tests of
    /// callers (executor, CLI) that need a real store without managing a directory.
    pub fn temporary() -> Result<SledJournal, JournalError> {
        let dir = PathBuf::from(TEMPORARY_DIR_LABEL);
        let db = sled::Config::new()
            .temporary(true)
            .open()
            .map_err(|e| JournalError::from_open(dir.clone(), e))?;
        Self::from_db(dir, db, false)
    }

    fn from_db(dir: PathBuf, db: sled::Db, persistent: bool) -> Result<SledJournal, JournalError> {
        let trees = TREE_NAMES
            .iter()
            .map(|name| db.open_tree(name))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| JournalError::from_open(dir.clone(), e))?;
        let head = read_json::<Head>(&trees[T_META], "meta", HEAD_KEY)?;
        Ok(SledJournal {
            dir,
            db,
            trees,
            head: Mutex::new(head),
            persistent,
            tail: Mutex::new(None),
        })
    }

    fn damaged(&self, detail: impl Into<String>) -> JournalError {
        JournalError::Damaged {
            dir: self.dir.clone(),
            detail: detail.into(),
        }
    }

    /// The tail and the state trees, each record decoded (see [`JournalStore::check_usable`]).
    fn check_tail_and_state(&self) -> Result<(), JournalError> {
        let head = read_json::<Head>(self.tree(T_META), "meta", HEAD_KEY)?;
        let last = self
            .tree(T_ENTRIES)
            .last()
            .map_err(JournalError::storage("reading the last entry"))?;
        match (&head, last) {
            (None, None) => {}
            (Some(head), Some((key, value))) => {
                let entry: Entry = decode("entries", &key, &value)?;
                if entry.id != head.id || entry.hash != head.hash {
                    return Err(self.damaged(format!(
                        "the recorded last entry is {} but the last stored entry is {}",
                        head.id, entry.id
                    )));
                }
                let computed = entry
                    .compute_hash()
                    .map_err(|e| self.damaged(format!("entry {}: {e}", entry.id)))?;
                if computed != entry.hash {
                    return Err(self.damaged(format!(
                        "the last entry {} does not match its own hash",
                        entry.id
                    )));
                }
            }
            (Some(head), None)
                if self
                    .anchor()?
                    .is_some_and(|a| a.id == head.id && a.hash == head.hash) =>
            {
                // Every entry was pruned: the chain ends at its anchor.
            }
            (head, last) => {
                return Err(self.damaged(format!(
                    "the recorded last entry is {} but {}",
                    head.as_ref()
                        .map_or("none".to_owned(), |h| h.id.to_string()),
                    if last.is_some() {
                        "entries are stored"
                    } else {
                        "no entry is stored"
                    }
                )))
            }
        }
        if let Some(lost) = self.lost_tail(head.as_ref())? {
            return Err(self.damaged(lost.to_string()));
        }
        self.view(Utc::now())?;
        self.cursor()?;
        self.all_values::<ActionRecord>(T_ACTIONS)?;
        self.open_findings()?;
        self.approvals()?;
        for item in self.tree(T_RUN_ACTIONS).iter() {
            let (key, value) = item.map_err(JournalError::storage("run budget scan"))?;
            if value.len() != 4 {
                return Err(self.damaged(format!(
                    "run budget record {} is not a count",
                    String::from_utf8_lossy(&key)
                )));
            }
        }
        for item in self.tree(T_SEEN).iter() {
            item.map_err(JournalError::storage("idempotency scan"))?;
        }
        Ok(())
    }

    /// The whole chain verifies and what a pass depends on reads ([`JournalStore::verify`] and
    /// [`JournalStore::check_usable`]): what `apply` requires before it acts.
    pub fn check_intact(&self) -> Result<(), JournalError> {
        let report = self.verify()?;
        if let Some(brk) = report.first_break {
            return Err(self.damaged(format!(
                "its chain breaks after {} good entries: {brk}",
                report.entries_checked
            )));
        }
        self.check_usable()
    }

    /// The break a tail record shows when the database lost the entries at its end: the last
    /// entry written, as recorded beside the database, is not in the chain. sled may be ahead
    /// of the record (a crash right after its flush), never behind it.
    fn lost_tail(&self, head: Option<&Head>) -> Result<Option<ChainBreak>, JournalError> {
        if !self.persistent {
            return Ok(None);
        }
        let recorded = tail::read(&self.dir).map_err(|why| self.damaged(why))?;
        let Some(recorded) = recorded else {
            return Ok(None);
        };
        if self.anchor()?.is_some_and(|a| recorded.id <= a.id) {
            // Pruned, not lost.
            return Ok(None);
        }
        let stored: Option<Entry> = self.load(recorded.id)?;
        if stored.is_some_and(|e| e.hash == recorded.hash) {
            return Ok(None);
        }
        Ok(Some(ChainBreak::EntriesLost {
            written: recorded.id,
            last: head.map(|h| h.id),
        }))
    }

    /// Records `entry` as the last entry written, unless a later one is recorded already.
    fn record_tail(&self, entry: &Entry) -> Result<(), JournalError> {
        if !self.persistent {
            return Ok(());
        }
        let mut recorded = self.tail.lock().unwrap_or_else(PoisonError::into_inner);
        if recorded.is_some_and(|id| id >= entry.id) {
            return Ok(());
        }
        let written = Head {
            id: entry.id,
            hash: entry.hash.clone(),
        };
        tail::write(&self.dir, &written).map_err(|source| JournalError::TailRecord {
            path: tail::path(&self.dir),
            source,
        })?;
        *recorded = Some(entry.id);
        Ok(())
    }

    /// The id of the chain's last entry, `None` while the journal is empty.
    pub fn head_id(&self) -> Option<EntryId> {
        self.head
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .map(|h| h.id)
    }

    /// The state directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Bytes the database's files take on disk (for the daemon's journal-size metric).
    pub fn size_on_disk(&self) -> Result<u64, JournalError> {
        self.db
            .size_on_disk()
            .map_err(JournalError::storage("measuring the size on disk"))
    }

    fn tree(&self, index: usize) -> &Tree {
        &self.trees[index]
    }

    fn load(&self, id: EntryId) -> Result<Option<Entry>, JournalError> {
        read_json(self.tree(T_ENTRIES), "entries", &id.to_key())
    }

    /// Entries matching `filter`, in id order, up to its limit; read through the narrowest
    /// index the filter allows, stopping as soon as the limit is reached.
    fn matching(&self, filter: &EntryFilter) -> Result<Vec<Entry>, JournalError> {
        let limit = filter.limit.unwrap_or(usize::MAX);
        if limit == 0 {
            return Ok(Vec::new());
        }
        let mut found = Vec::new();
        let mut keep = |entry: Entry| {
            if filter.matches(&entry) {
                found.push(entry);
            }
            found.len() < limit
        };
        let index = if let Some(run) = &filter.run_id {
            Some((T_IDX_RUN, length_prefixed(RUN_TAG, run.as_str())))
        } else if let Some(action) = &filter.action_id {
            Some((T_IDX_ACTION, length_prefixed(ACTION_TAG, action.as_str())))
        } else {
            filter
                .target
                .as_ref()
                .map(|t| (T_IDX_TARGET, t.index_prefix()))
        };
        match index {
            Some((tree, prefix)) => {
                for item in self.tree(tree).scan_prefix(prefix).keys() {
                    let key = item.map_err(JournalError::storage("index scan"))?;
                    let Some(id) = id_suffix(&key) else { continue };
                    let Some(entry) = self.load(id)? else {
                        continue;
                    };
                    if !keep(entry) {
                        break;
                    }
                }
            }
            None => {
                // Ids never sort before their entry's time, so `since` bounds the scan.
                let start = filter
                    .since
                    .map_or([0u8; ID_KEY_LEN], |s| EntryId::lower_bound(s).to_key());
                for item in self.tree(T_ENTRIES).range(start..) {
                    let (key, value) = item.map_err(JournalError::storage("entry scan"))?;
                    if !keep(decode("entries", &key, &value)?) {
                        break;
                    }
                }
            }
        }
        Ok(found)
    }

    /// Taken actions with `since <= at <= now`.
    fn budget_usage(
        &self,
        since: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<BudgetUsage, JournalError> {
        let mut usage = BudgetUsage::default();
        for item in self
            .tree(T_ACTIONS)
            .range(EntryId::lower_bound(since).to_key()..)
        {
            let (key, value) = item.map_err(JournalError::storage("budget scan"))?;
            let record: ActionRecord = decode("actions", &key, &value)?;
            if record.at < since || record.at > now {
                continue;
            }
            usage.total += 1;
            *usage.by_kind.entry(record.action_kind).or_default() += 1;
            usage.oldest = Some(usage.oldest.map_or(record.at, |t| t.min(record.at)));
        }
        Ok(usage)
    }

    /// Drop state that can no longer matter after an append at `now`: taken-action records
    /// older than [`BUDGET_RETENTION`] and expired cooldowns. Best effort: the entry is already
    /// durable, so a failure here is logged, not returned.
    fn prune_state(&self, now: DateTime<Utc>, effects: &[Effect]) {
        let result = effects.iter().try_for_each(|effect| match effect {
            Effect::RecordAction { .. } => self.prune_actions(now),
            Effect::SetCooldown { .. } => self.prune_cooldowns(now),
            _ => Ok(()),
        });
        if let Err(error) = result {
            tracing::warn!(dir = %self.dir.display(), error = %error, "journal state pruning failed");
        }
    }

    fn prune_actions(&self, now: DateTime<Utc>) -> Result<(), JournalError> {
        let end = EntryId::lower_bound(now - BUDGET_RETENTION).to_key();
        let tree = self.tree(T_ACTIONS);
        for item in tree.range(..end).keys() {
            let key = item.map_err(JournalError::storage("budget prune"))?;
            tree.remove(key)
                .map_err(JournalError::storage("budget prune"))?;
        }
        Ok(())
    }

    fn prune_cooldowns(&self, now: DateTime<Utc>) -> Result<(), JournalError> {
        let tree = self.tree(T_COOLDOWNS);
        for item in tree.iter() {
            let (key, value) = item.map_err(JournalError::storage("cooldown prune"))?;
            let until: DateTime<Utc> = decode("cooldowns", &key, &value)?;
            if until <= now {
                // Only if unchanged since read: a concurrent SetCooldown wins.
                let swapped = tree.compare_and_swap(&key, Some(&value), None as Option<&[u8]>);
                swapped
                    .map_err(JournalError::storage("cooldown prune"))?
                    .ok();
            }
        }
        Ok(())
    }

    fn all_values<T: DeserializeOwned>(&self, index: usize) -> Result<Vec<T>, JournalError> {
        let name = TREE_NAMES[index];
        self.tree(index)
            .iter()
            .map(|item| {
                let (key, value) = item.map_err(JournalError::storage("state scan"))?;
                decode(name, &key, &value)
            })
            .collect()
    }

    /// Write `entry` and everything it causes in one transaction.
    fn commit(&self, entry: &Entry, effects: &[Effect]) -> Result<(), JournalError> {
        let id_key = entry.id.to_key();
        let entry_bytes = encode("entry", entry)?;
        let head_bytes = encode(
            "head",
            &Head {
                id: entry.id,
                hash: entry.hash.clone(),
            },
        )?;
        let index_keys = index_keys(entry);
        let result = self.trees.as_slice().transaction(|tx| {
            tx[T_ENTRIES].insert(&id_key[..], entry_bytes.as_slice())?;
            tx[T_META].insert(HEAD_KEY, head_bytes.as_slice())?;
            for (tree, key) in &index_keys {
                tx[*tree].insert(key.as_slice(), &[][..])?;
            }
            for effect in effects {
                apply_effect(tx, entry, effect)?;
            }
            Ok(())
        });
        result.map_err(|e| match e {
            TransactionError::Abort(e) => e,
            TransactionError::Storage(source) => JournalError::Storage {
                op: "append",
                source,
            },
        })
    }
}

/// The index records of `entry`: (tree, key) for its targets, its run and its action.
fn index_keys(entry: &Entry) -> Vec<(usize, Vec<u8>)> {
    let mut keys: Vec<(usize, Vec<u8>)> = target_refs(&entry.target)
        .iter()
        .map(|t| (T_IDX_TARGET, with_id(t.index_prefix(), entry.id)))
        .collect();
    keys.push((
        T_IDX_RUN,
        with_id(length_prefixed(RUN_TAG, entry.run_id.as_str()), entry.id),
    ));
    if let Some(action) = &entry.action_id {
        keys.push((
            T_IDX_ACTION,
            with_id(length_prefixed(ACTION_TAG, action.as_str()), entry.id),
        ));
    }
    keys
}

/// Runs `read` on the journal in `dir`, turning a panic inside sled (it panics on some damaged
/// files instead of answering an error) into [`JournalError::Damaged`] naming `dir`.
fn guarded<T>(
    dir: &Path,
    doing: &str,
    read: impl FnOnce() -> Result<T, JournalError>,
) -> Result<T, JournalError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(read)).unwrap_or_else(|panic| {
        let what = panic
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| panic.downcast_ref::<&str>().copied())
            .unwrap_or("no message");
        Err(JournalError::Damaged {
            dir: dir.to_path_buf(),
            detail: format!("sled failed {doing} ({what})"),
        })
    })
}

impl SledJournal {
    fn verify_chain(&self) -> Result<VerifyReport, JournalError> {
        // Hold off appends so the entries and the recorded head are read as one state.
        let _appends = self.head.lock().unwrap_or_else(PoisonError::into_inner);
        let anchor = self.anchor()?;
        let mut walker = ChainWalker::from_anchor(anchor.as_ref());
        for item in self.tree(T_ENTRIES).iter() {
            let (key, value) = item.map_err(JournalError::storage("verify"))?;
            if let Err(brk) = walker.check(&key, &value) {
                return Ok(VerifyReport {
                    anchor,
                    ..walker.broken(brk)
                });
            }
        }
        let head = read_json::<Head>(self.tree(T_META), "meta", HEAD_KEY)?;
        let lost = self.lost_tail(head.as_ref())?;
        let report = VerifyReport {
            anchor,
            ..walker.finish(head)
        };
        if report.first_break.is_some() {
            return Ok(report);
        }
        Ok(VerifyReport {
            first_break: lost,
            ..report
        })
    }
}

impl JournalStore for SledJournal {
    fn append(
        &self,
        now: DateTime<Utc>,
        draft: EntryDraft,
        effects: &[Effect],
    ) -> Result<Entry, JournalError> {
        validate_effects(&draft, effects)?;
        let mut head = self.head.lock().unwrap_or_else(PoisonError::into_inner);
        let id = EntryId::next(head.as_ref().map(|h| h.id), now);
        let prev_hash = head
            .as_ref()
            .map_or_else(|| GENESIS_HASH.to_owned(), |h| h.hash.clone());
        let entry = Entry::seal(draft, id, now, prev_hash)?;
        check_no_secrets(&entry.canonical_value()?)?;
        check_effects_for_secrets(effects)?;
        self.commit(&entry, effects)?;
        // The entry is committed (visible to readers) even if the flush below fails, so the
        // chain's end moves now; a failed flush is still reported to the caller.
        *head = Some(Head {
            id: entry.id,
            hash: entry.hash.clone(),
        });
        drop(head);
        self.db.flush().map_err(JournalError::storage("flush"))?;
        self.record_tail(&entry)?;
        self.prune_state(now, effects);
        Ok(entry)
    }

    fn get(&self, id: EntryId) -> Result<Option<Entry>, JournalError> {
        self.load(id)
    }

    fn list(&self, filter: &EntryFilter) -> Result<Vec<Entry>, JournalError> {
        self.matching(filter)
    }

    fn last_entries_for_target(
        &self,
        target: &TargetRef,
        limit: usize,
    ) -> Result<Vec<Entry>, JournalError> {
        let mut entries = Vec::new();
        for item in self
            .tree(T_IDX_TARGET)
            .scan_prefix(target.index_prefix())
            .keys()
            .rev()
        {
            if entries.len() >= limit {
                break;
            }
            let key = item.map_err(JournalError::storage("index scan"))?;
            let Some(id) = id_suffix(&key) else { continue };
            if let Some(entry) = self.load(id)? {
                entries.push(entry);
            }
        }
        entries.reverse();
        Ok(entries)
    }

    fn export(&self, out: &mut dyn Write) -> Result<u64, JournalError> {
        let mut count = 0;
        for item in self.tree(T_ENTRIES).iter() {
            let (key, value) = item.map_err(JournalError::storage("export"))?;
            let entry: Entry = decode("entries", &key, &value)?;
            let line = encode("entry", &entry)?;
            let written = out.write_all(&line).and_then(|()| out.write_all(b"\n"));
            written.map_err(|source| JournalError::Export {
                id: entry.id.to_string(),
                source,
            })?;
            count += 1;
        }
        Ok(count)
    }

    fn verify(&self) -> Result<VerifyReport, JournalError> {
        guarded(&self.dir, "reading its entries", || self.verify_chain())
    }

    fn check_usable(&self) -> Result<(), JournalError> {
        let checked = guarded(&self.dir, "reading its state", || {
            self.check_tail_and_state()
        });
        checked.map_err(|error| match error {
            JournalError::Damaged { .. } => error,
            other => self.damaged(crate::error_chain::error_chain(&other)),
        })
    }

    fn seen(&self, idempotency_key: &str) -> Result<bool, JournalError> {
        self.tree(T_SEEN)
            .contains_key(idempotency_key.as_bytes())
            .map_err(JournalError::storage("idempotency lookup"))
    }

    fn cursor(&self) -> Result<Option<Cursor>, JournalError> {
        read_json(self.tree(T_STATE), "state", CURSOR_KEY)
    }

    fn unfinished_fixes(&self) -> Result<Vec<FixState>, JournalError> {
        self.all_values(T_FIXES)
    }

    fn open_findings(&self) -> Result<Vec<OpenFinding>, JournalError> {
        self.all_values(T_FINDINGS)
    }

    fn approvals(&self) -> Result<Vec<super::ApprovalRecord>, JournalError> {
        self.all_values(T_APPROVALS)
    }

    fn latest(&self, kind: super::EntryKindTag, limit: usize) -> Result<Vec<Entry>, JournalError> {
        let mut found = Vec::new();
        for item in self.tree(T_ENTRIES).iter().rev() {
            if found.len() >= limit {
                break;
            }
            let (key, value) = item.map_err(JournalError::storage("entry scan"))?;
            let entry: Entry = decode("entries", &key, &value)?;
            if entry.kind.tag() == kind {
                found.push(entry);
            }
        }
        Ok(found)
    }

    fn run_action_count(&self, run_id: &RunId) -> Result<u32, JournalError> {
        let bytes = self
            .tree(T_RUN_ACTIONS)
            .get(run_id.as_str().as_bytes())
            .map_err(JournalError::storage("run budget lookup"))?;
        Ok(bytes.map_or(0, |b| decode_u32(&b)))
    }

    fn actions_between(
        &self,
        since: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<BudgetUsage, JournalError> {
        self.budget_usage(since, now)
    }

    fn view(&self, now: DateTime<Utc>) -> Result<JournalView, JournalError> {
        let attempts = self
            .all_values::<(AttemptKey, Attempt)>(T_ATTEMPTS)?
            .into_iter()
            .collect();
        let mut cooldowns = std::collections::BTreeMap::new();
        for item in self.tree(T_COOLDOWNS).iter() {
            let (key, value) = item.map_err(JournalError::storage("cooldown scan"))?;
            let until: DateTime<Utc> = decode("cooldowns", &key, &value)?;
            if until > now {
                cooldowns.insert(String::from_utf8_lossy(&key).into_owned(), until);
            }
        }
        let breaker = read_json(self.tree(T_STATE), "state", BREAKER_KEY)?.unwrap_or_default();
        Ok(JournalView {
            now,
            attempts,
            cooldowns,
            budget_last_hour: self.budget_usage(now - BUDGET_WINDOW, now)?,
            breaker,
            unfinished_fixes: self.unfinished_fixes()?,
            approvals: self
                .approvals()?
                .into_iter()
                .map(|a| (a.action_id.clone(), a))
                .collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_inside_sled_becomes_a_damaged_journal_naming_the_directory() {
        let dir = Path::new("/var/lib/remediator/state");
        let result: Result<(), JournalError> =
            guarded(dir, "opening it", || panic!("segment header corrupt"));
        let Err(error @ JournalError::Damaged { .. }) = result else {
            panic!("a typed error, got {result:?}");
        };
        let message = error.to_string();
        assert!(
            message.contains("/var/lib/remediator/state is damaged")
                && message.contains("segment header corrupt")
                && message.contains("journal export --best-effort"),
            "{message}"
        );
    }
}
