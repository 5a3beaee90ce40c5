//! `codex-warden status`: what the agent last wrote about itself and every home.

use anyhow::{Context, Result};
use serde_json::Value;

use crate::safefs::{Dir, FileRead};
use crate::settings::Settings;

pub const STATUS_FILE: &str = "status.json";

pub fn show(settings: &Settings, json: bool) -> Result<u8> {
    let dir = Dir::open(&settings.state_dir)
        .with_context(|| format!("opening state dir {}", settings.state_dir.display()))?;
    let bytes = match dir.read_file(STATUS_FILE, 64 << 20)? {
        FileRead::Regular { bytes, .. } => bytes,
        _ => anyhow::bail!(
            "no status in {}: the agent has not run yet (start it with `codex-warden run`)",
            settings.state_dir.display()
        ),
    };
    let mut status: Value = serde_json::from_slice(&bytes).context("parsing status.json")?;
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
    println!(
        "last full scan: {}, updated {}",
        s("last_full_scan"),
        s("updated_at")
    );
    if let Some(reason) = status.get("watch_degraded").and_then(Value::as_str) {
        println!("watch degraded: {reason}");
    }
    let homes = status
        .get("homes")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let bad: Vec<&Value> = homes
        .iter()
        .filter(|h| h["compliant"] == Value::Bool(false))
        .collect();
    println!("{} Codex homes, {} with violations", homes.len(), bad.len());
    for h in bad {
        let rules: Vec<&str> = h["verdict"]["violations"]
            .as_array()
            .map(|v| v.iter().filter_map(|x| x["rule"].as_str()).collect())
            .unwrap_or_default();
        println!(
            "  {} ({}): {}",
            h["codex_home"].as_str().unwrap_or("-"),
            h["user"].as_str().unwrap_or("-"),
            rules.join(", ")
        );
    }
    Ok(0)
}
