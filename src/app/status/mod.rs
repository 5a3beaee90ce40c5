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

pub mod degraded;
pub mod fleet;
pub mod health;
pub mod writer;

use std::borrow::Cow;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::app::cli::settings::Settings;
use crate::app::cli::term::{esc, esc_path};
use crate::app::engine::judge::PolicyOrigin;
use crate::app::engine::policy_state::{PolicyState, Rejection};
use crate::app::engine::report::HomeReport;
use crate::core::policy::Mode;
use crate::platform::lock::{self, Liveness};
use crate::platform::safefs::{Dir, FileRead};
use crate::platform::state::{self, STATUS_FILE, USERS_DIR};

/// The last quarantine of a home's credential.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuarantineNote {
    pub vault_id: String,
    pub at: String,
    pub rules: Vec<String>,
    /// How to log in again within the policy, per rule broken (the home itself is compliant
    /// once the credential is out, so its report has no fix left to show).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fixes: Vec<crate::core::fix::Fix>,
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
    /// Why the state dir cannot take writes (full, read-only), as the status writer found when
    /// it last wrote: the vault, the last good policy and these snapshots live there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_dir_unwritable: Option<String>,
    /// Running Codex sessions: how many, which could not be judged, the cost of finding them.
    #[serde(default)]
    pub sessions: SessionsStatus,
}

/// A session the agent could not judge.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct UnknownSession {
    pub pid: u32,
    pub uid: u32,
    pub reason: String,
}

/// What status shows about sessions: how many run, which could not be judged (never counted as
/// compliant), terminations under way, and what finding them costs.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SessionsStatus {
    pub running: usize,
    pub unknown: Vec<UnknownSession>,
    pub terminating: usize,
    pub scan_interval_ms: u64,
    pub process_connector: bool,
    pub last_scan_us: u64,
    /// Why a program that maps a deleted copy of Codex (a loader) is not seen, when it is not:
    /// the agent may not read `/proc/PID/map_files` (no `CAP_CHECKPOINT_RESTORE`, or an old
    /// kernel). Absent when it may.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loaders_unseen: Option<String>,
}

/// The human lines of `status` about sessions.
pub fn print_sessions(sessions: &SessionsStatus) -> anyhow::Result<()> {
    crate::outln!(
        "{} Codex sessions running, {} that cannot be judged (unknown, not compliant)",
        sessions.running,
        sessions.unknown.len()
    );
    for u in &sessions.unknown {
        // Printed for a human: control characters are dropped.
        let reason: String = u.reason.chars().filter(|c| !c.is_control()).collect();
        crate::outln!("  pid {} (uid {}): {reason}", u.pid, u.uid);
    }
    if let Some(why) = &sessions.loaders_unseen {
        crate::outln!("note: {why}");
    }
    Ok(())
}

/// A status snapshot: the admin's (with [`AgentInternals`]) or one user's (without).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Status<'a> {
    #[serde(flatten, default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<AgentInternals>,
    pub version: String,
    pub started_at: jiff::Timestamp,
    pub updated_at: jiff::Timestamp,
    pub policy_name: String,
    pub policy_revision: String,
    pub mode: Mode,
    pub policy_origin: PolicyOrigin,
    pub no_admin_policy: bool,
    /// Which policy situation holds: active, last-good, rejected or none.
    #[serde(default)]
    pub policy_state: PolicyState,
    /// The policy sources' rejection (each file's first error, since when), if rejected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_rejection: Option<Rejection>,
    /// The files (or MDM source) the active policy was loaded from.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub policy_sources: Vec<String>,
    /// `violation` records (homes and sessions) the agent made in the last 24 hours.
    #[serde(default)]
    pub violations_24h: usize,
    /// `quarantined` records the agent made in the last 24 hours.
    #[serde(default)]
    pub quarantined_24h: usize,
    /// `terminated` records (sessions stopped) the agent made in the last 24 hours.
    #[serde(default)]
    pub terminated_24h: usize,
    /// What makes the running policy enforce less than its base files ask for (a later drop-in
    /// lowering `mode`), one `file:line: message` each.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub policy_weakened: Vec<String>,
    /// The policy's `[enforce] message`: what users are told to do.
    pub message: Option<String>,
    /// None (`""` in the file) until the first full scan is done.
    #[serde(with = "empty_if_none")]
    pub last_full_scan: Option<jiff::Timestamp>,
    pub homes: Vec<HomeStatus<'a>>,
}

impl Status<'_> {
    /// What `status` judges health from.
    pub fn facts(&self) -> health::Facts<'_> {
        health::Facts {
            policy_state: self.policy_state,
            policy_rejected: self.policy_rejection.is_some(),
            revision: &self.policy_revision,
            mode: self.mode.as_str(),
            watch_degraded: self
                .agent
                .as_ref()
                .and_then(|a| a.watch_degraded.as_deref()),
            state_dir_unwritable: self
                .agent
                .as_ref()
                .and_then(|a| a.state_dir_unwritable.clone()),
            policy_weakened: &self.policy_weakened,
            homes: self.homes.len(),
            homes_with_violations: self.homes.iter().filter(|h| !h.report.compliant).count(),
            violations_24h: self.violations_24h,
            quarantined_24h: self.quarantined_24h,
            terminated_24h: self.terminated_24h,
            last_full_scan: self.last_full_scan,
        }
    }

    /// The header of a user's view: no agent internals, nothing of the admin's files; the
    /// status writer adds that user's homes.
    pub fn user_header(&self) -> Status<'static> {
        Status {
            agent: None,
            homes: Vec::new(),
            version: self.version.clone(),
            started_at: self.started_at,
            updated_at: self.updated_at,
            policy_name: self.policy_name.clone(),
            policy_revision: self.policy_revision.clone(),
            mode: self.mode,
            policy_origin: self.policy_origin,
            no_admin_policy: self.no_admin_policy,
            policy_state: self.policy_state,
            // Which admin files are broken is the admin's business.
            policy_rejection: None,
            policy_sources: Vec::new(),
            violations_24h: 0,
            quarantined_24h: 0,
            terminated_24h: 0,
            policy_weakened: Vec::new(),
            message: self.message.clone(),
            last_full_scan: self.last_full_scan,
        }
    }
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
    let status = match admin {
        Err(_) if !euid.is_root() => return show_user(settings, euid.as_raw(), json),
        other => {
            other.with_context(|| format!("reading status in {}", settings.state_dir.display()))?
        }
    };
    let (liveness, verdict) = health_of(settings, status.as_ref(), json)?;
    let code = verdict.exit_code();
    if json {
        return Ok(code);
    }
    let Some(status) = &status else {
        crate::outln!(
            "UNHEALTHY: no status in {}: the agent has not run yet (start it with `codex-warden \
             run`)",
            settings.state_dir.display()
        );
        return Ok(code);
    };
    let pid = match &liveness {
        Liveness::Running { pid: Some(pid) } => format!("pid {pid}, "),
        _ => String::new(),
    };
    crate::outln!(
        "agent: {} ({pid}version {}, started {})",
        if liveness.is_running() {
            "running"
        } else {
            "NOT RUNNING"
        },
        status.version,
        status.started_at
    );
    print_policy(status)?;
    crate::outln!(
        "last full scan: {}, updated {}",
        status
            .last_full_scan
            .map_or_else(String::new, |t| t.to_string()),
        status.updated_at
    );
    if let Some(reason) = status
        .agent
        .as_ref()
        .and_then(|a| a.watch_degraded.as_ref())
    {
        crate::outln!("watch degraded: {}", esc(reason));
    }
    let bad: Vec<&HomeReport> = status
        .homes
        .iter()
        .map(|h| h.report.as_ref())
        .filter(|r| !r.compliant)
        .collect();
    crate::outln!(
        "{} Codex homes, {} with violations, {} violations recorded in the last 24 h",
        status.homes.len(),
        bad.len(),
        status.violations_24h
    );
    for r in bad {
        let rules: Vec<&str> = r.verdict.rules().iter().map(|r| r.code()).collect();
        crate::outln!(
            "  {} ({}): {}",
            esc_path(&r.codex_home),
            esc(r.user.as_deref().unwrap_or("-")),
            rules.join(", ")
        );
    }
    if let Some(agent) = &status.agent {
        print_sessions(&agent.sessions)?;
    }
    for warning in health::warnings(Some(&status.facts())) {
        crate::outln!("warning: {warning}");
    }
    // Reasons name files and kernel messages: escaped for the terminal.
    let line = |texts: Vec<String>| esc(texts.join("; "));
    match verdict.health {
        health::Health::Healthy => crate::outln!("health: healthy"),
        health::Health::NeedsAttention => crate::outln!(
            "health: NEEDS ATTENTION: {}",
            line(verdict.texts(health::Health::NeedsAttention))
        ),
        health::Health::Unhealthy => {
            crate::outln!(
                "health: UNHEALTHY: {}",
                line(verdict.texts(health::Health::Unhealthy))
            );
            let attention = verdict.texts(health::Health::NeedsAttention);
            if !attention.is_empty() {
                crate::outln!("also: {}", line(attention));
            }
        }
    }
    Ok(code)
}

/// What `status` knows at read time that the snapshot cannot say: a state dir that became
/// read-only or full since the agent last wrote (it could not write that it cannot write).
fn probe_state_dir(settings: &Settings, facts: &mut health::Facts<'_>) {
    if facts.state_dir_unwritable.is_none() {
        facts.state_dir_unwritable = state::unwritable(&settings.state_dir);
    }
}

/// The agent's liveness and the health verdict for a snapshot (the admin's or a user's); with
/// `json`, the flat health document is printed too.
fn health_of(
    settings: &Settings,
    status: Option<&Status<'_>>,
    json: bool,
) -> Result<(Liveness, health::Assessment)> {
    let liveness = lock::probe(&settings.state_dir);
    let mut facts = status.map(Status::facts);
    if let Some(facts) = &mut facts
        && status.is_some_and(|s| s.agent.is_some())
    {
        probe_state_dir(settings, facts);
    }
    let verdict = health::assess(facts.as_ref(), &liveness);
    if json {
        let snapshot = status.map(serde_json::to_value).transpose()?;
        let value = health::json(
            &crate::platform::audit::hostname(),
            facts.as_ref(),
            snapshot,
            &liveness,
            jiff::Timestamp::now(),
        );
        crate::outln!("{}", serde_json::to_string_pretty(&value)?);
    }
    Ok((liveness, verdict))
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
    let (liveness, verdict) = health_of(settings, view.as_ref(), json)?;
    let code = verdict.exit_code();
    if json {
        return Ok(code);
    }
    let Some(view) = view else {
        crate::outln!(
            "codex-warden has no Codex home of yours on record ({} does not exist or the \
             agent has not run since you signed in).",
            path.display()
        );
        return Ok(code);
    };
    if !liveness.is_running() {
        crate::outln!("agent: NOT RUNNING (what follows is what it last saw)");
    }
    print_policy(&view)?;
    let mut any_bad = false;
    for h in &view.homes {
        let home = esc_path(&h.report.codex_home);
        if h.report.compliant {
            crate::outln!("ok: {home}");
        } else {
            any_bad = true;
            crate::outln!("NOT ALLOWED: {home}");
            for v in &h.report.verdict.violations {
                crate::outln!("  {}: {}", v.rule, esc(&v.evidence));
            }
            for f in &h.report.fixes {
                crate::outln!("  fix ({}): {}", f.rule, f.fix);
            }
        }
        if let Some(q) = &h.last_quarantine {
            crate::outln!(
                "  codex-warden moved your Codex credential out of {home} at {} ({}); vault id {}",
                q.at,
                q.rules.join(", "),
                q.vault_id
            );
            for f in &q.fixes {
                crate::outln!("  fix ({}): {}", f.rule, esc(&f.fix));
            }
            any_bad = true;
        }
    }
    if any_bad && let Some(message) = &view.message {
        crate::outln!("\nHow to fix it:\n{}", message.trim_end());
    }
    Ok(code)
}

fn print_policy(status: &Status<'_>) -> Result<()> {
    let origin = serde_json::to_value(status.policy_origin)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    crate::outln!(
        "policy: {} revision {} ({} mode, {origin})",
        status.policy_name,
        status.policy_revision,
        status.mode.as_str(),
    );
    crate::outln!("policy state: {}", status.policy_state.as_str());
    if !status.policy_sources.is_empty() {
        crate::outln!("policy sources: {}", status.policy_sources.join(", "));
    }
    if let Some(rejection) = &status.policy_rejection {
        crate::outln!("POLICY REJECTED since {}:", rejection.since);
        for line in rejection.lines() {
            crate::outln!("  {line}");
        }
    }
    if status.no_admin_policy {
        crate::outln!("WARNING: no admin policy is installed; the built-in baseline only records");
    }
    Ok(())
}

/// A time that may not be known yet, written as `""` then (as status files always said).
mod empty_if_none {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &Option<jiff::Timestamp>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.collect_str(t),
            None => s.serialize_str(""),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<jiff::Timestamp>, D::Error> {
        let text = String::deserialize(d)?;
        if text.is_empty() {
            return Ok(None);
        }
        text.parse().map(Some).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests;
