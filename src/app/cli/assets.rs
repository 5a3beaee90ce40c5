//! Shell completions and the man page, generated from the same clap command the binary parses,
//! so they can never drift from the flags. Packaging runs `codex-warden generate-assets
//! target/assets` and installs `target/assets/codex-warden.1` and `target/assets/completions/`.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};
use clap_complete::Shell;

use crate::app::cli;

pub const BIN: &str = "codex-warden";

/// Completions for `shell`. Generated into memory first: clap_complete panics on a failed write,
/// and the caller's writer reports one as an error instead.
pub fn completions(shell: Shell, out: &mut dyn Write) -> Result<()> {
    out.write_all(&script(shell))?;
    Ok(())
}

/// The completion script for `shell`.
///
/// clap_complete 4.6's bash script names a command's state after the binary with `-` turned into
/// `__` where it sets it (`cmd="codex__warden"`), but into `__subcmd__` in the case labels that
/// complete it (`codex__subcmd__warden)`): no label matches, so bash completes only the first
/// word. The labels are put back to the name the script sets; tests/cli.rs completes the second
/// and third words in a real bash.
fn script(shell: Shell) -> Vec<u8> {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut cli::command(), BIN, &mut script);
    if shell != Shell::Bash {
        return script;
    }
    let set = BIN.replace('-', "__");
    let label = BIN.replace('-', "__subcmd__");
    String::from_utf8_lossy(&script)
        .replace(&format!("        {label}"), &format!("        {set}"))
        .into_bytes()
}

/// The man page (roff).
pub fn man(out: &mut dyn Write) -> Result<()> {
    let mut page = Vec::new();
    clap_mangen::Man::new(cli::command())
        .render(&mut page)
        .context("rendering the man page")?;
    out.write_all(&page)?;
    Ok(())
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
        let path = completions_dir.join(clap_complete::Generator::file_name(&shell, BIN));
        std::fs::write(&path, script(shell))
            .with_context(|| format!("writing {shell} completions to {}", path.display()))?;
        written.push(path);
    }
    Ok(written)
}
