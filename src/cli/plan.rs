//! `remediator plan`: observe an org, plan, and show the plan; nothing is written to the org.
//!
//! Exit codes: an org that could not be read at all is an error (1, one line on stderr saying
//! what failed and what to check, no plan). An incomplete read still prints the plan, whose
//! banner names each part not read and what it withholds, and says so on stderr; it exits 0
//! (the plan withholds exactly what depends on the missing parts, so it is safe to save and
//! apply), but never 0 with `--detailed-exitcode`: there it exits 1, so a script cannot take a
//! partial read for "no changes". With `--detailed-exitcode`, 2 means actions `apply` would
//! carry out (rules in enforce mode, approved where their rule requires approval); the actions
//! awaiting approval and the previews of rules in dry-run mode do not count, and the table's
//! last line says how many there are of each.

use std::path::Path;

use anyhow::Context;
use chrono::Utc;
use remediator::plan::{ActionMode, Plan};

use super::args::{Global, OutputFormat};
use super::exit;
use super::out::outln;
use super::output::{incomplete_line, show};
use super::setup::{choose_org, connect, journal_view, load_policy, runtime};

pub fn run(
    global: &Global,
    output: OutputFormat,
    out: Option<&Path>,
    detailed_exitcode: bool,
) -> anyhow::Result<u8> {
    let chosen = choose_org(global)?;
    let policy = load_policy(&chosen)?;
    let connected = connect(&chosen, &policy)?;
    let view = journal_view(&chosen.state)?;
    let runtime = runtime()?;
    let preview = runtime.block_on(remediator::reconcile::preview(
        &connected.api,
        &connected.org,
        &policy,
        &view,
        Utc::now(),
    ));
    let pass = match preview {
        Ok(pass) => pass,
        Err(unreadable) => {
            eprintln!("error: {}", unreadable.advice(connected.credentials()));
            return Ok(exit::ERROR);
        }
    };
    show(&pass.plan, output)?;
    if output != OutputFormat::Json {
        let fit = super::output::fit(output);
        outln!()?;
        for line in remediator::plan::wrap(&pending_line(&pass.plan), fit) {
            outln!("{line}")?;
        }
    }
    if let Some(path) = out {
        // Sealed with the digests `apply --plan` checks: the policy's and the plan's own.
        let policy = remediator::plan::PolicyFingerprint::of_dir(&chosen.policies)
            .with_context(|| format!("the policy in {}", chosen.policies.display()))?;
        let sealed = remediator::plan::seal(pass.plan.clone(), &policy);
        let json = serde_json::to_string_pretty(&sealed)?;
        std::fs::write(path, json + "\n")
            .with_context(|| format!("writing the plan to {}", path.display()))?;
    }
    if let Some(line) = incomplete_line(&pass.plan) {
        if detailed_exitcode {
            eprintln!("error: {line} (--detailed-exitcode: not every part was read)");
            return Ok(exit::ERROR);
        }
        eprintln!("warning: {line}");
    }
    Ok(if detailed_exitcode && enforced(&pass.plan) > 0 {
        exit::CHANGES_PENDING
    } else {
        exit::OK
    })
}

/// The actions `apply` would carry out: those of rules in enforce mode, approved where their
/// rule requires approval.
fn enforced(plan: &Plan) -> usize {
    plan.actions
        .iter()
        .filter(|a| a.mode == ActionMode::Enforce)
        .filter(|a| a.approval.as_ref().is_none_or(|x| x.approved()))
        .count()
}

/// Enforce actions held until a person approves them.
fn awaiting_approval(plan: &Plan) -> usize {
    plan.actions
        .iter()
        .filter(|a| a.mode == ActionMode::Enforce)
        .filter(|a| a.approval.as_ref().is_some_and(|x| !x.approved()))
        .count()
}

/// What `apply` would carry out, the actions awaiting approval and the previews it would not
/// (what `--detailed-exitcode` counts).
fn pending_line(plan: &Plan) -> String {
    let enforced = enforced(plan);
    let awaiting = awaiting_approval(plan);
    let previewed = plan.actions.len() - enforced - awaiting;
    let awaiting = if awaiting == 0 {
        String::new()
    } else {
        format!(
            "{awaiting} awaiting approval (not carried out until approved: `remediator approve \
             ACTION_ID`); "
        )
    };
    format!(
        "{enforced} action(s) `apply` would carry out; {awaiting}{previewed} previewed only \
         (their rule is in dry-run mode; --detailed-exitcode does not count them)"
    )
}
