//! What the policy files, the daemon's configuration file and the Okta connection settings
//! share: problems located at `file:line:column: field` ([`Diagnostic`]), where a credential
//! comes from and the one rule for variable names ([`CredentialSource`], [`is_var_name`]), and
//! the environment they read, injectable so tests never change the process's ([`Env`]).

mod credential;
mod diagnostic;
mod env;

pub use credential::{
    is_var_name, CredentialError, CredentialSource, SourceError, MAX_VAR_NAME_LEN,
};
pub use diagnostic::{Diagnostic, Diagnostics, Position, MAX_PROBLEM_CHARS, MAX_SHOWN};
pub use env::{Env, MapEnv, ProcessEnv};

pub(crate) use diagnostic::FileErrors;
