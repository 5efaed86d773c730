//! The observe stage: reads an org through `OrgApi` into a [`Snapshot`].

mod probe;
mod snapshot;

pub use probe::probe_all;

pub use snapshot::{
    AgentInfo, AppInfo, AttributeDiff, Capabilities, ConnectionInfo, DirectoryInfo, EventInfo,
    EventTarget, FailedAssignment, Part, ProbeResult, PushMappingInfo, Snapshot, FEATURES_API_APPS,
};
