//! How plans and runs are printed: the plan (table or JSON), a run's summary, the actions a
//! rule in dry-run mode keeps as previews, and the one line that says a read was incomplete.

use remediator::act::RunReport;
use remediator::journal::Outcome;
use remediator::plan::{render_table, Action, Plan};
use remediator::reconcile::PassReport;

use super::args::OutputFormat;

pub fn show(plan: &Plan, output: OutputFormat) -> anyhow::Result<()> {
    match output {
        OutputFormat::Table => print!("{}", render_table(plan)),
        OutputFormat::Json => println!("{}", serde_json::to_string_pretty(plan)?),
    }
    Ok(())
}

/// The actions a rule in `dry-run` mode keeps as previews.
pub fn print_previewed(actions: &[&Action]) {
    if actions.is_empty() {
        return;
    }
    println!(
        "previewed only (their rule is in dry-run mode; set it to enforce to carry them out):"
    );
    for action in actions {
        println!(
            "  {:<26} {:<40} {}",
            action.kind.as_str(),
            action.target.key(),
            action.reason
        );
    }
}

pub fn print_summary(report: &PassReport) {
    let c = &report.counts;
    println!(
        "run {}: {} taken, {} verified, {} failed, {} held, {} skipped, {} compensated; {} finding(s)",
        report.run_id, c.taken, c.verified, c.failed, c.held, c.skipped, c.compensated, c.findings
    );
    let f = &report.findings;
    if !(f.opened.is_empty() && f.changed.is_empty() && f.resolved.is_empty()) {
        println!(
            "findings: {} opened, {} changed, {} resolved",
            f.opened.len(),
            f.changed.len(),
            f.resolved.len()
        );
    }
    print_actions("recovered after a restart", &report.recovered);
    print_actions("actions", &report.executed);
    if !report.plan.findings.is_empty() {
        println!("findings (need a person; `remediator plan` shows the manual steps):");
        for finding in &report.plan.findings {
            println!(
                "  {}  {:<36} {}",
                finding.id,
                finding.kind.as_str(),
                finding.reason
            );
        }
    }
    if report.executed.actions.is_empty() && report.recovered.actions.is_empty() {
        if report.plan.complete {
            println!("nothing to do");
        } else {
            println!("nothing to do in the parts of the org that were read");
        }
    }
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

fn print_actions(title: &str, run: &RunReport) {
    if run.actions.is_empty() {
        return;
    }
    println!("{title}:");
    for action in &run.actions {
        let mark = match action.outcome {
            Outcome::Verified => "verified",
            Outcome::Failed => "FAILED",
            Outcome::Held => "held",
            Outcome::Skipped => "skipped",
            Outcome::Compensated => "COMPENSATED",
        };
        println!(
            "  {mark:<12} {:<26} {:<40} {}",
            action.kind,
            action.target.key(),
            action.reason
        );
    }
}
