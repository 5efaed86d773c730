//! The `remediator` binary: a thin shell over the library.

mod cli;
mod preview;
mod run_cmd;

fn main() -> std::process::ExitCode {
    cli::main()
}
