//! What an audit record says, typed: one [`Event`] variant per `event` name, each with the
//! members that event carries (docs/reference/audit.md lists them). Serialised with serde into
//! the members of the record, after its chain head (`seq`, `time`, …) and in the writer's order
//! (sorted by name): the JSON is what the agent wrote before events were typed, byte for byte
//! (tests/audit_fixture.rs holds a log recorded then).
//!
//! Optional members are left out when absent, never written as `null`; lists that say nothing
//! when empty (`rules`, `evidence`, `superseded`) are left out when empty.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

pub use crate::core::audit_event::EventKind;
use crate::core::evaluate::Violation;
use crate::core::observe::auth::CredentialSummary;
use crate::core::policy_origin::PolicyOrigin;
use crate::core::vault_retention::{PruneReason, VaultRetention};
use crate::platform::last_good::StoredSource;
use crate::platform::vault::SupersededCredential;

/// One audited event with its members.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    AgentStarted(AgentStarted),
    AgentStopped(AgentStopped),
    AgentUncleanStop(AgentUncleanStop),
    PolicyLoaded(PolicyLoaded),
    PolicyRejected(PolicyRejected),
    /// A Codex home, or a running session, breaks the policy.
    Violation(Violated),
    /// A credential moved out of its home (into the vault, or aside).
    Quarantined(HomeAction),
    PermissionsFixed(HomeAction),
    /// One process of a violating session ended, or was killed.
    Terminated(Terminated),
    Restored(Restored),
    NativeRequirementsWritten(RequirementsWritten),
    TamperDetected(Tamper),
    /// An action that could not be done.
    EnforcementFailed(Failure),
    WatchDegraded(WatchDegraded),
    Checkpoint(Checkpoint),
    LogRotated(LogRotated),
    VaultPruned(VaultPruned),
}

impl Event {
    pub fn kind(&self) -> EventKind {
        match self {
            Event::AgentStarted(_) => EventKind::AgentStarted,
            Event::AgentStopped(_) => EventKind::AgentStopped,
            Event::AgentUncleanStop(_) => EventKind::AgentUncleanStop,
            Event::PolicyLoaded(_) => EventKind::PolicyLoaded,
            Event::PolicyRejected(_) => EventKind::PolicyRejected,
            Event::Violation(_) => EventKind::Violation,
            Event::Quarantined(_) => EventKind::Quarantined,
            Event::PermissionsFixed(_) => EventKind::PermissionsFixed,
            Event::Terminated(_) => EventKind::Terminated,
            Event::Restored(_) => EventKind::Restored,
            Event::NativeRequirementsWritten(_) => EventKind::NativeRequirementsWritten,
            Event::TamperDetected(_) => EventKind::TamperDetected,
            Event::EnforcementFailed(_) => EventKind::EnforcementFailed,
            Event::WatchDegraded(_) => EventKind::WatchDegraded,
            Event::Checkpoint(_) => EventKind::Checkpoint,
            Event::LogRotated(_) => EventKind::LogRotated,
            Event::VaultPruned(_) => EventKind::VaultPruned,
        }
    }

    /// Whose Codex home the event is about, if anyone's.
    pub fn subject(&self) -> Option<&Subject> {
        match self {
            Event::Violation(f) => Some(&f.subject),
            Event::Quarantined(a) | Event::PermissionsFixed(a) => Some(&a.subject),
            Event::Terminated(t) => Some(&t.session.subject),
            Event::Restored(r) => Some(&r.subject),
            Event::EnforcementFailed(f) => Some(&f.subject),
            Event::VaultPruned(p) => Some(&p.subject),
            _ => None,
        }
    }
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// A member that is there, even as `null` (`Some(None)`); absent is `None` (by `default`).
fn present<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(d).map(Some)
}

/// Whose Codex home, and which: `user`, `uid`, `codex_home`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subject {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub codex_home: Option<PathBuf>,
}

/// A running session the policy judged: its owner and home, its process, the rules it breaks.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionSubject {
    #[serde(flatten)]
    pub subject: Subject,
    pub pid: u32,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<String>,
    /// `session-mount-namespace` when the home was read through the session's own mount
    /// namespace (its path means something else, or nothing, on the host).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub home_in: Option<HomeIn>,
    /// The process's own uid when it is a subordinate uid of the user (`uid`) it is judged as
    /// (a user namespace of their own: [`crate::core::subordinate`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub process_uid: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HomeIn {
    SessionMountNamespace,
}

/// The `action` member: what the agent did, or would have done, about a finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    Record,
    Quarantine,
    FixPermissions,
    Terminate,
    Restore,
    NativeRequirements,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentStarted {
    pub pid: u32,
    pub version: String,
    pub policy_origin: PolicyOrigin,
    pub policy_dir: PathBuf,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentStopped {
    pub pid: u32,
}

/// What the previous run's marker and the audit log still know about a run that did not stop.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentUncleanStop {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_pid: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_started_at: Option<jiff::Timestamp>,
    /// The `time` of the last record of the previous run, as written there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_record_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_record_seq: Option<u64>,
}

/// A policy took effect: an admin policy just loaded (`sources`, `warnings`), or the last good
/// one or the baseline (`no_admin_policy`; `sources` and `no_policy_sources` when every source
/// was removed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyLoaded {
    pub policy_name: String,
    pub origin: PolicyOrigin,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sources: Option<Vec<StoredSource>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warnings: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_admin_policy: Option<bool>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub no_policy_sources: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyRejected {
    pub sources: Vec<StoredSource>,
    pub diagnostics: Vec<RejectedDiagnostic>,
    pub kept: PolicyOrigin,
    pub kept_revision: String,
}

/// One error of a rejected policy. A problem with the whole file has no `line` and `column`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RejectedDiagnostic {
    /// The diagnostic's stable code (`policy.unknown-key`, …).
    pub code: String,
    pub file: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<usize>,
}

/// `violation`: a home's credential or config, or a running session, breaks the policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violated {
    #[serde(flatten)]
    pub subject: Subject,
    /// The session's process (a session's violation only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<u32>,
    /// The session process's own uid when it is a subordinate uid of the user it is judged as.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub process_uid: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential: Option<CredentialSummary>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<Violation>,
    pub action: Action,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exceptions_applied: Option<Vec<String>>,
    /// The session's subcommand (`exec`, `app-server`, …; `null` for the interactive one).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub session: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub home_in: Option<HomeIn>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unjudged: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub codex_version: Option<String>,
}

/// `quarantined` and `permissions_fixed`: what was done to a home's credential.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HomeAction {
    #[serde(flatten)]
    pub subject: Subject,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential: Option<CredentialSummary>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<String>,
    #[serde(flatten)]
    pub done: Done,
    /// Each earlier content the vault entry keeps (`superseded-N.json`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub superseded: Vec<SupersededCredential>,
    /// The notice the home's owner was told.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(flatten)]
    pub recovery: Recovery,
}

/// An action and how it ended: `action`, `outcome`, `vault_id`, `error`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Done {
    pub action: Action,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vault_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A move a crash or a full disk interrupted, finished later: `recovered`, and the vault
/// decision it finished.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recovery {
    #[serde(default, skip_serializing_if = "is_false")]
    pub recovered: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<String>,
}

/// `enforcement_failed`: an action on a home, a session, Codex's requirements or a restore that
/// could not be done.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    #[serde(flatten)]
    pub subject: Subject,
    /// The session's process, when stopping a session is what failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential: Option<CredentialSummary>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub home_in: Option<HomeIn>,
    #[serde(flatten)]
    pub done: Done,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub superseded: Vec<SupersededCredential>,
    #[serde(flatten)]
    pub recovery: Recovery,
}

/// `terminated`: one process of a violating session, and how it ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Terminated {
    #[serde(flatten)]
    pub session: SessionSubject,
    pub action: Action,
    pub role: Role,
    /// Where the user was told: `terminal`, `desktop`, `terminal, desktop` or `none`.
    pub user_told: String,
    pub message: String,
    /// `SIGTERM`, `SIGKILL`, or `none` when it was gone before its signal.
    pub signal: String,
    pub outcome: String,
}

/// Which process of a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    Session,
    NpmWrapper,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Restored {
    #[serde(flatten)]
    pub subject: Subject,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential: Option<CredentialSummary>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<String>,
    #[serde(flatten)]
    pub done: Done,
    /// `--force`: restored although the running policy forbids it, by these rules.
    #[serde(default, skip_serializing_if = "is_false")]
    pub forced: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forbidden_by: Option<Vec<String>>,
}

/// `native_requirements_written`: Codex's requirements.toml or managed_config.toml brought in
/// step with the policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequirementsWritten {
    pub path: PathBuf,
    /// `written` or `removed`.
    pub action: String,
    pub keys: Vec<String>,
    pub admin_keys: Vec<String>,
    pub not_rendered: Vec<String>,
    /// Rendered keys that a Codex version seen on the machine does not enforce (absent when
    /// every version does, as in logs written before versions were told apart).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_honoured: Vec<String>,
}

/// `tamper_detected`: the audit log does not end where its anchor says (or ends in junk), or a
/// file the agent keeps (Codex's requirements) was changed behind its back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Tamper {
    File(FileTamper),
    Log(LogTamper),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileTamper {
    pub path: PathBuf,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogTamper {
    pub tamper: LogTamperKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub junk_lines: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub junk_bytes: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_file: Option<PathBuf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anchor_seq: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub found_seq: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub missing_from_seq: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub missing_to_seq: Option<u64>,
}

impl LogTamper {
    pub fn new(tamper: LogTamperKind) -> LogTamper {
        LogTamper {
            tamper,
            detail: None,
            junk_lines: None,
            junk_bytes: None,
            previous_file: None,
            anchor_seq: None,
            found_seq: None,
            missing_from_seq: None,
            missing_to_seq: None,
        }
    }
}

/// What the writer found wrong with the end of the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogTamperKind {
    Truncated,
    Emptied,
    Replaced,
    Junk,
    AnchorMissing,
    CopytruncateLostRecords,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WatchDegraded {
    pub reason: String,
    /// What the agent does about it (`full rescan` after lost events).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remedy: Option<String>,
    /// Users whose processes name more Codex homes than are watched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub users: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unwatched_dirs: Option<Vec<PathBuf>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub files: Vec<CheckpointFile>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retained_from_seq: Option<u64>,
}

/// One file of the log at a checkpoint, and its size.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckpointFile {
    pub file: PathBuf,
    pub bytes: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogRotated {
    pub rotation: Rotation,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_file: Option<PathBuf>,
    pub previous_seq: u64,
    /// Rotated files deleted past `[audit] keep` (size rotation only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expired_files: Option<Vec<PathBuf>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retained_from_seq: Option<u64>,
}

/// Who rotated the log: the agent by size, or logrotate (`create` renames, `copytruncate`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rotation {
    Size,
    Renamed,
    Copytruncate,
}

/// `vault_pruned`: `[vault]` retention deleted a vault entry (recorded before the deletion).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VaultPruned {
    #[serde(flatten)]
    pub subject: Subject,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential: Option<CredentialSummary>,
    pub vault_id: String,
    pub reason: PruneReason,
    pub quarantined_at: jiff::Timestamp,
    pub sha256: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub superseded: Vec<SupersededCredential>,
    pub retention: VaultRetention,
}

/// What the writer and the backlog add to an event's record: a torn record cut off before it,
/// the first signed record after unsigned ones, when a record that waited for room happened and
/// how many were dropped before it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notes {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovered_torn_bytes: Option<u64>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub keying_started: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub happened_at: Option<jiff::Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub records_dropped_before: Option<u64>,
}

impl Notes {
    /// Take what `other` says where this says nothing.
    pub fn merge(&mut self, other: Notes) {
        self.recovered_torn_bytes = self.recovered_torn_bytes.or(other.recovered_torn_bytes);
        self.keying_started |= other.keying_started;
        self.happened_at = self.happened_at.or(other.happened_at);
        self.records_dropped_before = self.records_dropped_before.or(other.records_dropped_before);
    }
}

impl From<crate::core::plan::PlannedAction> for Action {
    fn from(action: crate::core::plan::PlannedAction) -> Action {
        match action {
            crate::core::plan::PlannedAction::Record => Action::Record,
            crate::core::plan::PlannedAction::Quarantine => Action::Quarantine,
            crate::core::plan::PlannedAction::FixPermissions => Action::FixPermissions,
        }
    }
}

impl Done {
    /// An action, its outcome not said yet.
    pub fn new(action: Action) -> Done {
        Done {
            action,
            outcome: None,
            vault_id: None,
            error: None,
        }
    }

    pub fn failed(action: Action, error: String) -> Done {
        Done {
            error: Some(error),
            ..Done::new(action)
        }
    }
}

impl HomeAction {
    /// The record of this action: `quarantined`, `permissions_fixed`, or (`kind`
    /// `enforcement_failed`) the failure.
    pub fn into_event(self, kind: EventKind) -> Event {
        match kind {
            EventKind::EnforcementFailed => Event::EnforcementFailed(Failure {
                subject: self.subject,
                pid: None,
                credential: self.credential,
                rules: self.rules,
                home_in: None,
                done: self.done,
                superseded: self.superseded,
                recovery: self.recovery,
            }),
            EventKind::PermissionsFixed => Event::PermissionsFixed(self),
            _ => Event::Quarantined(self),
        }
    }
}

impl Failure {
    /// An action about no home that failed (Codex's requirements, a restore).
    pub fn of(done: Done) -> Failure {
        Failure {
            subject: Subject::default(),
            pid: None,
            credential: None,
            rules: Vec::new(),
            home_in: None,
            done,
            superseded: Vec::new(),
            recovery: Recovery::default(),
        }
    }
}
