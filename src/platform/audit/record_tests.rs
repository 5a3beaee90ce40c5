use super::*;

#[test]
fn every_event_is_documented() {
    let doc = include_str!("../../../docs/reference/audit.md");
    for event in EventKind::ALL {
        let name = serde_json::to_string(&event).unwrap();
        let name = name.trim_matches('"');
        assert!(doc.contains(&format!("`{name}`")), "{name} missing");
    }
}
