use super::*;

#[test]
fn outcomes_survive_a_round_trip_through_json() {
    for outcome in [
        Outcome::Vaulted {
            vault_id: "20261126T000000Z-0123abcd".into(),
        },
        Outcome::Gone,
        Outcome::MovedAside {
            aside: ".codex-warden-quarantine-x".into(),
            kind: "symlink".into(),
        },
        Outcome::PermissionsFixed,
        Outcome::PutBack,
        Outcome::Failed {
            error: "denied".into(),
        },
    ] {
        let action = ActionOutcome {
            action: PlannedAction::Quarantine,
            outcome,
        };
        let json = serde_json::to_value(&action).unwrap();
        assert_eq!(json["outcome"], action.outcome.describe());
        let back: ActionOutcome = serde_json::from_value(json).unwrap();
        assert_eq!(back, action);
    }
}
