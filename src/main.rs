use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let filter = tracing_subscriber::EnvFilter::try_from_env("CODEX_WARDEN_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    let cli = codex_warden::cli::Cli::parse();
    match codex_warden::commands::dispatch(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("codex-warden: {e:#}");
            ExitCode::from(codex_warden::commands::ERROR)
        }
    }
}
