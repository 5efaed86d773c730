//! The exit codes of the command-line contract (the README's table lists them all).

/// Success (with `--detailed-exitcode`: no changes pending).
pub const OK: u8 = 0;
/// An error; also a declined confirmation (`apply` answered "no", as Terraform does).
pub const ERROR: u8 = 1;
/// Changes pending (`plan --detailed-exitcode`): actions `apply` would carry out.
pub const CHANGES_PENDING: u8 = 2;
/// Partial failure: some actions failed, were held or had to be compensated.
pub const PARTIAL_FAILURE: u8 = 3;
/// A usage error (an unknown option, a missing or malformed argument): `EX_USAGE` of
/// sysexits.h, never 2, which `--detailed-exitcode` gives to "changes pending".
pub const USAGE: u8 = 64;
/// Standard output was closed by its reader (`| head`): 128 + SIGPIPE, as a shell reports for
/// `ls` stopped by the closed pipe; nothing more is printed.
pub const CLOSED_PIPE: u8 = 141;
