//! Candidate actions as the rules propose them, before the safety gate decides which are taken,
//! and the collector every rule writes its candidates, findings and skips into.

use chrono::{DateTime, Utc};

use super::gate::Hold;
use super::model::{
    Action, ActionId, ActionKind, ActionMode, Evidence, Finding, Precondition, SkipReason, Skipped,
    Step, Target,
};
use crate::observe::Incomplete;

/// An action a rule would take, with what the safety gate needs to decide.
#[derive(Debug, Clone)]
pub(crate) struct Candidate {
    pub kind: ActionKind,
    pub target: Target,
    pub reason: String,
    pub evidence: Vec<Evidence>,
    pub steps: Vec<Step>,
    pub preconditions: Vec<Precondition>,
    /// Why policy's allow/deny lists exclude the target, when they do.
    pub denied: Option<String>,
    /// Reported instead when the candidate is not planned because of its mode or the deny list.
    pub fallback: Option<Finding>,
}

impl Candidate {
    /// The action this candidate becomes when taken, in `mode`.
    pub fn into_action(self, mode: ActionMode) -> Action {
        let fingerprint = fingerprint(&self.evidence);
        Action {
            id: ActionId::derive(self.kind, &self.target, &fingerprint),
            kind: self.kind,
            mode,
            target: self.target,
            reason: self.reason,
            evidence: self.evidence,
            steps: self.steps,
            preconditions: self.preconditions,
            approval: None,
        }
    }

    /// The skip record of this candidate held by the gate at `now`.
    pub fn held(&self, hold: &Hold, now: DateTime<Utc>) -> Skipped {
        self.skipped(hold.reason(), hold.detail())
            .until(hold.retry_at(now))
    }

    /// The skip record of this candidate.
    pub fn skipped(&self, why: SkipReason, detail: impl Into<String>) -> Skipped {
        Skipped {
            kind: self.kind,
            target: self.target.clone(),
            why,
            detail: detail.into(),
            part: None,
            evidence: Vec::new(),
            retry_at: None,
        }
    }
}

/// The state fingerprint an action id is derived from: the evidence's canonical JSON.
fn fingerprint(evidence: &[Evidence]) -> String {
    serde_json::to_string(evidence)
        .expect("evidence serializes: plain data with string keys and no maps")
}

/// What the rules produce, collected in one place.
#[derive(Debug, Default)]
pub(crate) struct Outcome {
    pub candidates: Vec<Candidate>,
    pub findings: Vec<Finding>,
    pub skipped: Vec<Skipped>,
}

impl Outcome {
    /// Records a candidate that a rule itself declines.
    pub fn skip(
        &mut self,
        kind: ActionKind,
        target: Target,
        why: SkipReason,
        detail: impl Into<String>,
    ) {
        self.skipped.push(Skipped {
            kind,
            target,
            why,
            detail: detail.into(),
            part: None,
            evidence: Vec::new(),
            retry_at: None,
        });
    }

    /// Records a candidate that a rule declines until `retry_at` (a wait that ends).
    pub fn skip_until(
        &mut self,
        kind: ActionKind,
        target: Target,
        why: SkipReason,
        detail: impl Into<String>,
        retry_at: Option<DateTime<Utc>>,
    ) {
        self.skip(kind, target, why, detail);
        if let Some(last) = self.skipped.last_mut() {
            last.retry_at = retry_at;
        }
    }

    /// Withholds a rule's decision about `target` (an action of `kind`, or the finding given
    /// in its place) because a part it depends on was not read.
    pub fn withhold(&mut self, kind: ActionKind, target: Target, unread: &Incomplete) {
        self.skipped.push(Skipped {
            kind,
            target,
            why: SkipReason::IncompleteRead,
            detail: format!("{} was not read: {}", unread.part, unread.failure),
            part: Some(unread.part.clone()),
            evidence: Vec::new(),
            retry_at: None,
        });
    }
}
