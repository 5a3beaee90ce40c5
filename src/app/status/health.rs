//! The health contract, in one place: what state a machine is in, and why, from a status
//! snapshot and the agent's liveness. `status` (its exit code and its JSON), `fleet.json`, and
//! through them the Jamf, Intune and Fleet integrations (packaging/mdm/) read the `health` and
//! `health_reasons` this module decides; none of them re-derives it. docs/fleet.md is its
//! description for admins.
//!
//! | health | exit | when |
//! |---|---|---|
//! | `unhealthy` | 2 | the agent is down, no valid admin policy is in force, the running policy is weaker than its base files, watching is degraded, or the state dir cannot take writes |
//! | `needs-attention` | 1 | otherwise, a home is in violation now, or a violation (home or session), quarantine or termination was recorded in the last 24 hours |
//! | `healthy` | 0 | neither |
//!
//! Each reason has a stable code (`health_reasons`, comma-separated, so every MDM can read it as
//! one string) and a sentence for people. Liveness is the agent's lock on its pid file
//! ([`crate::platform::lock`]), never the pid.

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
    /// Why the state dir cannot take writes, if it cannot.
    pub state_dir_unwritable: Option<String>,
    /// What makes the running policy weaker than its base files ask for.
    pub policy_weakened: &'a [String],
    pub homes: usize,
    pub homes_with_violations: usize,
    pub violations_24h: usize,
    pub quarantined_24h: usize,
    pub terminated_24h: usize,
    pub last_full_scan: Option<jiff::Timestamp>,
}

/// The three states, worst last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Health {
    Healthy,
    NeedsAttention,
    Unhealthy,
}

impl Health {
    pub fn as_str(self) -> &'static str {
        match self {
            Health::Healthy => "healthy",
            Health::NeedsAttention => "needs-attention",
            Health::Unhealthy => "unhealthy",
        }
    }

    /// The exit code of `status`.
    pub fn exit_code(self) -> u8 {
        match self {
            Health::Healthy => HEALTHY,
            Health::NeedsAttention => NEEDS_ATTENTION,
            Health::Unhealthy => UNHEALTHY,
        }
    }
}

pub const HEALTHY: u8 = 0;
pub const NEEDS_ATTENTION: u8 = 1;
pub const UNHEALTHY: u8 = 2;

/// One reason a machine is not healthy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reason {
    /// Stable, kebab-case: what MDM smart groups and queries match on.
    pub code: &'static str,
    /// What it makes the machine.
    pub health: Health,
    /// For people: may name files and counts (never a secret, never a user's home).
    pub text: String,
}

/// Every reason code, with what it makes the machine (docs/fleet.md lists the same).
pub const CODES: &[(&str, Health)] = &[
    ("agent-not-running", Health::Unhealthy),
    ("agent-unknown", Health::Unhealthy),
    ("no-status", Health::Unhealthy),
    ("policy-last-good", Health::Unhealthy),
    ("policy-rejected", Health::Unhealthy),
    ("no-admin-policy", Health::Unhealthy),
    ("policy-weakened", Health::Unhealthy),
    ("watch-degraded", Health::Unhealthy),
    ("state-dir-unwritable", Health::Unhealthy),
    ("homes-in-violation", Health::NeedsAttention),
    ("violations-24h", Health::NeedsAttention),
    ("quarantined-24h", Health::NeedsAttention),
    ("terminated-24h", Health::NeedsAttention),
];

/// A machine's health and every reason for it, unhealthy ones first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assessment {
    pub health: Health,
    pub reasons: Vec<Reason>,
}

impl Assessment {
    /// The reason codes, comma-separated (`""` when healthy): `health_reasons`.
    pub fn codes(&self) -> String {
        let codes: Vec<&str> = self.reasons.iter().map(|r| r.code).collect();
        codes.join(",")
    }

    /// The sentences of the reasons that make it `health`.
    pub fn texts(&self, health: Health) -> Vec<String> {
        self.reasons
            .iter()
            .filter(|r| r.health == health)
            .map(|r| r.text.clone())
            .collect()
    }

    pub fn exit_code(&self) -> u8 {
        self.health.exit_code()
    }
}

/// The health contract: the state of a machine from its snapshot's facts (`None`: no snapshot)
/// and the agent's liveness.
pub fn assess(status: Option<&Facts<'_>>, liveness: &Liveness) -> Assessment {
    let mut reasons = Vec::new();
    let mut say = |code: &'static str, text: String| {
        let health = CODES
            .iter()
            .find(|(c, _)| *c == code)
            .map_or(Health::Unhealthy, |(_, h)| *h);
        reasons.push(Reason { code, health, text });
    };
    match liveness {
        Liveness::Running { .. } => {}
        Liveness::NotRunning => say("agent-not-running", "the agent is not running".into()),
        Liveness::Unknown { reason } => say(
            "agent-unknown",
            format!("cannot tell whether the agent runs: {reason}"),
        ),
    }
    let Some(status) = status else {
        say("no-status", "the agent has written no status yet".into());
        return assessment(reasons);
    };
    match status.policy_state {
        PolicyState::Active => {}
        PolicyState::LastGood if status.policy_rejected => say(
            "policy-last-good",
            "the policy files are rejected: the last good policy is still enforced".into(),
        ),
        PolicyState::LastGood => say(
            "policy-last-good",
            "the policy sources hold no policy: the last good policy is still enforced".into(),
        ),
        PolicyState::Rejected => say(
            "policy-rejected",
            "the policy files are rejected and no good policy was ever loaded: nothing is \
             enforced"
                .into(),
        ),
        PolicyState::NoPolicy => say("no-admin-policy", "no admin policy is installed".into()),
    }
    for weakened in status.policy_weakened {
        say(
            "policy-weakened",
            format!("the running policy is weaker than its base files: {weakened}"),
        );
    }
    if let Some(reason) = status.watch_degraded {
        say("watch-degraded", format!("watching is degraded: {reason}"));
    }
    if let Some(reason) = &status.state_dir_unwritable {
        say(
            "state-dir-unwritable",
            format!("the state dir cannot take writes: {reason}"),
        );
    }
    let counted = [
        (
            "homes-in-violation",
            status.homes_with_violations,
            "Codex homes in violation now",
        ),
        (
            "violations-24h",
            status.violations_24h,
            "violations recorded in the last 24 h (homes and sessions)",
        ),
        (
            "quarantined-24h",
            status.quarantined_24h,
            "credentials quarantined in the last 24 h",
        ),
        (
            "terminated-24h",
            status.terminated_24h,
            "sessions stopped in the last 24 h",
        ),
    ];
    for (code, n, what) in counted {
        if n > 0 {
            say(code, format!("{n} {what}"));
        }
    }
    assessment(reasons)
}

fn assessment(mut reasons: Vec<Reason>) -> Assessment {
    // Unhealthy first, each group in the order found (stable sort).
    reasons.sort_by_key(|r| std::cmp::Reverse(r.health));
    let health = reasons
        .iter()
        .map(|r| r.health)
        .max()
        .unwrap_or(Health::Healthy);
    Assessment { health, reasons }
}

/// What is worth saying but changes no health.
pub fn warnings(status: Option<&Facts<'_>>) -> Vec<String> {
    match status {
        Some(s) if s.homes == 0 => vec![ZERO_HOMES.to_string()],
        _ => Vec::new(),
    }
}

/// A policy whose scope covers nobody enforces nothing, silently.
pub const ZERO_HOMES: &str =
    "no Codex home is in scope: check [scope] min_uid, exclude_users and homes";

/// Seconds since a time, if there is one.
pub fn age_seconds(at: Option<jiff::Timestamp>, now: jiff::Timestamp) -> Option<i64> {
    Some(now.duration_since(at?).as_secs())
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
    let verdict = assess(status, liveness);
    let mut out = Map::new();
    let mut put = |k: &str, v: Value| {
        out.insert(k.to_string(), v);
    };
    let count = |f: fn(&Facts<'_>) -> usize| json!(status.map_or(0, f));
    put("host", json!(host));
    put("health", json!(verdict.health.as_str()));
    put("health_reasons", json!(verdict.codes()));
    put("healthy", json!(verdict.health == Health::Healthy));
    put("exit_code", json!(verdict.exit_code()));
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
    put("homes", count(|s| s.homes));
    put("homes_with_violations", count(|s| s.homes_with_violations));
    put("violations_24h", count(|s| s.violations_24h));
    put("quarantined_24h", count(|s| s.quarantined_24h));
    put("terminated_24h", count(|s| s.terminated_24h));
    put(
        "last_scan_age_s",
        json!(status.and_then(|s| age_seconds(s.last_full_scan, now))),
    );
    put("problems", json!(verdict.texts(Health::Unhealthy)));
    put("attention", json!(verdict.texts(Health::NeedsAttention)));
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
#[path = "health_tests.rs"]
mod tests;
