//! The `remediator` binary: a thin shell over the library (the command line is `cli`).

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
