//! The fleet file: the flat health fields of `status --json`, written by the agent with every
//! status snapshot to `fleet.json` in the state dir (0644), for readers that cannot run our
//! binary: osquery/Fleet (`parse_json` reads it), a Jamf extension attribute, an inventory agent.
//!
//! Only machine-level scalars: no per-user or per-home detail (homes are counted, never named),
//! no problems text, nothing secret. `health` and `health_reasons` are the health contract's
//! ([`health::assess`]) as the agent assessed it when it wrote the file. `agent_running` is true as the agent writes it; a reader
//! judges liveness from `agent_pid` (is that pid a codex-warden process?) and `written_at_unix`
//! (the agent rewrites the file after every scan, at least every scan interval, 5 minutes by
//! default). See docs/fleet.md.

use anyhow::Result;
use serde_json::{Map, Value};

use crate::app::status::health::{self, Facts};
use crate::platform::lock::Liveness;
use crate::platform::safefs::Dir;
use crate::platform::state::FLEET_FILE;

/// The fields of `status --json` the fleet file carries, in its order.
pub const FIELDS: &[&str] = &[
    "host",
    "health",
    "health_reasons",
    "healthy",
    "exit_code",
    "agent_running",
    "agent_pid",
    "policy_state",
    "revision",
    "mode",
    "homes",
    "homes_with_violations",
    "violations_24h",
    "quarantined_24h",
    "terminated_24h",
    "last_scan_age_s",
];

/// The fleet file's JSON for a snapshot's facts, written at `now` by the agent with `pid`.
pub fn fleet_json(
    host: &str,
    facts: &Facts<'_>,
    version: &str,
    pid: u32,
    now: jiff::Timestamp,
) -> Value {
    let liveness = Liveness::Running { pid: Some(pid) };
    let full = health::json(host, Some(facts), None, &liveness, now);
    let mut out: Map<String, Value> = FIELDS
        .iter()
        .filter_map(|k| Some((k.to_string(), full.get(*k)?.clone())))
        .collect();
    out.insert("version".into(), Value::from(version));
    out.insert("written_at".into(), Value::from(now.to_string()));
    out.insert("written_at_unix".into(), Value::from(now.as_second()));
    Value::Object(out)
}

/// Write the fleet file into the (already opened and checked) state dir.
pub fn write(dir: &Dir, facts: &Facts<'_>, version: &str, pid: u32) -> Result<()> {
    let value = fleet_json(
        &crate::platform::audit::hostname(),
        facts,
        version,
        pid,
        jiff::Timestamp::now(),
    );
    let mut bytes = serde_json::to_vec_pretty(&value)?;
    bytes.push(b'\n');
    dir.replace_file_unsynced(FLEET_FILE, 0o644, &bytes, None)?;
    Ok(())
}

#[cfg(test)]
#[path = "fleet_tests.rs"]
mod tests;
