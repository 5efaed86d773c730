//! How plans and runs are printed: the plan (table or JSON), a run's summary, the actions a
//! rule in dry-run mode keeps as previews, and the one line that says a read was incomplete.

use remediator::act::RunReport;
use remediator::journal::Outcome;
use remediator::plan::{
    render_table_fitted, Action, ActionApproval, ActionMode, ApprovalStatus, Plan,
};
use remediator::reconcile::PassReport;

use super::args::OutputFormat;
use super::out::{out, outln};

pub fn show(plan: &Plan, output: OutputFormat) -> anyhow::Result<()> {
    match output {
        OutputFormat::Table | OutputFormat::Wide => {
            out!("{}", render_table_fitted(plan, fit(output)))?
        }
        OutputFormat::Json => outln!("{}", serde_json::to_string_pretty(plan)?)?,
    }
    Ok(())
}

/// The actions a rule in `dry-run` mode keeps as previews.
pub fn print_previewed(actions: &[&Action]) -> std::io::Result<()> {
    if actions.is_empty() {
        return Ok(());
    }
    outln!("previewed only (their rule is in dry-run mode; set it to enforce to carry them out):")?;
    for action in actions {
        outln!(
            "  {:<26} {:<40} {}",
            action.kind.as_str(),
            action.target.key(),
            action.reason
        )?;
    }
    Ok(())
}

pub fn print_summary(report: &PassReport) -> std::io::Result<()> {
    let c = &report.counts;
    outln!(
        "run {}: {} taken, {} verified, {} failed, {} held, {} skipped, {} compensated; {} finding(s)",
        report.run_id, c.taken, c.verified, c.failed, c.held, c.skipped, c.compensated, c.findings
    )?;
    let f = &report.findings;
    if !(f.opened.is_empty() && f.changed.is_empty() && f.resolved.is_empty()) {
        outln!(
            "findings: {} opened, {} changed, {} resolved",
            f.opened.len(),
            f.changed.len(),
            f.resolved.len()
        )?;
    }
    print_actions("recovered after a restart", &report.recovered)?;
    print_actions("actions", &report.executed)?;
    if !report.plan.findings.is_empty() {
        outln!("findings (need a person; `remediator plan` shows the manual steps):")?;
        for finding in &report.plan.findings {
            outln!(
                "  {}  {:<36} {}",
                finding.id,
                finding.kind.as_str(),
                finding.reason
            )?;
        }
    }
    let awaiting = awaiting_approval(&report.plan);
    if !awaiting.is_empty() {
        outln!(
            "awaiting approval (not carried out; `remediator approve ACTION_ID`, then the next \
             pass carries it out if it plans it the same):"
        )?;
        for (action, approval) in &awaiting {
            outln!(
                "  {}  {:<26} {:<40} {}  {}",
                action.id,
                action.kind.as_str(),
                action.target.key(),
                approval_state(approval),
                action.reason
            )?;
        }
    }
    let idle = report.executed.actions.is_empty() && report.recovered.actions.is_empty();
    if idle && awaiting.is_empty() {
        if report.plan.complete {
            outln!("nothing to do")?;
        } else {
            outln!("nothing to do in the parts of the org that were read")?;
        }
    }
    Ok(())
}

/// Where an action awaiting approval stands, in words.
fn approval_state(approval: &ActionApproval) -> String {
    let at = |at: Option<chrono::DateTime<chrono::Utc>>| {
        at.map_or("?".to_owned(), |at| {
            at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        })
    };
    match approval.status {
        ApprovalStatus::Approved => "approved".to_owned(),
        ApprovalStatus::Awaiting => format!("awaiting approval until {}", at(approval.expires_at)),
        ApprovalStatus::Expired => format!(
            "its request expired at {}: asked again",
            at(approval.expires_at)
        ),
        ApprovalStatus::Changed => "changed since approval was asked: asked again".to_owned(),
        ApprovalStatus::Rejected => format!(
            "rejected by {}: held until its plan changes",
            approval.by.as_deref().unwrap_or("?")
        ),
    }
}

/// The plan's enforce actions held until a person approves them, with their approval.
fn awaiting_approval(plan: &Plan) -> Vec<(&Action, &ActionApproval)> {
    plan.actions
        .iter()
        .filter(|a| a.mode == ActionMode::Enforce)
        .filter_map(|a| a.approval.as_ref().map(|x| (a, x)))
        .filter(|(_, x)| !x.approved())
        .collect()
}

/// One line naming the parts of the org a plan could not read, each with its request and why,
/// and how much they withhold; `None` for a complete plan.
pub fn incomplete_line(plan: &Plan) -> Option<String> {
    if plan.complete {
        return None;
    }
    let parts: Vec<String> = plan
        .incomplete
        .iter()
        .map(|i| format!("{} ({})", i.part, i.failure))
        .collect();
    let withheld = plan.skipped.iter().filter(|s| s.part.is_some()).count();
    let parts = if parts.is_empty() {
        "some parts (the saved plan does not say which)".to_owned()
    } else {
        parts.join("; ")
    };
    Some(format!(
        "incomplete read of {}: not read: {parts}; {withheld} action(s) or finding(s) depending \
         on them withheld",
        plan.org
    ))
}

fn print_actions(title: &str, run: &RunReport) -> std::io::Result<()> {
    if run.actions.is_empty() {
        return Ok(());
    }
    outln!("{title}:")?;
    for action in &run.actions {
        let mark = match action.outcome {
            Outcome::Verified => "verified",
            Outcome::Failed => "FAILED",
            Outcome::Held => "held",
            Outcome::Skipped => "skipped",
            Outcome::Compensated => "COMPENSATED",
        };
        outln!(
            "  {mark:<12} {:<26} {:<40} {}",
            action.kind,
            action.target.key(),
            action.reason
        )?;
    }
    Ok(())
}

/// Columns between two cells of a [`table`].
const GAP: &str = "  ";
/// The narrowest the last column of a fitted table is cut to, whatever the width.
const MIN_LAST_COLUMN: usize = 12;

/// The width to fit tables to: `COLUMNS` when set, else stdout's terminal; `None` when stdout
/// is not a terminal (a pipe or file gets whole lines).
pub fn terminal_width() -> Option<usize> {
    if let Some(columns) = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|c| *c > 0)
    {
        return Some(columns);
    }
    terminal_size::terminal_size_of(std::io::stdout())
        .map(|(terminal_size::Width(w), _)| usize::from(w))
}

/// A table with a header line and aligned columns; with `fit`, the last column (a reason or
/// note) is cut with `…` so that each line fits in `fit` columns.
pub fn table(header: &[&str], rows: &[Vec<String>], fit: Option<usize>) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let header: Vec<String> = header.iter().map(|h| (*h).to_owned()).collect();
    let mut text = String::new();
    for row in std::iter::once(&header).chain(rows) {
        let mut line = String::new();
        let last = row.len().saturating_sub(1);
        for (i, (cell, width)) in row.iter().zip(&widths).enumerate() {
            if i == last {
                let room = fit.map(|fit| {
                    fit.saturating_sub(line.chars().count())
                        .max(MIN_LAST_COLUMN)
                });
                line.push_str(&cut(cell, room));
            } else {
                line.push_str(&format!("{cell:<width$}{GAP}"));
            }
        }
        text.push_str(line.trim_end());
        text.push('\n');
    }
    text
}

/// `text` cut to `room` characters, ending in `…` when it was cut.
pub fn cut(text: &str, room: Option<usize>) -> String {
    match room {
        Some(room) if text.chars().count() > room => {
            let kept: String = text.chars().take(room.saturating_sub(1)).collect();
            format!("{kept}…")
        }
        _ => text.to_owned(),
    }
}

/// The width a table of `output` is fitted to: none for `wide` (or JSON).
pub fn fit(output: OutputFormat) -> Option<usize> {
    match output {
        OutputFormat::Table => terminal_width(),
        OutputFormat::Wide | OutputFormat::Json => None,
    }
}
