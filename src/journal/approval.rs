//! Approval state kept in the journal's `approvals` tree: one record per action that waits for
//! (or has) a person's decision, keyed by the action's id. Written only with the entry that
//! changes it (`awaiting_approval`, `approval_granted`, `approval_rejected`), like findings.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use strum::{EnumIter, IntoStaticStr};

use crate::vocab::{named, ActionId, ActionKind, Target};

/// A person's decision on an action.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, IntoStaticStr)]
#[strum(serialize_all = "snake_case")]
pub enum Verdict {
    Granted,
    Rejected,
}
named!(Verdict, "verdict");

/// Who decided, when, why and what.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalDecision {
    pub verdict: Verdict,
    pub by: String,
    pub reason: String,
    pub at: DateTime<Utc>,
    /// The plan hash the person decided on (the request's).
    pub plan_hash: String,
}

/// An action that was asked to be approved: as it was planned when asked, and the decision.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalRecord {
    pub action_id: ActionId,
    pub action_kind: ActionKind,
    pub target: Target,
    /// The digest of the action's planned form when it was asked (`plan::plan_hash`).
    pub plan_hash: String,
    /// The action's reason, in words.
    pub summary: String,
    pub org: String,
    pub requested_at: DateTime<Utc>,
    /// When the request, and an approval given for it, lapse.
    pub expires_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<ApprovalDecision>,
}

impl ApprovalRecord {
    /// Whether it waits for a person at `now`: asked, not decided, not expired.
    pub fn pending_at(&self, now: DateTime<Utc>) -> bool {
        self.decision.is_none() && self.expires_at > now
    }
}
