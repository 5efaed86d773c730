//! `remediator ack FINDING_ID --for 7d --reason TEXT [--by NAME]`: silence an open finding until
//! then or until it changes, journaled with who and why.

use std::path::Path;

use anyhow::Context;
use chrono::Utc;
use remediator::findings::{ack, AckRequest};
use remediator::journal::{Entry, EntryKind, JournalError, SledJournal};
use remediator::vocab::FindingId;

use super::exit;
use super::out::outln;
use super::remote;

/// What `ack` was given.
pub struct AckArgs {
    pub finding: FindingId,
    pub duration: std::time::Duration,
    pub reason: String,
    pub by: Option<String>,
}

pub fn run(state: &Path, args: AckArgs) -> anyhow::Result<u8> {
    let duration = args.duration;
    let request = request(args)?;
    if !state.exists() {
        anyhow::bail!("no journal at {} (use --state DIR)", state.display());
    }
    let entry = match SledJournal::open(state) {
        Ok(journal) => ack(&journal, &request, Utc::now())?,
        Err(JournalError::Locked { .. }) if remote::daemon(state).is_some() => {
            through_daemon(state, &request, duration)?
        }
        Err(error) => {
            return Err(error)
                .with_context(|| format!("opening the journal at {}", state.display()))
        }
    };
    let until = match &entry.kind {
        EntryKind::Finding { details, .. } => details["until"].as_str().unwrap_or("?").to_owned(),
        _ => "?".to_owned(),
    };
    outln!(
        "acknowledged {} by {} until {until} (journal entry {})",
        request.id,
        request.by,
        entry.id
    )?;
    Ok(exit::OK)
}

/// Asks the daemon that holds the journal to journal the acknowledgement.
fn through_daemon(
    state: &Path,
    request: &AckRequest,
    duration: std::time::Duration,
) -> anyhow::Result<Entry> {
    let daemon = remote::daemon(state).context("no daemon.json")?;
    let body = serde_json::json!({
        "by": request.by,
        "reason": request.reason,
        "for": humantime::format_duration(duration).to_string(),
    });
    #[derive(serde::Deserialize)]
    struct Acked {
        entry: Entry,
    }
    let acked: Acked = daemon
        .post(&format!("/v1/findings/{}/ack", request.id), &body)?
        .json()?;
    Ok(acked.entry)
}

/// The request, with `--by` defaulting to the user's name.
fn request(args: AckArgs) -> anyhow::Result<AckRequest> {
    let by = match args.by {
        Some(by) => by,
        None => user_name().context("who acknowledges it: give --by NAME")?,
    };
    let duration = chrono::Duration::from_std(args.duration).context("--for is too long")?;
    Ok(AckRequest {
        id: args.finding,
        by,
        reason: args.reason,
        duration,
    })
}

/// The user's name from `USER` or `LOGNAME`.
fn user_name() -> Option<String> {
    ["USER", "LOGNAME"]
        .iter()
        .find_map(|name| std::env::var(name).ok().filter(|v| !v.trim().is_empty()))
}
