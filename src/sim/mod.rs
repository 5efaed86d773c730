//! okta-sim: an Okta-compatible simulated org served over real HTTP.
//!
//! [`Scenario`] describes the org (TOML); [`Sim::start`] serves it; [`generate`] builds large
//! orgs for benchmarks. See `docs/okta-sim.md`.

mod admin;
mod api;
mod control;
mod generate;
mod infra;
mod logs;
mod model;
mod oauth;
mod scenario;
mod server;

pub use generate::{generate, GenerateSpec};
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
