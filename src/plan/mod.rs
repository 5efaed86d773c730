//! The plan stage: the pure planner and the plan it produces.

mod approval;
mod candidate;
mod depends;
pub(crate) mod gate;
mod labels;
mod model;
mod planner;
mod render;
mod rules;
mod saved;

pub use approval::{plan_hash, ActionApproval, ApprovalStatus};
pub use model::{
    Action, ActionId, ActionKind, ActionMode, Evidence, Finding, FindingId, FindingKind, Plan,
    PlanDigests, Precondition, SelectorWarning, SkipReason, Skipped, Step, Target,
};
pub use planner::{plan, MAX_UNVERIFIED_FIX_ATTEMPTS};
pub use render::{render_table, render_table_fitted, wrap};
pub use saved::{
    match_saved, read_saved, seal, FingerprintError, NotCarriedOut, PolicyFingerprint,
    SavedPlanError,
};
