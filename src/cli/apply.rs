//! `remediator apply`: one pass, as the daemon's (recover unfinished fixes, observe and plan
//! or take a saved plan, confirm, act), with a progress bar on a terminal and a summary at the
//! end.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use anyhow::Context;
use chrono::Utc;
use indicatif::{ProgressBar, ProgressStyle};
use remediator::act::{ActionReport, ExecuteOptions, Org};
use remediator::config::ProcessEnv;
use remediator::journal::{redacted, JournalStore, SledJournal};
use remediator::notify::{Before, Notifier, NotifyMetrics, OrgNotifier, Sinks, APPLY_DRAIN};
use remediator::plan::{read_saved, render_table, Action, ActionKind, Plan, PolicyFingerprint};
use remediator::policy::Policy;
use remediator::reconcile::{
    run_pass, PassProgress, PassReport, PassSettings, PlanSource, ReconcileError, Trigger,
};
use tokio_util::sync::CancellationToken;

use super::args::{Global, OutputFormat};
use super::exit;
use super::out::{out, outln};
use super::output::{incomplete_line, print_previewed, print_summary};
use super::setup::{choose_org, connect, load_policy, runtime};

/// The options of `apply`.
pub struct ApplyArgs {
    pub plan: Option<PathBuf>,
    pub yes: bool,
    pub only: Vec<String>,
    pub max_actions: Option<u32>,
    pub output: OutputFormat,
}

pub fn run(global: &Global, args: ApplyArgs) -> anyhow::Result<u8> {
    let only = parse_kinds(&args.only)?;
    if args.output == OutputFormat::Json && !args.yes {
        anyhow::bail!("-o json needs --yes: the question would be mixed into the JSON report");
    }
    if !args.yes && !std::io::stdin().is_terminal() {
        anyhow::bail!("refusing to act without --yes: stdin is not a terminal to confirm on");
    }
    let chosen = choose_org(global)?;
    let policy = load_policy(&chosen)?;
    let saved = args
        .plan
        .as_deref()
        .map(|path| read_plan(path, &policy, &chosen.policies))
        .transpose()?;
    let sinks = chosen
        .notify
        .resolve(&ProcessEnv, &[chosen.org.name.as_str()])?;
    let connected = connect(&chosen, &policy)?;
    let (api, org_url) = (&connected.api, connected.org.as_str());
    let state = &chosen.state;
    std::fs::create_dir_all(state)
        .with_context(|| format!("creating the state directory {}", state.display()))?;
    let journal = Arc::new(
        SledJournal::open(state)
            .with_context(|| format!("opening the journal at {}", state.display()))?,
    );
    journal
        .check_intact()
        .context("refusing to act on the org: nothing was done")?;
    let clock = || Utc::now();
    let org = Org {
        api,
        admin: api,
        journal: journal.as_ref(),
        policy: &policy,
        clock: &clock,
        env: &ProcessEnv,
    };
    let execute = ExecuteOptions {
        only,
        max_actions: args.max_actions,
        ..ExecuteOptions::new("")
    };
    let settings = PassSettings {
        trigger: Trigger::Manual,
        observe_only: false,
        execute,
        sweep: Default::default(),
    };
    let source = match saved {
        Some(plan) => PlanSource::Saved(Box::new(plan)),
        None => PlanSource::Observe,
    };
    let progress = Confirm {
        ask: !args.yes,
        org: org_url,
        bar: OnceLock::new(),
        failure: Mutex::new(None),
    };
    let runtime = runtime()?;
    runtime.block_on(async {
        let shutdown = CancellationToken::new();
        watch_interrupts(shutdown.clone());
        let notify = Notify::start(sinks, &chosen.org.name, &journal);
        // One pass, as the daemon's: recovery of unfinished fixes, then the plan (observed now
        // or saved), the question, and the actions.
        let before = notify.before(journal.as_ref());
        let pass = run_pass(&org, org_url, source, &settings, &shutdown, &progress).await;
        notify.after(journal.as_ref(), &pass, &before).await;
        let report = match pass {
            Ok(report) => report,
            Err(ReconcileError::Unreadable { run_id, source }) => {
                if let Some(bar) = progress.bar.get() {
                    bar.finish_and_clear();
                }
                eprintln!(
                    "error: {} (run {run_id} journaled as failed; nothing was planned)",
                    source.advice(connected.credentials())
                );
                return Ok(exit::ERROR);
            }
            Err(error) => return Err(error.into()),
        };
        if let Some(bar) = progress.bar.get() {
            bar.finish_and_clear();
        }
        if let Some(error) = progress.failure.lock().map_or(None, |mut f| f.take()) {
            return Err(error.context("asking for confirmation"));
        }
        let code = if report.declined {
            // Declined: exit 1, as Terraform does, so a script cannot take "no" for done.
            exit::ERROR
        } else if report.plan.complete && !report.partial_failure() {
            exit::OK
        } else {
            exit::PARTIAL_FAILURE
        };
        let previewed = settings.execute.previewed(&report.plan);
        if args.output == OutputFormat::Json {
            let awaiting = settings.execute.awaiting_approval(&report.plan);
            let json = report_json(&report, &previewed, &awaiting, code);
            outln!("{}", serde_json::to_string_pretty(&json)?)?;
            return Ok(code);
        }
        if report.declined {
            if report.recovered.actions.is_empty() {
                outln!("Nothing was done.")?;
            } else {
                print_summary(&report)?;
                outln!("The plan was not carried out.")?;
            }
            return Ok(code);
        }
        print_summary(&report)?;
        print_previewed(&previewed)?;
        if let Some(line) = incomplete_line(&report.plan) {
            eprintln!("warning: {line}");
        }
        Ok(code)
    })
}

/// The configured sinks (`--config FILE`), told what the run did before `apply` exits.
struct Notify {
    notifier: Arc<Notifier>,
    org: OrgNotifier,
}

impl Notify {
    fn start(sinks: Sinks, org: &str, journal: &Arc<SledJournal>) -> Notify {
        let journals = [(org.to_owned(), journal.clone() as Arc<dyn JournalStore>)].into();
        let notifier = Notifier::start(
            sinks.sinks,
            journals,
            sinks.public_url.as_ref(),
            NotifyMetrics::default(),
        );
        Notify {
            org: OrgNotifier::new(org, notifier.clone()),
            notifier,
        }
    }

    fn before(&self, journal: &SledJournal) -> Before {
        self.org.before(journal, Utc::now())
    }

    /// Queues the run's events and waits at most [`APPLY_DRAIN`] for their delivery; says on
    /// stderr what did not reach its sink.
    async fn after(
        &self,
        journal: &SledJournal,
        pass: &Result<PassReport, ReconcileError>,
        before: &Before,
    ) {
        if self.notifier.is_empty() {
            return;
        }
        let run_id = match pass {
            Ok(report) => &report.run_id,
            Err(
                ReconcileError::Unreadable { run_id, .. } | ReconcileError::Journal { run_id, .. },
            ) => run_id,
            Err(_) => return,
        };
        self.org.after(journal, run_id, before, Utc::now());
        let done = self.notifier.close(APPLY_DRAIN).await;
        if done.missed() > 0 {
            eprintln!(
                "warning: {} notification(s) not delivered ({} failed after retries, {} dropped, \
                 {} still queued after {} s); `remediator journal list --kind notification_failed` \
                 names the sinks",
                done.missed(),
                done.failed,
                done.dropped,
                done.undelivered,
                APPLY_DRAIN.as_secs()
            );
        }
    }
}

/// The run report of `apply -o json`: the run, what was recovered and carried out (each action
/// with its outcome), the previews of dry-run rules, the actions awaiting approval (each with
/// its `approval`), the findings for a person, the parts of
/// the org not read, and the exit code.
fn report_json(
    report: &PassReport,
    previewed: &[&Action],
    awaiting_approval: &[&Action],
    code: u8,
) -> serde_json::Value {
    serde_json::json!({
        "run_id": report.run_id.to_string(),
        "org": report.plan.org,
        "declined": report.declined,
        "counts": report.counts,
        "recovered": report.recovered.actions,
        "actions": report.executed.actions,
        "previewed": previewed,
        "awaiting_approval": awaiting_approval,
        "findings": report.plan.findings,
        "complete": report.plan.complete,
        "incomplete": report.plan.incomplete,
        "exit_code": code,
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

/// A plan saved by `plan --out`, with the file named in any error: refused when it was edited
/// or the policy in `policies` changed since it was made (an older plan's actions get their
/// mode from `policy`).
fn read_plan(path: &Path, policy: &Policy, policies: &Path) -> anyhow::Result<Plan> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the plan {}", path.display()))?;
    let current = PolicyFingerprint::of_dir(policies)
        .with_context(|| format!("the policy in {}", policies.display()))?;
    let plan = read_saved(&text, policy, &current)
        .with_context(|| format!("the saved plan {}", path.display()))?;
    Ok(redacted(plan))
}

/// Shows the plan and asks on the terminal.
fn confirm(plan: &Plan, selected: usize, org: &str) -> anyhow::Result<bool> {
    out!("{}", render_table(plan))?;
    out!("\nCarry out {selected} action(s) on {org}? [y/N] ")?;
    super::out::stdout().flush()?;
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

/// Asks before the plan is carried out (unless `--yes`), then advances a progress bar as the
/// actions end.
struct Confirm<'a> {
    ask: bool,
    org: &'a str,
    /// Made once the plan is approved, for the actions it carries out.
    bar: OnceLock<ProgressBar>,
    /// Why the question could not be asked (the terminal failed).
    failure: Mutex<Option<anyhow::Error>>,
}

impl PassProgress for Confirm<'_> {
    fn approve(&self, plan: &Plan, actions: &[&Action]) -> bool {
        let approved = !self.ask || actions.is_empty() || {
            match confirm(plan, actions.len(), self.org) {
                Ok(yes) => yes,
                Err(error) => {
                    if let Ok(mut failure) = self.failure.lock() {
                        *failure = Some(error);
                    }
                    false
                }
            }
        };
        if approved {
            let _ = self.bar.set(progress_bar(actions.len()));
        }
        approved
    }

    fn action_done(&self, done: &ActionReport) {
        let Some(bar) = self.bar.get() else {
            return;
        };
        bar.inc(1);
        bar.set_message(format!(
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
