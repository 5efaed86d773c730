//! remediator: an automated remediation operator for Okta provisioning.
//!
//! The pipeline, one module per stage (docs/architecture.md draws it): `policy` files and the org read by
//! `observe` (through the `okta` client) go into the pure planner (`plan`); the executor (`act`)
//! carries out the plan and the `journal` records every step. `reconcile` is one pass of that
//! pipeline, shared by `remediator apply` and the `daemon` (`remediator run`: schedule, System
//! Log polling, metrics, leader election). `config` is what the policy files, the daemon's
//! configuration and the Okta connection settings share (located errors, credential sources,
//! the environment lookup); `error_chain` shows an error with its causes on one line. `vocab`
//! holds the names every stage shares: targets, ids and kinds. `findings` gives the plan's findings a
//! life across passes in the journal (opened, changed, resolved, acknowledged); `approvals` does
//! the same for actions whose rule requires a person's approval (asked, approved or rejected,
//! used once); `status` reads what needs a person from an org's journal; `notify` tells people
//! (webhooks, Slack) what a run did that needs them.

pub mod act;
pub mod approvals;
pub mod config;
pub mod daemon;
pub mod error_chain;
pub mod findings;
pub mod journal;
pub mod notify;
pub mod observe;
pub mod okta;
pub mod plan;
pub mod policy;
pub mod reconcile;
pub mod status;
pub mod vocab;
