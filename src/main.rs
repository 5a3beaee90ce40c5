use std::io::Write;
use std::process::ExitCode;

use codex_warden::app::cli::exit::{self, is_broken_pipe};
use codex_warden::app::cli::output::{self, OutputFailure};
use codex_warden::app::cli::{self, Command};

fn main() -> ExitCode {
    let cli = match cli::parse() {
        Ok(cli) => cli,
        Err(e) => {
            // --help and --version are not errors; anything else is a usage error, with its
            // own exit code so scripts can tell it from a runtime failure.
            let code = if e.use_stderr() { cli::USAGE } else { exit::OK };
            return match e.print() {
                Ok(()) => ExitCode::from(code),
                Err(io) => {
                    let failure = output::output_failure_io(&io);
                    output_failed(failure, &output::OutputFailed(io), code)
                }
            };
        }
    };
    // The agent narrates what it does; one-shot commands speak through their output and only
    // log problems.
    let default = match cli.command {
        Command::Run => "info",
        _ => "warn",
    };
    codex_warden::app::cli::oplog::init(default);
    let result = codex_warden::app::commands::dispatch(cli).and_then(|code| {
        // What is still buffered is part of the output: a failed final write fails the command.
        output::stdout().flush()?;
        Ok(code)
    });
    match result {
        Ok(code) => code,
        Err(e) => match output::output_failure(&e) {
            Some(failure) => output_failed(failure, &e, exit::OK),
            None if is_broken_pipe(&e) => ExitCode::SUCCESS,
            None => {
                eprintln!("codex-warden: {e:#}");
                ExitCode::from(exit::ERROR)
            }
        },
    }
}

/// `codex-warden policy explain --json | head -1`: the reader went away, which is not our failure,
/// so the command ends quietly with `quiet` (0). Any other failed write (`> /dev/full`) is said
/// on stderr and exits 74 (`EX_IOERR`).
fn output_failed(failure: OutputFailure, e: &dyn std::fmt::Display, quiet: u8) -> ExitCode {
    match failure {
        OutputFailure::ReaderGone => ExitCode::from(quiet),
        OutputFailure::Failed => {
            eprintln!("codex-warden: {e:#}");
            ExitCode::from(exit::OUTPUT)
        }
    }
}
