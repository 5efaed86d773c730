//! okta-sim: an Okta-compatible simulated org served over real HTTP.

mod infra;

pub use infra::{FaultKind, FaultRule, InfraConfig, RateLimitConfig};
