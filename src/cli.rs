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
    /// Partial failure: some actions failed or were held.
    pub const PARTIAL: u8 = 3;
}

#[derive(Debug, Parser)]
#[command(name = "remediator", version, about = "Automated remediation operator for Okta provisioning")]
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
    /// Start the embedded simulated org with every provisioning problem and show what remediator sees.
    Demo,
}

#[derive(Debug, Subcommand)]
pub enum JournalCommand {
    /// List entries.
    List,
    /// Show one entry.
    Show { id: String },
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
        command => anyhow::bail!("`{}` is not available yet in this build", name(&command)),
    }
}

fn name(command: &Command) -> &'static str {
    match command {
        Command::Plan { .. } => "plan",
        Command::Apply { .. } => "apply",
        Command::Run { .. } => "run",
        Command::Journal { .. } => "journal",
        Command::Policy { .. } => "policy",
        Command::Demo => "demo",
    }
}
