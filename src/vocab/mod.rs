//! remediator's vocabulary, shared by every stage: what an action, finding or journal entry is
//! about ([`Target`]), the ids of its own records, and the kinds of actions and findings, each
//! named once ([`Named`]).

mod ids;
mod kinds;
mod names;
mod target;

pub use ids::{ActionId, FindingId, RunId};
pub use kinds::{ActionKind, FindingKind, SkipReason};
pub(crate) use names::named;
pub use names::{Named, UnknownName};
pub use target::Target;
