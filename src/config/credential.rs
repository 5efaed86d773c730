//! Where a credential comes from: an environment variable or a file, never the secret written
//! in a configuration file. One rule for variable names serves the policy files and the
//! daemon's configuration; the credential is read only when it is needed, through an
//! injectable [`Env`].

use std::fmt;
use std::path::{Path, PathBuf};

use secrecy::SecretString;

use super::env::Env;

/// The longest accepted environment variable name.
pub const MAX_VAR_NAME_LEN: usize = 128;

/// Whether `name` is a portable environment variable name: an ASCII letter or `_`, then ASCII
/// letters, digits or `_` (upper or lower case), at most [`MAX_VAR_NAME_LEN`] characters.
/// Anything else (a blank, `-`, `=`, a leading digit) is most likely a value pasted in place
/// of the name.
pub fn is_var_name(name: &str) -> bool {
    let mut chars = name.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    name.len() <= MAX_VAR_NAME_LEN
        && (first.is_ascii_alphabetic() || first == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The source of a credential named in a configuration file. Holds only the variable name or
/// the file path, never the value, so its `Debug` output is safe to log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialSource {
    /// Read from this environment variable.
    Env(String),
    /// Read from this file.
    File(PathBuf),
}

/// Why a credential source written in a configuration file is refused. Never holds the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SourceError {
    /// The variable name breaks [`is_var_name`].
    #[error(
        "expected an environment variable name (letters, digits, _), found something else \
         (value not shown: it may be a secret)"
    )]
    NotAVarName,
    /// The file path is empty.
    #[error("expected a non-empty file path string, found something else (value not shown)")]
    EmptyPath,
}

/// Why a credential could not be read. Names the variable or file, never the value.
#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    /// The environment variable is not set (or not valid UTF-8).
    #[error("credential environment variable {var} is not set")]
    EnvMissing {
        /// The variable name.
        var: String,
    },
    /// The file could not be read.
    #[error("credential file {} could not be read", path.display())]
    FileRead {
        /// The file path.
        path: PathBuf,
        /// The I/O cause.
        #[source]
        source: std::io::Error,
    },
    /// The variable or file holds only blanks.
    #[error("credential from {origin} is empty")]
    Empty {
        /// Where it was read from (`environment variable NAME` or `file PATH`).
        origin: CredentialSource,
    },
}

impl CredentialSource {
    /// The environment variable `name`, if it is a variable name ([`is_var_name`]).
    pub fn env(name: &str) -> Result<Self, SourceError> {
        if is_var_name(name) {
            Ok(CredentialSource::Env(name.to_owned()))
        } else {
            Err(SourceError::NotAVarName)
        }
    }

    /// The file `path`, if it is not empty.
    pub fn file(path: impl AsRef<Path>) -> Result<Self, SourceError> {
        let path = path.as_ref();
        if path.as_os_str().is_empty() || path.to_string_lossy().trim().is_empty() {
            return Err(SourceError::EmptyPath);
        }
        Ok(CredentialSource::File(path.to_owned()))
    }

    /// Reads the credential now: the variable through `env`, or the file. Blanks around the
    /// value (a file's trailing newline) are trimmed; an empty value is an error.
    pub fn resolve(&self, env: &dyn Env) -> Result<SecretString, CredentialError> {
        let raw = match self {
            CredentialSource::Env(var) => env
                .var(var)
                .ok_or_else(|| CredentialError::EnvMissing { var: var.clone() })?,
            CredentialSource::File(path) => {
                std::fs::read_to_string(path).map_err(|source| CredentialError::FileRead {
                    path: path.clone(),
                    source,
                })?
            }
        };
        let value = raw.trim();
        if value.is_empty() {
            return Err(CredentialError::Empty {
                origin: self.clone(),
            });
        }
        Ok(SecretString::from(value.to_owned()))
    }
}

impl fmt::Display for CredentialSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CredentialSource::Env(var) => write!(f, "environment variable {var}"),
            CredentialSource::File(path) => write!(f, "file {}", path.display()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::MapEnv;
    use secrecy::ExposeSecret;
    use std::io::Write;

    #[test]
    fn var_names_are_portable_names_in_either_case() {
        for good in ["ACME_SCIM_TOKEN", "_x1", "acme_token", "Okta2"] {
            assert!(is_var_name(good), "{good}");
        }
        let too_long = "A".repeat(MAX_VAR_NAME_LEN + 1);
        for bad in [
            "",
            "00aBcD-xyz",
            "SSWS abc",
            "1ABC",
            "A-B",
            "A=B",
            "É",
            &too_long,
        ] {
            assert!(!is_var_name(bad), "{bad}");
        }
        assert!(is_var_name(&"A".repeat(MAX_VAR_NAME_LEN)));
        assert_eq!(
            CredentialSource::env("00abc"),
            Err(SourceError::NotAVarName)
        );
        assert_eq!(CredentialSource::file(" "), Err(SourceError::EmptyPath));
    }

    #[test]
    fn env_source_reads_the_variable_and_errors_name_it() {
        let src = CredentialSource::Env("ACME_TOKEN".into());
        let got = src
            .resolve(&MapEnv::new().with("ACME_TOKEN", "s3cr3t\n"))
            .unwrap();
        assert_eq!(got.expose_secret(), "s3cr3t");
        let err = src.resolve(&MapEnv::new()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "credential environment variable ACME_TOKEN is not set"
        );
        let err = src
            .resolve(&MapEnv::new().with("ACME_TOKEN", " \n"))
            .unwrap_err();
        assert!(err.to_string().contains("ACME_TOKEN is empty"), "{err}");
    }

    #[test]
    fn file_source_trims_the_trailing_newline_and_never_shows_the_value() {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        write!(f, "tok-value-123\r\n").unwrap();
        let src = CredentialSource::File(f.path().to_path_buf());
        let got = src.resolve(&MapEnv::new()).unwrap();
        assert_eq!(got.expose_secret(), "tok-value-123");
        assert!(!format!("{got:?}").contains("tok-value"));
        assert!(!format!("{src:?}").contains("tok-value"));
        let missing = CredentialSource::File("/nonexistent/remediator/token".into());
        let err = missing.resolve(&MapEnv::new()).unwrap_err();
        assert!(
            err.to_string().contains("/nonexistent/remediator/token"),
            "{err}"
        );
    }
}
