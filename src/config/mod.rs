//! What the policy files, the daemon's configuration file and the Okta connection settings
//! share: problems located at `file:line:column: field` ([`Diagnostic`]), where a credential
//! comes from and the one rule for variable names ([`CredentialSource`], [`is_var_name`]), and
//! the environment they read, injectable so tests never change the process's ([`Env`]), and
//! the rule for a path on the org a file may name ([`check_org_path`]); files are read only
//! when regular and small (`file`).

mod credential;
mod diagnostic;
mod env;
mod file;
mod org_path;

pub use credential::{
    is_var_name, CredentialError, CredentialSource, SourceError, MAX_VAR_NAME_LEN,
};
pub use diagnostic::{
    Diagnostic, Diagnostics, Position, MAX_FIELD_CHARS, MAX_FIELD_PARTS, MAX_PROBLEMS_PER_FILE,
    MAX_PROBLEM_CHARS, MAX_SHOWN,
};
pub use env::{Env, MapEnv, ProcessEnv};
pub use org_path::{check_org_path, OrgPathError, OrgPathRule, MAX_ORG_PATH_CHARS};

pub(crate) use diagnostic::{FileErrors, LineIndex};
pub(crate) use file::{file_kind, read_regular_file};
