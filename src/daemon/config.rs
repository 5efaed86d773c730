//! The daemon's configuration file (`--config FILE`, TOML): the orgs to serve, where each one's
//! credentials come from (an environment variable or a file, never the secret itself: the
//! sources and variable names of `crate::config`), its policy and state directories, and the
//! daemon's own settings. Unknown keys are rejected; every error names the file, the line and
//! column, and the field.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use crate::config::{CredentialSource, Diagnostic, Env, SourceError};
use crate::okta::{parse_org_url, AdminPaths, AuthConfig, ClientTuning, ConfigSources, OktaConfig};

/// Default address of the health and metrics endpoint: loopback only.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:9464";
/// Name of the org when there is no configuration file (one org from `OKTA_CLIENT_*`).
pub const DEFAULT_ORG_NAME: &str = "default";
/// The environment variable that asks for leader election (`true`/`false`; the StatefulSet
/// sets it), over the file's `daemon.leader_election`.
pub const LEADER_ELECTION_ENV: &str = "REMEDIATOR_LEADER_ELECTION";
/// Longest org name: it becomes a directory, a metric label and part of a Kubernetes Lease
/// name (`remediator-<name>`, at most 63 characters).
pub const MAX_ORG_NAME_LEN: usize = 40;
/// Most orgs one daemon serves (each has its own task, client and journal).
pub const MAX_ORGS: usize = 256;
/// Largest configuration file read, in bytes (1 MiB).
pub const MAX_CONFIG_FILE_BYTES: u64 = 1024 * 1024;

/// Keys that would put a secret inline; refused with a hint instead of serde's message.
const INLINE_SECRET_KEYS: &[&str] = &[
    "token",
    "api_token",
    "private_key",
    "client_secret",
    "password",
    "secret",
];

/// Where an org's credentials come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrgCredentials {
    /// `OKTA_CLIENT_*` and okta.yaml, as `remediator plan` reads them (one org only).
    OktaClientConvention,
    /// An SSWS API token in an environment variable (`token_env`) or a file (`token_file`,
    /// e.g. a systemd credential or a mounted Secret).
    Token(CredentialSource),
    /// An OAuth 2.0 service app with `private_key_jwt`; the PEM key in an environment variable
    /// (`private_key_env`) or a file (`private_key_file`).
    PrivateKey {
        client_id: String,
        key: CredentialSource,
        scopes: Vec<String>,
        key_id: Option<String>,
    },
}

/// One org the daemon serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgConfig {
    /// Short name: journal subdirectory, metric label, Lease name.
    pub name: String,
    /// The org URL (`https://example.okta.com`); `None` only with the `OKTA_CLIENT_*`
    /// convention, which names it.
    pub url: Option<url::Url>,
    pub credentials: OrgCredentials,
    /// Policy directory (default: `--policies`).
    pub policies: Option<PathBuf>,
    /// Journal directory (default: `<--state>/<name>`).
    pub state: Option<PathBuf>,
}

/// `REMEDIATOR_LEADER_ELECTION` is set to something other than `true` or `false`.
#[derive(Debug, thiserror::Error)]
#[error("{LEADER_ELECTION_ENV}={0:?} is not `true` or `false`")]
pub struct LeaderElectionSetting(pub String);

/// The validated configuration file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DaemonConfig {
    /// Address of `/healthz`, `/readyz` and `/metrics`.
    pub listen: SocketAddr,
    pub orgs: Vec<OrgConfig>,
    /// `daemon.leader_election`: one Lease per org (`REMEDIATOR_LEADER_ELECTION` overrides it).
    pub leader_election: bool,
    /// `daemon.public_url` and the sinks of `[[notify]]` and `[[orgs.notify]]`.
    pub notify: crate::notify::NotifyConfig,
}

impl DaemonConfig {
    /// One org from `OKTA_CLIENT_*` / okta.yaml, as `plan` reads it, and the default listen
    /// address: what `run` uses without `--config`.
    pub fn single_org() -> Self {
        DaemonConfig {
            listen: DEFAULT_LISTEN
                .parse()
                .expect("DEFAULT_LISTEN is an address"),
            orgs: vec![OrgConfig {
                name: DEFAULT_ORG_NAME.to_owned(),
                url: None,
                credentials: OrgCredentials::OktaClientConvention,
                policies: None,
                state: None,
            }],
            leader_election: false,
            notify: crate::notify::NotifyConfig::default(),
        }
    }

    /// Whether leader election is asked for: `REMEDIATOR_LEADER_ELECTION` (`true` or `false`)
    /// when set, else the file's `daemon.leader_election`.
    pub fn leader_election_asked(&self, env: &dyn Env) -> Result<bool, LeaderElectionSetting> {
        match env.var(LEADER_ELECTION_ENV).as_deref() {
            None => Ok(self.leader_election),
            Some("true") => Ok(true),
            Some("false") => Ok(false),
            Some(other) => Err(LeaderElectionSetting(other.to_owned())),
        }
    }

    /// Reads and validates `path`: a regular file (or a link to one) of at most
    /// [`MAX_CONFIG_FILE_BYTES`], refused unread otherwise.
    pub fn load(path: &Path) -> Result<Self, Diagnostic> {
        let text = crate::config::read_regular_file(path, MAX_CONFIG_FILE_BYTES)?;
        Self::parse(path, &text)
    }

    /// Validates `text`, the contents of `file` (named in errors).
    pub fn parse(file: &Path, text: &str) -> Result<Self, Diagnostic> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| parse_error(file, text, &e))?;
        let at = |span: Range<usize>, field: String, problem: String| {
            Diagnostic::at(file, text, span.start, &field, problem)
        };
        let leader_election = raw
            .daemon
            .as_ref()
            .and_then(|d| d.leader_election)
            .unwrap_or(false);
        let public_url = match raw.daemon.as_ref().and_then(|d| d.public_url.clone()) {
            None => None,
            Some(u) => Some(
                public_url(u.get_ref())
                    .map_err(|problem| at(u.span(), "daemon.public_url".into(), problem))?,
            ),
        };
        let listen = match raw.daemon.and_then(|d| d.listen) {
            None => DEFAULT_LISTEN
                .parse()
                .expect("DEFAULT_LISTEN is an address"),
            Some(l) => l.get_ref().parse().map_err(|e| {
                at(
                    l.span(),
                    "daemon.listen".into(),
                    format!("not an address:port ({e}), e.g. {DEFAULT_LISTEN}"),
                )
            })?,
        };
        let whole = |problem: &str| Diagnostic::whole_file(file, "orgs", problem);
        if raw.orgs.is_empty() {
            return Err(whole("no [[orgs]]: name at least one org"));
        }
        if raw.orgs.len() > MAX_ORGS {
            return Err(whole(&format!("more than {MAX_ORGS} orgs")));
        }
        let count = raw.orgs.len();
        let mut names = BTreeSet::new();
        let mut orgs = Vec::with_capacity(count);
        let mut sinks = vec![("notify".to_owned(), None, raw.notify)];
        for (i, mut org) in raw.orgs.into_iter().enumerate() {
            let org_sinks = std::mem::take(&mut org.notify);
            let org_name = Some(org.name.get_ref().clone());
            sinks.push((format!("orgs[{i}].notify"), org_name, org_sinks));
            let name_span = org.name.span();
            let org = validate_org(i, org, count, &at)?;
            if !names.insert(org.name.clone()) {
                let problem = format!("org name {:?} is used twice", org.name);
                return Err(at(name_span, format!("orgs[{i}].name"), problem));
            }
            orgs.push(org);
        }
        let sinks = crate::notify::parse_sinks(sinks, &at)?;
        Ok(DaemonConfig {
            listen,
            orgs,
            leader_election,
            notify: crate::notify::NotifyConfig { public_url, sinks },
        })
    }
}

type At<'a> = dyn Fn(Range<usize>, String, String) -> Diagnostic + 'a;

/// `daemon.public_url`: the address people reach the daemon's listener at (behind a proxy),
/// for the status-page link of notifications: http or https, no credentials, no query.
fn public_url(text: &str) -> Result<url::Url, String> {
    let url = url::Url::parse(text).map_err(|e| format!("not a URL ({e})"))?;
    if !matches!(url.scheme(), "https" | "http") || url.cannot_be_a_base() {
        return Err("expected an http:// or https:// URL".into());
    }
    if !url.username().is_empty() || url.password().is_some() || url.query().is_some() {
        return Err("a public URL carries no credentials and no query".into());
    }
    Ok(url)
}

fn validate_org(i: usize, raw: RawOrg, orgs: usize, at: &At<'_>) -> Result<OrgConfig, Diagnostic> {
    let field = |name: &str| format!("orgs[{i}].{name}");
    let name = raw.name.get_ref().clone();
    if !valid_name(&name) {
        return Err(at(
            raw.name.span(),
            field("name"),
            format!(
                "{name:?} is not a valid org name: 1 to {MAX_ORG_NAME_LEN} lowercase letters, \
                 digits and '-', starting and ending with a letter or digit"
            ),
        ));
    }
    let url = match &raw.url {
        None => None,
        Some(u) => Some(
            parse_org_url(u.get_ref(), &field("url"))
                .map_err(|e| at(u.span(), field("url"), e.to_string()))?,
        ),
    };
    let credentials = match raw.credentials {
        None if orgs == 1 => OrgCredentials::OktaClientConvention,
        None => {
            return Err(at(
                raw.name.span(),
                field("credentials"),
                "missing: with more than one org each names its credentials \
                 (token_env, token_file, or client_id with private_key_env/private_key_file)"
                    .into(),
            ))
        }
        Some(c) => credentials(c, &field("credentials"), at)?,
    };
    if url.is_none() && credentials != OrgCredentials::OktaClientConvention {
        return Err(at(
            raw.name.span(),
            field("url"),
            "missing: the org URL is required when credentials are named here".into(),
        ));
    }
    Ok(OrgConfig {
        name,
        url,
        credentials,
        policies: raw.policies,
        state: raw.state,
    })
}

fn valid_name(name: &str) -> bool {
    let ok_char = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-';
    !name.is_empty()
        && name.len() <= MAX_ORG_NAME_LEN
        && name.chars().all(ok_char)
        && !name.starts_with('-')
        && !name.ends_with('-')
}

fn credentials(
    raw: Spanned<RawCredentials>,
    field: &str,
    at: &At<'_>,
) -> Result<OrgCredentials, Diagnostic> {
    let span = raw.span();
    let c = raw.into_inner();
    let invalid = |problem: &str| at(span.clone(), field.to_owned(), problem.to_owned());
    // A source is refused at its own key, by the rules shared with policy files.
    let refused = |key: &str, value: &Spanned<String>, problem: SourceError| {
        at(value.span(), format!("{field}.{key}"), problem.to_string())
    };
    let env = |key: &str, name: Spanned<String>| {
        CredentialSource::env(name.get_ref()).map_err(|p| refused(key, &name, p))
    };
    let file = |key: &str, path: Spanned<String>| {
        CredentialSource::file(path.get_ref()).map_err(|p| refused(key, &path, p))
    };
    let forms = [
        c.token_env.is_some(),
        c.token_file.is_some(),
        c.client_id.is_some(),
    ];
    if forms.iter().filter(|f| **f).count() != 1 {
        return Err(invalid(
            "name exactly one of token_env, token_file, or client_id (with private_key_env or \
             private_key_file)",
        ));
    }
    if let Some(name) = c.token_env {
        return Ok(OrgCredentials::Token(env("token_env", name)?));
    }
    if let Some(path) = c.token_file {
        return Ok(OrgCredentials::Token(file("token_file", path)?));
    }
    let client_id = c.client_id.expect("one form is set and it is client_id");
    let key = match (c.private_key_env, c.private_key_file) {
        (Some(name), None) => env("private_key_env", name)?,
        (None, Some(path)) => file("private_key_file", path)?,
        _ => {
            return Err(invalid(
                "with client_id, name exactly one of private_key_env or private_key_file",
            ))
        }
    };
    Ok(OrgCredentials::PrivateKey {
        client_id,
        key,
        scopes: c.scopes.unwrap_or_default(),
        key_id: c.key_id,
    })
}

/// Why an org's credentials could not be read at start-up. Never holds the secret.
#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    /// The variable or file the configuration names could not be read.
    #[error("org {org}")]
    Source {
        org: String,
        #[source]
        source: crate::config::CredentialError,
    },
    /// The `OKTA_CLIENT_*` / okta.yaml settings are missing or invalid.
    #[error("org {org} (OKTA_CLIENT_* and okta.yaml)")]
    Convention {
        org: String,
        #[source]
        source: crate::okta::ConfigError,
    },
    /// The private key read is not one the client can sign its assertions with: refused at
    /// start-up rather than at the first token request (the daemon would never become ready).
    #[error(
        "org {org}: the private key from {from} is not a usable PEM RSA private key ({problem})"
    )]
    Key {
        org: String,
        /// Where the key was read from (never the key).
        from: String,
        /// What the key parser said (never the key).
        problem: String,
    },
}

/// Signs a throw-away assertion with the key, as the client will: a text that is not PEM, a
/// PEM that is not an RSA private key, or a damaged one is refused here.
fn check_private_key(
    org: &str,
    from: &dyn std::fmt::Display,
    key: &secrecy::SecretString,
) -> Result<(), CredentialError> {
    use secrecy::ExposeSecret;
    let refuse = |problem: String| CredentialError::Key {
        org: org.to_owned(),
        from: from.to_string(),
        problem,
    };
    let pem = key.expose_secret();
    if !pem.contains("-----BEGIN") {
        return Err(refuse("no -----BEGIN line: not PEM".into()));
    }
    let encoding = jsonwebtoken::EncodingKey::from_rsa_pem(pem.as_bytes())
        .map_err(|e| refuse(e.to_string()))?;
    let header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    jsonwebtoken::encode(&header, &serde_json::json!({ "check": true }), &encoding)
        .map_err(|e| refuse(e.to_string()))?;
    Ok(())
}

impl OrgConfig {
    /// The client configuration: reads the credential from its source now. `env` looks up
    /// environment variables; `sources` serves the `OKTA_CLIENT_*` convention.
    pub fn okta_config(
        &self,
        env: &dyn Env,
        sources: &ConfigSources,
    ) -> Result<OktaConfig, CredentialError> {
        let read = |source: &CredentialSource| {
            source
                .resolve(env)
                .map_err(|source| CredentialError::Source {
                    org: self.name.clone(),
                    source,
                })
        };
        let auth = match &self.credentials {
            OrgCredentials::OktaClientConvention => {
                let mut config =
                    OktaConfig::load(sources).map_err(|source| CredentialError::Convention {
                        org: self.name.clone(),
                        source,
                    })?;
                if let Some(url) = &self.url {
                    config.org_url = url.clone();
                }
                if let AuthConfig::PrivateKey { private_key, .. } = &config.auth {
                    check_private_key(&self.name, &"OKTA_CLIENT_* / okta.yaml", private_key)?;
                }
                return Ok(config);
            }
            OrgCredentials::Token(source) => AuthConfig::Ssws {
                token: read(source)?,
            },
            OrgCredentials::PrivateKey {
                client_id,
                key,
                scopes,
                key_id,
            } => {
                let private_key = read(key)?;
                check_private_key(&self.name, key, &private_key)?;
                AuthConfig::PrivateKey {
                    client_id: client_id.clone(),
                    scopes: if scopes.is_empty() {
                        crate::okta::DEFAULT_SCOPES
                            .iter()
                            .map(|s| s.to_string())
                            .collect()
                    } else {
                        scopes.clone()
                    },
                    private_key,
                    key_id: key_id.clone(),
                }
            }
        };
        Ok(OktaConfig {
            org_url: self
                .url
                .clone()
                .expect("validation requires a URL unless the OKTA_CLIENT_* convention is used"),
            auth,
            tuning: ClientTuning::default(),
            admin: AdminPaths::default(),
        })
    }
}

/// A TOML or shape error, located, with its field. toml's own `Display` quotes the offending
/// source line, which could be a secret written inline: only the position and serde's message
/// (its quoted values removed) are kept.
fn parse_error(file: &Path, text: &str, e: &toml::de::Error) -> Diagnostic {
    let message = e.message();
    let inline_secret = INLINE_SECRET_KEYS
        .iter()
        .find(|k| message.contains(&format!("unknown field `{k}`")));
    let mut diagnostic = Diagnostic::from_toml(file, text, e).without_quoted_values();
    if message.contains("unknown field `url`") {
        diagnostic.problem = "`url` is not accepted in a sink: a webhook URL is a secret; name an \
                              environment variable (url_env) or a file (url_file) holding it"
            .into();
    }
    if let Some(key) = inline_secret {
        diagnostic.problem = format!(
            "`{key}` is not accepted: secrets are never written in the configuration; name an \
             environment variable (token_env, private_key_env) or a file (token_file, \
             private_key_file)"
        );
    }
    diagnostic
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    daemon: Option<RawDaemon>,
    #[serde(default)]
    orgs: Vec<RawOrg>,
    #[serde(default)]
    notify: crate::notify::RawNotify,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDaemon {
    listen: Option<Spanned<String>>,
    leader_election: Option<bool>,
    public_url: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOrg {
    name: Spanned<String>,
    url: Option<Spanned<String>>,
    credentials: Option<Spanned<RawCredentials>>,
    policies: Option<PathBuf>,
    state: Option<PathBuf>,
    #[serde(default)]
    notify: crate::notify::RawNotify,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCredentials {
    token_env: Option<Spanned<String>>,
    token_file: Option<Spanned<String>>,
    client_id: Option<String>,
    private_key_env: Option<Spanned<String>>,
    private_key_file: Option<Spanned<String>>,
    scopes: Option<Vec<String>>,
    key_id: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{MapEnv, Position};
    use crate::error_chain::error_chain;

    fn parse(text: &str) -> Result<DaemonConfig, Diagnostic> {
        DaemonConfig::parse(Path::new("remediator.toml"), text)
    }

    const TWO_ORGS: &str = r#"
[daemon]
listen = "127.0.0.1:9999"

[[orgs]]
name = "prod"
url = "https://prod.okta.com"
credentials = { token_env = "PROD_OKTA_TOKEN" }
policies = "policies/prod"

[[orgs]]
name = "test-1"
url = "https://test.okta.com"
state = "/var/lib/remediator/test"
[orgs.credentials]
client_id = "0oa1"
private_key_file = "/run/credentials/test.pem"
scopes = ["okta.apps.read"]
"#;

    #[test]
    fn two_orgs_parse() {
        let config = parse(TWO_ORGS).expect("valid");
        assert_eq!(config.listen.to_string(), "127.0.0.1:9999");
        assert_eq!(config.orgs.len(), 2);
        assert_eq!(
            config.orgs[0].credentials,
            OrgCredentials::Token(CredentialSource::Env("PROD_OKTA_TOKEN".into()))
        );
        assert_eq!(
            config.orgs[0].policies.as_deref(),
            Some(Path::new("policies/prod"))
        );
        let OrgCredentials::PrivateKey { client_id, key, .. } = &config.orgs[1].credentials else {
            panic!("expected a private key source");
        };
        assert_eq!(client_id, "0oa1");
        assert_eq!(
            key,
            &CredentialSource::File(PathBuf::from("/run/credentials/test.pem"))
        );
    }

    #[test]
    fn unknown_key_is_rejected_with_its_line() {
        let text = "[[orgs]]\nname = \"a\"\nurl = \"https://a.okta.com\"\ncolour = 1\n";
        let e = parse(text).expect_err("unknown key");
        assert_eq!(e.position.map(|p| p.line), Some(4), "{e}");
        assert_eq!(e.field, "orgs[0].colour", "{e}");
        assert!(e.problem.contains("colour"), "{e}");
    }

    #[test]
    fn inline_secret_is_rejected_without_echoing_it() {
        let text = "[[orgs]]\nname = \"a\"\nurl = \"https://a.okta.com\"\n\
                    credentials = { token = \"00SECRETVALUE\" }\n";
        let e = parse(text).expect_err("inline token");
        let shown = e.to_string();
        assert!(!shown.contains("00SECRETVALUE"), "{shown}");
        assert!(shown.contains("token_env"), "{shown}");
        assert_eq!(e.position.map(|p| p.line), Some(4), "{shown}");
    }

    #[test]
    fn wrong_type_does_not_echo_the_value() {
        let text = "[[orgs]]\nname = \"a\"\nurl = \"https://a.okta.com\"\n\
                    credentials = \"00SECRETVALUE\"\n";
        let e = parse(text).expect_err("string credentials");
        assert!(!e.to_string().contains("00SECRETVALUE"), "{e}");
    }

    #[test]
    fn bad_url_names_field_and_line() {
        let text = "[[orgs]]\nname = \"a\"\nurl = \"http://a.okta.com\"\n\
                    credentials = { token_env = \"T\" }\n";
        let e = parse(text).expect_err("http refused");
        assert_eq!(e.field, "orgs[0].url");
        assert_eq!(e.position.map(|p| p.line), Some(3));
    }

    #[test]
    fn several_orgs_need_credentials_each() {
        let text = "[[orgs]]\nname = \"a\"\nurl = \"https://a.okta.com\"\n\
                    [[orgs]]\nname = \"b\"\nurl = \"https://b.okta.com\"\n\
                    credentials = { token_env = \"B\" }\n";
        let e = parse(text).expect_err("a has no credentials");
        assert_eq!(e.field, "orgs[0].credentials");
    }

    #[test]
    fn every_error_names_its_line_column_and_field() {
        const ORG: &str = "[[orgs]]\nname = \"a\"\nurl = \"https://a.okta.com\"\n";
        let cases: &[(&str, (usize, usize), &str)] = &[
            ("[daemon]\nlisten = \"nowhere\"\n[[orgs]]\nname = \"a\"\n", (2, 10), "daemon.listen"),
            ("[daemon]\nport = 1\n", (2, 1), "daemon.port"),
            ("[[orgs]]\nname = 3\n", (2, 8), "orgs[0].name"),
            ("[[orgs]]\nname = \"Prod Org\"\n", (2, 8), "orgs[0].name"),
            ("[[orgs]]\nname = \"a\"\nurl = \"ftp://a\"\n", (3, 7), "orgs[0].url"),
            ("[[orgs]]\nname = \"a\"\ncredentials = { token_env = \"A\" }\n", (2, 8), "orgs[0].url"),
            (
                "[[orgs]]\nname = \"a\"\nurl = \"https://a.okta.com\"\n[[orgs]]\nname = \"b\"\n\
                 url = \"https://b.okta.com\"\ncredentials = { token_env = \"B\" }\n",
                (2, 8),
                "orgs[0].credentials",
            ),
            (
                "[[orgs]]\nname = \"a\"\nurl = \"https://a.okta.com\"\ncredentials = { token_env = \"A\", token_file = \"/a\" }\n",
                (4, 15),
                "orgs[0].credentials",
            ),
            (
                "[[orgs]]\nname = \"a\"\nurl = \"https://a.okta.com\"\ncredentials = { token_file = \"\" }\n",
                (4, 30),
                "orgs[0].credentials.token_file",
            ),
            (
                "[[orgs]]\nname = \"a\"\nurl = \"https://a.okta.com\"\ncredentials = { client_id = \"0oa1\" }\n",
                (4, 15),
                "orgs[0].credentials",
            ),
            (
                "[[orgs]]\nname = \"a\"\nurl = \"https://a.okta.com\"\n[orgs.credentials]\ntoken = \"00SECRET\"\n",
                (5, 1),
                "orgs[0].credentials.token",
            ),
        ];
        for (text, (line, column), field) in cases {
            let e = parse(text).expect_err(text);
            assert_eq!(
                e.position,
                Some(Position {
                    line: *line,
                    column: *column
                }),
                "{e}"
            );
            assert_eq!(e.field, *field, "{e}");
            assert!(
                e.to_string()
                    .starts_with(&format!("remediator.toml:{line}:{column}: {field}: ")),
                "{e}"
            );
        }
        let twice = format!("{ORG}credentials = {{ token_env = \"A\" }}\n{ORG}credentials = {{ token_env = \"B\" }}\n");
        let e = parse(&twice).expect_err("twice");
        assert_eq!(
            (e.field.as_str(), e.position.map(|p| p.line)),
            ("orgs[1].name", Some(6)),
            "{e}"
        );
        let none = parse("[daemon]\n").expect_err("no orgs");
        assert_eq!(
            none.to_string(),
            "remediator.toml: orgs: no [[orgs]]: name at least one org"
        );
    }

    #[test]
    fn names_are_checked_and_unique() {
        let bad = "[[orgs]]\nname = \"Prod Org\"\n";
        assert_eq!(parse(bad).expect_err("bad name").field, "orgs[0].name");
        let twice = "[[orgs]]\nname = \"a\"\nurl = \"https://a.okta.com\"\n\
                     credentials = { token_env = \"A\" }\n\
                     [[orgs]]\nname = \"a\"\nurl = \"https://b.okta.com\"\n\
                     credentials = { token_env = \"B\" }\n";
        assert!(parse(twice).expect_err("twice").problem.contains("twice"));
    }

    #[test]
    fn env_var_value_in_place_of_name_is_refused() {
        let text = "[[orgs]]\nname = \"a\"\nurl = \"https://a.okta.com\"\n\
                    credentials = { token_env = \"00abc-secret\" }\n";
        let e = parse(text).expect_err("value, not name");
        assert!(!e.to_string().contains("00abc-secret"), "{e}");
        assert_eq!(e.field, "orgs[0].credentials.token_env", "{e}");
        assert_eq!(e.position.map(|p| (p.line, p.column)), Some((4, 29)), "{e}");
    }

    #[test]
    fn credentials_resolve_from_env_and_file() {
        let config = parse(TWO_ORGS).expect("valid");
        let env = MapEnv::new().with("PROD_OKTA_TOKEN", "tok");
        let okta = config.orgs[0]
            .okta_config(&env, &ConfigSources::default())
            .expect("resolves");
        assert_eq!(okta.org_url.as_str(), "https://prod.okta.com/");
        let missing = config.orgs[0]
            .okta_config(&MapEnv::new(), &ConfigSources::default())
            .expect_err("unset");
        assert_eq!(
            error_chain(&missing),
            "org prod: credential environment variable PROD_OKTA_TOKEN is not set"
        );
        let no_file = config.orgs[1]
            .okta_config(&env, &ConfigSources::default())
            .expect_err("no such file");
        let shown = error_chain(&no_file);
        assert!(
            shown.starts_with(
                "org test-1: credential file /run/credentials/test.pem could not be read: "
            ),
            "{shown}"
        );
    }

    #[test]
    fn a_private_key_that_is_not_a_pem_rsa_key_is_refused_when_read() {
        let dir = tempfile::tempdir().expect("temp dir");
        let key = dir.path().join("key.pem");
        let text = format!(
            "[[orgs]]\nname = \"a\"\nurl = \"https://a.okta.com\"\n\
             credentials = {{ client_id = \"0oa1\", private_key_file = \"{}\" }}\n",
            key.display()
        );
        let config = parse(&text).expect("valid");
        let org = &config.orgs[0];
        let attempt = |contents: &str| {
            std::fs::write(&key, contents).expect("write key");
            org.okta_config(&MapEnv::new(), &ConfigSources::default())
                .map(|_| ())
                .map_err(|e| error_chain(&e))
        };
        let prefix = format!(
            "org a: the private key from file {} is not a usable PEM RSA private key",
            key.display()
        );
        assert_eq!(
            attempt("00aSECRETnotAkey"),
            Err(format!("{prefix} (no -----BEGIN line: not PEM)"))
        );
        let not_rsa =
            "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n-----END CERTIFICATE-----\n";
        let refused = attempt(not_rsa).expect_err("a certificate is not a key");
        assert!(refused.starts_with(&prefix), "{refused}");
        let damaged = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n";
        let refused = attempt(damaged).expect_err("a damaged key");
        assert!(refused.starts_with(&prefix), "{refused}");
        assert!(!refused.contains("MIIE"), "{refused}");
        let real = include_str!("../../tests/fixtures/client/TEST-ONLY-rsa-private.pem");
        assert_eq!(attempt(real), Ok(()));
    }
}
