//! Where the journal lives in sled: tree names, key layouts and record encoding.

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sled::transaction::{abort, ConflictableTransactionResult, TransactionalTree};
use sled::Tree;

use crate::journal::entry::length_prefixed;
use crate::journal::error::JournalError;
use crate::journal::id::{EntryId, ID_KEY_LEN};
use crate::journal::state::AttemptKey;
use crate::vocab::{ActionKind, RunId};

/// The sled trees, in the order of the `T_*` indices below.
pub(super) const TREE_NAMES: [&str; 14] = [
    "entries",
    "meta",
    "idx_target",
    "idx_run",
    "idx_action",
    "seen",
    "attempts",
    "cooldowns",
    "actions",
    "run_actions",
    "state",
    "fixes",
    "findings",
    "approvals",
];
pub(super) const T_ENTRIES: usize = 0;
pub(super) const T_META: usize = 1;
pub(super) const T_IDX_TARGET: usize = 2;
pub(super) const T_IDX_RUN: usize = 3;
pub(super) const T_IDX_ACTION: usize = 4;
pub(super) const T_SEEN: usize = 5;
pub(super) const T_ATTEMPTS: usize = 6;
pub(super) const T_COOLDOWNS: usize = 7;
pub(super) const T_ACTIONS: usize = 8;
pub(super) const T_RUN_ACTIONS: usize = 9;
pub(super) const T_STATE: usize = 10;
pub(super) const T_FIXES: usize = 11;
pub(super) const T_FINDINGS: usize = 12;
pub(super) const T_APPROVALS: usize = 13;

pub(super) const HEAD_KEY: &[u8] = b"head";
/// The last pruned entry (see `prune`), in `meta`.
pub(super) const ANCHOR_KEY: &[u8] = b"anchor";
pub(super) const CURSOR_KEY: &[u8] = b"cursor";
pub(super) const BREAKER_KEY: &[u8] = b"breaker";
/// What [`SledJournal::dir`] and errors show for a temporary journal.
pub(super) const TEMPORARY_DIR_LABEL: &str = "<temporary journal>";
/// Index key tags (see [`length_prefixed`]).
pub(super) const RUN_TAG: u8 = b'r';
pub(super) const ACTION_TAG: u8 = b'x';
pub(super) const ATTEMPT_TAG: u8 = b'k';

/// A taken action, for budget windows.
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct ActionRecord {
    pub action_kind: ActionKind,
    pub run_id: RunId,
    pub at: DateTime<Utc>,
}

pub(super) fn attempt_key(key: &AttemptKey) -> Vec<u8> {
    let mut db_key = length_prefixed(ATTEMPT_TAG, key.action_kind.as_str());
    db_key.extend_from_slice(key.target_key.as_bytes());
    db_key
}

pub(super) fn with_id(mut prefix: Vec<u8>, id: EntryId) -> Vec<u8> {
    prefix.extend_from_slice(&id.to_key());
    prefix
}

/// The entry id at the end of an index key.
pub(super) fn id_suffix(key: &[u8]) -> Option<EntryId> {
    let start = key.len().checked_sub(ID_KEY_LEN)?;
    EntryId::from_key(&key[start..])
}

pub(super) fn decode_u32(bytes: &[u8]) -> u32 {
    bytes.try_into().map_or(0, u32::from_be_bytes)
}

pub(super) fn encode<T: Serialize + ?Sized>(
    what: &'static str,
    value: &T,
) -> Result<Vec<u8>, JournalError> {
    serde_json::to_vec(value).map_err(|source| JournalError::Encode { what, source })
}

pub(super) fn decode<T: DeserializeOwned>(
    tree: &'static str,
    key: &[u8],
    bytes: &[u8],
) -> Result<T, JournalError> {
    serde_json::from_slice(bytes).map_err(|source| JournalError::Decode {
        tree,
        key: key_text(key),
        source,
    })
}

pub(super) fn key_text(key: &[u8]) -> String {
    match EntryId::from_key(key) {
        Some(id) => id.to_string(),
        None => String::from_utf8_lossy(key).into_owned(),
    }
}

pub(super) fn read_json<T: DeserializeOwned>(
    tree: &Tree,
    name: &'static str,
    key: &[u8],
) -> Result<Option<T>, JournalError> {
    let bytes = tree.get(key).map_err(JournalError::storage("read"))?;
    bytes.map(|b| decode(name, key, &b)).transpose()
}

pub(super) fn tx_read<T: DeserializeOwned>(
    tree: &TransactionalTree,
    name: &'static str,
    key: &[u8],
) -> ConflictableTransactionResult<Option<T>, JournalError> {
    let Some(bytes) = tree.get(key)? else {
        return Ok(None);
    };
    match decode(name, key, &bytes) {
        Ok(value) => Ok(Some(value)),
        Err(e) => abort(e),
    }
}

pub(super) fn tx_encode<T: Serialize + ?Sized>(
    what: &'static str,
    value: &T,
) -> ConflictableTransactionResult<Vec<u8>, JournalError> {
    match encode(what, value) {
        Ok(bytes) => Ok(bytes),
        Err(e) => abort(e),
    }
}
