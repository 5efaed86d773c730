//! remediator: an automated remediation operator for Okta provisioning.
//!
//! The pipeline, one module per stage (see `DESIGN.md`):
//! policy files and the observed org go into a pure planner; the executor carries out the plan
//! and journals every step. `sim` is okta-sim, the Okta-compatible simulated org used by the
//! tests, the demo and the benchmarks.

pub mod okta;
pub mod sim;
