//! `remediator apply`: one-shot observe, plan, confirm, act, with a progress bar on a terminal
//! and a summary at the end.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use chrono::Utc;
use indicatif::{ProgressBar, ProgressStyle};
use remediator::act::{ActionReport, ExecuteOptions, Org};
use remediator::journal::SledJournal;
use remediator::plan::{read_saved, render_table, ActionKind, Plan};
use remediator::policy::Policy;
use remediator::reconcile::{run_pass, PassProgress, PassSettings, PlanSource, Trigger};
use tokio_util::sync::CancellationToken;

use super::args::Global;
use super::exit;
use super::output::{print_previewed, print_summary};
use super::setup::{connect, load_policy, runtime};

/// The options of `apply`.
pub struct ApplyArgs {
    pub plan: Option<PathBuf>,
    pub yes: bool,
    pub only: Vec<String>,
    pub max_actions: Option<u32>,
}

pub fn run(global: &Global, args: ApplyArgs) -> anyhow::Result<u8> {
    let only = parse_kinds(&args.only)?;
    if !args.yes && !std::io::stdin().is_terminal() {
        anyhow::bail!("refusing to act without --yes: stdin is not a terminal to confirm on");
    }
    let policy = load_policy(global)?;
    let saved = args
        .plan
        .as_deref()
        .map(|path| read_plan(path, &policy))
        .transpose()?;
    let (api, org_url) = connect(&policy)?;
    std::fs::create_dir_all(&global.state)
        .with_context(|| format!("creating the state directory {}", global.state.display()))?;
    let journal = SledJournal::open(&global.state)
        .with_context(|| format!("opening the journal at {}", global.state.display()))?;
    let clock = || Utc::now();
    let org = Org {
        api: &api,
        admin: &api,
        journal: &journal,
        policy: &policy,
        clock: &clock,
    };
    let runtime = runtime()?;
    runtime.block_on(async {
        let plan = match saved {
            Some(plan) => plan,
            None => {
                let view = remediator::journal::JournalStore::view(&journal, Utc::now())?;
                remediator::reconcile::preview(&api, &org_url, &policy, &view, Utc::now())
                    .await
                    .plan
            }
        };
        let execute = ExecuteOptions {
            only,
            max_actions: args.max_actions,
            ..ExecuteOptions::new("")
        };
        let selected = execute.carried_out(&plan).len();
        if selected > 0 && !args.yes && !confirm(&plan, selected, &org_url)? {
            println!("Nothing was done.");
            return Ok(exit::OK);
        }
        let shutdown = CancellationToken::new();
        watch_interrupts(shutdown.clone());
        let bar = progress_bar(selected);
        let progress = Bar(&bar);
        let settings = PassSettings {
            trigger: Trigger::Manual,
            dry_run: false,
            execute,
        };
        let source = PlanSource::Saved(Box::new(plan));
        let report = run_pass(&org, &org_url, source, &settings, &shutdown, &progress).await?;
        bar.finish_and_clear();
        print_summary(&report);
        print_previewed(&settings.execute.previewed(&report.plan));
        Ok(if report.partial_failure() {
            exit::PARTIAL_FAILURE
        } else {
            exit::OK
        })
    })
}

fn parse_kinds(names: &[String]) -> anyhow::Result<Vec<ActionKind>> {
    names
        .iter()
        .map(|name| {
            name.parse::<ActionKind>()
                .map_err(|e| anyhow::anyhow!("--only {name}: {e}"))
        })
        .collect()
}

/// A plan saved by `plan --out`, with the file named in any error (an older plan's actions
/// get their mode from `policy`).
fn read_plan(path: &Path, policy: &Policy) -> anyhow::Result<Plan> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the plan {}", path.display()))?;
    read_saved(&text, policy).with_context(|| format!("{}: not a plan", path.display()))
}

/// Shows the plan and asks on the terminal.
fn confirm(plan: &Plan, selected: usize, org: &str) -> anyhow::Result<bool> {
    print!("{}", render_table(plan));
    print!("\nCarry out {selected} action(s) on {org}? [y/N] ");
    std::io::stdout().flush()?;
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer)?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes" | "YES" | "Yes"))
}

/// First Ctrl-C or SIGTERM: finish the current action, then stop. Second: abort at once.
fn watch_interrupts(shutdown: CancellationToken) {
    tokio::spawn(async move {
        let mut terminate =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(signal) => signal,
                Err(error) => {
                    tracing::warn!(%error, "cannot watch SIGTERM");
                    return;
                }
            };
        for signals in 0.. {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = terminate.recv() => {}
            }
            if signals > 0 {
                eprintln!("second interrupt: aborting; the next run completes or compensates the unfinished fix");
                std::process::exit(i32::from(exit::ERROR));
            }
            eprintln!("interrupt: finishing the current action, then stopping (again to abort)");
            shutdown.cancel();
        }
    });
}

/// Advances the progress bar as actions end.
struct Bar<'a>(&'a ProgressBar);

impl PassProgress for Bar<'_> {
    fn action_done(&self, done: &ActionReport) {
        self.0.inc(1);
        self.0.set_message(format!(
            "{} {} {}",
            done.outcome.as_str(),
            done.kind,
            done.target.key()
        ));
    }
}

fn progress_bar(len: usize) -> ProgressBar {
    let bar = ProgressBar::new(len as u64);
    let style = ProgressStyle::with_template("{bar:30} {pos}/{len} {msg}")
        .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar
}
