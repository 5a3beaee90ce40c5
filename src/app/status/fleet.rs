//! The fleet file: the flat health fields of `status --json`, written by the agent with every
//! status snapshot to `fleet.json` in the state dir (0644), for readers that cannot run our
//! binary: osquery/Fleet (`parse_json` reads it), a Jamf extension attribute, an inventory agent.
//!
//! Only machine-level scalars: no per-user or per-home detail (homes are counted, never named),
//! no problems text, nothing secret. `health` and `health_reasons` are the health contract's
//! ([`health::judge`]) as the agent judged when it wrote the file. `agent_running` is true as the agent writes it; a reader
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
mod tests {
    use super::*;
    use crate::app::engine::policy_state::PolicyState;

    #[test]
    fn the_fleet_file_is_flat_and_names_no_home() {
        let facts = Facts {
            policy_state: PolicyState::Active,
            policy_rejected: false,
            revision: "r7",
            mode: "enforce",
            watch_degraded: None,
            state_dir_unwritable: None,
            policy_weakened: &[],
            homes: 3,
            homes_with_violations: 1,
            violations_24h: 2,
            quarantined_24h: 0,
            terminated_24h: 1,
            last_full_scan: "2026-11-26T10:04:00Z",
        };
        let now: jiff::Timestamp = "2026-11-26T10:05:00Z".parse().expect("time");
        let value = fleet_json("mac-17", &facts, "0.1.0", 42, now);
        let object = value.as_object().expect("object");
        for (key, v) in object {
            assert!(!v.is_object() && !v.is_array(), "{key} is not flat");
        }
        let keys: Vec<&str> = object.keys().map(String::as_str).collect();
        for field in FIELDS {
            assert!(keys.contains(field), "{field}");
        }
        assert_eq!(value["host"], "mac-17");
        assert_eq!(value["agent_running"], true);
        assert_eq!(value["agent_pid"], 42);
        assert_eq!(value["policy_state"], "active");
        assert_eq!(value["revision"], "r7");
        assert_eq!(value["homes"], 3);
        assert_eq!(value["violations_24h"], 2);
        assert_eq!(value["health"], "needs-attention");
        assert_eq!(
            value["health_reasons"],
            "homes-in-violation,violations-24h,terminated-24h"
        );
        assert_eq!(value["last_scan_age_s"], 60);
        assert_eq!(value["written_at_unix"], now.as_second());
    }
}
