//! The observe stage: reads an org through `OrgApi` into a [`Snapshot`].

mod probe;
mod read;
mod snapshot;

pub use probe::probe_all;
pub use read::{
    observe, LogStart, Observation, APP_LISTING_CONCURRENCY, MAX_EVENTS_KEPT, MAX_LOG_PAGES,
};

pub use snapshot::{
    AgentInfo, AppInfo, AttributeDiff, Capabilities, ConnectionInfo, DirectoryInfo, EventInfo,
    EventTarget, FailedAssignment, Part, ProbeResult, PushMappingInfo, Snapshot, FEATURES_API_APPS,
};
