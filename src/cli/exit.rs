//! The exit codes of the command-line contract.

/// Success (with `--detailed-exitcode`: no changes pending).
pub const OK: u8 = 0;
/// An error.
pub const ERROR: u8 = 1;
/// Changes pending (`plan --detailed-exitcode`).
pub const CHANGES_PENDING: u8 = 2;
/// Partial failure: some actions failed, were held or had to be compensated.
pub const PARTIAL_FAILURE: u8 = 3;
