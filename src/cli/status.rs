//! `remediator status [-o json]`: what needs a person now, per org: the last run, the next one,
//! the open findings with their age, the actions held and the circuit breaker; read from the
//! journal in `--state` (with `--config FILE --org NAME`, the org's journal as the daemon keeps
//! it).

use std::io::Write;
use std::path::Path;

use anyhow::Context;
use chrono::{DateTime, Utc};
use remediator::journal::{JournalError, SledJournal};
use remediator::policy::Policy;
use remediator::status::{org_status, OrgStatus};
use serde::Serialize;

use super::args::{Global, OutputFormat};
use super::exit;
use super::remote;
use super::setup::choose_org;

/// `status -o json`: the orgs, in the shape the daemon's `/v1/status` serves.
#[derive(Serialize)]
struct Report<'a> {
    orgs: &'a [OrgStatus],
}

/// `/v1/status`'s answer.
#[derive(serde::Deserialize)]
struct RemoteReport {
    orgs: Vec<OrgStatus>,
}

pub fn run(global: &Global, output: OutputFormat) -> anyhow::Result<u8> {
    // With `--config FILE [--org NAME]`: the org's journal and policies as the daemon has them.
    let chosen = match &global.config {
        Some(_) => Some(choose_org(global)?),
        None => None,
    };
    let state = chosen.as_ref().map_or(&global.state, |c| &c.state);
    let policies = chosen.as_ref().map_or(&global.policies, |c| &c.policies);
    if !state.exists() {
        anyhow::bail!("no journal at {} (use --state DIR)", state.display());
    }
    let journal = match SledJournal::open(state) {
        Ok(journal) => journal,
        Err(JournalError::Locked { .. }) if remote::daemon(state).is_some() => {
            let daemon = remote::daemon(state).context("no daemon.json")?;
            let report: RemoteReport = daemon.get("/v1/status", &[])?.json()?;
            print(&report.orgs, output)?;
            return Ok(exit::OK);
        }
        Err(error) => {
            return Err(error)
                .with_context(|| format!("opening the journal at {}", state.display()))
        }
    };
    let policy = policy(policies);
    let org = chosen
        .as_ref()
        .map_or_else(|| org_name(state), |c| c.org.name.clone());
    let status = org_status(&org, &journal, policy.as_ref(), Utc::now())?;
    print(&[status], output)?;
    Ok(exit::OK)
}

/// The policy for the schedule and the retry backoff; without a valid one, status still shows
/// what the journal holds and says what it leaves out.
fn policy(policies: &Path) -> Option<Policy> {
    match Policy::load_dir(policies) {
        Ok(policy) => Some(policy),
        Err(_) => {
            eprintln!(
                "warning: no valid policy in {}: the next run and retry backoffs are not shown \
                 (`remediator policy validate` says why)",
                policies.display()
            );
            None
        }
    }
}

/// The org's name: the state directory's.
fn org_name(state: &Path) -> String {
    state
        .canonicalize()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| state.display().to_string())
}

/// Prints `orgs` as a table or as JSON (`{"orgs": [...]}`).
pub fn print(orgs: &[OrgStatus], output: OutputFormat) -> anyhow::Result<()> {
    let mut out = super::out::stdout();
    match output {
        OutputFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &Report { orgs })?;
            writeln!(out)?;
        }
        OutputFormat::Table | OutputFormat::Wide => {
            // Fitted to the terminal: each line cut with `…` (`-o wide` keeps them whole).
            let fit = super::output::fit(output);
            for status in orgs {
                let mut text = Vec::new();
                table(&mut text, status)?;
                for line in String::from_utf8_lossy(&text).lines() {
                    writeln!(out, "{}", super::output::cut(line, fit))?;
                }
            }
        }
    }
    Ok(())
}

fn table(out: &mut impl Write, s: &OrgStatus) -> std::io::Result<()> {
    writeln!(out, "org {}", s.org)?;
    match &s.last_run {
        Some(run) => {
            let c = &run.counts;
            writeln!(
                out,
                "  last run     {} ({}{}) finished {} ({} ago): {}; {} taken, {} verified, {} failed, {} held, {} finding(s)",
                run.run_id,
                run.trigger,
                if run.observe_only { ", observe-only" } else { "" },
                time(run.finished_at),
                ago(s.now, run.finished_at),
                run.outcome,
                c.taken,
                c.verified,
                c.failed,
                c.held,
                c.findings
            )?;
            if let Some(error) = &run.error {
                writeln!(out, "               error: {error}")?;
            }
            if !run.incomplete.is_empty() {
                writeln!(
                    out,
                    "               not read: {}",
                    run.incomplete.join(", ")
                )?;
            }
        }
        None => writeln!(out, "  last run     none yet")?,
    }
    match s.next_run {
        Some(next) => writeln!(
            out,
            "  next run     {} (in {})",
            time(next),
            ago(next, s.now)
        )?,
        None => writeln!(out, "  next run     unknown (no policy)")?,
    }
    let b = &s.breaker;
    let breaker = match b.open_until {
        Some(until) => format!("OPEN until {}", time(until)),
        None => "closed".to_owned(),
    };
    writeln!(
        out,
        "  breaker      {breaker} ({} of the last {} outcomes failed)",
        b.recent_failures, b.recent_outcomes
    )?;
    writeln!(out, "  open findings: {}", s.open_findings.len())?;
    for f in &s.open_findings {
        let ack = f.ack.as_ref().map_or(String::new(), |a| {
            format!(
                "  [acked by {} until {}: {}]",
                a.by,
                time(a.until),
                a.reason
            )
        });
        writeln!(
            out,
            "    {}  {:<36} {:>7}  {}  {}{ack}",
            f.id,
            f.kind.as_str(),
            ago(s.now, f.opened_at),
            f.target.key(),
            f.reason
        )?;
    }
    writeln!(out, "  held actions: {}", s.held.len())?;
    for h in &s.held {
        let until = h.until.map_or("needs a person".to_owned(), |u| {
            format!("until {}", time(u))
        });
        let kind = h.action_kind.map_or("-", |k| k.as_str());
        let id = h
            .action_id
            .as_ref()
            .map_or(String::new(), |id| format!("{id}  "));
        writeln!(
            out,
            "    {:<17} {:<24} {}  {until}  {id}{}",
            h.why, kind, h.target, h.detail
        )?;
    }
    Ok(())
}

fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// `later - earlier` in the largest whole unit: `45s`, `12m`, `5h`, `3d`.
fn ago(later: DateTime<Utc>, earlier: DateTime<Utc>) -> String {
    let secs = (later - earlier).num_seconds().max(0);
    match secs {
        0..60 => format!("{secs}s"),
        60..3600 => format!("{}m", secs / 60),
        3600..86400 => format!("{}h", secs / 3600),
        _ => format!("{}d", secs / 86400),
    }
}
