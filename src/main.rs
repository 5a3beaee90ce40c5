use std::process::ExitCode;

use codex_warden::app::cli::exit::is_broken_pipe;
use codex_warden::app::cli::{self, Command};

fn main() -> ExitCode {
    quiet_on_closed_pipe();
    let cli = match cli::parse() {
        Ok(cli) => cli,
        Err(e) => {
            // --help and --version are not errors; anything else is a usage error, with its
            // own exit code so scripts can tell it from a runtime failure.
            let code = if e.use_stderr() { cli::USAGE } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    // The agent narrates what it does; one-shot commands speak through their output and only
    // log problems.
    let default = match cli.command {
        Command::Run => "info",
        _ => "warn",
    };
    codex_warden::app::cli::oplog::init(default);
    match codex_warden::app::commands::dispatch(cli) {
        Ok(code) => code,
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("codex-warden: {e:#}");
            ExitCode::from(codex_warden::app::cli::exit::ERROR)
        }
    }
}

/// `codex-warden policy explain --json | head -1`: the reader went away, which is not our
/// failure. `println!` panics on a closed stdout (Rust ignores SIGPIPE), so a panic about a
/// broken pipe ends the process quietly with success; every other panic is reported as usual.
fn quiet_on_closed_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or_default();
        if message.contains("Broken pipe") || message.contains("os error 32") {
            std::process::exit(0);
        }
        default(info);
    }));
}
