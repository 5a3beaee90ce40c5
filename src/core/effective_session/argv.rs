//! A Codex command line → the config keys it sets, as Codex's own parser reads it. Pure.
//!
//! Codex takes `-c key=value` (and `--config key=value`) anywhere on the line, before or after
//! the subcommand, and every flag below is sugar for a config key:
//!
//! | flag | config key |
//! |---|---|
//! | `-c KEY=VALUE`, `--config KEY=VALUE` | `KEY` (value parsed as TOML, else the raw string) |
//! | `--enable F` / `--disable F` | `features.F = true` / `false` |
//! | `-m M`, `--model M` | `model` |
//! | `-s S`, `--sandbox S` | `sandbox_mode` |
//! | `-a A`, `--ask-for-approval A` | `approval_policy` |
//! | `--full-auto` (0.100) | `sandbox_mode = "workspace-write"`, `approval_policy = "on-request"` |
//! | `--dangerously-bypass-approvals-and-sandbox`, `--yolo` | `sandbox_mode = "danger-full-access"`, `approval_policy = "never"` |
//! | `--approve-for-me` | `sandbox_mode = "workspace-write"` |
//! | `--search` | `web_search = "live"` |
//! | `--oss` | `model_provider` = the local provider (`--local-provider`, else `oss_provider`) |
//! | `--local-provider P` | `oss_provider` |
//! | `-p P`, `--profile P` | `profile` (selects the profile layer) |
//!
//! `-C DIR` / `--cd DIR` names the working root, whose `.codex/config.toml` is the project layer;
//! `--ignore-user-config` (exec) drops the user layer. Keys are split at every `.` exactly as
//! Codex 0.169 splits them (checked with the real CLI: `-c 'model_providers."a.b".base_url=…'`
//! makes a provider named `"a`): quotes in a `-c` key are part of the key. `--` ends the options.

use toml::Value;

/// One key a command line sets, in command-line order (a later one wins). Its Debug shows the
/// value's type, not the value (`-c …experimental_bearer_token=sk-…`).
#[derive(Clone, PartialEq)]
pub struct ArgvSetting {
    /// The key's segments, as Codex splits them.
    pub path: Vec<String>,
    pub value: Value,
    /// The flag that set it (`-c`, `--sandbox`, …), for evidence.
    pub flag: &'static str,
}

impl ArgvSetting {
    /// The flag as a fix names it: `-c KEY=…` (never the value: it may be a secret),
    /// `--sandbox danger-full-access`, `--enable F`, `--search`.
    pub fn label(&self) -> String {
        let value = self
            .value
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| self.value.to_string());
        match self.flag {
            "-c" | "--config" => format!("-c {}=…", self.path.join(".")),
            "-s" | "--sandbox" | "-a" | "--ask-for-approval" | "-m" | "--model" => {
                format!("{} {value}", self.flag)
            }
            "--enable" | "--disable" => {
                format!(
                    "{} {}",
                    self.flag,
                    self.path.last().map_or("", String::as_str)
                )
            }
            other => other.to_string(),
        }
    }
}

impl std::fmt::Debug for ArgvSetting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ArgvSetting")
            .field("path", &self.path)
            .field("value", &format_args!("<{}>", self.value.type_str()))
            .field("flag", &self.flag)
            .finish()
    }
}

/// What a Codex command line says about configuration.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ArgvConfig {
    /// The first non-option word when it is a subcommand (`exec`, `app-server`, …).
    pub subcommand: Option<String>,
    pub settings: Vec<ArgvSetting>,
    /// `--profile`.
    pub profile: Option<String>,
    /// `-C` / `--cd`.
    pub cwd: Option<String>,
    /// `--oss` was given.
    pub oss: bool,
    /// `--local-provider`.
    pub local_provider: Option<String>,
    /// `--ignore-user-config`.
    pub ignore_user_config: bool,
    /// `-c` arguments Codex itself rejects (no `=`, empty key): it does not start with them.
    pub rejected: Vec<String>,
}

/// Subcommands whose argv is a session's (flags after them still set config).
const SUBCOMMANDS: [&str; 9] = [
    "exec",
    "e",
    "review",
    "resume",
    "fork",
    "app-server",
    "mcp-server",
    "exec-server",
    "cloud",
];

/// Options that take a value (`--opt VALUE` or `--opt=VALUE`); any other option is a switch.
const VALUED: [&str; 40] = [
    "-c",
    "--config",
    "--enable",
    "--disable",
    "-m",
    "--model",
    "-s",
    "--sandbox",
    "-a",
    "--ask-for-approval",
    "-p",
    "--profile",
    "-C",
    "--cd",
    "--local-provider",
    "--add-dir",
    "--remote",
    "--remote-auth-token-env",
    "--cyber-access-program",
    "--output-schema",
    "--color",
    "-o",
    "--output-last-message",
    "--thread-source",
    "--listen",
    "--ws-auth",
    "--ws-token-file",
    "--ws-token-sha256",
    "--ws-shared-secret-file",
    "--ws-issuer",
    "--ws-audience",
    "--ws-max-clock-skew-seconds",
    "--startup-client-info",
    "--cloud-skills-snapshot",
    "--code-mode-host",
    "--base",
    "--commit",
    "--title",
    "-i",
    "--image",
];

/// Parse a `-c` value as Codex does: a TOML value (`"o3"`, `42`, `[1, 2]`, `{ a = 1 }`), else the
/// trimmed text as a string (`-c model=o3`).
pub fn parse_value(raw: &str) -> Value {
    let raw = raw.trim();
    let wrapped = format!("_x_ = {raw}");
    match wrapped.parse::<toml::Table>() {
        Ok(mut t) => t
            .remove("_x_")
            .unwrap_or_else(|| Value::String(raw.to_string())),
        Err(_) => Value::String(raw.to_string()),
    }
}

/// Split a `-c KEY=VALUE` argument at its first `=`; `None` when Codex would reject it.
pub fn parse_override(arg: &str) -> Option<(Vec<String>, Value)> {
    let (key, value) = arg.split_once('=')?;
    let key = key.trim();
    if key.is_empty() {
        return None;
    }
    let path = key.split('.').map(str::to_string).collect();
    Some((path, parse_value(value)))
}

fn set(out: &mut ArgvConfig, key: &str, value: Value, flag: &'static str) {
    out.settings.push(ArgvSetting {
        path: key.split('.').map(str::to_string).collect(),
        value,
        flag,
    });
}

fn text(s: &str) -> Value {
    Value::String(s.to_string())
}

/// The canonical spelling of a flag, for [`ArgvSetting::flag`].
fn canonical(name: &str) -> &'static str {
    match name {
        "-c" | "--config" => "-c",
        "--enable" => "--enable",
        "--disable" => "--disable",
        "-m" | "--model" => "--model",
        "-s" | "--sandbox" => "--sandbox",
        "-a" | "--ask-for-approval" => "--ask-for-approval",
        "-p" | "--profile" => "--profile",
        "--local-provider" => "--local-provider",
        _ => "argv",
    }
}

/// Read a Codex command line (`argv[0]` first).
pub fn parse(argv: &[String]) -> ArgvConfig {
    #[cfg(test)]
    PARSES.with(|n| n.set(n.get() + 1));
    let mut out = ArgvConfig::default();
    let mut i = 1;
    let mut positional_seen = false;
    while i < argv.len() {
        let arg = argv[i].as_str();
        i += 1;
        if arg == "--" {
            break;
        }
        if !arg.starts_with('-') || arg == "-" {
            if !positional_seen {
                positional_seen = true;
                if SUBCOMMANDS.contains(&arg) {
                    out.subcommand = Some(arg.to_string());
                }
            }
            continue;
        }
        // `--name=value`, `-cKEY=VALUE` (a short option glued to its value), or `--name value`.
        let (name, glued): (&str, Option<&str>) = if let Some(long) = arg.strip_prefix("--") {
            match long.split_once('=') {
                Some((n, v)) => (&arg[..n.len() + 2], Some(v)),
                None => (arg, None),
            }
        } else if arg.len() > 2 && arg.is_char_boundary(2) {
            let short = &arg[..2];
            if VALUED.contains(&short) {
                let v = &arg[2..];
                (short, Some(v.strip_prefix('=').unwrap_or(v)))
            } else {
                (arg, None)
            }
        } else {
            (arg, None)
        };
        let value: Option<String> = if VALUED.contains(&name) {
            match glued {
                Some(v) => Some(v.to_string()),
                None => {
                    let v = argv.get(i).cloned();
                    i += 1;
                    v
                }
            }
        } else {
            None
        };
        if name == "-i" || name == "--image" {
            // `-i <FILE>...` takes every following word up to the next option.
            while i < argv.len() && !argv[i].starts_with('-') {
                i += 1;
            }
            continue;
        }
        apply(&mut out, name, value.as_deref());
    }
    out
}

fn apply(out: &mut ArgvConfig, name: &str, value: Option<&str>) {
    let flag = canonical(name);
    match (name, value) {
        ("-c" | "--config", Some(v)) => match parse_override(v) {
            Some((path, value)) => out.settings.push(ArgvSetting { path, value, flag }),
            None => out.rejected.push(v.to_string()),
        },
        ("--enable", Some(f)) => set(out, &format!("features.{f}"), Value::Boolean(true), flag),
        ("--disable", Some(f)) => set(out, &format!("features.{f}"), Value::Boolean(false), flag),
        ("-m" | "--model", Some(m)) => set(out, "model", text(m), flag),
        ("-s" | "--sandbox", Some(s)) => set(out, "sandbox_mode", text(s), flag),
        ("-a" | "--ask-for-approval", Some(a)) => set(out, "approval_policy", text(a), flag),
        ("-p" | "--profile", Some(p)) => {
            out.profile = Some(p.to_string());
            set(out, "profile", text(p), flag);
        }
        ("-C" | "--cd", Some(d)) => out.cwd = Some(d.to_string()),
        ("--local-provider", Some(p)) => {
            out.local_provider = Some(p.to_string());
            set(out, "oss_provider", text(p), flag);
        }
        ("--oss", _) => out.oss = true,
        ("--full-auto", _) => {
            set(out, "sandbox_mode", text("workspace-write"), "--full-auto");
            set(out, "approval_policy", text("on-request"), "--full-auto");
        }
        ("--dangerously-bypass-approvals-and-sandbox" | "--yolo", _) => {
            let f = "--dangerously-bypass-approvals-and-sandbox";
            set(out, "sandbox_mode", text("danger-full-access"), f);
            set(out, "approval_policy", text("never"), f);
        }
        ("--approve-for-me", _) => set(
            out,
            "sandbox_mode",
            text("workspace-write"),
            "--approve-for-me",
        ),
        ("--search", _) => set(out, "web_search", text("live"), "--search"),
        ("--ignore-user-config", _) => out.ignore_user_config = true,
        _ => {}
    }
}

// How many times this thread parsed a command line (tests count the agent's passes with it).
#[cfg(test)]
thread_local! {
    pub static PARSES: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

#[cfg(test)]
#[path = "argv_tests.rs"]
mod tests;
