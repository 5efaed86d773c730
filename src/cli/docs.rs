//! `remediator completions SHELL` and `remediator man`: the shell completion script and the
//! manual page, both generated from the command line's own definition (clap).

use clap::CommandFactory;

use super::args::Cli;
use super::exit;

/// The completion script for `shell` on stdout.
pub fn completions(shell: clap_complete::Shell) -> anyhow::Result<u8> {
    let mut command = Cli::command();
    let mut buffer = Vec::new();
    clap_complete::generate(shell, &mut command, "remediator", &mut buffer);
    std::io::Write::write_all(&mut super::out::stdout(), &buffer)?;
    Ok(exit::OK)
}

/// The manual page (roff) on stdout.
pub fn man() -> anyhow::Result<u8> {
    let mut buffer = Vec::new();
    clap_mangen::Man::new(Cli::command()).render(&mut buffer)?;
    std::io::Write::write_all(&mut super::out::stdout(), &buffer)?;
    Ok(exit::OK)
}
