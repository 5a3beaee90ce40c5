//! `status` as a health check: one exit code and a flat JSON object an MDM reads directly.
//!
//! A Jamf extension attribute or an Intune custom-compliance script runs `codex-warden status
//! --json` and reads top-level scalars (`agent_running`, `policy_state`, `violations_24h`, …)
//! without walking nested objects; the exit code alone is enough for a monitoring check:
//!
//! | exit | meaning |
//! |---|---|
//! | 0 | healthy and compliant: the agent runs, the admin policy is active, every home complies |
//! | 1 | healthy, but some home has a violation |
//! | 2 | unhealthy: the agent is not running, no valid admin policy is in force, or watching is degraded |
//!
//! Liveness is the agent's lock on its pid file ([`crate::platform::lock`]), never the pid.

use serde_json::{Map, Value, json};

use crate::app::engine::policy_state::PolicyState;
use crate::platform::lock::Liveness;

/// What health is judged from: the parts of a status snapshot that matter (the snapshot makes
/// them with `Status::facts`).
#[derive(Debug, Clone)]
pub struct Facts<'a> {
    pub policy_state: PolicyState,
    /// Whether policy files are rejected now (else a `last-good` state means the sources hold
    /// no policy any more).
    pub policy_rejected: bool,
    pub revision: &'a str,
    pub mode: &'a str,
    pub watch_degraded: Option<&'a str>,
    pub homes: usize,
    pub homes_with_violations: usize,
    pub violations_24h: usize,
    pub last_full_scan: &'a str,
}

pub const HEALTHY: u8 = 0;
pub const VIOLATIONS: u8 = 1;
pub const UNHEALTHY: u8 = 2;

/// What makes a machine unhealthy, in the order `status` prints them.
pub fn problems(status: Option<&Facts<'_>>, liveness: &Liveness) -> Vec<String> {
    let mut out = Vec::new();
    match liveness {
        Liveness::Running { .. } => {}
        Liveness::NotRunning => out.push("the agent is not running".to_string()),
        Liveness::Unknown { reason } => {
            out.push(format!("cannot tell whether the agent runs: {reason}"))
        }
    }
    let Some(status) = status else {
        out.push("the agent has written no status yet".to_string());
        return out;
    };
    match status.policy_state {
        PolicyState::Active => {}
        PolicyState::LastGood if status.policy_rejected => out.push(
            "the policy files are rejected: the last good policy is still enforced".to_string(),
        ),
        PolicyState::LastGood => out.push(
            "the policy sources hold no policy: the last good policy is still enforced".to_string(),
        ),
        PolicyState::Rejected => out.push(
            "the policy files are rejected and no good policy was ever loaded: nothing is \
             enforced"
                .to_string(),
        ),
        PolicyState::None => out.push("no admin policy is installed".to_string()),
    }
    if let Some(reason) = status.watch_degraded {
        out.push(format!("watching is degraded: {reason}"));
    }
    out
}

/// What is worth saying but does not make the machine unhealthy.
pub fn warnings(status: Option<&Facts<'_>>) -> Vec<String> {
    match status {
        Some(s) if s.homes == 0 => vec![ZERO_HOMES.to_string()],
        _ => Vec::new(),
    }
}

/// A policy whose scope covers nobody enforces nothing, silently.
pub const ZERO_HOMES: &str =
    "no Codex home is in scope: check [scope] min_uid, exclude_users and homes";

/// The exit code of `status`.
pub fn exit_code(status: Option<&Facts<'_>>, liveness: &Liveness) -> u8 {
    if !problems(status, liveness).is_empty() {
        return UNHEALTHY;
    }
    if status.is_some_and(|s| s.homes_with_violations > 0) {
        VIOLATIONS
    } else {
        HEALTHY
    }
}

/// Seconds since an RFC 3339 time, if it parses.
pub fn age_seconds(at: &str, now: jiff::Timestamp) -> Option<i64> {
    let at: jiff::Timestamp = at.parse().ok()?;
    Some(now.duration_since(at).as_secs())
}

/// The flat top-level fields of `status --json`, then the snapshot's own fields (its per-home
/// list under `home_reports`, since `homes` is the count).
pub fn json(
    host: &str,
    status: Option<&Facts<'_>>,
    snapshot: Option<Value>,
    liveness: &Liveness,
    now: jiff::Timestamp,
) -> Value {
    let problems = problems(status, liveness);
    let code = exit_code(status, liveness);
    let mut out = Map::new();
    let mut put = |k: &str, v: Value| {
        out.insert(k.to_string(), v);
    };
    put("host", json!(host));
    put("healthy", json!(problems.is_empty()));
    put("exit_code", json!(code));
    put("agent_running", json!(liveness.is_running()));
    put(
        "agent_pid",
        match liveness {
            Liveness::Running { pid } => json!(pid),
            _ => Value::Null,
        },
    );
    put(
        "policy_state",
        json!(status.map_or("none", |s| s.policy_state.as_str())),
    );
    put("revision", json!(status.map(|s| s.revision)));
    put("mode", json!(status.map(|s| s.mode)));
    put("homes", json!(status.map_or(0, |s| s.homes)));
    put(
        "homes_with_violations",
        json!(status.map_or(0, |s| s.homes_with_violations)),
    );
    put(
        "violations_24h",
        json!(status.map_or(0, |s| s.violations_24h)),
    );
    put(
        "last_scan_age_s",
        json!(status.and_then(|s| age_seconds(s.last_full_scan, now))),
    );
    put("problems", json!(problems));
    put("warnings", json!(warnings(status)));
    if let Some(Value::Object(snapshot)) = snapshot {
        for (key, value) in snapshot {
            let key = if key == "homes" {
                "home_reports".to_string()
            } else {
                key
            };
            out.entry(key).or_insert(value);
        }
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(state: PolicyState, bad: usize, degraded: Option<&'static str>) -> Facts<'static> {
        Facts {
            policy_state: state,
            policy_rejected: matches!(state, PolicyState::LastGood | PolicyState::Rejected),
            revision: "r1",
            mode: "enforce",
            watch_degraded: degraded,
            homes: 3,
            homes_with_violations: bad,
            violations_24h: bad,
            last_full_scan: "2026-11-26T00:00:00Z",
        }
    }

    #[test]
    fn exit_codes_are_distinct() {
        let up = Liveness::Running { pid: Some(7) };
        let ok = facts(PolicyState::Active, 0, None);
        assert_eq!(exit_code(Some(&ok), &up), HEALTHY);
        assert_eq!(
            exit_code(Some(&facts(PolicyState::Active, 2, None)), &up),
            VIOLATIONS
        );
        for unhealthy in [
            facts(PolicyState::Rejected, 0, None),
            facts(PolicyState::LastGood, 0, None),
            facts(PolicyState::None, 0, None),
            facts(PolicyState::Active, 0, Some("inotify watch limit")),
            // Unhealthy outranks violations: the MDM must see the agent is down.
            facts(PolicyState::Active, 2, Some("inotify watch limit")),
        ] {
            assert_eq!(exit_code(Some(&unhealthy), &up), UNHEALTHY, "{unhealthy:?}");
        }
        assert_eq!(exit_code(Some(&ok), &Liveness::NotRunning), UNHEALTHY);
        assert_eq!(exit_code(None, &up), UNHEALTHY);
    }

    #[test]
    fn last_good_says_whether_files_are_rejected_or_gone() {
        let up = Liveness::Running { pid: Some(7) };
        let rejected = facts(PolicyState::LastGood, 0, None);
        let emptied = Facts {
            policy_rejected: false,
            ..facts(PolicyState::LastGood, 0, None)
        };
        assert_eq!(
            problems(Some(&rejected), &up),
            ["the policy files are rejected: the last good policy is still enforced"]
        );
        assert_eq!(
            problems(Some(&emptied), &up),
            ["the policy sources hold no policy: the last good policy is still enforced"]
        );
        assert_eq!(exit_code(Some(&emptied), &up), UNHEALTHY);
    }

    #[test]
    fn json_starts_flat() {
        let now: jiff::Timestamp = "2026-11-26T00:01:40Z".parse().unwrap();
        let value = json(
            "host-1",
            Some(&facts(PolicyState::Active, 1, None)),
            Some(json!({"homes": [1, 2, 3], "policy_revision": "r1"})),
            &Liveness::Running { pid: Some(7) },
            now,
        );
        assert_eq!(value["host"], "host-1");
        assert_eq!(value["agent_running"], true);
        assert_eq!(value["agent_pid"], 7);
        assert_eq!(value["policy_state"], "active");
        assert_eq!(value["homes"], 3);
        assert_eq!(value["home_reports"], json!([1, 2, 3]));
        assert_eq!(value["last_scan_age_s"], 100);
        assert_eq!(value["exit_code"], 1);
    }
}
