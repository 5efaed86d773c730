//! The command line's arguments (clap): commands, their options and the global options.

use std::path::PathBuf;

use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
use clap::{Args, Parser, Subcommand, ValueEnum};
use remediator::journal::{EntryId, EntryKindTag, Outcome, TargetRef};
use remediator::plan::ActionKind;
use remediator::vocab::Named;

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
    /// Observe the org and show what would change (a preview: nothing is changed or journaled).
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
        #[arg(long, value_name = "KIND", help = listing::<ActionKind>("Only actions of this kind (repeatable)"))]
        only: Vec<String>,
        /// At most this many actions.
        #[arg(long, value_name = "N")]
        max_actions: Option<u32>,
    },
    /// The daemon: reconcile on the policy's cron schedule and poll the System Log in between.
    Run {
        /// Observe, plan and journal the plans; act on nothing and recover nothing.
        #[arg(long = "observe-only", visible_alias = "dry-run")]
        observe_only: bool,
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
    /// What needs a person now: the last and next run, open findings, held actions, the
    /// circuit breaker.
    Status {
        #[arg(short = 'o', long, value_enum, default_value_t = OutputFormat::Table)]
        output: OutputFormat,
    },
    /// Silence an open finding until a time or until it changes (journaled).
    Ack {
        /// The finding's id (`fnd-...`, from `status` or the plan).
        finding: remediator::vocab::FindingId,
        /// How long: `7d`, `12h`, `30m` (at most 90 days).
        #[arg(long = "for", value_name = "DURATION", default_value = "7d", value_parser = humantime::parse_duration)]
        duration: std::time::Duration,
        /// Why (a ticket, a change window).
        #[arg(long)]
        reason: String,
        /// Who acknowledges it (default: the user's name).
        #[arg(long)]
        by: Option<String>,
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
        /// Only entries of this kind (e.g. intent, outcome, step-finished: `-` may stand for `_`).
        #[arg(long, value_parser = named::<EntryKindTag>())]
        kind: Option<EntryKindTag>,
        /// Only entries about this app, user or directory: `app:ID`, `user:ID`, `directory:ID`.
        #[arg(long, value_parser = parse_target)]
        target: Option<TargetRef>,
        /// Only outcomes of this kind (e.g. verified, failed, held).
        #[arg(long, value_parser = named::<Outcome>())]
        outcome: Option<Outcome>,
        /// At most this many entries.
        #[arg(long)]
        limit: Option<usize>,
    },
    /// Show one entry.
    Show { id: EntryId },
    /// Export every entry as JSON Lines.
    Export {
        /// From a damaged journal: every entry still readable (from sled and from a scan of its
        /// files) whose contents match its hash; what could not be read goes to stderr.
        #[arg(long)]
        best_effort: bool,
    },
    /// Check the hash chain.
    Verify,
    /// Start a new journal in --state (which must hold none) that continues the chain of an
    /// export: its first entry records the old chain's last hash; unfinished fixes carry over.
    New {
        /// The export of the old journal (`journal export --best-effort`).
        #[arg(long, value_name = "EXPORT.jsonl")]
        continue_from: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Validate the policy files of DIR (default: --policies).
    Validate { dir: Option<PathBuf> },
}

/// A parser for a value of kind `K`: its possible values, shown by `--help` and in errors, are
/// the kind's names (with `-` for `_` accepted too).
fn named<K: Named + Clone + Send + Sync>() -> impl TypedValueParser<Value = K> {
    let values = K::names().into_iter().map(|name| {
        let value = PossibleValue::new(name);
        if name.contains('_') {
            value.alias(name.replace('_', "-"))
        } else {
            value
        }
    });
    PossibleValuesParser::new(values).map(|text| {
        let name = K::names()
            .into_iter()
            .find(|name| *name == text || name.replace('_', "-") == text)
            .expect("clap accepts only the names and their aliases");
        K::from_name(name).expect("a name of the kind parses")
    })
}

/// `text` and every name of kind `K`, for an option parsed after clap (its errors are the
/// command's own, exit code 1).
fn listing<K: Named>(text: &str) -> String {
    format!("{text}: {}", K::names().join(", "))
}

fn parse_target(text: &str) -> Result<remediator::journal::TargetRef, String> {
    let (kind, id) = text
        .split_once(':')
        .ok_or_else(|| format!("expected app:ID, user:ID or directory:ID, found {text:?}"))?;
    match kind {
        "app" => Ok(TargetRef::App(id.into())),
        "user" => Ok(TargetRef::User(id.into())),
        "directory" => Ok(TargetRef::Directory(id.into())),
        _ => Err(format!(
            "unknown target kind {kind:?}: expected app, user or directory"
        )),
    }
}
