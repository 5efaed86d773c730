//! Effects: executor state changes applied inside the transaction of the entry causing them.

use sled::transaction::{abort, ConflictableTransactionResult, TransactionalTree};

use super::layout::{
    attempt_key, decode_u32, tx_encode, tx_read, ActionRecord, BREAKER_KEY, CURSOR_KEY, T_ACTIONS,
    T_APPROVALS, T_ATTEMPTS, T_COOLDOWNS, T_FINDINGS, T_FIXES, T_RUN_ACTIONS, T_SEEN, T_STATE,
};
use crate::journal::entry::{Entry, EntryDraft};
use crate::journal::error::JournalError;
use crate::journal::redact::check_no_secrets;
use crate::journal::state::{Attempt, AttemptKey, BreakerState, Effect, FixState};
use crate::vocab::ActionId;

/// Reject effects the entry cannot carry, before anything is written.
pub(super) fn validate_effects(draft: &EntryDraft, effects: &[Effect]) -> Result<(), JournalError> {
    for effect in effects {
        let needs_action = matches!(
            effect,
            Effect::BeginFix { .. } | Effect::FixStep { .. } | Effect::FinishFix
        );
        if needs_action && draft.action_id.is_none() {
            return Err(JournalError::InvalidEffect {
                reason: format!("{effect:?} needs an entry with an action_id"),
            });
        }
        let needs_target = matches!(
            effect,
            Effect::RecordAttempt { .. }
                | Effect::ResetAttempts { .. }
                | Effect::SetCooldown { .. }
        );
        if needs_target && draft.target.key().is_empty() {
            return Err(JournalError::InvalidEffect {
                reason: format!("{effect:?} needs an entry with a target"),
            });
        }
    }
    Ok(())
}

/// Effects carry strings too (idempotency keys, cursor URLs); they get the same check.
pub(super) fn check_effects_for_secrets(effects: &[Effect]) -> Result<(), JournalError> {
    for effect in effects {
        let text = match effect {
            Effect::MarkSeen { idempotency_key } => idempotency_key.clone(),
            Effect::SetCursor(cursor) => cursor.next_url.clone(),
            Effect::PutFinding(finding) => {
                let value = serde_json::to_value(finding.as_ref()).unwrap_or_default();
                check_no_secrets(&value)?;
                continue;
            }
            Effect::PutApproval(record) => {
                let value = serde_json::to_value(record.as_ref()).unwrap_or_default();
                check_no_secrets(&value)?;
                continue;
            }
            _ => continue,
        };
        check_no_secrets(&serde_json::Value::String(text))?;
    }
    Ok(())
}

pub(super) fn apply_effect(
    tx: &[TransactionalTree],
    entry: &Entry,
    effect: &Effect,
) -> ConflictableTransactionResult<(), JournalError> {
    match effect {
        Effect::MarkSeen { idempotency_key } => {
            tx[T_SEEN].insert(idempotency_key.as_bytes(), &entry.id.to_key()[..])?;
        }
        Effect::RecordAttempt { action_kind } => {
            let key = AttemptKey {
                action_kind: *action_kind,
                target_key: entry.target.state_key(),
            };
            let db_key = attempt_key(&key);
            let old: Option<(AttemptKey, Attempt)> = tx_read(&tx[T_ATTEMPTS], "attempts", &db_key)?;
            let count = old.map_or(0, |(_, a)| a.count).saturating_add(1);
            let attempt = Attempt {
                count,
                last_attempt_at: entry.time,
            };
            tx[T_ATTEMPTS].insert(db_key, tx_encode("attempt", &(key, attempt))?)?;
        }
        Effect::ResetAttempts { action_kind } => {
            let key = AttemptKey {
                action_kind: *action_kind,
                target_key: entry.target.state_key(),
            };
            tx[T_ATTEMPTS].remove(attempt_key(&key))?;
        }
        Effect::RecordAction { action_kind } => {
            let record = ActionRecord {
                action_kind: *action_kind,
                run_id: entry.run_id.clone(),
                at: entry.time,
            };
            tx[T_ACTIONS].insert(&entry.id.to_key()[..], tx_encode("action", &record)?)?;
            let run_key = entry.run_id.as_str().as_bytes();
            let count = tx[T_RUN_ACTIONS]
                .get(run_key)?
                .map_or(0, |b| decode_u32(&b));
            tx[T_RUN_ACTIONS].insert(run_key, &count.saturating_add(1).to_be_bytes()[..])?;
        }
        Effect::SetCooldown { until } => {
            tx[T_COOLDOWNS].insert(
                entry.target.state_key().as_bytes(),
                tx_encode("cooldown", until)?,
            )?;
        }
        Effect::BreakerOutcome { ok } => update_breaker(tx, |b| b.push(*ok))?,
        Effect::OpenBreaker { until } => update_breaker(tx, |b| b.open_until = Some(*until))?,
        Effect::ResetBreaker => update_breaker(tx, |b| *b = BreakerState::default())?,
        Effect::SetCursor(cursor) => {
            tx[T_STATE].insert(CURSOR_KEY, tx_encode("cursor", cursor)?)?;
        }
        Effect::BeginFix { action_kind } => {
            let fix = FixState {
                action_id: entry_action(entry)?.clone(),
                action_kind: *action_kind,
                target: entry.target.clone(),
                steps_done: Vec::new(),
                compensation_needed: false,
                started_at: entry.time,
            };
            tx[T_FIXES].insert(fix.action_id.as_str().as_bytes(), tx_encode("fix", &fix)?)?;
        }
        Effect::FixStep {
            step,
            compensation_needed,
        } => {
            let action = entry_action(entry)?;
            let Some(mut fix) =
                tx_read::<FixState>(&tx[T_FIXES], "fixes", action.as_str().as_bytes())?
            else {
                return abort(JournalError::InvalidEffect {
                    reason: format!("no multi-step fix in progress for action {action}"),
                });
            };
            fix.steps_done.push(step.clone());
            fix.compensation_needed = *compensation_needed;
            tx[T_FIXES].insert(action.as_str().as_bytes(), tx_encode("fix", &fix)?)?;
        }
        Effect::FinishFix => {
            tx[T_FIXES].remove(entry_action(entry)?.as_str().as_bytes())?;
        }
        Effect::PutFinding(finding) => {
            tx[T_FINDINGS].insert(
                finding.id.as_str().as_bytes(),
                tx_encode("finding", finding.as_ref())?,
            )?;
        }
        Effect::RemoveFinding { id } => {
            tx[T_FINDINGS].remove(id.as_str().as_bytes())?;
        }
        Effect::PutApproval(record) => {
            tx[T_APPROVALS].insert(
                record.action_id.as_str().as_bytes(),
                tx_encode("approval", record.as_ref())?,
            )?;
        }
        Effect::RemoveApproval { id } => {
            tx[T_APPROVALS].remove(id.as_str().as_bytes())?;
        }
    }
    Ok(())
}

fn update_breaker(
    tx: &[TransactionalTree],
    change: impl FnOnce(&mut BreakerState),
) -> ConflictableTransactionResult<(), JournalError> {
    let mut breaker: BreakerState =
        tx_read(&tx[T_STATE], "state", BREAKER_KEY)?.unwrap_or_default();
    change(&mut breaker);
    tx[T_STATE].insert(BREAKER_KEY, tx_encode("breaker", &breaker)?)?;
    Ok(())
}

fn entry_action(entry: &Entry) -> ConflictableTransactionResult<&ActionId, JournalError> {
    match &entry.action_id {
        Some(action) => Ok(action),
        None => abort(JournalError::InvalidEffect {
            reason: "a fix effect needs an entry with an action_id".to_owned(),
        }),
    }
}
