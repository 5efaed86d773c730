//! What the policy files, the daemon's configuration file and the Okta connection settings
//! share: errors located at file:line:column, and where a credential comes from.

mod credential;
mod diagnostic;

pub use credential::{CredentialError, CredentialSource};
pub use diagnostic::{PolicyError, PolicyErrors, Position};

pub(crate) use diagnostic::{from_toml, FileErrors};
