//! The command line's arguments (clap): commands, their options and the global options.

use std::path::PathBuf;

use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
use clap::{Args, Parser, Subcommand, ValueEnum};
use remediator::journal::{EntryId, EntryKindTag, Outcome, TargetRef};
use remediator::plan::ActionKind;
use remediator::vocab::Named;

/// `remediator --version`: the package version and the commit it was built from (build.rs).
const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("REMEDIATOR_COMMIT"),
    ")"
);

#[derive(Debug, Parser)]
#[command(
    name = "remediator",
    version = VERSION,
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
    /// The org of --config to work on (`plan`, `apply`, `journal`; `run` serves only it);
    /// required when the file has several.
    #[arg(long, global = true, value_name = "NAME")]
    pub org: Option<String>,
    /// Directory of policy files.
    #[arg(long, global = true, value_name = "DIR", default_value = "policies")]
    pub policies: PathBuf,
    /// Directory of the sled journal (with --config: of the orgs' journals, one a subdirectory,
    /// unless an org names its own `state`).
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

/// `-o`/`--output`: a table fitted to the terminal (`COLUMNS`, else the terminal's width; long
/// reasons are cut with `…`), the whole table (`wide`), or JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Table,
    Wide,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Observe the org and show what would change (a preview: nothing is changed or journaled).
    Plan {
        #[arg(short = 'o', long, value_enum, default_value_t = OutputFormat::Table)]
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
        /// The run report as a table or JSON (`-o json` needs `--yes`).
        #[arg(short = 'o', long, value_enum, default_value_t = OutputFormat::Table)]
        output: OutputFormat,
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
    /// Approve an action that awaits approval: the next pass carries it out if it plans it
    /// with the same id and plan hash before the approval expires (journaled).
    Approve(DecisionArgs),
    /// Reject an action that awaits approval: it stays held until its plan changes (journaled).
    Reject(DecisionArgs),
    /// Start the embedded simulated org with every provisioning problem, plan, carry the plan
    /// out, and plan again.
    Demo {
        #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
        output: OutputFormat,
    },
    /// Print a shell completion script (e.g. `remediator completions bash >
    /// /etc/bash_completion.d/remediator`).
    Completions { shell: clap_complete::Shell },
    /// Print the manual page (roff; `remediator man > remediator.1`).
    Man,
}

/// What `approve` and `reject` take.
#[derive(Debug, clap::Args)]
pub struct DecisionArgs {
    /// The action's id (`act-...`, from `status`, the plan or the `awaiting_approval` entry).
    pub action: remediator::vocab::ActionId,
    /// Who decides (default: the user's name).
    #[arg(long)]
    pub by: Option<String>,
    /// Why (a ticket, a change window).
    #[arg(long, default_value = "")]
    pub reason: String,
}

#[derive(Debug, Subcommand)]
pub enum JournalCommand {
    /// List entries, oldest first.
    List {
        /// Entries at or after this time: RFC 3339 (`2026-12-01T09:00:00Z`) or a duration ago
        /// (`90m`, `1h`, `7d`).
        #[arg(long, value_name = "TIME|DURATION", value_parser = parse_since)]
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
        /// A table with a header (one entry a line, fitted to the terminal), or JSON (an
        /// array of the entries, as `journal show` prints one).
        #[arg(short = 'o', long, value_enum, default_value_t = OutputFormat::Table)]
        output: OutputFormat,
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
    /// Check the hash chain (from its anchor when older entries were pruned).
    Verify,
    /// Export and then delete the entries older than a duration, as far as nothing still
    /// needs them (an unfinished run, fix or action keeps its entries); the chain stays
    /// verifiable from the last pruned entry (its anchor).
    Prune {
        /// Prune entries older than this (`90d`, `12h`).
        #[arg(long, value_name = "DURATION", value_parser = parse_age)]
        older_than: std::time::Duration,
        /// Write the pruned entries here first, as JSON Lines (`journal export`'s format);
        /// an existing file is appended to.
        #[arg(
            long,
            value_name = "FILE",
            required_unless_present = "no_export",
            conflicts_with = "no_export"
        )]
        export: Option<PathBuf>,
        /// Prune without keeping the entries anywhere.
        #[arg(long)]
        no_export: bool,
    },
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
    Validate {
        dir: Option<PathBuf>,
        /// Text, or JSON (`valid`, `notes`, and `errors` with file, line, column and field).
        #[arg(short = 'o', long, value_enum, default_value_t = OutputFormat::Table)]
        output: OutputFormat,
    },
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

/// `--since`: an RFC 3339 time, or a duration (humantime: `90m`, `1h`, `7d`) before now.
fn parse_since(text: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    if let Ok(time) = chrono::DateTime::parse_from_rfc3339(text) {
        return Ok(time.with_timezone(&chrono::Utc));
    }
    let ago = humantime::parse_duration(text).map_err(|e| {
        format!("expected an RFC 3339 time (2026-12-01T09:00:00Z) or a duration (1h, 7d): {e}")
    })?;
    let ago = chrono::Duration::from_std(ago).map_err(|_| format!("{text} is too long ago"))?;
    chrono::Utc::now()
        .checked_sub_signed(ago)
        .ok_or_else(|| format!("{text} is too long ago"))
}

fn parse_age(text: &str) -> Result<std::time::Duration, String> {
    humantime::parse_duration(text).map_err(|e| format!("expected a duration (90d, 12h): {e}"))
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
