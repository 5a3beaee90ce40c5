//! Every byte a command prints goes through [`stdout`], so a failed write is an error the command
//! returns, never a panic (`println!` panics on `ENOSPC` and `EPIPE`; Rust ignores SIGPIPE).
//!
//! `main` turns the error into the exit: a reader that went away (`codex-warden audit | head`,
//! `EPIPE`) is not our failure, so the command ends quietly with success; any other failed write
//! (`codex-warden policy schema > /dev/full`: `ENOSPC`, `EIO`) is said on stderr and exits
//! [`crate::app::cli::exit::OUTPUT`] (74, `EX_IOERR`), so a script never takes half an output
//! for a whole one. `print!`/`println!` are denied in the library (`clippy::print_stdout`) and
//! `std::io::stdout` in the whole crate (`clippy.toml`), so the compiler finds a new one.

use std::io::{self, Write};

/// What a failed write to stdout is wrapped in, so `main` can tell it from every other I/O error
/// a command may return (a policy file it could not read, a vault it could not write).
#[derive(Debug)]
pub struct OutputFailed(pub io::Error);

impl std::fmt::Display for OutputFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "cannot write the output to stdout: {}", self.0)
    }
}

/// No `source`: the message already ends with the write's own error.
impl std::error::Error for OutputFailed {}

/// Stdout for a command's output: writes and flushes fail with an [`io::Error`] of the same
/// kind, carrying [`OutputFailed`].
pub struct Stdout(io::StdoutLock<'static>);

/// The process's stdout, locked for this writer's life.
#[allow(clippy::disallowed_methods)]
pub fn stdout() -> Stdout {
    Stdout(io::stdout().lock())
}

fn failed(e: io::Error) -> io::Error {
    if e.get_ref().is_some_and(|inner| inner.is::<OutputFailed>()) {
        return e;
    }
    io::Error::new(e.kind(), OutputFailed(e))
}

impl Write for Stdout {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write(buf).map_err(failed)
    }
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.0.write_all(buf).map_err(failed)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.0.flush().map_err(failed)
    }
}

/// How a command's error is about its output, if it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFailure {
    /// The reader went away (`EPIPE`): end quietly, with success.
    ReaderGone,
    /// Anything else (`ENOSPC`, `EIO`): say so, exit 74.
    Failed,
}

/// Whether `e` is a failed write to stdout, and which kind.
pub fn output_failure(e: &anyhow::Error) -> Option<OutputFailure> {
    e.chain().find_map(|c| {
        let io = c.downcast_ref::<io::Error>()?;
        io.get_ref()?.downcast_ref::<OutputFailed>()?;
        Some(if io.kind() == io::ErrorKind::BrokenPipe {
            OutputFailure::ReaderGone
        } else {
            OutputFailure::Failed
        })
    })
}

/// Classify a bare [`io::Error`] from writing to stdout outside [`Stdout`] (clap printing help).
pub fn output_failure_io(e: &io::Error) -> OutputFailure {
    if e.kind() == io::ErrorKind::BrokenPipe {
        OutputFailure::ReaderGone
    } else {
        OutputFailure::Failed
    }
}

/// `println!` for commands: writes through [`stdout`] and returns the error with `?`.
#[macro_export]
macro_rules! outln {
    () => {
        ::std::io::Write::write_all(&mut $crate::app::cli::output::stdout(), b"\n")?
    };
    ($($arg:tt)*) => {{
        let mut line = ::std::format!($($arg)*);
        line.push('\n');
        ::std::io::Write::write_all(&mut $crate::app::cli::output::stdout(), line.as_bytes())?
    }};
}

/// `print!` for commands: writes through [`stdout`] and returns the error with `?`.
#[macro_export]
macro_rules! out {
    ($($arg:tt)*) => {
        ::std::io::Write::write_all(
            &mut $crate::app::cli::output::stdout(),
            ::std::format!($($arg)*).as_bytes(),
        )?
    };
}
