//! okta-sim: an Okta-compatible simulated org served over real HTTP.
//!
//! [`Scenario`] describes the org (TOML or JSON); [`Sim::start`] serves it; [`generate`] builds large
//! orgs for benchmarks. See `docs/okta-sim.md`.

mod admin;
mod api;
mod auth;
mod control;
mod errors;
mod events;
mod generate;
mod group_push;
mod infra;
mod logs;
mod model;
mod oauth;
mod paging;
mod provisioning;
mod scenario;
mod server;

pub use generate::{generate, GenerateSpec, GENERATED_API_TOKEN};
pub use infra::{
    endpoint_template, Bucket, EndpointStats, FaultKind, FaultRule, FaultStatus, InfraConfig,
    RateLimitConfig, StatsSnapshot,
};
pub use model::Cause;
pub use scenario::{
    AgentPoolSpec, AgentSpec, AppSpec, AppUserSpec, CapabilitiesSpec, DirectorySpec, GroupPushSpec,
    GroupSpec, OrgSettings, ProvisioningSpec, Scenario, ScenarioError, ServiceAppSpec, TokenState,
    UserSpec,
};
pub use server::{Sim, SimHandle, StartError};
