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
    out.write_all(&main_page()?)?;
    Ok(())
}

/// codex-warden(1): clap_mangen's sections (name, synopsis, description, commands, the global
/// options), then what a man page owes an admin and clap does not know: EXIT STATUS,
/// ENVIRONMENT (every variable, from the same clap arguments the binary reads), FILES and SEE
/// ALSO.
fn main_page() -> Result<Vec<u8>> {
    let cmd = cli::command();
    let man = clap_mangen::Man::new(cmd.clone());
    let mut page = Vec::new();
    man.render_title(&mut page)?;
    man.render_name_section(&mut page)?;
    man.render_synopsis_section(&mut page)?;
    man.render_description_section(&mut page)?;
    man.render_options_section(&mut page)?;
    man.render_subcommands_section(&mut page)?;
    man.render_extra_section(&mut page)?;
    page.extend_from_slice(extra_sections(&cmd).as_bytes());
    man.render_version_section(&mut page)?;
    Ok(page)
}

fn extra_sections(cmd: &clap::Command) -> String {
    use crate::app::cli::exit;
    use crate::app::cli::settings;
    use crate::core::reference::{INSTALLED_SCHEMA, roff_text};
    let item = |out: &mut String, tag: &str, text: &str| {
        out.push_str(&format!(
            ".TP\n\\fB{}\\fR\n{}\n",
            roff_text(tag),
            roff_text(text)
        ));
    };
    let mut out = String::from(".SH \"EXIT STATUS\"\n");
    out.push_str(&roff_text(
        "Each command's page (codex-warden-COMMAND(1)) says which of these it uses.",
    ));
    out.push('\n');
    for (code, meaning) in [
        (exit::OK, "success: compliant, valid, intact, healthy, done"),
        (
            exit::FINDINGS,
            "findings: violations, policy problems (or no policy file), a broken audit chain, a \
             refused restore",
        ),
        (
            exit::ERROR,
            "a runtime failure, an unhealthy machine (status), or a policy rejected with nothing \
             to fall back on (check)",
        ),
        (
            exit::USAGE,
            "usage error: an unknown flag, a missing argument (EX_USAGE)",
        ),
        (
            exit::OUTPUT,
            "the output could not be written, e.g. a full disk (EX_IOERR); a reader that went \
             away (a closed pipe) ends the command quietly with 0",
        ),
    ] {
        item(&mut out, &code.to_string(), meaning);
    }
    out.push_str(".SH ENVIRONMENT\n");
    for arg in cmd.get_arguments().filter(|a| a.is_global_set()) {
        let (Some(env), Some(long)) = (arg.get_env(), arg.get_long()) else {
            continue;
        };
        let help = arg.get_help().map(|h| h.to_string()).unwrap_or_default();
        let help = if help.ends_with('.') {
            help
        } else {
            format!("{help}.")
        };
        let default = match arg.get_default_values() {
            [] => String::new(),
            values => format!(" Default: {}.", values[0].to_string_lossy()),
        };
        item(
            &mut out,
            &env.to_string_lossy(),
            &format!("{help} Same as --{long}.{default}"),
        );
    }
    item(
        &mut out,
        "CODEX_WARDEN_LOG",
        "What the log on stderr (or the journal) shows: info (the agent's default), warn (the \
         other commands' default), debug, or any tracing filter.",
    );
    item(
        &mut out,
        "CODEX_WARDEN_LOG_FORMAT",
        "text, json (one JSON object per line, for log collectors) or journald (each field a \
         journal field; the default under systemd, text elsewhere).",
    );
    out.push_str(".SH FILES\n");
    let state = settings::DEFAULT_STATE_DIR;
    for (path, what) in [
        (
            format!("{}/*.toml", settings::DEFAULT_POLICY_DIR),
            "the admin's policy drop-ins, merged in lexical order (codex-warden-policy(5))"
                .to_string(),
        ),
        (
            format!("{state}/"),
            "the state dir (root, 0711); only codex-warden writes in it".to_string(),
        ),
        (
            format!("{state}/vault/"),
            "quarantined credentials, restorable with codex-warden restore".to_string(),
        ),
        (
            format!("{state}/last-good-policy.json"),
            "the last policy that loaded, enforced while the drop-ins are rejected".to_string(),
        ),
        (
            format!("{state}/status.json, {state}/fleet.json, {state}/users/"),
            "what status reads: the admin's snapshot, the flat health fields for MDM and \
             osquery, each user's own view"
                .to_string(),
        ),
        (
            format!("{state}/agent.pid"),
            "locked by the running agent (a second one refuses to start)".to_string(),
        ),
        (
            settings::DEFAULT_AUDIT_LOG.to_string(),
            "the signed, hash-chained audit log (JSON lines) and its rotated files".to_string(),
        ),
        (
            format!(
                "{}, managed_config.toml beside it",
                settings::DEFAULT_CODEX_REQUIREMENTS
            ),
            "Codex's own files, where the agent keeps its block (# BEGIN codex-warden)".to_string(),
        ),
        (
            settings::DEFAULT_MANAGED_PREFS.to_string(),
            "macOS: the policy delivered as managed preferences".to_string(),
        ),
        (
            INSTALLED_SCHEMA.to_string(),
            "the JSON Schema of the policy format, for editors".to_string(),
        ),
        (
            "/usr/share/codex-warden/mdm/".to_string(),
            "health checks for Jamf, Intune and Fleet/osquery".to_string(),
        ),
    ] {
        out.push_str(&format!(
            ".TP\n\\fI{}\\fR\n{}\n",
            roff_text(&path),
            roff_text(&what)
        ));
    }
    out.push_str(".SH \"SEE ALSO\"\n");
    let pages: Vec<String> = std::iter::once("codex\\-warden\\-policy\\fR(5)".to_string())
        .chain(
            cmd.get_subcommands()
                .filter(|s| s.get_name() != "help")
                .map(|s| format!("codex\\-warden\\-{}\\fR(1)", roff_text(s.get_name()))),
        )
        .map(|p| format!("\\fB{p}"))
        .collect();
    out.push_str(&pages.join(", "));
    out.push_str(",\n/usr/share/doc/codex\\-warden/\n");
    out
}

/// codex-warden-policy(5): the policy format, from the key schema.
pub fn policy_page() -> String {
    crate::core::reference::man_page(env!("CARGO_PKG_VERSION"))
}

/// `DIR/codex-warden.1` (and a page per subcommand), `DIR/codex-warden-policy.5` (the policy
/// format) and `DIR/completions/<file per shell>`.
pub fn generate(dir: &Path) -> Result<Vec<std::path::PathBuf>> {
    let completions_dir = dir.join("completions");
    std::fs::create_dir_all(&completions_dir)
        .with_context(|| format!("creating {}", completions_dir.display()))?;
    // codex-warden.1 and one page per subcommand (codex-warden-check.1, …), which the main
    // page refers to.
    clap_mangen::generate_to(cli::command(), dir)
        .with_context(|| format!("writing man pages into {}", dir.display()))?;
    let main = dir.join(format!("{BIN}.1"));
    std::fs::write(&main, main_page()?).with_context(|| format!("writing {}", main.display()))?;
    let policy = dir.join(format!("{BIN}-policy.5"));
    std::fs::write(&policy, policy_page())
        .with_context(|| format!("writing {}", policy.display()))?;
    let mut written: Vec<std::path::PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "1" || x == "5"))
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
