//! The plan stage: the pure planner and the plan it produces.

mod model;

pub use model::{
    Action, ActionId, ActionKind, Evidence, Finding, FindingKind, Plan, Precondition, SkipReason,
    Skipped, Step, Target,
};
