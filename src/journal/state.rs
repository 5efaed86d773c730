//! Executor state kept beside the entries: cursor, idempotency keys, attempts, cooldowns,
//! budgets, circuit breaker and multi-step fixes, plus the read-only [`JournalView`] the planner
//! takes as input.

use std::collections::{BTreeMap, VecDeque};

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::entry::Target;
use crate::vocab::{ActionId, ActionKind, FindingId, FindingKind};

/// How many recent action outcomes the circuit breaker remembers.
pub const BREAKER_RING_LEN: usize = 32;

/// The sliding window the per-hour budget counts actions in.
pub const BUDGET_WINDOW: Duration = Duration::hours(1);

/// How long taken-action timestamps are kept for budget windows; older ones are pruned.
pub const BUDGET_RETENTION: Duration = Duration::hours(24);

/// Where System Log polling resumes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    /// The opaque `next` link Okta returned; followed as is.
    pub next_url: String,
    /// `published` of the last event processed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_published: Option<DateTime<Utc>>,
    /// `uuid` of the last event processed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_uuid: Option<String>,
}

/// Attempts of one action kind on one target.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attempt {
    pub count: u32,
    pub last_attempt_at: DateTime<Utc>,
}

/// Key of an attempt counter.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct AttemptKey {
    pub action_kind: ActionKind,
    /// [`Target::state_key`] of the target.
    pub target_key: String,
}

/// Circuit-breaker state: recent outcomes (true = verified) and when an open breaker closes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BreakerState {
    /// Most recent last; at most [`BREAKER_RING_LEN`].
    pub recent: VecDeque<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open_until: Option<DateTime<Utc>>,
}

impl BreakerState {
    /// Whether the breaker is open at `now`.
    pub fn is_open(&self, now: DateTime<Utc>) -> bool {
        self.open_until.is_some_and(|until| now < until)
    }

    /// Failures among the remembered outcomes.
    pub fn recent_failures(&self) -> usize {
        self.recent.iter().filter(|ok| !**ok).count()
    }

    pub(crate) fn push(&mut self, ok: bool) {
        if self.recent.len() == BREAKER_RING_LEN {
            self.recent.pop_front();
        }
        self.recent.push_back(ok);
    }
}

/// A step of a multi-step fix that has been carried out.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepDone {
    pub step: u32,
    pub name: String,
    pub ok: bool,
}

/// A multi-step fix in progress; survives restarts until [`Effect::FinishFix`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FixState {
    pub action_id: ActionId,
    pub action_kind: ActionKind,
    pub target: Target,
    pub steps_done: Vec<StepDone>,
    /// Set once a step changed the org in a way that must be undone if the fix is abandoned
    /// (e.g. provisioning was enabled).
    pub compensation_needed: bool,
    pub started_at: DateTime<Utc>,
}

/// Actions taken in a window, in total and per action kind.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BudgetUsage {
    pub total: u32,
    pub by_kind: BTreeMap<ActionKind, u32>,
    /// When the window's oldest action was taken: the window frees a place
    /// [`BUDGET_WINDOW`] after it.
    pub oldest: Option<DateTime<Utc>>,
}

/// A state change written in the same transaction as the entry that causes it.
///
/// Target-related effects apply to the entry's own target and time.
#[derive(Clone, Debug, PartialEq)]
pub enum Effect {
    /// Remember an idempotency key (see `JournalStore::seen`).
    MarkSeen { idempotency_key: String },
    /// Count an attempt of `action_kind` on the entry's target, at the entry's time.
    RecordAttempt { action_kind: ActionKind },
    /// Forget the attempts of `action_kind` on the entry's target (after a verified fix).
    ResetAttempts { action_kind: ActionKind },
    /// Count a taken action for budgets (per run, per hour, per kind).
    RecordAction { action_kind: ActionKind },
    /// No action on the entry's target before `until`.
    SetCooldown { until: DateTime<Utc> },
    /// Remember an action outcome in the breaker ring.
    BreakerOutcome { ok: bool },
    /// Open the breaker until `until`.
    OpenBreaker { until: DateTime<Utc> },
    /// Close the breaker and forget its ring.
    ResetBreaker,
    /// Store the System Log cursor.
    SetCursor(Cursor),
    /// Start tracking a multi-step fix for the entry's action and target.
    BeginFix { action_kind: ActionKind },
    /// Record a step of the entry's action's fix.
    FixStep {
        step: StepDone,
        compensation_needed: bool,
    },
    /// The entry's action's fix is complete (or compensated); stop tracking it.
    FinishFix,
    /// Store (open or update) a finding in the open findings.
    PutFinding(Box<OpenFinding>),
    /// The finding is resolved: drop it from the open findings.
    RemoveFinding { id: FindingId },
    /// Store (ask, decide) an action's approval record.
    PutApproval(Box<super::ApprovalRecord>),
    /// Forget an action's approval record (used, or no longer planned).
    RemoveApproval { id: crate::vocab::ActionId },
}

/// A finding that is open: seen on the last pass that could see it, not yet resolved. Kept in
/// the journal's `findings` tree, keyed by its id, until a pass that read every part it depends
/// on no longer finds it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenFinding {
    pub id: FindingId,
    pub kind: FindingKind,
    pub target: Target,
    /// The last reason given, in words.
    pub reason: String,
    pub opened_at: DateTime<Utc>,
    /// When it was opened or last changed (new evidence).
    pub changed_at: DateTime<Utc>,
    /// Digests of its evidence items seen so far: an item not among them is new evidence.
    pub evidence: std::collections::BTreeSet<String>,
    /// A person's acknowledgement, lifted when the finding changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ack: Option<FindingAck>,
}

impl OpenFinding {
    /// The acknowledgement in force at `now`, if any.
    pub fn acked_at(&self, now: DateTime<Utc>) -> Option<&FindingAck> {
        self.ack.as_ref().filter(|ack| ack.until > now)
    }
}

/// Who silenced a finding, why and until when.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FindingAck {
    pub by: String,
    pub reason: String,
    pub at: DateTime<Utc>,
    pub until: DateTime<Utc>,
}

/// A read-only snapshot of executor state, the planner's input. Built from the state trees, never
/// from a scan of the entries.
#[derive(Clone, Debug, PartialEq)]
pub struct JournalView {
    /// The time the view was built for.
    pub now: DateTime<Utc>,
    pub attempts: BTreeMap<AttemptKey, Attempt>,
    /// Target key to cooldown expiry, only cooldowns still running at `now`.
    pub cooldowns: BTreeMap<String, DateTime<Utc>>,
    /// Actions taken in the [`BUDGET_WINDOW`] ending at `now`.
    pub budget_last_hour: BudgetUsage,
    pub breaker: BreakerState,
    pub unfinished_fixes: Vec<FixState>,
    /// The approval records, by action id.
    pub approvals: BTreeMap<crate::vocab::ActionId, super::ApprovalRecord>,
}

impl JournalView {
    /// The view of a journal with nothing in it: no attempts, cooldowns, budget use or fixes.
    pub fn empty(now: DateTime<Utc>) -> Self {
        JournalView {
            now,
            attempts: BTreeMap::new(),
            cooldowns: BTreeMap::new(),
            budget_last_hour: BudgetUsage::default(),
            breaker: BreakerState::default(),
            unfinished_fixes: Vec::new(),
            approvals: BTreeMap::new(),
        }
    }

    /// Attempts of `action_kind` on `target` so far.
    pub fn attempts_for(&self, action_kind: ActionKind, target: &Target) -> Option<Attempt> {
        let key = AttemptKey {
            action_kind,
            target_key: target.state_key(),
        };
        self.attempts.get(&key).copied()
    }

    /// When `target`'s cooldown ends, if one is running.
    pub fn cooldown_until(&self, target: &Target) -> Option<DateTime<Utc>> {
        self.cooldowns.get(&target.state_key()).copied()
    }

    /// Whether the circuit breaker is open.
    pub fn breaker_open(&self) -> bool {
        self.breaker.is_open(self.now)
    }
}
