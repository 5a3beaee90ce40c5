//! What one audit record says: its event, its fields and the context stamped into it. The
//! writer ([`crate::platform::audit::writer`]) chains and signs records; the verifier
//! ([`crate::platform::audit::verify`]) reads them back.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::core::evaluate::Violation;
use crate::core::observe::auth::CredentialSummary;

pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The events of the audit log, as docs/reference/audit.md names them (a test keeps the two in
/// step).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
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

/// The per-event fields of a record; the chain fields are added by [`AuditLog::append`].
#[derive(Debug, Clone, Default, Serialize)]
pub struct Fields {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uid: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub codex_home: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credential: Option<CredentialSummary>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<Violation>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pid: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vault_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Anything else an event needs (policy sources, diagnostics counts, …).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Fields {
    pub fn with(mut self, key: &str, value: impl Serialize) -> Self {
        if let Ok(v) = serde_json::to_value(value) {
            self.extra.insert(key.to_string(), v);
        }
        self
    }
}

/// The context stamped into every record.
#[derive(Debug, Clone)]
pub struct Stamp {
    pub policy_revision: String,
    pub mode: String,
}

/// Short host name, for the `host` field.
pub fn hostname() -> String {
    rustix::system::uname()
        .nodename()
        .to_string_lossy()
        .into_owned()
}

#[cfg(test)]
#[path = "record_tests.rs"]
mod tests;
