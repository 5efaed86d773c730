//! Standard output of every command: a reader that went away (`remediator journal list | head
//! -1`) ends the command quietly with exit code 141, as a shell reports for `ls` killed by the
//! closed pipe, instead of a panic or an error message.
//!
//! Every command prints through `outln!`/`out!` (clippy's `print_stdout` lint keeps `println!`
//! out of the command line); a write that finds the pipe closed is remembered, so `main` knows
//! the error it gets back (however wrapped) is the reader leaving.

use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};

/// Set once a write to stdout found the pipe closed.
static CLOSED: AtomicBool = AtomicBool::new(false);

/// Whether a write to stdout found the pipe closed.
pub fn closed() -> bool {
    CLOSED.load(Ordering::Relaxed)
}

/// Standard output, remembering a closed pipe.
pub struct Stdout;

pub fn stdout() -> Stdout {
    Stdout
}

impl Write for Stdout {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        note(io::stdout().lock().write(buf))
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        note(io::stdout().lock().write_all(buf))
    }

    fn flush(&mut self) -> io::Result<()> {
        note(io::stdout().lock().flush())
    }
}

fn note<T>(result: io::Result<T>) -> io::Result<T> {
    if let Err(error) = &result {
        if error.kind() == io::ErrorKind::BrokenPipe {
            CLOSED.store(true, Ordering::Relaxed);
        }
    }
    result
}

/// `writeln!` to stdout through [`Stdout`]; an `io::Result<()>`.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!($crate::cli::out::stdout(), $($arg)*)
    }};
}

/// `write!` to stdout through [`Stdout`]; an `io::Result<()>`.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        write!($crate::cli::out::stdout(), $($arg)*)
    }};
}

pub(crate) use {out, outln};
