//! Plan: from a verdict to the actions the agent takes, per mode. Pure, no I/O.

use serde::{Deserialize, Serialize};

use crate::core::evaluate::Verdict;
use crate::core::observe::{AuthState, Observation};
use crate::core::policy::{Mode, Policy};
use crate::core::rules::Rule;

/// One thing to do about a home.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PlannedAction {
    /// Write a `violation` record.
    Record,
    /// Move auth.json into the vault.
    Quarantine,
    /// Only the file's permissions are wrong: set them to 0600 (the mode Codex creates it with).
    FixPermissions,
}

impl PlannedAction {
    /// The name audit records and reports use.
    pub fn name(self) -> &'static str {
        match self {
            PlannedAction::Record => "record",
            PlannedAction::Quarantine => "quarantine",
            PlannedAction::FixPermissions => "fix-permissions",
        }
    }
}

/// What to do. A compliant home needs nothing; monitor mode only records; enforce mode also
/// quarantines the credential when it breaks a rule other than its permissions or the config, and
/// only tightens permissions when that is all that is wrong with the credential. A config-only
/// violation is recorded: the credential is compliant, and moving it fixes nothing. A violation with no auth.json in the home (a
/// forbidden keyring store, a config that routes elsewhere) can only be recorded.
pub fn plan(policy: &Policy, obs: &Observation, verdict: &Verdict) -> Vec<PlannedAction> {
    if verdict.is_compliant() {
        return Vec::new();
    }
    let mut actions = vec![PlannedAction::Record];
    if policy.mode != Mode::Enforce {
        return actions;
    }
    let has_file = match &obs.auth {
        AuthState::Absent => false,
        AuthState::Present { .. } => true,
        AuthState::Unreadable { in_place, .. } => *in_place,
    };
    if !has_file {
        return actions;
    }
    // A config-only violation is fixed in config.toml (and the sessions that run with it are
    // stopped elsewhere): it never takes a compliant credential.
    let credential_rules: Vec<Rule> = verdict
        .violations
        .iter()
        .map(|v| v.rule)
        .filter(|r| !r.is_config())
        .collect();
    if credential_rules.is_empty() {
        return actions;
    }
    let only_permissions = credential_rules
        .iter()
        .all(|r| *r == Rule::CredentialPermissions);
    if only_permissions {
        actions.push(PlannedAction::FixPermissions);
    } else if policy.enforce.quarantine {
        actions.push(PlannedAction::Quarantine);
    }
    actions
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
