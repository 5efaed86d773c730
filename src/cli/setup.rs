//! What the commands share to start: the policy, the connection to the org, the journal's view,
//! the async runtime and logging.

use std::path::{Path, PathBuf};

use anyhow::Context;
use chrono::Utc;
use remediator::config::ProcessEnv;
use remediator::daemon::{DaemonConfig, OrgConfig};
use remediator::journal::{JournalStore, JournalView, SledJournal};
use remediator::observe::Credentials;
use remediator::okta::{AuthConfig, ConfigSources, OktaClient, OktaConfig};
use remediator::policy::Policy;

use super::args::{Global, LogFormat};

/// The orgs of `--config FILE` (validated, every problem located), or the one org of
/// `OKTA_CLIENT_*` / okta.yaml without it: what `run` serves, and where `plan`, `apply` and
/// `journal` pick their org from.
pub fn daemon_config(global: &Global) -> anyhow::Result<DaemonConfig> {
    Ok(match &global.config {
        Some(path) => DaemonConfig::load(path)?,
        None => DaemonConfig::single_org(),
    })
}

/// The org a one-org command works on, exactly as the daemon would serve it: its policy
/// directory, its journal and its credentials.
pub struct ChosenOrg {
    pub org: OrgConfig,
    /// Policy directory: the org's `policies`, else `--policies`.
    pub policies: PathBuf,
    /// The org's journal (see [`state_dir`]).
    pub state: PathBuf,
    /// Whether the org comes from `--config` (else from `OKTA_CLIENT_*` / okta.yaml).
    from_file: bool,
    /// The file's notification sinks (the daemon's; `apply` sends its run's events to them).
    pub notify: remediator::notify::NotifyConfig,
}

/// The org of `--org NAME` in `--config FILE`; without `--org`, the file's only org (several
/// orgs need `--org`). Without `--config`, the one org of `OKTA_CLIENT_*` / okta.yaml.
pub fn choose_org(global: &Global) -> anyhow::Result<ChosenOrg> {
    let config = daemon_config(global)?;
    let names = || {
        config
            .orgs
            .iter()
            .map(|o| o.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let org = match (&global.org, &global.config) {
        (Some(name), Some(file)) => {
            config
                .orgs
                .iter()
                .find(|o| &o.name == name)
                .with_context(|| {
                    format!(
                        "no org {name:?} in {} (its orgs: {})",
                        file.display(),
                        names()
                    )
                })?
        }
        (Some(_), None) => anyhow::bail!("--org names an org of --config FILE: give the file"),
        (None, Some(file)) if config.orgs.len() > 1 => anyhow::bail!(
            "{} has {} orgs: choose one with --org NAME ({})",
            file.display(),
            config.orgs.len(),
            names()
        ),
        (None, _) => config
            .orgs
            .first()
            .context("the configuration names no org")?,
    };
    Ok(ChosenOrg {
        policies: org
            .policies
            .clone()
            .unwrap_or_else(|| global.policies.clone()),
        state: state_dir(global, org),
        org: org.clone(),
        from_file: global.config.is_some(),
        notify: config.notify.clone(),
    })
}

/// The org's journal: its own `state`, else `--state` itself without a configuration file,
/// else `<--state>/<org name>` (the daemon's layout).
pub fn state_dir(global: &Global, org: &OrgConfig) -> PathBuf {
    match (&org.state, &global.config) {
        (Some(dir), _) => dir.clone(),
        (None, None) => global.state.clone(),
        (None, Some(_)) => global.state.join(&org.name),
    }
}

/// The policy of the chosen org's directory, or an error listing every problem with file,
/// line and field.
pub fn load_policy(chosen: &ChosenOrg) -> anyhow::Result<Policy> {
    Policy::load_dir(&chosen.policies).map_err(|errors| {
        anyhow::anyhow!("invalid policy in {}:\n{errors}", chosen.policies.display())
    })
}

/// A client for the org, and what a person should check when the org rejects it.
pub struct Connected {
    pub api: OktaClient,
    /// The org URL without a trailing slash.
    pub org: String,
    /// The service app's client id, with OAuth 2.0; `None` with an API token.
    client_id: Option<String>,
    /// Where the credentials are configured (never their value).
    source: String,
}

impl Connected {
    /// The credentials, by where they are configured (never their value).
    pub fn credentials(&self) -> Credentials<'_> {
        match &self.client_id {
            Some(client_id) => Credentials::ServiceApp {
                client_id,
                source: &self.source,
            },
            None => Credentials::ApiToken {
                source: &self.source,
            },
        }
    }
}

/// The Okta client of the chosen org (from `--config`, else OKTA_CLIENT_* / okta.yaml), with
/// the non-public admin calls the policy enables.
pub fn connect(chosen: &ChosenOrg, policy: &Policy) -> anyhow::Result<Connected> {
    let mut config = if chosen.from_file {
        chosen
            .org
            .okta_config(&ProcessEnv, &ConfigSources::from_process())
            .with_context(|| {
                format!("reading the connection settings of org {}", chosen.org.name)
            })?
    } else {
        OktaConfig::load(&ConfigSources::from_process())
            .context("reading the Okta connection settings (OKTA_CLIENT_* or okta.yaml)")?
    };
    config.admin = remediator::act::admin_paths(policy);
    let org = config.org_url.to_string().trim_end_matches('/').to_owned();
    let client_id = match &config.auth {
        AuthConfig::PrivateKey { client_id, .. } => Some(client_id.clone()),
        AuthConfig::Ssws { .. } => None,
    };
    let source = match (chosen.from_file, &client_id) {
        (true, _) => format!("the credentials of org {} in --config", chosen.org.name),
        (false, Some(_)) => "OKTA_CLIENT_CLIENTID, OKTA_CLIENT_PRIVATEKEY and OKTA_CLIENT_SCOPES, \
                             or okta.yaml"
            .to_owned(),
        (false, None) => "OKTA_CLIENT_TOKEN (or okta.client.token in okta.yaml)".to_owned(),
    };
    let api = OktaClient::new(config).context("building the Okta client")?;
    Ok(Connected {
        api,
        org,
        client_id,
        source,
    })
}

/// The journal's view for planning: budgets, cooldowns and attempts from `--state` when a
/// journal exists there; an empty view otherwise (planning never creates a journal).
pub fn journal_view(state: &Path) -> anyhow::Result<JournalView> {
    let now = Utc::now();
    if !state.exists() {
        return Ok(JournalView::empty(now));
    }
    let journal = SledJournal::open(state)
        .with_context(|| format!("opening the journal at {}", state.display()))?;
    Ok(journal.view(now)?)
}

pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}

/// Logs go to stderr: text (default), or JSON lines with `--log-format json`. `RUST_LOG`
/// overrides the level (default `warn`, so command output stays readable). Colour only on a
/// terminal, and never with `NO_COLOR` set.
pub fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(colour(&std::io::stderr()))
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

/// Whether to colour what goes to `stream`: a terminal, and `NO_COLOR` not set (any non-empty
/// value turns colour off, <https://no-color.org>).
pub fn colour(stream: &impl std::io::IsTerminal) -> bool {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    stream.is_terminal() && !no_color
}
