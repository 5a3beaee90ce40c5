//! The names of the audit log's events (a record's `event` member), for whoever reads records:
//! the OCSF projection, syslog severities, review filters. What each event carries is typed in
//! `platform/audit/event.rs`.

use serde::{Deserialize, Serialize};

/// The name of an event: the record's `event` member.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    AgentStarted,
    AgentStopped,
    PolicyLoaded,
    PolicyRejected,
    Violation,
    Quarantined,
    PermissionsFixed,
    /// A running session stopped (or found gone) after it broke the policy.
    Terminated,
    Restored,
    /// Codex's requirements.toml (and managed_config.toml) rewritten to match the policy.
    NativeRequirementsWritten,
    /// Files the agent keeps changed behind its back: Codex's requirements, the audit log
    /// against its anchor.
    TamperDetected,
    EnforcementFailed,
    WatchDegraded,
    Checkpoint,
    LogRotated,
    /// `[vault]` retention deleted a vault entry.
    VaultPruned,
    /// At start: the previous run of the agent ended without `agent_stopped` (kill -9, a crash,
    /// a power loss).
    AgentUncleanStop,
}

impl EventKind {
    pub const ALL: [EventKind; 17] = [
        EventKind::AgentStarted,
        EventKind::AgentStopped,
        EventKind::PolicyLoaded,
        EventKind::PolicyRejected,
        EventKind::Violation,
        EventKind::Quarantined,
        EventKind::PermissionsFixed,
        EventKind::Terminated,
        EventKind::Restored,
        EventKind::NativeRequirementsWritten,
        EventKind::TamperDetected,
        EventKind::EnforcementFailed,
        EventKind::WatchDegraded,
        EventKind::Checkpoint,
        EventKind::LogRotated,
        EventKind::VaultPruned,
        EventKind::AgentUncleanStop,
    ];
}

impl EventKind {
    /// The event a record names, if it is one of these.
    pub fn of(record: &serde_json::Value) -> Option<EventKind> {
        EventKind::deserialize(record.get("event")?).ok()
    }
}
