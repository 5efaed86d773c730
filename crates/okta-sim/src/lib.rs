//! okta-sim: an Okta-compatible simulated org served over real HTTP.
//!
//! [`Scenario`] describes the org (TOML or JSON); [`Sim::start`] serves it; [`generate`] builds large
//! orgs for benchmarks. See `docs/okta-sim.md`.

mod admin;
mod api;
mod auth;
mod control;
mod errors;
mod event_hooks;
mod events;
mod faults;
mod generate;
mod group_push;
mod hostile;
mod logs;
mod model;
mod oauth;
mod paging;
mod provisioning;
mod rate_limit;
mod scenario;
mod serve;
mod server;
mod state;
mod stats;
mod transport;

pub use event_hooks::HookVerificationError;
pub use faults::{FaultKind, FaultRule, FaultStatus};
pub use generate::{
    generate, generate_push_org, push_org_orphaned, GenerateSpec, PushOrgSpec, GENERATED_API_TOKEN,
};
pub use model::Cause;
pub use rate_limit::{Bucket, RateLimitConfig};
pub use scenario::{
    AgentPoolSpec, AgentSpec, AppSpec, AppUserSpec, CapabilitiesSpec, DirectorySpec,
    EndpointAvailability, EventHookSpec, GroupPushSpec, GroupSpec, OrgSettings, ProvisioningSpec,
    Scenario, ScenarioError, ServiceAppSpec, TokenState, UserSpec,
};
pub use server::{Sim, SimHandle, StartError};
pub use stats::{endpoint_template, EndpointStats, StatsSnapshot};
pub use transport::InfraConfig;
