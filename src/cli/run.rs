//! `remediator run`: the daemon's shell. Reads the orgs (`--config FILE`, or one org from
//! `OKTA_CLIENT_*` / okta.yaml as `plan` does), opens each org's policy and journal, installs
//! the signal handlers and runs `remediator::daemon::run` until a signal stops it.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use remediator::config::ProcessEnv;
use remediator::daemon::{self, OrgConfig, OrgRuntime, PolicyHandle, Settings};
use remediator::journal::SledJournal;
use remediator::okta::{ConfigSources, OktaClient};
use tokio_util::sync::CancellationToken;

use super::args::Global;
use super::exit;
use super::setup::{daemon_config, state_dir};

pub fn run(global: &Global, observe_only: bool, listen: Option<SocketAddr>) -> anyhow::Result<u8> {
    let mut config = daemon_config(global)?;
    if let Some(name) = &global.org {
        // Only the org of --org (the one `plan --org NAME` previews).
        config.orgs.retain(|o| &o.name == name);
        if config.orgs.is_empty() {
            anyhow::bail!("--org {name}: no such org in --config");
        }
    }
    let leader_election = config.leader_election_asked(&ProcessEnv)?;
    check_leader_election(leader_election, global)?;
    let settings = Settings {
        listen: listen.unwrap_or(config.listen),
        observe_only,
    };
    let names: Vec<&str> = config.orgs.iter().map(|o| o.name.as_str()).collect();
    let sinks = config.notify.resolve(&ProcessEnv, &names)?;
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
        let elections = leader_election_start(leader_election, &mut orgs, &shutdown).await?;
        let result = daemon::run(settings, orgs, sinks, shutdown).await;
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

/// A build without the `kubernetes` feature cannot elect a leader: asked for one, it refuses
/// to start (exit 1) rather than serve every org on every replica.
#[cfg(not(feature = "kubernetes"))]
fn check_leader_election(asked: bool, global: &Global) -> anyhow::Result<()> {
    if !asked {
        return Ok(());
    }
    let by = match std::env::var(remediator::daemon::LEADER_ELECTION_ENV) {
        Ok(value) => format!("{}={value}", remediator::daemon::LEADER_ELECTION_ENV),
        Err(_) => format!(
            "daemon.leader_election in {}",
            global
                .config
                .as_deref()
                .map_or("the configuration".into(), |p| p.display().to_string())
        ),
    };
    anyhow::bail!(
        "leader election is asked for ({by}) but this build has no Kubernetes support: run a \
         build with `--features kubernetes` (the container image has it), or turn leader \
         election off to serve every org from this one process; nothing was started"
    )
}

/// With the `kubernetes` feature, leader election can start.
#[cfg(feature = "kubernetes")]
fn check_leader_election(_asked: bool, _global: &Global) -> anyhow::Result<()> {
    Ok(())
}

/// Without the `kubernetes` feature every org is served by this process (leader election was
/// refused at start).
#[cfg(not(feature = "kubernetes"))]
async fn leader_election_start(
    _asked: bool,
    _orgs: &mut [OrgRuntime],
    _shutdown: &CancellationToken,
) -> anyhow::Result<Vec<tokio::task::JoinHandle<()>>> {
    Ok(Vec::new())
}

/// Asked for (`REMEDIATOR_LEADER_ELECTION=true`, which the StatefulSet sets, or
/// `daemon.leader_election`), one Lease per org: this replica serves an org only while it
/// holds the org's Lease.
#[cfg(feature = "kubernetes")]
async fn leader_election_start(
    asked: bool,
    orgs: &mut [OrgRuntime],
    shutdown: &CancellationToken,
) -> anyhow::Result<Vec<tokio::task::JoinHandle<()>>> {
    use remediator::daemon::leader::{self, LeaderConfig};
    if !asked {
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
