use super::*;

#[test]
fn every_event_is_documented() {
    let doc = include_str!("../../../docs/reference/audit.md");
    for event in [
        Event::AgentStarted,
        Event::AgentStopped,
        Event::PolicyLoaded,
        Event::PolicyRejected,
        Event::Violation,
        Event::Quarantined,
        Event::PermissionsFixed,
        Event::Terminated,
        Event::Restored,
        Event::NativeRequirementsWritten,
        Event::TamperDetected,
        Event::EnforcementFailed,
        Event::WatchDegraded,
        Event::Checkpoint,
        Event::LogRotated,
        Event::VaultPruned,
        Event::AgentUncleanStop,
    ] {
        let name = serde_json::to_string(&event).unwrap();
        let name = name.trim_matches('"');
        assert!(doc.contains(&format!("`{name}`")), "{name} missing");
    }
}
