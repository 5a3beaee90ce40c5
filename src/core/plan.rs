//! Plan: from a verdict to the actions the agent takes, per mode. Pure, no I/O.

use serde::{Deserialize, Serialize};

use crate::core::evaluate::Verdict;
use crate::core::observe::{AuthState, Observation};
use crate::core::policy::{Mode, Policy};
use crate::core::rules::Rule;

/// One thing to do about a home.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// Write a `violation` record.
    Record,
    /// Move auth.json into the vault.
    Quarantine,
    /// Only the file's permissions are wrong: set them to 0600 (the mode Codex creates it with).
    FixPermissions,
}

impl Action {
    /// The name audit records and reports use.
    pub fn name(self) -> &'static str {
        match self {
            Action::Record => "record",
            Action::Quarantine => "quarantine",
            Action::FixPermissions => "fix-permissions",
        }
    }
}

/// What to do. A compliant home needs nothing; monitor mode only records; enforce mode also
/// quarantines the credential when it breaks a rule other than its permissions or the config, and
/// only tightens permissions when that is all that is wrong with the credential. A config-only
/// violation is recorded: the credential is compliant, and moving it fixes nothing. A violation with no auth.json in the home (a
/// forbidden keyring store, a config that routes elsewhere) can only be recorded.
pub fn plan(policy: &Policy, obs: &Observation, verdict: &Verdict) -> Vec<Action> {
    if verdict.is_compliant() {
        return Vec::new();
    }
    let mut actions = vec![Action::Record];
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
        actions.push(Action::FixPermissions);
    } else if policy.enforce.quarantine {
        actions.push(Action::Quarantine);
    }
    actions
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::evaluate::Violation;
    use crate::core::observe::{CodexHome, ConfigState, Credential, CredentialKind};

    fn obs(auth: AuthState) -> Observation {
        Observation {
            home: CodexHome {
                path: "/home/a/.codex".into(),
                uid: Some(1000),
                user: Some("a".into()),
            },
            auth,
            config: ConfigState::Absent,
        }
    }

    fn present() -> AuthState {
        AuthState::Present {
            credential: Credential {
                auth_mode: Some("apikey".into()),
                kind: CredentialKind::ApiKey { key: None },
                exchanged_key: None,
            },
            file_mode: 0o600,
            file_uid: 1000,
        }
    }

    fn verdict(rules: &[Rule]) -> Verdict {
        Verdict {
            violations: rules
                .iter()
                .map(|&rule| Violation {
                    rule,
                    evidence: String::new(),
                    at: None,
                })
                .collect(),
            ..Verdict::default()
        }
    }

    fn enforcing() -> Policy {
        Policy {
            mode: Mode::Enforce,
            ..Policy::baseline()
        }
    }

    #[test]
    fn compliant_needs_nothing() {
        assert!(plan(&enforcing(), &obs(present()), &verdict(&[])).is_empty());
    }

    #[test]
    fn monitor_only_records() {
        let p = Policy::baseline();
        assert_eq!(
            plan(&p, &obs(present()), &verdict(&[Rule::LoginMethod])),
            [Action::Record]
        );
    }

    #[test]
    fn enforce_quarantines() {
        assert_eq!(
            plan(
                &enforcing(),
                &obs(present()),
                &verdict(&[Rule::LoginMethod, Rule::CredentialPermissions])
            ),
            [Action::Record, Action::Quarantine]
        );
    }

    #[test]
    fn quarantine_can_be_switched_off() {
        let mut p = enforcing();
        p.enforce.quarantine = false;
        assert_eq!(
            plan(&p, &obs(present()), &verdict(&[Rule::LoginMethod])),
            [Action::Record]
        );
    }

    #[test]
    fn a_config_only_violation_never_takes_a_compliant_credential() {
        for rules in [
            &[Rule::ConfigBaseUrl][..],
            &[Rule::ConfigModelProvider, Rule::ConfigCredentialStore],
        ] {
            assert_eq!(
                plan(&enforcing(), &obs(present()), &verdict(rules)),
                [Action::Record],
                "{rules:?}"
            );
        }
        assert_eq!(
            plan(
                &enforcing(),
                &obs(present()),
                &verdict(&[Rule::CredentialPermissions, Rule::ConfigBaseUrl])
            ),
            [Action::Record, Action::FixPermissions]
        );
        assert_eq!(
            plan(
                &enforcing(),
                &obs(present()),
                &verdict(&[Rule::LoginMethod, Rule::ConfigBaseUrl])
            ),
            [Action::Record, Action::Quarantine]
        );
    }

    #[test]
    fn permissions_alone_are_tightened() {
        assert_eq!(
            plan(
                &enforcing(),
                &obs(present()),
                &verdict(&[Rule::CredentialPermissions])
            ),
            [Action::Record, Action::FixPermissions]
        );
    }

    #[test]
    fn a_forbidden_route_keeps_the_credential() {
        assert_eq!(
            plan(
                &enforcing(),
                &obs(present()),
                &verdict(&[Rule::ConfigBaseUrl, Rule::ConfigModelProvider])
            ),
            [Action::Record]
        );
    }

    #[test]
    fn nothing_to_move_means_record_only() {
        assert_eq!(
            plan(
                &enforcing(),
                &obs(AuthState::Absent),
                &verdict(&[Rule::ConfigCredentialStore])
            ),
            [Action::Record]
        );
        let unopenable = AuthState::Unreadable {
            reason: "cannot open".into(),
            file_mode: None,
            in_place: false,
        };
        assert_eq!(
            plan(
                &enforcing(),
                &obs(unopenable),
                &verdict(&[Rule::CredentialUnreadable])
            ),
            [Action::Record]
        );
    }
}
