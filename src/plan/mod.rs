//! The plan stage: the pure planner and the plan it produces.

mod candidate;
mod gate;
mod model;
mod planner;
mod render;
mod rules;

pub use model::{
    Action, ActionId, ActionKind, Evidence, Finding, FindingId, FindingKind, Plan, Precondition,
    SkipReason, Skipped, Step, Target,
};
pub use planner::{plan, MAX_UNVERIFIED_FIX_ATTEMPTS};
pub use render::render_table;
