//! Starting the daemon: the HTTP endpoint and one [`OrgLoop`] per org, wired to the metrics and
//! readiness; returns once every org loop has stopped after `shutdown`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::Utc;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::api::{api_token, Api, ApiOrg, DaemonFile};
use super::hooks::{hook_secret, Hooks};
use super::{
    Health, Metrics, OrgLoop, OrgReconciler, OrgSample, SampleOrg, SnapshotCache, SystemClock,
    SystemLogPoller,
};
use crate::journal::{JournalStore, SledJournal};
use crate::notify::{Notifier, OrgNotifier, Sinks, SHUTDOWN_DRAIN};
use crate::okta::OktaClient;
use crate::policy::{Policy, PolicyErrors};

/// An org's policy, loaded from its directory and replaced on reload.
#[derive(Debug)]
pub struct PolicyHandle {
    org: String,
    dir: PathBuf,
    current: watch::Sender<Arc<Policy>>,
}

impl PolicyHandle {
    /// Loads `dir` for `org`.
    pub fn load(org: &str, dir: &Path) -> Result<Self, PolicyErrors> {
        let policy = Policy::load_dir(dir)?;
        log_notes(org, &policy);
        Ok(PolicyHandle {
            org: org.to_owned(),
            dir: dir.to_owned(),
            current: watch::Sender::new(Arc::new(policy)),
        })
    }

    pub fn org(&self) -> &str {
        &self.org
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The policy in force.
    pub fn current(&self) -> Arc<Policy> {
        self.current.borrow().clone()
    }

    /// A receiver that always sees the policy in force.
    pub fn subscribe(&self) -> watch::Receiver<Arc<Policy>> {
        self.current.subscribe()
    }

    /// Loads the directory again; on error the policy in force stays.
    pub fn reload(&self) -> Result<(), PolicyErrors> {
        let policy = Policy::load_dir(&self.dir)?;
        log_notes(&self.org, &policy);
        self.current.send_replace(Arc::new(policy));
        Ok(())
    }
}

/// What the policy says a reader should know (a 5-field cron expression read with seconds 0).
fn log_notes(org: &str, policy: &Policy) {
    for note in &policy.notes {
        tracing::info!(org, "policy: {note}");
    }
}

/// One org, ready to serve.
pub struct OrgRuntime {
    pub name: String,
    pub client: OktaClient,
    pub journal: Arc<SledJournal>,
    pub policy: Arc<PolicyHandle>,
    /// With leader election: true while this replica holds the org's lease (`None`: always).
    pub leading: Option<watch::Receiver<bool>>,
    /// With leader election: set while the org's loop serves the org.
    pub serving: Option<watch::Sender<bool>>,
}

/// The daemon's own settings.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// Address of `/healthz`, `/readyz` and `/metrics`.
    pub listen: SocketAddr,
    /// Observe-only: plan and journal plans; act on nothing.
    pub observe_only: bool,
}

/// Why the daemon stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error("cannot listen on {addr}")]
    Listen {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("the reconciler of an org stopped unexpectedly: {0}")]
    OrgTask(String),
    #[error(transparent)]
    Http(#[from] super::HttpError),
    #[error(transparent)]
    ApiToken(#[from] super::api::TokenError),
    #[error(transparent)]
    HookSecret(#[from] super::hooks::HookSecretError),
}

/// Reads an org's client and journal for the metrics at scrape time.
#[derive(Debug)]
struct ClientAndJournal {
    client: OktaClient,
    journal: Arc<SledJournal>,
}

impl SampleOrg for ClientAndJournal {
    fn sample(&self) -> OrgSample {
        let stats = self.client.governor_stats();
        OrgSample {
            headroom_waits: stats.headroom_waits(),
            rate_limited_waits: stats.rate_limited_waits(),
            journal_bytes: self.journal.size_on_disk().ok(),
            findings_open: open_by_kind(self.journal.as_ref()),
            approvals_pending: approvals_pending(self.journal.as_ref()),
        }
    }
}

/// The API over `orgs`' journals and policies, and the `daemon.json` written into each org's
/// state directory (removed at exit) so the command line finds the daemon at `addr`.
#[allow(clippy::type_complexity)]
fn api_for(
    orgs: &[OrgRuntime],
    addr: SocketAddr,
) -> Result<(Arc<Api>, Vec<(PathBuf, DaemonFile)>), DaemonError> {
    let token = api_token(&crate::config::ProcessEnv)?;
    let api_orgs = orgs
        .iter()
        .map(|org| ApiOrg {
            name: org.name.clone(),
            journal: org.journal.clone(),
            policy: org.policy.subscribe(),
        })
        .collect();
    let mut files = Vec::new();
    for org in orgs {
        let state = org.journal.dir().to_path_buf();
        let file = DaemonFile {
            pid: std::process::id(),
            listen: addr,
            org: org.name.clone(),
        };
        match file.write(&state) {
            Ok(()) => files.push((state, file)),
            Err(error) => {
                tracing::warn!(org = %org.name, state = %state.display(), error = %error, "could not write daemon.json: the command line will not find this daemon")
            }
        }
    }
    Ok((Arc::new(Api::new(api_orgs, token, addr)), files))
}

/// The journal's open findings per kind: how many, and the oldest's opening time.
fn approvals_pending(journal: &SledJournal) -> Option<u32> {
    use crate::journal::JournalStore;
    let now = Utc::now();
    let records = journal.approvals().ok()?;
    let pending = records.iter().filter(|r| r.pending_at(now)).count();
    Some(u32::try_from(pending).unwrap_or(u32::MAX))
}

fn open_by_kind(
    journal: &SledJournal,
) -> Option<std::collections::BTreeMap<crate::vocab::FindingKind, (u32, chrono::DateTime<Utc>)>> {
    use crate::journal::JournalStore;
    let open = journal.open_findings().ok()?;
    let mut by_kind = std::collections::BTreeMap::new();
    for finding in open {
        let (count, oldest) = by_kind
            .entry(finding.kind)
            .or_insert((0u32, finding.opened_at));
        *count += 1;
        *oldest = (*oldest).min(finding.opened_at);
    }
    Some(by_kind)
}

/// Serves `orgs` until `shutdown` is cancelled and every org loop has finished its step, then
/// gives the notification queues [`SHUTDOWN_DRAIN`] to empty.
pub async fn run(
    settings: Settings,
    orgs: Vec<OrgRuntime>,
    sinks: Sinks,
    shutdown: CancellationToken,
) -> Result<(), DaemonError> {
    let listener =
        TcpListener::bind(settings.listen)
            .await
            .map_err(|source| DaemonError::Listen {
                addr: settings.listen,
                source,
            })?;
    let addr = listener.local_addr().unwrap_or(settings.listen);
    let metrics = Arc::new(Metrics::new());
    let health = Arc::new(Health::new(orgs.iter().map(|o| o.name.as_str())));
    let http_stop = CancellationToken::new();
    let (api, daemon_files) = api_for(&orgs, addr)?;
    let caches: Vec<Arc<SnapshotCache>> = orgs
        .iter()
        .map(|o| Arc::new(SnapshotCache::new().with_spread_sweep(o.policy.subscribe())))
        .collect();
    let hooks = Hooks::new(
        hook_secret(&crate::config::ProcessEnv)?,
        orgs.iter()
            .map(|o| o.name.clone())
            .zip(caches.iter().cloned())
            .collect(),
    );
    if hooks.enabled() {
        tracing::info!("Okta Event Hooks accepted on /hooks/okta");
    }
    let http = tokio::spawn(super::http::serve(
        listener,
        metrics.clone(),
        health.clone(),
        api,
        Arc::new(hooks),
        http_stop.clone(),
    ));
    tracing::info!(%addr, orgs = orgs.len(), dry_run = settings.observe_only, "remediator daemon started: /healthz /readyz /metrics /v1/status");
    let start = Utc::now();
    let journals = orgs
        .iter()
        .map(|o| (o.name.clone(), o.journal.clone() as Arc<dyn JournalStore>))
        .collect();
    let notifier = Notifier::start(
        sinks.sinks,
        journals,
        sinks.public_url.as_ref(),
        metrics.notifications(),
    );
    let mut tasks = JoinSet::new();
    for (org, cache) in orgs.into_iter().zip(caches) {
        metrics.init_org(&org.name);
        org.client
            .set_request_observer(metrics.request_observer(&org.name));
        let sampler = ClientAndJournal {
            client: org.client.clone(),
            journal: org.journal.clone(),
        };
        metrics.add_sampler(&org.name, Arc::new(sampler));
        let url = org.client.org_url().clone();
        let api = Arc::new(org.client);
        let reconciler = OrgReconciler::new(
            &org.name,
            &url,
            api.clone(),
            org.journal.clone(),
            org.policy.subscribe(),
        )
        .with_health(health.clone())
        .with_notifier(OrgNotifier::new(&org.name, notifier.clone()))
        .with_cache(cache.clone());
        tasks.spawn(super::retention::run(
            org.name.clone(),
            org.journal.clone(),
            org.policy.subscribe(),
            shutdown.clone(),
        ));
        let poller =
            SystemLogPoller::new(&org.name, url, api, org.journal, start).with_cache(cache);
        let org_loop = OrgLoop {
            org: org.name,
            reconciler,
            poller,
            policy: org.policy.subscribe(),
            observe_only: settings.observe_only,
            clock: SystemClock,
            metrics: metrics.clone(),
            health: health.clone(),
            leading: org.leading,
            serving: org.serving,
        };
        tasks.spawn(org_loop.run(shutdown.clone()));
    }
    let mut failure = None;
    while let Some(joined) = tasks.join_next().await {
        if let Err(e) = joined {
            tracing::error!(error = %e, "an org's reconciler stopped unexpectedly; stopping the daemon");
            failure.get_or_insert(e.to_string());
            shutdown.cancel();
        }
    }
    let left = notifier.close(SHUTDOWN_DRAIN).await;
    if left.undelivered > 0 {
        tracing::warn!(
            undelivered = left.undelivered,
            "notifications left undelivered at shutdown"
        );
    }
    http_stop.cancel();
    for (state, file) in &daemon_files {
        file.remove(state);
    }
    match http.await {
        Ok(result) => result?,
        Err(e) => tracing::error!(error = %e, "the HTTP endpoint stopped unexpectedly"),
    }
    match failure {
        Some(message) => Err(DaemonError::OrgTask(message)),
        None => {
            tracing::info!("remediator daemon stopped");
            Ok(())
        }
    }
}
