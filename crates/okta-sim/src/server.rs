//! Starting and stopping okta-sim: the router and the handle on a running simulator.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::middleware::{self};
use axum::Router;
use chrono::Utc;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use super::errors::ApiError;
use super::event_hooks::{EventHooks, HookVerificationError};
use super::model::Org;
use super::scenario::Scenario;
use super::serve::serve;
use super::state::{Shared, SimState, DEFAULT_FORCE_SYNC_DELAY_MS};
use super::transport::Infra;

/// A running simulator.
pub struct Sim;

/// Why the simulator could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot listen on {addr}")]
    Bind {
        addr: String,
        #[source]
        source: std::io::Error,
    },
    /// A scenario event hook's receiver did not pass Okta's verification.
    #[error("cannot register the scenario's event hooks")]
    EventHook {
        #[source]
        source: HookVerificationError,
    },
}

impl Sim {
    /// Binds `listen_addr` (e.g. "127.0.0.1:0") and serves `scenario` until the handle is
    /// shut down or dropped.
    pub async fn start(mut scenario: Scenario, listen_addr: &str) -> Result<SimHandle, StartError> {
        let listener = TcpListener::bind(listen_addr)
            .await
            .map_err(|source| StartError::Bind {
                addr: listen_addr.to_owned(),
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| StartError::Bind {
            addr: listen_addr.to_owned(),
            source,
        })?;
        let base_url = base_url_for(addr);
        let infra = Infra::new(scenario.infra_config());
        let settings = std::mem::take(&mut scenario.org);
        let scenario_hooks = settings.event_hooks.clone();
        let (hooks, sink, hook_events) = EventHooks::new(base_url.clone());
        let mut org = Org::from_scenario(scenario, Utc::now());
        org.event_sink = Some(sink);
        let state: Shared = Arc::new(SimState {
            force_sync_delay: std::time::Duration::from_millis(
                settings
                    .force_sync_delay_ms
                    .unwrap_or(DEFAULT_FORCE_SYNC_DELAY_MS),
            ),
            scenario_org: settings,
            org: Mutex::new(org),
            base_url: base_url.clone(),
            access_tokens: Mutex::new(HashMap::new()),
            hooks: hooks.clone(),
        });
        let shutdown = CancellationToken::new();
        tokio::spawn(hooks.clone().run(hook_events, shutdown.clone()));
        for spec in scenario_hooks {
            if let Err(source) = hooks.register(spec).await {
                shutdown.cancel();
                return Err(StartError::EventHook { source });
            }
        }
        let app = router(state.clone(), &infra);
        let task = tokio::spawn(serve(listener, app, shutdown.clone()));
        Ok(SimHandle {
            addr,
            base_url,
            shutdown,
            task: Some(task),
            state,
            infra,
        })
    }
}

/// The base URL clients use: an unspecified bind address (0.0.0.0, ::) is named as loopback.
fn base_url_for(addr: SocketAddr) -> String {
    let ip = match addr.ip() {
        ip if !ip.is_unspecified() => ip,
        std::net::IpAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
        std::net::IpAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
    };
    format!("http://{}", SocketAddr::new(ip, addr.port()))
}

fn router(state: Shared, infra: &Arc<Infra>) -> Router {
    let protected =
        super::api::routes()
            .merge(super::admin::routes())
            .layer(middleware::from_fn_with_state(
                state.clone(),
                super::auth::authenticate,
            ));
    let api = protected
        .merge(super::oauth::routes())
        .fallback(|uri: axum::http::Uri| async move { ApiError::NoRoute(uri.path().to_owned()) })
        .method_not_allowed_fallback(|| async { ApiError::Method })
        .with_state(state.clone());
    infra
        .wrap(api)
        .merge(super::control::transport_routes(infra))
        .merge(super::control::routes(state))
}

/// A handle on a running simulator; dropping it stops the server.
pub struct SimHandle {
    addr: SocketAddr,
    base_url: String,
    shutdown: CancellationToken,
    task: Option<tokio::task::JoinHandle<()>>,
    state: Shared,
    infra: Arc<Infra>,
}

impl SimHandle {
    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops the server and waits for it.
    pub async fn shutdown(mut self) {
        self.shutdown.cancel();
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }

    /// The current state as the `/__sim/state` JSON dump.
    pub fn state_json(&self) -> serde_json::Value {
        super::control::dump(&self.state.org())
    }

    /// The syncState of one app user, if assigned.
    pub fn app_user_sync_state(&self, app_id: &str, user_id: &str) -> Option<String> {
        let org = self.state.org();
        Some(org.app(app_id)?.app_user(user_id)?.sync_state.clone())
    }

    /// Opens or closes port 464 for a directory app.
    pub fn set_kpasswd_open(&self, app_id: &str, open: bool) -> bool {
        let mut org = self.state.org();
        let Some(i) = org.app_pos(app_id) else {
            return false;
        };
        let Some(dir) = org.apps[i].directory.as_mut() else {
            return false;
        };
        dir.kpasswd_open = open;
        true
    }

    /// API requests served so far, per endpoint and status (as `GET /__sim/stats`).
    pub fn stats(&self) -> super::stats::StatsSnapshot {
        self.infra.stats()
    }

    /// Number of System Log events.
    pub fn event_count(&self) -> usize {
        self.state.org().events.len()
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}
