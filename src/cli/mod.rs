//! The `remediator` command line: one file per command, over the library. The contract (commands,
//! options, exit codes) is in the README; tests and users rely on it.
//!
//! `args` (clap types), `exit` (exit codes), `setup` (policy, connection, journal, runtime,
//! logging), `output` (how plans and runs are printed) and `remote` (a running daemon's API) are
//! shared; a command's file imports
//! only those, never another command.

mod ack;
mod apply;
mod args;
mod demo;
mod exit;
mod journal;
mod output;
mod plan;
mod policy;
mod remote;
mod run;
mod setup;
mod status;

use std::process::ExitCode;

use clap::Parser;

use args::{Cli, Command, PolicyCommand};

/// Parses the arguments, runs the command and maps the outcome to the contract's exit codes.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    setup::init_logging(cli.global.log_format);
    match dispatch(cli) {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(exit::ERROR)
        }
    }
}

fn dispatch(cli: Cli) -> anyhow::Result<u8> {
    match cli.command {
        Command::Policy {
            command: PolicyCommand::Validate { dir },
        } => policy::validate(&dir.unwrap_or(cli.global.policies)),
        Command::Journal { command } => journal::run(&cli.global.state, command),
        Command::Plan {
            output,
            out,
            detailed_exitcode,
        } => plan::run(&cli.global, output, out.as_deref(), detailed_exitcode),
        Command::Demo { output } => demo::run(output),
        Command::Status { output } => status::run(&cli.global, output),
        Command::Ack {
            finding,
            duration,
            reason,
            by,
        } => ack::run(
            &cli.global.state,
            ack::AckArgs {
                finding,
                duration,
                reason,
                by,
            },
        ),
        Command::Run {
            observe_only,
            listen,
        } => run::run(&cli.global, observe_only, listen),
        Command::Apply {
            plan,
            yes,
            only,
            max_actions,
        } => apply::run(
            &cli.global,
            apply::ApplyArgs {
                plan,
                yes,
                only,
                max_actions,
            },
        ),
    }
}
