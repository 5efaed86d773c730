//! The journal's error type: one enum for the store boundary, with the context of each failure.

use std::path::PathBuf;

/// Everything that can go wrong opening, reading or writing the journal.
///
/// Messages name the state directory, the entry id or the JSON path involved; the underlying
/// cause stays in `#[source]`. No variant ever carries an entry's payload, so a secret that a
/// caller tried to journal cannot leak through an error message.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// Another process (or another handle in this process) holds the state directory's lock.
    #[error("journal state directory {dir} is locked by another process (is another remediator running?)")]
    Locked {
        dir: PathBuf,
        #[source]
        source: sled::Error,
    },
    /// The state directory exists but its contents are not a readable sled database.
    #[error("journal state directory {} is corrupt. {}", dir.display(), way_out(dir))]
    Corrupt {
        dir: PathBuf,
        #[source]
        source: sled::Error,
    },
    /// The journal's files are damaged: sled could not open them (it may panic inside on a
    /// truncated file), the chain does not verify, or the state a pass depends on (the chain's
    /// tail, attempts, cooldowns, budgets, the breaker, unfinished fixes) cannot be read. Nothing
    /// may act on an org from it; the message says the way out.
    #[error("the journal in {} is damaged: {detail}. {}", dir.display(), way_out(dir))]
    Damaged { dir: PathBuf, detail: String },
    /// The tail record beside the database could not be written (the entry is committed).
    #[error("journal tail record {} could not be written", path.display())]
    TailRecord {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Any other failure opening the state directory (permissions, missing parent, ...).
    #[error("cannot open journal state directory {dir}")]
    Open {
        dir: PathBuf,
        #[source]
        source: sled::Error,
    },
    /// A read or write on an open store failed.
    #[error("journal storage failure during {op}")]
    Storage {
        op: &'static str,
        #[source]
        source: sled::Error,
    },
    /// A stored record could not be decoded.
    #[error("journal record {key} in tree {tree} cannot be decoded")]
    Decode {
        tree: &'static str,
        key: String,
        #[source]
        source: serde_json::Error,
    },
    /// A record could not be encoded (should not happen for the journal's own types).
    #[error("journal record for {what} cannot be encoded")]
    Encode {
        what: &'static str,
        #[source]
        source: serde_json::Error,
    },
    /// An entry contained a string that looks like a credential; it was not written.
    #[error("journal entry rejected: the string at {path} looks like {pattern}; secrets must never be journaled")]
    SecretInEntry { path: String, pattern: &'static str },
    /// A state effect was requested that the entry cannot support.
    #[error("journal entry rejected: {reason}")]
    InvalidEffect { reason: String },
    /// Text that is not an entry id, e.g. from `journal show ID`.
    #[error("`{text}` is not a journal entry id (expected e.g. 20261123T100000.123Z-000042)")]
    BadEntryId { text: String },
    /// Writing the JSON Lines export failed.
    #[error("journal export failed writing entry {id}")]
    Export {
        id: String,
        #[source]
        source: std::io::Error,
    },
}

/// What to do about a damaged journal in `dir`, in one sentence (docs/executor.md says more).
fn way_out(dir: &std::path::Path) -> String {
    let dir = dir.display();
    format!(
        "The way out (docs/executor.md, \"A damaged journal\"): `remediator --state {dir} journal \
         export --best-effort > old-journal.jsonl`, move {dir} aside, then `remediator --state \
         {dir} journal new --continue-from old-journal.jsonl`"
    )
}

impl JournalError {
    /// Classify a `sled::open` failure on `dir`. sled 0.34 reports a held lock only as an I/O
    /// error whose message starts "could not acquire lock"; that text is what is matched.
    pub(crate) fn from_open(dir: PathBuf, source: sled::Error) -> Self {
        match &source {
            sled::Error::Io(io) if io.to_string().contains("could not acquire lock") => {
                JournalError::Locked { dir, source }
            }
            sled::Error::Corruption { .. } => JournalError::Corrupt { dir, source },
            _ => JournalError::Open { dir, source },
        }
    }

    pub(crate) fn storage(op: &'static str) -> impl FnOnce(sled::Error) -> Self {
        move |source| JournalError::Storage { op, source }
    }
}
