//! Status: what the agent last knew about itself and every home, for admins and for users.
//!
//! The agent writes two snapshots (through `status_writer.rs`, coalesced, at most a
//! second after a change; only what changed is rewritten):
//! - `status.json` in the state dir, root-only: everything (`codex-warden status` as root, and
//!   osquery/Fleet queries of `status --json`);
//! - `users/<uid>.json`, owned by that user and readable only by them: their own homes, what was
//!   done to their credentials and how to fix it. The state dir is 0711 so a user can reach their
//!   file without listing anyone else's.
//!
//! Both are one typed [`Status`]: the user's view leaves out the agent's internals
//! ([`AgentInternals`]) and other users' homes. Readers parse the file back into the same type.
//! Neither holds a secret: credentials appear as their summaries, like in the audit log.

use std::borrow::Cow;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::app::engine::PolicyOrigin;
use crate::app::report::HomeReport;
use crate::app::settings::Settings;
use crate::core::policy::Mode;
use crate::platform::safefs::{Dir, FileRead};
use crate::platform::state::{self, STATUS_FILE, USERS_DIR};

/// The last quarantine of a home's credential.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuarantineNote {
    pub vault_id: String,
    pub at: String,
    pub rules: Vec<String>,
}

/// One home as status shows it: its last verdict and what was last done to it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HomeStatus<'a> {
    #[serde(flatten)]
    pub report: Cow<'a, HomeReport>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_quarantine: Option<Cow<'a, QuarantineNote>>,
}

/// What only the admin's snapshot shows.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AgentInternals {
    pub pid: u32,
    pub watched_dirs: usize,
    pub watch_degraded: Option<String>,
}

/// A status snapshot: the admin's (with [`AgentInternals`]) or one user's (without).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Status<'a> {
    #[serde(flatten, default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<AgentInternals>,
    pub version: String,
    pub started_at: String,
    pub updated_at: String,
    pub policy_name: String,
    pub policy_revision: String,
    pub mode: Mode,
    pub policy_origin: PolicyOrigin,
    pub no_admin_policy: bool,
    /// The policy's `[enforce] message`: what users are told to do.
    pub message: Option<String>,
    pub last_full_scan: String,
    pub homes: Vec<HomeStatus<'a>>,
}

/// A snapshot file, parsed; `None` when it does not exist.
fn read(dir: &Dir, name: &str) -> Result<Option<Status<'static>>> {
    match dir.read_file(name, 64 << 20)? {
        FileRead::Regular { bytes, .. } => {
            Ok(Some(serde_json::from_slice(&bytes).with_context(|| {
                format!("parsing {}", dir.path().join(name).display())
            })?))
        }
        FileRead::Absent => Ok(None),
        FileRead::NotRegular { kind, .. } => {
            anyhow::bail!("{} is a {kind}", dir.path().join(name).display())
        }
        FileRead::TooLarge { size, .. } => anyhow::bail!(
            "{} is {size} bytes: not a status file",
            dir.path().join(name).display()
        ),
    }
}

pub fn show(settings: &Settings, json: bool) -> Result<u8> {
    let euid = rustix::process::geteuid();
    // Anyone but root (and the agent's own user) reads their own view.
    let admin = state::open_existing(&settings.state_dir)
        .and_then(|dir| dir.map_or(Ok(None), |dir| read(&dir, STATUS_FILE)));
    let admin = match admin {
        Err(_) if !euid.is_root() => return show_user(settings, euid.as_raw(), json),
        other => {
            other.with_context(|| format!("reading status in {}", settings.state_dir.display()))?
        }
    };
    let Some(status) = admin else {
        anyhow::bail!(
            "no status in {}: the agent has not run yet (start it with `codex-warden run`)",
            settings.state_dir.display()
        );
    };
    let pid = status.agent.as_ref().map_or(0, |a| a.pid) as i32;
    let running = rustix::process::Pid::from_raw(pid)
        .is_some_and(|p| rustix::process::test_kill_process(p).is_ok());
    if json {
        let mut value = serde_json::to_value(&status)?;
        value["agent_running"] = serde_json::Value::Bool(running);
        println!("{}", serde_json::to_string_pretty(&value)?);
        return Ok(0);
    }
    println!(
        "agent: {} (pid {pid}, version {}, started {})",
        if running { "running" } else { "NOT RUNNING" },
        status.version,
        status.started_at
    );
    print_policy(&status);
    println!(
        "last full scan: {}, updated {}",
        status.last_full_scan, status.updated_at
    );
    if let Some(reason) = status
        .agent
        .as_ref()
        .and_then(|a| a.watch_degraded.as_ref())
    {
        println!("watch degraded: {reason}");
    }
    let bad: Vec<&HomeReport> = status
        .homes
        .iter()
        .map(|h| h.report.as_ref())
        .filter(|r| !r.compliant)
        .collect();
    println!(
        "{} Codex homes, {} with violations",
        status.homes.len(),
        bad.len()
    );
    for r in bad {
        let rules: Vec<&str> = r.verdict.rules().iter().map(|r| r.code()).collect();
        println!(
            "  {} ({}): {}",
            r.codex_home.display(),
            r.user.as_deref().unwrap_or("-"),
            rules.join(", ")
        );
    }
    Ok(0)
}

/// A user's own view: their homes, what was done, how to fix it.
fn show_user(settings: &Settings, uid: u32, json: bool) -> Result<u8> {
    let path = settings
        .state_dir
        .join(USERS_DIR)
        .join(format!("{uid}.json"));
    let view = match Dir::open(&settings.state_dir.join(USERS_DIR)) {
        Ok(dir) => read(&dir, &format!("{uid}.json"))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    let Some(view) = view else {
        if json {
            println!("{}", serde_json::json!({ "homes": [] }));
        } else {
            println!(
                "codex-warden has no Codex home of yours on record ({} does not exist or the \
                 agent has not run since you signed in).",
                path.display()
            );
        }
        return Ok(0);
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&view)?);
        return Ok(0);
    }
    print_policy(&view);
    let mut any_bad = false;
    for h in &view.homes {
        let home = h.report.codex_home.display();
        if h.report.compliant {
            println!("ok: {home}");
        } else {
            any_bad = true;
            println!("NOT ALLOWED: {home}");
            for v in &h.report.verdict.violations {
                println!("  {}: {}", v.rule, v.evidence);
            }
        }
        if let Some(q) = &h.last_quarantine {
            println!(
                "  codex-warden moved your Codex credential out of {home} at {} ({}); vault id {}",
                q.at,
                q.rules.join(", "),
                q.vault_id
            );
            any_bad = true;
        }
    }
    if any_bad && let Some(message) = &view.message {
        println!("\nHow to fix it:\n{}", message.trim_end());
    }
    Ok(0)
}

fn print_policy(status: &Status<'_>) {
    let origin = serde_json::to_value(status.policy_origin)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    println!(
        "policy: {} revision {} ({} mode, {origin})",
        status.policy_name,
        status.policy_revision,
        status.mode.as_str(),
    );
    if status.no_admin_policy {
        println!("WARNING: no admin policy is installed; the built-in baseline only records");
    }
}
