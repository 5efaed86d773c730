//! `remediator plan`: observe an org, plan, and show the plan; the connection and policy setup
//! the other commands share.

use std::path::Path;

use anyhow::Context;
use chrono::Utc;
use remediator::journal::{JournalStore, JournalView, SledJournal};
use remediator::okta::{ConfigSources, OktaClient, OktaConfig};
use remediator::plan::{render_table, Plan};
use remediator::policy::Policy;

use crate::cli::{exit, Global, OutputFormat};

pub fn plan_command(
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
        let json = serde_json::to_string_pretty(&pass.plan)?;
        std::fs::write(path, json + "\n")
            .with_context(|| format!("writing the plan to {}", path.display()))?;
    }
    Ok(if detailed_exitcode && pass.plan.has_changes() {
        exit::CHANGES_PENDING
    } else {
        exit::OK
    })
}

/// The policy of `--policies`, or an error listing every problem with file, line and field.
pub(crate) fn load_policy(global: &Global) -> anyhow::Result<Policy> {
    Policy::load_dir(&global.policies).map_err(|errors| {
        anyhow::anyhow!("invalid policy in {}:\n{errors}", global.policies.display())
    })
}

/// The Okta client from OKTA_CLIENT_* / okta.yaml, with the non-public admin calls the policy
/// enables, and the org URL without a trailing slash.
pub(crate) fn connect(policy: &Policy) -> anyhow::Result<(OktaClient, String)> {
    let mut config = OktaConfig::load(&ConfigSources::from_process())
        .context("reading the Okta connection settings (OKTA_CLIENT_* or okta.yaml)")?;
    config.admin = remediator::act::admin_paths(policy);
    let org = config.org_url.to_string().trim_end_matches('/').to_owned();
    let api = OktaClient::new(config).context("building the Okta client")?;
    Ok((api, org))
}

pub(crate) fn show(plan: &Plan, output: OutputFormat) -> anyhow::Result<()> {
    match output {
        OutputFormat::Table => print!("{}", render_table(plan)),
        OutputFormat::Json => println!("{}", serde_json::to_string_pretty(plan)?),
    }
    Ok(())
}

/// The journal's view for planning: budgets, cooldowns and attempts from `--state` when a
/// journal exists there; an empty view otherwise (planning never creates a journal).
fn journal_view(state: &Path) -> anyhow::Result<JournalView> {
    let now = Utc::now();
    if !state.exists() {
        return Ok(JournalView::empty(now));
    }
    let journal = SledJournal::open(state)
        .with_context(|| format!("opening the journal at {}", state.display()))?;
    Ok(journal.view(now)?)
}

pub(crate) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}
