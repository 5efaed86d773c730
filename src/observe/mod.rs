//! The observe stage: reads an org through `OrgApi` into a [`Snapshot`].

mod snapshot;

pub use snapshot::{
    AgentInfo, AppInfo, AttributeDiff, Capabilities, ConnectionInfo, DirectoryInfo, EventInfo,
    EventTarget, FailedAssignment, Part, ProbeResult, PushMappingInfo, Snapshot, FEATURES_API_APPS,
};
