//! The `remediator` binary: a thin shell over the library.

mod apply_cmd;
mod cli;
mod demo;
mod preview;
mod run_cmd;

fn main() -> std::process::ExitCode {
    cli::main()
}
