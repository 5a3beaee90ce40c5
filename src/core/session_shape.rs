//! Session shapes: which processes are Codex sessions, and what their environment says. Pure, no
//! I/O: the platform layer (`platform/sessions.rs`) reads `/proc` and hands the bytes here.
//!
//! A Codex session is the native binary running a session-bearing subcommand (bare `codex` for
//! the TUI, `exec`, `review`, `resume`, `app-server`, `mcp-server`, …). It is recognised by what
//! its executable contains ([`crate::core::codex_build`]: any name, any path, a copy, a hard link,
//! a deleted file), and, where the content could not be read, by the structure of its executable
//! path and argv, never by `comm` (Linux truncates it to 15 characters) nor by the bare name
//! `codex` (anyone can name a program that):
//!
//! - the npm package's native child, `…/vendor/<target-triple>/bin/codex` (0.169) or
//!   `…/vendor/<triple>/codex/codex` (older), or any `codex` the npm launcher started
//!   (`CODEX_MANAGED_BY_NPM=1` in its environment);
//! - release binaries that keep their target triple: `codex-x86_64-unknown-linux-musl`,
//!   `codex-app-server-aarch64-apple-darwin`, …
//!
//! The same binary runs sandbox helpers under other names (`argv[0]` of `codex-linux-sandbox`,
//! `apply_patch`; Codex itself dispatches on `argv[0]`): children of a session, never sessions.
//! A node runtime (by name or content) running `codex.js` is a [`ProcessShape::NpmWrapper`]: the
//! launcher of 0.2 and later holds no credential and is stopped together with its native child;
//! the TypeScript client (`@openai/codex` 0.1.x, [`js_package`]) is itself the session
//! ([`Client::TypeScript`]). What a session's environment holds is judged with the rest of its
//! effective session ([`crate::core::effective_session`]).

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::core::codex_build::{Build, Executable};

/// What a process is, as far as the agent is concerned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "shape")]
pub enum ProcessShape {
    /// A native Codex process running a session-bearing subcommand (`None`: the TUI).
    Session {
        subcommand: Option<String>,
    },
    /// `node …/codex.js`: the npm launcher, which spawns the native session (or, for
    /// `@openai/codex` 0.1.x, is the TypeScript client: told by its package.json).
    NpmWrapper,
    /// The TypeScript client once running: node whose command line it replaced with its title,
    /// `codex` (`process.title`), so no script path is left to read.
    TypeScriptClient,
    /// The Codex binary under a helper's name (`codex-linux-sandbox`, `apply_patch`).
    SandboxHelper,
    /// A native Codex process that holds no session (`login`, `--version`, `completion`, …).
    Tool,
    NotCodex,
}

/// `argv[0]` names under which the Codex binary acts as a helper of a running session.
const HELPER_NAMES: [&str; 4] = [
    "codex-linux-sandbox",
    "apply_patch",
    "applypatch",
    "codex-execve-wrapper",
];

/// Subcommands that manage Codex and exit; everything else (including a bare prompt) runs a
/// session and may hold a credential in memory.
const TOOL_SUBCOMMANDS: [&str; 22] = [
    "login",
    "logout",
    "mcp",
    "plugin",
    "completion",
    "update",
    "doctor",
    "sandbox",
    "debug",
    "apply",
    "a",
    "queue",
    "archive",
    "delete",
    "unarchive",
    "migrate-rollouts",
    "migrate-nfs-db",
    "features",
    "help",
    "--help",
    "-h",
    "--version",
];

fn base_name(s: &str) -> &str {
    s.rsplit('/').next().unwrap_or(s)
}

/// A Rust target triple as release names carry it (`x86_64-unknown-linux-musl`,
/// `aarch64-apple-darwin`, `x86_64-pc-windows-msvc`).
fn is_target_triple(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    let arch_ok = parts
        .first()
        .is_some_and(|a| ["x86_64", "aarch64", "arm64", "i686", "armv7", "riscv64"].contains(a));
    arch_ok
        && parts.len() >= 3
        && parts
            .iter()
            .any(|p| ["linux", "darwin", "windows"].contains(p))
}

/// Whether `exe` is a native Codex binary by the layout it ships in.
fn is_codex_binary(exe: &str, environ: &[(String, String)]) -> bool {
    let name = base_name(exe);
    if let Some(rest) = name.strip_prefix("codex-app-server-") {
        return is_target_triple(rest);
    }
    if let Some(rest) = name.strip_prefix("codex-") {
        return is_target_triple(rest);
    }
    if name != "codex" {
        return false;
    }
    // The npm package: …/vendor/<triple>/bin/codex or …/vendor/<triple>/codex/codex.
    let parts: Vec<&str> = exe.split('/').collect();
    let n = parts.len();
    let vendored = n >= 4
        && ((parts[n - 2] == "bin" && parts[n - 4] == "vendor" && is_target_triple(parts[n - 3]))
            || (parts[n - 2] == "codex"
                && parts[n - 4] == "vendor"
                && is_target_triple(parts[n - 3])));
    vendored || env_value(environ, "CODEX_MANAGED_BY_NPM") == Some("1")
}

/// Classify a process from its executable path (`/proc/PID/exe`), what that executable's content
/// is (`build`, when it could be read), argv and environment.
pub fn classify(
    exe: Option<&Path>,
    build: Option<&Build>,
    argv: &[String],
    environ: &[(String, String)],
) -> ProcessShape {
    let exe = exe.and_then(Path::to_str).unwrap_or("");
    // A deleted or replaced executable (an upgrade under a running session) reads as
    // "… (deleted)".
    let exe = exe.strip_suffix(" (deleted)").unwrap_or(exe);
    let arg0 = argv.first().map(|a| base_name(a)).unwrap_or("");
    let kind = build.map(|b| &b.kind);
    if kind == Some(&Executable::Node)
        || (kind.is_none() && (base_name(exe).starts_with("node") || base_name(exe) == "bun"))
    {
        let script = argv.get(1).map(|a| base_name(a)).unwrap_or("");
        return if script == "codex.js" || script == "codex" {
            ProcessShape::NpmWrapper
        } else if argv == ["codex"] {
            ProcessShape::TypeScriptClient
        } else {
            ProcessShape::NotCodex
        };
    }
    if kind != Some(&Executable::Codex) && !is_codex_binary(exe, environ) {
        return ProcessShape::NotCodex;
    }
    if HELPER_NAMES.contains(&arg0) {
        return ProcessShape::SandboxHelper;
    }
    let first = argv.get(1).map(String::as_str);
    match first {
        Some(sub) if TOOL_SUBCOMMANDS.contains(&sub) || sub == "-V" => ProcessShape::Tool,
        Some(sub) if !sub.starts_with('-') && is_subcommand_word(sub) => ProcessShape::Session {
            subcommand: Some(sub.to_string()),
        },
        _ => ProcessShape::Session { subcommand: None },
    }
}

/// A word that looks like a subcommand rather than a prompt (`exec`, `app-server`).
fn is_subcommand_word(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_lowercase() || c == '-')
}

/// A variable as `getenv(3)` returns it: the **first** entry of that name (musl's, in the native
/// Codex, and glibc's, under node).
pub fn env_value<'a>(environ: &'a [(String, String)], name: &str) -> Option<&'a str> {
    environ
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Which Codex program runs a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Client {
    /// The native (Rust) binary.
    Native,
    /// The TypeScript client, `@openai/codex` 0.1.x under node (no native child).
    TypeScript,
}

/// What the `package.json` of the package a `codex.js` belongs to says it is: the TypeScript
/// client (`@openai/codex` 0.1.x: the session itself) or the launcher of a native binary (its
/// version); `None` when it is not `@openai/codex`.
pub fn js_package(package_json: &[u8]) -> Option<(Client, String)> {
    let doc: serde_json::Value = serde_json::from_slice(package_json).ok()?;
    if doc.get("name")?.as_str()? != "@openai/codex" {
        return None;
    }
    let version = doc.get("version")?.as_str()?.to_string();
    let client = if version.starts_with("0.1.") {
        Client::TypeScript
    } else {
        Client::Native
    };
    Some((client, version))
}

/// Split the raw bytes of `/proc/PID/environ` (or `cmdline`) at NULs.
pub fn split_nul(bytes: &[u8]) -> Vec<String> {
    // Each word ends with a NUL: only the empty piece after the last one is no word. An empty
    // word inside is one (`--thread-source "" -c …` pairs the flag with "", not with `-c`).
    if bytes.is_empty() {
        return Vec::new();
    }
    let bytes = bytes.strip_suffix(&[0]).unwrap_or(bytes);
    bytes
        .split(|b| *b == 0)
        .map(|s| String::from_utf8_lossy(s).into_owned())
        .collect()
}

/// `KEY=value` pairs of an environment block, in order, duplicates kept: [`env_value`] reads the
/// **first** of duplicated entries, the one `getenv(3)` (musl's, in the native Codex, and
/// glibc's, under node) returns, and the resolver judges the others as evidence (a later
/// duplicate can neither hide the value Codex uses nor a forbidden one be overlooked).
pub fn parse_environ(bytes: &[u8]) -> Vec<(String, String)> {
    split_nul(bytes)
        .into_iter()
        .filter_map(|kv| {
            let (k, v) = kv.split_once('=')?;
            Some((k.to_string(), v.to_string()))
        })
        .collect()
}

/// The fields of `/proc/PID/stat` the agent uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stat {
    pub ppid: u32,
    /// Process state letter (`Z` for a zombie).
    pub state: char,
    /// Controlling terminal as a device number (0: none).
    pub tty_nr: u64,
    /// Start time in clock ticks since boot: with the pid, identifies one process for good.
    pub start_time: u64,
}

/// Parse `/proc/PID/stat`. The command name may contain spaces and parentheses, so fields are
/// counted from the last `)`.
pub fn parse_stat(text: &str) -> Option<Stat> {
    let rest = &text[text.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // f[0] is field 3 (state); field N is f[N - 3].
    Some(Stat {
        state: f.first()?.chars().next()?,
        ppid: f.get(1)?.parse().ok()?,
        tty_nr: f.get(4)?.parse().ok()?,
        start_time: f.get(19)?.parse().ok()?,
    })
}

/// The `/dev/pts/N` of a `tty_nr`, when it is a pseudo-terminal (majors 136–143).
pub fn pts_path(tty_nr: u64) -> Option<PathBuf> {
    let major = (tty_nr >> 8) & 0xfff;
    let minor = (tty_nr & 0xff) | ((tty_nr >> 12) & 0xfff00);
    (136..=143)
        .contains(&major)
        .then(|| PathBuf::from(format!("/dev/pts/{}", (major - 136) * 256 + minor)))
}

/// Where a session's Codex home is, as the session itself names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "from")]
pub enum HomeSpec {
    /// `CODEX_HOME`, absolute.
    Absolute { path: PathBuf },
    /// `CODEX_HOME`, relative to the session's working directory.
    Relative { path: PathBuf },
    /// No `CODEX_HOME`: `$HOME/.codex` (Codex reads `$HOME`), else the owner's `~/.codex`.
    Default { home: Option<PathBuf> },
}

impl HomeSpec {
    pub fn of(environ: &[(String, String)]) -> HomeSpec {
        match env_value(environ, "CODEX_HOME").filter(|v| !v.is_empty()) {
            Some(v) if v.starts_with('/') => HomeSpec::Absolute { path: v.into() },
            Some(v) => HomeSpec::Relative { path: v.into() },
            None => HomeSpec::Default {
                home: env_value(environ, "HOME")
                    .filter(|h| h.starts_with('/'))
                    .map(PathBuf::from),
            },
        }
    }

    /// The home's path inside the session's own view of the file system: `cwd` is the session's
    /// working directory (as it sees it), `owner_home` the owner's home from the user database.
    pub fn resolve(&self, cwd: Option<&Path>, owner_home: Option<&Path>) -> Option<PathBuf> {
        match self {
            HomeSpec::Absolute { path } => Some(path.clone()),
            HomeSpec::Relative { path } => cwd.map(|c| c.join(path)),
            HomeSpec::Default { home } => home.as_deref().or(owner_home).map(|h| h.join(".codex")),
        }
    }
}

#[cfg(test)]
#[path = "session_shape_tests.rs"]
mod tests;
