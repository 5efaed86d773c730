//! `remediator journal list|show|export|verify`: read the sled journal.

use std::io::Write;
use std::path::Path;

use anyhow::Context;
use remediator::journal::{Entry, EntryFilter, EntryKind, JournalStore, SledJournal};

use super::args::JournalCommand;
use super::exit;

pub fn run(state: &Path, command: JournalCommand) -> anyhow::Result<u8> {
    if !state.exists() {
        anyhow::bail!("no journal at {} (use --state DIR)", state.display());
    }
    let store = SledJournal::open(state)
        .with_context(|| format!("opening the journal at {}", state.display()))?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match command {
        JournalCommand::List {
            since,
            kind,
            target,
            outcome,
            limit,
        } => {
            let filter = EntryFilter {
                since,
                kind,
                target,
                outcome,
                limit,
                ..EntryFilter::default()
            };
            for entry in store.list(&filter)? {
                let target = entry.target.key();
                let (outcome, note) = status(&entry);
                writeln!(
                    out,
                    "{}  {}  {:<16} {:<14} {}  {}{note}",
                    entry.id,
                    entry
                        .time
                        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    entry.kind.tag(),
                    outcome,
                    entry.action_id.as_deref().unwrap_or("-"),
                    target
                )?;
            }
            Ok(exit::OK)
        }
        JournalCommand::Show { id } => {
            let entry = store
                .get(id)?
                .with_context(|| format!("no journal entry {id}"))?;
            serde_json::to_writer_pretty(&mut out, &entry)?;
            writeln!(out)?;
            Ok(exit::OK)
        }
        JournalCommand::Export => {
            store.export(&mut out)?;
            Ok(exit::OK)
        }
        JournalCommand::Verify => {
            let report = store.verify()?;
            if report.is_ok() {
                writeln!(
                    out,
                    "journal ok: {} entries, chain intact",
                    report.entries_checked
                )?;
                Ok(exit::OK)
            } else {
                let first_break = report
                    .first_break
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default();
                writeln!(
                    out,
                    "journal BROKEN after {} good entries: {first_break}",
                    report.entries_checked
                )?;
                Ok(exit::ERROR)
            }
        }
    }
}

/// The status column of a `journal list` line and what follows the target: an action's
/// outcome; a run's end as `failed` (with why) or `incomplete` (with the parts not read).
fn status(entry: &Entry) -> (&'static str, String) {
    match &entry.kind {
        EntryKind::RunFinished {
            error: Some(error), ..
        } => ("failed", format!("  {error}")),
        EntryKind::RunFinished { incomplete, .. } if !incomplete.is_empty() => {
            let parts: Vec<String> = incomplete.iter().map(ToString::to_string).collect();
            ("incomplete", format!("  not read: {}", parts.join(", ")))
        }
        _ => (entry.outcome().map_or("", |o| o.as_str()), String::new()),
    }
}
