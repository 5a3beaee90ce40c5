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
        [PlannedAction::Record]
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
        [PlannedAction::Record, PlannedAction::Quarantine]
    );
}

#[test]
fn quarantine_can_be_switched_off() {
    let mut p = enforcing();
    p.enforce.quarantine = false;
    assert_eq!(
        plan(&p, &obs(present()), &verdict(&[Rule::LoginMethod])),
        [PlannedAction::Record]
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
            [PlannedAction::Record],
            "{rules:?}"
        );
    }
    assert_eq!(
        plan(
            &enforcing(),
            &obs(present()),
            &verdict(&[Rule::CredentialPermissions, Rule::ConfigBaseUrl])
        ),
        [PlannedAction::Record, PlannedAction::FixPermissions]
    );
    assert_eq!(
        plan(
            &enforcing(),
            &obs(present()),
            &verdict(&[Rule::LoginMethod, Rule::ConfigBaseUrl])
        ),
        [PlannedAction::Record, PlannedAction::Quarantine]
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
        [PlannedAction::Record, PlannedAction::FixPermissions]
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
        [PlannedAction::Record]
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
        [PlannedAction::Record]
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
        [PlannedAction::Record]
    );
}
