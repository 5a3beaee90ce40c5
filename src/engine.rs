//! The engine: one place that turns a Codex home into a judged, enforced, recorded outcome.
//!
//! `check` and `run` share it. It owns the active policy (admin, last good, or the built-in
//! baseline), the audit log and the vault; it reads homes through [`crate::inventory`], judges with
//! [`crate::evaluate`], plans with [`crate::plan`] and acts through [`crate::vault`].

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Result;
use serde::Serialize;
use serde_json::json;

use crate::audit::{AuditLog, Event, Fields, Stamp};
use crate::evaluate::{self, Verdict};
use crate::inventory::{self, PasswdFile, Processes, SystemProcesses, SystemUsers, UserDb};
use crate::observe::auth::CredentialSummary;
use crate::observe::{AuthState, CodexHome, Observation};
use crate::plan::{self, Action};
use crate::policy::Policy;
use crate::policy::load::{self, LoadOutcome};
use crate::policy::store::{self, StoredSource};
use crate::safefs::Dir;
use crate::settings::Settings;
use crate::vault::{AUTH_FILE, Quarantined, Reason, Vault};

/// Where the active policy came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PolicyOrigin {
    /// Loaded from the policy dir (and managed preferences) just now.
    Admin,
    /// The policy dir is invalid or empty: the last good policy from the state dir.
    LastGood,
    /// No admin policy was ever loaded: the built-in monitor-mode baseline.
    Baseline,
}

#[derive(Debug, Clone)]
pub struct ActivePolicy {
    pub policy: Policy,
    pub origin: PolicyOrigin,
    pub sources: Vec<StoredSource>,
}

/// What a policy (re)load did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyChange {
    Unchanged,
    Loaded,
    Rejected,
}

/// The outcome of one action.
#[derive(Debug, Clone, Serialize)]
pub struct ActionOutcome {
    pub action: Action,
    pub outcome: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vault_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The judged state of one home, as `check` prints it and `status` stores it.
#[derive(Debug, Clone, Serialize)]
pub struct HomeReport {
    pub codex_home: PathBuf,
    pub user: Option<String>,
    pub uid: Option<u32>,
    pub compliant: bool,
    pub auth: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credential: Option<CredentialSummary>,
    pub verdict: Verdict,
    pub planned: Vec<Action>,
    pub actions: Vec<ActionOutcome>,
}

pub struct Engine {
    pub settings: Settings,
    pub users: Box<dyn UserDb>,
    pub processes: Box<dyn Processes>,
    pub active: ActivePolicy,
    /// Present when the engine may act and record (`run`, `check --enforce`).
    audit: Option<AuditLog>,
    vault: Option<Vault>,
    /// Digest of the policy sources last loaded or rejected, to act once per change.
    loaded_digest: Option<String>,
    rejected_digest: Option<String>,
    /// Per home, what was last recorded, so the periodic scan does not repeat itself.
    last_recorded: HashMap<PathBuf, String>,
    /// Records that could not be written yet (a full disk), oldest first.
    backlog: RefCell<Vec<(Event, Stamp, Fields)>>,
    dropped: Cell<u64>,
}

/// Records kept in memory while the audit log cannot be written; beyond this the oldest go, and
/// the next record written says how many.
const MAX_BACKLOG: usize = 10_000;

impl Engine {
    /// An engine that reads but never writes (plain `check`, `simulate`).
    pub fn read_only(settings: Settings) -> Result<Engine> {
        Self::new(settings, false)
    }

    /// An engine that acts and records.
    pub fn acting(settings: Settings) -> Result<Engine> {
        Self::new(settings, true)
    }

    fn new(settings: Settings, acting: bool) -> Result<Engine> {
        let users: Box<dyn UserDb> = match &settings.passwd_file {
            Some(path) => Box::new(PasswdFile::load(path)?),
            None => Box::new(SystemUsers),
        };
        let (audit, vault) = if acting {
            (
                Some(AuditLog::open(&settings.audit_log)?),
                Some(Vault::open(&settings.state_dir)?),
            )
        } else {
            (None, None)
        };
        let active = ActivePolicy {
            policy: Policy::baseline(),
            origin: PolicyOrigin::Baseline,
            sources: Vec::new(),
        };
        Ok(Engine {
            settings,
            users,
            processes: Box::new(SystemProcesses),
            active,
            audit,
            vault,
            loaded_digest: None,
            rejected_digest: None,
            last_recorded: HashMap::new(),
            backlog: RefCell::new(Vec::new()),
            dropped: Cell::new(0),
        })
    }

    pub fn stamp(&self) -> Stamp {
        Stamp {
            policy_revision: self.active.policy.revision.clone(),
            mode: self.active.policy.mode.as_str().to_string(),
        }
    }

    /// Append an audit record, if this engine records. A record that cannot be written (a full
    /// disk) is kept in memory, with the time it happened, and appended before the next one, so
    /// the log stays complete and in order once there is room again. The action it describes has
    /// already happened and is not undone.
    pub fn record(&self, event: Event, fields: Fields) {
        if self.audit.is_none() {
            return;
        }
        let waiting = !self.backlog.borrow().is_empty();
        if !waiting && self.append(event, &self.stamp(), fields.clone()) {
            return;
        }
        let mut backlog = self.backlog.borrow_mut();
        if backlog.len() >= MAX_BACKLOG {
            backlog.remove(0);
            self.dropped.set(self.dropped.get() + 1);
        }
        let happened_at = jiff::Timestamp::now().to_string();
        backlog.push((event, self.stamp(), fields.with("happened_at", happened_at)));
        drop(backlog);
        if waiting {
            self.flush_backlog();
        }
    }

    /// Append every pending record, oldest first; stop at the first failure.
    pub fn flush_backlog(&self) {
        loop {
            let Some((event, stamp, mut fields)) = self.backlog.borrow().first().cloned() else {
                return;
            };
            if self.dropped.get() > 0 {
                fields = fields.with("records_dropped_before", self.dropped.get());
            }
            if !self.append(event, &stamp, fields) {
                return;
            }
            self.backlog.borrow_mut().remove(0);
            self.dropped.set(0);
        }
    }

    fn append(&self, event: Event, stamp: &Stamp, fields: Fields) -> bool {
        let Some(audit) = &self.audit else {
            return false;
        };
        match audit.append(event, stamp, fields) {
            Ok(_) => true,
            Err(e) => {
                tracing::error!(
                    event = ?event,
                    error = %format!("{e:#}"),
                    "cannot write the audit log; the record is kept in memory until it can be"
                );
                false
            }
        }
    }

    pub fn load_outcome(&self) -> LoadOutcome {
        load::load_dir(
            &self.settings.policy_dir,
            self.settings.managed_prefs.as_deref(),
        )
    }

    /// Load the policy sources and decide what runs. On the first load (`initial`), an invalid or
    /// empty policy dir falls back to the last good policy, else to the baseline; later, it
    /// leaves the running policy alone.
    pub fn load_policy(&mut self, initial: bool) -> PolicyChange {
        let outcome = self.load_outcome();
        let sources: Vec<StoredSource> = outcome
            .source_info
            .iter()
            .map(|s| StoredSource {
                name: s.name.clone(),
                sha256: s.sha256.clone(),
            })
            .collect();
        let digest = store::digest(&sources);
        let errors: Vec<_> = outcome
            .diagnostics
            .iter()
            .filter(|d| d.severity == crate::policy::diag::Severity::Error)
            .collect();
        if let Some(policy) = outcome.policy.clone() {
            if self.loaded_digest.as_deref() == Some(digest.as_str())
                && self.active.origin == PolicyOrigin::Admin
            {
                return PolicyChange::Unchanged;
            }
            for d in &outcome.diagnostics {
                tracing::warn!(code = d.code, file = %d.file, line = d.line, "{}", d.message);
            }
            self.active = ActivePolicy {
                policy,
                origin: PolicyOrigin::Admin,
                sources: sources.clone(),
            };
            self.loaded_digest = Some(digest);
            self.rejected_digest = None;
            if self.audit.is_some()
                && let Err(e) = store::save(&self.settings.state_dir, &self.active.policy, &sources)
            {
                tracing::error!(error = %format!("{e:#}"), "cannot persist the last good policy");
            }
            tracing::info!(
                name = %self.active.policy.name,
                revision = %self.active.policy.revision,
                mode = self.active.policy.mode.as_str(),
                "policy loaded"
            );
            self.record(
                Event::PolicyLoaded,
                Fields::default()
                    .with("policy_name", &self.active.policy.name)
                    .with("origin", PolicyOrigin::Admin)
                    .with("sources", &sources)
                    .with("warnings", outcome.diagnostics.len()),
            );
            return PolicyChange::Loaded;
        }

        let rejected = !errors.is_empty();
        if rejected {
            if self.rejected_digest.as_deref() == Some(digest.as_str()) {
                return PolicyChange::Unchanged;
            }
            self.rejected_digest = Some(digest);
            let rendered =
                crate::policy::diag::render_human(&outcome.diagnostics, &outcome.sources);
            tracing::error!(
                "policy rejected; keeping the {} policy\n{rendered}",
                if initial { "last good" } else { "running" }
            );
        }
        if initial {
            self.active = match store::load(&self.settings.state_dir) {
                Ok(Some(stored)) => ActivePolicy {
                    policy: stored.policy,
                    origin: PolicyOrigin::LastGood,
                    sources: stored.sources,
                },
                Ok(None) => self.active.clone(),
                Err(e) => {
                    tracing::error!(error = %format!("{e:#}"), "the last good policy cannot be read; using the baseline");
                    self.active.clone()
                }
            };
        }
        if rejected {
            let diagnostics: Vec<_> = errors
                .iter()
                .map(|d| {
                    json!({"code": d.code, "file": d.file, "line": d.line, "column": d.column, "message": d.message})
                })
                .collect();
            self.record(
                Event::PolicyRejected,
                Fields::default()
                    .with("sources", &sources)
                    .with("diagnostics", diagnostics)
                    .with("kept", self.active.origin)
                    .with("kept_revision", &self.active.policy.revision),
            );
            return PolicyChange::Rejected;
        }
        if initial {
            if self.active.origin == PolicyOrigin::Baseline {
                tracing::warn!(
                    policy_dir = %self.settings.policy_dir.display(),
                    "no admin policy installed: running the built-in baseline in monitor mode"
                );
            }
            self.record(
                Event::PolicyLoaded,
                Fields::default()
                    .with("policy_name", &self.active.policy.name)
                    .with("origin", self.active.origin)
                    .with(
                        "no_admin_policy",
                        self.active.origin == PolicyOrigin::Baseline,
                    ),
            );
            return PolicyChange::Loaded;
        }
        PolicyChange::Unchanged
    }

    /// Every Codex home in scope now.
    pub fn discover(&self) -> Vec<CodexHome> {
        inventory::discover(
            &self.active.policy.scope,
            self.users.as_ref(),
            self.processes.as_ref(),
        )
    }

    /// Read a home, waiting out a half-written file for at most the settle window (for one-shot
    /// commands; the agent schedules its retries instead of sleeping).
    pub fn observe_settled(&self, home: &CodexHome) -> Observation {
        let deadline = Instant::now() + self.settings.settle;
        loop {
            let reading = inventory::observe(home);
            if !reading.unsettled || Instant::now() >= deadline {
                return reading.observation;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// Finish quarantines that a crash or a full disk interrupted, in every home.
    pub fn recover(&self, homes: &[CodexHome]) {
        let Some(vault) = &self.vault else { return };
        for home in homes {
            let reason = Reason {
                user: home.user.as_deref(),
                uid: home.uid,
                violations: &[],
                credential: None,
                policy_revision: &self.active.policy.revision,
            };
            match vault.recover_aside(home, &reason) {
                Ok(done) => {
                    for q in done {
                        let outcome = self.quarantine_outcome(q);
                        self.record(
                            Event::Quarantined,
                            self.home_fields(home, None)
                                .with("recovered", true)
                                .with_outcome(&outcome),
                        );
                    }
                }
                Err(e) => {
                    tracing::warn!(home = %home.path.display(), error = %format!("{e:#}"), "cannot finish an interrupted quarantine")
                }
            }
        }
    }

    fn home_fields(&self, home: &CodexHome, credential: Option<CredentialSummary>) -> Fields {
        Fields {
            user: home.user.clone(),
            uid: home.uid,
            codex_home: Some(home.path.clone()),
            credential,
            ..Fields::default()
        }
    }

    /// Judge one observation: evaluate, plan, act (when allowed), record.
    pub fn judge(&mut self, obs: Observation, act: bool) -> HomeReport {
        let policy = &self.active.policy;
        let verdict = evaluate::evaluate(policy, &obs, jiff::Timestamp::now());
        let planned = plan::plan(policy, &obs, &verdict);
        let credential = match &obs.auth {
            AuthState::Present { credential, .. } => Some(credential.summary()),
            _ => None,
        };
        let auth = match &obs.auth {
            AuthState::Absent => "absent",
            AuthState::Present { .. } => "present",
            AuthState::Unreadable { .. } => "unreadable",
        };
        let mut report = HomeReport {
            codex_home: obs.home.path.clone(),
            user: obs.home.user.clone(),
            uid: obs.home.uid,
            compliant: verdict.is_compliant(),
            auth,
            credential: credential.clone(),
            verdict,
            planned: planned.clone(),
            actions: Vec::new(),
        };
        if !act || self.audit.is_none() {
            return report;
        }
        let key =
            serde_json::to_string(&(&report.verdict, &report.credential, auth)).unwrap_or_default();
        let acts = planned.iter().any(|a| *a != Action::Record);
        if report.compliant {
            self.last_recorded.remove(&obs.home.path);
            return report;
        }
        // Moves first: the credential leaves Codex's reach before anything is written about it.
        for action in &planned {
            let outcome = match action {
                Action::Record => continue,
                Action::Quarantine => self.quarantine(&obs, &report),
                Action::FixPermissions => self.fix_permissions(&obs.home),
            };
            report.actions.push(outcome);
        }
        let repeat = self.last_recorded.get(&obs.home.path) == Some(&key);
        if !repeat || acts {
            let mut fields = self.home_fields(&obs.home, credential.clone());
            fields.rules = report.verdict.rule_codes();
            fields.evidence = report.verdict.violations.clone();
            fields.action = Some(
                planned
                    .iter()
                    .filter(|a| **a != Action::Record)
                    .map(|a| action_name(*a))
                    .next()
                    .unwrap_or("record")
                    .to_string(),
            );
            if !report.verdict.exceptions_applied.is_empty() {
                fields = fields.with("exceptions_applied", &report.verdict.exceptions_applied);
            }
            self.record(Event::Violation, fields);
            self.last_recorded.insert(obs.home.path.clone(), key);
        }
        for outcome in &report.actions {
            let event = match (outcome.action, outcome.error.is_some()) {
                (_, true) => Event::EnforcementFailed,
                (Action::Quarantine, false) if outcome.outcome == "gone" => continue,
                (Action::Quarantine, false) => Event::Quarantined,
                (Action::FixPermissions, false) => Event::PermissionsFixed,
                (Action::Record, _) => continue,
            };
            let mut fields = self.home_fields(&obs.home, credential.clone());
            fields.rules = report.verdict.rule_codes();
            if let Some(message) = &self.active.policy.enforce.message {
                fields = fields.with("message", message);
            }
            self.record(event, fields.with_outcome(outcome));
        }
        report
    }

    fn quarantine(&self, obs: &Observation, report: &HomeReport) -> ActionOutcome {
        let Some(vault) = &self.vault else {
            unreachable!("acting engines have a vault")
        };
        let reason = Reason {
            user: obs.home.user.as_deref(),
            uid: obs.home.uid,
            violations: &report.verdict.violations,
            credential: report.credential.clone(),
            policy_revision: &self.active.policy.revision,
        };
        match vault.quarantine(&obs.home, &reason) {
            Ok(q) => self.quarantine_outcome(q),
            Err(e) => ActionOutcome {
                action: Action::Quarantine,
                outcome: "failed".into(),
                vault_id: None,
                error: Some(format!("{e:#}")),
            },
        }
    }

    fn quarantine_outcome(&self, q: Quarantined) -> ActionOutcome {
        let (outcome, vault_id) = match q {
            Quarantined::Vaulted(meta) => ("vaulted".to_string(), Some(meta.id)),
            Quarantined::Gone => ("gone".to_string(), None),
            Quarantined::MovedAside { aside, kind } => (
                format!("moved aside as {aside} (a {kind}, not copied)"),
                None,
            ),
        };
        ActionOutcome {
            action: Action::Quarantine,
            outcome,
            vault_id,
            error: None,
        }
    }

    fn fix_permissions(&self, home: &CodexHome) -> ActionOutcome {
        let result = Dir::open_home(&home.path, home.uid)
            .and_then(|dir| dir.open_rw(AUTH_FILE))
            .and_then(|file| {
                rustix::fs::fchmod(&file, rustix::fs::Mode::from_raw_mode(0o600))
                    .map_err(Into::into)
            });
        ActionOutcome {
            action: Action::FixPermissions,
            outcome: if result.is_ok() {
                "mode set to 0600"
            } else {
                "failed"
            }
            .into(),
            vault_id: None,
            error: result.err().map(|e| e.to_string()),
        }
    }

    /// One pass over every home: recover, observe, judge.
    pub fn scan(&mut self, act: bool) -> Vec<HomeReport> {
        let homes = self.discover();
        if act {
            self.recover(&homes);
        }
        homes
            .iter()
            .map(|home| {
                let obs = self.observe_settled(home);
                self.judge(obs, act)
            })
            .collect()
    }

    pub fn state_dir(&self) -> &Path {
        &self.settings.state_dir
    }
}

fn action_name(a: Action) -> &'static str {
    match a {
        Action::Record => "record",
        Action::Quarantine => "quarantine",
        Action::FixPermissions => "fix-permissions",
    }
}

impl Fields {
    fn with_outcome(mut self, o: &ActionOutcome) -> Fields {
        self.action = Some(action_name(o.action).to_string());
        self.outcome = Some(o.outcome.clone());
        self.vault_id = o.vault_id.clone();
        self.error = o.error.clone();
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_that_cannot_be_written_wait_in_order() {
        let tmp = tempfile::tempdir().unwrap();
        let log = tmp.path().join("audit.jsonl");
        let settings = Settings {
            policy_dir: tmp.path().join("policy.d"),
            state_dir: tmp.path().join("state"),
            audit_log: log.clone(),
            managed_prefs: None,
            passwd_file: None,
            settle: Duration::from_millis(10),
            scan_interval: Duration::from_secs(60),
            codex_requirements: tmp.path().join("requirements.toml"),
            session_scan: Duration::from_secs(1),
        };
        let engine = Engine::acting(settings).unwrap();
        let user = |u: &str| Fields {
            user: Some(u.into()),
            ..Fields::default()
        };
        engine.record(Event::Violation, user("a"));
        // The log cannot be written: a directory stands where it was.
        std::fs::rename(&log, tmp.path().join("moved")).unwrap();
        std::fs::create_dir(&log).unwrap();
        engine.record(Event::Violation, user("b"));
        engine.record(Event::Violation, user("c"));
        assert_eq!(engine.backlog.borrow().len(), 2);
        std::fs::remove_dir(&log).unwrap();
        std::fs::rename(tmp.path().join("moved"), &log).unwrap();
        engine.record(Event::Violation, user("d"));
        assert!(engine.backlog.borrow().is_empty());

        let records: Vec<serde_json::Value> = std::fs::read_to_string(&log)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let users: Vec<&str> = records
            .iter()
            .map(|r| r["user"].as_str().unwrap())
            .collect();
        assert_eq!(users, ["a", "b", "c", "d"]);
        assert!(records[0].get("happened_at").is_none());
        assert!(records[1]["happened_at"].is_string());
        assert!(records[2]["happened_at"].is_string());
        assert!(crate::audit::verify(&log).unwrap().first_break.is_none());
    }
}
