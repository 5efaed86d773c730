//! `remediator journal list|show|export|verify|prune|new`: read the sled journal, prune its
//! oldest entries (exported first), export what is readable of a damaged one, and start a new
//! journal continuing an old chain.

use std::io::Write;
use std::path::Path;

use anyhow::Context;
use remediator::journal::{Entry, EntryFilter, EntryKind, JournalError, JournalStore, SledJournal};

use super::args::{JournalCommand, OutputFormat};
use super::exit;
use super::out::outln;
use super::output::{fit, table};
use super::remote;

pub fn run(state: &Path, command: JournalCommand) -> anyhow::Result<u8> {
    if let JournalCommand::New { continue_from } = &command {
        return new_journal(state, continue_from);
    }
    if !state.exists() {
        anyhow::bail!("no journal at {} (use --state DIR)", state.display());
    }
    if matches!(command, JournalCommand::Export { best_effort: true }) {
        return export_best_effort(state);
    }
    let store = match SledJournal::open(state) {
        Ok(store) => store,
        Err(JournalError::Locked { .. }) if remote::daemon(state).is_some() => {
            return through_daemon(state, command);
        }
        Err(error) => {
            return Err(error)
                .with_context(|| format!("opening the journal at {}", state.display()))
        }
    };
    let mut out = super::out::stdout();
    match command {
        JournalCommand::List {
            since,
            kind,
            target,
            outcome,
            limit,
            output,
        } => {
            let filter = EntryFilter {
                since,
                kind,
                target,
                outcome,
                limit,
                ..EntryFilter::default()
            };
            print_list(&mut out, &store.list(&filter)?, output)?;
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
        JournalCommand::Export { .. } => {
            store.export(&mut out)?;
            Ok(exit::OK)
        }
        JournalCommand::New { .. } => unreachable!("handled before the journal is opened"),
        JournalCommand::Prune {
            older_than,
            export,
            no_export,
        } => prune(&store, older_than, export.as_deref(), no_export),
        JournalCommand::Verify => {
            let report = store.verify()?;
            let from = report.anchor.as_ref().map_or_else(
                || "from the first entry".to_owned(),
                |a| {
                    format!(
                        "from the anchor seq {} hash {} time {} ({} entries pruned before it)",
                        a.id.seq(),
                        a.hash,
                        a.time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                        a.pruned_total
                    )
                },
            );
            if report.is_ok() {
                writeln!(
                    out,
                    "journal ok: {} entries, chain intact {from}",
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
                    "journal BROKEN after {} good entries {from}: {first_break}",
                    report.entries_checked
                )?;
                Ok(exit::ERROR)
            }
        }
    }
}

/// The columns of `journal list`, always all of them and in this order (`-` for none).
const LIST_HEADER: &[&str] = &["ID", "TIME", "KIND", "OUTCOME", "ACTION", "TARGET", "NOTE"];

/// One `journal list` line.
fn list_row(entry: &Entry) -> Vec<String> {
    let (outcome, note) = status(entry);
    let dash = |text: String| {
        if text.is_empty() {
            "-".to_owned()
        } else {
            text
        }
    };
    vec![
        entry.id.to_string(),
        entry
            .time
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        entry.kind.tag().to_string(),
        dash(outcome.to_owned()),
        dash(entry.action_id.as_deref().unwrap_or_default().to_owned()),
        dash(entry.target.key()),
        dash(note),
    ]
}

/// `journal list` as a table (cut to the terminal unless `-o wide`) or JSON.
fn print_list(out: &mut impl Write, entries: &[Entry], output: OutputFormat) -> anyhow::Result<()> {
    if output == OutputFormat::Json {
        serde_json::to_writer_pretty(&mut *out, entries)?;
        writeln!(out)?;
        return Ok(());
    }
    let rows: Vec<Vec<String>> = entries.iter().map(list_row).collect();
    write!(out, "{}", table(LIST_HEADER, &rows, fit(output)))?;
    Ok(())
}

/// `journal list|show|export` through the daemon that holds the journal (its API).
fn through_daemon(state: &Path, command: JournalCommand) -> anyhow::Result<u8> {
    let daemon = remote::daemon(state).context("no daemon.json")?;
    let mut out = super::out::stdout();
    match command {
        JournalCommand::List {
            since,
            kind,
            target,
            outcome,
            limit,
            output,
        } => {
            let mut query = Vec::new();
            if let Some(since) = since {
                query.push(("since", since.to_rfc3339()));
            }
            if let Some(kind) = kind {
                query.push(("kind", kind.as_str().to_owned()));
            }
            if let Some(target) = target {
                query.push(("target", target_text(&target)));
            }
            if let Some(outcome) = outcome {
                query.push(("outcome", outcome.as_str().to_owned()));
            }
            if let Some(limit) = limit {
                query.push(("limit", limit.to_string()));
            }
            let entries: Vec<Entry> = daemon.get("/v1/journal", &query)?.json()?;
            print_list(&mut out, &entries, output)?;
        }
        JournalCommand::Show { id } => {
            let entry: Entry = daemon.get(&format!("/v1/journal/{id}"), &[])?.json()?;
            serde_json::to_writer_pretty(&mut out, &entry)?;
            writeln!(out)?;
        }
        JournalCommand::Export { .. } => {
            let answer = daemon.get("/v1/journal/export", &[])?;
            if answer.status != 200 {
                let status = answer.status;
                answer.json::<serde_json::Value>()?;
                anyhow::bail!("the daemon answered {status}");
            }
            out.write_all(&answer.body)?;
        }
        JournalCommand::Verify | JournalCommand::New { .. } | JournalCommand::Prune { .. } => {
            anyhow::bail!(
            "the journal at {} is held by the running daemon (org {}): stop it to verify, prune \
             or replace the journal (the daemon prunes by the policy's safety.journal_retention)",
            state.display(),
            daemon.org()
        )
        }
    }
    Ok(exit::OK)
}

fn target_text(target: &remediator::journal::TargetRef) -> String {
    use remediator::journal::TargetRef;
    match target {
        TargetRef::App(id) => format!("app:{id}"),
        TargetRef::User(id) => format!("user:{id}"),
        TargetRef::Directory(id) => format!("directory:{id}"),
    }
}

/// The status column of a `journal list` line and what follows the target: an action's
/// outcome; a run's end as `failed` (with why) or `incomplete` (with the parts not read).
fn status(entry: &Entry) -> (&'static str, String) {
    match &entry.kind {
        EntryKind::RunFinished {
            error: Some(error), ..
        } => ("failed", error.to_string()),
        EntryKind::RunFinished { incomplete, .. } if !incomplete.is_empty() => {
            let parts: Vec<String> = incomplete.iter().map(ToString::to_string).collect();
            ("incomplete", format!("not read: {}", parts.join(", ")))
        }
        EntryKind::Note { text } => ("", text.clone()),
        EntryKind::NotificationFailed {
            sink,
            event,
            attempts,
            error,
            ..
        } => (
            "failed",
            format!("sink {sink}: {event} not delivered after {attempts} attempt(s): {error}"),
        ),
        EntryKind::AwaitingApproval {
            asked, expires_at, ..
        } => (
            "",
            format!("asked ({asked}) until {}", expires_at.to_rfc3339()),
        ),
        EntryKind::ApprovalGranted { by, .. } | EntryKind::ApprovalRejected { by, .. } => {
            ("", format!("by {by}"))
        }
        _ => (entry.outcome().map_or("", |o| o.as_str()), String::new()),
    }
}

/// `journal export --best-effort`: what is readable, on stdout; what is not, on stderr. Exit 0
/// when nothing was unreadable, else 3 (a partial export).
fn export_best_effort(state: &Path) -> anyhow::Result<u8> {
    let salvage = remediator::journal::salvage(state);
    let mut out = super::out::stdout();
    for entry in &salvage.entries {
        serde_json::to_writer(&mut out, entry)?;
        writeln!(out)?;
    }
    out.flush()?;
    for problem in &salvage.problems {
        eprintln!("unreadable: {problem}");
    }
    match salvage.entries.last() {
        Some(last) => eprintln!(
            "exported {} readable entries ({} found only in the files); the last is {} with hash {}",
            salvage.entries.len(),
            salvage.only_in_files,
            last.id,
            last.hash
        ),
        None => eprintln!("no readable entry in {}", state.display()),
    }
    Ok(if salvage.problems.is_empty() {
        exit::OK
    } else {
        exit::PARTIAL_FAILURE
    })
}

/// `journal new --continue-from EXPORT`: a new journal in `state`, which must hold none.
fn new_journal(state: &Path, export: &Path) -> anyhow::Result<u8> {
    let occupied = std::fs::read_dir(state).is_ok_and(|mut d| d.next().is_some());
    if occupied {
        anyhow::bail!(
            "{} is not empty: move the damaged journal aside first (--state names where the new \
             one goes)",
            state.display()
        );
    }
    let text = std::fs::read_to_string(export)
        .with_context(|| format!("reading the export {}", export.display()))?;
    let mut entries = Vec::new();
    for (index, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let entry: remediator::journal::Entry = serde_json::from_str(line)
            .with_context(|| format!("{}:{}: not a journal entry", export.display(), index + 1))?;
        entries.push(entry);
    }
    std::fs::create_dir_all(state)
        .with_context(|| format!("creating the state directory {}", state.display()))?;
    let store = SledJournal::open(state)
        .with_context(|| format!("opening the new journal at {}", state.display()))?;
    let continued = remediator::journal::continue_chain(&store, entries, chrono::Utc::now())
        .with_context(|| format!("continuing the chain of {}", export.display()))?;
    outln!(
        "new journal in {}: continues {} entries ending at {}{}",
        state.display(),
        continued.previous_entries,
        continued.previous_last,
        continued
            .previous_break
            .as_deref()
            .map_or(String::new(), |b| format!(" (the old chain breaks: {b})"))
    )?;
    for action in &continued.unfinished {
        outln!(
            "carried over the unfinished fix {action}: the next pass completes or compensates it"
        )?;
    }
    Ok(exit::OK)
}

/// `journal prune`: export (unless `--no-export`), then delete the entries older than
/// `older_than`; says how many, up to which anchor, and what kept the cut earlier.
fn prune(
    store: &SledJournal,
    older_than: std::time::Duration,
    export: Option<&Path>,
    no_export: bool,
) -> anyhow::Result<u8> {
    let now = chrono::Utc::now();
    let age = chrono::Duration::from_std(older_than).context("--older-than is too long")?;
    let before = now
        .checked_sub_signed(age)
        .context("--older-than is too long")?;
    let report = match (export, no_export) {
        (Some(path), _) => {
            let file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .with_context(|| format!("opening the export file {}", path.display()))?;
            let mut file = std::io::BufWriter::new(file);
            let report = store.prune(before, now, &mut file, Some(path.display().to_string()))?;
            file.into_inner()
                .map_err(|e| e.into_error())
                .and_then(|f| f.sync_all())
                .with_context(|| format!("writing {}", path.display()))?;
            report
        }
        (None, true) => store.prune(before, now, &mut std::io::sink(), None)?,
        (None, false) => anyhow::bail!("journal prune needs --export FILE (or --no-export)"),
    };
    let mut out = super::out::stdout();
    match &report.anchor {
        Some(anchor) if report.pruned > 0 => writeln!(
            out,
            "pruned {} entries{}; the chain now starts after the anchor seq {} hash {} time {}",
            report.pruned,
            export.map_or(String::new(), |p| format!(" (exported to {})", p.display())),
            anchor.id.seq(),
            anchor.hash,
            anchor
                .time
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        )?,
        _ => writeln!(
            out,
            "nothing to prune older than {}",
            humantime::format_duration(older_than)
        )?,
    }
    if let Some(why) = &report.kept_because {
        writeln!(out, "kept from there on: {why}")?;
    }
    Ok(exit::OK)
}
