//! What a pass found and did in one home: the value `check` prints, `status` stores and reads
//! back, and the engine fills in.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::core::evaluate::Verdict;
use crate::core::fix::Fix;
use crate::core::observe::AuthStatus;
use crate::core::observe::auth::CredentialSummary;
use crate::core::plan::PlannedAction;

/// How an action ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The credential is in the vault under this id.
    Vaulted { vault_id: String },
    /// Nothing was at auth.json any more (the user logged out, or it was already moved).
    Gone,
    /// The entry was not a regular file: it was moved aside in the home, not copied.
    MovedAside { aside: String, kind: String },
    /// The credential file's mode was set to 0600.
    PermissionsFixed,
    /// Rewritten with an allowed credential between the judgement and the move: put back.
    PutBack,
    /// The action could not be done; the error is safe to show.
    Failed { error: String },
}

impl Outcome {
    /// The outcome as audit records and reports spell it.
    pub fn describe(&self) -> String {
        match self {
            Outcome::Vaulted { .. } => "vaulted".into(),
            Outcome::Gone => "gone".into(),
            Outcome::MovedAside { aside, kind } => {
                format!("moved aside as {aside} (a {kind}, not copied)")
            }
            Outcome::PermissionsFixed => "mode set to 0600".into(),
            Outcome::PutBack => "put back (rewritten with an allowed credential)".into(),
            Outcome::Failed { .. } => "failed".into(),
        }
    }

    pub fn vault_id(&self) -> Option<&str> {
        match self {
            Outcome::Vaulted { vault_id } => Some(vault_id),
            _ => None,
        }
    }

    pub fn error(&self) -> Option<&str> {
        match self {
            Outcome::Failed { error } => Some(error),
            _ => None,
        }
    }
}

/// The outcome of one action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "ActionWire", from = "ActionWire")]
pub struct ActionOutcome {
    pub action: PlannedAction,
    pub outcome: Outcome,
}

/// [`ActionOutcome`] as JSON spells it: flat, the outcome as its description.
#[derive(Serialize, Deserialize)]
struct ActionWire {
    action: PlannedAction,
    outcome: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    vault_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    aside: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    kind: Option<String>,
}

impl From<ActionOutcome> for ActionWire {
    fn from(a: ActionOutcome) -> Self {
        let outcome = a.outcome.describe();
        let (vault_id, error, aside, kind) = match a.outcome {
            Outcome::Vaulted { vault_id } => (Some(vault_id), None, None, None),
            Outcome::Failed { error } => (None, Some(error), None, None),
            Outcome::MovedAside { aside, kind } => (None, None, Some(aside), Some(kind)),
            Outcome::Gone | Outcome::PermissionsFixed | Outcome::PutBack => {
                (None, None, None, None)
            }
        };
        ActionWire {
            action: a.action,
            outcome,
            vault_id,
            error,
            aside,
            kind,
        }
    }
}

impl From<ActionWire> for ActionOutcome {
    fn from(w: ActionWire) -> Self {
        let outcome = match (w.vault_id, w.error, w.aside, w.kind) {
            (Some(vault_id), _, _, _) => Outcome::Vaulted { vault_id },
            (_, Some(error), _, _) => Outcome::Failed { error },
            (_, _, Some(aside), kind) => Outcome::MovedAside {
                aside,
                kind: kind.unwrap_or_default(),
            },
            _ if w.outcome == "gone" => Outcome::Gone,
            _ if w.outcome.starts_with("put back") => Outcome::PutBack,
            _ => Outcome::PermissionsFixed,
        };
        ActionOutcome {
            action: w.action,
            outcome,
        }
    }
}

/// The judged state of one home, as `check` prints it and `status` stores it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HomeReport {
    pub codex_home: PathBuf,
    pub user: Option<String>,
    pub uid: Option<u32>,
    pub compliant: bool,
    pub auth: AuthStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential: Option<CredentialSummary>,
    pub verdict: Verdict,
    /// How the user fixes each broken rule.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fixes: Vec<Fix>,
    pub planned: Vec<PlannedAction>,
    pub actions: Vec<ActionOutcome>,
}

/// A credential in one line: `api-key login, project key, fingerprint 3f2a…`.
pub fn describe(c: &crate::core::observe::auth::CredentialSummary) -> String {
    let mut parts = vec![format!("{} login", c.method)];
    if let Some(w) = &c.workspace {
        parts.push(format!("workspace {w}"));
    }
    if let Some(p) = &c.plan {
        parts.push(format!("plan {p}"));
    }
    if let Some(d) = &c.email_domain {
        parts.push(format!("email @{d}"));
    }
    if let Some(k) = &c.key_kind {
        parts.push(format!("{k} key"));
    }
    if let Some(f) = &c.key_fingerprint {
        parts.push(format!("fingerprint {f}"));
    }
    parts.join(", ")
}

#[cfg(test)]
#[path = "report_tests.rs"]
mod tests;
