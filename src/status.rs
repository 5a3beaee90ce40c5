//! Status: what the agent last knew about itself and every home, for admins and for users.
//!
//! The agent writes two snapshots after every scan and every change of verdict:
//! - `status.json` in the state dir, root-only: everything (`codex-warden status` as root, and
//!   osquery/Fleet queries of `status --json`);
//! - `users/<uid>.json`, owned by that user and readable only by them: their own homes, what was
//!   done to their credentials and how to fix it. The state dir is 0711 so a user can reach their
//!   file without listing anyone else's.
//!
//! Neither holds a secret: credentials appear as their summaries, like in the audit log.

use std::path::PathBuf;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::engine::{HomeReport, PolicyOrigin};
use crate::safefs::{Dir, FileRead};
use crate::settings::Settings;

pub const STATUS_FILE: &str = "status.json";
pub const USERS_DIR: &str = "users";

/// The last quarantine of a home's credential.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct QuarantineNote {
    pub vault_id: String,
    pub at: String,
    pub rules: Vec<String>,
}

/// One home as status shows it: its last verdict and what was last done to it.
#[derive(Debug, Clone, Serialize)]
pub struct HomeStatus<'a> {
    #[serde(flatten)]
    pub report: &'a HomeReport,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_quarantine: Option<&'a QuarantineNote>,
}

/// The admin's snapshot.
#[derive(Debug, Serialize)]
pub struct Status<'a> {
    pub pid: u32,
    pub version: &'static str,
    pub started_at: &'a str,
    pub updated_at: String,
    pub policy_name: &'a str,
    pub policy_revision: &'a str,
    pub mode: &'static str,
    pub policy_origin: PolicyOrigin,
    pub no_admin_policy: bool,
    /// The policy's `[enforce] message`: what users are told to do.
    pub message: Option<&'a str>,
    pub last_full_scan: &'a str,
    pub watched_dirs: usize,
    pub watch_degraded: Option<&'a str>,
    pub homes: Vec<HomeStatus<'a>>,
    /// Running Codex sessions: how many, which could not be judged, the cost of finding them.
    pub sessions: Value,
}

/// Write both snapshots. Per-user files of users with no home any more are removed.
pub fn write(state_dir: &std::path::Path, status: &Status<'_>) -> Result<()> {
    let dir = crate::vault::open_state_dir(state_dir)?;
    // A snapshot, rewritten after every scan and action: atomic, but not worth an fsync on the
    // hot path (a crash loses at most one update; the next scan rewrites it).
    dir.replace_file_unsynced(
        STATUS_FILE,
        0o600,
        &serde_json::to_vec_pretty(status)?,
        None,
    )?;

    let users = dir.ensure_subdir(USERS_DIR, 0o711)?;
    let mut by_uid: std::collections::BTreeMap<u32, Vec<&HomeStatus<'_>>> = Default::default();
    for home in &status.homes {
        if let Some(uid) = home.report.uid {
            by_uid.entry(uid).or_default().push(home);
        }
    }
    for (uid, homes) in &by_uid {
        let mut view = serde_json::to_value(status)?;
        view["homes"] = serde_json::to_value(homes)?;
        for private in ["watched_dirs", "watch_degraded", "pid", "sessions"] {
            if let Some(obj) = view.as_object_mut() {
                obj.remove(private);
            }
        }
        let name = format!("{uid}.json");
        users.replace_file_unsynced(
            &name,
            0o400,
            &serde_json::to_vec_pretty(&view)?,
            Some(*uid),
        )?;
    }
    for name in users.list()? {
        let stale = name
            .strip_suffix(".json")
            .and_then(|u| u.parse::<u32>().ok())
            .is_some_and(|uid| !by_uid.contains_key(&uid));
        if stale {
            let _ = users.unlink(&name);
        }
    }
    Ok(())
}

fn read_json(dir: &Dir, name: &str) -> Result<Option<Value>> {
    match dir.read_file(name, 64 << 20)? {
        FileRead::Regular { bytes, .. } => Ok(Some(
            serde_json::from_slice(&bytes).with_context(|| format!("parsing {name}"))?,
        )),
        _ => Ok(None),
    }
}

pub fn show(settings: &Settings, json: bool) -> Result<u8> {
    let euid = rustix::process::geteuid();
    // Anyone but root (and the agent's own user) reads their own view.
    let admin = match Dir::open(&settings.state_dir).map_err(anyhow::Error::from) {
        Ok(dir) => read_json(&dir, STATUS_FILE),
        Err(e) => Err(e),
    };
    let admin = match admin {
        Err(_) if !euid.is_root() => return show_user(settings, euid.as_raw(), json),
        other => {
            other.with_context(|| format!("reading status in {}", settings.state_dir.display()))?
        }
    };
    let Some(mut status) = admin else {
        anyhow::bail!(
            "no status in {}: the agent has not run yet (start it with `codex-warden run`)",
            settings.state_dir.display()
        );
    };
    let pid = status.get("pid").and_then(Value::as_u64).unwrap_or(0) as i32;
    let running = rustix::process::Pid::from_raw(pid)
        .is_some_and(|p| rustix::process::test_kill_process(p).is_ok());
    status["agent_running"] = Value::Bool(running);
    if json {
        println!("{}", serde_json::to_string_pretty(&status)?);
        return Ok(0);
    }
    let s = |k: &str| {
        status
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or("-")
            .to_string()
    };
    println!(
        "agent: {} (pid {pid}, version {}, started {})",
        if running { "running" } else { "NOT RUNNING" },
        s("version"),
        s("started_at")
    );
    print_policy(&status);
    println!(
        "last full scan: {}, updated {}",
        s("last_full_scan"),
        s("updated_at")
    );
    if let Some(reason) = status.get("watch_degraded").and_then(Value::as_str) {
        println!("watch degraded: {reason}");
    }
    let homes = homes(&status);
    let bad: Vec<&Value> = homes
        .iter()
        .filter(|h| h["compliant"] == Value::Bool(false))
        .collect();
    println!("{} Codex homes, {} with violations", homes.len(), bad.len());
    for h in bad {
        println!(
            "  {} ({}): {}",
            h["codex_home"].as_str().unwrap_or("-"),
            h["user"].as_str().unwrap_or("-"),
            rules(h).join(", ")
        );
    }
    crate::session_guard::print_status(&status["sessions"]);
    Ok(0)
}

/// A user's own view: their homes, what was done, how to fix it.
fn show_user(settings: &Settings, uid: u32, json: bool) -> Result<u8> {
    // The state dir is root's and 0711: the user can reach this one file, and nobody but root
    // can plant anything on the way, so a plain read by path is safe here.
    let path: PathBuf = settings
        .state_dir
        .join(USERS_DIR)
        .join(format!("{uid}.json"));
    let view: Option<Value> = match std::fs::read(&path) {
        Ok(bytes) => Some(serde_json::from_slice(&bytes).context("parsing your status")?),
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
    for h in homes(&view) {
        let home = h["codex_home"].as_str().unwrap_or("-");
        if h["compliant"] == Value::Bool(true) {
            println!("ok: {home}");
        } else {
            any_bad = true;
            println!("NOT ALLOWED: {home}");
            for v in h["verdict"]["violations"].as_array().into_iter().flatten() {
                println!(
                    "  {}: {}",
                    v["rule"].as_str().unwrap_or("-"),
                    v["evidence"].as_str().unwrap_or("")
                );
            }
        }
        if let Some(q) = h.get("last_quarantine") {
            println!(
                "  codex-warden moved your Codex credential out of {home} at {} ({}); vault id {}",
                q["at"].as_str().unwrap_or("-"),
                q["rules"]
                    .as_array()
                    .map(|r| r
                        .iter()
                        .filter_map(Value::as_str)
                        .collect::<Vec<_>>()
                        .join(", "))
                    .unwrap_or_default(),
                q["vault_id"].as_str().unwrap_or("-")
            );
            any_bad = true;
        }
    }
    if any_bad && let Some(message) = view.get("message").and_then(Value::as_str) {
        println!("\nHow to fix it:\n{}", message.trim_end());
    }
    Ok(0)
}

fn print_policy(status: &Value) {
    let s = |k: &str| status.get(k).and_then(Value::as_str).unwrap_or("-");
    println!(
        "policy: {} revision {} ({} mode, {})",
        s("policy_name"),
        s("policy_revision"),
        s("mode"),
        s("policy_origin")
    );
    if status.get("no_admin_policy") == Some(&Value::Bool(true)) {
        println!("WARNING: no admin policy is installed; the built-in baseline only records");
    }
}

fn homes(status: &Value) -> Vec<Value> {
    status
        .get("homes")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

fn rules(home: &Value) -> Vec<&str> {
    home["verdict"]["violations"]
        .as_array()
        .map(|v| v.iter().filter_map(|x| x["rule"].as_str()).collect())
        .unwrap_or_default()
}
