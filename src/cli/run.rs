//! `remediator run`: the daemon's shell. Reads the orgs (`--config FILE`, or one org from
//! `OKTA_CLIENT_*` / okta.yaml as `plan` does), opens each org's policy and journal, installs
//! the signal handlers and runs `remediator::daemon::run` until a signal stops it.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use remediator::config::ProcessEnv;
use remediator::daemon::{self, DaemonConfig, OrgConfig, OrgRuntime, PolicyHandle, Settings};
use remediator::journal::SledJournal;
use remediator::okta::{ConfigSources, OktaClient};
use tokio_util::sync::CancellationToken;

use super::args::Global;
use super::exit;

pub fn run(global: &Global, observe_only: bool, listen: Option<SocketAddr>) -> anyhow::Result<u8> {
    let config = match &global.config {
        Some(path) => DaemonConfig::load(path)?,
        None => DaemonConfig::single_org(),
    };
    let settings = Settings {
        listen: listen.unwrap_or(config.listen),
        observe_only,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        let mut orgs = Vec::with_capacity(config.orgs.len());
        for org in &config.orgs {
            orgs.push(open_org(global, org)?);
        }
        let policies = orgs.iter().map(|o| o.policy.clone()).collect();
        let shutdown = CancellationToken::new();
        let signals = tokio::spawn(daemon::watch_signals(shutdown.clone(), policies, || {
            std::process::exit(i32::from(exit::ERROR))
        }));
        let elections = leader_election(&mut orgs, &shutdown).await?;
        let result = daemon::run(settings, orgs, shutdown).await;
        // Each election steps down once its org's loop has stopped serving.
        for election in elections {
            let _ = election.await;
        }
        signals.abort();
        result?;
        Ok(exit::OK)
    })
}

/// The org's policy, journal and client.
fn open_org(global: &Global, org: &OrgConfig) -> anyhow::Result<OrgRuntime> {
    let policies = org
        .policies
        .clone()
        .unwrap_or_else(|| global.policies.clone());
    let policy = PolicyHandle::load(&org.name, &policies).map_err(|errors| {
        anyhow::anyhow!(
            "invalid policy for org {} in {}:\n{errors}",
            org.name,
            policies.display()
        )
    })?;
    let state = state_dir(global, org);
    std::fs::create_dir_all(&state)
        .with_context(|| format!("creating the journal directory {}", state.display()))?;
    let journal = SledJournal::open(&state)
        .with_context(|| format!("opening the journal at {}", state.display()))?;
    let mut okta = org
        .okta_config(&ProcessEnv, &ConfigSources::from_process())
        .context("reading the Okta connection settings")?;
    // The non-public admin calls the policy enables; read at start (a SIGHUP does not change
    // them: restart to).
    okta.admin = remediator::act::admin_paths(&policy.current());
    let client = OktaClient::new(okta)
        .with_context(|| format!("building the Okta client of org {}", org.name))?;
    Ok(OrgRuntime {
        name: org.name.clone(),
        client,
        journal: Arc::new(journal),
        policy: Arc::new(policy),
        leading: None,
        serving: None,
    })
}

/// The org's journal: its own `state`, else `--state` itself without a configuration file (as
/// `plan` and `journal` read it), else `<--state>/<org name>`.
fn state_dir(global: &Global, org: &OrgConfig) -> PathBuf {
    match (&org.state, &global.config) {
        (Some(dir), _) => dir.clone(),
        (None, None) => global.state.clone(),
        (None, Some(_)) => global.state.join(&org.name),
    }
}

/// Without the `kubernetes` feature every org is served by this process.
#[cfg(not(feature = "kubernetes"))]
async fn leader_election(
    _orgs: &mut [OrgRuntime],
    _shutdown: &CancellationToken,
) -> anyhow::Result<Vec<tokio::task::JoinHandle<()>>> {
    Ok(Vec::new())
}

/// With `REMEDIATOR_LEADER_ELECTION=true` (the StatefulSet sets it), one Lease per org: this
/// replica serves an org only while it holds the org's Lease.
#[cfg(feature = "kubernetes")]
async fn leader_election(
    orgs: &mut [OrgRuntime],
    shutdown: &CancellationToken,
) -> anyhow::Result<Vec<tokio::task::JoinHandle<()>>> {
    use remediator::daemon::leader::{self, LeaderConfig};
    if std::env::var("REMEDIATOR_LEADER_ELECTION").as_deref() != Ok("true") {
        return Ok(Vec::new());
    }
    let config = LeaderConfig::from_env(&remediator::config::ProcessEnv)?;
    let client = leader::client().await?;
    let mut elections = Vec::with_capacity(orgs.len());
    for org in orgs.iter_mut() {
        let (leading, watch) = tokio::sync::watch::channel(false);
        let (serving, serving_watch) = tokio::sync::watch::channel(false);
        org.leading = Some(watch);
        org.serving = Some(serving);
        elections.push(tokio::spawn(leader::elect(
            client.clone(),
            config.clone(),
            org.name.clone(),
            leader::Election {
                leading,
                serving: serving_watch,
            },
            shutdown.clone(),
        )));
    }
    Ok(elections)
}
