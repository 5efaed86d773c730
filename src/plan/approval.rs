//! Approvals in the plan: an enforce action of a rule that requires approval
//! (`approval = "required"`) is planned as usual and carries its [`ActionApproval`]: the
//! digest of its planned form ([`plan_hash`]) and whether a person's approval of exactly that
//! form is in force. Only an approved one is carried out; the others are held by the safety
//! gate (`Hold::Approval`) and asked for once (`crate::approvals`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use strum::{EnumIter, IntoStaticStr};

use super::model::{Action, ActionId, ActionKind, Evidence, Precondition, Step, Target};
use crate::vocab::named;

/// Where an approval-required action stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, EnumIter, IntoStaticStr)]
#[strum(serialize_all = "kebab-case")]
pub enum ApprovalStatus {
    /// A person approved it as planned now, and the approval has not expired: carried out.
    Approved,
    /// Not approved yet (asked now, or asked earlier and waiting).
    Awaiting,
    /// The request or its approval expired: asked again.
    Expired,
    /// It was asked (or approved) with another plan hash: its preconditions or steps changed
    /// since; asked again.
    Changed,
    /// A person rejected it as planned now: held until its plan changes.
    Rejected,
}
named!(ApprovalStatus, "approval status");

/// An approval-required action's approval, in the plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionApproval {
    pub status: ApprovalStatus,
    /// [`plan_hash`] of the action as planned.
    pub plan_hash: String,
    /// When the request (or the approval) lapses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
    /// Who approved or rejected it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
}

impl ActionApproval {
    /// Whether the action may be carried out.
    pub fn approved(&self) -> bool {
        self.status == ApprovalStatus::Approved
    }
}

/// The part of an action its plan hash covers: everything it would do and why, not its mode
/// or its approval.
#[derive(Serialize)]
struct Planned<'a> {
    id: &'a ActionId,
    kind: ActionKind,
    target: &'a Target,
    evidence: &'a [Evidence],
    steps: &'a [Step],
    preconditions: &'a [Precondition],
}

/// `sha256:` and the hex digest of the action's planned form (id, kind, target, evidence,
/// steps, preconditions): two plans of an action with one hash would do the same thing for the
/// same reason.
pub fn plan_hash(action: &Action) -> String {
    let planned = Planned {
        id: &action.id,
        kind: action.kind,
        target: &action.target,
        evidence: &action.evidence,
        steps: &action.steps,
        preconditions: &action.preconditions,
    };
    let bytes = serde_json::to_vec(&planned)
        .expect("an action serializes: plain data with string keys and no maps");
    format!("sha256:{}", hex::encode(Sha256::digest(&bytes)))
}
