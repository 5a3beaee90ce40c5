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
    let filter = tracing_subscriber::EnvFilter::try_from_env("CODEX_WARDEN_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    match codex_warden::app::commands::dispatch(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("codex-warden: {e:#}");
            ExitCode::from(codex_warden::app::commands::ERROR)
        }
    }
}
