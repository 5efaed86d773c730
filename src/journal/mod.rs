//! The journal: an append-only, hash-chained record of every run, intent, step, verification and
//! outcome, plus the executor state that must survive restarts (idempotency keys, System Log
//! cursor, attempts, cooldowns, budgets, circuit breaker, multi-step fixes).
//!
//! Storage sits behind [`JournalStore`]; [`SledJournal`] is the sled implementation.
//!
//! Durability: every append is committed in one transaction with the state it changes and
//! flushed to disk before `append` returns, so an entry is written before the step it describes
//! is taken.

mod approval;
mod entry;
mod error;
mod filter;
mod id;
mod redact;
mod salvage;
mod sled_store;
mod state;
mod verify;

use std::io::Write;

use chrono::{DateTime, Utc};

use crate::vocab::RunId;

pub use approval::{ApprovalDecision, ApprovalRecord, Verdict};
pub use entry::{
    Entry, EntryDraft, EntryKind, EntryKindTag, FindingEvent, Outcome, RunCounts, StepOutcome,
    Target, TargetRef, GENESIS_HASH,
};
pub use error::JournalError;
pub use filter::EntryFilter;
pub use id::EntryId;
pub use redact::{check_no_secrets, redact_draft, redact_secrets, redact_text, redacted};
pub use salvage::{continue_chain, salvage, Continued, Salvage, MAX_SALVAGE_FILE_BYTES};
pub use sled_store::{Anchor, PruneError, PruneReport, SledJournal, PRUNE_CHUNK};
pub use state::{
    Attempt, AttemptKey, BreakerState, BudgetUsage, Cursor, Effect, FindingAck, FixState,
    JournalView, OpenFinding, StepDone, BREAKER_RING_LEN, BUDGET_RETENTION, BUDGET_WINDOW,
};
pub use verify::{ChainBreak, VerifyReport};

/// A journal store.
///
/// Calls are synchronous and short (one small transaction and a flush per append; reads touch
/// indices or the small state trees). Async callers run them with `tokio::task::spawn_blocking`
/// or accept the brief block. The clock is never read inside: callers pass `now`.
pub trait JournalStore: Send + Sync {
    /// Append an entry built from `draft` at time `now`, with the state `effects` it causes, in
    /// one transaction, flushed before returning: an entry is written before the step it
    /// describes is taken. Rejects entries holding anything that looks like a secret; on any
    /// error nothing of the entry or its effects is written (except that a failed flush leaves a
    /// committed entry that may not be durable).
    fn append(
        &self,
        now: DateTime<Utc>,
        draft: EntryDraft,
        effects: &[Effect],
    ) -> Result<Entry, JournalError>;

    fn get(&self, id: EntryId) -> Result<Option<Entry>, JournalError>;

    /// Matching entries in id order.
    fn list(&self, filter: &EntryFilter) -> Result<Vec<Entry>, JournalError>;

    /// The last `limit` entries about `target`, oldest first.
    fn last_entries_for_target(
        &self,
        target: &TargetRef,
        limit: usize,
    ) -> Result<Vec<Entry>, JournalError>;

    /// Write every entry as JSON Lines in id order; returns how many.
    fn export(&self, out: &mut dyn Write) -> Result<u64, JournalError>;

    /// Walk the hash chain and report the first break.
    fn verify(&self) -> Result<VerifyReport, JournalError>;

    /// Whether what a pass depends on reads: the chain's tail (the recorded head is the last
    /// entry, which decodes and matches its own hash) and every state tree (attempts,
    /// cooldowns, budgets, the breaker, the cursor, unfinished fixes).
    /// [`JournalError::Damaged`] otherwise.
    fn check_usable(&self) -> Result<(), JournalError>;

    /// Whether an entry carrying [`Effect::MarkSeen`] with this key was written.
    fn seen(&self, idempotency_key: &str) -> Result<bool, JournalError>;

    /// The stored System Log cursor.
    fn cursor(&self) -> Result<Option<Cursor>, JournalError>;

    /// Multi-step fixes begun and not finished: what a restart must complete or compensate.
    fn unfinished_fixes(&self) -> Result<Vec<FixState>, JournalError>;

    /// The open findings ([`Effect::PutFinding`], not yet [`Effect::RemoveFinding`]), by id.
    fn open_findings(&self) -> Result<Vec<OpenFinding>, JournalError>;

    /// The actions asked to be approved ([`Effect::PutApproval`], not yet
    /// [`Effect::RemoveApproval`]), by action id.
    fn approvals(&self) -> Result<Vec<ApprovalRecord>, JournalError>;

    /// The last `limit` entries of `kind`, newest first (a scan back from the chain's end).
    fn latest(&self, kind: EntryKindTag, limit: usize) -> Result<Vec<Entry>, JournalError>;

    /// Actions recorded ([`Effect::RecordAction`]) in run `run_id`.
    fn run_action_count(&self, run_id: &RunId) -> Result<u32, JournalError>;

    /// Actions recorded with `since <= time <= now` (within [`BUDGET_RETENTION`]).
    fn actions_between(
        &self,
        since: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<BudgetUsage, JournalError>;

    /// The planner's read-only snapshot of executor state at `now`.
    fn view(&self, now: DateTime<Utc>) -> Result<JournalView, JournalError>;

    /// Journal a new System Log cursor.
    fn set_cursor(
        &self,
        now: DateTime<Utc>,
        run_id: &RunId,
        cursor: Cursor,
    ) -> Result<Entry, JournalError> {
        let draft = EntryDraft::new(
            run_id,
            EntryKind::CursorAdvanced {
                cursor: cursor.clone(),
            },
        );
        self.append(now, draft, &[Effect::SetCursor(cursor)])
    }

    /// Journal the intent of a multi-step fix and start tracking it. `draft` must be an
    /// `Intent` with an action id; `extra` effects (attempts, budgets, idempotency key) are
    /// written in the same transaction.
    fn begin_fix(
        &self,
        now: DateTime<Utc>,
        draft: EntryDraft,
        extra: &[Effect],
    ) -> Result<Entry, JournalError> {
        let EntryKind::Intent { action_kind, .. } = &draft.kind else {
            return Err(JournalError::InvalidEffect {
                reason: "begin_fix needs an Intent entry".to_owned(),
            });
        };
        let mut effects = vec![Effect::BeginFix {
            action_kind: *action_kind,
        }];
        effects.extend_from_slice(extra);
        self.append(now, draft, &effects)
    }

    /// Journal a finished step of a fix and record it in the fix's state. `draft` must be a
    /// `StepFinished` with the fix's action id.
    fn record_step(
        &self,
        now: DateTime<Utc>,
        draft: EntryDraft,
        compensation_needed: bool,
    ) -> Result<Entry, JournalError> {
        let EntryKind::StepFinished {
            step,
            name,
            outcome,
        } = &draft.kind
        else {
            return Err(JournalError::InvalidEffect {
                reason: "record_step needs a StepFinished entry".to_owned(),
            });
        };
        let step = StepDone {
            step: *step,
            name: name.clone(),
            ok: outcome.ok,
        };
        self.append(
            now,
            draft,
            &[Effect::FixStep {
                step,
                compensation_needed,
            }],
        )
    }

    /// Journal the end of a fix (usually its `Outcome`) and stop tracking it.
    fn finish_fix(
        &self,
        now: DateTime<Utc>,
        draft: EntryDraft,
        extra: &[Effect],
    ) -> Result<Entry, JournalError> {
        let mut effects = vec![Effect::FinishFix];
        effects.extend_from_slice(extra);
        self.append(now, draft, &effects)
    }
}
