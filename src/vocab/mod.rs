//! remediator's vocabulary, shared by every stage: what an action, finding or journal entry is
//! about ([`Target`]), the ids of its own records and the kinds of actions and findings, each
//! defined once.

mod ids;
mod kinds;
mod target;

pub use ids::ActionId;
pub use kinds::{ActionKind, FindingKind, SkipReason};
pub use target::Target;
