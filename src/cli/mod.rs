//! The `remediator` command line: one file per command, over the library. The contract (commands,
//! options, exit codes) is in the README; tests and users rely on it.
//!
//! `args` (clap types), `exit` (exit codes), `setup` (policy, connection, journal, runtime,
//! logging), `output` (how plans and runs are printed) and `remote` (a running daemon's API) are
//! shared; a command's file imports only those, never another command. Everything printed on
//! stdout goes through `out` (`outln!`), which turns a closed pipe into a quiet exit.
#![warn(clippy::print_stdout)]

mod ack;
mod apply;
mod approve;
mod args;
mod demo;
mod docs;
mod exit;
mod journal;
mod out;
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
use remediator::journal::Verdict;

/// Parses the arguments, runs the command and maps the outcome to the contract's exit codes.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => return ExitCode::from(usage(&error)),
    };
    setup::init_logging(cli.global.log_format);
    let result = dispatch(cli).and_then(|code| {
        std::io::Write::flush(&mut out::stdout())?;
        Ok(code)
    });
    match result {
        Ok(code) => ExitCode::from(code),
        Err(_) if out::closed() => ExitCode::from(exit::CLOSED_PIPE),
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(exit::ERROR)
        }
    }
}

/// Prints clap's message: `--help` and `--version` on stdout (exit 0), a usage error on stderr
/// (exit 64, not clap's 2, which `--detailed-exitcode` means as "changes pending").
fn usage(error: &clap::Error) -> u8 {
    // A closed stdout (`--help | head -1`) is no error of the person's.
    let _ = error.print();
    if error.use_stderr() {
        exit::USAGE
    } else {
        exit::OK
    }
}

fn dispatch(cli: Cli) -> anyhow::Result<u8> {
    match cli.command {
        Command::Policy {
            command: PolicyCommand::Validate { dir, output },
        } => policy::validate(&dir.unwrap_or(cli.global.policies), output),
        Command::Journal { command } => {
            journal::run(&setup::choose_org(&cli.global)?.state, command)
        }
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
        Command::Approve(args) => approve::run(&cli.global.state, Verdict::Granted, args),
        Command::Reject(args) => approve::run(&cli.global.state, Verdict::Rejected, args),
        Command::Completions { shell } => docs::completions(shell),
        Command::Man => docs::man(),
        Command::Run {
            observe_only,
            listen,
        } => run::run(&cli.global, observe_only, listen),
        Command::Apply {
            plan,
            yes,
            only,
            max_actions,
            output,
        } => apply::run(
            &cli.global,
            apply::ApplyArgs {
                plan,
                yes,
                only,
                max_actions,
                output,
            },
        ),
    }
}
