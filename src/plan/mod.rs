//! The plan stage: the pure planner and the plan it produces.

mod budget;
mod candidate;
mod model;
mod planner;
mod render;
mod rules;

pub use model::{
    Action, ActionId, ActionKind, Evidence, Finding, FindingKind, Plan, Precondition,
    SelectorWarning, SkipReason, Skipped, Step, Target,
};
pub use planner::{plan, MAX_UNVERIFIED_FIX_ATTEMPTS};
pub use render::render_table;
