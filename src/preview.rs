//! `remediator plan` and `remediator demo`: observe an org, plan, and show the plan.

use std::path::Path;

use anyhow::Context;
use chrono::Utc;
use remediator::journal::{JournalStore, JournalView, SledJournal};
use remediator::okta::{AuthConfig, ClientTuning, ConfigSources, OktaClient, OktaConfig};
use remediator::plan::{render_table, Plan};
use remediator::policy::Policy;
use remediator::sim::{Scenario, Sim};

use crate::cli::{exit, Global, OutputFormat};

/// The demo's simulated org: every situation of DESIGN.md's table in one org.
const DEMO_SCENARIO: &str = include_str!("../tests/scenarios/all-situations.toml");

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

pub fn demo(output: OutputFormat) -> anyhow::Result<u8> {
    let scenario = Scenario::from_toml_str(
        DEMO_SCENARIO,
        Path::new("tests/scenarios/all-situations.toml"),
    )
    .context("loading the embedded demo scenario")?;
    let token = scenario
        .org
        .api_tokens
        .first()
        .cloned()
        .context("the demo scenario names no API token")?;
    let policy = Policy::default_embedded();
    let runtime = runtime()?;
    runtime.block_on(async {
        let sim = Sim::start(scenario, "127.0.0.1:0")
            .await
            .context("starting the simulated org on loopback")?;
        let config = OktaConfig {
            org_url: url::Url::parse(sim.base_url())?,
            auth: AuthConfig::Ssws {
                token: token.into(),
            },
            tuning: ClientTuning::default(),
            admin: Default::default(),
        };
        let api = OktaClient::new(config).context("building the Okta client")?;
        let view = JournalView::empty(Utc::now());
        let pass =
            remediator::reconcile::preview(&api, sim.base_url(), &policy, &view, Utc::now()).await;
        if output == OutputFormat::Table {
            println!(
                "okta-sim is serving a simulated org with every provisioning problem remediator \
                 handles, at {}.\nremediator read it ({} API requests) and plans, with the shipped \
                 policies (policies/):\n",
                sim.base_url(),
                pass.observation.requests
            );
        }
        show(&pass.plan, output)?;
        sim.shutdown().await;
        Ok(exit::OK)
    })
}

fn show(plan: &Plan, output: OutputFormat) -> anyhow::Result<()> {
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
