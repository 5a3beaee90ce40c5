//! Shell completions and the man page, generated from the same clap command the binary parses,
//! so they can never drift from the flags. Packaging runs `codex-warden generate-assets
//! target/assets` and installs `target/assets/codex-warden.1` and `target/assets/completions/`.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};
use clap_complete::Shell;

use crate::app::cli;

pub const BIN: &str = "codex-warden";

/// Completions for `shell`.
pub fn completions(shell: Shell, out: &mut dyn Write) {
    clap_complete::generate(shell, &mut cli::command(), BIN, out);
}

/// The man page (roff).
pub fn man(out: &mut dyn Write) -> Result<()> {
    clap_mangen::Man::new(cli::command())
        .render(out)
        .context("rendering the man page")
}

/// `DIR/codex-warden.1` (and a page per subcommand) and `DIR/completions/<file per shell>`.
pub fn generate(dir: &Path) -> Result<Vec<std::path::PathBuf>> {
    let completions_dir = dir.join("completions");
    std::fs::create_dir_all(&completions_dir)
        .with_context(|| format!("creating {}", completions_dir.display()))?;
    // codex-warden.1 and one page per subcommand (codex-warden-check.1, …), which the main
    // page refers to.
    clap_mangen::generate_to(cli::command(), dir)
        .with_context(|| format!("writing man pages into {}", dir.display()))?;
    let mut written: Vec<std::path::PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "1"))
        .collect();
    written.sort();
    for shell in [
        Shell::Bash,
        Shell::Zsh,
        Shell::Fish,
        Shell::Elvish,
        Shell::PowerShell,
    ] {
        let path = clap_complete::generate_to(shell, &mut cli::command(), BIN, &completions_dir)
            .with_context(|| format!("writing {shell} completions"))?;
        written.push(path);
    }
    Ok(written)
}
