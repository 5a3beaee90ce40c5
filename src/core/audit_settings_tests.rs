use super::*;

#[test]
fn settings_round_trip_through_the_stored_policy() {
    let s = AuditSettings {
        max_size_kb: 4,
        keep: 3,
        checkpoint_interval: Duration::from_secs(90),
    };
    let json = serde_json::to_string(&s).unwrap();
    assert!(json.contains("\"90s\""), "{json}");
    assert_eq!(serde_json::from_str::<AuditSettings>(&json).unwrap(), s);
    assert_eq!(
        serde_json::from_str::<AuditSettings>("{}").unwrap(),
        AuditSettings::default()
    );
}
