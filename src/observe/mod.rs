//! The observe stage: reads an org through `OrgApi` into a [`Snapshot`], each part complete or
//! marked incomplete with why ([`Part`], [`PartId`], [`ReadFailure`]); an org whose app list
//! cannot be read is [`OrgUnreadable`], never an empty snapshot.

mod app_kind;
mod directory;
mod part;
mod probe;
mod profile;
mod read;
mod snapshot;
mod targeted;
mod unreadable;

pub use app_kind::{AppKind, DirectoryKind};
pub use part::{
    FailureKind, Freshness, Incomplete, Part, PartId, PartKind, ReadFailure, UnknownPart,
};
pub use probe::probe_all;
pub use profile::ProfileValue;
pub(crate) use read::{ask_active_mapping, observe_scoped, sweep_candidates};
pub use read::{
    observe, requests, LogStart, Observation, SweepAnswer, SweepScope, APP_LISTING_CONCURRENCY,
    MAX_DIFFS_PER_DIRECTORY, MAX_EVENTS_KEPT, MAX_LOG_PAGES,
};
pub use targeted::{event_of, merge_events, patch, Patched, ReadTarget, STALE_PREFIX};
pub use unreadable::{Credentials, OrgUnreadable};

pub use snapshot::{
    AgentInfo, AppInfo, AttributeDiff, Capabilities, ConnectionInfo, DirectoryInfo, EventInfo,
    EventTarget, FailedAssignment, ProbeResult, PushMappingInfo, Snapshot, FEATURES_API_APPS,
};
