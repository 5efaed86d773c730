//! `remediator demo`: the main job on an embedded default. An Okta-compatible simulated org with
//! every provisioning problem runs on loopback; remediator reads it and plans with the shipped
//! policies, carries the plan out (a temporary journal), and plans again.

use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use chrono::Utc;
use okta_sim::{Scenario, Sim};
use remediator::act::{self, ExecuteOptions, Org};
use remediator::config::ProcessEnv;
use remediator::journal::{JournalStore, SledJournal};
use remediator::okta::{AuthConfig, ClientTuning, OktaClient, OktaConfig};
use remediator::policy::Policy;
use remediator::reconcile::{run_pass, NoProgress, PassSettings, PlanSource, Trigger};
use tokio_util::sync::CancellationToken;

use super::args::OutputFormat;
use super::exit;
use super::out::outln;
use super::output::{print_previewed, print_summary, show};
use super::setup::runtime;

/// The demo's simulated org: every situation of the README's table ("What it handles") in one org.
const DEMO_SCENARIO: &str = include_str!("../../tests/scenarios/all-situations.toml");

/// The simulated org's `/api/v1/apps*` bucket, per minute. Okta's default (100) with the 50%
/// headroom would make the demo wait for rate-limit windows between its three passes.
const DEMO_APPS_RATE_LIMIT: u32 = 1_000;

/// Verification reads of an app user come quickly in the demo (the simulated org answers at once).
const DEMO_VERIFY_POLL: Duration = Duration::from_millis(200);

pub fn run(output: OutputFormat) -> anyhow::Result<u8> {
    let mut scenario = Scenario::from_toml_str(
        DEMO_SCENARIO,
        Path::new("tests/scenarios/all-situations.toml"),
    )
    .context("loading the embedded demo scenario")?;
    scenario.rate_limits.apps = DEMO_APPS_RATE_LIMIT;
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
            admin: act::admin_paths(&policy),
        };
        let api = OktaClient::new(config).context("building the Okta client")?;
        let journal = SledJournal::temporary().context("creating a temporary journal")?;
        let org_url = sim.base_url().to_owned();
        let view = journal.view(Utc::now())?;
        let pass =
            remediator::reconcile::preview(&api, &org_url, &policy, &view, Utc::now()).await?;
        if output == OutputFormat::Json {
            show(&pass.plan, output)?;
            return Ok(exit::OK);
        }
        outln!(
            "okta-sim is serving a simulated org with every provisioning problem remediator \
             handles, at {org_url}.\nremediator read it ({} API requests) and plans, with the \
             shipped policies (policies/):\n",
            pass.observation.requests
        )?;
        show(&pass.plan, output)?;
        outln!(
            "\nCarrying the plan out (`remediator apply --yes`; a temporary journal). Only rules in \
             enforce mode act: the shipped policies enforce retry_provisioning and \
             provisioning_features and keep the others' actions as previews (dry-run mode):\n"
        )?;
        let clock = Utc::now;
        let org = Org {
            api: &api,
            admin: &api,
            journal: &journal,
            policy: &policy,
            clock: &clock,
            env: &ProcessEnv,
        };
        let settings = PassSettings {
            trigger: Trigger::Manual,
            observe_only: false,
            execute: ExecuteOptions {
                verify_poll_interval: DEMO_VERIFY_POLL,
                ..ExecuteOptions::new("")
            },
            sweep: Default::default(),
        };
        let source = PlanSource::Saved(Box::new(pass.plan));
        let shutdown = CancellationToken::new();
        let report = run_pass(&org, &org_url, source, &settings, &shutdown, &NoProgress).await?;
        let previewed = settings.execute.previewed(&report.plan);
        print_summary(&report)?;
        print_previewed(&previewed)?;
        let view = journal.view(Utc::now())?;
        let again =
            remediator::reconcile::preview(&api, &org_url, &policy, &view, Utc::now()).await?;
        outln!(
            "\nPlanning again: {} action(s) ({} previewed only: dry-run mode), {} finding(s), {} \
             skipped (a failed retry waits for its backoff). Every step is in the journal: \
             `remediator journal list` after `remediator apply --state DIR` on a real org.",
            again.plan.actions.len(),
            previewed.len(),
            again.plan.findings.len(),
            again.plan.skipped.len()
        )?;
        sim.shutdown().await;
        Ok(exit::OK)
    })
}
