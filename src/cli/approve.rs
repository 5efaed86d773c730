//! `remediator approve|reject ACTION_ID [--by NAME] [--reason TEXT]`: a person's decision on an
//! action that awaits approval, journaled with who, when and the plan hash decided on; through
//! the daemon's API while a daemon holds the journal.

use std::path::Path;

use anyhow::Context;
use chrono::Utc;
use remediator::approvals::{decide, DecisionRequest};
use remediator::journal::{Entry, EntryKind, JournalError, SledJournal, Verdict};

use super::args::DecisionArgs;
use super::exit;
use super::out::outln;
use super::remote;

pub fn run(state: &Path, verdict: Verdict, args: DecisionArgs) -> anyhow::Result<u8> {
    let by = match args.by {
        Some(by) => by,
        None => user_name().context("who decides: give --by NAME")?,
    };
    let request = DecisionRequest {
        id: args.action,
        verdict,
        by,
        reason: args.reason,
    };
    if !state.exists() {
        anyhow::bail!("no journal at {} (use --state DIR)", state.display());
    }
    let entry = match SledJournal::open(state) {
        Ok(journal) => decide(&journal, &request, Utc::now())?,
        Err(JournalError::Locked { .. }) if remote::daemon(state).is_some() => {
            through_daemon(state, &request)?
        }
        Err(error) => {
            return Err(error)
                .with_context(|| format!("opening the journal at {}", state.display()))
        }
    };
    match &entry.kind {
        EntryKind::ApprovalGranted {
            plan_hash,
            expires_at,
            ..
        } => outln!(
            "approved {} (plan {plan_hash}) by {} until {}: the next pass carries it out if it \
             plans it the same (journal entry {})",
            request.id,
            request.by,
            expires_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            entry.id
        )?,
        EntryKind::ApprovalRejected { plan_hash, .. } => outln!(
            "rejected {} (plan {plan_hash}) by {}: held until its plan changes (journal entry {})",
            request.id,
            request.by,
            entry.id
        )?,
        _ => outln!("journal entry {}", entry.id)?,
    }
    Ok(exit::OK)
}

/// Asks the daemon that holds the journal to journal the decision.
fn through_daemon(state: &Path, request: &DecisionRequest) -> anyhow::Result<Entry> {
    let daemon = remote::daemon(state).context("no daemon.json")?;
    let body = serde_json::json!({ "by": request.by, "reason": request.reason });
    let verb = match request.verdict {
        Verdict::Granted => "approve",
        Verdict::Rejected => "reject",
    };
    #[derive(serde::Deserialize)]
    struct Decided {
        entry: Entry,
    }
    let decided: Decided = daemon
        .post(&format!("/v1/actions/{}/{verb}", request.id), &body)?
        .json()?;
    Ok(decided.entry)
}

/// The user's name from `USER` or `LOGNAME`.
fn user_name() -> Option<String> {
    ["USER", "LOGNAME"]
        .iter()
        .find_map(|name| std::env::var(name).ok().filter(|v| !v.trim().is_empty()))
}
