//! Client configuration, read the way the Okta SDKs read it: `OKTA_CLIENT_*` environment
//! variables (through an injectable `crate::config::Env`) over `./.okta/okta.yaml` over
//! `~/.okta/okta.yaml`; plus client tuning.

use secrecy::SecretString;
use serde::Deserialize;
use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;
use url::Url;

use crate::config::{Diagnostic, Env, Position, ProcessEnv};

/// Default share of each rate-limit bucket left free for the org's other integrations.
pub const DEFAULT_RATE_LIMIT_HEADROOM: f64 = 0.5;
/// Default number of retries of one transient failure.
pub const DEFAULT_MAX_RETRIES: u32 = 4;
/// Default bound on the time spent retrying one call.
pub const DEFAULT_MAX_RETRY_ELAPSED: Duration = Duration::from_secs(120);
/// Default timeout of one HTTP request.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Default number of requests in flight.
pub const DEFAULT_MAX_CONCURRENCY: usize = 8;
/// Okta's concurrent-request limit: never more in flight than this.
pub const MAX_CONCURRENCY_LIMIT: usize = 75;
/// Scopes asked for when none are configured (OAuth 2.0 mode).
pub const DEFAULT_SCOPES: &[&str] = &["okta.apps.read", "okta.users.read", "okta.logs.read"];

/// Where configuration comes from; injectable so tests do not depend on the real environment.
/// Its `Debug` output names the variables, never their values (the token is one).
#[derive(Clone, Default)]
pub struct ConfigSources {
    /// Environment variables (only the `OKTA_CLIENT_*` settings are read).
    pub env: HashMap<String, String>,
    /// Home directory (for `~/.okta/okta.yaml`).
    pub home_dir: Option<PathBuf>,
    /// Working directory (for `./.okta/okta.yaml`).
    pub working_dir: Option<PathBuf>,
}

impl ConfigSources {
    /// The `OKTA_CLIENT_*` settings and `HOME` looked up in `env`, and `working_dir`.
    pub fn from_env(env: &dyn Env, working_dir: Option<PathBuf>) -> Self {
        Self {
            env: SETTINGS
                .iter()
                .filter_map(|(_, var, _)| env.var(var).map(|v| (var.to_string(), v)))
                .collect(),
            home_dir: env.var("HOME").map(PathBuf::from),
            working_dir,
        }
    }

    /// The process environment and the current directory.
    pub fn from_process() -> Self {
        Self::from_env(&ProcessEnv, std::env::current_dir().ok())
    }
}

impl fmt::Debug for ConfigSources {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut names: Vec<&String> = self.env.keys().collect();
        names.sort();
        f.debug_struct("ConfigSources")
            .field("env", &names)
            .field("home_dir", &self.home_dir)
            .field("working_dir", &self.working_dir)
            .finish()
    }
}

/// A configuration error, naming the source of the bad value.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A required setting is absent from every source.
    #[error("missing {setting}: set {env} or okta.client.{field} in okta.yaml")]
    Missing {
        /// Human name.
        setting: &'static str,
        /// Environment variable.
        env: &'static str,
        /// okta.yaml field.
        field: &'static str,
    },
    /// A setting has an unusable value.
    #[error("{source_name}: {message}")]
    Invalid {
        /// e.g. `environment variable OKTA_CLIENT_ORGURL` or `/home/x/.okta/okta.yaml field okta.client.orgUrl`.
        source_name: String,
        /// What is wrong (never the value of a secret).
        message: String,
    },
    /// A file could not be read.
    #[error("cannot read {}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// okta.yaml is not valid YAML of the expected shape: file, line and column, the field
    /// when known, serde's message without the values it quotes.
    #[error(transparent)]
    Yaml(Diagnostic),
}

/// How the client authenticates.
#[derive(Clone)]
pub enum AuthConfig {
    /// `Authorization: SSWS <token>`.
    Ssws {
        /// API token.
        token: SecretString,
    },
    /// OAuth 2.0 client credentials with a `private_key_jwt` assertion.
    PrivateKey {
        /// Service app client id.
        client_id: String,
        /// Scopes to ask for.
        scopes: Vec<String>,
        /// RSA private key, PEM.
        private_key: SecretString,
        /// Optional `kid` of the key.
        key_id: Option<String>,
    },
}

impl fmt::Debug for AuthConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuthConfig::Ssws { .. } => f.write_str("Ssws { token: [REDACTED] }"),
            AuthConfig::PrivateKey {
                client_id, scopes, ..
            } => f
                .debug_struct("PrivateKey")
                .field("client_id", client_id)
                .field("scopes", scopes)
                .field("private_key", &"[REDACTED]")
                .finish(),
        }
    }
}

/// Tuning of the client's politeness and bounds.
#[derive(Debug, Clone)]
pub struct ClientTuning {
    /// Share (0..1) of each rate-limit bucket kept free for other integrations.
    pub rate_limit_headroom: f64,
    /// Retries of one transient failure.
    pub max_retries: u32,
    /// Bound on the time spent retrying one call.
    pub max_retry_elapsed: Duration,
    /// Timeout of one HTTP request.
    pub request_timeout: Duration,
    /// Requests in flight (at most [`MAX_CONCURRENCY_LIMIT`]).
    pub max_concurrency: usize,
}

impl Default for ClientTuning {
    fn default() -> Self {
        Self {
            rate_limit_headroom: DEFAULT_RATE_LIMIT_HEADROOM,
            max_retries: DEFAULT_MAX_RETRIES,
            max_retry_elapsed: DEFAULT_MAX_RETRY_ELAPSED,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            max_concurrency: DEFAULT_MAX_CONCURRENCY,
        }
    }
}

impl ClientTuning {
    /// Checks the bounds.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |message: String| ConfigError::Invalid {
            source_name: "client tuning".into(),
            message,
        };
        if !(0.0..1.0).contains(&self.rate_limit_headroom) {
            return Err(invalid(format!(
                "rate_limit_headroom must be in [0, 1), got {}",
                self.rate_limit_headroom
            )));
        }
        if self.max_concurrency == 0 || self.max_concurrency > MAX_CONCURRENCY_LIMIT {
            return Err(invalid(format!(
                "max_concurrency must be 1..={MAX_CONCURRENCY_LIMIT}, got {}",
                self.max_concurrency
            )));
        }
        if self.request_timeout.is_zero() {
            return Err(invalid("request_timeout must be positive".into()));
        }
        Ok(())
    }
}

/// Documented default path of Force Sync (not in Okta's public API).
pub const DEFAULT_FORCE_SYNC_PATH: &str = "/api/v1/internal/directories/{appId}/force-sync";
/// Documented default path of the retry of failed tasks (not in Okta's public API).
pub const DEFAULT_RETRY_TASKS_PATH: &str = "/api/v1/internal/apps/{appId}/tasks/retry";

/// Path templates of the non-public admin calls; `None` disables a call.
#[derive(Debug, Clone, Default)]
pub struct AdminPaths {
    /// Force Sync of a directory integration; `{appId}` is substituted.
    pub force_sync: Option<String>,
    /// Retry of failed provisioning tasks; `{appId}` is substituted.
    pub retry_failed_tasks: Option<String>,
}

impl AdminPaths {
    /// Both calls enabled at their documented default paths.
    pub fn documented_defaults() -> Self {
        Self {
            force_sync: Some(DEFAULT_FORCE_SYNC_PATH.into()),
            retry_failed_tasks: Some(DEFAULT_RETRY_TASKS_PATH.into()),
        }
    }
}

/// Validated client configuration.
#[derive(Debug, Clone)]
pub struct OktaConfig {
    /// Org base URL (`https://example.okta.com`).
    pub org_url: Url,
    /// Credentials.
    pub auth: AuthConfig,
    /// Tuning.
    pub tuning: ClientTuning,
    /// Admin-call path templates.
    pub admin: AdminPaths,
}

/// `okta.yaml` as the SDKs write it.
#[derive(Default, Deserialize)]
struct RawFile {
    okta: Option<RawOkta>,
}

#[derive(Default, Deserialize)]
struct RawOkta {
    client: Option<RawClient>,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawClient {
    org_url: Option<String>,
    token: Option<String>,
    authorization_mode: Option<String>,
    client_id: Option<String>,
    scopes: Option<ScopesValue>,
    private_key: Option<String>,
    kid: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum ScopesValue {
    List(Vec<String>),
    Text(String),
}

/// One setting with the name of where it came from.
struct Sourced {
    value: String,
    source_name: String,
}

/// The merged raw settings, each remembering its source.
#[derive(Default)]
struct Layered {
    values: HashMap<&'static str, Sourced>,
}

/// (key, environment variable, okta.yaml field)
const SETTINGS: &[(&str, &str, &str)] = &[
    ("orgUrl", "OKTA_CLIENT_ORGURL", "orgUrl"),
    ("token", "OKTA_CLIENT_TOKEN", "token"),
    (
        "authorizationMode",
        "OKTA_CLIENT_AUTHORIZATIONMODE",
        "authorizationMode",
    ),
    ("clientId", "OKTA_CLIENT_CLIENTID", "clientId"),
    ("scopes", "OKTA_CLIENT_SCOPES", "scopes"),
    ("privateKey", "OKTA_CLIENT_PRIVATEKEY", "privateKey"),
    ("kid", "OKTA_CLIENT_KID", "kid"),
];

impl Layered {
    fn overlay_file(&mut self, path: &Path) -> Result<(), ConfigError> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(source) => {
                return Err(ConfigError::Io {
                    path: path.to_owned(),
                    source,
                })
            }
        };
        let raw: RawFile =
            serde_yaml_ng::from_str(&text).map_err(|e| ConfigError::Yaml(yaml_error(path, &e)))?;
        let Some(client) = raw.okta.and_then(|o| o.client) else {
            return Ok(());
        };
        let scopes = client.scopes.map(|s| match s {
            ScopesValue::List(v) => v.join(" "),
            ScopesValue::Text(t) => t,
        });
        let fields = [
            ("orgUrl", client.org_url),
            ("token", client.token),
            ("authorizationMode", client.authorization_mode),
            ("clientId", client.client_id),
            ("scopes", scopes),
            ("privateKey", client.private_key),
            ("kid", client.kid),
        ];
        for (key, value) in fields {
            let Some(value) = value else { continue };
            let source_name = format!("{} field okta.client.{key}", path.display());
            self.values.insert(key, Sourced { value, source_name });
        }
        Ok(())
    }

    fn overlay_env(&mut self, env: &HashMap<String, String>) {
        for (key, var, _) in SETTINGS {
            let Some(value) = env.get(*var) else { continue };
            if value.is_empty() {
                continue;
            }
            let source_name = format!("environment variable {var}");
            self.values.insert(
                key,
                Sourced {
                    value: value.clone(),
                    source_name,
                },
            );
        }
    }

    fn get(&self, key: &str) -> Option<&Sourced> {
        self.values.get(key)
    }

    fn require(&self, key: &'static str, setting: &'static str) -> Result<&Sourced, ConfigError> {
        self.get(key).ok_or_else(|| {
            let (_, env, field) = SETTINGS
                .iter()
                .find(|(k, _, _)| *k == key)
                .copied()
                .unwrap_or((key, "OKTA_CLIENT_?", key));
            ConfigError::Missing {
                setting,
                env,
                field,
            }
        })
    }
}

impl OktaConfig {
    /// Reads `~/.okta/okta.yaml`, then `./.okta/okta.yaml`, then the environment (later wins),
    /// and validates the result with default tuning and no admin calls.
    pub fn load(sources: &ConfigSources) -> Result<Self, ConfigError> {
        let mut layered = Layered::default();
        if let Some(home) = &sources.home_dir {
            layered.overlay_file(&home.join(".okta").join("okta.yaml"))?;
        }
        if let Some(cwd) = &sources.working_dir {
            layered.overlay_file(&cwd.join(".okta").join("okta.yaml"))?;
        }
        layered.overlay_env(&sources.env);
        Self::from_layered(&layered)
    }

    fn from_layered(layered: &Layered) -> Result<Self, ConfigError> {
        let org = layered.require("orgUrl", "org URL")?;
        let org_url = parse_org_url(&org.value, &org.source_name)?;
        let mode = layered
            .get("authorizationMode")
            .map(|s| (s.value.trim().to_owned(), s.source_name.clone()));
        let auth = match mode {
            None => ssws(layered)?,
            Some((m, _)) if m.eq_ignore_ascii_case("SSWS") => ssws(layered)?,
            Some((m, _)) if m.eq_ignore_ascii_case("PrivateKey") => private_key(layered)?,
            Some((m, source_name)) => {
                return Err(ConfigError::Invalid {
                    source_name,
                    message: format!("authorizationMode must be SSWS or PrivateKey, got {m:?}"),
                })
            }
        };
        Ok(Self {
            org_url,
            auth,
            tuning: ClientTuning::default(),
            admin: AdminPaths::default(),
        })
    }
}

fn ssws(layered: &Layered) -> Result<AuthConfig, ConfigError> {
    let token = layered.require("token", "API token")?;
    if token.value.trim().is_empty() {
        return Err(ConfigError::Invalid {
            source_name: token.source_name.clone(),
            message: "API token is empty".into(),
        });
    }
    Ok(AuthConfig::Ssws {
        token: SecretString::from(token.value.trim().to_owned()),
    })
}

fn private_key(layered: &Layered) -> Result<AuthConfig, ConfigError> {
    let client_id = layered.require("clientId", "client id")?.value.clone();
    let key = layered.require("privateKey", "private key")?;
    let pem = load_private_key(&key.value, &key.source_name)?;
    let scopes = match layered.get("scopes") {
        Some(s) => parse_scopes(&s.value),
        None => DEFAULT_SCOPES.iter().map(|s| s.to_string()).collect(),
    };
    Ok(AuthConfig::PrivateKey {
        client_id,
        scopes,
        private_key: SecretString::from(pem),
        key_id: layered.get("kid").map(|s| s.value.clone()),
    })
}

/// serde_yaml's error as a [`Diagnostic`]: its `path.to.field: ` prefix becomes the field and
/// its ` at line L column C` suffix the position.
fn yaml_error(path: &Path, e: &serde_yaml_ng::Error) -> Diagnostic {
    let text = e.to_string();
    let position = e.location().map(|l| Position {
        line: l.line(),
        column: l.column(),
    });
    let text = match (text.rfind(" at line "), position) {
        (Some(at), Some(_)) => &text[..at],
        _ => text.as_str(),
    };
    let (field, problem) = match text.split_once(": ") {
        Some((field, problem)) if !field.contains(' ') => (field, problem),
        _ => ("", text),
    };
    Diagnostic {
        file: path.to_owned(),
        position,
        field: field.to_owned(),
        problem: problem.to_owned(),
    }
    .without_quoted_values()
}

/// Splits scopes on commas and whitespace.
pub(crate) fn parse_scopes(text: &str) -> Vec<String> {
    text.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// PEM text as given, or the contents of the file it names.
fn load_private_key(value: &str, source_name: &str) -> Result<String, ConfigError> {
    if value.contains("-----BEGIN") {
        return Ok(value.to_owned());
    }
    let path = PathBuf::from(value.trim());
    let text = std::fs::read_to_string(&path).map_err(|source| ConfigError::Io {
        path: path.clone(),
        source,
    })?;
    if !text.contains("-----BEGIN") {
        return Err(ConfigError::Invalid {
            source_name: source_name.to_owned(),
            message: format!("{} does not hold a PEM private key", path.display()),
        });
    }
    Ok(text)
}

/// Parses an org URL; `http://` only on loopback.
pub fn parse_org_url(text: &str, source_name: &str) -> Result<Url, ConfigError> {
    let invalid = |message: String| ConfigError::Invalid {
        source_name: source_name.to_owned(),
        message,
    };
    let url = Url::parse(text.trim()).map_err(|e| invalid(format!("not a URL: {e}")))?;
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&url) => {}
        "http" => {
            return Err(invalid(
                "http:// org URLs are refused except on loopback; use https://".into(),
            ))
        }
        other => return Err(invalid(format!("unsupported scheme {other:?}"))),
    }
    if url.host().is_none() {
        return Err(invalid("org URL has no host".into()));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid("org URL must not carry credentials".into()));
    }
    let mut url = url;
    url.set_path("");
    url.set_query(None);
    url.set_fragment(None);
    Ok(url)
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_refused_except_loopback() {
        assert!(parse_org_url("http://example.okta.com", "t").is_err());
        assert!(parse_org_url("http://10.0.0.1:80", "t").is_err());
        assert!(parse_org_url("http://127.0.0.1:8080", "t").is_ok());
        assert!(parse_org_url("http://127.9.9.9", "t").is_ok());
        assert!(parse_org_url("http://[::1]:9", "t").is_ok());
        assert!(parse_org_url("http://localhost:9", "t").is_ok());
        assert!(parse_org_url("https://example.okta.com", "t").is_ok());
        assert!(parse_org_url("ftp://example.okta.com", "t").is_err());
    }

    #[test]
    fn sources_come_through_the_lookup_and_hide_their_values() {
        let env = crate::config::MapEnv::new()
            .with("OKTA_CLIENT_TOKEN", "00secret-token")
            .with("OKTA_CLIENT_ORGURL", "https://x.okta.com")
            .with("UNRELATED", "1")
            .with("HOME", "/home/x");
        let sources = ConfigSources::from_env(&env, None);
        assert_eq!(sources.env.len(), 2);
        assert_eq!(sources.home_dir.as_deref(), Some(Path::new("/home/x")));
        let shown = format!("{sources:?}");
        assert!(shown.contains("OKTA_CLIENT_TOKEN"), "{shown}");
        assert!(!shown.contains("00secret-token"), "{shown}");
    }

    #[test]
    fn a_yaml_error_is_located_and_names_its_field() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("okta.yaml");
        std::fs::write(
            &path,
            "okta:\n  client:\n    orgUrl: https://x.okta.com\n    token: [x]\n",
        )
        .unwrap();
        let mut layered = Layered::default();
        let Err(ConfigError::Yaml(d)) = layered.overlay_file(&path) else {
            panic!("expected a YAML error");
        };
        assert_eq!(d.field, "okta.client.token", "{d}");
        assert_eq!(d.position.map(|p| p.line), Some(4), "{d}");
        let prefix = format!("{}:4:12: okta.client.token: invalid type: ", path.display());
        assert!(d.to_string().starts_with(&prefix), "{d}");
    }

    #[test]
    fn scopes_split_on_commas_and_spaces() {
        assert_eq!(
            parse_scopes("a.read, b.read c.read"),
            ["a.read", "b.read", "c.read"]
        );
    }
}
