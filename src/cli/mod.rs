//! The `remediator` command line: argument parsing and dispatch to the library. The contract is in
//! DESIGN.md ("Command line"); tests and users rely on it.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Exit codes of the contract.
pub mod exit {
    /// Success (with `--detailed-exitcode`: no changes pending).
    pub const OK: u8 = 0;
    /// An error.
    pub const ERROR: u8 = 1;
    /// Changes pending (`plan --detailed-exitcode`).
    pub const CHANGES_PENDING: u8 = 2;
    /// Partial failure: some actions failed, were held or had to be compensated.
    pub const PARTIAL_FAILURE: u8 = 3;
}

#[derive(Debug, Parser)]
#[command(
    name = "remediator",
    version,
    about = "Automated remediation operator for Okta provisioning"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes.
#[derive(Debug, Args)]
pub struct Global {
    /// Configuration file (orgs, client tuning, daemon settings).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Directory of policy files.
    #[arg(long, global = true, value_name = "DIR", default_value = "policies")]
    pub policies: PathBuf,
    /// Directory of the sled journal.
    #[arg(long, global = true, value_name = "DIR", default_value = "state")]
    pub state: PathBuf,
    /// Log format on stderr.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Table,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Observe the org and show what would change (dry-run preview).
    Plan {
        #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
        output: OutputFormat,
        /// Save the plan for a later `apply --plan`.
        #[arg(long, value_name = "PLAN.json")]
        out: Option<PathBuf>,
        /// Exit 2 when changes are pending, 0 when there are none.
        #[arg(long)]
        detailed_exitcode: bool,
    },
    /// Observe, plan and carry out the fixes once.
    Apply {
        /// Carry out a saved plan instead of planning anew.
        #[arg(long, value_name = "PLAN.json")]
        plan: Option<PathBuf>,
        /// Do not ask for confirmation (required when not on a terminal).
        #[arg(long)]
        yes: bool,
        /// Only actions of this kind (repeatable).
        #[arg(long, value_name = "KIND")]
        only: Vec<String>,
        /// At most this many actions.
        #[arg(long, value_name = "N")]
        max_actions: Option<u32>,
    },
    /// The daemon: reconcile on the policy's cron schedule and poll the System Log in between.
    Run {
        /// Plan and journal the plans, act on nothing.
        #[arg(long)]
        dry_run: bool,
        /// Address of /healthz, /readyz and /metrics (default: the config file's
        /// `daemon.listen`, else 127.0.0.1:9464).
        #[arg(long, value_name = "ADDR:PORT")]
        listen: Option<std::net::SocketAddr>,
    },
    /// Read the journal.
    Journal {
        #[command(subcommand)]
        command: JournalCommand,
    },
    /// Policy files.
    Policy {
        #[command(subcommand)]
        command: PolicyCommand,
    },
    /// Start the embedded simulated org with every provisioning problem, plan, carry the plan
    /// out, and plan again.
    Demo {
        #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
        output: OutputFormat,
    },
}

#[derive(Debug, Subcommand)]
pub enum JournalCommand {
    /// List entries, oldest first.
    List {
        /// Entries at or after this time (RFC 3339).
        #[arg(long, value_name = "RFC3339")]
        since: Option<chrono::DateTime<chrono::Utc>>,
        /// Only entries of this kind (e.g. intent, outcome, step-finished).
        #[arg(long)]
        kind: Option<remediator::journal::EntryKindTag>,
        /// Only entries about this app, user or directory: `app:ID`, `user:ID`, `directory:ID`.
        #[arg(long, value_parser = parse_target)]
        target: Option<remediator::journal::TargetRef>,
        /// Only outcomes of this kind (e.g. verified, failed, held).
        #[arg(long)]
        outcome: Option<remediator::journal::Outcome>,
        /// At most this many entries.
        #[arg(long)]
        limit: Option<usize>,
    },
    /// Show one entry.
    Show { id: remediator::journal::EntryId },
    /// Export every entry as JSON Lines.
    Export,
    /// Check the hash chain.
    Verify,
}

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Validate the policy files of DIR (default: --policies).
    Validate { dir: Option<PathBuf> },
}

/// Parses the arguments, runs the command and maps the outcome to the contract's exit codes.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.global.log_format);
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(exit::ERROR)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<u8> {
    match cli.command {
        Command::Policy {
            command: PolicyCommand::Validate { dir },
        } => validate_policy(&dir.unwrap_or(cli.global.policies)),
        Command::Journal { command } => journal(&cli.global.state, command),
        Command::Plan {
            output,
            out,
            detailed_exitcode,
        } => crate::preview::plan_command(&cli.global, output, out.as_deref(), detailed_exitcode),
        Command::Demo { output } => crate::demo::demo(output),
        Command::Run { dry_run, listen } => crate::run_cmd::run(&cli.global, dry_run, listen),
        Command::Apply {
            plan,
            yes,
            only,
            max_actions,
        } => crate::apply_cmd::apply(
            &cli.global,
            crate::apply_cmd::ApplyArgs {
                plan,
                yes,
                only,
                max_actions,
            },
        ),
    }
}

/// Logs go to stderr: text (default), or JSON lines with `--log-format json`. `RUST_LOG`
/// overrides the level (default `warn`, so command output stays readable).
fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

fn validate_policy(dir: &std::path::Path) -> anyhow::Result<u8> {
    match remediator::policy::Policy::load_dir(dir) {
        Ok(_) => {
            println!("{}: policy is valid", dir.display());
            Ok(exit::OK)
        }
        Err(errors) => {
            eprintln!("{errors}");
            eprintln!("{}: {} error(s)", dir.display(), errors.errors().len());
            Ok(exit::ERROR)
        }
    }
}

fn parse_target(text: &str) -> Result<remediator::journal::TargetRef, String> {
    use remediator::journal::TargetRef;
    let (kind, id) = text
        .split_once(':')
        .ok_or_else(|| format!("expected app:ID, user:ID or directory:ID, found {text:?}"))?;
    match kind {
        "app" => Ok(TargetRef::App(id.to_owned())),
        "user" => Ok(TargetRef::User(id.to_owned())),
        "directory" => Ok(TargetRef::Directory(id.to_owned())),
        _ => Err(format!(
            "unknown target kind {kind:?}: expected app, user or directory"
        )),
    }
}

fn journal(state: &std::path::Path, command: JournalCommand) -> anyhow::Result<u8> {
    use anyhow::Context;
    use remediator::journal::{EntryFilter, JournalStore, SledJournal};
    use std::io::Write;

    if !state.exists() {
        anyhow::bail!("no journal at {} (use --state DIR)", state.display());
    }
    let store = SledJournal::open(state)
        .with_context(|| format!("opening the journal at {}", state.display()))?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match command {
        JournalCommand::List {
            since,
            kind,
            target,
            outcome,
            limit,
        } => {
            let filter = EntryFilter {
                since,
                kind,
                target,
                outcome,
                limit,
                ..EntryFilter::default()
            };
            for entry in store.list(&filter)? {
                let target = entry.target.key();
                let outcome = entry.outcome().map(|o| o.as_str()).unwrap_or("");
                writeln!(
                    out,
                    "{}  {}  {:<16} {:<14} {}  {}",
                    entry.id,
                    entry
                        .time
                        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    entry.kind.tag(),
                    outcome,
                    entry.action_id.as_deref().unwrap_or("-"),
                    target
                )?;
            }
            Ok(exit::OK)
        }
        JournalCommand::Show { id } => {
            let entry = store
                .get(id)?
                .with_context(|| format!("no journal entry {id}"))?;
            serde_json::to_writer_pretty(&mut out, &entry)?;
            writeln!(out)?;
            Ok(exit::OK)
        }
        JournalCommand::Export => {
            store.export(&mut out)?;
            Ok(exit::OK)
        }
        JournalCommand::Verify => {
            let report = store.verify()?;
            if report.is_ok() {
                writeln!(
                    out,
                    "journal ok: {} entries, chain intact",
                    report.entries_checked
                )?;
                Ok(exit::OK)
            } else {
                let first_break = report
                    .first_break
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default();
                writeln!(
                    out,
                    "journal BROKEN after {} good entries: {first_break}",
                    report.entries_checked
                )?;
                Ok(exit::ERROR)
            }
        }
    }
}
