//! okta-sim's integration tests: one binary, a module per area.

mod event_driven;
mod hostile_faults;
mod okta_answers;
mod openapi;
mod openapi_validator;
mod recorded_conformance;
mod sim_api;
mod sim_cli;
mod sim_conformance;
mod sim_scenarios;
mod support;

/// The repository root: the shipped scenarios and test fixtures live in its `tests/`.
pub fn repo_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}
