//! Where a credential comes from (an environment variable or a file, never inline) and how the
//! executor reads it.

use std::path::PathBuf;

use secrecy::SecretString;

/// The source of a credential named in policy. Holds only the variable name or the file path,
/// never the value, so its `Debug` output is safe to log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialSource {
    /// Read from this environment variable.
    Env(String),
    /// Read from this file (trailing newline trimmed).
    File(PathBuf),
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
        /// `environment variable NAME` or `file PATH`.
        origin: String,
    },
}

impl CredentialSource {
    /// Reads the credential now, from the process environment or the file system.
    pub fn resolve(&self) -> Result<SecretString, CredentialError> {
        self.resolve_with(|var| std::env::var(var).ok())
    }

    /// Reads the credential, looking environment variables up through `env`.
    pub(crate) fn resolve_with(
        &self,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<SecretString, CredentialError> {
        let (raw, origin) = match self {
            CredentialSource::Env(var) => {
                let value =
                    env(var).ok_or_else(|| CredentialError::EnvMissing { var: var.clone() })?;
                (value, format!("environment variable {var}"))
            }
            CredentialSource::File(path) => {
                let value =
                    std::fs::read_to_string(path).map_err(|source| CredentialError::FileRead {
                        path: path.clone(),
                        source,
                    })?;
                (value, format!("file {}", path.display()))
            }
        };
        let value = raw.trim_end_matches(['\n', '\r']);
        if value.trim().is_empty() {
            return Err(CredentialError::Empty { origin });
        }
        Ok(SecretString::from(value.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;
    use std::io::Write;

    #[test]
    fn env_source_reads_the_variable_and_errors_name_it() {
        let src = CredentialSource::Env("ACME_TOKEN".into());
        let got = src
            .resolve_with(|v| (v == "ACME_TOKEN").then(|| "s3cr3t\n".to_string()))
            .unwrap();
        assert_eq!(got.expose_secret(), "s3cr3t");
        let err = src.resolve_with(|_| None).unwrap_err();
        assert_eq!(
            err.to_string(),
            "credential environment variable ACME_TOKEN is not set"
        );
        let err = src.resolve_with(|_| Some("\n".into())).unwrap_err();
        assert!(err.to_string().contains("ACME_TOKEN is empty"), "{err}");
    }

    #[test]
    fn file_source_trims_the_trailing_newline_and_never_shows_the_value() {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        write!(f, "tok-value-123\r\n").unwrap();
        let src = CredentialSource::File(f.path().to_path_buf());
        let got = src.resolve().unwrap();
        assert_eq!(got.expose_secret(), "tok-value-123");
        assert!(!format!("{got:?}").contains("tok-value"));
        assert!(!format!("{src:?}").contains("tok-value"));
        let missing = CredentialSource::File("/nonexistent/remediator/token".into());
        let err = missing.resolve().unwrap_err();
        assert!(
            err.to_string().contains("/nonexistent/remediator/token"),
            "{err}"
        );
    }
}
