//! okta-sim: an Okta-compatible simulated org served over real HTTP.

mod infra;

pub use infra::{
    endpoint_template, Bucket, EndpointStats, FaultKind, FaultRule, FaultStatus, InfraConfig,
    RateLimitConfig, StatsSnapshot,
};
