//! `remediator plan`: observe an org, plan, and show the plan; nothing is written to the org.

use std::path::Path;

use anyhow::Context;
use chrono::Utc;

use super::args::{Global, OutputFormat};
use super::exit;
use super::output::show;
use super::setup::{connect, journal_view, load_policy, runtime};

pub fn run(
    global: &Global,
    output: OutputFormat,
    out: Option<&Path>,
    detailed_exitcode: bool,
) -> anyhow::Result<u8> {
    let policy = load_policy(global)?;
    let (api, org) = connect(&policy)?;
    let view = journal_view(&global.state)?;
    let runtime = runtime()?;
    let pass = runtime.block_on(remediator::reconcile::preview(
        &api,
        &org,
        &policy,
        &view,
        Utc::now(),
    ));
    show(&pass.plan, output)?;
    if let Some(path) = out {
        // Sealed with the digests `apply --plan` checks: the policy's and the plan's own.
        let policy = remediator::plan::PolicyFingerprint::of_dir(&global.policies)
            .with_context(|| format!("the policy in {}", global.policies.display()))?;
        let sealed = remediator::plan::seal(pass.plan.clone(), &policy);
        let json = serde_json::to_string_pretty(&sealed)?;
        std::fs::write(path, json + "\n")
            .with_context(|| format!("writing the plan to {}", path.display()))?;
    }
    Ok(if detailed_exitcode && pass.plan.has_changes() {
        exit::CHANGES_PENDING
    } else {
        exit::OK
    })
}
