//! What the commands share to start: the policy, the connection to the org, the journal's view,
//! the async runtime and logging.

use std::path::Path;

use anyhow::Context;
use chrono::Utc;
use remediator::journal::{JournalStore, JournalView, SledJournal};
use remediator::observe::Credentials;
use remediator::okta::{AuthConfig, ConfigSources, OktaClient, OktaConfig};
use remediator::policy::Policy;

use super::args::{Global, LogFormat};

/// The policy of `--policies`, or an error listing every problem with file, line and field.
pub fn load_policy(global: &Global) -> anyhow::Result<Policy> {
    Policy::load_dir(&global.policies).map_err(|errors| {
        anyhow::anyhow!("invalid policy in {}:\n{errors}", global.policies.display())
    })
}

/// A client for the org, and what a person should check when the org rejects it.
pub struct Connected {
    pub api: OktaClient,
    /// The org URL without a trailing slash.
    pub org: String,
    /// The service app's client id, with OAuth 2.0; `None` with an API token.
    client_id: Option<String>,
}

impl Connected {
    /// The credentials, by where they are configured (never their value).
    pub fn credentials(&self) -> Credentials<'_> {
        match &self.client_id {
            Some(client_id) => Credentials::ServiceApp {
                client_id,
                source: "OKTA_CLIENT_CLIENTID, OKTA_CLIENT_PRIVATEKEY and OKTA_CLIENT_SCOPES, or \
                         okta.yaml",
            },
            None => Credentials::ApiToken {
                source: "OKTA_CLIENT_TOKEN (or okta.client.token in okta.yaml)",
            },
        }
    }
}

/// The Okta client from OKTA_CLIENT_* / okta.yaml, with the non-public admin calls the policy
/// enables.
pub fn connect(policy: &Policy) -> anyhow::Result<Connected> {
    let mut config = OktaConfig::load(&ConfigSources::from_process())
        .context("reading the Okta connection settings (OKTA_CLIENT_* or okta.yaml)")?;
    config.admin = remediator::act::admin_paths(policy);
    let org = config.org_url.to_string().trim_end_matches('/').to_owned();
    let client_id = match &config.auth {
        AuthConfig::PrivateKey { client_id, .. } => Some(client_id.clone()),
        AuthConfig::Ssws { .. } => None,
    };
    let api = OktaClient::new(config).context("building the Okta client")?;
    Ok(Connected {
        api,
        org,
        client_id,
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
/// overrides the level (default `warn`, so command output stays readable).
pub fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}
