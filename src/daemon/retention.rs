//! Journal retention in the daemon: once at start and then every [`PRUNE_INTERVAL`] (a day),
//! each org's journal is pruned of the entries older than its policy's
//! `safety.journal_retention` (no retention: nothing is pruned). The pruned entries are exported
//! first to `STATE/archive/<date>.jsonl` (appended to, `journal export`'s lines); the journal
//! keeps what it still needs and records the prune in a `chain_anchored` entry.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::config::{Env, ProcessEnv};
use crate::journal::{PruneReport, SledJournal};
use crate::policy::Policy;

/// How often the daemon prunes.
pub const PRUNE_INTERVAL: Duration = Duration::from_secs(24 * 3600);
/// For tests: another interval than [`PRUNE_INTERVAL`] (a duration, `2s`).
pub const PRUNE_INTERVAL_VAR: &str = "REMEDIATOR_JOURNAL_PRUNE_INTERVAL";
/// The directory under an org's state directory that receives the pruned entries.
pub const ARCHIVE_DIR: &str = "archive";

/// The interval from [`PRUNE_INTERVAL_VAR`], else [`PRUNE_INTERVAL`].
fn interval(env: &dyn Env) -> Duration {
    env.var(PRUNE_INTERVAL_VAR)
        .and_then(|text| humantime::parse_duration(text.trim()).ok())
        .filter(|d| !d.is_zero())
        .unwrap_or(PRUNE_INTERVAL)
}

/// Prunes `journal` by the policy in force, at start and then every interval, until shutdown.
pub(super) async fn run(
    org: String,
    journal: Arc<SledJournal>,
    policy: watch::Receiver<Arc<Policy>>,
    shutdown: CancellationToken,
) {
    let every = interval(&ProcessEnv);
    loop {
        let retention = policy.borrow().safety.journal_retention;
        if let Some(retention) = retention {
            let journal = journal.clone();
            let pruned = tokio::task::spawn_blocking(move || prune(&journal, retention)).await;
            match pruned {
                Ok(Ok(report)) if report.pruned > 0 => tracing::info!(
                    org,
                    pruned = report.pruned,
                    anchor = report.anchor.as_ref().map(|a| a.id.to_string()),
                    kept_because = report.kept_because,
                    "journal pruned by safety.journal_retention"
                ),
                Ok(Ok(_)) => {}
                Ok(Err(error)) => tracing::warn!(org, error = %error, "journal prune failed"),
                Err(error) => tracing::warn!(org, error = %error, "journal prune stopped"),
            }
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(every) => {}
        }
    }
}

/// One prune: entries older than `retention`, exported to today's archive file.
fn prune(journal: &SledJournal, retention: Duration) -> anyhow::Result<PruneReport> {
    let now = Utc::now();
    let before = now - chrono::Duration::from_std(retention)?;
    let path = archive_path(journal.dir(), now);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)?;
    let mut out = std::io::BufWriter::new(file);
    let report = journal.prune(before, now, &mut out, Some(path.display().to_string()))?;
    let file = out.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()?;
    if report.pruned == 0 && file.metadata()?.len() == 0 {
        // Nothing was exported: leave no empty archive behind.
        std::fs::remove_file(&path)?;
    }
    Ok(report)
}

/// `STATE/archive/<date>.jsonl` for `now` (UTC).
pub fn archive_path(state: &Path, now: chrono::DateTime<Utc>) -> PathBuf {
    state
        .join(ARCHIVE_DIR)
        .join(format!("{}.jsonl", now.format("%Y-%m-%d")))
}
