use super::looks_like_workspace_id;

#[test]
fn workspace_ids_in_the_forms_codex_uses() {
    for id in [
        "8f0c2b1e-4d5a-4c3b-9e2f-1a2b3c4d5e6f",
        "8F0C2B1E-4D5A-4C3B-9E2F-1A2B3C4D5E6F",
        "ws-corp",
        "ws-00000000-example-corp",
        "ws_123",
    ] {
        assert!(looks_like_workspace_id(id), "{id}");
    }
    for id in [
        "ACME Corp",
        "acme",
        "ws-",
        "ws-a b",
        "8f0c2b1e-4d5a-4c3b-9e2f",
        "org-x",
    ] {
        assert!(!looks_like_workspace_id(id), "{id}");
    }
}
