use std::process::ExitCode;

use clap::Parser;
use codex_warden::app::cli::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The agent narrates what it does; one-shot commands speak through their output and only
    // log problems.
    let default = match cli.command {
        Command::Run => "info",
        _ => "warn",
    };
    codex_warden::app::oplog::init(default);
    match codex_warden::app::commands::dispatch(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("codex-warden: {e:#}");
            ExitCode::from(codex_warden::app::exit::ERROR)
        }
    }
}
