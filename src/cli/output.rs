//! How plans and runs are printed: the plan (table or JSON), a run's summary, and the actions a
//! rule in dry-run mode keeps as previews.

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
    print_actions("recovered after a restart", &report.recovered);
    print_actions("actions", &report.executed);
    if !report.plan.findings.is_empty() {
        println!("findings (need a person; `remediator plan` shows the manual steps):");
        for finding in &report.plan.findings {
            println!("  {:<36} {}", finding.kind.as_str(), finding.reason);
        }
    }
    if report.executed.actions.is_empty() && report.recovered.actions.is_empty() {
        println!("nothing to do");
    }
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
