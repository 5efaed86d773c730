//! Signals: SIGTERM or SIGINT asks for a graceful stop (the current step finishes and is
//! journaled), a second one aborts; SIGHUP reloads every org's policy files, keeping the old
//! policy when the new files are invalid.

use std::sync::Arc;

use tokio::signal::unix::{signal, SignalKind};
use tokio_util::sync::CancellationToken;

use super::PolicyHandle;

/// Reloads each org's policy. An invalid policy is rejected with one log line naming every
/// problem (file:line:column: field: problem) and the org keeps its previous policy. Returns
/// how many reloads were rejected.
pub(crate) fn reload_policies(policies: &[Arc<PolicyHandle>]) -> usize {
    let mut rejected = 0;
    for handle in policies {
        match handle.reload() {
            Ok(()) => tracing::info!(
                org = handle.org(),
                dir = %handle.dir().display(),
                "policy reloaded"
            ),
            Err(errors) => {
                rejected += 1;
                let problems: Vec<String> =
                    errors.errors().iter().map(ToString::to_string).collect();
                tracing::error!(
                    org = handle.org(),
                    dir = %handle.dir().display(),
                    "policy reload rejected, keeping the previous policy: {}",
                    problems.join("; ")
                );
            }
        }
    }
    rejected
}

/// Handles signals until the process ends: the first SIGTERM/SIGINT cancels `shutdown`, a
/// second calls `abort`; SIGHUP reloads `policies`. Fails only if the handlers cannot be
/// installed.
pub async fn watch_signals(
    shutdown: CancellationToken,
    policies: Vec<Arc<PolicyHandle>>,
    abort: impl Fn() + Send + 'static,
) -> std::io::Result<()> {
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    let mut hup = signal(SignalKind::hangup())?;
    loop {
        let name = tokio::select! {
            _ = term.recv() => "SIGTERM",
            _ = int.recv() => "SIGINT",
            _ = hup.recv() => {
                tracing::info!("SIGHUP: reloading policy files");
                reload_policies(&policies);
                continue;
            }
        };
        if shutdown.is_cancelled() {
            tracing::error!("{name} again: aborting without waiting for the current step");
            abort();
            continue;
        }
        tracing::warn!("{name}: finishing the current step, then exiting (send it again to abort)");
        shutdown.cancel();
    }
}
